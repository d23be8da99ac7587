//! State: checkpoint round-trip, prior update semantics, degenerate batches.
use bounds::{
    GlobalLoss, LossConfig, MultiplierUpdate, ObjectiveConfig, Pass, PriorConfig, Surrogate, Target,
};
use tch::nn::{Module, OptimizerConfig};
use tch::{Kind, Tensor, nn};

use crate::common::*;

struct Setup {
    vs: nn::VarStore,
    model: nn::Linear,
    loss: GlobalLoss,
}

fn setup(cfg: &LossConfig) -> Setup {
    let vs = vs64();
    let model = nn::linear(vs.root() / "model", 3, 2, Default::default());
    let loss = GlobalLoss::new(&(vs.root() / "loss"), 2, cfg).unwrap();
    Setup { vs, model, loss }
}

fn batch(seed: u64) -> (Tensor, Tensor) {
    let mut r = rng(seed);
    (
        t64(&normals(&mut r, 48), &[16, 3]),
        t64(&bernoulli(&mut r, 32, 0.6), &[16, 2]),
    )
}

fn train_step(s: &Setup, opt: &mut nn::Optimizer, seed: u64) {
    let (x, y) = batch(seed);
    let out = s
        .loss
        .forward_mean(&s.model.forward(&x), &y, None, Pass::Train)
        .unwrap();
    opt.backward_step(&out.loss);
    s.loss.dual_step(&out).unwrap();
}

/// Train a few steps, save, load into a fresh VarStore: the next loss (and its state
/// after one more step) is identical, for both multiplier mechanisms.
#[test]
fn checkpoint_round_trip() {
    for update in [
        DUAL,
        MultiplierUpdate::Reversed {
            dual_rate_factor: 2.0,
        },
    ] {
        let c = LossConfig {
            objective: pr_auc((0.0, 1.0), 5),
            multiplier_update: update,
            ..LossConfig::default()
        };
        let a = setup(&c);
        let mut opt = nn::Sgd::default().build(&a.vs, 0.3).unwrap();
        for step in 0..3 {
            train_step(&a, &mut opt, step);
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ckpt.ot");
        a.vs.save(&file).unwrap();
        let mut b = setup(&c);
        b.vs.load(&file).unwrap();
        let mut opt_b = nn::Sgd::default().build(&b.vs, 0.3).unwrap();
        // λ moved away from its init, and everything matches after loading.
        assert!(
            vec64(&a.loss.multipliers())
                .iter()
                .any(|v| (v - 1.0).abs() > 1e-3)
        );
        assert_close(
            &vec64(&b.loss.multipliers()),
            &vec64(&a.loss.multipliers()),
            0.0,
            0.0,
        );
        assert_close(&vec64(&b.loss.priors()), &vec64(&a.loss.priors()), 0.0, 0.0);
        let (x, y) = batch(99);
        let la = a
            .loss
            .forward_mean(&a.model.forward(&x), &y, None, Pass::Eval)
            .unwrap();
        let lb = b
            .loss
            .forward_mean(&b.model.forward(&x), &y, None, Pass::Eval)
            .unwrap();
        assert_close(
            &[lb.loss.double_value(&[])],
            &[la.loss.double_value(&[])],
            0.0,
            0.0,
        );
        train_step(&a, &mut opt, 100);
        train_step(&b, &mut opt_b, 100);
        assert_close(
            &vec64(&b.loss.multipliers()),
            &vec64(&a.loss.multipliers()),
            0.0,
            0.0,
        );
        assert_close(
            &vec64(b.loss.biases().unwrap()),
            &vec64(a.loss.biases().unwrap()),
            0.0,
            0.0,
        );
        assert_close(&vec64(&b.loss.priors()), &vec64(&a.loss.priors()), 0.0, 0.0);
    }
}

/// Evaluating the loss does not move the streaming priors (upstream pitfall, §10).
#[test]
fn eval_pass_does_not_move_the_priors() {
    let s = setup(&LossConfig::new(par(Target::All(0.8))));
    assert_close(&vec64(&s.loss.priors()), &[0.5, 0.5], 0.0, 0.0);
    let (x, y) = batch(1);
    let out = s
        .loss
        .forward(&s.model.forward(&x), &y, None, Pass::Eval)
        .unwrap();
    assert_close(&vec64(&out.diagnostics.priors), &[0.5, 0.5], 0.0, 0.0);
    assert_close(&vec64(&s.loss.priors()), &[0.5, 0.5], 0.0, 0.0);
    let out = s
        .loss
        .forward(&s.model.forward(&x), &y, None, Pass::Train)
        .unwrap();
    let yv = vec64(&y);
    let expected: Vec<f64> = (0..2)
        .map(|j| (1.0 + (0..16).map(|i| yv[i * 2 + j]).sum::<f64>()) / 18.0)
        .collect();
    assert_close(&vec64(&out.diagnostics.priors), &expected, 1e-12, 0.0);
    s.loss
        .forward(&s.model.forward(&x), &y, None, Pass::Eval)
        .unwrap();
    assert_close(&vec64(&s.loss.priors()), &expected, 1e-12, 0.0);
}

/// Weight-0 elements count neither in the priors nor in the surrogate; per-row [N]
/// weights act on every label.
#[test]
fn zero_weight_rows_do_not_count_in_the_priors() {
    let s = setup(&LossConfig::new(par(Target::All(0.8))));
    let y = t64(&[1.0, 1.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]);
    let x = t64(&[0.0; 6], &[3, 2]);
    let w = t64(&[1.0, 0.0, 2.0], &[3]);
    let out = s.loss.forward(&x, &y, Some(&w), Pass::Train).unwrap();
    // Label 0: (1 + 1·1 + 2·1) / (2 + 3) = 0.8; label 1: (1 + 1·1 + 2·1) / 5 = 0.8.
    assert_close(&vec64(&out.diagnostics.priors), &[0.8, 0.8], 1e-12, 0.0);
    let w2 = t64(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0], &[3, 2]);
    let out = s.loss.forward(&x, &y, Some(&w2), Pass::Train).unwrap();
    assert_close(
        &vec64(&out.diagnostics.priors),
        &[4.0 / 5.0, 5.0 / 6.0],
        1e-12,
        0.0,
    );
}

