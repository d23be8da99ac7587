//! The StarDist DSB2018 nucleus image (`img2d.tif`) with its hand-annotated instance mask
//! (`mask2d.tif`), split by quadrant.
//!
//! ```text
//! quadrants of the H×W image        each training quadrant (H/2 × W/2)
//! +-----+-----+                     +-----------------+
//! |  0  |  1  |                     | train rows      |  H/2 - val_rows rows
//! +-----+-----+                     +-----------------+
//! |  2  |  3  |                     | val rows        |  the last val_rows rows
//! +-----+-----+                     +-----------------+
//!
//! test  = quadrant test_quadrant (whole)                       [1, 1, H/2, W/2]
//! train = the top H/2 - val_rows rows of the 3 other quadrants  [3, 1, H/2 - val_rows, W/2]
//! val   = the bottom val_rows rows of the 3 other quadrants      [3, 1, val_rows, W/2]
//! mask  = (instance label > 0)
//! image = clamp((x - p_lo) / (p_hi - p_lo), 0, 1)
//! ```
//!
//! The percentiles `p_lo`, `p_hi` are computed on the training rows only, so nothing about
//! validation or test pixels enters the normalization. Random crops and flips for training
//! come from [`loader`](super::loader).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::Tensor;
use tiff::decoder::{Decoder, DecodingResult};

use super::{SegSet, SegSplits};
use crate::{Error, Result};

/// Configuration of the StarDist quadrant split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StardistConfig {
    /// Quadrant used as test set: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.
    /// Defaults to `3`.
    pub test_quadrant: u8,
    /// Rows at the bottom of each training quadrant held out for validation.
    /// Defaults to `64` (of 256).
    pub val_rows: usize,
    /// Lower normalization percentile in `[0, 100)`. Defaults to `1.0`.
    pub low_percentile: f64,
    /// Upper normalization percentile in `(low, 100]`. Defaults to `99.8`.
    pub high_percentile: f64,
}

impl Default for StardistConfig {
    fn default() -> Self {
        StardistConfig {
            test_quadrant: 3,
            val_rows: 64,
            low_percentile: 1.0,
            high_percentile: 99.8,
        }
    }
}

impl StardistConfig {
    /// Checks the fields that do not depend on the image size.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a quadrant ≥ 4, `val_rows = 0`, or percentiles outside
    /// `0 ≤ low < high ≤ 100`.
    pub fn validate(&self) -> Result<()> {
        if self.test_quadrant > 3 {
            return Err(Error::config(
                "test_quadrant",
                format!("must be 0..=3, got {}", self.test_quadrant),
            ));
        }
        if self.val_rows == 0 {
            return Err(Error::config("val_rows", "must be at least 1, got 0"));
        }
        let (lo, hi) = (self.low_percentile, self.high_percentile);
        if !(0.0..100.0).contains(&lo) || !(lo..=100.0).contains(&hi) || hi == lo {
            return Err(Error::config(
                "low_percentile/high_percentile",
                format!("need 0 <= low < high <= 100, got {lo} and {hi}"),
            ));
        }
        Ok(())
    }
}

/// A single-channel image read from a TIFF file, as `f64` values.
#[derive(Debug, Clone)]
pub struct Plane {
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Row-major values.
    pub values: Vec<f64>,
}

