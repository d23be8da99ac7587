//! Multipliers: upstream update-direction tests (reference §7.8) with the exact new λ
//! from a hand formula, the trainable/untrainable dual variable tests (§7.7), and the
//! analytic constraint gradient against autograd and finite differences.
use bounds::{
    Error, GlobalLoss, LossConfig, MultiplierUpdate, Multipliers, ObjectiveConfig, Pass, Surrogate,
    Target,
};
use tch::{Kind, Tensor, nn};

use crate::common::*;

#[derive(Clone, Copy, Debug)]
enum Kindly {
    Rap,
    Par,
    Tpr,
}

/// ∂(Σ_i loss_il)/∂λ_l by hand, in plain f64, for K = 1 (column-major access).
fn hand_sum_grad(
    kind: Kindly,
    s: Surrogate,
    y: &[f64],
    x: &[f64],
    n: usize,
    t: &[f64],
    pi: &[f64],
) -> Vec<f64> {
    let kappa = s.kappa();
    (0..2)
        .map(|l| {
            let lp: f64 = (0..n)
                .map(|i| y[i * 2 + l] * phi_pos(s, x[i * 2 + l]))
                .sum();
            let ln: f64 = (0..n)
                .map(|i| (1.0 - y[i * 2 + l]) * phi_neg(s, x[i * 2 + l]))
                .sum();
            let nn = n as f64;
            match kind {
                Kindly::Rap => (1.0 - t[l]) * lp + t[l] * ln - nn * (1.0 - t[l]) * pi[l] * kappa,
                Kindly::Par => lp + nn * pi[l] * (t[l] - 1.0) * kappa,
                Kindly::Tpr => ln - nn * t[l] * (1.0 - pi[l]) * kappa,
            }
        })
        .collect()
}

/// One update of both mechanisms on a data builder; checks direction and exact value.
fn check_update(obj: ObjectiveConfig, kind: Kindly, targets: [f64; 2], rho: f64) {
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        for (n, (y, x, pi)) in [(6usize, multilabel_data()), (12, other_multilabel_data(s))] {
            let d = hand_sum_grad(kind, s, &y, &x, n, &targets, &pi);
            let shape = [n as i64, 2];
            // Reversed: one plain SGD step (lr 0.1) on the summed loss over v only.
            let vs = vs64();
            let loss = make_loss(
                &vs,
                2,
                &cfg(
                    obj.clone(),
                    s,
                    Some(pi.clone()),
                    1.0,
                    MultiplierUpdate::Reversed {
                        dual_rate_factor: rho,
                    },
                ),
            );
            let out = loss
                .forward(&t64(&x, &shape), &t64(&y, &shape), None, Pass::Train)
                .unwrap();
            out.loss.sum(Kind::Double).backward();
            let v = loss.multiplier_state().unwrap().variable().shallow_clone();
            tch::no_grad(|| {
                let next = &v - v.grad() * 0.1;
                v.shallow_clone().copy_(&next);
            });
            let got = vec64(&loss.multipliers());
            let expected: Vec<f64> = d.iter().map(|d| (1.0 + 0.1 * rho * d).abs()).collect();
            assert_close(&got, &expected, 1e-9, 1e-9);
            assert!(got[0] < 1.0 && got[1] > 1.0, "{obj:?} {s:?}: {got:?}");
            // DualAscent: λ ← max(0, λ + rate·g), g = ∂(batch mean)/∂λ = d / (N·L).
            let rate = 0.3;
            let vs = vs64();
            let loss = make_loss(
                &vs,
                2,
                &cfg(
                    obj.clone(),
                    s,
                    Some(pi.clone()),
                    1.0,
                    MultiplierUpdate::DualAscent { rate, max: None },
                ),
            );
            let out = loss
                .forward_mean(&t64(&x, &shape), &t64(&y, &shape), None, Pass::Train)
                .unwrap();
            loss.dual_step(&out).unwrap();
            let got = vec64(&loss.multipliers());
            let expected: Vec<f64> = d
                .iter()
                .map(|d| (1.0 + rate * d / (2 * n) as f64).max(0.0))
                .collect();
            assert_close(&got, &expected, 1e-9, 1e-9);
            assert!(got[0] < 1.0 && got[1] > 1.0, "{obj:?} {s:?}: {got:?}");
            // The slack agrees in sign: label 0 holds, label 1 is violated.
            let slack = vec64(&out.diagnostics.slack);
            assert!(
                slack[0] > 0.0 && slack[1] < 0.0,
                "{obj:?} {s:?}: slack {slack:?}"
            );
        }
    }
}

#[test]
fn pr_auc_multiplier_update_direction() {
    for p in [0.35, 0.65] {
        check_update(pr_auc((p - 0.01, p + 0.01), 1), Kindly::Rap, [p, p], 0.1);
    }
}

