//! Ports of upstream loss equivalence tests (reference §7.1–7.7): each objective
//! reduces to a plain or weighted surrogate in its special cases, multi-label equals
//! stacked single-label, weighted equals duplicated, vector equals matrix.
use bounds::{LossConfig, ObjectiveConfig, Pass, Surrogate, Target};
use tch::{Kind, Tensor};

use crate::common::*;

/// Per-element loss of a fresh loss (Pass::Train, λ = init) on [n, l] (or [n] if l = 0).
fn run(
    objective: ObjectiveConfig,
    s: Surrogate,
    priors: Option<Vec<f64>>,
    init: f64,
    y: &[f64],
    x: &[f64],
    shape: &[i64],
) -> Vec<f64> {
    let vs = vs64();
    let labels = if shape.len() == 2 { shape[1] } else { 1 };
    let loss = make_loss(&vs, labels, &cfg(objective, s, priors, init, DUAL));
    let out = loss
        .forward(&t64(x, shape), &t64(y, shape), None, Pass::Train)
        .unwrap();
    assert_eq!(out.loss.size(), shape.to_vec());
    vec64(&out.loss)
}

fn data(seed: u64, n: i64, l: i64, t: f64) -> (Vec<f64>, Vec<f64>) {
    let mut r = rng(seed);
    let m = (n * l) as usize;
    (bernoulli(&mut r, m, t), normals(&mut r, m))
}

fn xent(y: &[f64], x: &[f64]) -> Vec<f64> {
    weighted_ref(Surrogate::Xent, y, x, 1.0, 1.0)
}

/// Column j of a row-major [n, l] matrix.
fn col(v: &[f64], l: usize, j: usize) -> Vec<f64> {
    v.iter().skip(j).step_by(l).copied().collect()
}

// ---- PrecisionRecallAUCLossTest ----

#[test]
fn single_point_auc_equals_recall_at_precision() {
    for (k, (s, p)) in [
        (Surrogate::Xent, 0.7),
        (Surrogate::Hinge, 0.7),
        (Surrogate::Hinge, 0.5),
    ]
    .into_iter()
    .enumerate()
    {
        let (y, x) = data(30 + k as u64, 10, 2, 0.4);
        let auc = run(
            pr_auc((p - 0.01, p + 0.01), 1),
            s,
            None,
            1.0,
            &y,
            &x,
            &[10, 2],
        );
        let r = run(rap(Target::All(p)), s, None, 1.0, &y, &x, &[10, 2]);
        assert_close(&auc, &r, 1e-6, 1e-6);
    }
}

#[test]
fn three_point_auc_equals_mean_of_recall_at_precision() {
    for (k, s) in [Surrogate::Xent, Surrogate::Hinge].into_iter().enumerate() {
        let (y, x) = data(40 + k as u64, 11, 3, 0.4);
        let rs: Vec<Vec<f64>> = [0.25, 0.5, 0.75]
            .iter()
            .map(|&a| run(rap(Target::All(a)), s, None, 1.0, &y, &x, &[11, 3]))
            .collect();
        let mean: Vec<f64> = (0..33)
            .map(|i| (rs[0][i] + rs[1][i] + rs[2][i]) / 3.0)
            .collect();
        let one = run(pr_auc((0.0, 1.0), 1), s, None, 1.0, &y, &x, &[11, 3]);
        assert_close(&one, &mean, 1e-6, 1e-6);
        // Our extra check: with K = 3 the anchors are exactly 0.25, 0.5, 0.75.
        let three = run(pr_auc((0.0, 1.0), 3), s, None, 1.0, &y, &x, &[11, 3]);
        assert_close(&three, &mean, 1e-9, 1e-9);
    }
}

// ---- RecallAtPrecisionTest ----

#[test]
fn recall_at_precision_equal_weight_loss() {
    let (y, x) = data(50, 20, 5, 0.7);
    let got = run(
        rap(Target::All(1.0)),
        Surrogate::Xent,
        Some(vec![0.34; 5]),
        1.0,
        &y,
        &x,
        &[20, 5],
    );
    assert_close(&got, &xent(&y, &x), 1e-6, 1e-6);
    let (y, x) = data(51, 20, 2, 0.7);
    let got = run(
        rap(Target::PerLabel(vec![1.0, 1.0])),
        Surrogate::Xent,
        Some(vec![0.34; 2]),
        1.0,
        &y,
        &x,
        &[20, 2],
    );
    assert_close(&got, &xent(&y, &x), 1e-6, 1e-6);
}

