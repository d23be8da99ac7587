//! Baseline losses: hand values, libtorch's own BCE, finite differences, errors.
use bounds::Error;
use bounds::baseline::{bce, focal, soft_dice, weighted_bce};
use tch::{Kind, Reduction, Tensor};

use crate::fused::{Rng, assert_close, t64, values};
use crate::roc::check_gradient;

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

const S: [f64; 4] = [0.0, 2.0, -1.0, 0.7];
const Y: [f64; 4] = [1.0, 0.0, 0.3, 1.0];
const W: [f64; 4] = [1.0, 2.0, 0.5, 0.0];

/// ℓ = w·[y·softplus(−s) + (1 − y)·softplus(s)] by hand, and against libtorch's
/// `binary_cross_entropy_with_logits`.
#[test]
fn bce_hand_values_and_libtorch() {
    let got = bce(&t64(&S, &[4]), &t64(&Y, &[4]), Some(&t64(&W, &[4]))).unwrap();
    let want: Vec<f64> = (0..4)
        .map(|i| W[i] * (Y[i] * softplus(-S[i]) + (1.0 - Y[i]) * softplus(S[i])))
        .collect();
    assert_close(&values(&got), &want, 1e-12, 1e-15, "bce by hand");
    assert_close(
        &values(&got)[..1],
        &[std::f64::consts::LN_2],
        1e-12,
        0.0,
        "bce(0, 1)",
    );
    // libtorch's own, on a 4-D batch without weights.
    let mut rng = Rng::new(21);
    let s = t64(&rng.vec(2 * 9, |r| 3.0 * r.normal()), &[2, 1, 3, 3]);
    let y = t64(&rng.vec(2 * 9, |r| r.uniform()), &[2, 1, 3, 3]);
    let torch = s.binary_cross_entropy_with_logits::<Tensor>(&y, None, None, Reduction::None);
    let ours = bce(&s, &y, None).unwrap();
    assert_eq!(ours.size(), vec![2, 1, 3, 3]);
    assert_close(
        &values(&ours),
        &values(&torch),
        1e-12,
        1e-15,
        "bce vs libtorch",
    );
}

#[test]
fn weighted_bce_hand_values_and_libtorch() {
    let p = 3.5;
    let got = weighted_bce(&t64(&S, &[4]), &t64(&Y, &[4]), Some(&t64(&W, &[4])), p).unwrap();
    let want: Vec<f64> = (0..4)
        .map(|i| W[i] * (p * Y[i] * softplus(-S[i]) + (1.0 - Y[i]) * softplus(S[i])))
        .collect();
    assert_close(&values(&got), &want, 1e-12, 1e-15, "weighted bce by hand");
    let (s, y) = (t64(&S, &[4, 1]), t64(&Y, &[4, 1]));
    let pw = t64(&[p], &[1]);
    let torch = s.binary_cross_entropy_with_logits(&y, None, Some(&pw), Reduction::None);
    let ours = weighted_bce(&s, &y, None, p).unwrap();
    assert_close(
        &values(&ours),
        &values(&torch),
        1e-12,
        1e-15,
        "weighted bce vs libtorch",
    );
    let one = weighted_bce(&s, &y, None, 1.0).unwrap();
    assert_close(
        &values(&one),
        &values(&bce(&s, &y, None).unwrap()),
        1e-15,
        0.0,
        "p = 1",
    );
}

/// γ = 0 with no α is bce; hand values for γ = 2, α = 0.25 (Lin et al.'s defaults) on
/// hard and soft targets.
#[test]
fn focal_hand_values() {
    let (s, y, w) = (t64(&S, &[4]), t64(&Y, &[4]), t64(&W, &[4]));
    let f0 = focal(&s, &y, Some(&w), 0.0, None).unwrap();
    let b = bce(&s, &y, Some(&w)).unwrap();
    assert_close(&values(&f0), &values(&b), 1e-14, 0.0, "focal(γ = 0) = bce");
    let (gamma, alpha) = (2.0, 0.25);
    let got = focal(&s, &y, None, gamma, Some(alpha)).unwrap();
    let want: Vec<f64> = (0..4)
        .map(|i| {
            let (p, yi) = (sigmoid(S[i]), Y[i]);
            let pt = p * yi + (1.0 - p) * (1.0 - yi);
            let at = alpha * yi + (1.0 - alpha) * (1.0 - yi);
            let ce = yi * softplus(-S[i]) + (1.0 - yi) * softplus(S[i]);
            at * (1.0 - pt).powf(gamma) * ce
        })
        .collect();
    assert_close(&values(&got), &want, 1e-12, 1e-15, "focal by hand");
    // A hard positive at s = 0.5 by the paper's formula −α(1 − p)^γ log p.
    let p = sigmoid(0.5);
    let one = focal(
        &t64(&[0.5], &[1]),
        &t64(&[1.0], &[1]),
        None,
        2.0,
        Some(0.25),
    )
    .unwrap();
    assert_close(
        &values(&one),
        &[-0.25 * (1.0 - p).powi(2) * p.ln()],
        1e-12,
        0.0,
        "paper",
    );
}