#[test]
fn recall_at_precision_multiplier_update_direction() {
    for p in [0.35, 0.65] {
        check_update(rap(Target::All(p)), Kindly::Rap, [p, p], 0.1);
    }
    check_update(
        rap(Target::PerLabel(vec![0.65, 0.35])),
        Kindly::Rap,
        [0.65, 0.35],
        0.1,
    );
}

#[test]
fn precision_at_recall_multiplier_update_direction() {
    for r in [0.34, 0.66] {
        check_update(par(Target::All(r)), Kindly::Par, [r, r], 1.0);
    }
    check_update(
        par(Target::PerLabel(vec![0.34, 0.66])),
        Kindly::Par,
        [0.34, 0.66],
        1.0,
    );
}

#[test]
fn fpr_at_tpr_multiplier_update_direction() {
    for r in [0.35, 0.65] {
        check_update(fpr_at_tpr(Target::All(r)), Kindly::Par, [r, r], 0.1);
    }
    check_update(
        fpr_at_tpr(Target::PerLabel(vec![0.35, 0.65])),
        Kindly::Par,
        [0.35, 0.65],
        0.1,
    );
}

#[test]
fn tpr_at_fpr_multiplier_update_direction() {
    for r in [0.35, 0.65] {
        check_update(tpr_at_fpr(Target::All(r)), Kindly::Tpr, [r, r], 0.1);
    }
    check_update(
        tpr_at_fpr(Target::PerLabel(vec![0.35, 0.65])),
        Kindly::Tpr,
        [0.35, 0.65],
        0.1,
    );
}

/// Upstream `testTrainableDualVariable`: one SGD step (lr 1) on ½(x − λ)² with ρ = 0.3
/// moves v from 1 to 0.7 (and x from 2 to 1).
#[test]
fn trainable_dual_variable() {
    let vs = vs64();
    let root = vs.root();
    let x = root.var("x", &[], nn::Init::Const(2.0));
    let m = Multipliers::new(
        &root,
        "dual",
        &[],
        1.0,
        MultiplierUpdate::Reversed {
            dual_rate_factor: 0.3,
        },
    )
    .unwrap();
    let mut opt = nn::OptimizerConfig::build(nn::Sgd::default(), &vs, 1.0).unwrap();
    let j = (&x - m.value()).square() * 0.5;
    opt.backward_step(&j);
    assert_close(&[m.variable().double_value(&[])], &[0.7], 1e-12, 1e-12);
    assert_close(&[x.double_value(&[])], &[1.0], 1e-12, 1e-12);
}

/// Upstream `testUntrainableDualVariable`: under DualAscent the multiplier is not a
/// trainable variable; an SGD step on x²λ + e^λ leaves it at 1.0 (x: −2 → 2).
#[test]
fn untrainable_dual_variable() {
    let vs = vs64();
    let root = vs.root();
    let x = root.var("x", &[], nn::Init::Const(-2.0));
    let m = Multipliers::new(
        &root,
        "dual",
        &[],
        1.0,
        MultiplierUpdate::DualAscent {
            rate: 0.8,
            max: None,
        },
    )
    .unwrap();
    assert_eq!(vs.trainable_variables().len(), 1);
    assert!(!m.variable().requires_grad());
    let mut opt = nn::OptimizerConfig::build(nn::Sgd::default(), &vs, 1.0).unwrap();
    let lam = m.value();
    let j = x.square() * &lam + lam.exp();
    opt.backward_step(&j);
    assert_close(&[m.variable().double_value(&[])], &[1.0], 0.0, 0.0);
    assert_close(&[x.double_value(&[])], &[2.0], 1e-12, 1e-12);
}

fn all_objectives() -> Vec<ObjectiveConfig> {
    vec![
        rap(Target::PerLabel(vec![0.6, 0.8])),
        par(Target::PerLabel(vec![0.9, 0.5])),
        fpr_at_tpr(Target::All(0.7)),
        tpr_at_fpr(Target::PerLabel(vec![0.1, 0.3])),
        pr_auc((0.1, 0.9), 3),
        roc_anchors((0.0, 0.5), 4),
    ]
}

fn batch(seed: u64) -> (Tensor, Tensor, Tensor) {
    let mut r = rng(seed);
    let x = t64(&normals(&mut r, 24), &[12, 2]);
    let y = t64(&bernoulli(&mut r, 24, 0.5), &[12, 2]);
    let w = t64(&uniforms(&mut r, 24), &[12, 2]) * 2.0;
    (x, y, w)
}

