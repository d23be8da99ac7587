//! Operating points: the best value of one rate subject to a floor or ceiling on another.
//!
//! All four searches run over the candidate thresholds (the distinct scores) of a
//! [`Ranking`], in `O(K)` for `K` groups. The "predict nothing" classifier (a
//! threshold above every score) is not a candidate, so a threshold returned is always
//! a score that occurs in the data.

use serde::{Deserialize, Serialize};

use crate::{Error, Ranking, Result, Undefined};

/// The result of an operating-point search.
///
/// When `feasible` is false no candidate threshold meets the constraint: `threshold`
/// is `None` (never a sentinel value) and `value` is what the definition gives on
/// the empty set (see each method). When a class is missing, `value` is NaN,
/// `undefined` says why, `threshold` is `None` and `feasible` is false.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// The required floor or ceiling.
    pub target: f64,
    /// The optimized quantity at the chosen threshold.
    pub value: f64,
    /// The constrained quantity at the chosen threshold (e.g. the recall reached by
    /// precision@recall); `None` when no threshold was chosen.
    pub achieved: Option<f64>,
    /// The chosen threshold, in the ranking's score scale.
    pub threshold: Option<f64>,
    /// Whether some candidate threshold satisfies the constraint.
    pub feasible: bool,
    /// Why the point is undefined (a class is missing), if it is.
    pub undefined: Option<Undefined>,
}

impl OperatingPoint {
    fn undefined(target: f64, reason: Undefined) -> Self {
        OperatingPoint {
            target,
            value: f64::NAN,
            achieved: None,
            threshold: None,
            feasible: false,
            undefined: Some(reason),
        }
    }

    fn infeasible(target: f64, value: f64) -> Self {
        OperatingPoint {
            target,
            value,
            achieved: None,
            threshold: None,
            feasible: false,
            undefined: None,
        }
    }
}

fn check_target(what: &'static str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidTarget { what, value })
    }
}

/// Best candidate so far: (group index, objective, constrained quantity).
type Best = Option<(usize, f64, f64)>;

impl Ranking {
    fn point(&self, target: f64, best: Best, empty_value: f64) -> OperatingPoint {
        match best {
            Some((k, value, achieved)) => OperatingPoint {
                target,
                value,
                achieved: Some(achieved),
                threshold: Some(self.thresholds()[k]),
                feasible: true,
                undefined: None,
            },
            None => OperatingPoint::infeasible(target, empty_value),
        }
    }

    fn rates(&self, k: usize) -> (f64, f64, f64, f64) {
        let (tp, fp) = (self.true_positives()[k], self.false_positives()[k]);
        let precision = tp / (tp + fp);
        let recall = tp / self.positives();
        let fpr = fp / self.negatives();
        (precision, recall, fpr, recall)
    }

    /// The best precision subject to recall ≥ `target`.
    ///
    /// ```text
    /// P@R(r) = max { precision(t) : t ∈ T, recall(t) ≥ r }
    /// ```
    ///
    /// over the candidate thresholds `T`. Ties in precision go to the larger recall
    /// (the lower threshold); with that rule the chosen threshold is unique, because
    /// two groups never share both counts. This is the rule `seg` uses to pick a
    /// threshold on validation data. The lowest candidate has recall 1, so every
    /// `r ∈ [0, 1]` is feasible; if it were not, the value would be 0 (max over the
    /// empty set of a non-negative quantity).
    ///
    /// Undefined when a class is missing. Comparisons use the rates as computed
    /// (`TP/P ≥ r`), so a target typed as a decimal matches the rate it denotes.
    ///
    /// # Errors
    /// [`Error::InvalidTarget`] unless `0 ≤ target ≤ 1`.
    pub fn precision_at_recall(&self, target: f64) -> Result<OperatingPoint> {
        check_target("recall", target)?;
        if let Some(reason) = self.missing_class() {
            return Ok(OperatingPoint::undefined(target, reason));
        }
        let mut best: Best = None;
        for k in 0..self.thresholds().len() {
            let (precision, recall, _, _) = self.rates(k);
            if recall >= target && best.is_none_or(|(_, p, _)| precision >= p) {
                best = Some((k, precision, recall));
            }
        }
        Ok(self.point(target, best, 0.0))
    }

