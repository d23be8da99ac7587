//! [`GlobalLoss`]: the global-objective losses with their state (multipliers, anchor
//! biases, label priors) under the caller's `nn::Path`.
use std::sync::atomic::{AtomicU64, Ordering};

use tch::{Device, Kind, Tensor, nn};

use crate::fused::anchor_points;
use crate::multiplier::add_var;
use crate::prior::LabelPriors;
use crate::{
    Error, LossConfig, MultiplierUpdate, Multipliers, ObjectiveConfig, Pass, Result, check,
};

/// A loss value plus what the constraint looks like on this batch.
#[derive(Debug)]
pub struct LossOutput {
    /// Per-element loss in the logits' shape (`[N]` or `[N, L]`) from
    /// [`GlobalLoss::forward`]; a 0-dim mean from [`GlobalLoss::forward_mean`].
    pub loss: Tensor,
    /// Detached diagnostics of the same forward pass.
    pub diagnostics: Diagnostics,
}

/// Diagnostics of one forward pass, all detached.
///
/// Shapes: "`[L]` / `[L, K]`" means `[L]` for the threshold objectives and `[L, K]` for the
/// anchor objectives (PR-AUC, ROC-AUC anchors). Pairwise ROC-AUC has no constraint:
/// every field but `priors` is an empty `[0]` tensor there, and `priors` is `[0]` too.
#[derive(Debug)]
pub struct Diagnostics {
    /// The pass that produced these diagnostics.
    pub pass: Pass,
    /// λ used in this forward, `[L]` / `[L, K]`.
    pub multipliers: Tensor,
    /// π used in this forward (after the streaming update on a training pass), `[L]`.
    pub priors: Tensor,
    /// TP_lb on this batch, `[L]` / `[L, K]` (anchors: with each anchor's bias added to the
    /// logits; upstream reports `[L, 1]` without biases).
    pub tp_lower_bound: Tensor,
    /// FP_ub on this batch, `[L]` / `[L, K]` (anchors: with biases).
    pub fp_upper_bound: Tensor,
    /// Constraint slack in the target's units, `[L]` / `[L, K]`; ≥ 0 means the surrogate
    /// constraint holds:
    /// ```text
    /// recall@precision α:   TP_lb / (TP_lb + FP_ub) − α
    /// precision@recall r:   TP_lb / |Y₊| − r        (also FPR@TPR)
    /// TPR@FPR r:            r − FP_ub / |Y₋|          (also ROC anchors, per anchor)
    /// ```
    /// |Y₊| = Σ w·y, |Y₋| = Σ w·(1 − y) on this batch. When a denominator is 0 (a batch
    /// without positives, negatives, or with TP_lb + FP_ub ≤ 0) the ratio is taken as
    /// the target, i.e. slack 0: the batch carries no evidence either way. Never NaN.
    pub slack: Tensor,
    /// g = ∂J/∂λ with J the batch-mean loss (analytic), `[L]` / `[L, K]`: what
    /// [`GlobalLoss::dual_step`] ascends on. g > 0 exactly when the constraint, in the
    /// Lagrangian's own units (|Y₊| ≈ π·Σ_i w_il), is violated:
    /// ```text
    /// g_lk = ( c1_lk·L₊_lk + d1_lk·L₋_lk + t1_lk·Σ_i w_il ) / (N·L·K)
    /// ```
    /// with c = c0 + c1·λ, d = d0 + d1·λ, τ = t1·λ (see [`GlobalLoss`]) and L₊, L₋ the
    /// weighted surrogate sums. Elements of weight 0 add nothing, so N·g does not
    /// change when ignored rows are appended.
    pub constraint_grad: Tensor,
}

/// Which affine family of coefficients (reference §4.7).
#[derive(Debug, Clone, Copy)]
enum Form {
    /// c = 1 + λ(1 − α), d = λα, term = −λ(1 − α)πκ (R@P, PR-AUC).
    RecallAtPrecision,
    /// c = λ, d = 1, term = λπ(r − 1)κ (P@R, FPR@TPR).
    PrecisionAtRecall,
    /// c = 1, d = λ, term = −λr(1 − π)κ (TPR@FPR, ROC anchors).
    TprAtFpr,
}

