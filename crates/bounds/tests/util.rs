//! Ports of upstream `util_test.py` (reference §7.10) plus surrogate stability.
use bounds::{Error, LossConfig, Pass, PriorConfig, Surrogate, Target, weighted_surrogate_loss};
use tch::{Kind, Tensor};

use crate::common::*;

fn scalar(x: f64) -> Tensor {
    Tensor::from(x)
}

/// Plain sigmoid cross-entropy, as libtorch computes it.
fn torch_xent(z: &Tensor, x: &Tensor) -> Tensor {
    x.binary_cross_entropy_with_logits::<Tensor>(z, None, None, tch::Reduction::None)
}

#[test]
fn trivial_compatibility_with_sigmoid_cross_entropy() {
    let mut r = rng(1);
    let z = t64(&uniforms(&mut r, 3000), &[300, 10]);
    let x = t64(&normals(&mut r, 3000), &[300, 10]);
    let l = weighted_surrogate_loss(&z, &x, Surrogate::Xent, &scalar(1.0), &scalar(1.0)).unwrap();
    assert_tensors_close(&l, &torch_xent(&z, &x), 0.0, 1e-6);
    let reference = weighted_ref(Surrogate::Xent, &vec64(&z), &vec64(&x), 1.0, 1.0);
    assert_close(&vec64(&l), &reference, 1e-12, 1e-12);
}

#[test]
fn non_trivial_compatibility_with_sigmoid_cross_entropy() {
    let mut r = rng(2);
    let z = t64(&uniforms(&mut r, 3000), &[300, 10]);
    let x = t64(&normals(&mut r, 3000), &[300, 10]);
    let l = weighted_surrogate_loss(&z, &x, Surrogate::Xent, &scalar(4.12), &scalar(4.12)).unwrap();
    assert_tensors_close(&l, &(torch_xent(&z, &x) * 4.12), 0.0, 1e-6);
}

#[test]
fn different_size_weighted_sigmoid_cross_entropy() {
    let mut r = rng(3);
    let zv = uniforms(&mut r, 120);
    let z = t64(&zv, &[30, 4]);
    let x = t64(&normals(&mut r, 360), &[30, 4, 3]);
    let pw = [2.0, 3.0, 13.0];
    let l =
        weighted_surrogate_loss(&z, &x, Surrogate::Xent, &t64(&pw, &[3]), &scalar(1.0)).unwrap();
    assert_eq!(l.size(), vec![30, 4, 3]);
    for (k, &w) in pw.iter().enumerate() {
        let xk = vec64(&x.select(2, k as i64));
        let expected = weighted_ref(Surrogate::Xent, &zv, &xk, w, 1.0);
        assert_close(&vec64(&l.select(2, k as i64)), &expected, 0.0, 1e-6);
    }
}

#[test]
fn weighted_sigmoid_cross_entropy() {
    for (seed, (n, l, w)) in [(300i64, 10i64, 0.3), (20, 4, 2.0), (30, 4, 3.9)]
        .iter()
        .enumerate()
    {
        let mut r = rng(10 + seed as u64);
        let m = (n * l) as usize;
        let zv = uniforms(&mut r, m);
        let xv = normals(&mut r, m);
        let out = weighted_surrogate_loss(
            &t64(&zv, &[*n, *l]),
            &t64(&xv, &[*n, *l]),
            Surrogate::Xent,
            &scalar(*w),
            &scalar(1.0),
        )
        .unwrap();
        assert_close(
            &vec64(&out),
            &weighted_ref(Surrogate::Xent, &zv, &xv, *w, 1.0),
            0.0,
            1e-6,
        );
    }
}

