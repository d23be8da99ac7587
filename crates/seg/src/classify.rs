//! Linear and small-MLP binary classifiers for the 2-D toy and tabular sets, trained with
//! the same objectives as the segmentation models, and their evaluation at a target.
//!
//! Two optimizers:
//! - [`Optimizer::GradientDescent`]: the reference §8 toy loop. Full batch; per
//!   iteration one primal step on the model, then one step on the multipliers (which
//!   must use [`bounds::MultiplierUpdate::Reversed`], upstream's mechanism, or
//!   `DualAscent`); the learning rate decays linearly from `η` to `η / steps`:
//!   ```text
//!   η_t = (η − η/T)·(1 − min(t, T)/T) + η/T        t = 0..=T   (T + 1 iterations)
//!   ```
//! - [`Optimizer::Adam`]: seeded shuffled minibatches, Adam on the model (and on the
//!   anchor biases), then [`bounds::GlobalLoss::dual_step`] (projected dual ascent).
use bounds::{GlobalLoss, LossConfig, MultiplierUpdate, Pass, Surrogate};
use metrics::{Ranking, ScoreScale};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use crate::data::TabularSet;
use crate::{Error, Result};

/// The classifier architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClassifierArch {
    /// `logits = x·w + b`; `init_weights` (length F) overrides the default
    /// initialization (the reference toy starts at `w = [−1, −1]`, `b = 0`).
    Linear {
        /// Initial weights, or `None` for tch's default initialization.
        init_weights: Option<Vec<f64>>,
    },
    /// Fully connected ReLU layers of the given widths, then a linear output.
    Mlp {
        /// Hidden widths (each ≥ 1).
        hidden: Vec<i64>,
    },
}

/// The training loss of a classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClassifyLoss {
    /// Mean sigmoid cross-entropy.
    Bce,
    /// Mean sigmoid cross-entropy with positives weighted by `pos_weight`.
    WeightedBce {
        /// Weight of the positive terms (> 0).
        pos_weight: f64,
    },
    /// A global objective of the `bounds` crate (its batch-mean loss).
    Global(LossConfig),
}

/// The optimizer and its schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Optimizer {
    /// Full-batch gradient descent with the reference §8 linear decay (module doc).
    GradientDescent {
        /// Initial learning rate η.
        learning_rate: f64,
    },
    /// Adam over seeded shuffled minibatches; multipliers by projected dual ascent.
    Adam {
        /// Learning rate.
        learning_rate: f64,
        /// Minibatch size.
        batch_size: usize,
    },
}

/// Everything one classifier training depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifyConfig {
    /// Architecture.
    pub arch: ClassifierArch,
    /// Loss.
    pub loss: ClassifyLoss,
    /// Optimizer.
    pub optimizer: Optimizer,
    /// Epochs (gradient descent: the decay horizon T; T + 1 iterations run).
    pub epochs: usize,
    /// Seed of initialization and batch order (sets libtorch's global seed).
    pub seed: u64,
}

impl ClassifyConfig {
    /// Checks the fields.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::config("epochs", "must be >= 1, got 0"));
        }
        let (lr, batch) = match self.optimizer {
            Optimizer::GradientDescent { learning_rate } => (learning_rate, 1),
            Optimizer::Adam {
                learning_rate,
                batch_size,
            } => (learning_rate, batch_size),
        };
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::config(
                "learning_rate",
                format!("must be > 0, got {lr}"),
            ));
        }
        if batch == 0 {
            return Err(Error::config("batch_size", "must be >= 1, got 0"));
        }
        if let ClassifierArch::Mlp { hidden } = &self.arch
            && hidden.iter().any(|&h| h < 1)
        {
            return Err(Error::config(
                "hidden",
                format!("widths must be >= 1, got {hidden:?}"),
            ));
        }
        if let ClassifyLoss::WeightedBce { pos_weight } = self.loss
            && !(pos_weight.is_finite() && pos_weight > 0.0)
        {
            return Err(Error::config(
                "pos_weight",
                format!("must be > 0, got {pos_weight}"),
            ));
        }
        if let ClassifyLoss::Global(c) = &self.loss {
            c.validate()?;
        }
        Ok(())
    }
}

