//! The edge-case policy table of docs/metrics.md, one test per row.

use metrics::{ConfusionCounts, Error, Ranking, ScoreScale, Undefined};

const L: ScoreScale = ScoreScale::Logits;
const P: ScoreScale = ScoreScale::Probabilities;

#[test]
fn no_positives_makes_ranking_metrics_undefined_not_zero() {
    let r = Ranking::new(&[0.9, 0.2, 0.5], &[0u8, 0, 0], P).unwrap();
    for m in [r.roc_auc(), r.average_precision()] {
        assert!(m.value.is_nan());
        assert_eq!(m.undefined, Some(Undefined::NoPositives));
    }
    for p in [
        r.precision_at_recall(0.5).unwrap(),
        r.recall_at_precision(0.5).unwrap(),
        r.tpr_at_fpr(0.5).unwrap(),
        r.fpr_at_tpr(0.5).unwrap(),
    ] {
        assert!(p.value.is_nan() && !p.feasible && p.threshold.is_none());
        assert_eq!(p.undefined, Some(Undefined::NoPositives));
    }
    assert_eq!(
        r.pr_curve(),
        Err(Error::UndefinedCurve {
            reason: Undefined::NoPositives
        })
    );
    assert!(r.roc_curve().is_err());
}

#[test]
fn no_negatives_makes_auc_and_operating_points_undefined_but_ap_is_one() {
    let r = Ranking::new(&[0.9, 0.2, 0.5, 0.5], &[1u8, 1, 1, 1], P).unwrap();
    let auc = r.roc_auc();
    assert!(auc.value.is_nan());
    assert_eq!(auc.undefined, Some(Undefined::NoNegatives));
    assert_eq!(r.average_precision().get(), Some(1.0));
    let p = r.precision_at_recall(0.5).unwrap();
    assert!(p.value.is_nan() && !p.feasible && p.threshold.is_none());
    assert_eq!(p.undefined, Some(Undefined::NoNegatives));
    let q = r.recall_at_precision(0.5).unwrap();
    assert_eq!(q.undefined, Some(Undefined::NoNegatives));
    assert!(r.roc_curve().is_err());
    assert!(r.pr_curve().is_ok());
}

#[test]
fn nothing_predicted_positive_leaves_precision_undefined() {
    let c = ConfusionCounts::at_threshold(&[0.1, 0.4], &[1u8, 0], None::<&[f64]>, 0.5, P).unwrap();
    assert_eq!(c.true_positives + c.false_positives, 0.0);
    let p = c.precision();
    assert!(p.value.is_nan());
    assert_eq!(p.undefined, Some(Undefined::NothingPredictedPositive));
    assert_eq!(c.recall().get(), Some(0.0));
    // The same from a ranking, at a threshold above every score.
    let r = Ranking::new(&[0.1, 0.4], &[1u8, 0], P).unwrap();
    assert!(r.confusion_at(0.9).precision().value.is_nan());
}

#[test]
fn unattainable_target_is_infeasible_without_sentinel_threshold() {
    // A negative holds the top score: precision 1 and FPR 0 are out of reach.
    let r = Ranking::new(&[3.0, 2.0, 1.0, 0.0], &[0u8, 1, 1, 0], L).unwrap();
    let rp = r.recall_at_precision(1.0).unwrap();
    assert!(!rp.feasible && rp.threshold.is_none() && rp.achieved.is_none());
    assert_eq!(rp.value, 0.0);
    assert_eq!(rp.undefined, None);
    let tf = r.tpr_at_fpr(0.0).unwrap();
    assert!(!tf.feasible && tf.threshold.is_none());
    assert_eq!(tf.value, 0.0);
    // A reachable target on the same data is feasible, with a real score as threshold.
    let ok = r.recall_at_precision(2.0 / 3.0).unwrap();
    assert!(ok.feasible);
    assert_eq!(ok.threshold, Some(1.0));
    assert_eq!(ok.value, 1.0);
}

