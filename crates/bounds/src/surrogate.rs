//! Convex surrogates of the 0-1 loss: logistic ("xent") and hinge.
use serde::{Deserialize, Serialize};

use tch::Tensor;

use crate::{Error, Result, check};

/// Which convex upper bound replaces the 0-1 indicator.
///
/// ```text
/// xent:  φ₊(s) = softplus(−s)      φ₋(s) = softplus(s)      κ = ln 2
/// hinge: φ₊(s) = max(0, 1 − s)     φ₋(s) = max(0, 1 + s)    κ = 1
/// ```
///
/// φ/κ upper-bounds the 0-1 loss. Defaults to [`Surrogate::Xent`], as upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Surrogate {
    /// Logistic loss (sigmoid cross-entropy), κ = ln 2.
    #[default]
    Xent,
    /// Hinge loss, κ = 1.
    Hinge,
}

impl Surrogate {
    /// κ, the surrogate's value at a zero margin: ln 2 for xent, 1 for hinge.
    pub fn kappa(self) -> f64 {
        match self {
            Surrogate::Xent => std::f64::consts::LN_2,
            Surrogate::Hinge => 1.0,
        }
    }
}

impl std::str::FromStr for Surrogate {
    type Err = Error;

    /// Parses `"xent"` or `"hinge"`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for any other name.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "xent" => Ok(Surrogate::Xent),
            "hinge" => Ok(Surrogate::Hinge),
            other => Err(Error::Unsupported {
                what: format!("surrogate type {other:?} (expected \"xent\" or \"hinge\")"),
            }),
        }
    }
}

impl Surrogate {
    /// The weighted surrogate without any checks (crate-internal): see
    /// [`weighted_surrogate_loss`].
    pub(crate) fn weighted(
        self,
        labels: &Tensor,
        logits: &Tensor,
        c: &Tensor,
        d: &Tensor,
    ) -> Tensor {
        match self {
            Surrogate::Xent => {
                // d·(x − z·x) + (d + (c − d)·z)·softplus(−x): libtorch's softplus is
                // itself stable (linear above 20) and has the exact derivative at 0.
                let lin = d * (logits - labels * logits);
                let coef = d + (c - d) * labels;
                lin + coef * logits.neg().softplus()
            }
            Surrogate::Hinge => {
                let one_minus = labels.ones_like() - labels;
                c * labels * (logits.neg() + 1.0).relu() + d * one_minus * (logits + 1.0).relu()
            }
        }
    }
}

/// Weighted surrogate loss, per element (upstream `util.weighted_surrogate_loss`).
///
/// ```text
/// xent:  ℓ = c·z·softplus(−x) + d·(1 − z)·softplus(x)
///          = d·(x − z·x) + (d + (c − d)·z)·softplus(−x)        (computed form)
/// hinge: ℓ = c·z·max(0, 1 − x) + d·(1 − z)·max(0, 1 + x)
/// ```
///
/// z = labels (soft labels in `[0, 1]` allowed), x = logits, c = positive weights,
/// d = negative weights. Not divided by κ. Values and gradients stay finite for any
/// finite logit (e.g. |x| ≥ 100).
///
/// # Shapes
/// - `logits`: any rank ≥ 1, e.g. `[N]`, `[N, L]` or `[N, L, K]`; Float or Double.
/// - `labels`: the logits' shape, or `[N, L]` with `[N, L, K]` logits (a trailing axis is
///   added, as upstream).
/// - `positive_weights`, `negative_weights`: 0-dim, or any shape that broadcasts to
///   the logits after left-padding with size-1 axes (e.g. `[K]`, `[L, K]`, `[L, 1]`).
/// - Output: the logits' shape and kind. Labels and weights of any kind are cast to the
///   logits' kind (upstream `convert_and_cast`; the crate's kind rule); all inputs must
///   share the logits' device.
///
/// # Errors
/// - [`Error::Kind`]: logits not floating; [`Error::Unsupported`]: `Half` or
///   `BFloat16` logits.
/// - [`Error::Device`]: an input on another device.
/// - [`Error::Shape`] / [`Error::Rank`]: labels or weights that do not fit.
/// - [`Error::InvalidValue`]: NaN or ±inf logits, labels outside `[0, 1]`, negative or
///   non-finite positive / negative weights.
///
/// Differences from upstream: ±inf logits are rejected (upstream returns NaN for
/// some label/sign combinations); the softplus bracket is libtorch's, whose gradient at
/// x = 0 is exact (upstream's max(−x, 0) + ln(1 + e^{−|x|}) has subgradient 0 there).
///
/// # Examples
/// ```
/// use bounds::{weighted_surrogate_loss, Surrogate};
/// use tch::Tensor;
/// let z = Tensor::from_slice(&[1.0f64, 0.0]);
/// let x = Tensor::from_slice(&[0.0f64, 0.0]);
/// let l = weighted_surrogate_loss(&z, &x, Surrogate::Hinge, &Tensor::from(2.0f64),
///                                 &Tensor::from(1.0f64))?;
/// assert_eq!(Vec::<f64>::try_from(l).unwrap(), vec![2.0, 1.0]);
/// # Ok::<(), bounds::Error>(())
/// ```
pub fn weighted_surrogate_loss(
    labels: &Tensor,
    logits: &Tensor,
    surrogate: Surrogate,
    positive_weights: &Tensor,
    negative_weights: &Tensor,
) -> Result<Tensor> {
    const OP: &str = "weighted_surrogate_loss";
    let (labels, logits) = prepare_labels_logits(OP, labels, logits)?;
    let kind = logits.kind();
    let dev = logits.device();
    let rank = logits.dim();
    let mut ws = Vec::with_capacity(2);
    for (what, w) in [
        ("positive_weights", positive_weights),
        ("negative_weights", negative_weights),
    ] {
        check::same_device(OP, what, w, dev)?;
        if !check::broadcasts_to(&w.size(), &logits.size()) {
            return Err(Error::Shape {
                op: OP,
                what,
                expected: logits.size(),
                got: w.size(),
            });
        }
        let w = check::cast(w, kind);
        check::nonneg_weights(OP, what, &w)?;
        let mut shape = vec![1i64; rank - w.dim()];
        shape.extend(w.size());
        ws.push(w.reshape(shape.as_slice()));
    }
    Ok(surrogate.weighted(&labels, &logits, &ws[0], &ws[1]))
}

/// Shared checks for the free functions: logits floating and finite, labels in `[0, 1]`
/// with the logits' shape (or one trailing axis less), cast to the logits' kind.
pub(crate) fn prepare_labels_logits(
    op: &'static str,
    labels: &Tensor,
    logits: &Tensor,
) -> Result<(Tensor, Tensor)> {
    let kind = check::float_kind(op, "logits", logits)?;
    check::same_device(op, "labels", labels, logits.device())?;
    if logits.dim() == 0 {
        return Err(Error::Rank {
            op,
            what: "logits",
            expected: "at least 1",
            got: 0,
        });
    }
    let ls = labels.size();
    let xs = logits.size();
    let labels = if ls == xs {
        labels.shallow_clone()
    } else if xs.len() == 3 && ls.len() == 2 && ls[..] == xs[..2] {
        labels.unsqueeze(2)
    } else {
        return Err(Error::Shape {
            op,
            what: "labels",
            expected: xs,
            got: ls,
        });
    };
    check::finite(op, "logits", logits)?;
    let labels = check::cast(&labels, kind);
    check::unit_interval(op, "labels", &labels)?;
    Ok((labels, logits.shallow_clone()))
}
