//! The building-block bounds: a lower bound on true positives and an upper bound on
//! false positives (paper §2–3; upstream `true_positives_lower_bound`,
//! `false_positives_upper_bound`).
use tch::Tensor;

use crate::surrogate::prepare_labels_logits;
use crate::{Error, Result, Surrogate, check};

/// Weights as a tensor of the labels' rank: `None` = ones, `[N]` = one weight per row,
/// otherwise anything that broadcasts to the labels' shape.
fn row_weights(op: &'static str, weights: Option<&Tensor>, labels: &Tensor) -> Result<Tensor> {
    let Some(w) = weights else {
        return Ok(labels.ones_like());
    };
    check::same_device(op, "weights", w, labels.device())?;
    let ls = labels.size();
    let w = if w.dim() == 1 && w.size()[0] == ls[0] && ls.len() > 1 {
        let mut shape = vec![1i64; ls.len()];
        shape[0] = ls[0];
        w.reshape(shape.as_slice())
    } else if check::broadcasts_to(&w.size(), &ls) {
        w.shallow_clone()
    } else {
        return Err(Error::Shape {
            op,
            what: "weights",
            expected: ls,
            got: w.size(),
        });
    };
    let w = check::cast(&w, labels.kind());
    check::nonneg_weights(op, "weights", &w)?;
    Ok(w)
}

/// Lower bound on the (weighted) number of true positives, per label (and anchor).
///
/// ```text
/// TP_lb = Σ_i w_i · ( y_i − y_i · φ₊(s_i) / κ )        (sum over axis 0)
///       = |Y₊| − L₊ / κ
/// ```
///
/// φ₊ is the surrogate's positive-label loss and κ its value at 0 (ln 2 for xent,
/// 1 for hinge), so φ₊/κ ≥ `1[s < 0]` and TP_lb ≤ Σ_{y=1} w·`1[s ≥ 0]`. It can be negative.
///
/// # Shapes
/// - `logits`: `[N]`, `[N, L]` or `[N, L, K]`; `labels`: the same, or `[N, L]` with 3-D logits.
/// - `weights`: `None` (ones), `[N]` (one per row) or broadcastable to the labels.
/// - Output: the logits' shape without axis 0: `[]`, `[L]` or `[L, K]`. Logits `Float` or
///   `Double`; labels and weights of any kind are cast to the logits' kind.
///
/// # Errors
/// [`Error::Kind`], [`Error::Unsupported`] (`Half` / `BFloat16` logits),
/// [`Error::Device`], [`Error::Shape`], [`Error::Rank`] (logits of rank 0 or above 3), and
/// [`Error::InvalidValue`] for NaN/±inf logits, labels outside `[0, 1]`, negative or
/// non-finite weights.
///
/// # Examples
/// ```
/// use bounds::{true_positives_lower_bound, Surrogate};
/// use tch::Tensor;
/// // Hinge: a positive at logit 0 costs φ₊(0)/κ = 1, one at logit 2 costs 0.
/// let y = Tensor::from_slice(&[1.0f64, 1.0, 0.0]);
/// let s = Tensor::from_slice(&[0.0f64, 2.0, 5.0]);
/// let tp = true_positives_lower_bound(&y, &s, None, Surrogate::Hinge)?;
/// assert_eq!(tp.double_value(&[]), 1.0);
/// # Ok::<(), bounds::Error>(())
/// ```
///
/// Reference: upstream `loss_layers.true_positives_lower_bound`; paper §2.
pub fn true_positives_lower_bound(
    labels: &Tensor,
    logits: &Tensor,
    weights: Option<&Tensor>,
    surrogate: Surrogate,
) -> Result<Tensor> {
    const OP: &str = "true_positives_lower_bound";
    check::rank_in(OP, "logits", logits, &[1, 2, 3], "1, 2 or 3")?;
    let (labels, logits) = prepare_labels_logits(OP, labels, logits)?;
    let w = row_weights(OP, weights, &labels)?;
    Ok(tp_lower_bound(&labels, &logits, &w, surrogate))
}

/// Upper bound on the (weighted) number of false positives, per label (and anchor).
///
/// ```text
/// FP_ub = Σ_i w_i · (1 − y_i) · φ₋(s_i) / κ           (sum over axis 0)
///       = L₋ / κ
/// ```
///
/// φ₋/κ ≥ `1[s ≥ 0]`, so FP_ub ≥ Σ_{y=0} w·`1[s ≥ 0]`.
///
/// # Shapes
/// As [`true_positives_lower_bound`].
///
/// # Errors
/// As [`true_positives_lower_bound`].
///
/// Reference: upstream `loss_layers.false_positives_upper_bound`; paper §2.
pub fn false_positives_upper_bound(
    labels: &Tensor,
    logits: &Tensor,
    weights: Option<&Tensor>,
    surrogate: Surrogate,
) -> Result<Tensor> {
    const OP: &str = "false_positives_upper_bound";
    check::rank_in(OP, "logits", logits, &[1, 2, 3], "1, 2 or 3")?;
    let (labels, logits) = prepare_labels_logits(OP, labels, logits)?;
    let w = row_weights(OP, weights, &labels)?;
    Ok(fp_upper_bound(&labels, &logits, &w, surrogate))
}

/// Unchecked TP_lb over axis 0 (inputs already broadcast-compatible).
pub(crate) fn tp_lower_bound(y: &Tensor, s: &Tensor, w: &Tensor, surrogate: Surrogate) -> Tensor {
    let one = Tensor::from(1.0).to_kind(s.kind()).to_device(s.device());
    let zero = Tensor::from(0.0).to_kind(s.kind()).to_device(s.device());
    let pos = surrogate.weighted(y, s, &one, &zero);
    let per = w * (y - pos / surrogate.kappa());
    per.sum_dim_intlist([0i64].as_slice(), false, s.kind())
}

/// Unchecked FP_ub over axis 0.
pub(crate) fn fp_upper_bound(y: &Tensor, s: &Tensor, w: &Tensor, surrogate: Surrogate) -> Tensor {
    let one = Tensor::from(1.0).to_kind(s.kind()).to_device(s.device());
    let zero = Tensor::from(0.0).to_kind(s.kind()).to_device(s.device());
    let neg = surrogate.weighted(y, s, &zero, &one);
    (w * neg / surrogate.kappa()).sum_dim_intlist([0i64].as_slice(), false, s.kind())
}
