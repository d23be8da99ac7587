//! Ports of upstream `BoundTest` (reference §7.7) on the data builders of §7.9.
use bounds::{Surrogate, false_positives_upper_bound, true_positives_lower_bound};
use tch::Tensor;

use crate::common::*;

fn lb(data: &(Vec<f64>, Vec<f64>, Vec<f64>), n: i64, w: Option<&[f64]>, s: Surrogate) -> Vec<f64> {
    let w = w.map(|w| t64(w, &[n, 1]));
    let out = true_positives_lower_bound(
        &t64(&data.0, &[n, 2]),
        &t64(&data.1, &[n, 2]),
        w.as_ref(),
        s,
    )
    .unwrap();
    vec64(&out)
}

fn ub(data: &(Vec<f64>, Vec<f64>, Vec<f64>), n: i64, w: Option<&[f64]>, s: Surrogate) -> Vec<f64> {
    let w = w.map(|w| t64(w, &[n, 1]));
    let out = false_positives_upper_bound(
        &t64(&data.0, &[n, 2]),
        &t64(&data.1, &[n, 2]),
        w.as_ref(),
        s,
    )
    .unwrap();
    vec64(&out)
}

#[test]
fn lower_bound_multilabel() {
    let d = multilabel_data();
    assert_close(&lb(&d, 6, None, Surrogate::Xent), &[2.0, 1.0], 1e-6, 1e-6);
    let w = [0.0, 2.0, 0.5, 1.0, 2.0, 3.0];
    assert_close(
        &lb(&d, 6, Some(&w), Surrogate::Xent),
        &[2.5, 0.0],
        1e-6,
        1e-6,
    );
    assert_close(&lb(&d, 6, None, Surrogate::Hinge), &[2.0, 1.0], 1e-6, 1e-6);
    let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    assert_close(
        &lb(&d, 6, Some(&w), Surrogate::Hinge),
        &[5.0, 1.0],
        1e-6,
        1e-6,
    );
}

#[test]
fn lower_bound_other_multilabel() {
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        assert_close(
            &lb(&other_multilabel_data(s), 12, None, s),
            &[4.0, 2.0],
            1e-6,
            1e-5,
        );
    }
}

#[test]
fn upper_bound_multilabel() {
    let d = multilabel_data();
    assert_close(&ub(&d, 6, None, Surrogate::Xent), &[1.0, 2.0], 1e-6, 1e-6);
    let w = [3.0, 2.0, 1.0, 0.0, 1.0, 2.0];
    assert_close(
        &ub(&d, 6, Some(&w), Surrogate::Xent),
        &[2.0, 1.0],
        1e-6,
        1e-6,
    );
    assert_close(&ub(&d, 6, None, Surrogate::Hinge), &[1.0, 2.0], 1e-6, 1e-6);
    let w = [13.0, 12.0, 11.0, 0.5, 0.0, 0.5];
    assert_close(
        &ub(&d, 6, Some(&w), Surrogate::Hinge),
        &[0.5, 0.5],
        1e-6,
        1e-6,
    );
}

#[test]
fn upper_bound_other_multilabel() {
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        assert_close(
            &ub(&other_multilabel_data(s), 12, None, s),
            &[2.0, 4.0],
            1e-6,
            1e-5,
        );
    }
}

/// Bounds on [N, L, K] logits with [N, L] labels equal the stack of per-slice bounds.
#[test]
fn three_dimensional_logits() {
    let mut r = rng(21);
    let y = t64(&bernoulli(&mut r, 6, 0.5), &[2, 3]);
    let x = t64(&normals(&mut r, 12), &[2, 3, 2]);
    for f in [true_positives_lower_bound, false_positives_upper_bound] {
        let whole = f(&y, &x, None, Surrogate::Xent).unwrap();
        assert_eq!(whole.size(), vec![3, 2]);
        let slices: Vec<Tensor> = (0..2)
            .map(|k| f(&y, &x.select(2, k), None, Surrogate::Xent).unwrap())
            .collect();
        let stacked = Tensor::stack(&slices, 1);
        assert_tensors_close(&whole, &stacked, 1e-12, 1e-12);
    }
}

/// Hand values on a 1-D batch: TP_lb = Σ w·y·(1 − φ₊/κ), FP_ub = Σ w·(1 − y)·φ₋/κ.
#[test]
fn vector_bounds_match_the_hand_formula() {
    let y = [1.0, 0.0, 1.0, 0.0, 0.3];
    let x = [0.7, -0.2, -1.5, 2.0, 0.1];
    let w = [1.0, 2.0, 0.5, 3.0, 1.5];
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        let k = s.kappa();
        let tp: f64 = (0..5)
            .map(|i| w[i] * (y[i] - y[i] * phi_pos(s, x[i]) / k))
            .sum();
        let fp: f64 = (0..5)
            .map(|i| w[i] * (1.0 - y[i]) * phi_neg(s, x[i]) / k)
            .sum();
        let (yt, xt, wt) = (t64(&y, &[5]), t64(&x, &[5]), t64(&w, &[5]));
        let got_tp = true_positives_lower_bound(&yt, &xt, Some(&wt), s).unwrap();
        let got_fp = false_positives_upper_bound(&yt, &xt, Some(&wt), s).unwrap();
        assert_eq!(got_tp.size(), Vec::<i64>::new());
        assert_close(
            &[got_tp.double_value(&[]), got_fp.double_value(&[])],
            &[tp, fp],
            1e-12,
            1e-12,
        );
    }
}
