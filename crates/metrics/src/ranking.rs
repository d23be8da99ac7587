//! The sorted, tie-grouped view of a score set, from which every curve metric is read.

use serde::{Deserialize, Serialize};

use crate::input::push_entries;
use crate::input::{check_label, check_len, check_score};
use crate::sort::{Entry, key_score, radix_sort, score_key};
use crate::{ConfusionCounts, Error, Metric, Result, ScoreScale, Undefined, Value};

/// Scores grouped by distinct value, in descending order, with cumulative class weights.
///
/// Built by one sort and one pass of cumulative sums. Group `k` holds the `k`-th
/// largest distinct score `s_k`, and
///
/// ```text
/// TP_k = Σ_i w_i · [y_i = 1] · [x_i ≥ s_k]      FP_k = Σ_i w_i · [y_i = 0] · [x_i ≥ s_k]
/// P    = Σ_i w_i · [y_i = 1]                    N    = Σ_i w_i · [y_i = 0]
/// ```
///
/// that is, the confusion counts of the rule *predicted positive ⇔ score ≥ t* at
/// each candidate threshold `t = s_k`. Elements of weight 0 are dropped before
/// grouping, so they add no group (no curve point). Tied scores fall in one group,
/// so nothing depends on input order. With unit or integer weights every count is
/// an exact integer (up to 2⁵³); with fractional weights, sums inside a tie group
/// follow input order and may differ by rounding between permutations.
///
/// See `docs/metrics.md` for the definitions and the edge-case policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    scale: ScoreScale,
    thresholds: Vec<f64>,
    tp: Vec<f64>,
    fp: Vec<f64>,
    positives: f64,
    negatives: f64,
    elements: usize,
}

impl Ranking {
    /// Ranks unweighted scores.
    ///
    /// # Shapes
    /// `scores`, `labels`: `[N]`; labels are 0 or 1.
    ///
    /// # Errors
    /// [`Error::Empty`] when `N = 0`; [`Error::LengthMismatch`];
    /// [`Error::NanScore`]; [`Error::ScoreOutOfRange`] for probabilities outside
    /// `[0, 1]`; [`Error::InvalidLabel`].
    ///
    /// # Examples
    /// ```
    /// use metrics::{Ranking, ScoreScale};
    /// let r = Ranking::new(&[0.9, 0.8, 0.3, 0.1], &[1u8, 0, 1, 0], ScoreScale::Probabilities)?;
    /// assert_eq!(r.roc_auc().value, 0.75);
    /// # Ok::<(), metrics::Error>(())
    /// ```
    pub fn new<S: Value, L: Value>(scores: &[S], labels: &[L], scale: ScoreScale) -> Result<Self> {
        check_len("labels", scores.len(), labels.len())?;
        if scores.is_empty() {
            return Err(Error::Empty { what: "no scores" });
        }
        // Unweighted: one array of bare score keys per class. Sorting 8-byte keys with
        // no payload is the cheapest sort; a merge of the two then groups ties.
        let n = scores.len();
        let (mut pos, mut neg) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (i, (&s, &l)) in scores.iter().zip(labels).enumerate() {
            let s = s.to_f64();
            check_score(s, scale, i)?;
            if check_label(l.to_f64(), i)? {
                pos.push(score_key(s));
            } else {
                neg.push(score_key(s));
            }
        }
        drop(radix_sort(&mut pos));
        drop(radix_sort(&mut neg));
        // Capacity `n` is only reserved: pages past the groups are never touched.
        let mut keys: Vec<u64> = Vec::with_capacity(n);
        let mut tp = Vec::with_capacity(n);
        let mut fp = Vec::with_capacity(n);
        let (mut i, mut j) = (pos.len(), neg.len());
        while i > 0 || j > 0 {
            let key = match (i, j) {
                (0, _) => neg[j - 1],
                (_, 0) => pos[i - 1],
                _ => pos[i - 1].max(neg[j - 1]),
            };
            while i > 0 && pos[i - 1] == key {
                i -= 1;
            }
            while j > 0 && neg[j - 1] == key {
                j -= 1;
            }
            keys.push(key);
            tp.push((pos.len() - i) as f64);
            fp.push((neg.len() - j) as f64);
        }
        let (positives, negatives) = (pos.len() as f64, neg.len() as f64);
        drop((pos, neg));
        // u64 → f64 of the same size: the collect reuses the allocation.
        let mut thresholds: Vec<f64> = keys.into_iter().map(key_score).collect();
        thresholds.shrink_to_fit();
        tp.shrink_to_fit();
        fp.shrink_to_fit();
        Ok(Ranking {
            scale,
            thresholds,
            tp,
            fp,
            positives,
            negatives,
            elements: n,
        })
    }

