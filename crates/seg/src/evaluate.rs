//! Honest evaluation: the decision threshold is chosen on validation data, then every
//! test figure is read at that threshold, plus threshold-free AP and ROC-AUC.
//!
//! All metric math comes from the `metrics` crate, reached through the tensor adapter
//! [`crate::scores`]; this module chooses, combines and reports. Scores are the model's
//! logits (ranked as they are, so large logits that would round to the same `f32`
//! probability stay distinct); the rule everywhere is **predicted positive ⇔ logit ≥
//! threshold**. Only valid pixels (valid = 1) count.
use metrics::{ConfusionCounts, EmptyMaskPolicy, Ranking, ScoreScale};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::data::SegSet;
use crate::model::UNet;
use crate::objective::check_pixels;
use crate::scores;
use crate::{Error, Result};

/// Settings of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// Recall the validation threshold must reach, in (0, 1]; defaults to `0.9`.
    pub target_recall: f64,
    /// Images per forward pass; defaults to `32`.
    pub batch_size: usize,
    /// Most points kept on the test PR curve (≥ 2); defaults to `200`.
    pub curve_points: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            target_recall: 0.9,
            batch_size: 32,
            curve_points: 200,
        }
    }
}

impl EvalConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a target outside (0, 1], `batch_size = 0` or
    /// `curve_points < 2`.
    pub fn validate(&self) -> Result<()> {
        check_target(self.target_recall)?;
        if self.batch_size == 0 {
            return Err(Error::config("batch_size", "must be at least 1, got 0"));
        }
        if self.curve_points < 2 {
            return Err(Error::config(
                "curve_points",
                format!("must be at least 2, got {}", self.curve_points),
            ));
        }
        Ok(())
    }
}

pub(crate) fn check_target(target_recall: f64) -> Result<()> {
    if target_recall > 0.0 && target_recall <= 1.0 {
        Ok(())
    } else {
        Err(Error::config(
            "target_recall",
            format!("must lie in (0, 1], got {target_recall}"),
        ))
    }
}

/// The decision threshold chosen on validation data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChoice {
    /// The recall the threshold was chosen to reach.
    pub target_recall: f64,
    /// The threshold on the logits (predicted positive ⇔ logit ≥ threshold).
    pub threshold_logit: f64,
    /// The same threshold as a probability, σ(threshold_logit).
    pub threshold_probability: f64,
    /// Validation precision at the threshold (`None` when undefined).
    pub val_precision: Option<f64>,
    /// Validation recall at the threshold (`None` when undefined).
    pub val_recall: Option<f64>,
    /// `None` when the rule applied; otherwise why the fallback threshold (logit 0,
    /// probability 0.5) was used.
    pub fallback: Option<String>,
}

/// Chooses the threshold with the best validation precision subject to
/// recall ≥ `target_recall`.
///
/// ```text
/// t* = argmax { precision(t) : t ∈ T, recall(t) ≥ r }     T = the distinct valid logits
/// ```
///
/// Ties in precision go to the lower threshold (higher recall); see
/// [`Ranking::precision_at_recall`]. With both classes present this is always
/// feasible (the lowest logit gives recall 1). **Fallback**: when the validation
/// pixels have no positive or no negative, the rule is undefined; the threshold is then
/// logit 0 (probability 0.5) and [`ThresholdChoice::fallback`] says why.
///
/// # Shapes
/// `logits`, `masks`, `valid`: `[N, 1, H, W]`, any device; masks and valid in {0, 1}.
///
/// # Errors
/// [`Error::InvalidConfig`] for a target outside (0, 1]; [`Error::Shape`] for shapes
/// that differ; [`Error::Metrics`] for NaN logits, non-binary masks, bad weights, or
/// no valid pixel.
pub fn choose_threshold(
    logits: &Tensor,
    masks: &Tensor,
    valid: &Tensor,
    target_recall: f64,
) -> Result<ThresholdChoice> {
    check_target(target_recall)?;
    let ranking = rank("choose_threshold", logits, masks, valid)?;
    Ok(choose_from(&ranking, target_recall)?)
}

fn choose_from(ranking: &Ranking, target_recall: f64) -> metrics::Result<ThresholdChoice> {
    let point = ranking.precision_at_recall(target_recall)?;
    let (threshold_logit, fallback) = match (point.threshold, point.undefined) {
        (Some(t), _) => (t, None),
        (None, Some(reason)) => (
            0.0,
            Some(format!(
                "validation pixels have {reason}: threshold set to logit 0"
            )),
        ),
        (None, None) => (
            0.0,
            Some(format!(
                "no threshold reaches recall {target_recall} on validation: threshold set to \
                 logit 0"
            )),
        ),
    };
    let counts = ranking.confusion_at(threshold_logit);
    Ok(ThresholdChoice {
        target_recall,
        threshold_logit,
        threshold_probability: ScoreScale::Logits.to_probability(threshold_logit),
        val_precision: counts.precision().get(),
        val_recall: counts.recall().get(),
        fallback,
    })
}