/// What one epoch (gradient descent: one iteration) left behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// Epoch, 1-based.
    pub epoch: usize,
    /// Mean training loss of the epoch.
    pub loss: f64,
    /// Multipliers λ after the epoch (empty without multipliers).
    pub multipliers: Vec<f64>,
    /// Constraint slack of the epoch's last batch (empty without multipliers).
    pub slack: Vec<f64>,
}

/// A trained classifier: the model and its loss state in one VarStore.
pub struct Classifier {
    vs: nn::VarStore,
    net: nn::Sequential,
    loss: Option<GlobalLoss>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("variables", &self.vs.len())
            .finish()
    }
}

impl Classifier {
    /// Logits `[N]` of features `[N, F]` (no gradient).
    ///
    /// # Errors
    /// [`Error::Shape`] if `x` is not `[N, F]` with the training F.
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        check_x("Classifier::logits", x, self.features())?;
        let _guard = tch::no_grad_guard();
        Ok(self.net.forward(&x.to_kind(Kind::Float)).reshape([-1]))
    }

    /// Current multipliers λ, flattened (empty for losses without multipliers).
    pub fn multipliers(&self) -> Vec<f64> {
        self.loss
            .as_ref()
            .map(|l| to_vec(&l.multipliers()))
            .unwrap_or_default()
    }

    fn features(&self) -> i64 {
        self.vs
            .variables()
            .into_iter()
            .filter(|(name, _)| name.starts_with("net.0."))
            .find(|(name, _)| name.ends_with("weight"))
            .map(|(_, t)| t.size()[1])
            .unwrap_or(-1)
    }
}

fn to_vec(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).reshape([-1])).unwrap_or_default()
}

fn check_x(op: &'static str, x: &Tensor, features: i64) -> Result<()> {
    let s = x.size();
    if s.len() != 2 || (features >= 0 && s[1] != features) {
        return Err(Error::Shape {
            op,
            what: "x",
            expected: vec![-1, features],
            got: s,
        });
    }
    Ok(())
}

fn check_set(op: &'static str, set: &TabularSet) -> Result<i64> {
    check_x(op, &set.x, -1)?;
    let n = set.x.size()[0];
    if set.y.size() != [n] {
        return Err(Error::Shape {
            op,
            what: "y",
            expected: vec![n],
            got: set.y.size(),
        });
    }
    if n == 0 {
        return Err(Error::config("train", "the training set is empty"));
    }
    Ok(set.x.size()[1])
}

fn build_net(path: &nn::Path, features: i64, arch: &ClassifierArch) -> Result<nn::Sequential> {
    let mut net = nn::seq();
    match arch {
        ClassifierArch::Linear { init_weights } => {
            let lin = nn::linear(path / 0, features, 1, Default::default());
            if let Some(w) = init_weights {
                if w.len() as i64 != features {
                    return Err(Error::config(
                        "init_weights",
                        format!("length {} does not match {features} features", w.len()),
                    ));
                }
                let _guard = tch::no_grad_guard();
                let init = Tensor::from_slice(w)
                    .to_kind(Kind::Float)
                    .reshape([1, features]);
                lin.ws.shallow_clone().copy_(&init);
                if let Some(b) = &lin.bs {
                    let _ = b.shallow_clone().zero_();
                }
            }
            net = net.add(lin);
        }
        ClassifierArch::Mlp { hidden } => {
            let mut width = features;
            for (i, &h) in hidden.iter().enumerate() {
                net = net
                    .add(nn::linear(path / (2 * i), width, h, Default::default()))
                    .add_fn(|t| t.relu());
                width = h;
            }
            net = net.add(nn::linear(
                path / (2 * hidden.len()),
                width,
                1,
                Default::default(),
            ));
        }
    }
    Ok(net)
}

