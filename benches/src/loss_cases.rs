//! Loss workloads: one forward + backward pass of a `bounds` loss or of libtorch's
//! BCE-with-logits on seeded logits.
use bounds::{GlobalLoss, LossConfig, ObjectiveConfig, Pass, Surrogate, Target};
use tch::{Device, Kind, Reduction, Tensor, nn};

use crate::case::{LossKind, TARGET_FPR, TARGET_PRECISION, TARGET_RECALL};
use crate::{Result, data};

/// What computes the loss.
enum Imp {
    Bce,
    Global(Box<GlobalLoss>),
    /// The anchor data term alone: weights [N, 1], biases [1, K] (a leaf that requires
    /// grad), coefficients c and d [1, K].
    AnchorSum {
        fused: bool,
        weights: Tensor,
        biases: Tensor,
        pos: Tensor,
        neg: Tensor,
    },
}

/// A loss with its inputs, ready to run forward + backward.
///
/// The logits are a `[N]` `f32` leaf that requires grad; [`LossWorkload::step`] returns
/// the gradients with `Tensor::run_backward` (nothing accumulates between steps), with
/// respect to the logits and, for anchor losses, the anchor biases. Everything else
/// (multipliers under the default dual ascent, priors) needs no gradient, as in
/// training. Each step is a training pass, so the streaming priors update as they
/// would in training.
pub struct LossWorkload {
    logits: Tensor,
    labels: Tensor,
    imp: Imp,
    // Owns the loss state (multipliers, biases, priors).
    _vars: nn::VarStore,
}

impl LossWorkload {
    /// Builds the inputs (`data::scored("loss", n)`) and the loss on `device`.
    ///
    /// # Errors
    /// A `bounds` error when the loss cannot be built (invalid config).
    pub fn new(kind: LossKind, n: usize, device: Device) -> Result<Self> {
        let s = data::scored("loss", n);
        Self::from_data(kind, &s, device)
    }

    /// Builds the loss on given inputs.
    ///
    /// # Errors
    /// A `bounds` error when the loss cannot be built (invalid config).
    pub fn from_data(kind: LossKind, s: &data::Scored, device: Device) -> Result<Self> {
        let logits = Tensor::from_slice(&s.logits)
            .to_device(device)
            .set_requires_grad(true);
        let labels = Tensor::from_slice(&s.labels_f32()).to_device(device);
        let vars = nn::VarStore::new(device);
        let objective = match kind {
            LossKind::Bce | LossKind::AnchorSum { .. } => None,
            LossKind::PrecisionAtRecall => Some(ObjectiveConfig::PrecisionAtRecall {
                target_recall: Target::All(TARGET_RECALL),
            }),
            LossKind::RecallAtPrecision => Some(ObjectiveConfig::RecallAtPrecision {
                target_precision: Target::All(TARGET_PRECISION),
            }),
            LossKind::TprAtFpr => Some(ObjectiveConfig::TprAtFpr {
                target_rate: Target::All(TARGET_FPR),
            }),
            LossKind::PrAuc { anchors, .. } => Some(ObjectiveConfig::PrAuc {
                precision_range: (0.0, 1.0),
                num_anchors: anchors,
            }),
            LossKind::RocAucAnchors { anchors, .. } => Some(ObjectiveConfig::RocAucAnchors {
                fpr_range: (0.0, 1.0),
                num_anchors: anchors,
            }),
            LossKind::RocAucPairwise { pairs } => Some(ObjectiveConfig::RocAucPairwise {
                max_pairs: Some(pairs),
            }),
        };
        let fused = matches!(
            kind,
            LossKind::PrAuc { fused: true, .. } | LossKind::RocAucAnchors { fused: true, .. }
        );
        let imp = match (objective, kind) {
            (None, LossKind::AnchorSum { anchors, fused }) => {
                // The PR-AUC coefficients at λ = 1: c = 1 + (1 − α_k), d = α_k.
                let k = anchors as i64;
                let opts = (Kind::Float, device);
                let alpha = Tensor::arange_start(1, k + 1, opts).view([1, k]) / (k + 1) as f64;
                Imp::AnchorSum {
                    fused,
                    weights: labels.ones_like().view([-1, 1]),
                    biases: Tensor::zeros([1, k], opts).set_requires_grad(true),
                    pos: 2.0 - &alpha,
                    neg: alpha,
                }
            }
            (None, _) => Imp::Bce,
            (Some(objective), _) => {
                let config = LossConfig {
                    fused,
                    ..LossConfig::new(objective)
                };
                Imp::Global(Box::new(GlobalLoss::new(
                    &(vars.root() / "loss"),
                    1,
                    &config,
                )?))
            }
        };
        Ok(LossWorkload {
            logits,
            labels,
            imp,
            _vars: vars,
        })
    }

