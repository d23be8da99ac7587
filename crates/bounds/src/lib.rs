//! Global-objective losses (Eban et al., AISTATS 2017) on tch tensors.
//!
//! Losses that train for precision@recall, recall@precision, TPR@FPR, PR-AUC and
//! ROC-AUC by attaching Lagrange multipliers to bounds on true and false positives.
//! Entry point: [`GlobalLoss`] with a [`LossConfig`]; stateless math:
//! [`weighted_surrogate_loss`], [`true_positives_lower_bound`],
//! [`false_positives_upper_bound`].
//!
//! See `docs/math.md` for the derivations.
pub mod baseline;
pub mod bound;
mod check;
pub mod config;
mod error;
pub mod fused;
pub mod loss;
pub mod multiplier;
pub mod prior;
pub mod roc;
pub mod surrogate;

pub use bound::{false_positives_upper_bound, true_positives_lower_bound};
pub use config::{LossConfig, MultiplierUpdate, ObjectiveConfig, Pass, PriorConfig, Target};
pub use error::{Error, Result};
pub use loss::{Diagnostics, GlobalLoss, LossOutput};
pub use multiplier::Multipliers;
pub use prior::LabelPriors;
pub use surrogate::{Surrogate, weighted_surrogate_loss};