#[test]
fn zero_weight_is_absent_and_adds_no_curve_point() {
    let scores = [0.9, 0.7, 0.6, 0.3, 0.1];
    let labels = [1u8, 0, 1, 1, 0];
    let weights = [1.0, 0.0, 2.0, 1.0, 0.0];
    let r = Ranking::weighted(&scores, &labels, &weights, P).unwrap();
    let kept = Ranking::weighted(&[0.9, 0.6, 0.3], &[1u8, 1, 1], &[1.0, 2.0, 1.0], P).unwrap();
    assert_eq!(r.thresholds(), &[0.9, 0.6, 0.3]);
    assert_eq!(r, kept);
    assert_eq!(r.elements(), 3);
    // All weights zero: nothing left to evaluate.
    let e = Ranking::weighted(&[0.5], &[1u8], &[0.0], P).unwrap_err();
    assert!(matches!(e, Error::Empty { .. }));
}

#[test]
fn scale_is_declared_never_guessed() {
    let logits = [2.0, -1.0, 0.5, 3.0, -2.0];
    let labels = [1u8, 0, 0, 1, 1];
    // Logits outside [0, 1] are rejected as probabilities, not reinterpreted.
    let e = Ranking::new(&logits, &labels, P).unwrap_err();
    assert_eq!(
        e,
        Error::ScoreOutOfRange {
            index: 0,
            value: 2.0
        }
    );
    let r = Ranking::new(&logits, &labels, L).unwrap();
    let probs: Vec<f64> = logits.iter().map(|&x| L.to_probability(x)).collect();
    let q = Ranking::new(&probs, &labels, P).unwrap();
    assert_eq!(r.roc_auc(), q.roc_auc());
    assert_eq!(r.average_precision(), q.average_precision());
    // Thresholds are reported in the declared scale.
    let (a, b) = (
        r.precision_at_recall(1.0).unwrap(),
        q.precision_at_recall(1.0).unwrap(),
    );
    assert_eq!(a.threshold, Some(-2.0));
    assert_eq!(b.threshold, Some(L.to_probability(-2.0)));
    // Probabilities in [0, 1] pass, including both ends.
    assert!(Ranking::new(&[0.0, 1.0], &[0u8, 1], P).is_ok());
}

#[test]
fn empty_input_is_an_error() {
    let e = Ranking::new::<f64, u8>(&[], &[], L).unwrap_err();
    assert!(matches!(e, Error::Empty { .. }));
    let e = ConfusionCounts::at_threshold::<f64, u8, f64>(&[], &[], None, 0.0, L).unwrap_err();
    assert!(matches!(e, Error::Empty { .. }));
}

#[test]
fn nan_score_is_an_error_naming_the_index() {
    let e = Ranking::new(&[0.1, f64::NAN], &[0u8, 1], L).unwrap_err();
    assert_eq!(e, Error::NanScore { index: 1 });
    assert_eq!(e.to_string(), "score at index 1 is NaN");
    // Infinite logits are ordinary (extreme) scores.
    let r = Ranking::new(&[f64::INFINITY, f64::NEG_INFINITY], &[1u8, 0], L).unwrap();
    assert_eq!(r.roc_auc().get(), Some(1.0));
}

#[test]
fn labels_outside_zero_one_are_errors() {
    let e = Ranking::new(&[0.1, 0.2, 0.3], &[0.0, 1.0, 0.5], L).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidLabel {
            index: 2,
            value: 0.5
        }
    );
    let e = Ranking::new(&[0.1, 0.2], &[2i32, 1], L).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidLabel {
            index: 0,
            value: 2.0
        }
    );
    assert!(Ranking::new(&[0.1, 0.2], &[true, false], L).is_ok());
}

#[test]
fn negative_nan_or_infinite_weights_are_errors() {
    for (w, index) in [(-1.0, 1), (f64::NAN, 0), (f64::INFINITY, 1)] {
        let weights = if index == 0 { [w, 1.0] } else { [1.0, w] };
        let e = Ranking::weighted(&[0.1, 0.2], &[0u8, 1], &weights, L).unwrap_err();
        assert!(
            matches!(e, Error::InvalidWeight { index: i, .. } if i == index),
            "{e}"
        );
    }
}