/// With ρ = 1 and v > 0 the reversed gradient reaching v is exactly −∂J/∂λ, so autograd
/// checks the analytic `constraint_grad` (all objectives, both surrogates, streaming
/// priors, weights).
#[test]
fn constraint_grad_matches_autograd() {
    for obj in all_objectives() {
        for s in [Surrogate::Xent, Surrogate::Hinge] {
            let (x, y, w) = batch(100);
            let vs = vs64();
            let c = LossConfig {
                objective: obj.clone(),
                surrogate: s,
                multiplier_update: MultiplierUpdate::Reversed {
                    dual_rate_factor: 1.0,
                },
                multiplier_init: 1.3,
                ..LossConfig::default()
            };
            let loss = make_loss(&vs, 2, &c);
            let out = loss.forward_mean(&x, &y, Some(&w), Pass::Train).unwrap();
            out.loss.backward();
            let v = loss.multiplier_state().unwrap().variable();
            assert_tensors_close(
                &v.grad(),
                &(-&out.diagnostics.constraint_grad),
                1e-10,
                1e-12,
            );
        }
    }
}

/// Finite differences in λ (DualAscent state, fixed priors) agree with `constraint_grad`.
#[test]
fn constraint_grad_matches_finite_differences() {
    for obj in all_objectives() {
        let (x, y, w) = batch(101);
        let vs = vs64();
        let loss = make_loss(
            &vs,
            2,
            &cfg(
                obj.clone(),
                Surrogate::Xent,
                Some(vec![0.3, 0.6]),
                0.8,
                DUAL,
            ),
        );
        let m = loss.multiplier_state().unwrap();
        let base = m.current();
        let g = loss
            .forward_mean(&x, &y, Some(&w), Pass::Eval)
            .unwrap()
            .diagnostics
            .constraint_grad;
        let flat = base.flatten(0, -1);
        let h = 1e-6;
        let mut fd = Vec::new();
        for i in 0..flat.size()[0] {
            let val = |delta: f64| {
                let p = flat.copy();
                let _ = p.get(i).fill_(flat.double_value(&[i]) + delta);
                m.set(&p.reshape(base.size())).unwrap();
                loss.forward_mean(&x, &y, Some(&w), Pass::Eval)
                    .unwrap()
                    .loss
                    .double_value(&[])
            };
            fd.push((val(h) - val(-h)) / (2.0 * h));
        }
        assert_close(&fd, &vec64(&g), 1e-6, 1e-9);
    }
}

/// Projection: λ never goes below 0 and never above the cap.
#[test]
fn dual_step_projects_onto_zero_and_the_cap() {
    // Strongly satisfied P@R (all positives confidently right) pushes λ down to 0.
    let x = t64(&[8.0, 9.0, -1.0, 7.0], &[4]);
    let y = t64(&[1.0, 1.0, 0.0, 1.0], &[4]);
    let vs = vs64();
    let c = cfg(
        par(Target::All(0.5)),
        Surrogate::Xent,
        Some(vec![0.75]),
        0.01,
        MultiplierUpdate::DualAscent {
            rate: 100.0,
            max: Some(3.0),
        },
    );
    let loss = make_loss(&vs, 1, &c);
    let out = loss.forward_mean(&x, &y, None, Pass::Train).unwrap();
    assert!(out.diagnostics.constraint_grad.double_value(&[0]) < 0.0);
    loss.dual_step(&out).unwrap();
    assert_eq!(vec64(&loss.multipliers()), vec![0.0]);
    // Strongly violated (positives confidently wrong) pushes it up to the cap.
    let x = t64(&[-8.0, -9.0, -1.0, -7.0], &[4]);
    let out = loss.forward_mean(&x, &y, None, Pass::Train).unwrap();
    loss.dual_step(&out).unwrap();
    assert_eq!(vec64(&loss.multipliers()), vec![3.0]);
    // Eval diagnostics are refused.
    let out = loss.forward_mean(&x, &y, None, Pass::Eval).unwrap();
    assert!(matches!(
        loss.dual_step(&out),
        Err(Error::InvalidValue { .. })
    ));
}

/// Under DualAscent the loss's multipliers are not in the VarStore's trainable list;
/// under Reversed they are; biases always are.
#[test]
fn trainable_sets() {
    for (update, expected) in [(DUAL, 1usize), (REVERSED_01, 2)] {
        let vs = vs64();
        let c = LossConfig {
            multiplier_update: update,
            ..LossConfig::new(pr_auc((0.0, 1.0), 5))
        };
        let loss: GlobalLoss = make_loss(&vs, 3, &c);
        assert_eq!(vs.trainable_variables().len(), expected);
        assert_eq!(loss.multipliers().size(), vec![3, 5]);
        let names: Vec<String> = vs.variables().into_keys().collect();
        for n in [
            "loss.multipliers",
            "loss.biases",
            "loss.prior_positive",
            "loss.prior_total",
        ] {
            assert!(names.iter().any(|k| k == n), "{n} missing from {names:?}");
        }
    }
}
