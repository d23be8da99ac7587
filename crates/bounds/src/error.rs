//! The crate's one error type.

/// Everything that can go wrong in `bounds`.
///
/// Messages are lowercase, carry the offending value, and name the operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two inputs whose shapes must agree do not.
    #[error("{op}: shape mismatch, expected {expected:?}, got {got:?} for {what}")]
    Shape {
        /// The operation that checked the shapes.
        op: &'static str,
        /// Which input had the wrong shape.
        what: &'static str,
        /// The expected shape (`-1` stands for "any size").
        expected: Vec<i64>,
        /// The shape received.
        got: Vec<i64>,
    },
    /// An input tensor has an unsupported rank.
    #[error("{op}: {what} must have rank {expected}, got rank {got}")]
    Rank {
        /// The operation that checked the rank.
        op: &'static str,
        /// Which input had the wrong rank.
        what: &'static str,
        /// Accepted ranks, in words (e.g. "1 or 2").
        expected: &'static str,
        /// The rank received.
        got: usize,
    },
    /// An input has a floating kind other than the logits' (or is not floating).
    #[error("{op}: {what} has kind {got:?}, expected {expected:?}")]
    Kind {
        /// The operation that checked the kind.
        op: &'static str,
        /// Which input had the wrong kind.
        what: &'static str,
        /// The kind expected.
        expected: tch::Kind,
        /// The kind received.
        got: tch::Kind,
    },
    /// Inputs live on different devices.
    #[error("{op}: {what} is on {got:?}, expected {expected:?}")]
    Device {
        /// The operation that checked the device.
        op: &'static str,
        /// Which input was on the wrong device.
        what: &'static str,
        /// The device expected (the logits').
        expected: tch::Device,
        /// The device received.
        got: tch::Device,
    },
    /// An input holds values outside its domain (NaN logits, labels outside [0, 1],
    /// negative or non-finite weights, ...).
    #[error("{op}: {what}: {reason}")]
    InvalidValue {
        /// The operation that checked the values.
        op: &'static str,
        /// Which input held the bad values.
        what: &'static str,
        /// What was wrong, with the offending value where known.
        reason: String,
    },
    /// A configuration field is out of range; raised once, when the config is built.
    #[error("invalid config: {field}: {reason}")]
    InvalidConfig {
        /// The field that failed validation.
        field: &'static str,
        /// Why, with the offending value.
        reason: String,
    },
    /// A requested option is not supported.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// libtorch reported an error.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