/// Reads the first image of a single-channel TIFF (8, 16 or 32-bit unsigned, or 32-bit
/// float) with the `tiff` crate.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; [`Error::Data`] naming the file when it
/// is not a readable TIFF, has more than one channel, or holds an unsupported sample type.
pub fn read_tiff(path: &Path) -> Result<Plane> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let bad = |e: tiff::TiffError| Error::data(path, format!("cannot decode tiff: {e}"));
    let mut decoder = Decoder::new(std::io::BufReader::new(file)).map_err(bad)?;
    let (width, height) = decoder.dimensions().map_err(bad)?;
    let colortype = decoder.colortype().map_err(bad)?;
    if !matches!(colortype, tiff::ColorType::Gray(_)) {
        return Err(Error::data(
            path,
            format!("expected a single-channel image, got {colortype:?}"),
        ));
    }
    let values: Vec<f64> = match decoder.read_image().map_err(bad)? {
        DecodingResult::U8(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::U16(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::U32(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::F32(v) => v.into_iter().map(f64::from).collect(),
        _ => {
            return Err(Error::data(
                path,
                format!("unsupported sample type {colortype:?}"),
            ));
        }
    };
    let (height, width) = (height as usize, width as usize);
    if values.len() != height * width {
        return Err(Error::data(
            path,
            format!(
                "decoded {} values for a {height}x{width} image",
                values.len()
            ),
        ));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::data(path, "image holds NaN or infinite values"));
    }
    Ok(Plane {
        height,
        width,
        values,
    })
}

/// Linearly interpolated percentile `p ∈ [0, 100]` of `values` (sorted in place).
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let pos = p / 100.0 * (values.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    let next = values[(i + 1).min(values.len() - 1)];
    values[i] + frac * (next - values[i])
}

/// Loads `img2d.tif` and `mask2d.tif` from `dir` and splits them by quadrant.
///
/// # Shapes
/// With an `H × W` image, `h = H/2`, `w = W/2`: train `[3, 1, h - val_rows, w]`,
/// val `[3, 1, val_rows, w]`, test `[1, 1, h, w]`.
///
/// # Errors
/// As [`read_tiff`]; [`Error::Data`] when image and mask sizes differ, the size is not
/// even, or the training pixels are constant; [`Error::InvalidConfig`] as
/// [`StardistConfig::validate`], or when `val_rows ≥ H/2`.
pub fn load(dir: &Path, cfg: &StardistConfig) -> Result<SegSplits> {
    cfg.validate()?;
    let image_path = dir.join("img2d.tif");
    let mask_path = dir.join("mask2d.tif");
    let image = read_tiff(&image_path)?;
    let mask = read_tiff(&mask_path)?;
    if (image.height, image.width) != (mask.height, mask.width) {
        return Err(Error::data(
            &mask_path,
            format!(
                "mask is {}x{} but image is {}x{}",
                mask.height, mask.width, image.height, image.width
            ),
        ));
    }
    if image.height % 2 != 0 || image.width % 2 != 0 || image.height < 4 {
        return Err(Error::data(
            &image_path,
            format!(
                "size {}x{} must be even and at least 4",
                image.height, image.width
            ),
        ));
    }
    let (h, w) = (image.height / 2, image.width / 2);
    if cfg.val_rows >= h {
        return Err(Error::config(
            "val_rows",
            format!(
                "must be below the quadrant height {h}, got {}",
                cfg.val_rows
            ),
        ));
    }
    let train_rows = h - cfg.val_rows;
    let train_quadrants: Vec<usize> = (0..4)
        .filter(|&q| q != cfg.test_quadrant as usize)
        .collect();

    // Crop rows [r0, r0 + rows) of quadrant q from a plane.
    let crop = |plane: &Plane, q: usize, r0: usize, rows: usize| -> Vec<f64> {
        let (qr, qc) = ((q / 2) * h, (q % 2) * w);
        (qr + r0..qr + r0 + rows)
            .flat_map(|r| {
                plane.values[r * plane.width + qc..r * plane.width + qc + w]
                    .iter()
                    .copied()
            })
            .collect()
    };

    let mut train_pixels: Vec<f64> = train_quadrants
        .iter()
        .flat_map(|&q| crop(&image, q, 0, train_rows))
        .collect();
    let lo = percentile(&mut train_pixels, cfg.low_percentile);
    let hi = percentile(&mut train_pixels, cfg.high_percentile);
    if hi <= lo {
        return Err(Error::data(
            &image_path,
            format!("training pixels are constant between the percentiles ({lo} to {hi})"),
        ));
    }
    let normalize = |v: f64| ((v - lo) / (hi - lo)).clamp(0.0, 1.0) as f32;

    let make = |quadrants: &[usize], r0: usize, rows: usize, name: &str| -> SegSet {
        let mut images = Vec::with_capacity(quadrants.len() * rows * w);
        let mut masks = Vec::with_capacity(quadrants.len() * rows * w);
        for &q in quadrants {
            images.extend(crop(&image, q, r0, rows).into_iter().map(normalize));
            masks.extend(
                crop(&mask, q, r0, rows)
                    .into_iter()
                    .map(|m| if m > 0.0 { 1f32 } else { 0.0 }),
            );
        }
        let shape = [quadrants.len() as i64, 1, rows as i64, w as i64];
        SegSet {
            images: Tensor::from_slice(&images).reshape(shape),
            masks: Tensor::from_slice(&masks).reshape(shape),
            valid: Tensor::ones(shape, (tch::Kind::Float, tch::Device::Cpu)),
            name: format!("stardist/{name}"),
        }
    };
    Ok(SegSplits {
        train: make(&train_quadrants, 0, train_rows, "train"),
        val: make(&train_quadrants, train_rows, cfg.val_rows, "val"),
        test: make(&[cfg.test_quadrant as usize], 0, h, "test"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates() {
        let mut v = vec![4.0, 0.0, 2.0, 1.0, 3.0];
        assert!((percentile(&mut v, 50.0) - 2.0).abs() < 1e-12);
        assert!((percentile(&mut v, 12.5) - 0.5).abs() < 1e-12);
        assert!((percentile(&mut v, 100.0) - 4.0).abs() < 1e-12);
    }

    #[test]
    fn config_checks() {
        assert!(StardistConfig::default().validate().is_ok());
        let bad = StardistConfig {
            test_quadrant: 4,
            ..Default::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(Error::InvalidConfig {
                field: "test_quadrant",
                ..
            })
        ));
        let bad = StardistConfig {
            low_percentile: 50.0,
            high_percentile: 40.0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
