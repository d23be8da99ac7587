//! Thin adapter from tensors to the `metrics` crate: one host copy, then slices.
//!
//! Scores (logits or probabilities, as the caller declares with [`ScoreScale`]),
//! masks and the optional valid map are checked for shape, moved to the CPU,
//! flattened and copied once into host vectors; all the metric math is in `metrics`.
//! A CPU tensor that is already contiguous and of the host kind is copied exactly
//! once (no intermediate tensor). `f64` inputs stay `f64`; every other kind goes to
//! `f32`, which is exact for `f16`, `bf16`, booleans and small integers, so masks
//! with values other than 0 and 1 still reach the label check in `metrics`.
use metrics::segmentation::{self, PerImage};
use metrics::{ConfusionCounts, EmptyMaskPolicy, Ranking, ScoreScale};
use tch::{Device, Kind, Tensor};

use crate::{Error, Result};

/// Host copies of scores, masks and valid pixels, flattened in `[N, 1, H, W]` order.
#[derive(Debug, Clone, PartialEq)]
pub enum HostScores {
    /// All three in `f32` (any input kind but `f64`).
    F32 {
        /// Scores `[N·H·W]`.
        scores: Vec<f32>,
        /// Labels (mask values) `[N·H·W]`.
        labels: Vec<f32>,
        /// Valid map `[N·H·W]` (0 = ignored pixel), if given.
        valid: Option<Vec<f32>>,
    },
    /// All three in `f64` (when any input is `f64`).
    F64 {
        /// Scores `[N·H·W]`.
        scores: Vec<f64>,
        /// Labels (mask values) `[N·H·W]`.
        labels: Vec<f64>,
        /// Valid map `[N·H·W]` (0 = ignored pixel), if given.
        valid: Option<Vec<f64>>,
    },
}

/// Checks shapes and kinds and returns `(shape, pixels per image)`.
fn check(
    op: &'static str,
    scores: &Tensor,
    masks: &Tensor,
    valid: Option<&Tensor>,
) -> Result<(Vec<i64>, usize)> {
    let shape = scores.size();
    let pixels = match shape.as_slice() {
        [_] => 1,
        [_, 1, h, w] => (h * w) as usize,
        _ => {
            return Err(Error::Shape {
                op,
                what: "scores",
                expected: vec![-1, 1, -1, -1],
                got: shape,
            });
        }
    };
    Error::check_shape(op, "masks", masks, &shape)?;
    if let Some(v) = valid {
        Error::check_shape(op, "valid", v, &shape)?;
    }
    for (what, t) in [
        ("scores", Some(scores)),
        ("masks", Some(masks)),
        ("valid", valid),
    ] {
        if let Some(t) = t {
            let k = t.kind();
            let supported = matches!(
                k,
                Kind::Half
                    | Kind::BFloat16
                    | Kind::Float
                    | Kind::Double
                    | Kind::Bool
                    | Kind::Uint8
                    | Kind::Int8
                    | Kind::Int16
                    | Kind::Int
                    | Kind::Int64
            );
            if !supported {
                return Err(Error::Kind { op, what, got: k });
            }
        }
    }
    Ok((shape, pixels))
}

fn host<T: tch::kind::Element + Copy>(t: &Tensor) -> Result<Vec<T>> {
    // Each step is a no-op for a contiguous CPU tensor of kind `T`; the copy into
    // the vector is then the only one.
    let flat = t
        .to_device(Device::Cpu)
        .to_kind(T::KIND)
        .contiguous()
        .view([-1]);
    Ok(Vec::<T>::try_from(&flat)?)
}