/// A batch without positives (P@R, R@P) or without negatives (TPR@FPR) gives finite
/// loss, gradients and diagnostics; the undefined ratio reports slack 0.
#[test]
fn degenerate_batches_are_nan_free() {
    let cases: Vec<(ObjectiveConfig, f64)> = vec![
        (par(Target::All(0.9)), 0.0),
        (rap(Target::All(0.9)), 0.0),
        (tpr_at_fpr(Target::All(0.1)), 1.0),
        (pr_auc((0.0, 1.0), 3), 0.0),
        (roc_anchors((0.0, 1.0), 3), 1.0),
    ];
    for (obj, label) in cases {
        for s in [Surrogate::Xent, Surrogate::Hinge] {
            let vs = vs64();
            let c = LossConfig {
                objective: obj.clone(),
                surrogate: s,
                priors: PriorConfig::Streaming {
                    positive_pseudocount: 0.0,
                    negative_pseudocount: 0.0,
                },
                ..LossConfig::default()
            };
            let loss = make_loss(&vs, 1, &c);
            let x = t64(&[3.0, -2.0, -5.0], &[3]).set_requires_grad(true);
            let y = t64(&[label; 3], &[3]);
            // All weights 0 first: π falls back to 0.5, nothing is NaN.
            let zero = t64(&[0.0; 3], &[3]);
            for w in [Some(&zero), None] {
                let out = loss.forward_mean(&x, &y, w, Pass::Train).unwrap();
                out.loss.backward();
                let d = &out.diagnostics;
                for t in [
                    &out.loss,
                    &x.grad(),
                    &d.slack,
                    &d.constraint_grad,
                    &d.priors,
                    &d.tp_lower_bound,
                    &d.fp_upper_bound,
                ] {
                    assert!(
                        vec64(t).iter().all(|v| v.is_finite()),
                        "{obj:?} {s:?}: {t:?}"
                    );
                }
                if !matches!(
                    obj,
                    ObjectiveConfig::RecallAtPrecision { .. } | ObjectiveConfig::PrAuc { .. }
                ) {
                    assert!(
                        vec64(&d.slack).iter().all(|v| *v == 0.0),
                        "{obj:?}: {:?}",
                        d.slack
                    );
                }
            }
        }
    }
}

/// f32 inputs give f32 outputs with the same values as f64 (to f32 precision).
#[test]
fn float32_matches_float64() {
    let mut r = rng(7);
    let xv = normals(&mut r, 20);
    let yv = bernoulli(&mut r, 20, 0.5);
    let mut outs = Vec::new();
    for kind in [Kind::Float, Kind::Double] {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let loss = GlobalLoss::new(&vs.root(), 2, &LossConfig::new(pr_auc((0.0, 1.0), 4))).unwrap();
        let out = loss
            .forward(
                &t64(&xv, &[10, 2]).to_kind(kind),
                &t64(&yv, &[10, 2]).to_kind(kind),
                None,
                Pass::Train,
            )
            .unwrap();
        assert_eq!(out.loss.kind(), kind);
        outs.push(vec64(&out.loss));
    }
    assert_close(&outs[0], &outs[1], 1e-5, 1e-6);
}
