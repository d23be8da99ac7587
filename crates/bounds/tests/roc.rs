//! Pairwise ROC-AUC: every upstream ROCAUCLossTest case (reference §7.2), gradients
//! against finite differences, the sampled estimator and the errors.
use bounds::roc::roc_auc_pairwise_loss;
use bounds::{Error, Surrogate};
use tch::{Kind, Tensor};

use crate::fused::{Rng, assert_close, t64, values};

/// Σ of the loss as f64.
fn total(t: &Tensor) -> f64 {
    t.sum(Kind::Double).double_value(&[])
}

fn exact(y: &Tensor, s: &Tensor, w: Option<&Tensor>, sur: Surrogate) -> Tensor {
    roc_auc_pairwise_loss(y, s, w, sur, None, 0).expect("valid inputs")
}

/// Central finite differences of `f` (a scalar function of one tensor) at `x0` against
/// autograd, in float64: |fd − ad| ≤ 1e-6 + 1e-5·|ad| per coordinate.
pub fn check_gradient(f: impl Fn(&Tensor) -> Tensor, x0: &[f64], shape: &[i64], what: &str) {
    let x = t64(x0, shape).set_requires_grad(true);
    f(&x).backward();
    let autograd = values(&x.grad());
    let h = 1e-6;
    let fd: Vec<f64> = (0..x0.len())
        .map(|i| {
            let mut plus = x0.to_vec();
            let mut minus = x0.to_vec();
            plus[i] += h;
            minus[i] -= h;
            let fp = values(&f(&t64(&plus, shape)))[0];
            let fm = values(&f(&t64(&minus, shape)))[0];
            (fp - fm) / (2.0 * h)
        })
        .collect();
    assert!(
        autograd.iter().any(|g| g.abs() > 1e-4),
        "{what}: gradient is all zeros"
    );
    assert_close(&autograd, &fd, 1e-5, 1e-6, what);
}

/// Σ over elements of the loss by plain loops over positive–negative pairs (hard labels,
/// unit weights): (1/N) Σ_p Σ_q φ₊(s_p − s_q).
fn pairwise_oracle(labels: &[f64], scores: &[f64], sur: Surrogate) -> f64 {
    let phi = |z: f64| match sur {
        Surrogate::Xent => (1.0 + (-z).exp()).ln(),
        Surrogate::Hinge => (1.0 - z).max(0.0),
    };
    let mut sum = 0.0;
    for (p, _) in labels.iter().enumerate().filter(|(_, y)| **y == 1.0) {
        for (q, _) in labels.iter().enumerate().filter(|(_, y)| **y == 0.0) {
            sum += phi(scores[p] - scores[q]);
        }
    }
    sum / labels.len() as f64
}

/// Upstream testSimpleScores: 10 positives at 3·N(0,1) and one negative at 0 (hinge):
/// Σ loss = Σ_p max(1 − s_p, 0) / 11.
#[test]
fn roc_simple_scores() {
    let mut rng = Rng::new(11);
    let pos = rng.vec(10, |r| 3.0 * r.normal());
    let mut scores = vec![0.0];
    scores.extend(&pos);
    let mut labels = vec![0.0];
    labels.extend([1.0; 10]);
    let loss = exact(
        &t64(&labels, &[11, 1]),
        &t64(&scores, &[11, 1]),
        None,
        Surrogate::Hinge,
    );
    assert_eq!(loss.size(), vec![11, 1]);
    let want: f64 = pos.iter().map(|s| (1.0 - s).max(0.0)).sum::<f64>() / 11.0;
    assert!(want > 0.1, "the draw should leave some hinge loss: {want}");
    assert_close(&[total(&loss)], &[want], 1e-6, 1e-6, "simple scores");
}

/// Upstream testRandomROCLoss: [1000, 30] Bernoulli(½) scores and labels, hinge: the
/// mean per-element loss is ≈ P(pos)·P(neg)·E[hinge] = ¼ (rtol 1e-2).
#[test]
fn roc_random_scores_mean_is_a_quarter() {
    let mut rng = Rng::new(12);
    let (n, l) = (1000usize, 30usize);
    let bern = |r: &mut Rng| f64::from(r.uniform() < 0.5);
    let scores = rng.vec(n * l, bern);
    let labels = rng.vec(n * l, bern);
    let shape = [n as i64, l as i64];
    let (s, y) = (
        t64(&scores, &shape).to_kind(Kind::Float),
        t64(&labels, &shape),
    );
    let y = y.to_kind(Kind::Float);
    let loss = tch::no_grad(|| exact(&y, &s, None, Surrogate::Hinge));
    let mean = total(&loss) / (n * l) as f64;
    assert_close(&[mean], &[0.25], 1e-2, 0.0, "random ROC mean");
}

