//! Baseline losses for the experiments: binary cross-entropy (plain and with a
//! positive-class weight), focal loss and soft Dice, all from logits.
//!
//! The first three are per element (the logits' shape); soft Dice is per image,
//! averaged to a 0-dim tensor. Every one is written with `log σ`, which libtorch
//! computes stably, so values and gradients stay finite for any finite logit.
use tch::Tensor;

use crate::{Error, Result, check};

/// Binary cross-entropy from logits, per element.
///
/// ```text
/// ℓ_i = w_i · [ −y_i · log σ(s_i) − (1 − y_i) · log σ(−s_i) ]
/// ```
///
/// s = `logits`, y = `targets` (soft targets in [0, 1] allowed), w = `weights`
/// (`None` = all ones; 0 ignores the element). Equals PyTorch's
/// `binary_cross_entropy_with_logits(reduction='none')` times w.
///
/// # Shapes
/// `logits`: any shape of rank ≥ 1 (e.g. `[N]`, `[N, L]`, `[N, 1, H, W]`), `Float` or
/// `Double`; `targets` and `weights`: the same shape, any numeric kind (cast to the
/// logits'), same device. Output: the logits' shape and kind.
///
/// # Errors
/// [`Error::Rank`], [`Error::Shape`], [`Error::Kind`] (logits not floating),
/// [`Error::Unsupported`] (`Half` / `BFloat16` logits), [`Error::Device`], [`Error::InvalidValue`] (non-finite logits, targets outside [0, 1],
/// negative or non-finite weights).
///
/// # Examples
/// ```
/// use bounds::baseline::bce;
/// use tch::Tensor;
/// let loss = bce(&Tensor::from_slice(&[0.0f64]), &Tensor::from_slice(&[1.0f64]), None)?;
/// assert!((loss.double_value(&[0]) - std::f64::consts::LN_2).abs() < 1e-12);
/// # Ok::<(), bounds::Error>(())
/// ```
pub fn bce(logits: &Tensor, targets: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    let (y, w) = prepare("bce", logits, targets, weights, "weights")?;
    Ok(w * cross_entropy(logits, &y, 1.0))
}

/// Binary cross-entropy with a weight on the positive term, per element.
///
/// ```text
/// ℓ_i = w_i · [ −p · y_i · log σ(s_i) − (1 − y_i) · log σ(−s_i) ]
/// ```
///
/// p = `pos_weight` (PyTorch's `pos_weight` semantics; p > 1 favours recall, e.g.
/// p = #neg/#pos balances the classes); other symbols as [`bce`]. p = 1 is [`bce`].
///
/// # Shapes
/// As [`bce`].
///
/// # Errors
/// As [`bce`], plus [`Error::InvalidConfig`] when `pos_weight` is negative or not finite.
pub fn weighted_bce(
    logits: &Tensor,
    targets: &Tensor,
    weights: Option<&Tensor>,
    pos_weight: f64,
) -> Result<Tensor> {
    if !(pos_weight.is_finite() && pos_weight >= 0.0) {
        return Err(Error::InvalidConfig {
            field: "pos_weight",
            reason: format!("must be finite and >= 0, got {pos_weight}"),
        });
    }
    let (y, w) = prepare("weighted_bce", logits, targets, weights, "weights")?;
    Ok(w * cross_entropy(logits, &y, pos_weight))
}

