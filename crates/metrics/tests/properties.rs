//! Properties that can fail: order invariance, brute-force oracles, pair counts.

use metrics::{Ranking, ScoreScale};

use crate::common::{Rng, candidates, counts, random_case};

fn rank(s: &[f64], l: &[u8], w: &[f64]) -> Ranking {
    Ranking::weighted(s, l, w, ScoreScale::Logits).expect("valid case")
}

#[test]
fn results_do_not_depend_on_input_order() {
    let mut rng = Rng::new(7);
    for n in [30, 5000] {
        let (s, l, w) = random_case(&mut rng, n, 40);
        let r = rank(&s, &l, &w);
        let mut idx: Vec<usize> = (0..n).collect();
        for _ in 0..3 {
            rng.shuffle(&mut idx);
            let s2: Vec<f64> = idx.iter().map(|&i| s[i]).collect();
            let l2: Vec<u8> = idx.iter().map(|&i| l[i]).collect();
            let w2: Vec<f64> = idx.iter().map(|&i| w[i]).collect();
            // Integer weights: every sum is exact, so equality is bitwise.
            assert_eq!(rank(&s2, &l2, &w2), r);
        }
    }
}

/// Brute force over candidate thresholds with the direct O(N) counts.
fn oracle_points(s: &[f64], l: &[u8], w: &[f64]) -> Vec<(f64, f64, f64, f64, f64)> {
    candidates(s, w)
        .into_iter()
        .map(|t| {
            let (tp, fp, p, n) = counts(s, l, w, t);
            (t, tp / (tp + fp), tp / p, fp / n, tp / p)
        })
        .collect()
}

#[test]
fn operating_points_match_brute_force() {
    let mut rng = Rng::new(11);
    let targets = [0.0, 0.05, 0.2, 0.5, 0.6, 0.8, 0.95, 1.0];
    for case in 0..200 {
        let n = 1 + rng.below(40) as usize;
        let levels = 2 + rng.below(12);
        let (s, l, w) = random_case(&mut rng, n, levels);
        let Ok(r) = Ranking::weighted(&s, &l, &w, ScoreScale::Logits) else {
            continue; // all weights zero
        };
        if r.missing_class().is_some() {
            continue;
        }
        let pts = oracle_points(&s, &l, &w);
        for &target in &targets {
            // P@R: max precision with recall ≥ r; ties to larger recall.
            let want = pts
                .iter()
                .filter(|p| p.2 >= target)
                .max_by(|a, b| a.1.total_cmp(&b.1).then(a.2.total_cmp(&b.2)));
            let got = r.precision_at_recall(target).unwrap();
            check(case, "P@R", got, want.map(|p| (p.0, p.1)));
            // R@P: max recall with precision ≥ p; ties to higher precision.
            let want = pts
                .iter()
                .filter(|p| p.1 >= target)
                .max_by(|a, b| a.2.total_cmp(&b.2).then(a.1.total_cmp(&b.1)));
            let got = r.recall_at_precision(target).unwrap();
            check(case, "R@P", got, want.map(|p| (p.0, p.2)));
            // TPR@FPR: max tpr with fpr ≤ f; ties to lower fpr.
            let want = pts
                .iter()
                .filter(|p| p.3 <= target)
                .max_by(|a, b| a.4.total_cmp(&b.4).then(b.3.total_cmp(&a.3)));
            let got = r.tpr_at_fpr(target).unwrap();
            check(case, "TPR@FPR", got, want.map(|p| (p.0, p.4)));
            // FPR@TPR: min fpr with tpr ≥ r; ties to higher tpr.
            let want = pts
                .iter()
                .filter(|p| p.4 >= target)
                .min_by(|a, b| a.3.total_cmp(&b.3).then(b.4.total_cmp(&a.4)));
            let got = r.fpr_at_tpr(target).unwrap();
            check(case, "FPR@TPR", got, want.map(|p| (p.0, p.3)));
        }
    }
}

