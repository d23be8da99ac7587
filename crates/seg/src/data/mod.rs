//! Real and synthetic data sets, all delivered as the same tensor types.
//!
//! Segmentation sources ([`fashion`], [`stardist`], [`folder`], [`synthetic`]) return
//! [`SegSet`] / [`SegSplits`]; tabular and 2-D classification sources ([`tabular`])
//! return [`TabularSet`] / [`TabularSplits`]. [`loader`] turns a [`SegSet`] into
//! seeded minibatches. Datasets, licences and exact rules: `docs/data.md`.

pub mod fashion;
pub mod folder;
pub mod loader;
pub mod stardist;
pub mod synthetic;
pub mod tabular;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use crate::{Error, Result};

/// The generator behind every seeded choice in `data`: ChaCha8 keyed by `(seed, stream)`,
/// so that independent uses of one user seed draw independent streams.
pub(crate) fn seeded_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&stream.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// A segmentation set held in memory (CPU tensors).
///
/// # Shapes
/// - `images`: `[N, C, H, W]`, `Kind::Float`, values in `[0, 1]`.
/// - `masks`: `[N, 1, H, W]`, `Kind::Float`, values in `{0, 1}` (1 = positive pixel).
/// - `valid`: `[N, 1, H, W]`, `Kind::Float`, values in `{0, 1}` (0 = ignore the pixel);
///   always present, all ones when the source has no ignore value.
#[derive(Debug)]
pub struct SegSet {
    /// Images `[N, C, H, W]` in `[0, 1]`.
    pub images: Tensor,
    /// Binary masks `[N, 1, H, W]`.
    pub masks: Tensor,
    /// Pixel validity `[N, 1, H, W]` (0 = ignored).
    pub valid: Tensor,
    /// A short human-readable name, e.g. `fashion-mosaic/train`.
    pub name: String,
}

/// Train / validation / test segmentation sets.
#[derive(Debug)]
pub struct SegSplits {
    /// Training set.
    pub train: SegSet,
    /// Validation set (for threshold choice and model selection).
    pub val: SegSet,
    /// Held-out test set.
    pub test: SegSet,
}

/// A tabular or 2-D binary classification set (CPU tensors).
///
/// # Shapes
/// - `x`: `[N, F]`, `Kind::Float`.
/// - `y`: `[N]`, `Kind::Float`, values in `{0, 1}`.
#[derive(Debug)]
pub struct TabularSet {
    /// Features `[N, F]`.
    pub x: Tensor,
    /// Labels `[N]` in `{0, 1}`.
    pub y: Tensor,
}

/// Train / validation / test tabular sets.
#[derive(Debug)]
pub struct TabularSplits {
    /// Training set (its statistics standardize all three).
    pub train: TabularSet,
    /// Validation set.
    pub val: TabularSet,
    /// Held-out test set.
    pub test: TabularSet,
}

impl SegSet {
    /// Number of images `N`.
    pub fn len(&self) -> i64 {
        self.images.size()[0]
    }

    /// True when the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fraction of valid pixels that are positive.
    ///
    /// ```text
    /// fg = Σ mask·valid / Σ valid      (0 when no pixel is valid)
    /// ```
    pub fn foreground_fraction(&self) -> f64 {
        let valid = self.valid.sum(Kind::Double).double_value(&[]);
        if valid <= 0.0 {
            return 0.0;
        }
        (&self.masks * &self.valid)
            .sum(Kind::Double)
            .double_value(&[])
            / valid
    }

    /// Checks the [`SegSet`] contract: ranks, agreeing sizes, `Kind::Float`, value ranges.
    ///
    /// # Errors
    /// [`Error::Data`] (path = the set's name) describing the first violation found.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::data(&self.name, reason));
        let (i, m, v) = (self.images.size(), self.masks.size(), self.valid.size());
        if i.len() != 4 {
            return bad(format!("images must be [N, C, H, W], got {i:?}"));
        }
        let expect = vec![i[0], 1, i[2], i[3]];
        if m != expect || v != expect {
            return bad(format!("masks {m:?} and valid {v:?} must be {expect:?}"));
        }
        for (what, t) in [
            ("images", &self.images),
            ("masks", &self.masks),
            ("valid", &self.valid),
        ] {
            if t.kind() != Kind::Float {
                return bad(format!("{what} must be Float, got {:?}", t.kind()));
            }
        }
        if self.images.numel() > 0 {
            let (lo, hi) = (
                self.images.min().double_value(&[]),
                self.images.max().double_value(&[]),
            );
            if !(lo >= 0.0 && hi <= 1.0) {
                return bad(format!("images must lie in [0, 1], got [{lo}, {hi}]"));
            }
        }
        for (what, t) in [("masks", &self.masks), ("valid", &self.valid)] {
            let nonbinary = t.ne(0.0).logical_and(&t.ne(1.0)).any().int64_value(&[]);
            if nonbinary != 0 {
                return bad(format!("{what} must hold only 0 and 1"));
            }
        }
        Ok(())
    }
}

impl TabularSet {
    /// Number of rows `N`.
    pub fn len(&self) -> i64 {
        self.x.size()[0]
    }

    /// True when the set holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fraction of positive labels (0 for an empty set).
    pub fn positive_rate(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.y.mean(Kind::Double).double_value(&[])
    }
}