/// The batch-mean loss and, for global objectives, its diagnostics.
fn batch_loss(
    loss: &ClassifyLoss,
    global: Option<&GlobalLoss>,
    logits: &Tensor,
    labels: &Tensor,
) -> Result<(Tensor, Option<bounds::LossOutput>)> {
    match (loss, global) {
        (ClassifyLoss::Global(_), Some(g)) => {
            let out = g.forward_mean(logits, labels, None, Pass::Train)?;
            Ok((out.loss.shallow_clone(), Some(out)))
        }
        (ClassifyLoss::WeightedBce { pos_weight }, _) => {
            let pw = Tensor::from(*pos_weight);
            let one = Tensor::from(1.0);
            let per = bounds::weighted_surrogate_loss(labels, logits, Surrogate::Xent, &pw, &one)?;
            Ok((per.mean(Kind::Float), None))
        }
        _ => {
            let one = Tensor::from(1.0);
            let per = bounds::weighted_surrogate_loss(labels, logits, Surrogate::Xent, &one, &one)?;
            Ok((per.mean(Kind::Float), None))
        }
    }
}

fn stats(
    epoch: usize,
    loss: f64,
    global: Option<&GlobalLoss>,
    last: Option<&bounds::LossOutput>,
) -> EpochStats {
    EpochStats {
        epoch,
        loss,
        multipliers: global.map(|g| to_vec(&g.multipliers())).unwrap_or_default(),
        slack: last
            .map(|o| to_vec(&o.diagnostics.slack))
            .unwrap_or_default(),
    }
}

/// Trains a classifier on `train` (CPU), calling `on_epoch` after every epoch.
///
/// # Shapes
/// `train.x`: `[N, F]` float; `train.y`: `[N]` in `{0, 1}`.
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad config, [`Error::Shape`] for a bad set,
/// [`Error::Bounds`] from the loss, [`Error::NonFinite`] if the loss diverges.
pub fn train_classifier(
    train: &TabularSet,
    config: &ClassifyConfig,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<Classifier> {
    config.validate()?;
    let features = check_set("train_classifier", train)?;
    tch::manual_seed(config.seed as i64);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = build_net(&(vs.root() / "net"), features, &config.arch)?;
    let global = match &config.loss {
        ClassifyLoss::Global(c) => Some(GlobalLoss::new(&(vs.root() / "loss"), 1, c)?),
        _ => None,
    };
    let x = train.x.to_kind(Kind::Float);
    let y = train.y.to_kind(Kind::Float);
    let n = x.size()[0];
    match config.optimizer {
        Optimizer::GradientDescent { learning_rate } => {
            let steps = config.epochs as f64;
            let end = learning_rate / steps;
            let params: Vec<Tensor> = vs
                .trainable_variables()
                .into_iter()
                .filter(|t| global.as_ref().is_none_or(|g| !is_multiplier(g, t)))
                .collect();
            for t in 0..=config.epochs {
                let lr = (learning_rate - end) * (1.0 - (t as f64).min(steps) / steps) + end;
                // Primal step on the model (and anchor biases).
                let (l, out) = batch_loss(
                    &config.loss,
                    global.as_ref(),
                    &net.forward(&x).reshape([-1]),
                    &y,
                )?;
                let loss_value = finite(&l, t + 1)?;
                gd_step(&params, &l, lr);
                // Dual step on the multipliers at the new model.
                let mut last = out;
                if let Some(g) = &global {
                    let (l2, out2) =
                        batch_loss(&config.loss, Some(g), &net.forward(&x).reshape([-1]), &y)?;
                    match g.multiplier_state().map(|m| m.update()) {
                        Some(MultiplierUpdate::Reversed { .. }) => {
                            let v = g.multiplier_state().expect("checked").variable();
                            gd_step(std::slice::from_ref(v), &l2, lr);
                        }
                        Some(MultiplierUpdate::DualAscent { .. }) => {
                            if let Some(o) = &out2 {
                                g.dual_step(o)?;
                            }
                        }
                        None => {}
                    }
                    last = out2;
                }
                on_epoch(&stats(t + 1, loss_value, global.as_ref(), last.as_ref()));
            }
        }
        Optimizer::Adam {
            learning_rate,
            batch_size,
        } => {
            let mut opt = nn::Adam::default().build(&vs, learning_rate)?;
            let bs = batch_size as i64;
            for epoch in 1..=config.epochs {
                let order = Tensor::randperm(n, (Kind::Int64, Device::Cpu));
                let (mut sum, mut batches) = (0.0, 0usize);
                let mut last = None;
                let mut start = 0;
                while start < n {
                    let idx = order.narrow(0, start, bs.min(n - start));
                    start += bs;
                    let (xb, yb) = (x.index_select(0, &idx), y.index_select(0, &idx));
                    let (l, out) = batch_loss(
                        &config.loss,
                        global.as_ref(),
                        &net.forward(&xb).reshape([-1]),
                        &yb,
                    )?;
                    sum += finite(&l, epoch)?;
                    batches += 1;
                    opt.backward_step(&l);
                    if let (Some(g), Some(o)) = (&global, &out) {
                        g.dual_step(o)?;
                    }
                    last = out;
                }
                on_epoch(&stats(
                    epoch,
                    sum / batches as f64,
                    global.as_ref(),
                    last.as_ref(),
                ));
            }
        }
    }
    Ok(Classifier {
        vs,
        net,
        loss: global,
    })
}

fn is_multiplier(g: &GlobalLoss, t: &Tensor) -> bool {
    g.multiplier_state()
        .is_some_and(|m| m.variable().data_ptr() == t.data_ptr())
}

fn finite(loss: &Tensor, epoch: usize) -> Result<f64> {
    let v = loss.double_value(&[]);
    if !v.is_finite() {
        return Err(Error::NonFinite {
            what: format!("training loss {v} at epoch {epoch}"),
        });
    }
    Ok(v)
}

/// One plain gradient-descent step `θ ← θ − lr·∂l/∂θ` on `params`.
fn gd_step(params: &[Tensor], loss: &Tensor, lr: f64) {
    let grads = Tensor::run_backward(&[loss], params, false, false);
    let _guard = tch::no_grad_guard();
    for (p, g) in params.iter().zip(grads) {
        let _ = p.shallow_clone().f_sub_(&(g * lr));
    }
}

/// A constraint on the operating point: the threshold is chosen on validation to meet it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "on", content = "value", rename_all = "snake_case")]
pub enum Constraint {
    /// recall ≥ value; the threshold with the best precision among those is chosen.
    Recall(f64),
    /// precision ≥ value; the threshold with the best recall among those is chosen.
    Precision(f64),
}

/// Test metrics at the threshold chosen on validation for one [`Constraint`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdEval {
    /// The constraint.
    pub constraint: Constraint,
    /// The chosen threshold as a probability (+∞ when validation had no feasible one,
    /// i.e. nothing is predicted positive).
    pub threshold: f64,
    /// Whether some validation threshold met the constraint.
    pub feasible_on_val: bool,
    /// Test precision (NaN when nothing is predicted positive).
    pub precision: f64,
    /// Test recall.
    pub recall: f64,
    /// Test IoU of the positive class.
    pub iou: f64,
}

