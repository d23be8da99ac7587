//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in `seg`.
///
/// Messages are lowercase, carry the offending value and, for files, the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be opened, read or written.
    #[error("i/o error on {}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A data file exists but its content is malformed, truncated or inconsistent.
    #[error("bad data file {}: {reason}", path.display())]
    Data {
        /// The offending file (or directory, for pairing problems).
        path: PathBuf,
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// A configuration field has an invalid value.
    #[error("invalid config: {field}: {reason}")]
    InvalidConfig {
        /// The field name.
        field: &'static str,
        /// Why the value is rejected, with the value.
        reason: String,
    },
    /// A tensor has the wrong shape (`-1` in `expected` stands for "any size").
    #[error("{op}: shape mismatch for {what}, expected {expected:?}, got {got:?}")]
    Shape {
        /// The operation that checked the shape.
        op: &'static str,
        /// Which input had the wrong shape.
        what: &'static str,
        /// The expected shape.
        expected: Vec<i64>,
        /// The shape received.
        got: Vec<i64>,
    },
    /// A tensor has an unsupported kind (e.g. integer images where floats are needed).
    #[error("{op}: {what} has unsupported kind {got:?}")]
    Kind {
        /// The operation that checked the kind.
        op: &'static str,
        /// Which input had the wrong kind.
        what: &'static str,
        /// The kind received.
        got: tch::Kind,
    },
    /// A tensor is on the wrong device.
    #[error("{op}: {what} is on {got:?}, expected {expected:?}")]
    Device {
        /// The operation that checked the device.
        op: &'static str,
        /// Which input was on the wrong device.
        what: &'static str,
        /// The device expected.
        expected: tch::Device,
        /// The device received.
        got: tch::Device,
    },
    /// A value that must be finite is NaN or infinite (e.g. a diverged training loss).
    #[error("non-finite value: {what}")]
    NonFinite {
        /// What was not finite, where, and its value.
        what: String,
    },
    /// An error from the `bounds` losses.
    #[error(transparent)]
    Bounds(#[from] bounds::Error),
    /// An error from the `metrics` crate (bad scores, labels or weights).
    #[error(transparent)]
    Metrics(#[from] metrics::Error),
    /// An error reported by libtorch.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// `std::result::Result` specialised to [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Builds an [`Error::Data`] for `path`.
    pub(crate) fn data(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Data {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// Builds an [`Error::InvalidConfig`].
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }

    /// `Ok` when `t` has shape `expected`, else an [`Error::Shape`] naming `what`.
    pub(crate) fn check_shape(
        op: &'static str,
        what: &'static str,
        t: &tch::Tensor,
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
}