#[test]
fn gradients_match_the_weighted_sum_of_plain_xent() {
    let mut r = rng(4);
    let pos: Vec<f64> = normals(&mut r, 10).iter().map(|x| x + 1.0).collect();
    let neg = normals(&mut r, 190);
    let mut x = pos.clone();
    x.extend(&neg);
    let mut z = vec![1.0; 10];
    z.extend(vec![0.0; 190]);
    let dummy = Tensor::from(1.0f64).set_requires_grad(true);
    let logits = t64(&x, &[200]) * &dummy;
    let labels = t64(&z, &[200]);
    let l = weighted_surrogate_loss(
        &labels,
        &logits,
        Surrogate::Xent,
        &scalar(4.6),
        &scalar(0.9),
    )
    .unwrap()
    .sum(Kind::Double);
    let g1 = Tensor::run_backward(&[l], &[&dummy], true, false)[0].double_value(&[]);
    let plain = torch_xent(&labels, &logits);
    let mix = plain.narrow(0, 0, 10).sum(Kind::Double) * 4.6
        + plain.narrow(0, 10, 190).sum(Kind::Double) * 0.9;
    let g2 = Tensor::run_backward(&[mix], &[&dummy], false, false)[0].double_value(&[]);
    assert_close(&[g1], &[g2], 1e-9, 1e-9);
}

#[test]
fn dtype_flexibility() {
    let mut r = rng(5);
    let x = t64(&normals(&mut r, 60), &[20, 3]);
    let z = t64(&uniforms(&mut r, 60), &[20, 3]).to_kind(Kind::Float);
    let pw = Tensor::from(3i64);
    let out = weighted_surrogate_loss(&z, &x, Surrogate::Xent, &pw, &Tensor::from(1i64)).unwrap();
    assert_eq!(out.kind(), Kind::Double);
    let zv = vec64(&z);
    assert_close(
        &vec64(&out),
        &weighted_ref(Surrogate::Xent, &zv, &vec64(&x), 3.0, 1.0),
        1e-12,
        1e-12,
    );
}

fn plain_hinge(z: &[f64], x: &[f64]) -> Vec<f64> {
    z.iter()
        .zip(x)
        .map(|(z, x)| (1.0 - (2.0 * z - 1.0) * x).max(0.0))
        .collect()
}

#[test]
fn trivial_compatibility_with_hinge() {
    let mut r = rng(6);
    let zv = bernoulli(&mut r, 550, 0.3);
    let xv = normals(&mut r, 550);
    let out = weighted_surrogate_loss(
        &t64(&zv, &[55, 10]),
        &t64(&xv, &[55, 10]),
        Surrogate::Hinge,
        &scalar(1.0),
        &scalar(1.0),
    )
    .unwrap();
    assert_close(&vec64(&out), &plain_hinge(&zv, &xv), 0.0, 1e-12);
}

#[test]
fn less_trivial_compatibility_with_hinge() {
    let mut r = rng(7);
    let zv = bernoulli(&mut r, 56 * 11, 0.7);
    let xv = normals(&mut r, 56 * 11);
    let w: f64 = (1..=7).map(|k| 1.0 / k as f64).sum();
    assert_close(&[w], &[2.592857142857143], 1e-12, 0.0);
    let out = weighted_surrogate_loss(
        &t64(&zv, &[56, 11]),
        &t64(&xv, &[56, 11]),
        Surrogate::Hinge,
        &scalar(w),
        &scalar(w),
    )
    .unwrap();
    let expected: Vec<f64> = plain_hinge(&zv, &xv).iter().map(|h| h * w).collect();
    assert_close(&vec64(&out), &expected, 1e-12, 1e-12);
}

#[test]
fn nontrivial_compatibility_with_hinge() {
    let mut r = rng(8);
    let pos = normals(&mut r, 23 * 8);
    let neg = normals(&mut r, 23 * 8);
    let mut xv = pos.clone();
    xv.extend(&neg);
    let mut zv = vec![1.0; 23 * 8];
    zv.extend(vec![0.0; 23 * 8]);
    let out = weighted_surrogate_loss(
        &t64(&zv, &[46, 8]),
        &t64(&xv, &[46, 8]),
        Surrogate::Hinge,
        &scalar(3.4),
        &scalar(1.2),
    )
    .unwrap()
    .sum_dim_intlist([0i64].as_slice(), false, Kind::Double);
    let hp = plain_hinge(&vec![1.0; 184], &pos);
    let hn = plain_hinge(&vec![0.0; 184], &neg);
    let expected: Vec<f64> = (0..8)
        .map(|j| {
            (0..23)
                .map(|i| 3.4 * hp[i * 8 + j] + 1.2 * hn[i * 8 + j])
                .sum::<f64>()
        })
        .collect();
    assert_close(&vec64(&out), &expected, 1e-12, 1e-9);
}