/// Threshold-free and per-constraint test metrics of a scored validation/test pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreEval {
    /// One entry per constraint, in order.
    pub at: Vec<ThresholdEval>,
    /// Test average precision.
    pub ap: f64,
    /// Test ROC-AUC.
    pub roc_auc: f64,
    /// Test PR curve as `[recall, precision]` points, at most `curve_points` of them.
    pub pr_curve: Vec<[f64; 2]>,
    /// Weighted fraction of positives in test.
    pub positive_fraction: f64,
}

/// Logits, labels and optional weights (0 = ignore) of one split, flattened.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    /// Logits `[N]`.
    pub logits: &'a [f32],
    /// Labels `[N]` in {0, 1}.
    pub labels: &'a [f32],
    /// Weights `[N]` ≥ 0, or `None` for all ones.
    pub weights: Option<&'a [f32]>,
}

impl Scored<'_> {
    fn ranking(&self) -> Result<Ranking> {
        let r = match self.weights {
            Some(w) => Ranking::weighted(self.logits, self.labels, w, ScoreScale::Logits),
            None => Ranking::new(self.logits, self.labels, ScoreScale::Logits),
        };
        Ok(r?)
    }
}

/// Chooses a threshold on `val` for each constraint and reports test metrics there,
/// plus test AP, ROC-AUC and a PR curve (see [`ScoreEval`]).
///
/// # Errors
/// [`Error::Metrics`] when the metrics reject the input (length mismatch, NaN scores,
/// labels outside {0, 1}, all weights zero) or a target is outside [0, 1].
pub fn evaluate_scores(
    val: Scored<'_>,
    test: Scored<'_>,
    constraints: &[Constraint],
    curve_points: usize,
) -> Result<ScoreEval> {
    let rv = val.ranking()?;
    let rt = test.ranking()?;
    let mut at = Vec::new();
    for &c in constraints {
        let op = match c {
            Constraint::Recall(r) => rv.precision_at_recall(r),
            Constraint::Precision(p) => rv.recall_at_precision(p),
        }?;
        let t = op.threshold.unwrap_or(f64::INFINITY);
        let counts = rt.confusion_at(t);
        at.push(ThresholdEval {
            constraint: c,
            threshold: ScoreScale::Logits.to_probability(t),
            feasible_on_val: op.feasible,
            precision: counts.precision().value,
            recall: counts.recall().value,
            iou: counts.iou(),
        });
    }
    let curve = rt.pr_curve()?;
    let len = curve.recall.len();
    let step = (len / curve_points.max(2)).max(1);
    let mut pr_curve: Vec<[f64; 2]> = (0..len)
        .step_by(step)
        .map(|i| [curve.recall[i], curve.precision[i]])
        .collect();
    if len > 0 && (len - 1) % step != 0 {
        pr_curve.push([curve.recall[len - 1], curve.precision[len - 1]]);
    }
    let total = rt.positives() + rt.negatives();
    Ok(ScoreEval {
        at,
        ap: rt.average_precision().value,
        roc_auc: rt.roc_auc().value,
        pr_curve,
        positive_fraction: if total > 0.0 {
            rt.positives() / total
        } else {
            f64::NAN
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_bce_learns_a_separable_set() {
        let x = Tensor::from_slice(&[-2.0f32, -1.0, 1.0, 2.0]).reshape([4, 1]);
        let y = Tensor::from_slice(&[0.0f32, 0.0, 1.0, 1.0]);
        let set = TabularSet { x, y };
        let cfg = ClassifyConfig {
            arch: ClassifierArch::Linear {
                init_weights: Some(vec![-1.0]),
            },
            loss: ClassifyLoss::Bce,
            optimizer: Optimizer::GradientDescent { learning_rate: 1.0 },
            epochs: 50,
            seed: 0,
        };
        let mut losses = Vec::new();
        let c = train_classifier(&set, &cfg, &mut |s| losses.push(s.loss)).unwrap();
        assert_eq!(losses.len(), 51);
        assert!(losses[50] < 0.5 * losses[0], "{losses:?}");
        let logits = Vec::<f32>::try_from(c.logits(&set.x).unwrap()).unwrap();
        assert!(logits[0] < 0.0 && logits[3] > 0.0, "{logits:?}");
    }

    #[test]
    fn evaluate_scores_picks_the_validation_threshold() {
        let logits = [3.0f32, 2.0, 1.0, 0.0, -1.0];
        let labels = [1.0f32, 0.0, 1.0, 0.0, 0.0];
        let s = Scored {
            logits: &logits,
            labels: &labels,
            weights: None,
        };
        let e = evaluate_scores(s, s, &[Constraint::Recall(1.0)], 10).unwrap();
        let a = &e.at[0];
        assert!((a.precision - 2.0 / 3.0).abs() < 1e-12 && (a.recall - 1.0).abs() < 1e-12);
        assert!((a.threshold - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-12);
        assert!((e.positive_fraction - 0.4).abs() < 1e-12);
    }

    #[test]
    fn bad_config_is_rejected() {
        let cfg = ClassifyConfig {
            arch: ClassifierArch::Mlp { hidden: vec![0] },
            loss: ClassifyLoss::Bce,
            optimizer: Optimizer::Adam {
                learning_rate: 1e-3,
                batch_size: 8,
            },
            epochs: 1,
            seed: 0,
        };
        assert!(matches!(
            cfg.validate(),
            Err(Error::InvalidConfig {
                field: "hidden",
                ..
            })
        ));
    }
}
