//! Weight 0 means "ignore this element" (issue 3): an ignored element must change
//! nothing, neither the loss nor its λ-term nor the priors. The λ-term of a row is
//! weighted like its surrogate, so that the Lagrangian's |Y₊| ≈ π·Σw matches the
//! weight-aware sums (docs/math.md §3). Each test here failed when the λ-term was
//! added unweighted on every row (upstream's form).
use bounds::{LossConfig, MultiplierUpdate, ObjectiveConfig, Pass, Surrogate, Target};
use tch::Kind;

use crate::common::*;

/// Every objective with multipliers, with a surrogate each.
fn objectives() -> Vec<(ObjectiveConfig, Surrogate)> {
    vec![
        (rap(Target::All(0.7)), Surrogate::Xent),
        (par(Target::All(0.8)), Surrogate::Hinge),
        (fpr_at_tpr(Target::All(0.6)), Surrogate::Xent),
        (tpr_at_fpr(Target::All(0.3)), Surrogate::Xent),
        (pr_auc((0.1, 0.9), 3), Surrogate::Xent),
        (roc_anchors((0.0, 0.5), 3), Surrogate::Hinge),
    ]
}

/// How the loss is reduced: per-element `forward` summed, or `forward_mean` times N.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Forward,
    Mean { fused: bool },
}

const MODES: [Mode; 3] = [
    Mode::Forward,
    Mode::Mean { fused: false },
    Mode::Mean { fused: true },
];

/// What one training forward gives, as sums (not means) so that batches of different
/// N compare.
struct Sums {
    loss: f64,
    /// ∂(Σ loss)/∂logits, `[N, L]` flattened.
    logits_grad: Vec<f64>,
    /// ∂(Σ loss)/∂v of the reversed multipliers (ρ = 1), flattened.
    multiplier_grad: Vec<f64>,
    /// ∂(Σ loss)/∂b, anchor objectives only (empty otherwise).
    bias_grad: Vec<f64>,
    /// N · constraint_grad.
    constraint_grad: Vec<f64>,
    priors: Vec<f64>,
    tp: Vec<f64>,
    fp: Vec<f64>,
    slack: Vec<f64>,
}

/// Runs one `Pass::Train` forward of a fresh loss (streaming priors, reversed
/// multipliers with ρ = 1 at λ = 1.3, anchor biases away from 0).
fn sums(
    obj: &ObjectiveConfig,
    s: Surrogate,
    mode: Mode,
    x: &[f64],
    y: &[f64],
    w: &[f64],
    shape: &[i64],
) -> Sums {
    let vs = vs64();
    let c = LossConfig {
        objective: obj.clone(),
        surrogate: s,
        multiplier_update: MultiplierUpdate::Reversed {
            dual_rate_factor: 1.0,
        },
        multiplier_init: 1.3,
        fused: matches!(mode, Mode::Mean { fused: true }),
        chunk_rows: 3,
        ..LossConfig::default()
    };
    let l = shape[1];
    let loss = make_loss(&vs, l, &c);
    if let Some(b) = loss.biases() {
        let k = b.size()[1];
        let vals: Vec<f64> = (0..l * k).map(|i| 0.3 - 0.2 * i as f64).collect();
        tch::no_grad(|| b.shallow_clone().copy_(&t64(&vals, &[l, k])));
    }
    let n = shape[0] as f64;
    let xt = t64(x, shape).set_requires_grad(true);
    let (yt, wt) = (t64(y, shape), t64(w, shape));
    let (total, d) = match mode {
        Mode::Forward => {
            let out = loss.forward(&xt, &yt, Some(&wt), Pass::Train).unwrap();
            (out.loss.sum(Kind::Double), out.diagnostics)
        }
        Mode::Mean { .. } => {
            let out = loss.forward_mean(&xt, &yt, Some(&wt), Pass::Train).unwrap();
            (out.loss * n, out.diagnostics)
        }
    };
    total.backward();
    Sums {
        loss: total.double_value(&[]),
        logits_grad: vec64(&xt.grad()),
        multiplier_grad: vec64(&loss.multiplier_state().unwrap().variable().grad()),
        bias_grad: loss.biases().map(|b| vec64(&b.grad())).unwrap_or_default(),
        constraint_grad: vec64(&(&d.constraint_grad * n)),
        priors: vec64(&d.priors),
        tp: vec64(&d.tp_lower_bound),
        fp: vec64(&d.fp_upper_bound),
        slack: vec64(&d.slack),
    }
}

