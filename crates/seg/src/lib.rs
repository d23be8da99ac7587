//! Binary pixel segmentation trained for the metric users care about.

pub mod checkpoint;
pub mod classify;
pub mod data;
mod error;
pub mod evaluate;
pub mod model;
pub mod objective;
pub mod optim;
pub mod predict;
pub mod scores;
pub mod train;

pub use error::{Error, Result};
