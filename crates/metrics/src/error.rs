//! The crate's one error type.

/// Everything that can go wrong in `metrics`.
///
/// Every variant describes bad input; no variant stands for an undefined metric (a
/// missing class, nothing predicted positive). Those are values, reported through
/// [`Metric`](crate::Metric) and [`Undefined`](crate::Undefined), not errors.
/// Messages are lowercase and carry the offending value and its index.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No element to evaluate: the input is empty, or every weight is zero.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// Two inputs that must have one entry per element differ in length.
    #[error("length mismatch: {what} has {got} entries, expected {expected}")]
    LengthMismatch {
        /// The input whose length is wrong.
        what: &'static str,
        /// The length it must have (that of the scores).
        expected: usize,
        /// Its actual length.
        got: usize,
    },
    /// Two arrays that must have the same shape differ.
    #[error("shape mismatch: {what} has shape {got:?}, expected {expected:?}")]
    ShapeMismatch {
        /// The array whose shape is wrong.
        what: &'static str,
        /// The shape it must have (that of the scores).
        expected: Vec<usize>,
        /// Its actual shape.
        got: Vec<usize>,
    },
    /// A score is NaN.
    #[error("score at index {index} is NaN")]
    NanScore {
        /// Position of the element.
        index: usize,
    },
    /// A score declared a probability lies outside `[0, 1]`.
    #[error("score at index {index} is {value}, outside [0, 1] for probabilities")]
    ScoreOutOfRange {
        /// Position of the element.
        index: usize,
        /// The offending score.
        value: f64,
    },
    /// A label is neither 0 nor 1.
    #[error("label at index {index} is {value}, expected 0 or 1")]
    InvalidLabel {
        /// Position of the element.
        index: usize,
        /// The offending label.
        value: f64,
    },
    /// A weight is negative, NaN or infinite.
    #[error("weight at index {index} is {value}, expected a finite value >= 0")]
    InvalidWeight {
        /// Position of the element.
        index: usize,
        /// The offending weight.
        value: f64,
    },
    /// A target (recall, precision, rate) is outside `[0, 1]` or NaN.
    #[error("target {what} is {value}, expected a value in [0, 1]")]
    InvalidTarget {
        /// Which target (`"recall"`, `"precision"`, `"tpr"`, `"fpr"`).
        what: &'static str,
        /// The offending target.
        value: f64,
    },
    /// A configuration value is invalid (bin count, score range, beta, image size).
    #[error("invalid config: {field}: {reason}")]
    InvalidConfig {
        /// The field name.
        field: &'static str,
        /// Why the value is rejected, with the value.
        reason: String,
    },
    /// A curve was asked for while one class has no weight, so its axis is 0/0.
    #[error("curve undefined: {reason}")]
    UndefinedCurve {
        /// Which class is missing.
        reason: crate::Undefined,
    },
}

/// `std::result::Result` specialised to [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