/// |s| ≥ 100: finite values and gradients for every per-element baseline, f32 and f64.
#[test]
fn baselines_stay_finite_at_large_logits() {
    let s0 = [100.0, -100.0, 1000.0, -1000.0, 150.0, -150.0];
    let y0 = [1.0, 1.0, 0.0, 1.0, 0.0, 0.0];
    for kind in [Kind::Double, Kind::Float] {
        let s = t64(&s0, &[6]).to_kind(kind).set_requires_grad(true);
        let y = t64(&y0, &[6]).to_kind(kind);
        let total = bce(&s, &y, None).unwrap().sum(kind)
            + weighted_bce(&s, &y, None, 4.0).unwrap().sum(kind)
            + focal(&s, &y, None, 2.0, Some(0.25)).unwrap().sum(kind)
            + focal(&s, &y, None, 0.5, None).unwrap().sum(kind)
            + soft_dice(&s.view([2, 3]), &y.view([2, 3]), None, 1.0).unwrap();
        total.backward();
        assert!(values(&total)[0].is_finite(), "{kind:?}");
        assert!(values(&s.grad()).iter().all(|g| g.is_finite()), "{kind:?}");
        // bce at s = −1000 for a positive is 1000, not inf.
        let b = values(&bce(&s, &y, None).unwrap());
        assert_close(&b[3..4], &[1000.0], 1e-6, 0.0, "bce(−1000, 1)");
    }
}

/// Soft Dice by hand, with the symmetric smoothing.
#[test]
fn soft_dice_hand_values() {
    let s = [0.0, 1.0, -2.0, 3.0, -1.0, 0.5];
    let y = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0];
    let smooth = 1.0;
    let dice = |s: &[f64], y: &[f64]| {
        let p: Vec<f64> = s.iter().map(|&x| sigmoid(x)).collect();
        let inter: f64 = p.iter().zip(y).map(|(p, y)| p * y).sum();
        let (sp, sy): (f64, f64) = (p.iter().sum(), y.iter().sum());
        1.0 - (2.0 * inter + smooth) / (sp + sy + smooth)
    };
    let want = (dice(&s[..3], &y[..3]) + dice(&s[3..], &y[3..])) / 2.0;
    let got = soft_dice(&t64(&s, &[2, 3]), &t64(&y, &[2, 3]), None, smooth).unwrap();
    assert_eq!(got.size(), Vec::<i64>::new());
    assert_close(&values(&got), &[want], 1e-12, 0.0, "dice [N, P]");
    // [N, 1, H, W] is the same problem.
    let four = soft_dice(
        &t64(&s, &[2, 1, 1, 3]),
        &t64(&y, &[2, 1, 1, 3]),
        None,
        smooth,
    )
    .unwrap();
    assert_close(&values(&four), &[want], 1e-12, 0.0, "dice [N, 1, H, W]");
    // Masking column 2 of every image equals dropping it.
    let valid = t64(&[1.0, 1.0, 0.0, 1.0, 1.0, 0.0], &[2, 3]);
    let masked = soft_dice(&t64(&s, &[2, 3]), &t64(&y, &[2, 3]), Some(&valid), smooth).unwrap();
    let want = (dice(&s[..2], &y[..2]) + dice(&s[3..5], &y[3..5])) / 2.0;
    assert_close(&values(&masked), &[want], 1e-12, 0.0, "dice masked");
    // An empty image predicted empty scores ≈ 0; a perfect one too; a wrong one ≈ 1.
    let empty = soft_dice(
        &t64(&[-50.0; 4], &[1, 4]),
        &t64(&[0.0; 4], &[1, 4]),
        None,
        1.0,
    );
    assert!(values(&empty.unwrap())[0] < 1e-15);
    let perfect = soft_dice(
        &t64(&[50.0; 4], &[1, 4]),
        &t64(&[1.0; 4], &[1, 4]),
        None,
        1.0,
    );
    assert!(values(&perfect.unwrap())[0] < 1e-15);
    let wrong = soft_dice(
        &t64(&[50.0; 4], &[1, 4]),
        &t64(&[0.0; 4], &[1, 4]),
        None,
        1e-3,
    );
    assert!(values(&wrong.unwrap())[0] > 0.999);
}

