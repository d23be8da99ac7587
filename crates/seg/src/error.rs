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
    /// An error from the `bounds` losses.
    #[error(transparent)]
    Bounds(#[from] bounds::Error),
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
}