#[test]
fn three_d_logits_and_targets_hinge() {
    let mut r = rng(9);
    let zv = bernoulli(&mut r, 120, 0.7);
    let x = t64(&normals(&mut r, 360), &[30, 4, 3]);
    let out = weighted_surrogate_loss(
        &t64(&zv, &[30, 4]),
        &x,
        Surrogate::Hinge,
        &t64(&[1.0, 1.0, 1.0], &[3]),
        &scalar(1.0),
    )
    .unwrap();
    for k in 0..3 {
        let xk = vec64(&x.select(2, k));
        assert_close(
            &vec64(&out.select(2, k)),
            &plain_hinge(&zv, &xk),
            0.0,
            1e-12,
        );
    }
}

#[test]
fn dispatcher_matches_each_surrogate() {
    let mut r = rng(11);
    let zv = bernoulli(&mut r, 112, 0.5);
    let xv = normals(&mut r, 112);
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        let out = weighted_surrogate_loss(
            &t64(&zv, &[28, 4]),
            &t64(&xv, &[28, 4]),
            s,
            &scalar(0.66),
            &scalar(11.1),
        )
        .unwrap();
        assert_close(
            &vec64(&out),
            &weighted_ref(s, &zv, &xv, 0.66, 11.1),
            1e-12,
            1e-12,
        );
    }
    assert!(matches!(
        "bug".parse::<Surrogate>(),
        Err(Error::Unsupported { .. })
    ));
    assert_eq!("hinge".parse::<Surrogate>().unwrap(), Surrogate::Hinge);
}

#[test]
fn per_label_weights_broadcast_over_rows() {
    let zv = [1.0, 0.0, 1.0, 0.0];
    let xv = [0.5, -0.5, 2.0, 1.0];
    let out = weighted_surrogate_loss(
        &t64(&zv, &[2, 2]),
        &t64(&xv, &[2, 2]),
        Surrogate::Xent,
        &t64(&[2.0, 3.0], &[2]),
        &t64(&[5.0, 7.0], &[2]),
    )
    .unwrap();
    let expected = [
        2.0 * softplus(-0.5),
        7.0 * softplus(-0.5),
        2.0 * softplus(-2.0),
        7.0 * softplus(1.0),
    ];
    assert_close(&vec64(&out), &expected, 1e-12, 1e-12);
}

/// Values and gradients stay finite for |logit| ≥ 100, in f32 and f64.
#[test]
fn finite_at_large_logits() {
    for kind in [Kind::Float, Kind::Double] {
        for s in [Surrogate::Xent, Surrogate::Hinge] {
            let xs = [100.0, -100.0, 1e4, -1e4, 1e30, -1e30, 100.0, -100.0];
            let zs = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0];
            let x = t64(&xs, &[8]).to_kind(kind).set_requires_grad(true);
            let z = t64(&zs, &[8]).to_kind(kind);
            let out = weighted_surrogate_loss(&z, &x, s, &scalar(2.0), &scalar(3.0)).unwrap();
            let v = vec64(&out);
            assert!(v.iter().all(|a| a.is_finite()), "{s:?} {kind:?}: {v:?}");
            out.sum(kind).backward();
            let g = vec64(&x.grad());
            assert!(g.iter().all(|a| a.is_finite()), "{s:?} {kind:?}: {g:?}");
            if s == Surrogate::Xent && kind == Kind::Double {
                // Correct tails: the confident right answers cost ~0, the wrong ones |x|.
                assert_close(&v[..2], &[0.0, 200.0], 0.0, 1e-12);
                assert_close(&v[6..], &[300.0, 200.0], 1e-12, 0.0);
                assert_close(&g[..2], &[0.0, -2.0], 0.0, 1e-12);
            }
        }
    }
}