/// c = c0 + c1·λ, d = d0 + d1·λ, term = t1·λ, all `[L, K]`.
struct Affine {
    c0: Tensor,
    c1: Tensor,
    d0: Tensor,
    d1: Tensor,
    t1: Tensor,
    /// The targets / anchors broadcast to `[L, K]`.
    target: Tensor,
}

/// Validated inputs as `[N, L]` tensors plus the original logits' shape.
struct Batch {
    y: Tensor,
    s: Tensor,
    w: Tensor,
    shape: Vec<i64>,
}

/// One global-objective loss with its state under the caller's `nn::Path`.
///
/// Per element (i, l), anchor objectives averaged over k = 1..K (threshold objectives
/// have K = 1 and no bias):
///
/// ```text
/// loss_il = w_il · (1/K) Σ_k [ c_lk·y_il·φ₊(s_il + b_lk) + d_lk·(1 − y_il)·φ₋(s_il + b_lk)
///                             + τ_lk ]
///
/// objective            c                d        τ (λ-term, weighted by w too)
/// recall@precision α   1 + λ(1 − α)     λα       −λ(1 − α)·π·κ
/// precision@recall r   λ                1        +λ·π·(r − 1)·κ       (= FPR@TPR)
/// TPR@FPR r            1                λ        −λ·r·(1 − π)·κ
/// PR-AUC               R@P at α_k,  b_lk trainable, α_k = a + k(b − a)/(K + 1)
/// ROC-AUC anchors      TPR@FPR at r_k over the FPR range, b_lk trainable
/// ```
///
/// φ₊, φ₋ and κ are the surrogate's (see [`Surrogate`](crate::Surrogate)), π the label
/// prior, w the element weight (0 = ignore: the element adds nothing, λ-term included).
/// The model (and the biases) minimise; the multipliers λ ≥ 0 maximise. The λ-term
/// stands for |Y₊| ≈ π·Σ_i w_il (|Y₋| ≈ (1 − π)·Σ_i w_il), so the batch *sum* of the
/// per-element loss is the Lagrangian, and with all weights 1 the batch *mean* holds
/// one copy of τ per label. Derivations: `docs/math.md`.
///
/// State, under the caller's path (names are stable, so `VarStore::save`/`load`
/// checkpoint and resume it exactly): `multipliers` (`[L]` or `[L, K]`), `biases` (`[L, K]`,
/// trainable, anchor objectives only), `prior_positive` and `prior_total` (`[L]`,
/// streaming priors only). State is kept in the VarStore's kind and cast to the logits'
/// kind on use.
///
/// Load a checkpoint only into a loss built with the checkpoint's config and L: a
/// missing name or a mismatched size is a `TchError` from `VarStore::load`, but
/// `VarStore::load` copies with broadcasting, so a checkpoint with L = 1 (or K = 1)
/// loads silently into a loss with more labels (or anchors), and a checkpoint of
/// another objective with the same shapes loads too. The loss cannot see either.
///
/// Reference: Eban et al. (2017) §3–5; upstream `loss_layers.py` (reference §4).
/// Differences from upstream: the weight multiplies the λ-term too (upstream adds τ
/// unweighted on every row, i.e. estimates |Y₊| as N·π with the row count N, so
/// ignored rows inflate the λ-term; identical when all weights are 1); the default
/// multiplier update is projected dual ascent ([`MultiplierUpdate::DualAscent`]);
/// priors move only on [`Pass::Train`]; ROC-AUC anchors are our extension; ±inf
/// logits are rejected.
///
/// # Examples
/// ```
/// use bounds::{GlobalLoss, LossConfig, ObjectiveConfig, Pass, Target};
/// use tch::{nn, Device, Kind, Tensor};
/// let vs = nn::VarStore::new(Device::Cpu);
/// let cfg = LossConfig::new(ObjectiveConfig::PrecisionAtRecall {
///     target_recall: Target::All(0.9),
/// });
/// let loss = GlobalLoss::new(&(vs.root() / "loss"), 1, &cfg)?;
/// let logits = Tensor::from_slice(&[2.0f32, -1.0, 0.5, -3.0]);
/// let labels = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 0.0]);
/// let out = loss.forward_mean(&logits, &labels, None, Pass::Train)?;
/// assert_eq!(out.loss.size(), Vec::<i64>::new());
/// loss.dual_step(&out)?; // after the model's optimizer step
/// assert_eq!(loss.multipliers().size(), vec![1]);
/// # Ok::<(), bounds::Error>(())
/// ```
#[derive(Debug)]
pub struct GlobalLoss {
    config: LossConfig,
    num_labels: i64,
    form: Option<Form>,
    /// Targets `[L]` (threshold objectives) or anchor points `[K]`.
    points: Vec<f64>,
    anchored: bool,
    multipliers: Option<Multipliers>,
    biases: Option<Tensor>,
    priors: Option<LabelPriors>,
    device: Device,
    calls: AtomicU64,
}