    /// Ranks weighted scores; weight 0 means the element is absent.
    ///
    /// # Shapes
    /// `scores`, `labels`, `weights`: `[N]`.
    ///
    /// # Errors
    /// As [`Ranking::new`], plus [`Error::InvalidWeight`] for a negative, NaN or
    /// infinite weight and [`Error::Empty`] when every weight is 0.
    pub fn weighted<S: Value, L: Value, W: Value>(
        scores: &[S],
        labels: &[L],
        weights: &[W],
        scale: ScoreScale,
    ) -> Result<Self> {
        let mut entries = Vec::new();
        push_entries(&mut entries, scores, labels, Some(weights), scale, 0)?;
        Self::from_entries(entries, scale)
    }

    /// Sorts validated entries and groups ties.
    pub(crate) fn from_entries(mut entries: Vec<Entry>, scale: ScoreScale) -> Result<Self> {
        if entries.is_empty() {
            return Err(Error::Empty {
                what: "no element with positive weight",
            });
        }
        let _ = radix_sort(&mut entries);
        let elements = entries.len();
        let distinct = 1 + entries.windows(2).filter(|w| w[0].key != w[1].key).count();
        let mut groups = GroupBuilder::with_capacity(scale, distinct);
        let mut k = entries.len();
        while k > 0 {
            let key = entries[k - 1].key;
            let (mut pos, mut neg) = (0.0, 0.0);
            while k > 0 && entries[k - 1].key == key {
                let w = entries[k - 1].weight;
                if w > 0.0 {
                    pos += w
                } else {
                    neg -= w
                }
                k -= 1;
            }
            groups.push(key_score(key), pos, neg);
        }
        Ok(groups.finish(elements))
    }

    /// The score scale the thresholds are expressed in.
    pub fn scale(&self) -> ScoreScale {
        self.scale
    }

    /// The candidate thresholds: the distinct scores of positive weight, descending.
    pub fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }

    /// Cumulative positive weight `TP_k` at each threshold.
    pub fn true_positives(&self) -> &[f64] {
        &self.tp
    }

    /// Cumulative negative weight `FP_k` at each threshold.
    pub fn false_positives(&self) -> &[f64] {
        &self.fp
    }

    /// Total positive weight `P` (the number of positives when unweighted).
    pub fn positives(&self) -> f64 {
        self.positives
    }

    /// Total negative weight `N`.
    pub fn negatives(&self) -> f64 {
        self.negatives
    }

    /// Number of elements with positive weight.
    pub fn elements(&self) -> usize {
        self.elements
    }

    /// `Some(reason)` when positives (first) or negatives carry no weight.
    pub fn missing_class(&self) -> Option<Undefined> {
        if self.positives == 0.0 {
            Some(Undefined::NoPositives)
        } else if self.negatives == 0.0 {
            Some(Undefined::NoNegatives)
        } else {
            None
        }
    }

    /// Confusion counts at threshold `t` (predicted positive ⇔ score ≥ t).
    ///
    /// Exact at any `t`, not only at candidate thresholds: a binary search over the
    /// groups. A NaN `t` compares false with every score, so it predicts nothing
    /// positive, like `+∞`; [`ConfusionCounts::at_threshold`] rejects it instead.
    pub fn confusion_at(&self, threshold: f64) -> ConfusionCounts {
        let j = self.thresholds.partition_point(|&s| s >= threshold);
        let (tp, fp) = if j == 0 {
            (0.0, 0.0)
        } else {
            (self.tp[j - 1], self.fp[j - 1])
        };
        ConfusionCounts {
            true_positives: tp,
            false_positives: fp,
            true_negatives: self.negatives - fp,
            false_negatives: self.positives - tp,
        }
    }

    /// Area under the ROC curve, ties counted as ½.
    ///
    /// ```text
    /// AUC = Σ_k (FP_k − FP_{k−1}) · (TP_k + TP_{k−1}) / 2  /  (P · N),   TP_0 = FP_0 = 0
    /// ```
    ///
    /// the trapezoid rule on the tie-grouped curve from (0, 0) to (1, 1); equal to
    /// the probability that a random positive outscores a random negative, ties
    /// counting ½ (Mann–Whitney U / (P·N)). Matches scikit-learn's `roc_auc_score`.
    ///
    /// Undefined ([`Undefined::NoPositives`] / [`Undefined::NoNegatives`]) when a
    /// class is missing.
    pub fn roc_auc(&self) -> Metric {
        if let Some(reason) = self.missing_class() {
            return Metric::undefined(reason);
        }
        let (mut area, mut tp_prev, mut fp_prev) = (0.0, 0.0, 0.0);
        for (&tp, &fp) in self.tp.iter().zip(&self.fp) {
            area += (fp - fp_prev) * (tp + tp_prev);
            tp_prev = tp;
            fp_prev = fp;
        }
        Metric::defined(area / 2.0 / (self.positives * self.negatives))
    }

    /// Average precision, step-wise with no interpolation (scikit-learn's definition).
    ///
    /// ```text
    /// AP = Σ_k (R_k − R_{k−1}) · P_k,   R_k = TP_k / P,   P_k = TP_k / (TP_k + FP_k),   R_0 = 0
    /// ```
    ///
    /// With no negatives every `P_k` is 1, so AP = 1. Undefined
    /// ([`Undefined::NoPositives`]) when there are no positives.
    pub fn average_precision(&self) -> Metric {
        if self.positives == 0.0 {
            return Metric::undefined(Undefined::NoPositives);
        }
        let (mut sum, mut tp_prev) = (0.0, 0.0);
        for (&tp, &fp) in self.tp.iter().zip(&self.fp) {
            if tp > tp_prev {
                sum += (tp - tp_prev) * (tp / (tp + fp));
            }
            tp_prev = tp;
        }
        Metric::defined(sum / self.positives)
    }

    /// The ROC curve: one point per candidate threshold, descending.
    ///
    /// ```text
    /// FPR_k = FP_k / N,   TPR_k = TP_k / P
    /// ```
    ///
    /// The implicit start (0, 0) ("predict nothing") is not a point; scikit-learn's
    /// `roc_curve(drop_intermediate=False)` equals this with that point prepended.
    ///
    /// # Errors
    /// [`Error::UndefinedCurve`] when a class is missing.
    pub fn roc_curve(&self) -> Result<RocCurve> {
        if let Some(reason) = self.missing_class() {
            return Err(Error::UndefinedCurve { reason });
        }
        Ok(RocCurve {
            thresholds: self.thresholds.clone(),
            fpr: self.fp.iter().map(|&fp| fp / self.negatives).collect(),
            tpr: self.tp.iter().map(|&tp| tp / self.positives).collect(),
        })
    }

    /// The precision–recall curve: one point per candidate threshold, descending.
    ///
    /// ```text
    /// precision_k = TP_k / (TP_k + FP_k),   recall_k = TP_k / P
    /// ```
    ///
    /// Every group carries positive weight, so precision is always defined here.
    /// scikit-learn's `precision_recall_curve` lists the same points in ascending
    /// threshold order with (precision 1, recall 0) appended.
    ///
    /// # Errors
    /// [`Error::UndefinedCurve`] when there are no positives.
    pub fn pr_curve(&self) -> Result<PrCurve> {
        if self.positives == 0.0 {
            return Err(Error::UndefinedCurve {
                reason: Undefined::NoPositives,
            });
        }
        Ok(PrCurve {
            thresholds: self.thresholds.clone(),
            precision: self
                .tp
                .iter()
                .zip(&self.fp)
                .map(|(&tp, &fp)| tp / (tp + fp))
                .collect(),
            recall: self.tp.iter().map(|&tp| tp / self.positives).collect(),
        })
    }
}

