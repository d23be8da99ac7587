//! Input validation at the crate boundary (private).
use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

/// The logits' kind, which must be `Float` or `Double`: the crate's one kind rule.
///
/// Other floating kinds (`Half`, `BFloat16`) give [`Error::Unsupported`]; anything
/// that is not floating gives [`Error::Kind`]. Labels and weights are then cast to this
/// kind with [`cast`].
pub(crate) fn float_kind(op: &'static str, what: &'static str, t: &Tensor) -> Result<Kind> {
    match t.kind() {
        k @ (Kind::Float | Kind::Double) => Ok(k),
        k @ (Kind::Half | Kind::BFloat16) => Err(Error::Unsupported {
            what: format!("{op}: {what} of kind {k:?} (expected Float or Double; cast first)"),
        }),
        got => Err(Error::Kind {
            op,
            what,
            expected: Kind::Float,
            got,
        }),
    }
}

/// `t` in `kind` (no copy when it already has it). Labels and weights of any kind are
/// cast to the logits' kind, as upstream's `convert_and_cast`; values are checked after
/// the cast.
pub(crate) fn cast(t: &Tensor, kind: Kind) -> Tensor {
    if t.kind() == kind {
        t.shallow_clone()
    } else {
        t.to_kind(kind)
    }
}

pub(crate) fn same_kind(op: &'static str, what: &'static str, t: &Tensor, k: Kind) -> Result<()> {
    if t.kind() == k {
        Ok(())
    } else {
        Err(Error::Kind {
            op,
            what,
            expected: k,
            got: t.kind(),
        })
    }
}

pub(crate) fn same_device(
    op: &'static str,
    what: &'static str,
    t: &Tensor,
    d: Device,
) -> Result<()> {
    if t.device() == d {
        Ok(())
    } else {
        Err(Error::Device {
            op,
            what,
            expected: d,
            got: t.device(),
        })
    }
}

pub(crate) fn rank_in(
    op: &'static str,
    what: &'static str,
    t: &Tensor,
    ranks: &[usize],
    expected: &'static str,
) -> Result<()> {
    let r = t.dim();
    if ranks.contains(&r) {
        Ok(())
    } else {
        Err(Error::Rank {
            op,
            what,
            expected,
            got: r,
        })
    }
}

pub(crate) fn shape_eq(
    op: &'static str,
    what: &'static str,
    t: &Tensor,
    expected: &[i64],
) -> Result<()> {
    let got = t.size();
    if got == expected {
        Ok(())
    } else {
        Err(Error::Shape {
            op,
            what,
            expected: expected.to_vec(),
            got,
        })
    }
}

/// Exact shape, kind and device.
pub(crate) fn like(
    op: &'static str,
    what: &'static str,
    t: &Tensor,
    shape: &[i64],
    kind: Kind,
    device: Device,
) -> Result<()> {
    shape_eq(op, what, t, shape)?;
    same_kind(op, what, t, kind)?;
    same_device(op, what, t, device)
}

fn count(mask: Tensor) -> i64 {
    if mask.numel() == 0 {
        0
    } else {
        mask.sum(Kind::Int64).int64_value(&[])
    }
}

/// No NaN and no ±inf (logits, biases, coefficients).
pub(crate) fn finite(op: &'static str, what: &'static str, t: &Tensor) -> Result<()> {
    let (nan, inf) = tch::no_grad(|| (count(t.isnan()), count(t.isinf())));
    if nan > 0 {
        return Err(Error::InvalidValue {
            op,
            what,
            reason: format!("{nan} NaN values"),
        });
    }
    if inf > 0 {
        return Err(Error::InvalidValue {
            op,
            what,
            reason: format!("{inf} infinite values (±inf is not supported; clamp them)"),
        });
    }
    Ok(())
}

/// Every value in `[0, 1]` (NaN is outside); names the first offender.
pub(crate) fn unit_interval(op: &'static str, what: &'static str, t: &Tensor) -> Result<()> {
    let l = t.detach();
    let bad = l.lt(0.0).logical_or(&l.gt(1.0)).logical_or(&l.isnan());
    if count(bad.shallow_clone()) > 0 {
        let v = l.masked_select(&bad).get(0).double_value(&[]);
        return Err(Error::InvalidValue {
            op,
            what,
            reason: format!("value {v} is outside [0, 1]"),
        });
    }
    Ok(())
}

/// Weights must be finite and ≥ 0; names the first offender.
pub(crate) fn nonneg_weights(op: &'static str, what: &'static str, w: &Tensor) -> Result<()> {
    let w = w.detach();
    let bad = w.lt(0.0).logical_or(&w.isfinite().logical_not());
    if count(bad.shallow_clone()) > 0 {
        let v = w.masked_select(&bad).get(0).double_value(&[]);
        return Err(Error::InvalidValue {
            op,
            what,
            reason: format!("value {v} is negative or not finite"),
        });
    }
    Ok(())
}

/// A result that overflowed the logits' kind (finite inputs whose loss is not
/// representable, e.g. |logits| near the kind's maximum, huge weights or multipliers)
/// becomes a typed error instead of a silent inf / NaN.
pub(crate) fn finite_output(op: &'static str, what: &'static str, t: &Tensor) -> Result<()> {
    let bad = tch::no_grad(|| count(t.isfinite().logical_not()));
    if bad > 0 {
        return Err(Error::InvalidValue {
            op,
            what,
            reason: format!(
                "{bad} non-finite values: the result overflows {:?} (inputs too large)",
                t.kind()
            ),
        });
    }
    Ok(())
}

/// Whether `small` broadcasts to `big` (numpy rules, `small` no longer than `big`).
pub(crate) fn broadcasts_to(small: &[i64], big: &[i64]) -> bool {
    small.len() <= big.len()
        && small
            .iter()
            .rev()
            .zip(big.iter().rev())
            .all(|(&a, &b)| a == b || a == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_rules() {
        assert!(broadcasts_to(&[], &[3, 4]));
        assert!(broadcasts_to(&[4], &[3, 4]));
        assert!(broadcasts_to(&[1, 4], &[3, 4]));
        assert!(broadcasts_to(&[3, 1], &[3, 4]));
        assert!(!broadcasts_to(&[3], &[3, 4]));
        assert!(!broadcasts_to(&[2, 3, 4], &[3, 4]));
    }

    #[test]
    fn value_checks_name_the_offender() {
        let l = Tensor::from_slice(&[0.0f64, 1.0, 1.5]);
        match unit_interval("op", "labels", &l) {
            Err(Error::InvalidValue { reason, .. }) => assert!(reason.contains("1.5"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let w = Tensor::from_slice(&[1.0f64, -2.0]);
        match nonneg_weights("op", "weights", &w) {
            Err(Error::InvalidValue { reason, .. }) => assert!(reason.contains("-2"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(finite("op", "logits", &Tensor::from_slice(&[1e30f64, -1e30])).is_ok());
        let empty = Tensor::zeros([0], (Kind::Double, Device::Cpu));
        assert!(unit_interval("op", "labels", &empty).is_ok());
        assert!(finite("op", "logits", &empty).is_ok());
        assert!(nonneg_weights("op", "weights", &empty).is_ok());
    }
}
