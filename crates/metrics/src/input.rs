//! Validation of (scores, labels, weights) into sortable entries.

use crate::sort::{Entry, score_key};
use crate::{Error, Result, ScoreScale, Value};

/// Checks one score against the declared scale; `index` is for the error message.
#[inline]
pub(crate) fn check_score(score: f64, scale: ScoreScale, index: usize) -> Result<()> {
    if score.is_nan() {
        return Err(Error::NanScore { index });
    }
    if scale == ScoreScale::Probabilities && !(0.0..=1.0).contains(&score) {
        return Err(Error::ScoreOutOfRange {
            index,
            value: score,
        });
    }
    Ok(())
}

/// Checks one label and returns whether it is positive.
#[inline]
pub(crate) fn check_label(label: f64, index: usize) -> Result<bool> {
    if label == 1.0 {
        Ok(true)
    } else if label == 0.0 {
        Ok(false)
    } else {
        Err(Error::InvalidLabel {
            index,
            value: label,
        })
    }
}

/// Checks one weight (finite, `>= 0`).
#[inline]
pub(crate) fn check_weight(weight: f64, index: usize) -> Result<()> {
    if weight.is_finite() && weight >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidWeight {
            index,
            value: weight,
        })
    }
}

/// Checks that `got` entries match the `expected` number of scores.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Validates one element and turns it into an entry; `None` for a zero weight.
#[inline]
pub(crate) fn entry(
    score: f64,
    label: f64,
    weight: f64,
    scale: ScoreScale,
    index: usize,
) -> Result<Option<Entry>> {
    check_score(score, scale, index)?;
    let positive = check_label(label, index)?;
    check_weight(weight, index)?;
    if weight == 0.0 {
        return Ok(None);
    }
    Ok(Some(Entry {
        key: score_key(score),
        weight: if positive { weight } else { -weight },
    }))
}

/// Validates all elements and appends their entries to `out`; element `i` is
/// reported as index `first_index + i` in errors.
pub(crate) fn push_entries<S: Value, L: Value, W: Value>(
    out: &mut Vec<Entry>,
    scores: &[S],
    labels: &[L],
    weights: Option<&[W]>,
    scale: ScoreScale,
    first_index: usize,
) -> Result<()> {
    check_len("labels", scores.len(), labels.len())?;
    if let Some(w) = weights {
        check_len("weights", scores.len(), w.len())?;
    }
    out.reserve(scores.len());
    match weights {
        None => {
            for (i, (&s, &l)) in scores.iter().zip(labels).enumerate() {
                if let Some(e) = entry(s.to_f64(), l.to_f64(), 1.0, scale, first_index + i)? {
                    out.push(e);
                }
            }
        }
        Some(w) => {
            for (i, ((&s, &l), &w)) in scores.iter().zip(labels).zip(w).enumerate() {
                let e = entry(s.to_f64(), l.to_f64(), w.to_f64(), scale, first_index + i)?;
                if let Some(e) = e {
                    out.push(e);
                }
            }
        }
    }
    Ok(())
}
