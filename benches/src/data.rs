//! Seeded input builders, and the raw little-endian files that hand the same inputs to
//! `side_by_side.py`.
//!
//! All draws come from a ChaCha8 stream seeded by [`seed_for`], so an input depends
//! only on its name and size, never on what was built before it.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Fraction of positive labels in every generated set (a minority class, as in
/// segmentation masks).
pub const POSITIVE_RATE: f64 = 0.2;

/// Binary scores with labels: the input of the losses and the metrics.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Logits, `N` values: N(0, 1) noise shifted by +0.75 on positives and −0.75 on
    /// negatives (an imperfect but informative model).
    pub logits: Vec<f32>,
    /// Labels in {0, 1}, `N` values, positive with probability [`POSITIVE_RATE`].
    pub labels: Vec<u8>,
}

impl Scored {
    /// The labels as 0.0 / 1.0 floats.
    pub fn labels_f32(&self) -> Vec<f32> {
        self.labels.iter().map(|&y| f32::from(y)).collect()
    }
}

/// A segmentation batch: images `[B, 1, S, S]` in [0, 1] and masks `[B, 1, S, S]` in
/// {0, 1}, both row-major `f32`.
#[derive(Debug, Clone)]
pub struct SegBatch {
    /// Batch size B.
    pub batch: i64,
    /// Side S of the square images.
    pub side: i64,
    /// Pixel values, `B·S·S`.
    pub images: Vec<f32>,
    /// Mask values, `B·S·S`.
    pub masks: Vec<f32>,
}

/// The seed of a named input of a given size (FNV-1a of the name, mixed with `n`).
pub fn seed_for(name: &str, n: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// One standard normal draw (Box–Muller, the cosine branch).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // 1 − u ∈ (0, 1] keeps the logarithm finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `n` seeded scores with labels (see [`Scored`]).
pub fn scored(name: &str, n: usize) -> Scored {
    let mut rng = ChaCha8Rng::seed_from_u64(seed_for(name, n as u64));
    let mut logits = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let y = rng.random::<f64>() < POSITIVE_RATE;
        let shift = if y { 0.75 } else { -0.75 };
        logits.push((normal(&mut rng) + shift) as f32);
        labels.push(u8::from(y));
    }
    Scored { logits, labels }
}

/// A seeded segmentation batch: images uniform in [0, 1], masks from thresholded
/// images (about [`POSITIVE_RATE`] positive pixels) so that the task is learnable.
pub fn seg_batch(batch: i64, side: i64) -> SegBatch {
    let len = (batch * side * side) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed_for("seg", len as u64));
    let images: Vec<f32> = (0..len).map(|_| rng.random::<f32>()).collect();
    let masks = images
        .iter()
        .map(|&p| {
            if f64::from(p) > 1.0 - POSITIVE_RATE {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    SegBatch {
        batch,
        side,
        images,
        masks,
    }
}

/// Writes `values` as raw little-endian `f32` (numpy: `np.fromfile(path, "<f4")`).
pub fn write_f32(path: &Path, values: &[f32]) -> std::io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    for v in values {
        w.write_all(&v.to_le_bytes())?;
    }
    w.flush()
}

/// Writes `values` as raw bytes (numpy: `np.fromfile(path, "u1")`).
pub fn write_u8(path: &Path, values: &[u8]) -> std::io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    w.write_all(values)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scored_is_seeded_and_imbalanced() {
        let a = scored("loss", 20_000);
        let b = scored("loss", 20_000);
        assert_eq!(a.labels, b.labels);
        assert!(
            a.logits
                .iter()
                .zip(&b.logits)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        let rate = a.labels.iter().map(|&y| f64::from(y)).sum::<f64>() / 20_000.0;
        assert!((rate - POSITIVE_RATE).abs() < 0.02, "positive rate {rate}");
        // Another name gives another stream.
        assert_ne!(scored("metrics", 64).labels, scored("loss", 64).labels);
    }

    #[test]
    fn seg_batch_masks_follow_images() {
        let s = seg_batch(2, 8);
        assert_eq!(s.images.len(), 128);
        assert!(s.images.iter().all(|p| (0.0..1.0).contains(p)));
        for (p, m) in s.images.iter().zip(&s.masks) {
            assert_eq!(*m > 0.5, f64::from(*p) > 1.0 - POSITIVE_RATE);
        }
    }
}