/// Upstream testManualROCLoss: six examples, labels [0, 0, 0, 1, 1, 1], Σ loss.
#[test]
fn roc_manual_values() {
    let y = t64(&[0.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[6]);
    let cases: [(Surrogate, [f64; 6], f64); 4] = [
        // Perfect ranking with large margins: ≈ 0 (exact value ≈ 4.9e-7).
        (Surrogate::Xent, [-5.0, -7.0, -9.0, 8.0, 10.0, 14.0], 0.0),
        (Surrogate::Hinge, [-0.2, 0.0, -0.1, 1.0, 1.1, 1.0], 0.0),
        // Only the pair (s = 1, s = 0) matters: ln(1 + e^{−1}) / 6.
        (
            Surrogate::Xent,
            [0.0, -17.0, -19.0, 1.0, 14.0, 14.0],
            (1.0 + (-1.0f64).exp()).ln() / 6.0,
        ),
        (
            Surrogate::Hinge,
            [-0.2, -0.05, 0.0, 0.95, 0.8, 1.0],
            0.4 / 6.0,
        ),
    ];
    for (sur, logits, want) in cases {
        let loss = exact(&y, &t64(&logits, &[6]), None, sur);
        assert_eq!(loss.size(), vec![6]);
        assert_close(
            &[total(&loss)],
            &[want],
            1e-6,
            1e-6,
            &format!("{sur:?} {logits:?}"),
        );
    }
    // Tighter, against a plain pairwise oracle (upstream only asks atol 1e-6).
    for (sur, logits, _) in cases {
        let got = total(&exact(&y, &t64(&logits, &[6]), None, sur));
        let want = pairwise_oracle(&[0.0, 0.0, 0.0, 1.0, 1.0, 1.0], &logits, sur);
        assert_close(&[got], &[want], 1e-12, 1e-15, &format!("{sur:?} oracle"));
    }
}

/// Upstream testMultiLabelROCLoss: the [4, 2] problem equals the two [4] problems
/// summed; ours: 0.497990 + 0.431774 = 0.929764 (default xent).
#[test]
fn roc_multilabel_equals_per_label() {
    let targets = [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]];
    let scores = [[0.1, 1.0, 1.1, 1.0], [1.0, 0.0, 1.3, 1.1]];
    let col = |m: &[[f64; 4]; 2], j: usize| t64(&m[j], &[4]);
    let transposed = |m: &[[f64; 4]; 2]| t64(&m.concat(), &[2, 4]).tr();
    let both = exact(
        &transposed(&targets),
        &transposed(&scores),
        None,
        Surrogate::Xent,
    );
    assert_eq!(both.size(), vec![4, 2]);
    let one = total(&exact(
        &col(&targets, 0),
        &col(&scores, 0),
        None,
        Surrogate::Xent,
    ));
    let two = total(&exact(
        &col(&targets, 1),
        &col(&scores, 1),
        None,
        Surrogate::Xent,
    ));
    assert_close(&[one, two], &[0.497990, 0.431774], 0.0, 5e-7, "per label");
    assert_close(
        &[total(&both)],
        &[one + two],
        1e-12,
        0.0,
        "[4, 2] vs two [4]",
    );
    assert_close(&[total(&both)], &[0.929764], 0.0, 5e-7, "multi-label total");
    // Column by column too, not only in the total.
    assert_close(
        &values(&both.select(1, 1)),
        &values(&exact(
            &col(&targets, 1),
            &col(&scores, 1),
            None,
            Surrogate::Xent,
        )),
        1e-12,
        0.0,
        "column 1",
    );
}

/// Upstream testWeights: weights [1, 1, 1, 0, 0, 0, 2, 2, 2] on a batch whose negatives
/// are a duplicated multiset give the unweighted loss of the deduplicated batch;
/// ours: both 0.6063348 (xent).
#[test]
fn roc_weights_equal_duplication() {
    let pos = [2.54321, -0.26, 3.334334];
    let neg = [-0.6, 1.0, -1.3, -1.3, -0.6, 1.0];
    let scores: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    let labels = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let weights = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0];
    let (s, y, w) = (
        t64(&scores, &[9, 1]),
        t64(&labels, &[9, 1]),
        t64(&weights, &[9, 1]),
    );
    let weighted = total(&exact(&y, &s, Some(&w), Surrogate::Xent));
    let unweighted = total(&exact(&y, &s, None, Surrogate::Xent));
    assert_close(
        &[weighted],
        &[unweighted],
        1e-6,
        0.0,
        "weighted vs unweighted",
    );
    assert_close(&[weighted], &[0.6063348], 0.0, 5e-8, "golden");
    // [N] weights with [N, 1] logits mean the same.
    let w1 = exact(&y, &s, Some(&t64(&weights, &[9])), Surrogate::Xent);
    assert_close(&[total(&w1)], &[weighted], 1e-12, 0.0, "[N] weights");
}

