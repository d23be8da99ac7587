//! Streaming accumulators: exact mode equals the one-shot ranking; binned mode
//! stays within its documented error.

use metrics::{Accumulator, Error, Ranking, ScoreScale};

use crate::common::{Rng, counts};

const P: ScoreScale = ScoreScale::Probabilities;

/// Continuous probabilities: positives skewed towards 1, with unit weights.
fn continuous(rng: &mut Rng, n: usize) -> (Vec<f64>, Vec<u8>) {
    let labels: Vec<u8> = (0..n).map(|_| (rng.uniform() < 0.3) as u8).collect();
    let scores = labels
        .iter()
        .map(|&l| {
            let u = rng.uniform();
            if l == 1 { u.sqrt() } else { u * u }
        })
        .collect();
    (scores, labels)
}

#[test]
fn exact_mode_in_batches_equals_one_shot() {
    let mut rng = Rng::new(1);
    let (s, l) = continuous(&mut rng, 10_000);
    let w: Vec<f64> = (0..s.len()).map(|_| rng.below(3) as f64).collect();
    let mut acc = Accumulator::exact(P);
    for chunk in (0..s.len()).collect::<Vec<_>>().chunks(777) {
        let r = chunk[0]..chunk[chunk.len() - 1] + 1;
        acc.push_weighted(&s[r.clone()], &l[r.clone()], &w[r])
            .unwrap();
    }
    assert_eq!(acc.seen(), s.len());
    assert_eq!(acc.auc_error_bound(), Some(0.0));
    assert_eq!(
        acc.finish().unwrap(),
        Ranking::weighted(&s, &l, &w, P).unwrap()
    );
}

#[test]
fn stream_errors_name_the_global_index() {
    let mut acc = Accumulator::exact(P);
    acc.push(&[0.1, 0.2], &[0u8, 1]).unwrap();
    let e = acc.push(&[0.3, 1.5], &[0u8, 1]).unwrap_err();
    assert_eq!(
        e,
        Error::ScoreOutOfRange {
            index: 3,
            value: 1.5
        }
    );
    let mut b = Accumulator::binned(10, 0.0, 1.0, P).unwrap();
    b.push_one(0.5, 1.0, 1.0).unwrap();
    assert_eq!(
        b.push_one(0.5, 3.0, 1.0),
        Err(Error::InvalidLabel {
            index: 1,
            value: 3.0
        })
    );
    assert!(matches!(
        Accumulator::exact(P).finish(),
        Err(Error::Empty { .. })
    ));
}

#[test]
fn binned_config_is_validated() {
    for (bins, lo, hi) in [(0, 0.0, 1.0), (10, 1.0, 1.0), (10, 0.0, f64::INFINITY)] {
        assert!(matches!(
            Accumulator::binned(bins, lo, hi, P),
            Err(Error::InvalidConfig { .. })
        ));
    }
}

#[test]
fn binned_auc_error_is_within_its_bound_and_shrinks_like_one_over_t() {
    let mut rng = Rng::new(2);
    let (s, l) = continuous(&mut rng, 50_000);
    let exact = Ranking::new(&s, &l, P).unwrap();
    let (auc, ap) = (exact.roc_auc().value, exact.average_precision().value);
    let mut bounds = Vec::new();
    for bins in [10, 100, 1000, 10_000] {
        let mut acc = Accumulator::binned(bins, 0.0, 1.0, P).unwrap();
        acc.push(&s, &l).unwrap();
        let bound = acc.auc_error_bound().unwrap();
        let binned = acc.finish().unwrap();
        let err = (binned.roc_auc().value - auc).abs();
        assert!(
            err <= bound + 1e-12,
            "T={bins}: |err| {err} > bound {bound}"
        );
        // Scores have densities ≤ 2 on [0, 1]: max_j p_j / P ≤ ~2/T.
        assert!(bound <= 1.0 / bins as f64 + 1e-3, "T={bins}: bound {bound}");
        let ap_err = (binned.average_precision().value - ap).abs();
        assert!(ap_err <= 2.0 / bins as f64, "T={bins}: AP error {ap_err}");
        bounds.push(bound);
    }
    for pair in bounds.windows(2) {
        assert!(
            pair[1] < pair[0] / 5.0,
            "bound should fall ~10x per 10x bins: {bounds:?}"
        );
    }
}

