//! Input validation at the crate boundary (private).
use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

/// The logits' kind, which must be a floating kind.
pub(crate) fn float_kind(op: &'static str, what: &'static str, t: &Tensor) -> Result<Kind> {
    match t.kind() {
        k @ (Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16) => Ok(k),
        got => Err(Error::Kind {
            op,
            what,
            expected: Kind::Float,
            got,
        }),
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

fn any(t: &Tensor) -> bool {
    t.numel() > 0 && t.any().int64_value(&[]) != 0
}

/// Logits must be finite: NaN and ±inf are rejected.
pub(crate) fn finite_logits(op: &'static str, logits: &Tensor) -> Result<()> {
    let l = logits.detach();
    if any(&l.isnan()) {
        return Err(Error::InvalidValue {
            op,
            what: "logits",
            reason: "NaN logits".into(),
        });
    }
    if any(&l.isinf()) {
        return Err(Error::InvalidValue {
            op,
            what: "logits",
            reason: "infinite logits (±inf is not supported; clamp them)".into(),
        });
    }
    Ok(())
}

/// Labels must lie in `[0, 1]` (NaN is outside).
pub(crate) fn unit_labels(op: &'static str, labels: &Tensor) -> Result<()> {
    let l = labels.detach();
    let bad = l.lt(0.0).logical_or(&l.gt(1.0)).logical_or(&l.isnan());
    if any(&bad) {
        let v = l.masked_select(&bad).get(0).double_value(&[]);
        return Err(Error::InvalidValue {
            op,
            what: "labels",
            reason: format!("label {v} is outside [0, 1]"),
        });
    }
    Ok(())
}

/// Weights must be finite and ≥ 0.
pub(crate) fn nonneg_weights(op: &'static str, what: &'static str, w: &Tensor) -> Result<()> {
    let w = w.detach();
    let bad = w.lt(0.0).logical_or(&w.isfinite().logical_not());
    if any(&bad) {
        let v = w.masked_select(&bad).get(0).double_value(&[]);
        return Err(Error::InvalidValue {
            op,
            what,
            reason: format!("weight {v} is negative or not finite"),
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
        match unit_labels("op", &l) {
            Err(Error::InvalidValue { reason, .. }) => assert!(reason.contains("1.5"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let w = Tensor::from_slice(&[1.0f64, -2.0]);
        match nonneg_weights("op", "weights", &w) {
            Err(Error::InvalidValue { reason, .. }) => assert!(reason.contains("-2"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(finite_logits("op", &Tensor::from_slice(&[1e30f64, -1e30])).is_ok());
        assert!(unit_labels("op", &Tensor::zeros([0], (Kind::Double, Device::Cpu))).is_ok());
    }
}