/// A [N] problem equals the same problem as one [N, 1] column.
#[test]
fn roc_vector_equals_matrix() {
    let mut rng = Rng::new(13);
    let s = rng.vec(9, |r| r.normal());
    let y = rng.vec(9, |r| f64::from(r.uniform() < 0.5));
    let v = exact(&t64(&y, &[9]), &t64(&s, &[9]), None, Surrogate::Hinge);
    let m = exact(&t64(&y, &[9, 1]), &t64(&s, &[9, 1]), None, Surrogate::Hinge);
    assert_close(&values(&v), &values(&m), 1e-12, 0.0, "vector vs matrix");
}

/// float64 finite differences, exact path, both surrogates, soft labels and weights.
#[test]
fn roc_exact_gradient_matches_finite_differences() {
    let mut rng = Rng::new(14);
    let (n, l) = (7i64, 2i64);
    let s0 = rng.vec((n * l) as usize, |r| 1.5 * r.normal());
    let y = t64(&rng.vec((n * l) as usize, |r| r.uniform()), &[n, l]);
    let w = t64(&rng.vec(n as usize, |r| 0.5 + r.uniform()), &[n]);
    for sur in [Surrogate::Xent, Surrogate::Hinge] {
        // Soft labels give margins Δy·Δs that are almost surely away from the hinge kink.
        let f = |s: &Tensor| exact(&y, s, Some(&w), sur).sum(Kind::Double);
        check_gradient(f, &s0, &[n, l], &format!("exact {sur:?}"));
    }
}

/// float64 finite differences through the sampled path (fixed seed ⇒ fixed pairs).
#[test]
fn roc_sampled_gradient_matches_finite_differences() {
    let mut rng = Rng::new(15);
    let n = 12i64;
    let s0 = rng.vec(n as usize, |r| r.normal());
    let y = t64(&rng.vec(n as usize, |r| f64::from(r.uniform() < 0.5)), &[n]);
    let w = t64(&rng.vec(n as usize, |r| 0.5 + r.uniform()), &[n]);
    for sur in [Surrogate::Xent, Surrogate::Hinge] {
        let f = |s: &Tensor| {
            roc_auc_pairwise_loss(&y, s, Some(&w), sur, Some(5), 99)
                .unwrap()
                .sum(Kind::Double)
        };
        check_gradient(f, &s0, &[n], &format!("sampled {sur:?}"));
    }
}

/// With max_pairs ≥ |P|·|Q| every pair is enumerated: the result is the exact one.
#[test]
fn roc_sampled_with_enough_pairs_is_exact() {
    let mut rng = Rng::new(16);
    let (n, l) = (30i64, 3i64);
    let s = t64(&rng.vec((n * l) as usize, |r| r.normal()), &[n, l]);
    let y = t64(
        &rng.vec((n * l) as usize, |r| f64::from(r.uniform() < 0.3)),
        &[n, l],
    );
    let w = t64(
        &rng.vec((n * l) as usize, |r| {
            if r.uniform() < 0.2 { 0.0 } else { r.uniform() }
        }),
        &[n, l],
    );
    for sur in [Surrogate::Xent, Surrogate::Hinge] {
        let want = exact(&y, &s, Some(&w), sur);
        let got = roc_auc_pairwise_loss(&y, &s, Some(&w), sur, Some(900), 1).unwrap();
        assert_close(
            &values(&got),
            &values(&want),
            1e-12,
            1e-15,
            &format!("{sur:?}"),
        );
    }
}

