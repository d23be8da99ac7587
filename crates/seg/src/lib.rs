//! Binary pixel segmentation trained for the metric users care about.

pub mod data;
mod error;

pub use error::{Error, Result};