fn check(case: usize, what: &str, got: metrics::OperatingPoint, want: Option<(f64, f64)>) {
    match want {
        Some((t, v)) => {
            assert!(got.feasible, "case {case} {what}: expected feasible");
            assert_eq!(got.threshold, Some(t), "case {case} {what} threshold");
            assert!(
                (got.value - v).abs() < 1e-12,
                "case {case} {what}: {got:?} vs {v}"
            );
        }
        None => {
            assert!(
                !got.feasible && got.threshold.is_none(),
                "case {case} {what}"
            );
        }
    }
}

#[test]
fn auc_equals_weighted_pair_count_with_half_ties() {
    let mut rng = Rng::new(3);
    for n in [20, 300, 3000] {
        let (s, l, w) = random_case(&mut rng, n, 25);
        let (mut num, mut p, mut q) = (0.0, 0.0, 0.0);
        for i in 0..n {
            if l[i] == 1 {
                p += w[i];
            } else {
                q += w[i];
            }
            for j in 0..n {
                if l[i] == 1 && l[j] == 0 {
                    let wij = w[i] * w[j];
                    if s[i] > s[j] {
                        num += wij;
                    } else if s[i] == s[j] {
                        num += 0.5 * wij;
                    }
                }
            }
        }
        let got = rank(&s, &l, &w).roc_auc().value;
        assert!((got - num / (p * q)).abs() < 1e-12, "n={n}: {got}");
    }
}

#[test]
fn ap_equals_its_definition_and_confusion_is_exact_anywhere() {
    let mut rng = Rng::new(5);
    let (s, l, w) = random_case(&mut rng, 4000, 60);
    let r = rank(&s, &l, &w);
    let ts = candidates(&s, &w);
    let (mut ap, mut prev_recall) = (0.0, 0.0);
    for &t in &ts {
        let (tp, fp, p, _) = counts(&s, &l, &w, t);
        ap += (tp / p - prev_recall) * tp / (tp + fp);
        prev_recall = tp / p;
    }
    assert!((r.average_precision().value - ap).abs() < 1e-12);
    for t in [-1.0, 0.0, 0.013, 0.5, 0.77, 1.2, 9.0] {
        let c = r.confusion_at(t);
        let (tp, fp, p, n) = counts(&s, &l, &w, t);
        assert_eq!(
            (
                c.true_positives,
                c.false_positives,
                c.false_negatives,
                c.true_negatives
            ),
            (tp, fp, p - tp, n - fp)
        );
    }
}

#[test]
fn unweighted_and_weighted_sort_paths_agree() {
    // Unweighted input sorts bare keys per class and merges; unit weights take the
    // 16-byte (key, weight) path. Sizes cross the radix threshold; scores have ties
    // and both signs.
    let mut rng = Rng::new(9);
    for n in [100, 5000, 50_000] {
        let labels: Vec<u8> = (0..n).map(|_| (rng.uniform() < 0.3) as u8).collect();
        let scores: Vec<f32> = labels
            .iter()
            .map(|&l| ((rng.uniform() - 0.5 + 0.3 * l as f64) * 1000.0).round() as f32 / 64.0)
            .collect();
        let ones = vec![1.0f32; n];
        let packed = Ranking::new(&scores, &labels, ScoreScale::Logits).unwrap();
        let general = Ranking::weighted(&scores, &labels, &ones, ScoreScale::Logits).unwrap();
        assert_eq!(packed, general, "n = {n}");
        // Full-precision f64 scores (bit 0 in use) agree as well.
        let mut s64: Vec<f64> = scores.iter().map(|&s| s as f64).collect();
        s64[n - 1] = f64::from_bits(0x3ff0_0000_0000_0001);
        let a = Ranking::new(&s64, &labels, ScoreScale::Logits).unwrap();
        let b = Ranking::weighted(&s64, &labels, &ones, ScoreScale::Logits).unwrap();
        assert_eq!(a, b, "n = {n}, mixed");
    }
}
