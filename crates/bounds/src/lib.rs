//! Global-objective losses (Eban et al., AISTATS 2017) on tch tensors.
//!
//! Losses that train for precision@recall, recall@precision, TPR@FPR, PR-AUC and
//! ROC-AUC by attaching Lagrange multipliers to bounds on true and false positives.
//! Entry point: [`GlobalLoss`] with a [`LossConfig`]; stateless math:
//! [`weighted_surrogate_loss`], [`true_positives_lower_bound`],
//! [`false_positives_upper_bound`].
//!
//! See `docs/math.md` for the derivations.
//!
//! # Kinds, devices and bad input
//!
//! One rule for every entry point ([`GlobalLoss`], the bounds, the surrogate, the fused
//! sum, the pairwise ROC-AUC loss and the baselines):
//! - logits are `Float` or `Double`; other floating kinds (`Half`, `BFloat16`) give
//!   [`Error::Unsupported`] (cast them first), non-floating logits [`Error::Kind`];
//! - labels and weights may have any kind (`Bool`, `Int64`, `Float`, ...) and are cast
//!   to the logits' kind (upstream's `convert_and_cast`), then checked: labels in
//!   `[0, 1]`, weights finite and ≥ 0;
//! - parameters passed explicitly (the fused sum's biases and coefficients) must already
//!   have the logits' kind; the state of a [`GlobalLoss`] is cast on use;
//! - every input must be on the logits' device ([`Error::Device`]);
//! - NaN or ±inf logits are [`Error::InvalidValue`]; a result that overflows the logits'
//!   kind (finite but huge inputs) is [`Error::InvalidValue`] too, never a silent
//!   inf / NaN.
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