impl HostScores {
    /// Copies `scores`, `masks` and `valid` to the host.
    ///
    /// # Shapes
    /// `scores`: `[N]` or `[N, 1, H, W]`, any device; `masks`, `valid`: the same
    /// shape. Kinds: floating point, bool or integer.
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::Kind`]; [`Error::Torch`] if libtorch fails to copy.
    pub fn from_tensors(scores: &Tensor, masks: &Tensor, valid: Option<&Tensor>) -> Result<Self> {
        check("scores::HostScores::from_tensors", scores, masks, valid)?;
        Self::copy(scores, masks, valid)
    }

    fn copy(scores: &Tensor, masks: &Tensor, valid: Option<&Tensor>) -> Result<Self> {
        let wide = [Some(scores), Some(masks), valid]
            .into_iter()
            .flatten()
            .any(|t| t.kind() == Kind::Double);
        Ok(if wide {
            HostScores::F64 {
                scores: host(scores)?,
                labels: host(masks)?,
                valid: valid.map(host).transpose()?,
            }
        } else {
            HostScores::F32 {
                scores: host(scores)?,
                labels: host(masks)?,
                valid: valid.map(host).transpose()?,
            }
        })
    }
}

/// Dataset-level ranking of all valid pixels (see [`segmentation::dataset`]).
///
/// # Shapes
/// `scores`, `masks`, `valid`: `[N]` or `[N, 1, H, W]`, any device and kind.
///
/// # Errors
/// [`Error::Shape`], [`Error::Kind`], [`Error::Torch`]; [`Error::Metrics`] for NaN
/// scores, probabilities outside `[0, 1]`, mask values other than 0 and 1, negative
/// valid values, or no valid pixel.
///
/// # Examples
/// ```
/// use metrics::ScoreScale;
/// use tch::Tensor;
/// let logits = Tensor::from_slice(&[2.0f32, -1.0, 0.5, -3.0]).view([1, 1, 2, 2]);
/// let masks = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 0.0]).view([1, 1, 2, 2]);
/// let r = seg::scores::ranking(&logits, &masks, None, ScoreScale::Logits)?;
/// assert_eq!(r.roc_auc().get(), Some(1.0));
/// # Ok::<(), seg::Error>(())
/// ```
pub fn ranking(
    scores: &Tensor,
    masks: &Tensor,
    valid: Option<&Tensor>,
    scale: ScoreScale,
) -> Result<Ranking> {
    check("scores::ranking", scores, masks, valid)?;
    Ok(match HostScores::copy(scores, masks, valid)? {
        HostScores::F32 {
            scores,
            labels,
            valid,
        } => segmentation::dataset(&scores, &labels, valid.as_deref(), scale)?,
        HostScores::F64 {
            scores,
            labels,
            valid,
        } => segmentation::dataset(&scores, &labels, valid.as_deref(), scale)?,
    })
}

/// Dataset-level confusion counts at `threshold` (score ≥ threshold ⇒ positive),
/// in one pass without sorting.
///
/// # Shapes
/// As [`ranking`].
///
/// # Errors
/// As [`ranking`], plus [`Error::Metrics`] for a NaN threshold.
pub fn confusion_at(
    scores: &Tensor,
    masks: &Tensor,
    valid: Option<&Tensor>,
    threshold: f64,
    scale: ScoreScale,
) -> Result<ConfusionCounts> {
    check("scores::confusion_at", scores, masks, valid)?;
    Ok(match HostScores::copy(scores, masks, valid)? {
        HostScores::F32 {
            scores,
            labels,
            valid,
        } => ConfusionCounts::at_threshold(&scores, &labels, valid.as_deref(), threshold, scale)?,
        HostScores::F64 {
            scores,
            labels,
            valid,
        } => ConfusionCounts::at_threshold(&scores, &labels, valid.as_deref(), threshold, scale)?,
    })
}

/// Per-image IoU and Dice at `threshold` under `policy` (see
/// [`segmentation::per_image`]).
///
/// # Shapes
/// `scores`, `masks`, `valid`: `[N, 1, H, W]` (a `[N]` input is N one-pixel images).
///
/// # Errors
/// As [`confusion_at`].
pub fn per_image(
    scores: &Tensor,
    masks: &Tensor,
    valid: Option<&Tensor>,
    threshold: f64,
    scale: ScoreScale,
    policy: EmptyMaskPolicy,
) -> Result<PerImage> {
    let (_, pixels) = check("scores::per_image", scores, masks, valid)?;
    Ok(match HostScores::copy(scores, masks, valid)? {
        HostScores::F32 {
            scores,
            labels,
            valid,
        } => segmentation::per_image(
            &scores,
            &labels,
            valid.as_deref(),
            pixels,
            threshold,
            scale,
            policy,
        )?,
        HostScores::F64 {
            scores,
            labels,
            valid,
        } => segmentation::per_image(
            &scores,
            &labels,
            valid.as_deref(),
            pixels,
            threshold,
            scale,
            policy,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use metrics::Undefined;

    use super::*;

    fn images() -> (Tensor, Tensor, Tensor) {
        let logits = Tensor::from_slice(&[2.0f32, -1.0, 0.5, -3.0, 1.0, 1.0, -2.0, 0.0]);
        let masks = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let valid = Tensor::from_slice(&[1.0f32, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
        let v = |t: Tensor| t.view([2, 1, 2, 2]);
        (v(logits), v(masks), v(valid))
    }

    #[test]
    fn tensor_ranking_equals_slice_ranking() {
        let (l, m, v) = images();
        let r = ranking(&l, &m, Some(&v), ScoreScale::Logits).unwrap();
        let want = metrics::Ranking::weighted(
            &[2.0f32, -1.0, 0.5, -3.0, 1.0, 1.0, -2.0, 0.0],
            &[1u8, 0, 1, 0, 0, 0, 0, 0],
            &[1.0f32, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0],
            ScoreScale::Logits,
        )
        .unwrap();
        assert_eq!(r, want);
        // Same from a non-contiguous view and from bool masks.
        let lt = l.transpose(2, 3).contiguous().transpose(2, 3);
        assert!(!lt.is_contiguous());
        let r2 = ranking(&lt, &m.to_kind(Kind::Bool), Some(&v), ScoreScale::Logits).unwrap();
        assert_eq!(r2, want);
    }

    #[test]
    fn doubles_stay_doubles() {
        let s = Tensor::from_slice(&[0.5f64, 0.5 + 1e-12, 0.2]);
        let m = Tensor::from_slice(&[0.0f64, 1.0, 0.0]);
        let r = ranking(&s, &m, None, ScoreScale::Probabilities).unwrap();
        // In f32 the two top scores would tie (AUC 0.75); in f64 the positive wins.
        assert_eq!(r.roc_auc().get(), Some(1.0));
        assert_eq!(r.thresholds().len(), 3);
    }

    #[test]
    fn per_image_and_counts_follow_the_policy() {
        let (l, m, v) = images();
        let p = per_image(
            &l,
            &m,
            Some(&v),
            0.0,
            ScoreScale::Logits,
            EmptyMaskPolicy::Exclude,
        )
        .unwrap();
        // Image 0: 2.0 and 0.5 are positive and predicted; 0.5 ≥ 0 → IoU 1.
        assert_eq!(p.iou, vec![Some(1.0), None]);
        // Image 1 (empty truth): 1.0 and 0.0 predicted positive (the 1.0 twin is ignored).
        assert_eq!(p.empty_truth_false_positives, 2.0);
        let c = confusion_at(&l, &m, Some(&v), 0.0, ScoreScale::Logits).unwrap();
        assert_eq!(c, p.total);
        assert_eq!(c.precision().get(), Some(0.5));
    }

    #[test]
    fn bad_shapes_kinds_and_values_are_errors() {
        let (l, m, _) = images();
        let e = ranking(&l, &m.view([2, 4]), None, ScoreScale::Logits).unwrap_err();
        assert!(matches!(e, Error::Shape { what: "masks", .. }), "{e}");
        let e = ranking(
            &l.view([2, 2, 2]),
            &m.view([2, 2, 2]),
            None,
            ScoreScale::Logits,
        );
        assert!(matches!(e, Err(Error::Shape { what: "scores", .. })));
        let half = Tensor::from_slice(&[0.5f32]);
        let e = ranking(&half, &half, None, ScoreScale::Probabilities).unwrap_err();
        assert!(matches!(
            e,
            Error::Metrics(metrics::Error::InvalidLabel { index: 0, .. })
        ));
        let e = ranking(&l, &m, None, ScoreScale::Probabilities).unwrap_err();
        assert!(matches!(
            e,
            Error::Metrics(metrics::Error::ScoreOutOfRange { .. })
        ));
        let r = ranking(&l, &m.zeros_like(), None, ScoreScale::Logits).unwrap();
        assert_eq!(r.roc_auc().undefined, Some(Undefined::NoPositives));
    }
}
