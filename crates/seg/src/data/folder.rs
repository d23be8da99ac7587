//! A user's own data: a folder of image / mask PNG pairs.
//!
//! ```text
//! DIR/images/NAME.png   image: grayscale or RGB(A), 8 or 16 bit   -> [C, H, W] in [0, 1]
//! DIR/masks/NAME.png    mask of the same size                      -> [1, H, W]
//!
//! mask  = 1 where the mask pixel is nonzero (any channel), else 0
//! valid = 0 where the mask pixel equals ignore_value in every channel (mask set to 0 there)
//! ```
//!
//! Pairs are matched by file stem (`.png`, any case), sorted by name. Alpha channels are
//! dropped. Color masks (also palette PNGs, which decode to RGB) count a pixel as positive
//! when any channel is nonzero. Images of different sizes are an error unless
//! [`FolderConfig::size`] sets a crop or resize policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::{DynamicImage, imageops::FilterType};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::SegSet;
use crate::{Error, Result};

/// How images become channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channels {
    /// One channel; color images are converted to luma.
    Gray,
    /// Three channels; grayscale images are replicated.
    Rgb,
    /// One channel if every image is grayscale, else three.
    Auto,
}

/// What to do with pairs whose size differs from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizePolicy {
    /// All pairs must have the size of the first one (by name); otherwise an error.
    Same,
    /// Crop each pair at its centre to `height × width` (an error if a pair is smaller).
    CenterCrop {
        /// Target height.
        height: u32,
        /// Target width.
        width: u32,
    },
    /// Resize each pair to `height × width`: images with a triangle filter, masks with
    /// nearest neighbour (so they stay binary).
    Resize {
        /// Target height.
        height: u32,
        /// Target width.
        width: u32,
    },
}

/// Configuration of [`load_pairs`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FolderConfig {
    /// Subfolder holding the images. Defaults to `"images"`.
    pub images_dir: String,
    /// Subfolder holding the masks. Defaults to `"masks"`.
    pub masks_dir: String,
    /// Channel handling. Defaults to [`Channels::Auto`].
    pub channels: Channels,
    /// Mask value marking pixels to ignore (raw value as stored: 0–255 for 8-bit masks,
    /// 0–65535 for 16-bit). Defaults to `None`.
    pub ignore_value: Option<u16>,
    /// Size policy. Defaults to [`SizePolicy::Same`].
    pub size: SizePolicy,
}

impl Default for FolderConfig {
    fn default() -> Self {
        FolderConfig {
            images_dir: "images".into(),
            masks_dir: "masks".into(),
            channels: Channels::Auto,
            ignore_value: None,
            size: SizePolicy::Same,
        }
    }
}