#[track_caller]
fn assert_same(a: &Sums, b: &Sums, what: &str) {
    let close = |x: &[f64], y: &[f64], field: &str| {
        assert_eq!(x.len(), y.len(), "{what}: {field} lengths");
        for (i, (p, q)) in x.iter().zip(y).enumerate() {
            assert!(
                (p - q).abs() <= 1e-10 + 1e-9 * q.abs(),
                "{what}: {field}[{i}]: {p} vs {q}\n{x:?}\n{y:?}"
            );
        }
    };
    close(&[a.loss], &[b.loss], "summed loss");
    close(&a.logits_grad, &b.logits_grad, "logits grad");
    close(&a.multiplier_grad, &b.multiplier_grad, "multiplier grad");
    close(&a.bias_grad, &b.bias_grad, "bias grad");
    close(&a.constraint_grad, &b.constraint_grad, "N·constraint_grad");
    close(&a.priors, &b.priors, "priors");
    close(&a.tp, &b.tp, "TP_lb");
    close(&a.fp, &b.fp, "FP_ub");
    close(&a.slack, &b.slack, "slack");
}

/// A seeded [n, 2] batch with weights in [0, 2), a few of them exactly 0.
fn batch(seed: u64, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut r = rng(seed);
    let x = normals(&mut r, 2 * n);
    let y = bernoulli(&mut r, 2 * n, 0.5);
    let w: Vec<f64> = uniforms(&mut r, 2 * n)
        .into_iter()
        .enumerate()
        .map(|(i, u)| if i % 5 == 2 { 0.0 } else { 2.0 * u })
        .collect();
    (x, y, w)
}

/// Appending rows of weight 0 (any labels, any logits, some large) changes neither the
/// summed loss, nor any gradient, nor N·constraint_grad, nor the priors and bounds;
/// the appended rows get gradient 0. Likewise, changing the label and logit of an
/// element of weight 0 (one label of a row, per-element weights) changes nothing.
#[test]
fn appended_weight_zero_rows_change_nothing() {
    let n = 7;
    let (x, y, w) = batch(31, n);
    let mut r = rng(32);
    let extra_x: Vec<f64> = normals(&mut r, 8).iter().map(|v| 40.0 * v).collect();
    let extra_y = bernoulli(&mut r, 8, 0.3);
    let (xx, yy, ww) = (
        [x.clone(), extra_x].concat(),
        [y.clone(), extra_y].concat(),
        [w.clone(), vec![0.0; 8]].concat(),
    );
    for (obj, s) in objectives() {
        for mode in MODES {
            let what = format!("{obj:?} {s:?} {mode:?}");
            let base = sums(&obj, s, mode, &x, &y, &w, &[n as i64, 2]);
            let mut more = sums(&obj, s, mode, &xx, &yy, &ww, &[n as i64 + 4, 2]);
            let tail = more.logits_grad.split_off(2 * n);
            assert!(tail.iter().all(|g| *g == 0.0), "{what}: {tail:?}");
            assert_same(&more, &base, &what);
            let (mut x2, mut y2) = (x.clone(), y.clone());
            for i in (0..2 * n).filter(|&i| w[i] == 0.0) {
                x2[i] = 30.0 - x2[i];
                y2[i] = 1.0 - y2[i];
            }
            let moved = sums(&obj, s, mode, &x2, &y2, &w, &[n as i64, 2]);
            assert_same(&moved, &base, &format!("{what} (moved ignored elements)"));
        }
    }
}