    /// One forward + backward pass; returns the gradients (logits first).
    ///
    /// # Errors
    /// A `bounds` error from the forward pass.
    pub fn step(&self) -> Result<Vec<Tensor>> {
        let (loss, inputs) = match &self.imp {
            Imp::Bce => {
                let loss = self.logits.binary_cross_entropy_with_logits::<Tensor>(
                    &self.labels,
                    None,
                    None,
                    Reduction::Mean,
                );
                (loss, vec![self.logits.shallow_clone()])
            }
            Imp::Global(g) => {
                let out = g.forward_mean(&self.logits, &self.labels, None, Pass::Train)?;
                let mut inputs = vec![self.logits.shallow_clone()];
                if let Some(b) = g.biases() {
                    inputs.push(b.shallow_clone());
                }
                (out.loss, inputs)
            }
            Imp::AnchorSum {
                fused,
                weights,
                biases,
                pos,
                neg,
            } => {
                let s = self.logits.view([-1, 1]); // [N, 1]
                let y = self.labels.view([-1, 1]);
                let sum = if *fused {
                    bounds::fused::anchor_surrogate_sum(
                        &s,
                        &y,
                        weights,
                        biases,
                        pos,
                        neg,
                        Surrogate::Xent,
                        bounds::fused::DEFAULT_CHUNK_ROWS,
                    )?
                } else {
                    bounds::fused::anchor_surrogate_sum_autograd(
                        &s,
                        &y,
                        weights,
                        biases,
                        pos,
                        neg,
                        Surrogate::Xent,
                    )?
                };
                let n = self.logits.size()[0] as f64;
                (
                    sum / n,
                    vec![self.logits.shallow_clone(), biases.shallow_clone()],
                )
            }
        };
        Ok(Tensor::run_backward(&[loss], &inputs, false, false))
    }

    /// The device the inputs live on.
    pub fn device(&self) -> Device {
        self.logits.device()
    }
}

/// Sum of the first gradient, forcing every lazy result (used by tests).
pub fn grad_checksum(grads: &[Tensor]) -> f64 {
    grads[0].sum(Kind::Double).double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bce_gradient_matches_its_formula() {
        // ∂ mean BCE / ∂s_i = (σ(s_i) − y_i) / N.
        let s = data::scored("loss", 64);
        let w = LossWorkload::from_data(LossKind::Bce, &s, Device::Cpu).unwrap();
        let g = w.step().unwrap();
        let g: Vec<f32> = Vec::try_from(&g[0]).unwrap();
        for ((gi, si), yi) in g.iter().zip(&s.logits).zip(&s.labels) {
            let want = (1.0 / (1.0 + (-f64::from(*si)).exp()) - f64::from(*yi)) / 64.0;
            assert!((f64::from(*gi) - want).abs() < 1e-6, "{gi} vs {want}");
        }
    }

    #[test]
    fn fused_and_autograd_paths_agree() {
        let s = data::scored("loss", 300);
        let pr_auc = |anchors, fused| LossKind::PrAuc { anchors, fused };
        let anchor_sum = |anchors, fused| LossKind::AnchorSum { anchors, fused };
        for (name, kind) in [
            ("PR-AUC", &pr_auc as &dyn Fn(usize, bool) -> LossKind),
            ("anchor sum", &anchor_sum),
        ] {
            for k in [1, 5] {
                let step = |fused| {
                    LossWorkload::from_data(kind(k, fused), &s, Device::Cpu)
                        .unwrap()
                        .step()
                        .unwrap()
                };
                let (a, b) = (step(true), step(false));
                assert_eq!(a.len(), 2, "logits and biases");
                for (x, y) in a.iter().zip(&b) {
                    let diff = (x - y).abs().max().double_value(&[]);
                    assert!(
                        diff < 1e-5,
                        "{name}, K = {k}: max |fused − autograd| = {diff}"
                    );
                }
            }
        }
    }
}