/// float64 finite differences for all four.
#[test]
fn baselines_gradients_match_finite_differences() {
    let mut rng = Rng::new(22);
    let n = 8;
    let s0 = rng.vec(n, |r| 2.0 * r.normal());
    let y = t64(&rng.vec(n, |r| r.uniform()), &[n as i64]);
    let yh = t64(&rng.vec(n, |r| f64::from(r.uniform() < 0.5)), &[n as i64]);
    let w = t64(&rng.vec(n, |r| r.uniform() * 2.0), &[n as i64]);
    let shape = [n as i64];
    let sum = |t: Tensor| t.sum(Kind::Double);
    check_gradient(|s| sum(bce(s, &y, Some(&w)).unwrap()), &s0, &shape, "bce");
    check_gradient(
        |s| sum(weighted_bce(s, &y, Some(&w), 2.5).unwrap()),
        &s0,
        &shape,
        "wbce",
    );
    for (gamma, alpha) in [(2.0, Some(0.25)), (0.5, None), (1.0, Some(0.9))] {
        for (targets, kind) in [(&y, "soft"), (&yh, "hard")] {
            let f = |s: &Tensor| sum(focal(s, targets, Some(&w), gamma, alpha).unwrap());
            check_gradient(
                f,
                &s0,
                &shape,
                &format!("focal γ={gamma} α={alpha:?} {kind}"),
            );
        }
    }
    let valid = t64(&[1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.5, 1.0], &[2, 4]);
    let yd = y.view([2, 4]);
    let f = |s: &Tensor| soft_dice(&s.view([2, 4]), &yd, Some(&valid), 1.0).unwrap();
    check_gradient(f, &s0, &shape, "soft dice");
}

#[test]
fn baselines_reject_bad_inputs() {
    let (s, y) = (t64(&S, &[4]), t64(&Y, &[4]));
    let bad_shape = t64(&[1.0, 0.0, 1.0], &[3]);
    assert!(matches!(
        bce(&s, &bad_shape, None),
        Err(Error::Shape {
            what: "targets",
            ..
        })
    ));
    assert!(matches!(
        bce(&s, &y, Some(&bad_shape)),
        Err(Error::Shape {
            what: "weights",
            ..
        })
    ));
    let nan = t64(&[0.0, f64::NAN, 0.0, 0.0], &[4]);
    assert!(matches!(
        bce(&nan, &y, None),
        Err(Error::InvalidValue { what: "logits", .. })
    ));
    let y15 = t64(&[0.0, 1.5, 0.0, 0.0], &[4]);
    assert!(matches!(
        focal(&s, &y15, None, 2.0, None),
        Err(Error::InvalidValue { .. })
    ));
    let wn = t64(&[1.0, -1.0, 1.0, 1.0], &[4]);
    assert!(matches!(
        bce(&s, &y, Some(&wn)),
        Err(Error::InvalidValue {
            what: "weights",
            ..
        })
    ));
    assert!(matches!(
        bce(&t64(&[1.0], &[]), &y, None),
        Err(Error::Rank { .. })
    ));
    assert!(matches!(
        bce(&s.to_kind(Kind::Int64), &y, None),
        Err(Error::Kind { what: "logits", .. })
    ));
    let cfg = |r: Result<Tensor, Error>, f: &str| {
        assert!(
            matches!(r, Err(Error::InvalidConfig { field, .. }) if field == f),
            "{f}"
        )
    };
    cfg(weighted_bce(&s, &y, None, -1.0), "pos_weight");
    cfg(weighted_bce(&s, &y, None, f64::NAN), "pos_weight");
    cfg(focal(&s, &y, None, -1.0, None), "gamma");
    cfg(focal(&s, &y, None, 2.0, Some(1.5)), "alpha");
    let (s2, y2) = (s.view([2, 2]), y.view([2, 2]));
    cfg(soft_dice(&s2, &y2, None, 0.0), "smooth");
    assert!(matches!(
        soft_dice(&s, &y, None, 1.0),
        Err(Error::Rank { .. })
    ));
    let (s4, y4) = (s.view([1, 2, 1, 2]), y.view([1, 2, 1, 2]));
    assert!(matches!(
        soft_dice(&s4, &y4, None, 1.0),
        Err(Error::Shape { what: "logits", .. })
    ));
    let empty = Tensor::zeros([0, 3], (Kind::Double, tch::Device::Cpu));
    assert!(matches!(
        soft_dice(&empty, &empty, None, 1.0),
        Err(Error::Shape { .. })
    ));
    let v2 = t64(&[1.0, 2.0, 1.0, 1.0], &[2, 2]);
    assert!(matches!(
        soft_dice(&s2, &y2, Some(&v2), 1.0),
        Err(Error::InvalidValue { .. })
    ));
}
