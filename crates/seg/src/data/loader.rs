//! Seeded minibatches of a [`SegSet`], with optional flips and random crops.
//!
//! For epoch `e`, a ChaCha8 generator keyed by `(seed, e)` first permutes the sample order
//! (when `shuffle`), then, batch by batch and sample by sample, draws the crop offsets and
//! the two flip coins. The batches are therefore a pure function of the set, the config and
//! the epoch: a resumed run that rebuilds `Batches` for the same epoch sees the same data.
//!
//! ```text
//! per sample, in this order of draws:
//!   top  ~ U{0 .. H - crop_h},  left ~ U{0 .. W - crop_w}      (only with a crop)
//!   flip_h ~ Bernoulli(0.5) -> reverse W,  flip_v ~ Bernoulli(0.5) -> reverse H
//!                                                               (only with flips)
//! the same window and flips apply to the image, the mask and the validity plane
//! ```
//!
//! Augmentation is for training: [`BatchConfig::eval`] turns it off together with the
//! shuffle.

use rand::RngExt;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::{SegSet, seeded_rng};
use crate::{Error, Result};

/// Configuration of [`Batches`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchConfig {
    /// Samples per batch (the last batch may be smaller). Defaults to `32`.
    pub batch_size: usize,
    /// Permute the samples each epoch. Defaults to `true`.
    pub shuffle: bool,
    /// Random horizontal and vertical flips, each with probability 0.5. Defaults to `false`.
    pub flips: bool,
    /// Random crop `[height, width]`. Defaults to `None` (whole images).
    pub crop: Option<[i64; 2]>,
    /// Seed. Defaults to `0`.
    pub seed: u64,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            batch_size: 32,
            shuffle: true,
            flips: false,
            crop: None,
            seed: 0,
        }
    }
}

impl BatchConfig {
    /// In-order batches without augmentation, for validation and test.
    pub fn eval(batch_size: usize) -> Self {
        BatchConfig {
            batch_size,
            shuffle: false,
            flips: false,
            crop: None,
            seed: 0,
        }
    }
}

/// One minibatch (tensors on the set's device).
///
/// # Shapes
/// images `[B, C, h, w]`, masks and valid `[B, 1, h, w]`, where `h × w` is the crop size
/// or the full size.
#[derive(Debug)]
pub struct Batch {
    /// Images.
    pub images: Tensor,
    /// Binary masks.
    pub masks: Tensor,
    /// Pixel validity.
    pub valid: Tensor,
}

/// An iterator over the minibatches of one epoch.
///
/// # Examples
/// ```
/// use seg::data::loader::{BatchConfig, Batches};
/// use seg::data::synthetic::{SyntheticConfig, generate};
/// let splits = generate(&SyntheticConfig { n_train: 10, ..Default::default() });
/// let cfg = BatchConfig {
///     batch_size: 4,
///     flips: true,
///     crop: Some([16, 16]),
///     seed: 7,
///     ..Default::default()
/// };
/// let batches: Vec<_> = Batches::new(&splits.train, &cfg, 0)?.collect();
/// assert_eq!(batches.len(), 3); // 4 + 4 + 2
/// assert_eq!(batches[0].images.size(), vec![4, 1, 16, 16]);
/// # Ok::<(), seg::Error>(())
/// ```
#[derive(Debug)]
pub struct Batches<'a> {
    set: &'a SegSet,
    order: Vec<i64>,
    next: usize,
    cfg: BatchConfig,
    rng: ChaCha8Rng,
}

impl<'a> Batches<'a> {
    /// Prepares epoch `epoch` of `set`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `batch_size = 0` or a crop that is not positive or
    /// larger than the images; [`Error::Data`] when the set violates the [`SegSet`]
    /// shape contract.
    pub fn new(set: &'a SegSet, cfg: &BatchConfig, epoch: u64) -> Result<Self> {
        if cfg.batch_size == 0 {
            return Err(Error::config("batch_size", "must be at least 1, got 0"));
        }
        let size = set.images.size();
        if size.len() != 4
            || set.masks.size() != [size[0], 1, size[2], size[3]]
            || set.valid.size() != set.masks.size()
        {
            return Err(Error::data(
                &set.name,
                format!(
                    "images {size:?}, masks {:?}, valid {:?} do not form a SegSet",
                    set.masks.size(),
                    set.valid.size()
                ),
            ));
        }
        if let Some([ch, cw]) = cfg.crop {
            if ch <= 0 || cw <= 0 || ch > size[2] || cw > size[3] {
                return Err(Error::config(
                    "crop",
                    format!(
                        "{ch}x{cw} must be positive and fit in {}x{}",
                        size[2], size[3]
                    ),
                ));
            }
        }
        let mut rng = seeded_rng(cfg.seed, (1 << 63) | epoch);
        let mut order: Vec<i64> = (0..size[0]).collect();
        if cfg.shuffle {
            order.shuffle(&mut rng);
        }
        Ok(Batches {
            set,
            order,
            next: 0,
            cfg: cfg.clone(),
            rng,
        })
    }

    /// Number of batches in the epoch.
    pub fn num_batches(&self) -> usize {
        self.order.len().div_ceil(self.cfg.batch_size)
    }

    fn augment(&mut self, t: [Tensor; 3]) -> [Tensor; 3] {
        let (h, w) = (t[0].size()[2], t[0].size()[3]);
        let b = t[0].size()[0];
        let mut out: [Vec<Tensor>; 3] = Default::default();
        for j in 0..b {
            let (mut top, mut left, mut ch, mut cw) = (0, 0, h, w);
            if let Some([crop_h, crop_w]) = self.cfg.crop {
                (ch, cw) = (crop_h, crop_w);
                top = self.rng.random_range(0..=h - ch);
                left = self.rng.random_range(0..=w - cw);
            }
            let (flip_h, flip_v) = if self.cfg.flips {
                (self.rng.random_bool(0.5), self.rng.random_bool(0.5))
            } else {
                (false, false)
            };
            for (k, src) in t.iter().enumerate() {
                let mut x = src.get(j).narrow(1, top, ch).narrow(2, left, cw); // [C, ch, cw]
                if flip_h {
                    x = x.flip([2]);
                }
                if flip_v {
                    x = x.flip([1]);
                }
                out[k].push(x);
            }
        }
        out.map(|v| Tensor::stack(&v, 0))
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.cfg.batch_size).min(self.order.len());
        let device = self.set.images.device();
        let index = Tensor::from_slice(&self.order[self.next..end]).to_device(device);
        self.next = end;
        let mut t = [
            self.set.images.index_select(0, &index),
            self.set.masks.index_select(0, &index),
            self.set.valid.index_select(0, &index),
        ];
        if self.cfg.flips || self.cfg.crop.is_some() {
            t = self.augment(t);
        }
        let [images, masks, valid] = t;
        Some(Batch {
            images,
            masks,
            valid,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.cfg.batch_size);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

/// Copies a set to `device` (e.g. once before training, so that [`Batches`] index there).
pub fn to_device(set: &SegSet, device: tch::Device) -> SegSet {
    SegSet {
        images: set.images.to_device(device),
        masks: set.masks.to_device(device),
        valid: set.valid.to_device(device),
        name: set.name.clone(),
    }
}