/// A row of weight 2 is the same row twice, on a batch whose Σw ≠ N: equal summed
/// loss, gradients (the weighted row's logit gradient is the sum of its copies'),
/// N·constraint_grad and priors.
#[test]
fn weight_two_equals_a_duplicated_row() {
    let n = 6;
    let (x, y, _) = batch(41, n);
    let mut w = vec![1.0; 2 * n];
    w[4] = 2.0; // row 2, both labels
    w[5] = 2.0;
    let dup = |v: &[f64]| [&v[..2 * 3], &v[4..6], &v[2 * 3..]].concat();
    let (xd, yd, wd) = (dup(&x), dup(&y), vec![1.0; 2 * (n + 1)]);
    for (obj, s) in objectives() {
        for mode in MODES {
            let what = format!("{obj:?} {s:?} {mode:?}");
            let weighted = sums(&obj, s, mode, &x, &y, &w, &[n as i64, 2]);
            let mut copied = sums(&obj, s, mode, &xd, &yd, &wd, &[n as i64 + 1, 2]);
            // Fold the copy (row 3 of the duplicated batch) back onto row 2.
            let g = &mut copied.logits_grad;
            let copy: Vec<f64> = g.drain(6..8).collect();
            g[4] += copy[0];
            g[5] += copy[1];
            assert_same(&copied, &weighted, &what);
        }
    }
}

/// P@R (xent, r = 0.9, λ = 2, streaming priors 1/1) on logits [0, 0, 5], labels
/// [1, 0, 1], weights [1, 1, 0], by hand:
///
/// ```text
/// π = (1 + 1)/(2 + 2) = 0.5,  τ = λ·π·(r − 1)·ln 2 = −0.1·ln 2
/// loss = [1·(2·ln 2 + τ), 1·(ln 2 + τ), 0·(…)] = [1.9, 0.9, 0]·ln 2
/// ∂J/∂λ = (L₊ + π·(r − 1)·ln 2·Σw)/N = (ln 2 − 0.05·ln 2·2)/3 = 0.3·ln 2
/// ```
///
/// Upstream's unweighted λ-term gives the ignored row −0.1·ln 2 and ∂J/∂λ =
/// 0.85·ln 2/3: as if the recall target were lower.
#[test]
fn precision_at_recall_with_an_ignored_row_by_hand() {
    let ln2 = std::f64::consts::LN_2;
    for fused in [false, true] {
        let vs = vs64();
        let c = LossConfig {
            objective: par(Target::All(0.9)),
            multiplier_init: 2.0,
            fused,
            ..LossConfig::default()
        };
        let loss = make_loss(&vs, 1, &c);
        let (x, y, w) = (
            t64(&[0.0, 0.0, 5.0], &[3]),
            t64(&[1.0, 0.0, 1.0], &[3]),
            t64(&[1.0, 1.0, 0.0], &[3]),
        );
        let per = loss.forward(&x, &y, Some(&w), Pass::Eval).unwrap();
        assert_close(
            &vec64(&per.loss),
            &[1.9 * ln2, 0.9 * ln2, 0.0],
            1e-14,
            1e-15,
        );
        let out = loss.forward_mean(&x, &y, Some(&w), Pass::Train).unwrap();
        assert_close(&vec64(&out.diagnostics.priors), &[0.5], 1e-15, 0.0);
        assert_close(&vec64(&out.loss), &[2.8 * ln2 / 3.0], 1e-14, 0.0);
        assert_close(
            &vec64(&out.diagnostics.constraint_grad),
            &[0.3 * ln2],
            1e-14,
            0.0,
        );
        loss.dual_step(&out).unwrap();
        assert_close(&vec64(&loss.multipliers()), &[2.0 + 0.3 * ln2], 1e-14, 0.0);
        // Slack uses the batch's weighted counts: TP_lb = 1 − ln 2/ln 2 = 0, |Y₊| = 1.
        assert_close(&vec64(&out.diagnostics.slack), &[-0.9], 1e-14, 0.0);
    }
}
