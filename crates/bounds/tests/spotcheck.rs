//! Independent spot checks of the math against reference/global-objectives.md, with
//! every expected value recomputed here in plain f64 from the reference's formulas
//! (not from the crate's helpers): one tiny weighted batch, fixed prior π = 0.4,
//! λ₀ = 1.5. One deliberate difference from the reference: the weight multiplies the
//! λ-term too (w·(surrogate + τ); upstream adds τ unweighted), see docs/math.md §3.
use bounds::roc::roc_auc_pairwise_loss;
use bounds::{GlobalLoss, LossConfig, ObjectiveConfig, Pass, PriorConfig, Surrogate, Target};
use tch::Tensor;

use crate::common::*;

const S: [f64; 4] = [2.0, -1.0, 0.5, -3.0];
const Y: [f64; 4] = [1.0, 0.0, 1.0, 0.0];
const W: [f64; 4] = [1.0, 2.0, 0.0, 1.0];
const PI: f64 = 0.4;
const LAM: f64 = 1.5;
const LN2: f64 = std::f64::consts::LN_2;

fn sp(x: f64) -> f64 {
    // softplus, written out independently of the crate and of common.rs
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn fixed(objective: ObjectiveConfig, surrogate: Surrogate) -> LossConfig {
    LossConfig {
        objective,
        surrogate,
        multiplier_init: LAM,
        priors: PriorConfig::Fixed(vec![PI]),
        ..LossConfig::default()
    }
}

fn run(cfg: &LossConfig) -> (GlobalLoss, bounds::LossOutput, tch::nn::VarStore) {
    let vs = vs64();
    let loss = make_loss(&vs, 1, cfg);
    let out = loss
        .forward(
            &t64(&S, &[4]),
            &t64(&Y, &[4]),
            Some(&t64(&W, &[4])),
            Pass::Train,
        )
        .unwrap();
    (loss, out, vs)
}

/// Reference §4.2 (P@R), its bound §3.5 and slack, and one dual step λ + η·∂J/∂λ.
#[test]
fn precision_at_recall_by_hand() {
    let r = 0.8;
    let want: Vec<f64> = (0..4)
        .map(|i| {
            W[i] * (LAM * Y[i] * sp(-S[i]) + (1.0 - Y[i]) * sp(S[i]) + LAM * PI * (r - 1.0) * LN2)
        })
        .collect();
    let (loss, out, _vs) = run(&fixed(par(Target::All(r)), Surrogate::Xent));
    assert_close(&vec64(&out.loss), &want, 1e-13, 0.0);
    let l_pos: f64 = (0..4).map(|i| W[i] * Y[i] * sp(-S[i])).sum();
    let y_pos: f64 = (0..4).map(|i| W[i] * Y[i]).sum();
    let tp = y_pos - l_pos / LN2;
    let d = &out.diagnostics;
    assert_close(&vec64(&d.tp_lower_bound), &[tp], 1e-13, 0.0);
    assert_close(&vec64(&d.slack), &[tp / y_pos - r], 1e-13, 1e-15);
    // J = mean_i loss_i is affine in λ: ∂J/∂λ = (L₊ + Σw·π·(r − 1)·κ)/N.
    let w_sum: f64 = W.iter().sum();
    let g = (l_pos + w_sum * PI * (r - 1.0) * LN2) / 4.0;
    assert_close(&vec64(&d.constraint_grad), &[g], 1e-13, 0.0);
    loss.dual_step(&out).unwrap();
    assert_close(&vec64(&loss.multipliers()), &[LAM + g], 1e-13, 0.0);
}

/// Reference §4.1 (R@P) with the hinge surrogate (κ = 1) and §4.4 (TPR@FPR) with xent.
#[test]
fn recall_at_precision_hinge_and_tpr_at_fpr_by_hand() {
    let a = 0.7;
    let hp = |x: f64| (1.0 - x).max(0.0);
    let hn = |x: f64| (1.0 + x).max(0.0);
    let want: Vec<f64> = (0..4)
        .map(|i| {
            W[i] * ((1.0 + LAM * (1.0 - a)) * Y[i] * hp(S[i]) + LAM * a * (1.0 - Y[i]) * hn(S[i])
                - LAM * (1.0 - a) * PI)
        })
        .collect();
    let (_l, out, _vs) = run(&fixed(rap(Target::All(a)), Surrogate::Hinge));
    assert_close(&vec64(&out.loss), &want, 1e-13, 0.0);
    let tp: f64 = (0..4).map(|i| W[i] * Y[i] * (1.0 - hp(S[i]))).sum();
    let fp: f64 = (0..4).map(|i| W[i] * (1.0 - Y[i]) * hn(S[i])).sum();
    assert_close(
        &vec64(&out.diagnostics.slack),
        &[tp / (tp + fp) - a],
        1e-13,
        1e-15,
    );

    let r = 0.2;
    let want: Vec<f64> = (0..4)
        .map(|i| {
            W[i] * (Y[i] * sp(-S[i]) + LAM * (1.0 - Y[i]) * sp(S[i]) - LAM * r * (1.0 - PI) * LN2)
        })
        .collect();
    let (_l, out, _vs) = run(&fixed(tpr_at_fpr(Target::All(r)), Surrogate::Xent));
    assert_close(&vec64(&out.loss), &want, 1e-13, 0.0);
    let fp: f64 = (0..4).map(|i| W[i] * (1.0 - Y[i]) * sp(S[i]) / LN2).sum();
    let y_neg: f64 = (0..4).map(|i| W[i] * (1.0 - Y[i])).sum();
    assert_close(
        &vec64(&out.diagnostics.slack),
        &[r - fp / y_neg],
        1e-13,
        1e-15,
    );
}

/// Reference §3.2 and §4.5 as upstream writes them: anchors inside (0.2, 0.8) for K = 2
/// are 0.4 and 0.6, Δ = 0.2, and the sum over anchors is scaled by Δ/(a₁ − a₀ − Δ);
/// biases are added to the logits. The fused mean agrees.
#[test]
fn pr_auc_with_upstream_normaliser_by_hand() {
    let b = [0.3, -0.2];
    let alphas = [0.4, 0.6];
    let delta = 0.6 / 3.0;
    let want: Vec<f64> = (0..4)
        .map(|i| {
            let sum: f64 = (0..2)
                .map(|k| {
                    let (a, z) = (alphas[k], S[i] + b[k]);
                    W[i] * ((1.0 + LAM * (1.0 - a)) * Y[i] * sp(-z)
                        + LAM * a * (1.0 - Y[i]) * sp(z)
                        - LAM * (1.0 - a) * PI * LN2)
                })
                .sum();
            delta * sum / (0.6 - delta)
        })
        .collect();
    for fused in [false, true] {
        let cfg = LossConfig {
            fused,
            ..fixed(pr_auc((0.2, 0.8), 2), Surrogate::Xent)
        };
        let vs = vs64();
        let loss = make_loss(&vs, 1, &cfg);
        assert_close(loss.anchors(), &alphas, 1e-15, 0.0);
        tch::no_grad(|| {
            loss.biases()
                .unwrap()
                .shallow_clone()
                .copy_(&t64(&b, &[1, 2]))
        });
        let (s, y, w) = (t64(&S, &[4]), t64(&Y, &[4]), t64(&W, &[4]));
        let per = loss.forward(&s, &y, Some(&w), Pass::Eval).unwrap();
        assert_close(&vec64(&per.loss), &want, 1e-13, 0.0);
        let mean = loss.forward_mean(&s, &y, Some(&w), Pass::Eval).unwrap();
        let want_mean = want.iter().sum::<f64>() / 4.0;
        assert_close(&vec64(&mean.loss), &[want_mean], 1e-13, 0.0);
    }
}

/// Reference §2.8 / §6: π = (1 + Σwy)/(2 + Σw) cumulated over two weighted training
/// passes; an evaluation pass leaves it alone.
#[test]
fn streaming_priors_after_two_weighted_passes() {
    let vs = vs64();
    let loss = make_loss(&vs, 1, &LossConfig::new(par(Target::All(0.5))));
    let s = t64(&S, &[4]);
    let first = loss
        .forward(&s, &t64(&Y, &[4]), Some(&t64(&W, &[4])), Pass::Train)
        .unwrap();
    // Σwy = 1, Σw = 4
    assert_close(&vec64(&first.diagnostics.priors), &[2.0 / 6.0], 1e-15, 0.0);
    let y2 = [1.0, 1.0, 0.0, 0.0];
    let w2 = [0.5, 0.5, 3.0, 0.0];
    let second = loss
        .forward(&s, &t64(&y2, &[4]), Some(&t64(&w2, &[4])), Pass::Train)
        .unwrap();
    // Σwy = 1, Σw = 4 again: (1 + 1 + 1)/(2 + 4 + 4)
    assert_close(&vec64(&second.diagnostics.priors), &[0.3], 1e-15, 0.0);
    let ones = Tensor::ones([4], DOUBLE);
    loss.forward(&s, &ones, None, Pass::Eval).unwrap();
    assert_close(&vec64(&loss.priors()), &[0.3], 1e-15, 0.0);
}

/// Reference §7.2 testMultiLabelROCLoss, class 1: (1/N)·Σ_{p,q} softplus(−(s_p − s_q)),
/// 0.497990 [ours]; exact and (enumerating) sampled paths.
#[test]
fn pairwise_roc_by_hand() {
    let s = [0.1, 1.0, 1.1, 1.0];
    let y = [0.0, 0.0, 1.0, 1.0];
    let mut want = 0.0;
    for p in (0..4).filter(|&p| y[p] == 1.0) {
        for q in (0..4).filter(|&q| y[q] == 0.0) {
            want += sp(-(s[p] - s[q]));
        }
    }
    want /= 4.0;
    assert!((want - 0.497990).abs() < 1e-6, "{want}");
    for max_pairs in [None, Some(100)] {
        let out = roc_auc_pairwise_loss(
            &t64(&y, &[4]),
            &t64(&s, &[4]),
            None,
            Surrogate::Xent,
            max_pairs,
            0,
        )
        .unwrap();
        let got = out.sum(tch::Kind::Double).double_value(&[]);
        assert!((got - want).abs() < 1e-14, "{max_pairs:?}: {got} vs {want}");
    }
}
