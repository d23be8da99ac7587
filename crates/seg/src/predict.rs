//! Prediction on a folder of images: probability maps and binary masks as PNG.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Device, Kind};

use crate::data::folder::{image_tensor, read_png};
use crate::model::UNet;
use crate::{Error, Result};

/// What [`predict_folder`] wrote for one input image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictedImage {
    /// The input image.
    pub input: PathBuf,
    /// The probability map: 8-bit grayscale, value round(255·p).
    pub probability_png: PathBuf,
    /// The binary mask: 8-bit grayscale, 255 where p ≥ threshold, else 0.
    pub mask_png: PathBuf,
    /// Image height.
    pub height: u32,
    /// Image width.
    pub width: u32,
    /// Pixels predicted positive.
    pub positive_pixels: u64,
}

/// Runs `model` (evaluation mode) on every `*.png` in `input_dir` (sorted by name) and
/// writes `STEM_prob.png` and `STEM_mask.png` for each into `output_dir` (created if
/// missing).
///
/// ```text
/// p    = σ(logit)                       computed in f64
/// prob = round(255 · p)                 8-bit grayscale
/// mask = 255 if p ≥ threshold else 0    8-bit grayscale
/// ```
///
/// Images are decoded with [`crate::data::folder::read_png`] and converted to the
/// model's channel count (luma for 1 channel, RGB for 3, alpha dropped) with values in
/// [0, 1], as the folder reader does for training; any size is accepted. Use the
/// threshold chosen on validation ([`crate::evaluate::ThresholdChoice::threshold_probability`]).
///
/// # Errors
/// [`Error::InvalidConfig`] for a threshold outside [0, 1] (or NaN) or a model whose
/// `in_channels` is neither 1 nor 3; [`Error::Io`] when a folder cannot be read or
/// created or a PNG cannot be written; [`Error::Data`] when `input_dir` holds no PNG,
/// two PNGs with one stem (`a.png`, `a.PNG`: their outputs would collide) or a file
/// that cannot be decoded.
pub fn predict_folder(
    model: &UNet,
    input_dir: &Path,
    output_dir: &Path,
    threshold: f64,
) -> Result<Vec<PredictedImage>> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(Error::config(
            "threshold",
            format!("must be a probability in [0, 1], got {threshold}"),
        ));
    }
    let channels = model.config().in_channels;
    if channels != 1 && channels != 3 {
        return Err(Error::config(
            "in_channels",
            format!("prediction on PNG files needs a model with 1 or 3 channels, got {channels}"),
        ));
    }
    let mut inputs = Vec::new();
    for entry in std::fs::read_dir(input_dir).map_err(|e| Error::io(input_dir, e))? {
        let path = entry.map_err(|e| Error::io(input_dir, e))?.path();
        let is_png = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if is_png && path.is_file() {
            inputs.push(path);
        }
    }
    if inputs.is_empty() {
        return Err(Error::data(input_dir, "no PNG image in the folder"));
    }
    inputs.sort();
    let mut stems = std::collections::HashMap::new();
    for input in &inputs {
        let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned());
        if let Some(other) = stems.insert(stem, input) {
            return Err(Error::data(
                input,
                format!(
                    "same stem as {}: both would write one output file",
                    other.display()
                ),
            ));
        }
    }
    std::fs::create_dir_all(output_dir).map_err(|e| Error::io(output_dir, e))?;

    let mut written = Vec::with_capacity(inputs.len());
    for input in inputs {
        let img = read_png(&input)?;
        let (width, height) = (img.width(), img.height());
        let x = image_tensor(&img, channels as usize)
            .unsqueeze(0)
            .to_device(model.device()); // [1, C, H, W]
        let logits = tch::no_grad(|| model.f_forward_t(&x, false))?; // [1, 1, H, W]
        let p = logits
            .to_device(Device::Cpu)
            .to_kind(Kind::Double)
            .sigmoid()
            .flatten(0, -1);
        let p = Vec::<f64>::try_from(&p).expect("a flat CPU Double tensor should convert");
        let prob: Vec<u8> = p.iter().map(|&v| (v * 255.0).round() as u8).collect();
        let mask: Vec<u8> = p
            .iter()
            .map(|&v| if v >= threshold { 255 } else { 0 })
            .collect();
        let positive_pixels = mask.iter().filter(|&&m| m > 0).count() as u64;
        // The same (lossy) stem as the collision check above.
        let stem = input
            .file_stem()
            .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
        let probability_png = output_dir.join(format!("{stem}_prob.png"));
        let mask_png = output_dir.join(format!("{stem}_mask.png"));
        write_gray(&probability_png, width, height, prob)?;
        write_gray(&mask_png, width, height, mask)?;
        written.push(PredictedImage {
            input,
            probability_png,
            mask_png,
            height,
            width,
            positive_pixels,
        });
    }
    Ok(written)
}

fn write_gray(path: &Path, width: u32, height: u32, pixels: Vec<u8>) -> Result<()> {
    let img = image::GrayImage::from_raw(width, height, pixels)
        .expect("the buffer should hold width · height pixels");
    img.save(path).map_err(|e| match e {
        image::ImageError::IoError(source) => Error::io(path, source),
        other => Error::data(path, format!("cannot encode PNG: {other}")),
    })
}