impl GlobalLoss {
    /// Validates `config` and creates the state under `path` for `num_labels` labels.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any invalid config field (see
    /// [`LossConfig::validate`]), `num_labels < 1`, per-label targets or fixed priors
    /// whose length is not L, or state names already taken under `path`.
    pub fn new(path: &nn::Path, num_labels: i64, config: &LossConfig) -> Result<Self> {
        config.validate()?;
        if num_labels < 1 {
            return Err(Error::InvalidConfig {
                field: "num_labels",
                reason: format!("{num_labels} labels"),
            });
        }
        let (form, points, anchored) = match &config.objective {
            ObjectiveConfig::RecallAtPrecision {
                target_precision: t,
            } => (
                Some(Form::RecallAtPrecision),
                t.values("target_precision", num_labels)?,
                false,
            ),
            ObjectiveConfig::PrecisionAtRecall { target_recall: t } => (
                Some(Form::PrecisionAtRecall),
                t.values("target_recall", num_labels)?,
                false,
            ),
            ObjectiveConfig::FprAtTpr { target_rate: t } => (
                Some(Form::PrecisionAtRecall),
                t.values("target_rate", num_labels)?,
                false,
            ),
            ObjectiveConfig::TprAtFpr { target_rate: t } => (
                Some(Form::TprAtFpr),
                t.values("target_rate", num_labels)?,
                false,
            ),
            ObjectiveConfig::PrAuc {
                precision_range,
                num_anchors,
            } => (
                Some(Form::RecallAtPrecision),
                anchor_points(*precision_range, *num_anchors)?.0,
                true,
            ),
            ObjectiveConfig::RocAucAnchors {
                fpr_range,
                num_anchors,
            } => (
                Some(Form::TprAtFpr),
                anchor_points(*fpr_range, *num_anchors)?.0,
                true,
            ),
            ObjectiveConfig::RocAucPairwise { .. } => (None, Vec::new(), false),
        };
        if let crate::PriorConfig::Fixed(v) = &config.priors {
            // Checked before any variable is created, so a failure leaves no state behind.
            if v.len() != 1 && v.len() as i64 != num_labels {
                return Err(Error::InvalidConfig {
                    field: "priors",
                    reason: format!("{} fixed priors given for {num_labels} labels", v.len()),
                });
            }
        }
        if form.is_some() {
            // Every name is checked before any variable is created, so a collision leaves
            // no partial state in the VarStore (which `VarStore::load` would then demand).
            let mut names = vec!["multipliers"];
            if anchored {
                names.push("biases");
            }
            if let crate::PriorConfig::Streaming { .. } = config.priors {
                names.extend(["prior_positive", "prior_total"]);
            }
            if let Some(name) = names.into_iter().find(|n| path.get(n).is_some()) {
                return Err(Error::InvalidConfig {
                    field: "path",
                    reason: format!("variable {:?} already exists", path.path(name)),
                });
            }
        }
        let (multipliers, biases, priors) = if form.is_some() {
            let dims: Vec<i64> = if anchored {
                vec![num_labels, points.len() as i64]
            } else {
                vec![num_labels]
            };
            let m = Multipliers::new(
                path,
                "multipliers",
                &dims,
                config.multiplier_init,
                config.multiplier_update,
            )?;
            let b = if anchored {
                Some(add_var(path, "biases", &dims, 0.0, true)?)
            } else {
                None
            };
            let p = LabelPriors::new(path, num_labels, &config.priors)?;
            (Some(m), b, Some(p))
        } else {
            (None, None, None)
        };
        Ok(GlobalLoss {
            config: config.clone(),
            num_labels,
            form,
            points,
            anchored,
            multipliers,
            biases,
            priors,
            device: path.device(),
            calls: AtomicU64::new(0),
        })
    }

