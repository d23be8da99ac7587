//! Dataset-level and per-image aggregation with the empty-mask policy.

use metrics::segmentation::{dataset, per_image};
use metrics::{EmptyMaskPolicy, Error, Ranking, ScoreScale, Undefined};

const P: ScoreScale = ScoreScale::Probabilities;

/// Four 2×2 images: normal; empty truth with one false positive; both empty;
/// normal with an ignored pixel.
fn images() -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let scores = vec![
        0.9, 0.8, 0.2, 0.6, // image 0
        0.7, 0.1, 0.1, 0.1, // image 1
        0.1, 0.2, 0.3, 0.4, // image 2
        0.9, 0.9, 0.1, 0.1, // image 3
    ];
    let masks = vec![
        1.0, 0.0, 1.0, 0.0, //
        0.0, 0.0, 0.0, 0.0, //
        0.0, 0.0, 0.0, 0.0, //
        1.0, 1.0, 0.0, 1.0, //
    ];
    let valid = vec![
        1.0, 1.0, 1.0, 1.0, //
        1.0, 1.0, 1.0, 1.0, //
        1.0, 1.0, 1.0, 1.0, //
        1.0, 1.0, 1.0, 0.0, //
    ];
    (scores, masks, valid)
}

#[test]
fn per_image_policies_differ_only_on_empty_truth_images() {
    let (s, m, v) = images();
    let run = |policy| per_image(&s, &m, Some(&v), 4, 0.5, P, policy).unwrap();
    let ex = run(EmptyMaskPolicy::Exclude);
    let inc = run(EmptyMaskPolicy::Include);
    // Image 0: tp 1, fp 2, fn 1 → IoU 1/4, Dice 2/5. Image 3: tp 2 → IoU 1, Dice 1.
    assert_eq!(ex.iou, vec![Some(0.25), None, None, Some(1.0)]);
    assert_eq!(ex.mean_iou.get(), Some(0.625));
    assert_eq!(ex.mean_dice.get(), Some((0.4 + 1.0) / 2.0));
    // Include: image 1 (false positive) scores 0, image 2 (both empty) scores 1.
    assert_eq!(inc.iou, vec![Some(0.25), Some(0.0), Some(1.0), Some(1.0)]);
    assert_eq!(inc.mean_iou.get(), Some(2.25 / 4.0));
    for r in [&ex, &inc] {
        assert_eq!(r.empty_truth_images, 2);
        assert_eq!(r.empty_truth_images_with_false_positives, 1);
        assert_eq!(r.empty_truth_false_positives, 1.0);
    }
    // The summed counts are the dataset-level counts at the same threshold.
    let d = dataset(&s, &m, Some(&v), P).unwrap();
    assert_eq!(ex.total, d.confusion_at(0.5));
}

#[test]
fn no_image_left_makes_the_mean_undefined() {
    let r = per_image(
        &[0.9f32, 0.1],
        &[0u8, 0],
        None::<&[f32]>,
        1,
        0.5,
        P,
        EmptyMaskPolicy::Exclude,
    )
    .unwrap();
    assert!(r.mean_iou.value.is_nan());
    assert_eq!(r.mean_iou.undefined, Some(Undefined::NoImages));
}

#[test]
fn dataset_level_ignores_invalid_pixels() {
    let (s, m, v) = images();
    let d = dataset(&s, &m, Some(&v), P).unwrap();
    let keep: Vec<usize> = (0..s.len()).filter(|&i| v[i] > 0.0).collect();
    let s2: Vec<f32> = keep.iter().map(|&i| s[i]).collect();
    let m2: Vec<f32> = keep.iter().map(|&i| m[i]).collect();
    assert_eq!(d, Ranking::new(&s2, &m2, P).unwrap());
}

#[test]
fn bad_image_layout_and_pixels_are_reported() {
    let (s, m, v) = images();
    let e = per_image(&s, &m, Some(&v), 5, 0.5, P, EmptyMaskPolicy::Include).unwrap_err();
    assert!(matches!(
        e,
        Error::InvalidConfig {
            field: "pixels_per_image",
            ..
        }
    ));
    let mut bad = m.clone();
    bad[9] = 0.5;
    let e = per_image(&s, &bad, Some(&v), 4, 0.5, P, EmptyMaskPolicy::Include).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidLabel {
            index: 9,
            value: 0.5
        }
    );
}
