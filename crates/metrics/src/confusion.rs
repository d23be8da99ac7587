//! Confusion counts at one threshold and the metrics read from them.

use serde::{Deserialize, Serialize};

use crate::input::{check_label, check_len, check_score, check_weight};
use crate::{Error, Metric, Result, ScoreScale, Undefined, Value};

/// Weighted confusion counts at one threshold (predicted positive ⇔ score ≥ t).
///
/// ```text
/// TP = Σ w·[y=1]·[x≥t]   FP = Σ w·[y=0]·[x≥t]   TN = Σ w·[y=0]·[x<t]   FN = Σ w·[y=1]·[x<t]
/// ```
///
/// Unweighted counts are exact integers held in `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ConfusionCounts {
    /// Positives predicted positive.
    pub true_positives: f64,
    /// Negatives predicted positive.
    pub false_positives: f64,
    /// Negatives predicted negative.
    pub true_negatives: f64,
    /// Positives predicted negative.
    pub false_negatives: f64,
}

impl ConfusionCounts {
    /// Counts at `threshold` in one pass, without sorting.
    ///
    /// # Shapes
    /// `scores`, `labels`: `[N]`; `weights`: `[N]` or `None` (all 1).
    ///
    /// # Errors
    /// [`Error::Empty`] when `N = 0`, [`Error::LengthMismatch`], [`Error::NanScore`],
    /// [`Error::ScoreOutOfRange`], [`Error::InvalidLabel`], [`Error::InvalidWeight`];
    /// [`Error::InvalidConfig`] for a NaN threshold.
    pub fn at_threshold<S: Value, L: Value, W: Value>(
        scores: &[S],
        labels: &[L],
        weights: Option<&[W]>,
        threshold: f64,
        scale: ScoreScale,
    ) -> Result<Self> {
        if scores.is_empty() {
            return Err(Error::Empty { what: "no scores" });
        }
        if threshold.is_nan() {
            return Err(Error::InvalidConfig {
                field: "threshold",
                reason: "is NaN".into(),
            });
        }
        check_len("labels", scores.len(), labels.len())?;
        if let Some(w) = weights {
            check_len("weights", scores.len(), w.len())?;
        }
        let mut c = ConfusionCounts::default();
        for (i, (&s, &l)) in scores.iter().zip(labels).enumerate() {
            let w = match weights {
                Some(w) => w[i].to_f64(),
                None => 1.0,
            };
            let s = s.to_f64();
            check_score(s, scale, i)?;
            let positive = check_label(l.to_f64(), i)?;
            check_weight(w, i)?;
            c.add(s >= threshold, positive, w);
        }
        Ok(c)
    }

    /// Adds one element of weight `w`.
    #[inline]
    pub fn add(&mut self, predicted: bool, positive: bool, w: f64) {
        match (predicted, positive) {
            (true, true) => self.true_positives += w,
            (true, false) => self.false_positives += w,
            (false, false) => self.true_negatives += w,
            (false, true) => self.false_negatives += w,
        }
    }

    /// Adds another set of counts (dataset-level aggregation).
    pub fn merge(&mut self, other: &ConfusionCounts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.true_negatives += other.true_negatives;
        self.false_negatives += other.false_negatives;
    }

    /// Total positive weight `TP + FN`.
    pub fn positives(&self) -> f64 {
        self.true_positives + self.false_negatives
    }

    /// Total weight predicted positive `TP + FP`.
    pub fn predicted_positives(&self) -> f64 {
        self.true_positives + self.false_positives
    }

    /// Precision `TP / (TP + FP)`; undefined
    /// ([`Undefined::NothingPredictedPositive`]) when nothing is predicted positive.
    pub fn precision(&self) -> Metric {
        let d = self.predicted_positives();
        if d == 0.0 {
            Metric::undefined(Undefined::NothingPredictedPositive)
        } else {
            Metric::defined(self.true_positives / d)
        }
    }

    /// Recall (TPR) `TP / (TP + FN)`; undefined ([`Undefined::NoPositives`]) without
    /// positives.
    pub fn recall(&self) -> Metric {
        let d = self.positives();
        if d == 0.0 {
            Metric::undefined(Undefined::NoPositives)
        } else {
            Metric::defined(self.true_positives / d)
        }
    }

    /// False-positive rate `FP / (FP + TN)`; undefined ([`Undefined::NoNegatives`])
    /// without negatives.
    pub fn fpr(&self) -> Metric {
        let d = self.false_positives + self.true_negatives;
        if d == 0.0 {
            Metric::undefined(Undefined::NoNegatives)
        } else {
            Metric::defined(self.false_positives / d)
        }
    }

    /// Intersection over union (Jaccard index) of prediction and ground truth.
    ///
    /// ```text
    /// IoU = TP / (TP + FP + FN)
    /// ```
    ///
    /// Empty ground truth with a non-empty prediction gives 0 (`TP = 0`). When both
    /// are empty (`TP + FP + FN = 0`) the prediction agrees perfectly with the truth,
    /// and IoU is 1 (a documented choice; per-image means can instead exclude such
    /// images, see [`EmptyMaskPolicy`](crate::EmptyMaskPolicy)).
    pub fn iou(&self) -> f64 {
        let d = self.true_positives + self.false_positives + self.false_negatives;
        if d == 0.0 {
            1.0
        } else {
            self.true_positives / d
        }
    }

    /// Dice coefficient (F1) of prediction and ground truth.
    ///
    /// ```text
    /// Dice = 2·TP / (2·TP + FP + FN)
    /// ```
    ///
    /// Same empty-mask choices as [`ConfusionCounts::iou`]: 0 for an empty truth
    /// with a non-empty prediction, 1 when both are empty.
    pub fn dice(&self) -> f64 {
        let d = 2.0 * self.true_positives + self.false_positives + self.false_negatives;
        if d == 0.0 {
            1.0
        } else {
            2.0 * self.true_positives / d
        }
    }

    /// F-beta score; `beta = 1` gives [`ConfusionCounts::dice`].
    ///
    /// ```text
    /// F_β = (1 + β²)·TP / ((1 + β²)·TP + β²·FN + FP)
    /// ```
    ///
    /// This form stays defined when precision is undefined but recall is not (and
    /// gives 0 there). When there are no positives and nothing is predicted positive
    /// it is 1, the same choice as Dice.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `beta` is finite and `> 0`.
    pub fn f_beta(&self, beta: f64) -> Result<f64> {
        if !(beta.is_finite() && beta > 0.0) {
            return Err(Error::InvalidConfig {
                field: "beta",
                reason: format!("must be finite and > 0, got {beta}"),
            });
        }
        let (tp, fp, fn_) = (
            self.true_positives,
            self.false_positives,
            self.false_negatives,
        );
        // For β > 1 the form divided by β² keeps β² from overflowing (β → ∞ gives the
        // recall); for β ≤ 1 the plain form, where β² → 0 gives the precision.
        let (num, d) = if beta > 1.0 {
            let inv = 1.0 / (beta * beta);
            let num = (1.0 + inv) * tp;
            (num, num + fn_ + inv * fp)
        } else {
            let b2 = beta * beta;
            let num = (1.0 + b2) * tp;
            (num, num + b2 * fn_ + fp)
        };
        Ok(if d == 0.0 { 1.0 } else { num / d })
    }
}