#[test]
fn binned_operating_points_are_conservative_and_exact_at_their_threshold() {
    let mut rng = Rng::new(4);
    let (s, l) = continuous(&mut rng, 20_000);
    let ones = vec![1.0; s.len()];
    let exact = Ranking::new(&s, &l, P).unwrap();
    let mut acc = Accumulator::binned(64, 0.0, 1.0, P).unwrap();
    acc.push(&s, &l).unwrap();
    assert_eq!(acc.clamped(), 0);
    let binned = acc.finish().unwrap();
    for target in [0.1, 0.5, 0.8, 0.95] {
        let b = binned.precision_at_recall(target).unwrap();
        let e = exact.precision_at_recall(target).unwrap();
        assert!(b.value <= e.value + 1e-15, "P@R({target}) {b:?} vs {e:?}");
        let t = b.threshold.unwrap();
        let (tp, fp, p, _) = counts(&s, &l, &ones, t);
        assert!((tp / (tp + fp) - b.value).abs() < 1e-15);
        assert!(tp / p >= target);
        let b = binned.recall_at_precision(target).unwrap();
        let e = exact.recall_at_precision(target).unwrap();
        assert!(b.value <= e.value + 1e-15, "R@P({target})");
        if let Some(t) = b.threshold {
            let (tp, fp, p, _) = counts(&s, &l, &ones, t);
            assert!((tp / p - b.value).abs() < 1e-15 && tp / (tp + fp) >= target);
        }
    }
    // Counts at every bin edge are exact.
    for j in 0..64 {
        let t = j as f64 / 64.0;
        assert_eq!(binned.confusion_at(t), exact.confusion_at(t), "edge {t}");
    }
}

#[test]
fn binned_clamps_out_of_range_logits_and_counts_them() {
    let mut acc = Accumulator::binned(4, -2.0, 2.0, ScoreScale::Logits).unwrap();
    acc.push(&[-5.0, -1.5, 0.0, 1.99, 7.0], &[0u8, 0, 1, 1, 1])
        .unwrap();
    assert_eq!(acc.clamped(), 2);
    let r = acc.finish().unwrap();
    assert_eq!(r.thresholds(), &[1.0, 0.0, -2.0]);
    assert_eq!(r.true_positives(), &[2.0, 3.0, 3.0]);
    assert_eq!(r.false_positives(), &[0.0, 0.0, 2.0]);
}

#[test]
fn binned_config_that_cannot_be_honoured_is_an_error_not_an_abort_or_nan() {
    // A bin count whose counters cannot be allocated: a typed error, not an abort.
    let huge = usize::MAX / 16;
    assert!(matches!(
        Accumulator::binned(huge, 0.0, 1.0, P),
        Err(Error::InvalidConfig { field: "bins", .. })
    ));
    // A range whose width overflows to ∞ would give NaN bin edges (thresholds).
    assert!(matches!(
        Accumulator::binned(4, -1e308, 1e308, ScoreScale::Logits),
        Err(Error::InvalidConfig { field: "range", .. })
    ));
    // Bins narrower than the float spacing would repeat an edge, so two groups would
    // share one threshold.
    assert!(matches!(
        Accumulator::binned(100, 1.0, 1.0 + 1e-15, P),
        Err(Error::InvalidConfig { field: "bins", .. })
    ));
    // The widest range that works still gives finite, distinct thresholds.
    let mut acc = Accumulator::binned(4, -1e307, 1e307, ScoreScale::Logits).unwrap();
    acc.push(&[-5e306, 5e306, 0.0], &[0u8, 1, 1]).unwrap();
    let r = acc.finish().unwrap();
    assert!(r.thresholds().iter().all(|t| t.is_finite()));
    assert_eq!(r.roc_auc().value, 1.0);
}