/// Focal loss (Lin et al., 2017) from logits, per element.
///
/// ```text
/// ℓ_i = w_i · α_t · (1 − p_t)^γ · bce_i
/// p_t = σ(s_i)·y_i + σ(−s_i)·(1 − y_i)         (probability of the true class)
/// α_t = α·y_i + (1 − α)·(1 − y_i)              (α_t = 1 when alpha is None)
/// ```
///
/// bce_i is the unweighted [`bce`] term, γ = `gamma` ≥ 0 down-weights easy elements
/// (γ = 0 with `alpha = None` is exactly [`bce`]); α = `alpha` ∈ [0, 1] weighs
/// positives against negatives (Lin et al. use α = 0.25, γ = 2). The factor
/// (1 − p_t)^γ is computed as exp(γ·log(1 − p_t)) with
/// log(1 − p_t) = logaddexp(log σ(s) + log(1 − y), log σ(−s) + log y), so it stays
/// finite with finite gradients even when σ saturates, and soft targets follow the
/// same formula as torchvision's `sigmoid_focal_loss`. No gradient flows into `targets`
/// (they are treated as constants; a target that requires grad gets none).
///
/// # Shapes
/// As [`bce`].
///
/// # Errors
/// As [`bce`], plus [`Error::InvalidConfig`] when `gamma` is negative or not finite,
/// or `alpha` is outside [0, 1].
///
/// Reference: Lin, Goyal, Girshick, He, Dollár, "Focal Loss for Dense Object
/// Detection", ICCV 2017, eq. (5) (the α-balanced form).
pub fn focal(
    logits: &Tensor,
    targets: &Tensor,
    weights: Option<&Tensor>,
    gamma: f64,
    alpha: Option<f64>,
) -> Result<Tensor> {
    if !(gamma.is_finite() && gamma >= 0.0) {
        return Err(Error::InvalidConfig {
            field: "gamma",
            reason: format!("must be finite and >= 0, got {gamma}"),
        });
    }
    if let Some(a) = alpha {
        if !(0.0..=1.0).contains(&a) {
            return Err(Error::InvalidConfig {
                field: "alpha",
                reason: format!("must lie in [0, 1], got {a}"),
            });
        }
    }
    let (y, w) = prepare("focal", logits, targets, weights, "weights")?;
    // Targets are constants here: d log(1 − p_t)/dy is ±inf at y ∈ {0, 1} inside the
    // logaddexp, and autograd would turn it into a NaN target gradient.
    let y = y.detach();
    let ce = cross_entropy(logits, &y, 1.0);
    let log_one_minus_pt =
        (logits.log_sigmoid() + (-&y + 1.0).log()).logaddexp(&((-logits).log_sigmoid() + y.log()));
    let modulation = (log_one_minus_pt * gamma).exp();
    let loss = w * modulation * ce;
    Ok(match alpha {
        Some(a) => loss * (&y * a + (-&y + 1.0) * (1.0 - a)),
        None => loss,
    })
}

