//! Global-objective losses (Eban et al., AISTATS 2017) on tch tensors.
//!
//! See `docs/math.md` for the derivations and `README.md` for a tour.
mod error;
pub mod surrogate;

pub use error::{Error, Result};
pub use surrogate::Surrogate;