    /// The validated config.
    pub fn config(&self) -> &LossConfig {
        &self.config
    }

    /// Number of labels L.
    pub fn num_labels(&self) -> i64 {
        self.num_labels
    }

    /// The anchor points α_k (PR-AUC) or r_k (ROC anchors), `[K]`; empty otherwise.
    pub fn anchors(&self) -> &[f64] {
        if self.anchored { &self.points } else { &[] }
    }

    /// The current λ (≥ 0, detached), `[L]` or `[L, K]`; `[0]` for pairwise ROC-AUC.
    pub fn multipliers(&self) -> Tensor {
        match &self.multipliers {
            Some(m) => m.current(),
            None => Tensor::zeros([0], (Kind::Float, self.device)),
        }
    }

    /// The multiplier state itself (for [`Multipliers::set`] or the raw variable).
    pub fn multiplier_state(&self) -> Option<&Multipliers> {
        self.multipliers.as_ref()
    }

    /// The anchor biases b `[L, K]` (trainable variable), anchor objectives only.
    pub fn biases(&self) -> Option<&Tensor> {
        self.biases.as_ref()
    }

    /// The current priors π `[L]` (Double, without updating); `[0]` for pairwise ROC-AUC.
    pub fn priors(&self) -> Tensor {
        match &self.priors {
            Some(p) => p.current(Kind::Double, self.device),
            None => Tensor::zeros([0], (Kind::Double, self.device)),
        }
    }

    /// Per-element loss in the logits' shape plus diagnostics (formula: see the type).
    ///
    /// On [`Pass::Train`] the streaming priors absorb the batch first (upstream uses the
    /// post-update value too); [`Pass::Eval`] changes no state.
    ///
    /// # Shapes
    /// - `logits`: `[N]` (needs L = 1) or `[N, L]`; Float or Double; N ≥ 1.
    /// - `labels`: the logits' shape, any kind (cast to the logits' kind: the crate's
    ///   kind rule), values in `[0, 1]` (soft labels allowed).
    /// - `weights`: `None` (ones), `[N]` or `[N, 1]` (per row) or `[N, L]`; any kind
    ///   (cast); ≥ 0; 0 = ignore the element (it counts neither in the loss nor in the
    ///   priors).
    /// - All on the device of the loss's VarStore.
    /// - Output `loss`: the logits' shape and kind.
    ///
    /// # Errors
    /// - [`Error::Rank`]: logits not `[N]` or `[N, L]`.
    /// - [`Error::Shape`]: labels or weights do not fit the logits, or L ≠ `num_labels`.
    /// - [`Error::Kind`]: logits not floating.
    /// - [`Error::Unsupported`]: `Half` or `BFloat16` logits (cast them to `Float`).
    /// - [`Error::Device`]: an input not on the state's device.
    /// - [`Error::InvalidValue`]: empty batch, NaN or ±inf logits, labels outside
    ///   `[0, 1]`, negative or non-finite weights; and, with `what = "loss"` or
    ///   `"diagnostics"`, finite inputs whose loss or diagnostics overflow the logits'
    ///   kind (e.g. |logits| near `f32::MAX`, huge weights or multipliers).
    ///
    /// On any error no state changes: a failed training pass leaves the priors as they
    /// were.
    pub fn forward(
        &self,
        logits: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
        pass: Pass,
    ) -> Result<LossOutput> {
        self.guarded("forward", pass, || {
            self.forward_unguarded("forward", logits, labels, weights, pass)
        })
    }