#[test]
fn recall_at_precision_positives_only_loss() {
    let (y, x) = data(52, 30, 3, 0.4);
    let got = run(
        rap(Target::All(1.0)),
        Surrogate::Xent,
        Some(vec![0.45; 3]),
        0.0,
        &y,
        &x,
        &[30, 3],
    );
    assert_close(
        &got,
        &weighted_ref(Surrogate::Xent, &y, &x, 1.0, 0.0),
        1e-6,
        1e-6,
    );
}

/// Multi-label with per-label targets and priors == the single-label calls stacked.
fn single_vs_multiple(
    obj: fn(Target) -> ObjectiveConfig,
    targets: &[f64],
    priors: &[f64],
    seed: u64,
) {
    let l = targets.len();
    let (y, x) = data(seed, 30, l as i64, 0.4);
    let multi = run(
        obj(Target::PerLabel(targets.to_vec())),
        Surrogate::Xent,
        Some(priors.to_vec()),
        1.0,
        &y,
        &x,
        &[30, l as i64],
    );
    for j in 0..l {
        let single = run(
            obj(Target::All(targets[j])),
            Surrogate::Xent,
            Some(vec![priors[j]]),
            1.0,
            &col(&y, l, j),
            &col(&x, l, j),
            &[30, 1],
        );
        assert_close(&col(&multi, l, j), &single, 1e-6, 1e-6);
    }
}

/// Targets [t, t] == scalar t.
fn single_vs_equal_multiple(obj: fn(Target) -> ObjectiveConfig, seed: u64) {
    let (y, x) = data(seed, 20, 2, 0.7);
    let a = run(
        obj(Target::PerLabel(vec![0.75, 0.75])),
        Surrogate::Xent,
        Some(vec![0.34; 2]),
        1.0,
        &y,
        &x,
        &[20, 2],
    );
    let b = run(
        obj(Target::All(0.75)),
        Surrogate::Xent,
        Some(vec![0.34; 2]),
        1.0,
        &y,
        &x,
        &[20, 2],
    );
    assert_close(&a, &b, 1e-12, 1e-12);
}

#[test]
fn recall_at_precision_single_vs_multiple_precisions() {
    single_vs_multiple(rap, &[0.2, 0.9, 0.4], &[0.45, 0.8, 0.3], 53);
    single_vs_equal_multiple(rap, 54);
}

// ---- PrecisionAtRecallTest ----

#[test]
fn precision_at_recall_cross_entropy_equivalence() {
    let (y, x) = data(60, 10, 3, 0.4);
    for t in [Target::All(1.0), Target::PerLabel(vec![1.0; 3])] {
        let got = run(par(t), Surrogate::Xent, None, 1.0, &y, &x, &[10, 3]);
        assert_close(&got, &xent(&y, &x), 1e-6, 1e-6);
    }
}

#[test]
fn precision_at_recall_negatives_only_loss() {
    let (y, x) = data(61, 8, 4, 0.6);
    for t in [Target::All(0.61828), Target::PerLabel(vec![0.61828; 4])] {
        let got = run(par(t), Surrogate::Hinge, None, 0.0, &y, &x, &[8, 4]);
        assert_close(
            &got,
            &weighted_ref(Surrogate::Hinge, &y, &x, 0.0, 1.0),
            1e-6,
            1e-6,
        );
    }
}

#[test]
fn precision_at_recall_single_vs_multiple_recalls() {
    single_vs_multiple(par, &[0.7, 0.9, 0.4], &[0.45; 3], 62);
    single_vs_equal_multiple(par, 63);
}

// ---- FalsePositiveRateAtTruePositiveRateTest ----

#[test]
fn fpr_at_tpr_negatives_only_loss() {
    let mut r = rng(70);
    let priors = uniforms(&mut r, 3);
    let (y, x) = data(71, 3, 3, 0.4);
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        let got = run(
            fpr_at_tpr(Target::All(0.6)),
            s,
            Some(priors.clone()),
            0.0,
            &y,
            &x,
            &[3, 3],
        );
        assert_close(&got, &weighted_ref(s, &y, &x, 0.0, 1.0), 1e-6, 1e-6);
    }
}