#[test]
fn non_finite_logits_are_typed_errors() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let x = t64(&[0.0, bad], &[2]);
        let z = t64(&[1.0, 0.0], &[2]);
        let e = weighted_surrogate_loss(&z, &x, Surrogate::Xent, &scalar(1.0), &scalar(1.0));
        assert!(
            matches!(e, Err(Error::InvalidValue { what: "logits", .. })),
            "{bad}: {e:?}"
        );
    }
}

// ---- BuildLabelPriorsTest ----

fn prior_loss(vs: &tch::nn::VarStore, labels: i64, p: f64, n: f64) -> bounds::GlobalLoss {
    let c = LossConfig {
        objective: par(Target::All(0.5)),
        priors: PriorConfig::Streaming {
            positive_pseudocount: p,
            negative_pseudocount: n,
        },
        ..LossConfig::default()
    };
    make_loss(vs, labels, &c)
}

#[test]
fn label_prior_consistency() {
    let vs = vs64();
    let loss = prior_loss(&vs, 10, 0.0, 0.0);
    let mut r = rng(12);
    let yv = bernoulli(&mut r, 40, 0.678);
    let y = t64(&yv, &[4, 10]);
    let x = t64(&normals(&mut r, 40), &[4, 10]);
    let out = loss.forward(&x, &y, None, Pass::Train).unwrap();
    let means: Vec<f64> = (0..10)
        .map(|j| (0..4).map(|i| yv[i * 10 + j]).sum::<f64>() / 4.0)
        .collect();
    assert_close(&vec64(&out.diagnostics.priors), &means, 1e-12, 1e-12);
}

#[test]
fn label_priors_update() {
    let vs = vs64();
    let loss = prior_loss(&vs, 5, 1.0, 1.0);
    let mut r = rng(13);
    let mut label_sum = [1.0; 5];
    let mut weight_sum = 2.0;
    for _ in 0..3 {
        let yv = bernoulli(&mut r, 5, 0.4);
        let x = t64(&normals(&mut r, 5), &[1, 5]);
        let out = loss
            .forward(&x, &t64(&yv, &[1, 5]), None, Pass::Train)
            .unwrap();
        weight_sum += 1.0;
        for j in 0..5 {
            label_sum[j] += yv[j];
        }
        let expected: Vec<f64> = label_sum.iter().map(|s| s / weight_sum).collect();
        assert_close(&vec64(&out.diagnostics.priors), &expected, 1e-12, 1e-12);
        assert_close(&vec64(&loss.priors()), &expected, 1e-12, 1e-12);
    }
}

#[test]
fn label_priors_update_with_weights() {
    let vs = vs64();
    let loss = prior_loss(&vs, 5, 1.0, 1.0);
    let mut r = rng(14);
    let yv = bernoulli(&mut r, 30, 0.6);
    let wv: Vec<f64> = uniforms(&mut r, 30).iter().map(|u| u * 6.2).collect();
    let x = t64(&normals(&mut r, 30), &[6, 5]);
    let out = loss
        .forward(
            &x,
            &t64(&yv, &[6, 5]),
            Some(&t64(&wv, &[6, 5])),
            Pass::Train,
        )
        .unwrap();
    let expected: Vec<f64> = (0..5)
        .map(|j| {
            let wy: f64 = (0..6).map(|i| wv[i * 5 + j] * yv[i * 5 + j]).sum();
            let w: f64 = (0..6).map(|i| wv[i * 5 + j]).sum();
            (1.0 + wy) / (2.0 + w)
        })
        .collect();
    assert_close(&vec64(&out.diagnostics.priors), &expected, 1e-12, 1e-12);
}