    /// Runs `f`; if it fails or returns non-finite values, restores the streaming
    /// priors the pass may have moved and returns the error.
    fn guarded(
        &self,
        op: &'static str,
        pass: Pass,
        f: impl FnOnce() -> Result<LossOutput>,
    ) -> Result<LossOutput> {
        let snapshot = match (pass, &self.priors) {
            (Pass::Train, Some(p)) => p.snapshot(),
            _ => None,
        };
        let out = f().and_then(|out| {
            check::finite_output(op, "loss", &out.loss)?;
            let d = &out.diagnostics;
            for t in [
                &d.multipliers,
                &d.priors,
                &d.tp_lower_bound,
                &d.fp_upper_bound,
                &d.slack,
                &d.constraint_grad,
            ] {
                check::finite_output(op, "diagnostics", t)?;
            }
            Ok(out)
        });
        if out.is_err() {
            if let (Some(p), Some(snap)) = (&self.priors, snapshot) {
                p.restore(&snap);
            }
        }
        out
    }

    fn forward_unguarded(
        &self,
        op: &'static str,
        logits: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
        pass: Pass,
    ) -> Result<LossOutput> {
        let b = self.prepare(op, logits, labels, weights)?;
        let Some(form) = self.form else {
            return self.pairwise(&b, pass);
        };
        let (lam, aff, priors) = self.state_for(&b, form, pass);
        let c = (&aff.c0 + &aff.c1 * &lam).unsqueeze(0);
        let d = (&aff.d0 + &aff.d1 * &lam).unsqueeze(0);
        let tau = (&aff.t1 * &lam).mean_dim([1i64].as_slice(), false, b.s.kind());
        let s3 = self.shifted(&b.s);
        let per = self
            .config
            .surrogate
            .weighted(&b.y.unsqueeze(2), &s3, &c, &d);
        let per = per.mean_dim([2i64].as_slice(), false, b.s.kind());
        // The λ-term is weighted like the surrogate: |Y₊| ≈ π·Σw (docs/math.md §3).
        let loss = (&b.w * (per + tau)).reshape(b.shape.as_slice());
        let diagnostics = self.diagnostics(&b, &aff, &priors, pass);
        Ok(LossOutput { loss, diagnostics })
    }

    /// The batch mean of [`GlobalLoss::forward`]'s loss (0-dim), equal to
    /// `forward(..).loss.mean()` in value and gradient.
    ///
    /// For the anchor objectives with `config.fused`, the surrogate part is computed
    /// by [`crate::fused::anchor_surrogate_sum`] in chunks of `chunk_rows` rows with
    /// an analytic gradient, so no `[N, L, K]` graph is kept:
    /// ```text
    /// J = ( anchor_surrogate_sum(s, y, w, b, c, d) + Σ_l (Σ_i w_il)·(1/K) Σ_k τ_lk ) / (N·L)
    /// ```
    ///
    /// # Shapes
    /// As [`GlobalLoss::forward`]; `loss` is 0-dim.
    ///
    /// # Errors
    /// As [`GlobalLoss::forward`].
    pub fn forward_mean(
        &self,
        logits: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
        pass: Pass,
    ) -> Result<LossOutput> {
        const OP: &str = "forward_mean";
        self.guarded(OP, pass, || {
            self.forward_mean_unguarded(OP, logits, labels, weights, pass)
        })
    }