#[test]
fn fpr_at_tpr_positives_only_loss() {
    let mut r = rng(72);
    let priors = uniforms(&mut r, 5);
    let y = vec![1.0; 25];
    let x = normals(&mut r, 25);
    let got = run(
        fpr_at_tpr(Target::All(1.0)),
        Surrogate::Xent,
        Some(priors.clone()),
        1.0,
        &y,
        &x,
        &[5, 5],
    );
    assert_close(&got, &xent(&y, &x), 1e-6, 1e-6);
    let got = run(
        fpr_at_tpr(Target::All(1.0)),
        Surrogate::Hinge,
        Some(priors),
        1.0,
        &y,
        &x,
        &[5, 5],
    );
    assert_close(
        &got,
        &weighted_ref(Surrogate::Hinge, &y, &x, 1.0, 1.0),
        1e-6,
        1e-6,
    );
}

#[test]
fn fpr_at_tpr_equal_weight_loss() {
    let (y, x) = data(73, 40, 4, 0.6);
    let got = run(
        fpr_at_tpr(Target::All(1.0)),
        Surrogate::Xent,
        Some(vec![0.5; 4]),
        1.0,
        &y,
        &x,
        &[40, 4],
    );
    assert_close(&got, &xent(&y, &x), 1e-6, 1e-6);
}

#[test]
fn fpr_at_tpr_single_vs_multiple_rates() {
    single_vs_multiple(fpr_at_tpr, &[0.7, 0.9, 0.4], &[0.45; 3], 74);
    single_vs_equal_multiple(fpr_at_tpr, 75);
    // The alias is exactly precision@recall.
    let (y, x) = data(76, 12, 2, 0.5);
    let a = run(
        fpr_at_tpr(Target::All(0.8)),
        Surrogate::Hinge,
        None,
        1.3,
        &y,
        &x,
        &[12, 2],
    );
    let b = run(
        par(Target::All(0.8)),
        Surrogate::Hinge,
        None,
        1.3,
        &y,
        &x,
        &[12, 2],
    );
    assert_close(&a, &b, 0.0, 0.0);
}

// ---- TruePositiveRateAtFalsePositiveRateTest ----

#[test]
fn tpr_at_fpr_positives_only_loss() {
    let mut r = rng(80);
    let rate = r.random_range_f64();
    let priors = uniforms(&mut r, 3);
    let (y, x) = data(81, 20, 3, 0.6);
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        let got = run(
            tpr_at_fpr(Target::All(rate)),
            s,
            Some(priors.clone()),
            0.0,
            &y,
            &x,
            &[20, 3],
        );
        assert_close(&got, &weighted_ref(s, &y, &x, 1.0, 0.0), 1e-6, 1e-6);
    }
}

#[test]
fn tpr_at_fpr_negatives_only_loss() {
    let mut r = rng(82);
    let rate = r.random_range_f64();
    let priors = uniforms(&mut r, 3);
    let y = vec![0.0; 75];
    let x = normals(&mut r, 75);
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        let got = run(
            tpr_at_fpr(Target::All(rate)),
            s,
            Some(priors.clone()),
            1.0,
            &y,
            &x,
            &[25, 3],
        );
        let base = weighted_ref(s, &y, &x, 0.0, 1.0);
        let expected: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(i, b)| b - rate * (1.0 - priors[i % 3]) * s.kappa())
            .collect();
        assert_close(&got, &expected, 1e-6, 1e-6);
    }
}

#[test]
fn tpr_at_fpr_single_vs_multiple_rates() {
    single_vs_multiple(tpr_at_fpr, &[0.7, 0.9, 0.4], &[0.45; 3], 83);
    single_vs_equal_multiple(tpr_at_fpr, 84);
}

trait UnitDraw {
    fn random_range_f64(&mut self) -> f64;
}
impl UnitDraw for rand::rngs::StdRng {
    fn random_range_f64(&mut self) -> f64 {
        use rand::RngExt;
        // U(0, 1) but never exactly 0 (targets live in (0, 1]).
        1.0 - self.random::<f64>()
    }
}

// ---- CrossFunctionTest ----

