//! Shared helpers for the `bounds` integration tests: seeded data, reference
//! surrogates in plain f64, the upstream data builders (reference §7.9).
#![allow(dead_code)]
use bounds::{
    GlobalLoss, LossConfig, MultiplierUpdate, ObjectiveConfig, PriorConfig, Surrogate, Target,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tch::{Device, Kind, Tensor, nn};

pub const DOUBLE: (Kind, Device) = (Kind::Double, Device::Cpu);

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Standard normal by Box–Muller.
pub fn normal(r: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - r.random::<f64>();
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// [rows, cols] N(0, 1) logits as f64 values.
pub fn normals(r: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| normal(r)).collect()
}

/// 0/1 labels, 1 where U(0,1) > t.
pub fn bernoulli(r: &mut StdRng, n: usize, t: f64) -> Vec<f64> {
    (0..n)
        .map(|_| if r.random::<f64>() > t { 1.0 } else { 0.0 })
        .collect()
}

pub fn uniforms(r: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| r.random::<f64>()).collect()
}

/// A float64 tensor of the given shape.
pub fn t64(v: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).reshape(shape)
}

pub fn vec64(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).expect("f64 vector")
}

/// Elementwise |a − b| ≤ atol + rtol·|b|.
#[track_caller]
pub fn assert_close(a: &[f64], b: &[f64], rtol: f64, atol: f64) {
    assert_eq!(a.len(), b.len(), "lengths differ: {a:?} vs {b:?}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= atol + rtol * y.abs(),
            "element {i}: {x} vs {y} (diff {})\n{a:?}\n{b:?}",
            (x - y).abs()
        );
    }
}

#[track_caller]
pub fn assert_tensors_close(a: &Tensor, b: &Tensor, rtol: f64, atol: f64) {
    assert_eq!(a.size(), b.size(), "shapes differ");
    assert_close(&vec64(a), &vec64(b), rtol, atol);
}

/// Stable softplus in f64.
pub fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// φ₊(s) of a surrogate, in plain f64.
pub fn phi_pos(s: Surrogate, x: f64) -> f64 {
    match s {
        Surrogate::Xent => softplus(-x),
        Surrogate::Hinge => (1.0 - x).max(0.0),
    }
}

/// φ₋(s) of a surrogate, in plain f64.
pub fn phi_neg(s: Surrogate, x: f64) -> f64 {
    match s {
        Surrogate::Xent => softplus(x),
        Surrogate::Hinge => (1.0 + x).max(0.0),
    }
}

/// c·z·φ₊(x) + d·(1 − z)·φ₋(x) elementwise, plain f64.
pub fn weighted_ref(s: Surrogate, z: &[f64], x: &[f64], c: f64, d: f64) -> Vec<f64> {
    z.iter()
        .zip(x)
        .map(|(&z, &x)| c * z * phi_pos(s, x) + d * (1.0 - z) * phi_neg(s, x))
        .collect()
}

/// Upstream `_multilabel_data`: labels, logits ([6, 2]) and priors [0.5, 0.5].
pub fn multilabel_data() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let labels = vec![1., 1., 1., 1., 1., 1., 0., 0., 0., 0., 0., 0.];
    let logits = vec![0., 15., 16., 0., 14., 0., -17., 0., -15., 0., 0., -101.];
    (labels, logits, vec![0.5, 0.5])
}

/// Upstream `_other_multilabel_data(surrogate)`: [12, 2] and priors [0.5, 0.5].
pub fn other_multilabel_data(s: Surrogate) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let c = match s {
        Surrogate::Hinge => 1.0,
        Surrogate::Xent => 1.09861229,
    };
    let mut labels = vec![1.0; 12];
    labels.extend(vec![0.0; 12]);
    let logits = vec![
        0.,
        13.,
        12.,
        0.,
        15.,
        0.,
        0.,
        30.,
        13.,
        0.,
        18.,
        0., //
        -16.,
        c,
        -15.,
        c,
        c,
        -111.,
        -133.,
        -14.,
        -14.0100101,
        -16.,
        -19.888828882,
        -101.,
    ];
    (labels, logits, vec![0.5, 0.5])
}

/// A float64 VarStore.
pub fn vs64() -> nn::VarStore {
    let mut vs = nn::VarStore::new(Device::Cpu);
    vs.set_kind(Kind::Double);
    vs
}

/// A loss under `vs.root() / "loss"`.
pub fn make_loss(vs: &nn::VarStore, labels: i64, cfg: &LossConfig) -> GlobalLoss {
    GlobalLoss::new(&(vs.root() / "loss"), labels, cfg).expect("valid config")
}

/// A config with fixed priors and the given multiplier init / update.
pub fn cfg(
    objective: ObjectiveConfig,
    surrogate: Surrogate,
    priors: Option<Vec<f64>>,
    init: f64,
    update: MultiplierUpdate,
) -> LossConfig {
    LossConfig {
        objective,
        surrogate,
        multiplier_update: update,
        multiplier_init: init,
        priors: priors.map(PriorConfig::Fixed).unwrap_or_default(),
        ..LossConfig::default()
    }
}

pub fn rap(t: Target) -> ObjectiveConfig {
    ObjectiveConfig::RecallAtPrecision {
        target_precision: t,
    }
}
pub fn par(t: Target) -> ObjectiveConfig {
    ObjectiveConfig::PrecisionAtRecall { target_recall: t }
}
pub fn fpr_at_tpr(t: Target) -> ObjectiveConfig {
    ObjectiveConfig::FprAtTpr { target_rate: t }
}
pub fn tpr_at_fpr(t: Target) -> ObjectiveConfig {
    ObjectiveConfig::TprAtFpr { target_rate: t }
}
pub fn pr_auc(range: (f64, f64), k: usize) -> ObjectiveConfig {
    ObjectiveConfig::PrAuc {
        precision_range: range,
        num_anchors: k,
    }
}
pub fn roc_anchors(range: (f64, f64), k: usize) -> ObjectiveConfig {
    ObjectiveConfig::RocAucAnchors {
        fpr_range: range,
        num_anchors: k,
    }
}

pub const REVERSED_01: MultiplierUpdate = MultiplierUpdate::Reversed {
    dual_rate_factor: 0.1,
};
pub const DUAL: MultiplierUpdate = MultiplierUpdate::DualAscent {
    rate: 1.0,
    max: None,
};
