//! Label priors π: streaming weighted counters in the VarStore, or fixed values.
use tch::{Kind, Tensor, nn};

use crate::multiplier::add_var_kind;
use crate::{Error, Pass, PriorConfig, Result};

/// The label priors of a [`GlobalLoss`](crate::GlobalLoss).
///
/// Streaming: two non-trainable variables `prior_positive` (init P) and `prior_total`
/// (init P + N), both `[L]`, under the caller's path;
///
/// ```text
/// on Pass::Train:  prior_positive += Σ_i w_il·y_il,   prior_total += Σ_i w_il
/// π_l = prior_positive_l / prior_total_l               (after the update)
/// ```
///
/// Rows with weight 0 add nothing. If `prior_total` is 0 (pseudocounts 0 and no
/// weight seen yet), π = 0.5. The counters are created as float64 whatever the
/// VarStore's kind, so that long streams of pixels count exactly; a later
/// `VarStore::set_kind` (or `float()`, `half()`) converts them too (float32 counts
/// exactly only up to 2²⁴), so set the VarStore's kind before building the loss.
/// Fixed: the given values, broadcast to `[L]`.
///
/// Reference: upstream `util.build_label_priors` (reference §2.8). Differences:
/// upstream updates on every evaluation of the loss, eval included; we update only on
/// [`Pass::Train`].
#[derive(Debug)]
pub enum LabelPriors {
    /// Streaming counters.
    Streaming {
        /// Σ w·y plus the pseudocount P, `[L]`.
        positive: Tensor,
        /// Σ w plus P + N, `[L]`.
        total: Tensor,
    },
    /// Fixed values, `[L]` (kind Double, CPU; cast on use).
    Fixed(Tensor),
}

impl LabelPriors {
    /// Creates the priors for `num_labels` labels under `path`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an invalid config, a fixed list whose length is
    /// neither 1 nor L, or variable names already present under `path`.
    pub fn new(path: &nn::Path, num_labels: i64, config: &PriorConfig) -> Result<Self> {
        config.validate()?;
        match config {
            PriorConfig::Streaming {
                positive_pseudocount: p,
                negative_pseudocount: n,
            } => {
                let positive = add_var_kind(
                    path,
                    "prior_positive",
                    &[num_labels],
                    *p,
                    false,
                    Kind::Double,
                )?;
                let total = add_var_kind(
                    path,
                    "prior_total",
                    &[num_labels],
                    p + n,
                    false,
                    Kind::Double,
                )?;
                Ok(LabelPriors::Streaming { positive, total })
            }
            PriorConfig::Fixed(v) => {
                let v = match v.len() as i64 {
                    1 => vec![v[0]; num_labels as usize],
                    l if l == num_labels => v.clone(),
                    l => {
                        return Err(Error::InvalidConfig {
                            field: "priors",
                            reason: format!("{l} fixed priors given for {num_labels} labels"),
                        });
                    }
                };
                Ok(LabelPriors::Fixed(Tensor::from_slice(&v)))
            }
        }
    }

    /// The current priors `[L]` without updating, in `kind` on `device`.
    pub fn current(&self, kind: Kind, device: tch::Device) -> Tensor {
        match self {
            LabelPriors::Streaming { positive, total } => tch::no_grad(|| {
                let half = total.full_like(0.5);
                let ratio = positive / total.where_scalarother(&total.gt(0.0), 1.0);
                ratio
                    .where_self(&total.gt(0.0), &half)
                    .to_kind(kind)
                    .to_device(device)
            }),
            LabelPriors::Fixed(t) => t.to_kind(kind).to_device(device),
        }
    }

    /// Copies of the streaming counters (`None` for fixed priors), for [`Self::restore`].
    pub(crate) fn snapshot(&self) -> Option<(Tensor, Tensor)> {
        match self {
            LabelPriors::Streaming { positive, total } => {
                tch::no_grad(|| Some((positive.copy(), total.copy())))
            }
            LabelPriors::Fixed(_) => None,
        }
    }

    /// Puts back counters taken by [`Self::snapshot`] (after a failed training pass).
    pub(crate) fn restore(&self, (p, t): &(Tensor, Tensor)) {
        if let LabelPriors::Streaming { positive, total } = self {
            tch::no_grad(|| {
                positive.shallow_clone().copy_(p);
                total.shallow_clone().copy_(t);
            });
        }
    }

    /// Absorbs a batch on [`Pass::Train`] (streaming only), then returns π `[L]`.
    ///
    /// # Shapes
    /// `labels`, `weights`: `[N, L]` (already validated).
    pub(crate) fn update(&self, labels: &Tensor, weights: &Tensor, pass: Pass) -> Tensor {
        if let (LabelPriors::Streaming { positive, total }, Pass::Train) = (self, pass) {
            tch::no_grad(|| {
                let k = positive.kind();
                let dims = [0i64];
                let dp = (weights * labels).sum_dim_intlist(dims.as_slice(), false, Kind::Double);
                let dt = weights.sum_dim_intlist(dims.as_slice(), false, Kind::Double);
                let mut p = positive.shallow_clone();
                let mut t = total.shallow_clone();
                let np = positive.to_kind(Kind::Double) + dp.to_device(positive.device());
                let nt = total.to_kind(Kind::Double) + dt.to_device(total.device());
                p.copy_(&np.to_kind(k));
                t.copy_(&nt.to_kind(k));
            });
        }
        self.current(labels.kind(), labels.device())
    }
}