/// Every objective with its upstream parameterisation (plus ours: TPR@FPR and ROC anchors).
fn cross_function_cases() -> Vec<(ObjectiveConfig, Surrogate)> {
    vec![
        (pr_auc((0.0, 1.0), 20), Surrogate::Xent),
        (pr_auc((0.5, 1.0), 20), Surrogate::Xent),
        (pr_auc((0.0, 1.0), 20), Surrogate::Hinge),
        (rap(Target::All(0.4)), Surrogate::Xent),
        (rap(Target::All(0.66)), Surrogate::Xent),
        (rap(Target::All(0.7)), Surrogate::Hinge),
        (fpr_at_tpr(Target::All(0.66)), Surrogate::Xent),
        (fpr_at_tpr(Target::All(0.46)), Surrogate::Xent),
        (fpr_at_tpr(Target::All(0.76)), Surrogate::Hinge),
        (fpr_at_tpr(Target::All(0.36)), Surrogate::Hinge),
        (tpr_at_fpr(Target::All(0.36)), Surrogate::Xent),
        (roc_anchors((0.0, 1.0), 5), Surrogate::Xent),
        (
            ObjectiveConfig::RocAucPairwise { max_pairs: None },
            Surrogate::Xent,
        ),
        (
            ObjectiveConfig::RocAucPairwise { max_pairs: None },
            Surrogate::Hinge,
        ),
    ]
}

/// Upstream `testWeigtedGlobalObjective`: weights [1,1,1,0,0,0,2,2,2] on data whose
/// negatives repeat, so the weighted and unweighted sums and their gradients agree.
#[test]
fn weighted_global_objective_equals_duplicated_data() {
    let logits = [1.0, -0.5, 3.0, -0.5, 1.0, -1.0, -1.0, -0.5, 1.0];
    let targets = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let weights = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0];
    for (obj, s) in cross_function_cases() {
        let mut sums = Vec::new();
        let mut grads = Vec::new();
        let mut lambdas = Vec::new();
        for w in [None, Some(t64(&weights, &[9, 1]))] {
            let vs = vs64();
            let loss = make_loss(
                &vs,
                1,
                &cfg(obj.clone(), s, Some(vec![1.0 / 3.0]), 1.0, REVERSED_01),
            );
            let dummy = Tensor::from(1.0f64).set_requires_grad(true);
            let x = t64(&logits, &[9, 1]) * &dummy;
            let out = loss
                .forward(&x, &t64(&targets, &[9, 1]), w.as_ref(), Pass::Train)
                .unwrap();
            let total = out.loss.sum(Kind::Double);
            sums.push(total.double_value(&[]));
            let g = Tensor::run_backward(&[total], &[&dummy], false, false);
            grads.push(g[0].double_value(&[]));
            lambdas.push(vec64(&loss.multipliers()));
        }
        assert_close(&[sums[1]], &[sums[0]], 1e-9, 1e-9);
        assert_close(&[grads[1]], &[grads[0]], 1e-9, 1e-9);
        assert_close(&lambdas[1], &lambdas[0], 0.0, 0.0);
    }
}

/// Upstream `testVectorAndMatrixLabelEquivalence`: [4] in ⇒ [4] out, [4, 1] ⇒ [4, 1],
/// equal sums.
#[test]
fn vector_and_matrix_label_equivalence() {
    let y = [1.0, 1.0, 0.0, 0.0];
    let x = [1.0, 0.1, 0.1, -1.0];
    let mut cases = cross_function_cases();
    cases.extend([
        (pr_auc((0.5, 1.0), 20), Surrogate::Xent),
        (par(Target::All(0.4)), Surrogate::Xent),
        (par(Target::All(0.7)), Surrogate::Hinge),
        (tpr_at_fpr(Target::All(0.76)), Surrogate::Xent),
        (tpr_at_fpr(Target::All(0.36)), Surrogate::Hinge),
    ]);
    for (obj, s) in cases {
        let v = run(obj.clone(), s, None, 1.0, &y, &x, &[4]);
        let m = run(obj, s, None, 1.0, &y, &x, &[4, 1]);
        assert_close(&v, &m, 1e-12, 1e-12);
    }
}