/// Builds a [`Ranking`] from tie groups given in descending score order.
pub(crate) struct GroupBuilder {
    ranking: Ranking,
}

impl GroupBuilder {
    pub(crate) fn with_capacity(scale: ScoreScale, groups: usize) -> Self {
        GroupBuilder {
            ranking: Ranking {
                scale,
                thresholds: Vec::with_capacity(groups),
                tp: Vec::with_capacity(groups),
                fp: Vec::with_capacity(groups),
                positives: 0.0,
                negatives: 0.0,
                elements: 0,
            },
        }
    }

    /// Appends the group of score `score` (smaller than all before) with its
    /// positive and negative weight, at least one of them non-zero.
    pub(crate) fn push(&mut self, score: f64, pos: f64, neg: f64) {
        let r = &mut self.ranking;
        r.positives += pos;
        r.negatives += neg;
        r.thresholds.push(score);
        r.tp.push(r.positives);
        r.fp.push(r.negatives);
    }

    pub(crate) fn finish(mut self, elements: usize) -> Ranking {
        self.ranking.elements = elements;
        self.ranking
    }
}

/// Points of the ROC curve, by descending threshold (see [`Ranking::roc_curve`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// Candidate thresholds, descending.
    pub thresholds: Vec<f64>,
    /// False-positive rate at each threshold.
    pub fpr: Vec<f64>,
    /// True-positive rate (recall) at each threshold.
    pub tpr: Vec<f64>,
}

/// Points of the precision–recall curve, by descending threshold (see
/// [`Ranking::pr_curve`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrCurve {
    /// Candidate thresholds, descending.
    pub thresholds: Vec<f64>,
    /// Precision at each threshold.
    pub precision: Vec<f64>,
    /// Recall at each threshold.
    pub recall: Vec<f64>,
}