    fn forward_mean_unguarded(
        &self,
        op: &'static str,
        logits: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
        pass: Pass,
    ) -> Result<LossOutput> {
        if let (Some(form), true, true) = (self.form, self.anchored, self.config.fused) {
            let b = self.prepare(op, logits, labels, weights)?;
            let (lam, aff, priors) = self.state_for(&b, form, pass);
            let c = &aff.c0 + &aff.c1 * &lam;
            let d = &aff.d0 + &aff.d1 * &lam;
            // Σ_il w_il·τ̄_l = Σ_l τ̄_l·Σ_i w_il, with τ̄_l the mean over anchors.
            let tau = (&aff.t1 * &lam).mean_dim([1i64].as_slice(), false, b.s.kind());
            let tau =
                (tau * b.w.sum_dim_intlist([0i64].as_slice(), false, b.s.kind())).sum(b.s.kind());
            let bias = self.bias_for(&b.s);
            let sum = crate::fused::anchor_surrogate_sum(
                &b.s,
                &b.y,
                &b.w,
                &bias,
                &c,
                &d,
                self.config.surrogate,
                self.config.chunk_rows as i64,
            )?;
            let (n, l) = (b.s.size()[0], b.s.size()[1]);
            let loss = (sum + tau) / (n * l) as f64;
            let diagnostics = self.diagnostics(&b, &aff, &priors, pass);
            return Ok(LossOutput { loss, diagnostics });
        }
        let out = self.forward_unguarded(op, logits, labels, weights, pass)?;
        let kind = out.loss.kind();
        Ok(LossOutput {
            loss: out.loss.mean(kind),
            diagnostics: out.diagnostics,
        })
    }

    /// Projected dual ascent on λ from the diagnostics of a training forward, to call
    /// after the model's optimizer step:
    ///
    /// ```text
    /// λ ← clamp(λ + rate · constraint_grad, 0, max)
    /// ```
    ///
    /// A no-op under [`MultiplierUpdate::Reversed`] (the model's optimizer moves λ) and
    /// for pairwise ROC-AUC.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if `out` comes from a [`Pass::Eval`] forward (the dual
    /// must not learn from evaluation data) or holds a non-finite gradient;
    /// [`Error::Shape`] if it comes from another loss.
    pub fn dual_step(&self, out: &LossOutput) -> Result<()> {
        let Some(m) = &self.multipliers else {
            return Ok(());
        };
        if matches!(m.update(), MultiplierUpdate::Reversed { .. }) {
            return Ok(());
        }
        if out.diagnostics.pass == Pass::Eval {
            return Err(Error::InvalidValue {
                op: "dual_step",
                what: "diagnostics",
                reason: "from an evaluation pass".into(),
            });
        }
        m.dual_step(&out.diagnostics.constraint_grad)
    }

    fn prepare(
        &self,
        op: &'static str,
        logits: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
    ) -> Result<Batch> {
        let kind = check::float_kind(op, "logits", logits)?;
        check::rank_in(op, "logits", logits, &[1, 2], "1 or 2")?;
        check::same_device(op, "logits", logits, self.device)?;
        let shape = logits.size();
        let n = shape[0];
        if n == 0 {
            return Err(Error::InvalidValue {
                op,
                what: "logits",
                reason: "empty batch (N = 0)".into(),
            });
        }
        let l = if shape.len() == 2 { shape[1] } else { 1 };
        if l != self.num_labels {
            return Err(Error::Shape {
                op,
                what: "logits",
                expected: vec![n, self.num_labels],
                got: shape,
            });
        }
        check::shape_eq(op, "labels", labels, &shape)?;
        check::same_device(op, "labels", labels, self.device)?;
        let labels = check::cast(labels, kind);
        check::finite(op, "logits", logits)?;
        check::unit_interval(op, "labels", &labels)?;
        let s = logits.reshape([n, l]);
        let y = labels.reshape([n, l]);
        let w = match weights {
            None => Tensor::ones([n, l], (kind, self.device)),
            Some(w) => {
                check::same_device(op, "weights", w, self.device)?;
                let ws = w.size();
                let w = check::cast(w, kind);
                let w = if ws == [n] || ws == [n, 1] {
                    w.reshape([n, 1]).expand([n, l], false)
                } else if ws == shape {
                    w.reshape([n, l])
                } else {
                    return Err(Error::Shape {
                        op,
                        what: "weights",
                        expected: shape,
                        got: ws,
                    });
                };
                check::nonneg_weights(op, "weights", &w)?;
                w
            }
        };
        Ok(Batch { y, s, w, shape })
    }