    /// The best recall subject to precision ≥ `target`.
    ///
    /// ```text
    /// R@P(p) = max { recall(t) : t ∈ T, precision(t) ≥ p }
    /// ```
    ///
    /// Ties in recall go to the higher precision (the higher threshold). Infeasible
    /// when no candidate reaches precision `p` (e.g. `p = 1` with a negative at the
    /// top score); the value is then 0, the recall of predicting nothing.
    ///
    /// Undefined when a class is missing.
    ///
    /// # Errors
    /// [`Error::InvalidTarget`] unless `0 ≤ target ≤ 1`.
    pub fn recall_at_precision(&self, target: f64) -> Result<OperatingPoint> {
        check_target("precision", target)?;
        if let Some(reason) = self.missing_class() {
            return Ok(OperatingPoint::undefined(target, reason));
        }
        let mut best: Best = None;
        for k in 0..self.thresholds().len() {
            let (precision, recall, _, _) = self.rates(k);
            if precision >= target && best.is_none_or(|(_, r, _)| recall > r) {
                best = Some((k, recall, precision));
            }
        }
        Ok(self.point(target, best, 0.0))
    }

    /// The best true-positive rate subject to false-positive rate ≤ `target`.
    ///
    /// ```text
    /// TPR@FPR(f) = max { TPR(t) : t ∈ T, FPR(t) ≤ f }
    /// ```
    ///
    /// Ties in TPR go to the lower FPR (the higher threshold). Infeasible when even
    /// the top score's group exceeds `f` (e.g. `f = 0` with a negative at the top);
    /// the value is then 0, the TPR of predicting nothing.
    ///
    /// Undefined when a class is missing.
    ///
    /// # Errors
    /// [`Error::InvalidTarget`] unless `0 ≤ target ≤ 1`.
    pub fn tpr_at_fpr(&self, target: f64) -> Result<OperatingPoint> {
        check_target("fpr", target)?;
        if let Some(reason) = self.missing_class() {
            return Ok(OperatingPoint::undefined(target, reason));
        }
        let mut best: Best = None;
        for k in 0..self.thresholds().len() {
            let (_, _, fpr, tpr) = self.rates(k);
            if fpr <= target && best.is_none_or(|(_, t, _)| tpr > t) {
                best = Some((k, tpr, fpr));
            }
        }
        Ok(self.point(target, best, 0.0))
    }

    /// The lowest false-positive rate subject to true-positive rate ≥ `target`.
    ///
    /// ```text
    /// FPR@TPR(r) = min { FPR(t) : t ∈ T, TPR(t) ≥ r }
    /// ```
    ///
    /// Ties in FPR go to the higher TPR (the lower threshold). The lowest candidate
    /// has TPR 1, so every `r ∈ [0, 1]` is feasible; if it were not, the value would
    /// be 1 (min over the empty set, the FPR of predicting everything).
    ///
    /// Undefined when a class is missing.
    ///
    /// # Errors
    /// [`Error::InvalidTarget`] unless `0 ≤ target ≤ 1`.
    pub fn fpr_at_tpr(&self, target: f64) -> Result<OperatingPoint> {
        check_target("tpr", target)?;
        if let Some(reason) = self.missing_class() {
            return Ok(OperatingPoint::undefined(target, reason));
        }
        let mut best: Best = None;
        for k in 0..self.thresholds().len() {
            let (_, _, fpr, tpr) = self.rates(k);
            if tpr >= target && best.is_none_or(|(_, f, _)| fpr <= f) {
                best = Some((k, fpr, tpr));
            }
        }
        Ok(self.point(target, best, 1.0))
    }
}
