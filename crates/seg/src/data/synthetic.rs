//! A small seeded generator of segmentation images, for fast unit tests only.
//!
//! ```text
//! background  uniform noise in [0, 0.35]
//! disks       1..=max_objects bright disks (intensity in [0.6, 0.9]), radius in
//!             [S/10, S/5]: positive pixels (mask = 1)
//! distractors 0..=max_objects squares with the same intensity range and a similar
//!             area: negative (mask = 0), so intensity alone cannot separate the classes
//! ```
//!
//! Later shapes paint over earlier ones; the mask follows the topmost shape.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::{SegSet, SegSplits, seeded_rng};

/// Configuration of [`generate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticConfig {
    /// Training images. Defaults to `64`.
    pub n_train: usize,
    /// Validation images. Defaults to `16`.
    pub n_val: usize,
    /// Test images. Defaults to `16`.
    pub n_test: usize,
    /// Image side `S` (square images); values below 8 are raised to 8. Defaults to `32`.
    pub size: usize,
    /// Most disks (and most distractors) per image; values below 1 are raised to 1.
    /// Defaults to `3`.
    pub max_objects: usize,
    /// Whether to draw distractor squares. Defaults to `true`.
    pub distractors: bool,
    /// Seed. Defaults to `0`.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            n_train: 64,
            n_val: 16,
            n_test: 16,
            size: 32,
            max_objects: 3,
            distractors: true,
            seed: 0,
        }
    }
}

fn draw(rng: &mut ChaCha8Rng, cfg: &SyntheticConfig, n: usize, name: &str) -> SegSet {
    let s = cfg.size.max(8);
    let max_objects = cfg.max_objects.max(1);
    let (r_lo, r_hi) = (s as f64 / 10.0, s as f64 / 5.0);
    let mut images = vec![0f32; n * s * s];
    let mut masks = vec![0f32; n * s * s];
    for k in 0..n {
        let img = &mut images[k * s * s..(k + 1) * s * s];
        let msk = &mut masks[k * s * s..(k + 1) * s * s];
        for v in img.iter_mut() {
            *v = rng.random_range(0.0..0.35);
        }
        let n_disks = rng.random_range(1..=max_objects);
        let n_squares = if cfg.distractors {
            rng.random_range(0..=max_objects)
        } else {
            0
        };
        // Shapes in random paint order: true = disk (positive), false = square.
        let mut shapes: Vec<bool> = vec![true; n_disks];
        shapes.extend(std::iter::repeat_n(false, n_squares));
        for i in (1..shapes.len()).rev() {
            shapes.swap(i, rng.random_range(0..=i));
        }
        for disk in shapes {
            let r = rng.random_range(r_lo..=r_hi);
            let cy = rng.random_range(0.0..s as f64);
            let cx = rng.random_range(0.0..s as f64);
            let level = rng.random_range(0.6f32..0.9);
            // A square with the disk's area: half side = r·sqrt(pi)/2.
            let half = r * std::f64::consts::PI.sqrt() / 2.0;
            for y in 0..s {
                for x in 0..s {
                    let (dy, dx) = (y as f64 + 0.5 - cy, x as f64 + 0.5 - cx);
                    let inside = if disk {
                        dy * dy + dx * dx <= r * r
                    } else {
                        dy.abs() <= half && dx.abs() <= half
                    };
                    if inside {
                        img[y * s + x] = level;
                        msk[y * s + x] = if disk { 1.0 } else { 0.0 };
                    }
                }
            }
        }
    }
    let shape = [n as i64, 1, s as i64, s as i64];
    SegSet {
        images: Tensor::from_slice(&images).reshape(shape),
        masks: Tensor::from_slice(&masks).reshape(shape),
        valid: Tensor::ones(shape, (tch::Kind::Float, tch::Device::Cpu)),
        name: format!("synthetic/{name}"),
    }
}

/// Generates train / validation / test sets (rules in the module docs).
///
/// Deterministic in `cfg`; each split draws from its own stream of the seed, so changing
/// `n_train` does not change the validation or test images.
///
/// # Shapes
/// Each set: images, masks, valid `[N, 1, S, S]`.
pub fn generate(cfg: &SyntheticConfig) -> SegSplits {
    SegSplits {
        train: draw(&mut seeded_rng(cfg.seed, 11), cfg, cfg.n_train, "train"),
        val: draw(&mut seeded_rng(cfg.seed, 12), cfg, cfg.n_val, "val"),
        test: draw(&mut seeded_rng(cfg.seed, 13), cfg, cfg.n_test, "test"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_within_contract() {
        let cfg = SyntheticConfig {
            n_train: 8,
            n_val: 2,
            n_test: 3,
            ..Default::default()
        };
        let a = generate(&cfg);
        let b = generate(&cfg);
        assert!(a.train.images.equal(&b.train.images));
        assert!(a.test.masks.equal(&b.test.masks));
        assert_eq!(a.train.images.size(), vec![8, 1, 32, 32]);
        assert_eq!(a.test.len(), 3);
        a.train.validate().unwrap();
        let fg = a.train.foreground_fraction();
        assert!(fg > 0.02 && fg < 0.6, "fg {fg}");
        let other = generate(&SyntheticConfig { seed: 1, ..cfg });
        assert!(!other.train.images.equal(&a.train.images));
    }
}