/// The sampled estimator is unbiased: over 400 seeds its mean total is within 4 standard
/// errors of the exact total, and so is every element's mean. (A missing |P|·|Q|/M
/// scale, or pairs drawn from the wrong sets, fail this by a wide margin.)
#[test]
fn roc_sampled_is_unbiased_on_average() {
    let mut rng = Rng::new(17);
    let n = 40i64;
    let s = t64(&rng.vec(n as usize, |r| r.normal()), &[n]);
    let y = t64(&rng.vec(n as usize, |r| f64::from(r.uniform() < 0.4)), &[n]);
    let w = t64(&rng.vec(n as usize, |r| 0.5 + r.uniform()), &[n]);
    let want = values(&exact(&y, &s, Some(&w), Surrogate::Xent));
    let runs = 400usize;
    let draws: Vec<Vec<f64>> = (0..runs as u64)
        .map(|seed| {
            let loss = roc_auc_pairwise_loss(&y, &s, Some(&w), Surrogate::Xent, Some(20), seed);
            values(&loss.unwrap())
        })
        .collect();
    let mean_sd = |xs: &[f64]| {
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
        (m, var.sqrt())
    };
    let totals: Vec<f64> = draws.iter().map(|d| d.iter().sum()).collect();
    let (m, sd) = mean_sd(&totals);
    let exact_total: f64 = want.iter().sum();
    assert!(sd > 0.0, "the draws should differ");
    assert!(
        (m - exact_total).abs() <= 4.0 * sd / (runs as f64).sqrt(),
        "mean total {m} vs exact {exact_total} (sd {sd})"
    );
    for (i, &w_i) in want.iter().enumerate() {
        let xs: Vec<f64> = draws.iter().map(|d| d[i]).collect();
        let (m, sd) = mean_sd(&xs);
        // 4.5 sd over 40 elements: a false alarm has probability < 1e-3.
        let tol = 4.5 * sd / (runs as f64).sqrt() + 1e-12;
        assert!(
            (m - w_i).abs() <= tol,
            "element {i}: mean {m} vs exact {w_i} (sd {sd})"
        );
    }
}

/// Same seed ⇒ same result; another seed ⇒ another sample.
#[test]
fn roc_sampled_is_seeded() {
    let mut rng = Rng::new(18);
    let s = t64(&rng.vec(50, |r| r.normal()), &[25, 2]);
    let y = t64(&rng.vec(50, |r| f64::from(r.uniform() < 0.5)), &[25, 2]);
    let run = |seed| {
        values(&roc_auc_pairwise_loss(&y, &s, None, Surrogate::Xent, Some(10), seed).unwrap())
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn roc_rejects_bad_inputs() {
    let y = t64(&[0.0, 1.0, 1.0, 0.0], &[4]);
    let s = t64(&[0.1, 0.2, 0.3, 0.4], &[4]);
    let call = |y: &Tensor, s: &Tensor, w: Option<&Tensor>, m: Option<usize>| {
        roc_auc_pairwise_loss(y, s, w, Surrogate::Xent, m, 0)
    };
    assert!(matches!(
        call(&y, &s.view([1, 2, 2]), None, None),
        Err(Error::Rank { .. })
    ));
    assert!(matches!(
        call(&y.view([2, 2]), &s, None, None),
        Err(Error::Shape { what: "labels", .. })
    ));
    let w3 = t64(&[1.0, 1.0, 1.0], &[3]);
    assert!(matches!(
        call(&y, &s, Some(&w3), None),
        Err(Error::Shape {
            what: "weights",
            ..
        })
    ));
    let nan = t64(&[0.1, f64::NAN, 0.3, 0.4], &[4]);
    assert!(matches!(
        call(&y, &nan, None, None),
        Err(Error::InvalidValue { what: "logits", .. })
    ));
    let inf = t64(&[0.1, f64::INFINITY, 0.3, 0.4], &[4]);
    assert!(matches!(
        call(&y, &inf, None, None),
        Err(Error::InvalidValue { what: "logits", .. })
    ));
    let y2 = t64(&[0.0, 2.0, 1.0, 0.0], &[4]);
    assert!(matches!(
        call(&y2, &s, None, None),
        Err(Error::InvalidValue { what: "labels", .. })
    ));
    let wn = t64(&[1.0, -1.0, 1.0, 1.0], &[4]);
    assert!(matches!(
        call(&y, &s, Some(&wn), None),
        Err(Error::InvalidValue {
            what: "weights",
            ..
        })
    ));
    assert!(matches!(
        call(&y, &s, None, Some(0)),
        Err(Error::InvalidConfig {
            field: "max_pairs",
            ..
        })
    ));
    let soft = t64(&[0.0, 0.5, 1.0, 0.0], &[4]);
    assert!(matches!(
        call(&soft, &s, None, Some(3)),
        Err(Error::InvalidValue { what: "labels", .. })
    ));
    assert!(
        call(&soft, &s, None, None).is_ok(),
        "soft labels are fine on the exact path"
    );
    assert!(matches!(
        call(&y, &s.to_kind(Kind::Int64), None, None),
        Err(Error::Kind { what: "logits", .. })
    ));
}