/// Our port of `testUnknownBatchSize` (Rust has no static shapes): given fixed priors
/// and λ, rows are independent, so a batch and its two halves give the same rows.
#[test]
fn rows_do_not_depend_on_the_rest_of_the_batch() {
    let mut r = rng(90);
    let x = normals(&mut r, 10);
    let y: Vec<f64> = x.iter().map(|v| if *v > 0.1 { 1.0 } else { 0.0 }).collect();
    let objectives = [
        pr_auc((0.0, 1.0), 20),
        rap(Target::All(0.8)),
        par(Target::All(0.7)),
        fpr_at_tpr(Target::All(0.9)),
        tpr_at_fpr(Target::All(0.1)),
        roc_anchors((0.0, 1.0), 4),
    ];
    for obj in objectives {
        let whole = run(
            obj.clone(),
            Surrogate::Xent,
            Some(vec![0.4; 2]),
            1.0,
            &y,
            &x,
            &[5, 2],
        );
        let a = run(
            obj.clone(),
            Surrogate::Xent,
            Some(vec![0.4; 2]),
            1.0,
            &y[..4],
            &x[..4],
            &[2, 2],
        );
        let b = run(
            obj,
            Surrogate::Xent,
            Some(vec![0.4; 2]),
            1.0,
            &y[4..],
            &x[4..],
            &[3, 2],
        );
        assert_close(&whole, &[a, b].concat(), 1e-12, 1e-12);
    }
}

/// Weights multiply the surrogate and the λ-term alike, so a weight-0 element costs
/// exactly 0 (hand formula, P@R, xent). Upstream adds the λ-term unweighted; the old
/// version of this test pinned that, and a weight-0 element then cost τ.
#[test]
fn weights_multiply_the_surrogate_and_the_lambda_term() {
    let vs = vs64();
    let (r_target, pi, lam) = (0.8, 0.3, 1.7);
    let loss = make_loss(
        &vs,
        1,
        &cfg(
            par(Target::All(r_target)),
            Surrogate::Xent,
            Some(vec![pi]),
            lam,
            DUAL,
        ),
    );
    let x = [0.4, -1.2, 2.0];
    let y = [1.0, 0.0, 1.0];
    let w = [0.0, 2.5, 0.5];
    let out = loss
        .forward(
            &t64(&x, &[3]),
            &t64(&y, &[3]),
            Some(&t64(&w, &[3])),
            Pass::Eval,
        )
        .unwrap();
    let tau = lam * pi * (r_target - 1.0) * std::f64::consts::LN_2;
    let expected: Vec<f64> = (0..3)
        .map(|i| {
            w[i] * (lam * y[i] * phi_pos(Surrogate::Xent, x[i])
                + (1.0 - y[i]) * phi_neg(Surrogate::Xent, x[i])
                + tau)
        })
        .collect();
    assert!(tau.abs() > 0.05, "{tau}");
    assert_close(&vec64(&out.loss), &expected, 1e-12, 1e-12);
    assert_close(&[vec64(&out.loss)[0]], &[0.0], 0.0, 0.0);
}

/// PR-AUC per element by hand: mean over anchors of R@P with biases added (K = 2,
/// biases set away from 0, per-anchor λ).
#[test]
fn pr_auc_hand_formula_with_biases_and_per_anchor_multipliers() {
    let vs = vs64();
    let c = LossConfig {
        objective: pr_auc((0.2, 0.8), 2),
        priors: bounds::PriorConfig::Fixed(vec![0.35]),
        ..LossConfig::default()
    };
    let loss = make_loss(&vs, 1, &c);
    assert_close(loss.anchors(), &[0.4, 0.6], 1e-12, 1e-12);
    let lam = [0.5, 2.0];
    let b = [0.3, -0.7];
    loss.multiplier_state()
        .unwrap()
        .set(&t64(&lam, &[1, 2]))
        .unwrap();
    tch::no_grad(|| {
        loss.biases()
            .unwrap()
            .shallow_clone()
            .copy_(&t64(&b, &[1, 2]))
    });
    let x = [0.4, -1.2, 2.0, 0.0];
    let y = [1.0, 0.0, 1.0, 0.0];
    let out = loss
        .forward(&t64(&x, &[4]), &t64(&y, &[4]), None, Pass::Eval)
        .unwrap();
    let s = Surrogate::Xent;
    let expected: Vec<f64> = (0..4)
        .map(|i| {
            let per: f64 = (0..2)
                .map(|k| {
                    let a = loss.anchors()[k];
                    let z = x[i] + b[k];
                    (1.0 + lam[k] * (1.0 - a)) * y[i] * phi_pos(s, z)
                        + lam[k] * a * (1.0 - y[i]) * phi_neg(s, z)
                        - lam[k] * (1.0 - a) * 0.35 * s.kappa()
                })
                .sum();
            per / 2.0
        })
        .collect();
    assert_close(&vec64(&out.loss), &expected, 1e-12, 1e-12);
}
