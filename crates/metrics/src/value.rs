//! Metric values that may be undefined, and the declared scale of scores.

use serde::{Deserialize, Serialize};

/// Why a metric has no value.
///
/// An undefined metric is reported as NaN together with one of these reasons, never
/// as 0: a 0 would read as "the model is as bad as it gets" when the truth is
/// "the data cannot say".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Undefined {
    /// No element with label 1 carries weight: recall, TPR, ROC-AUC, AP, P@R, R@P and
    /// FPR@TPR divide by zero positives.
    #[error("no positives")]
    NoPositives,
    /// No element with label 0 carries weight: FPR, ROC-AUC and TPR@FPR divide by
    /// zero negatives.
    #[error("no negatives")]
    NoNegatives,
    /// Nothing is predicted positive at the threshold, so precision is 0/0.
    #[error("nothing predicted positive")]
    NothingPredictedPositive,
    /// A mean over images was asked for, but every image was excluded by the
    /// empty-mask policy (or there were none).
    #[error("no image left to average")]
    NoImages,
}

/// A metric value, or NaN with the reason it is undefined.
///
/// `value` is NaN exactly when `undefined` is `Some`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The value; NaN when undefined.
    pub value: f64,
    /// Why the value is undefined, if it is.
    pub undefined: Option<Undefined>,
}

impl Metric {
    /// A defined value.
    pub fn defined(value: f64) -> Self {
        Metric {
            value,
            undefined: None,
        }
    }

    /// An undefined value: NaN with `reason`.
    pub fn undefined(reason: Undefined) -> Self {
        Metric {
            value: f64::NAN,
            undefined: Some(reason),
        }
    }

    /// `Some(value)` when defined, `None` otherwise.
    pub fn get(&self) -> Option<f64> {
        match self.undefined {
            None => Some(self.value),
            Some(_) => None,
        }
    }

    /// Whether the value is defined.
    pub fn is_defined(&self) -> bool {
        self.undefined.is_none()
    }
}

/// What the scores are: the caller declares it, it is never guessed from the data.
///
/// Ranking metrics are the same under both scales (the sigmoid is strictly
/// increasing), but thresholds are reported in the declared scale, and
/// [`ScoreScale::Probabilities`] makes scores outside `[0, 1]` an error. Logits are
/// ranked as they are, not through a sigmoid, so large logits that would round to
/// the same `f32` probability stay distinct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreScale {
    /// Real-valued logits (any value but NaN; ±∞ allowed).
    Logits,
    /// Probabilities in `[0, 1]`.
    Probabilities,
}

impl ScoreScale {
    /// Converts a threshold of this scale to a probability.
    ///
    /// ```text
    /// Logits:        p = 1 / (1 + exp(-t))
    /// Probabilities: p = t
    /// ```
    pub fn to_probability(self, threshold: f64) -> f64 {
        match self {
            ScoreScale::Logits => 1.0 / (1.0 + (-threshold).exp()),
            ScoreScale::Probabilities => threshold,
        }
    }

    /// The name used in the CLI and in JSON (`"logits"` or `"probabilities"`).
    pub fn name(self) -> &'static str {
        match self {
            ScoreScale::Logits => "logits",
            ScoreScale::Probabilities => "probabilities",
        }
    }
}

/// A number type that scores, labels and weights can be given in.
///
/// Implemented for `f32`, `f64`, `u8`, `i32`, `i64` and `bool` (`true` = 1).
/// Conversion to `f64` is exact for every implementor except `i64` beyond 2⁵³,
/// which no label or weight needs.
pub trait Value: Copy {
    /// The value as `f64`.
    fn to_f64(self) -> f64;
}

macro_rules! impl_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
impl_value!(f32, f64, u8, i32, i64);

impl Value for bool {
    #[inline]
    fn to_f64(self) -> f64 {
        if self { 1.0 } else { 0.0 }
    }
}
