//! Segmentation aggregation: dataset-level (all pixels) and per-image means.
//!
//! Images are given flattened and concatenated: image `i` owns the pixels
//! `i·M .. (i+1)·M` of `M = pixels_per_image` (the layout of a contiguous
//! `[N, 1, H, W]` tensor, `M = H·W`). An optional `valid` mask acts as a weight
//! (0 = ignored pixel).

use serde::{Deserialize, Serialize};

use crate::{ConfusionCounts, Error, Metric, Ranking, Result, ScoreScale, Undefined, Value};

/// What per-image means do with images whose ground truth is empty.
///
/// An image has an empty ground truth when no valid pixel is positive. Its IoU and
/// Dice are 0 if anything is predicted positive and 1 if nothing is (see
/// [`ConfusionCounts::iou`]). The per-image false positives of such images are
/// reported in [`PerImage`] whatever the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyMaskPolicy {
    /// Leave empty-truth images out of the means (they are counted apart).
    Exclude,
    /// Average them in with the values above (1 when the prediction is empty too,
    /// 0 otherwise).
    Include,
}

/// Per-image results at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerImage {
    /// The policy applied.
    pub policy: EmptyMaskPolicy,
    /// Counts of each image.
    pub counts: Vec<ConfusionCounts>,
    /// Sum of the per-image counts: the dataset-level counts at the threshold.
    pub total: ConfusionCounts,
    /// IoU of each image (`None` where the policy excluded it).
    pub iou: Vec<Option<f64>>,
    /// Dice of each image (`None` where the policy excluded it).
    pub dice: Vec<Option<f64>>,
    /// Mean IoU over the images kept; undefined ([`Undefined::NoImages`]) if none.
    pub mean_iou: Metric,
    /// Mean Dice over the images kept; undefined ([`Undefined::NoImages`]) if none.
    pub mean_dice: Metric,
    /// Number of images with an empty ground truth.
    pub empty_truth_images: usize,
    /// How many of those have at least one pixel predicted positive.
    pub empty_truth_images_with_false_positives: usize,
    /// Weight (pixel count) predicted positive on empty-truth images.
    pub empty_truth_false_positives: f64,
}

fn check_images(len: usize, pixels_per_image: usize) -> Result<usize> {
    if len == 0 {
        return Err(Error::Empty { what: "no pixels" });
    }
    if pixels_per_image == 0 || len % pixels_per_image != 0 {
        return Err(Error::InvalidConfig {
            field: "pixels_per_image",
            reason: format!("{pixels_per_image} does not divide the {len} pixels"),
        });
    }
    Ok(len / pixels_per_image)
}

/// Dataset-level ranking: every valid pixel of every image is one element.
///
/// The same as [`Ranking::new`] / [`Ranking::weighted`] with `valid` as weights.
///
/// # Shapes
/// `scores`, `labels`, `valid`: `[N·M]`.
///
/// # Errors
/// As [`Ranking::weighted`].
pub fn dataset<S: Value, L: Value, W: Value>(
    scores: &[S],
    labels: &[L],
    valid: Option<&[W]>,
    scale: ScoreScale,
) -> Result<Ranking> {
    match valid {
        Some(v) => Ranking::weighted(scores, labels, v, scale),
        None => Ranking::new(scores, labels, scale),
    }
}

/// Per-image IoU and Dice at `threshold`, averaged under `policy`.
///
/// ```text
/// mean_IoU = (1 / |I|) Σ_{i ∈ I} IoU_i,    I = images kept by the policy
/// ```
///
/// # Shapes
/// `scores`, `labels`, `valid`: `[N·M]` with `M = pixels_per_image`.
///
/// # Errors
/// [`Error::Empty`]; [`Error::InvalidConfig`] when `M` is 0 or does not divide the
/// length, or the threshold is NaN; otherwise as
/// [`ConfusionCounts::at_threshold`], with indices over the whole input.
pub fn per_image<S: Value, L: Value, W: Value>(
    scores: &[S],
    labels: &[L],
    valid: Option<&[W]>,
    pixels_per_image: usize,
    threshold: f64,
    scale: ScoreScale,
    policy: EmptyMaskPolicy,
) -> Result<PerImage> {
    let images = check_images(scores.len(), pixels_per_image)?;
    crate::input::check_len("labels", scores.len(), labels.len())?;
    if let Some(v) = valid {
        crate::input::check_len("valid", scores.len(), v.len())?;
    }
    let mut out = PerImage {
        policy,
        counts: Vec::with_capacity(images),
        total: ConfusionCounts::default(),
        iou: Vec::with_capacity(images),
        dice: Vec::with_capacity(images),
        mean_iou: Metric::undefined(Undefined::NoImages),
        mean_dice: Metric::undefined(Undefined::NoImages),
        empty_truth_images: 0,
        empty_truth_images_with_false_positives: 0,
        empty_truth_false_positives: 0.0,
    };
    let (mut sum_iou, mut sum_dice, mut kept) = (0.0, 0.0, 0usize);
    for i in 0..images {
        let r = i * pixels_per_image..(i + 1) * pixels_per_image;
        let c = ConfusionCounts::at_threshold(
            &scores[r.clone()],
            &labels[r.clone()],
            valid.map(|v| &v[r.clone()]),
            threshold,
            scale,
        )
        .map_err(|e| shift_index(e, r.start))?;
        let empty = c.positives() == 0.0;
        if empty {
            out.empty_truth_images += 1;
            if c.false_positives > 0.0 {
                out.empty_truth_images_with_false_positives += 1;
            }
            out.empty_truth_false_positives += c.false_positives;
        }
        let keep = !empty || policy == EmptyMaskPolicy::Include;
        if keep {
            let (iou, dice) = (c.iou(), c.dice());
            sum_iou += iou;
            sum_dice += dice;
            kept += 1;
            out.iou.push(Some(iou));
            out.dice.push(Some(dice));
        } else {
            out.iou.push(None);
            out.dice.push(None);
        }
        out.total.merge(&c);
        out.counts.push(c);
    }
    if kept > 0 {
        out.mean_iou = Metric::defined(sum_iou / kept as f64);
        out.mean_dice = Metric::defined(sum_dice / kept as f64);
    }
    Ok(out)
}

/// Rewrites the element index of an error raised on a sub-slice starting at `offset`.
fn shift_index(e: Error, offset: usize) -> Error {
    match e {
        Error::NanScore { index } => Error::NanScore {
            index: index + offset,
        },
        Error::ScoreOutOfRange { index, value } => Error::ScoreOutOfRange {
            index: index + offset,
            value,
        },
        Error::InvalidLabel { index, value } => Error::InvalidLabel {
            index: index + offset,
            value,
        },
        Error::InvalidWeight { index, value } => Error::InvalidWeight {
            index: index + offset,
            value,
        },
        other => other,
    }
}