    /// λ (with the reversed gradient where applicable) as `[L, K]`, the affine
    /// coefficients, and the priors after this pass's update.
    fn state_for(&self, b: &Batch, form: Form, pass: Pass) -> (Tensor, Affine, Tensor) {
        let kind = b.s.kind();
        let dev = b.s.device();
        let priors = self
            .priors
            .as_ref()
            .expect("objectives with multipliers have priors");
        let pi = priors.update(&b.y, &b.w, pass).to_kind(kind);
        let m = self
            .multipliers
            .as_ref()
            .expect("objectives with multipliers have them");
        let l = self.num_labels;
        let k = if self.anchored {
            self.points.len() as i64
        } else {
            1
        };
        let lam = m.value().to_kind(kind).reshape([l, k]);
        let target = if self.anchored {
            Tensor::from_slice(&self.points)
                .reshape([1, k])
                .expand([l, k], false)
        } else {
            Tensor::from_slice(&self.points).reshape([l, 1])
        }
        .to_kind(kind)
        .to_device(dev);
        let pi2 = pi.reshape([l, 1]).expand([l, k], false);
        let kappa = self.config.surrogate.kappa();
        let zeros = target.zeros_like();
        let ones = target.ones_like();
        let aff = match form {
            Form::RecallAtPrecision => Affine {
                c0: ones.shallow_clone(),
                c1: &ones - &target,
                d0: zeros.shallow_clone(),
                d1: target.shallow_clone(),
                t1: (&target - 1.0) * &pi2 * kappa,
                target,
            },
            Form::PrecisionAtRecall => Affine {
                c0: zeros.shallow_clone(),
                c1: ones.shallow_clone(),
                d0: ones.shallow_clone(),
                d1: zeros.shallow_clone(),
                t1: (&target - 1.0) * &pi2 * kappa,
                target,
            },
            Form::TprAtFpr => Affine {
                c0: ones.shallow_clone(),
                c1: zeros.shallow_clone(),
                d0: zeros.shallow_clone(),
                d1: ones.shallow_clone(),
                t1: -(&target * (-&pi2 + 1.0)) * kappa,
                target,
            },
        };
        (lam, aff, pi)
    }

    /// Biases `[L, K]` in the logits' kind (zeros for the threshold objectives).
    fn bias_for(&self, s: &Tensor) -> Tensor {
        match &self.biases {
            Some(b) => b.to_kind(s.kind()),
            None => Tensor::zeros([self.num_labels, 1], (s.kind(), s.device())),
        }
    }

    /// Logits shifted by the biases, `[N, L, K]`.
    fn shifted(&self, s: &Tensor) -> Tensor {
        match &self.biases {
            Some(b) => s.unsqueeze(2) + b.to_kind(s.kind()).unsqueeze(0),
            None => s.unsqueeze(2),
        }
    }