#[test]
fn mismatched_lengths_and_bad_targets_are_errors() {
    let e = Ranking::new(&[0.1, 0.2], &[0u8], L).unwrap_err();
    assert_eq!(
        e,
        Error::LengthMismatch {
            what: "labels",
            expected: 2,
            got: 1
        }
    );
    let r = Ranking::new(&[0.1, 0.2], &[0u8, 1], L).unwrap();
    for t in [-0.1, 1.5, f64::NAN] {
        assert!(matches!(
            r.precision_at_recall(t),
            Err(Error::InvalidTarget { .. })
        ));
        assert!(r.recall_at_precision(t).is_err());
        assert!(r.tpr_at_fpr(t).is_err());
        assert!(r.fpr_at_tpr(t).is_err());
    }
}

#[test]
fn dice_and_iou_on_empty_masks() {
    let none = None::<&[f64]>;
    // Empty truth, non-empty prediction: 0.
    let c = ConfusionCounts::at_threshold(&[0.9, 0.1], &[0u8, 0], none, 0.5, P).unwrap();
    assert_eq!((c.iou(), c.dice()), (0.0, 0.0));
    assert_eq!(c.f_beta(2.0).unwrap(), 0.0);
    // Both empty: 1 (documented choice).
    let c = ConfusionCounts::at_threshold(&[0.2, 0.1], &[0u8, 0], none, 0.5, P).unwrap();
    assert_eq!((c.iou(), c.dice()), (1.0, 1.0));
    assert_eq!(c.f_beta(1.0).unwrap(), 1.0);
    // Truth non-empty, prediction empty: 0.
    let c = ConfusionCounts::at_threshold(&[0.2, 0.1], &[1u8, 0], none, 0.5, P).unwrap();
    assert_eq!((c.iou(), c.dice()), (0.0, 0.0));
}

#[test]
fn threshold_metrics_match_hand_counts() {
    // tp = 2, fp = 1, fn = 1, tn = 1 at t = 0.5 (0.5 itself is predicted positive).
    let scores = [0.9, 0.5, 0.7, 0.2, 0.1];
    let labels = [1u8, 1, 0, 1, 0];
    let c = ConfusionCounts::at_threshold(&scores, &labels, None::<&[f64]>, 0.5, P).unwrap();
    assert_eq!(
        (
            c.true_positives,
            c.false_positives,
            c.false_negatives,
            c.true_negatives
        ),
        (2.0, 1.0, 1.0, 1.0)
    );
    assert_eq!(c.precision().get(), Some(2.0 / 3.0));
    assert_eq!(c.recall().get(), Some(2.0 / 3.0));
    assert_eq!(c.fpr().get(), Some(0.5));
    assert_eq!(c.iou(), 0.5);
    assert_eq!(c.dice(), 4.0 / 6.0);
    assert_eq!(c.f_beta(1.0).unwrap(), c.dice());
    // F2 = 5·2 / (5·2 + 4·1 + 1) = 10 / 15.
    assert!((c.f_beta(2.0).unwrap() - 10.0 / 15.0).abs() < 1e-15);
    assert!(c.f_beta(0.0).is_err() && c.f_beta(f64::NAN).is_err());
    // Huge and tiny finite β: recall and precision in the limit, never NaN from an
    // overflowing β². Here TP = 2, FN = 1, FP = 1.
    let c_recall = ConfusionCounts {
        false_positives: 3.0,
        ..c
    };
    assert!((c_recall.f_beta(1e300).unwrap() - 2.0 / 3.0).abs() < 1e-15);
    assert!((c_recall.f_beta(1e-300).unwrap() - 2.0 / 5.0).abs() < 1e-15);
    assert!((c_recall.f_beta(1e8).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    let r = Ranking::new(&scores, &labels, P).unwrap();
    assert_eq!(r.confusion_at(0.5), c);
}