/// Lists `*.png` files of a directory by stem.
fn list_png(dir: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let is_png = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if is_png && path.is_file() {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                if let Some(other) = out.insert(stem.to_string(), path.clone()) {
                    return Err(Error::data(
                        &path,
                        format!("same name as {} (pairs match by stem)", other.display()),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Decodes one image file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; [`Error::Data`] naming it when it cannot
/// be decoded.
pub fn read_png(path: &Path) -> Result<DynamicImage> {
    let reader = image::ImageReader::open(path).map_err(|e| Error::io(path, e))?;
    let reader = reader
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?;
    reader
        .decode()
        .map_err(|e| Error::data(path, format!("cannot decode image: {e}")))
}

/// Converts an image to a `[C, H, W]` float tensor in `[0, 1]` with `channels` = 1 or 3.
pub fn image_tensor(img: &DynamicImage, channels: usize) -> Tensor {
    let (w, h) = (img.width() as i64, img.height() as i64);
    if channels == 1 {
        let buf = img.to_luma32f();
        Tensor::from_slice(buf.as_raw()).reshape([1, h, w])
    } else {
        let buf = img.to_rgb32f();
        Tensor::from_slice(buf.as_raw())
            .reshape([h, w, 3])
            .permute([2, 0, 1])
            .contiguous()
    }
}

fn is_gray(img: &DynamicImage) -> bool {
    !img.color().has_color()
}

/// Mask and validity planes (`H · W` each) from a decoded mask.
fn mask_planes(mask: &DynamicImage, ignore: Option<u16>) -> (Vec<f32>, Vec<f32>) {
    // Raw stored values per pixel, alpha dropped.
    let channels: Vec<Vec<u16>> = match mask {
        DynamicImage::ImageLuma8(b) => vec![b.as_raw().iter().map(|&v| u16::from(v)).collect()],
        DynamicImage::ImageLuma16(b) => vec![b.as_raw().clone()],
        DynamicImage::ImageLumaA8(b) => {
            vec![
                b.as_raw()
                    .chunks_exact(2)
                    .map(|p| u16::from(p[0]))
                    .collect(),
            ]
        }
        DynamicImage::ImageLumaA16(b) => vec![b.as_raw().chunks_exact(2).map(|p| p[0]).collect()],
        other if other.color().bytes_per_pixel() / other.color().channel_count() >= 2 => {
            let rgb = other.to_rgb16();
            (0..3)
                .map(|c| rgb.as_raw().iter().skip(c).step_by(3).copied().collect())
                .collect()
        }
        other => {
            let rgb = other.to_rgb8();
            (0..3)
                .map(|c| {
                    rgb.as_raw()
                        .iter()
                        .skip(c)
                        .step_by(3)
                        .map(|&v| u16::from(v))
                        .collect()
                })
                .collect()
        }
    };
    let n = channels[0].len();
    let mut masks = vec![0f32; n];
    let mut valid = vec![1f32; n];
    for i in 0..n {
        let ignored = ignore.is_some_and(|iv| channels.iter().all(|c| c[i] == iv));
        if ignored {
            valid[i] = 0.0;
        } else if channels.iter().any(|c| c[i] != 0) {
            masks[i] = 1.0;
        }
    }
    (masks, valid)
}

fn apply_policy(
    img: DynamicImage,
    mask: DynamicImage,
    policy: SizePolicy,
    mask_path: &Path,
) -> Result<(DynamicImage, DynamicImage)> {
    match policy {
        SizePolicy::Same => Ok((img, mask)),
        SizePolicy::CenterCrop { height, width } => {
            if img.height() < height || img.width() < width {
                return Err(Error::data(
                    mask_path,
                    format!(
                        "pair is {}x{}, smaller than the crop {height}x{width}",
                        img.height(),
                        img.width()
                    ),
                ));
            }
            let (x, y) = ((img.width() - width) / 2, (img.height() - height) / 2);
            Ok((
                img.crop_imm(x, y, width, height),
                mask.crop_imm(x, y, width, height),
            ))
        }
        SizePolicy::Resize { height, width } => Ok((
            img.resize_exact(width, height, FilterType::Triangle),
            mask.resize_exact(width, height, FilterType::Nearest),
        )),
    }
}

/// Loads every image / mask pair of `dir` (layout and rules in the module docs).
///
/// # Shapes
/// images `[N, C, H, W]` (C = 1 or 3), masks and valid `[N, 1, H, W]`.
///
/// # Errors
/// - [`Error::InvalidConfig`] for a zero-sized [`SizePolicy`] target;
/// - [`Error::Io`] when a folder or file cannot be read;
/// - [`Error::Data`] naming the file for: no image found, two files of one folder
///   with the same stem (`a.png` and `a.PNG`), an image without its mask
///   (the missing mask path), a mask without its image, an undecodable file, a mask whose
///   size differs from its image, or (with [`SizePolicy::Same`]) a pair whose size differs
///   from the first pair.
pub fn load_pairs(dir: &Path, cfg: &FolderConfig) -> Result<SegSet> {
    if let SizePolicy::CenterCrop { height, width } | SizePolicy::Resize { height, width } =
        cfg.size
    {
        if height == 0 || width == 0 {
            return Err(Error::config(
                "size",
                format!("target {height}x{width} must be positive"),
            ));
        }
    }
    let images_dir = dir.join(&cfg.images_dir);
    let masks_dir = dir.join(&cfg.masks_dir);
    let images = list_png(&images_dir)?;
    let masks = list_png(&masks_dir)?;
    if images.is_empty() {
        return Err(Error::data(&images_dir, "no .png image found"));
    }
    for (stem, path) in &masks {
        if !images.contains_key(stem) {
            return Err(Error::data(
                path,
                format!("mask has no image {stem}.png in {}", images_dir.display()),
            ));
        }
    }
    let mut pairs = Vec::with_capacity(images.len());
    for (stem, image_path) in &images {
        let Some(mask_path) = masks.get(stem) else {
            return Err(Error::data(
                masks_dir.join(format!("{stem}.png")),
                format!("missing mask for image {}", image_path.display()),
            ));
        };
        let img = read_png(image_path)?;
        let mask = read_png(mask_path)?;
        if (img.width(), img.height()) != (mask.width(), mask.height()) {
            return Err(Error::data(
                mask_path,
                format!(
                    "mask is {}x{} but its image is {}x{} (height x width)",
                    mask.height(),
                    mask.width(),
                    img.height(),
                    img.width()
                ),
            ));
        }
        let (img, mask) = apply_policy(img, mask, cfg.size, mask_path)?;
        pairs.push((image_path.clone(), img, mask));
    }
    let (h0, w0) = (pairs[0].1.height(), pairs[0].1.width());
    for (path, img, _) in &pairs {
        if (img.height(), img.width()) != (h0, w0) {
            return Err(Error::data(
                path,
                format!(
                    "image is {}x{} but {} is {h0}x{w0}; set a crop or resize size policy",
                    img.height(),
                    img.width(),
                    pairs[0].0.display()
                ),
            ));
        }
    }
    let c = match cfg.channels {
        Channels::Gray => 1,
        Channels::Rgb => 3,
        Channels::Auto if pairs.iter().all(|(_, img, _)| is_gray(img)) => 1,
        Channels::Auto => 3,
    };
    let mut image_ts = Vec::with_capacity(pairs.len());
    let mut mask_ts = Vec::with_capacity(pairs.len());
    let mut valid_ts = Vec::with_capacity(pairs.len());
    let shape = [1, h0 as i64, w0 as i64];
    for (_, img, mask) in &pairs {
        image_ts.push(image_tensor(img, c));
        let (m, v) = mask_planes(mask, cfg.ignore_value);
        mask_ts.push(Tensor::from_slice(&m).reshape(shape));
        valid_ts.push(Tensor::from_slice(&v).reshape(shape));
    }
    Ok(SegSet {
        images: Tensor::stack(&image_ts, 0).clamp(0.0, 1.0),
        masks: Tensor::stack(&mask_ts, 0),
        valid: Tensor::stack(&valid_ts, 0),
        name: format!("folder:{}", dir.display()),
    })
}