    /// Detached diagnostics, computed in row chunks (no `[N, L, K]` graph).
    fn diagnostics(&self, b: &Batch, aff: &Affine, priors: &Tensor, pass: Pass) -> Diagnostics {
        tch::no_grad(|| {
            let kind = b.s.kind();
            let sur = self.config.surrogate;
            let kappa = sur.kappa();
            let (n, l) = (b.s.size()[0], b.s.size()[1]);
            let k = aff.target.size()[1];
            let one = Tensor::from(1.0).to_kind(kind).to_device(b.s.device());
            let zero = Tensor::from(0.0).to_kind(kind).to_device(b.s.device());
            let mut lpos = Tensor::zeros([l, k], (kind, b.s.device()));
            let mut lneg = Tensor::zeros([l, k], (kind, b.s.device()));
            let step = self.config.chunk_rows.max(1) as i64;
            let dims = [0i64];
            let mut start = 0;
            while start < n {
                let len = step.min(n - start);
                let s3 = self.shifted(&b.s.narrow(0, start, len)).detach();
                let y3 = b.y.narrow(0, start, len).unsqueeze(2);
                let w3 = b.w.narrow(0, start, len).unsqueeze(2);
                let p = sur.weighted(&y3, &s3, &one, &zero) * &w3;
                let q = sur.weighted(&y3, &s3, &zero, &one) * &w3;
                lpos += p.sum_dim_intlist(dims.as_slice(), false, kind);
                lneg += q.sum_dim_intlist(dims.as_slice(), false, kind);
                start += len;
            }
            let ypos = (&b.w * &b.y)
                .sum_dim_intlist(dims.as_slice(), false, kind)
                .reshape([l, 1]);
            let yneg = (&b.w * (-&b.y + 1.0))
                .sum_dim_intlist(dims.as_slice(), false, kind)
                .reshape([l, 1]);
            let wsum =
                b.w.sum_dim_intlist(dims.as_slice(), false, kind)
                    .reshape([l, 1]);
            let tp = &ypos - &lpos / kappa;
            let fp = &lneg / kappa;
            let g = (&aff.c1 * &lpos + &aff.d1 * &lneg + &aff.t1 * &wsum) / (n * l * k) as f64;
            let t = &aff.target;
            let ratio = |num: &Tensor, den: &Tensor| {
                let ok = den.gt(0.0);
                (num / den.where_scalarother(&ok, 1.0)).where_self(&ok, t)
            };
            let slack = match self.form {
                Some(Form::RecallAtPrecision) => ratio(&tp, &(&tp + &fp)) - t,
                Some(Form::PrecisionAtRecall) => ratio(&tp, &ypos.expand([l, k], false)) - t,
                _ => t - ratio(&fp, &yneg.expand([l, k], false)),
            };
            let shape: Vec<i64> = if self.anchored { vec![l, k] } else { vec![l] };
            let lam = self.multipliers().to_kind(kind).reshape(shape.as_slice());
            Diagnostics {
                pass,
                multipliers: lam,
                priors: priors.detach(),
                tp_lower_bound: tp.reshape(shape.as_slice()),
                fp_upper_bound: fp.reshape(shape.as_slice()),
                slack: slack.reshape(shape.as_slice()),
                constraint_grad: g.reshape(shape.as_slice()),
            }
        })
    }

    fn pairwise(&self, b: &Batch, pass: Pass) -> Result<LossOutput> {
        let ObjectiveConfig::RocAucPairwise { max_pairs } = self.config.objective else {
            unreachable!("pairwise() is only reached for RocAucPairwise")
        };
        // A fresh pair sample on every call, reproducible from the loss's creation.
        let seed = self.calls.fetch_add(1, Ordering::Relaxed);
        let shape = b.shape.as_slice();
        let w = b.w.contiguous().reshape(shape);
        let loss = crate::roc::roc_auc_pairwise_loss(
            &b.y.reshape(shape),
            &b.s.reshape(shape),
            Some(&w),
            self.config.surrogate,
            max_pairs,
            seed,
        )?;
        let empty = || Tensor::zeros([0], (b.s.kind(), b.s.device()));
        let diagnostics = Diagnostics {
            pass,
            multipliers: empty(),
            priors: empty(),
            tp_lower_bound: empty(),
            fp_upper_bound: empty(),
            slack: empty(),
            constraint_grad: empty(),
        };
        Ok(LossOutput { loss, diagnostics })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_come_from_the_validated_helper() {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = LossConfig::new(ObjectiveConfig::PrAuc {
            precision_range: (0.0, 1.0),
            num_anchors: 3,
        });
        let loss = GlobalLoss::new(&vs.root(), 1, &cfg).unwrap();
        for (x, e) in loss.anchors().iter().zip([0.25, 0.5, 0.75]) {
            assert!((x - e).abs() < 1e-15, "{:?}", loss.anchors());
        }
        assert_eq!(loss.multipliers().size(), vec![1, 3]);
    }
}