/// What [`crate::train::train`] records on validation each epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationMetrics {
    /// Best precision subject to recall ≥ target (`None` when undefined).
    pub precision_at_target_recall: Option<f64>,
    /// Average precision over all valid pixels (`None` when undefined).
    pub ap: Option<f64>,
    /// Dataset-level IoU at the chosen threshold.
    pub iou: f64,
    /// The threshold chosen on these pixels.
    pub threshold: ThresholdChoice,
}

/// P@R at `target_recall`, AP, and IoU at the P@R threshold, over all valid pixels.
///
/// # Shapes
/// As [`choose_threshold`].
///
/// # Errors
/// As [`choose_threshold`].
pub fn validation_metrics(
    logits: &Tensor,
    masks: &Tensor,
    valid: &Tensor,
    target_recall: f64,
) -> Result<ValidationMetrics> {
    check_target(target_recall)?;
    let ranking = rank("validation_metrics", logits, masks, valid)?;
    let threshold = choose_from(&ranking, target_recall)?;
    let counts = ranking.confusion_at(threshold.threshold_logit);
    Ok(ValidationMetrics {
        precision_at_target_recall: if threshold.fallback.is_none() {
            threshold.val_precision
        } else {
            None
        },
        ap: ranking.average_precision().get(),
        iou: counts.iou(),
        threshold,
    })
}

/// Test figures at a threshold chosen beforehand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// The threshold used (chosen on validation).
    pub threshold: ThresholdChoice,
    /// Precision at the threshold (`None` when nothing is predicted positive).
    pub precision: Option<f64>,
    /// Achieved recall at the threshold (`None` without positives); compare with
    /// `threshold.target_recall`.
    pub recall: Option<f64>,
    /// Dataset-level IoU, TP / (TP + FP + FN) over all valid pixels.
    pub iou: f64,
    /// Dataset-level Dice, 2·TP / (2·TP + FP + FN).
    pub dice: f64,
    /// Mean of the per-image IoU over images whose mask is not empty (`None` if none).
    pub mean_image_iou: Option<f64>,
    /// Average precision over all valid pixels, threshold-free (`None` without positives).
    pub ap: Option<f64>,
    /// ROC-AUC over all valid pixels, threshold-free (`None` when a class is missing).
    pub roc_auc: Option<f64>,
    /// Confusion counts at the threshold (valid pixels).
    pub counts: ConfusionCounts,
    /// Number of images.
    pub images: usize,
    /// Number of images whose mask has no positive valid pixel.
    pub empty_mask_images: usize,
    /// How many of those have at least one pixel predicted positive.
    pub empty_mask_images_with_false_positives: usize,
    /// Pixels predicted positive on images whose mask is empty.
    pub empty_mask_false_positive_pixels: f64,
}

/// Reads every test figure at `choice.threshold_logit`.
///
/// ```text
/// precision = TP / (TP + FP)   recall = TP / (TP + FN)   IoU = TP / (TP + FP + FN)
/// Dice = 2·TP / (2·TP + FP + FN)                          (counts over valid pixels)
/// ```
///
/// AP and ROC-AUC rank all valid pixels of all images
/// ([`Ranking::average_precision`], [`Ranking::roc_auc`]).
///
/// # Shapes
/// As [`choose_threshold`].
///
/// # Errors
/// [`Error::Shape`] for shapes that differ; [`Error::Metrics`] for NaN logits,
/// non-binary masks or no valid pixel.
pub fn report_at(
    logits: &Tensor,
    masks: &Tensor,
    valid: &Tensor,
    choice: &ThresholdChoice,
) -> Result<TestReport> {
    let shape = check_pixels("report_at", logits, masks, valid)?;
    let ranking = scores::ranking(logits, masks, Some(valid), ScoreScale::Logits)?;
    let per_image = scores::per_image(
        logits,
        masks,
        Some(valid),
        choice.threshold_logit,
        ScoreScale::Logits,
        EmptyMaskPolicy::Exclude,
    )?;
    let counts = ranking.confusion_at(choice.threshold_logit);
    Ok(TestReport {
        threshold: choice.clone(),
        precision: counts.precision().get(),
        recall: counts.recall().get(),
        iou: counts.iou(),
        dice: counts.dice(),
        mean_image_iou: per_image.mean_iou.get(),
        ap: ranking.average_precision().get(),
        roc_auc: ranking.roc_auc().get(),
        counts,
        images: shape[0] as usize,
        empty_mask_images: per_image.empty_truth_images,
        empty_mask_images_with_false_positives: per_image.empty_truth_images_with_false_positives,
        empty_mask_false_positive_pixels: per_image.empty_truth_false_positives,
    })
}

/// One point of a precision-recall curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Threshold on the logits.
    pub threshold_logit: f64,
    /// Precision at the threshold.
    pub precision: f64,
    /// Recall at the threshold.
    pub recall: f64,
}