/// Soft Dice loss from logits, averaged over images.
///
/// ```text
/// p = σ(s);   for each image n, over its pixels i with mask v_ni:
///   I_n = Σ_i v·p·y,   P_n = Σ_i v·p,   Y_n = Σ_i v·y
///   loss = (1/N) Σ_n [ 1 − (2·I_n + ε) / (P_n + Y_n + ε) ]
/// ```
///
/// y = `targets` (soft allowed), v = `valid` (`None` = all ones; 0 excludes a pixel
/// from every sum, values in (0, 1) weigh it), ε = `smooth` > 0 added to numerator and
/// denominator alike (symmetric smoothing), so an image with no target and no
/// prediction scores loss 0, and the loss lies in [0, 1].
///
/// # Shapes
/// `logits`: `[N, 1, H, W]` or `[N, P]` with N ≥ 1, `Float` or `Double`; `targets`,
/// `valid`: the same shape (cast to the logits' kind), same device. Output: `[]`.
///
/// # Errors
/// [`Error::Rank`] / [`Error::Shape`] (including a channel count other than 1 and an
/// empty batch), [`Error::Kind`] / [`Error::Unsupported`] (logits kind, as [`bce`]),
/// [`Error::Device`], [`Error::InvalidValue`]
/// (non-finite logits, targets or mask outside [0, 1]), [`Error::InvalidConfig`]
/// (`smooth` not finite and > 0).
///
/// Reference: Milletari, Navab, Ahmadi, "V-Net", 3DV 2016 (the Dice loss; we use the
/// linear, not squared, denominator).
pub fn soft_dice(
    logits: &Tensor,
    targets: &Tensor,
    valid: Option<&Tensor>,
    smooth: f64,
) -> Result<Tensor> {
    const OP: &str = "soft_dice";
    if !(smooth.is_finite() && smooth > 0.0) {
        return Err(Error::InvalidConfig {
            field: "smooth",
            reason: format!("must be finite and > 0, got {smooth}"),
        });
    }
    let shape = logits.size();
    let n = match shape[..] {
        [n, 1, _, _] | [n, _] => n,
        [_, _, _, _] => {
            let mut expected = shape.clone();
            expected[1] = 1;
            return Err(Error::Shape {
                op: OP,
                what: "logits",
                expected,
                got: shape,
            });
        }
        _ => {
            return Err(Error::Rank {
                op: OP,
                what: "logits",
                expected: "2 or 4",
                got: shape.len(),
            });
        }
    };
    if n == 0 {
        return Err(Error::Shape {
            op: OP,
            what: "logits",
            expected: vec![-1],
            got: shape,
        });
    }
    let (y, v) = prepare(OP, logits, targets, valid, "valid")?;
    if valid.is_some() {
        check::unit_interval(OP, "valid", &v)?;
    }
    let flat = |t: &Tensor| t.reshape([n, -1]); // [N, P]
    let (p, y, v) = (flat(&logits.sigmoid()), flat(&y), flat(&v));
    let sum = |t: Tensor| t.sum_dim_intlist([1i64].as_slice(), false, None); // [N]
    let inter = sum(&v * &p * &y);
    let denom = sum(&v * &p) + sum(&v * &y) + smooth;
    let dice = (inter * 2.0 + smooth) / denom; // [N]
    Ok((-&dice + 1.0).mean(None))
}

/// Shared checks: logits floating, finite, rank ≥ 1; targets (and weights) of the same
/// shape and device, cast to the logits' kind; targets in [0, 1], weights ≥ 0.
fn prepare(
    op: &'static str,
    logits: &Tensor,
    targets: &Tensor,
    weights: Option<&Tensor>,
    weights_name: &'static str,
) -> Result<(Tensor, Tensor)> {
    let kind = check::float_kind(op, "logits", logits)?;
    let device = logits.device();
    if logits.dim() == 0 {
        return Err(Error::Rank {
            op,
            what: "logits",
            expected: "at least 1",
            got: 0,
        });
    }
    let shape = logits.size();
    let cast = |what: &'static str, t: &Tensor| -> Result<Tensor> {
        if t.size() != shape {
            return Err(Error::Shape {
                op,
                what,
                expected: shape.clone(),
                got: t.size(),
            });
        }
        check::same_device(op, what, t, device)?;
        Ok(check::cast(t, kind))
    };
    let y = cast("targets", targets)?;
    let w = match weights {
        Some(w) => cast(weights_name, w)?,
        None => Tensor::ones(shape.as_slice(), (kind, device)),
    };
    check::finite(op, "logits", logits)?;
    check::unit_interval(op, "targets", &y)?;
    check::nonneg_weights(op, weights_name, &w)?;
    Ok((y, w))
}

/// −p·y·log σ(s) − (1 − y)·log σ(−s), elementwise.
fn cross_entropy(logits: &Tensor, y: &Tensor, pos_weight: f64) -> Tensor {
    let pos = y * logits.log_sigmoid() * (-pos_weight);
    let neg = (-y + 1.0) * (-logits).log_sigmoid();
    pos - neg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_is_symmetric_in_the_label() {
        // ℓ(s, y = 1) = ℓ(−s, y = 0).
        let s = Tensor::from_slice(&[-3.0f64, -0.5, 0.0, 2.0]);
        let one = s.ones_like();
        let a = cross_entropy(&s, &one, 1.0);
        let b = cross_entropy(&(-&s), &one.zeros_like(), 1.0);
        let diff = (a - b).abs().max().double_value(&[]);
        assert!(diff < 1e-15, "{diff}");
    }
}
