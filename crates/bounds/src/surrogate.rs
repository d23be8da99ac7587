//! Convex surrogates of the 0-1 loss: logistic ("xent") and hinge.
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which convex upper bound replaces the 0-1 indicator.
///
/// ```text
/// xent:  φ₊(s) = softplus(−s)      φ₋(s) = softplus(s)      κ = ln 2
/// hinge: φ₊(s) = max(0, 1 − s)     φ₋(s) = max(0, 1 + s)    κ = 1
/// ```
///
/// φ/κ upper-bounds the 0-1 loss. Defaults to [`Surrogate::Xent`], as upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Surrogate {
    /// Logistic loss (sigmoid cross-entropy), κ = ln 2.
    #[default]
    Xent,
    /// Hinge loss, κ = 1.
    Hinge,
}

impl Surrogate {
    /// κ, the surrogate's value at a zero margin: ln 2 for xent, 1 for hinge.
    pub fn kappa(self) -> f64 {
        match self {
            Surrogate::Xent => std::f64::consts::LN_2,
            Surrogate::Hinge => 1.0,
        }
    }
}

impl std::str::FromStr for Surrogate {
    type Err = Error;

    /// Parses `"xent"` or `"hinge"`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for any other name.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "xent" => Ok(Surrogate::Xent),
            "hinge" => Ok(Surrogate::Hinge),
            other => Err(Error::Unsupported {
                what: format!("surrogate type {other:?} (expected \"xent\" or \"hinge\")"),
            }),
        }
    }
}