/// The PR curve of all valid pixels, downsampled to at most `max_points` points for
/// plots.
///
/// Downsampling keeps, for each of `max_points` evenly spaced recall levels
/// `r_j = j / (max_points − 1)`, the first curve point (highest threshold) whose recall
/// is ≥ `r_j`, without duplicates, so the first point reaching recall 1 (the best
/// precision there) is always kept. Points are ordered by decreasing threshold.
///
/// # Shapes
/// As [`choose_threshold`].
///
/// # Errors
/// [`Error::InvalidConfig`] when `max_points < 2`; as [`choose_threshold`]; and
/// [`Error::Metrics`] when a class is missing (the curve is undefined).
pub fn pr_curve_points(
    logits: &Tensor,
    masks: &Tensor,
    valid: &Tensor,
    max_points: usize,
) -> Result<Vec<CurvePoint>> {
    if max_points < 2 {
        return Err(Error::config(
            "curve_points",
            format!("must be at least 2, got {max_points}"),
        ));
    }
    let ranking = rank("pr_curve_points", logits, masks, valid)?;
    downsample(&ranking, max_points)
}

fn downsample(ranking: &Ranking, max_points: usize) -> Result<Vec<CurvePoint>> {
    let curve = ranking.pr_curve()?;
    let n = curve.thresholds.len();
    let mut kept: Vec<usize> = Vec::with_capacity(max_points.min(n));
    let mut k = 0;
    for j in 0..max_points {
        let level = j as f64 / (max_points - 1) as f64;
        while k < n && curve.recall[k] < level {
            k += 1;
        }
        if k < n && kept.last() != Some(&k) {
            kept.push(k);
        }
    }
    Ok(kept
        .into_iter()
        .map(|i| CurvePoint {
            threshold_logit: curve.thresholds[i],
            precision: curve.precision[i],
            recall: curve.recall[i],
        })
        .collect())
}

/// The full evaluation of a model: threshold from validation, figures on test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The settings used.
    pub config: EvalConfig,
    /// Test figures at the validation threshold (which it contains).
    pub test: TestReport,
    /// Test PR curve, downsampled.
    pub pr_curve: Vec<CurvePoint>,
}

/// Runs `model` on `val` and `test`, chooses the threshold on `val` with
/// [`choose_threshold`], and reports on `test` with [`report_at`] and
/// [`pr_curve_points`].
///
/// # Errors
/// [`Error::InvalidConfig`] from [`EvalConfig::validate`]; as [`predict_logits`],
/// [`choose_threshold`] and [`report_at`]; the PR curve is left empty (not an error)
/// when the test set misses a class.
pub fn evaluate(
    model: &UNet,
    val: &SegSet,
    test: &SegSet,
    config: &EvalConfig,
) -> Result<Evaluation> {
    config.validate()?;
    let val_logits = predict_logits(model, val, config.batch_size)?;
    let choice = choose_threshold(&val_logits, &val.masks, &val.valid, config.target_recall)?;
    drop(val_logits);
    let test_logits = predict_logits(model, test, config.batch_size)?;
    let report = report_at(&test_logits, &test.masks, &test.valid, &choice)?;
    let ranking = rank("evaluate", &test_logits, &test.masks, &test.valid)?;
    let pr_curve = if ranking.missing_class().is_some() {
        Vec::new()
    } else {
        downsample(&ranking, config.curve_points)?
    };
    Ok(Evaluation {
        config: config.clone(),
        test: report,
        pr_curve,
    })
}

/// The model's logits for every image of `set`, in evaluation mode (batch-norm running
/// statistics) and without gradients, on the CPU.
///
/// # Shapes
/// `set.images` `[N, C, H, W]` → `[N, 1, H, W]` Float on the CPU.
///
/// # Errors
/// [`Error::InvalidConfig`] for `batch_size = 0` or an empty set; as
/// [`UNet::f_forward_t`] (channel mismatch, non-float images).
pub fn predict_logits(model: &UNet, set: &SegSet, batch_size: usize) -> Result<Tensor> {
    if batch_size == 0 {
        return Err(Error::config("batch_size", "must be at least 1, got 0"));
    }
    let n = set.images.size().first().copied().unwrap_or(0);
    if n == 0 {
        return Err(Error::data(&set.name, "the set holds no image"));
    }
    let device = model.device();
    let mut out = Vec::new();
    tch::no_grad(|| -> Result<()> {
        let mut start = 0;
        while start < n {
            let len = (batch_size as i64).min(n - start);
            let images = set.images.narrow(0, start, len).to_device(device);
            let logits = model.f_forward_t(&images, false)?;
            out.push(logits.to_device(Device::Cpu).to_kind(Kind::Float));
            start += len;
        }
        Ok(())
    })?;
    Ok(Tensor::cat(&out, 0))
}

/// Ranks the valid pixels by logit (through [`crate::scores`]).
fn rank(op: &'static str, logits: &Tensor, masks: &Tensor, valid: &Tensor) -> Result<Ranking> {
    check_pixels(op, logits, masks, valid)?;
    scores::ranking(logits, masks, Some(valid), ScoreScale::Logits)
}
