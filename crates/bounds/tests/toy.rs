//! The 2-D toy of upstream `loss_layers_example.py` (reference §8): a linear model
//! trained for precision at recall 0.98 beats plain cross-entropy by a wide margin.
use bounds::{GlobalLoss, LossConfig, MultiplierUpdate, Pass, Surrogate, Target};
use rand::rngs::StdRng;
use tch::{Tensor, nn};

use crate::common::*;

const TARGET_RECALL: f64 = 0.98;
const STEPS: usize = 150;

/// (centre, σ, count, label) of the four Gaussians (σ used as a standard deviation).
const CLUSTERS: [((f64, f64), f64, usize, f64); 4] = [
    ((0.0, -0.5), 0.15, 3000, 0.0),
    ((1.0, 1.0), 0.1, 100, 0.0),
    ((0.0, 1.0), 0.15, 500, 1.0),
    ((1.0, -0.5), 0.1, 50, 1.0),
];

/// One draw of the data set, rows in the order given by `perm`.
fn draw(r: &mut StdRng, perm: &[usize]) -> (Tensor, Tensor) {
    let mut pts = Vec::new();
    let mut labels = Vec::new();
    for ((cx, cy), sd, n, y) in CLUSTERS {
        for _ in 0..n {
            pts.push((cx + sd * normal(r), cy + sd * normal(r)));
            labels.push(y);
        }
    }
    let x: Vec<f64> = perm.iter().flat_map(|&i| [pts[i].0, pts[i].1]).collect();
    let y: Vec<f64> = perm.iter().map(|&i| labels[i]).collect();
    (
        t64(&x, &[perm.len() as i64, 2]),
        t64(&y, &[perm.len() as i64]),
    )
}

fn data(seed: u64) -> ((Tensor, Tensor), (Tensor, Tensor)) {
    let mut r = rng(seed);
    let n: usize = CLUSTERS.iter().map(|c| c.2).sum();
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rand::RngExt::random_range(&mut r, 0..=i);
        perm.swap(i, j);
    }
    let train = draw(&mut r, &perm);
    let eval = draw(&mut r, &perm);
    (train, eval)
}

/// Linear decay 1.0 → 1/150 over 150 steps (upstream polynomial decay, power 1).
fn lr(step: usize) -> f64 {
    let end = 1.0 / STEPS as f64;
    (1.0 - end) * (1.0 - step.min(STEPS) as f64 / STEPS as f64) + end
}

/// Precision at recall 0.98: threshold at the 2nd percentile of the positive scores
/// (linear interpolation, as numpy), predict positive when score ≥ threshold.
fn precision_at_recall(scores: &Tensor, labels: &Tensor) -> f64 {
    let s = vec64(scores);
    let y = vec64(labels);
    let mut pos: Vec<f64> = s
        .iter()
        .zip(&y)
        .filter(|(_, y)| **y > 0.5)
        .map(|(s, _)| *s)
        .collect();
    pos.sort_by(|a, b| a.total_cmp(b));
    let h = (1.0 - TARGET_RECALL) * (pos.len() - 1) as f64;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    let thr = pos[lo] + frac * (pos[(lo + 1).min(pos.len() - 1)] - pos[lo]);
    let (mut tp, mut fp) = (0.0, 0.0);
    for (s, y) in s.iter().zip(&y) {
        if *s >= thr {
            if *y > 0.5 { tp += 1.0 } else { fp += 1.0 }
        }
    }
    tp / (tp + fp)
}

struct Model {
    vs: nn::VarStore,
    w: Tensor,
    b: Tensor,
}

fn model() -> Model {
    let vs = vs64();
    let w = vs.root().var_copy("w", &t64(&[-1.0, -1.0], &[2, 1]));
    let b = vs.root().var("b", &[1], nn::Init::Const(0.0));
    Model { vs, w, b }
}

impl Model {
    fn scores(&self, x: &Tensor) -> Tensor {
        (x.matmul(&self.w) + &self.b).squeeze_dim(1)
    }
    fn sgd(&self, vars: &[&Tensor], rate: f64) {
        tch::no_grad(|| {
            for v in vars {
                let g = v.grad();
                if g.defined() {
                    v.shallow_clone().copy_(&(*v - g * rate));
                }
            }
        });
        for v in self.vs.trainable_variables() {
            let mut g = v.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
    }
}

/// Plain mean sigmoid cross-entropy, plain GD.
fn train_xent(train: &(Tensor, Tensor)) -> Model {
    let m = model();
    for step in 0..=STEPS {
        let s = m.scores(&train.0);
        let j = s.binary_cross_entropy_with_logits::<Tensor>(
            &train.1,
            None,
            None,
            tch::Reduction::Mean,
        );
        j.backward();
        m.sgd(&[&m.w, &m.b], lr(step));
    }
    m
}

/// P@R(0.98) loss, alternating primal and dual steps as upstream's example.
fn train_go(train: &(Tensor, Tensor), update: MultiplierUpdate) -> (Model, f64) {
    let m = model();
    let c = LossConfig {
        multiplier_update: update,
        surrogate: Surrogate::Xent,
        ..LossConfig::new(par(Target::All(TARGET_RECALL)))
    };
    let loss = GlobalLoss::new(&(m.vs.root() / "loss"), 1, &c).unwrap();
    let v = loss.multiplier_state().unwrap().variable().shallow_clone();
    for step in 0..=STEPS {
        let rate = lr(step);
        // Primal step on (w, b).
        let out = loss
            .forward_mean(&m.scores(&train.0), &train.1, None, Pass::Train)
            .unwrap();
        out.loss.backward();
        m.sgd(&[&m.w, &m.b], rate);
        // Dual step on the multiplier, at the new (w, b).
        let out = loss
            .forward_mean(&m.scores(&train.0), &train.1, None, Pass::Train)
            .unwrap();
        match update {
            MultiplierUpdate::Reversed { .. } => {
                out.loss.backward();
                m.sgd(&[&v], rate);
            }
            MultiplierUpdate::DualAscent { .. } => loss.dual_step(&out).unwrap(),
        }
    }
    let lam = loss.multipliers().double_value(&[0]);
    (m, lam)
}

fn report(name: &str, m: &Model, eval: &(Tensor, Tensor), extra: &str) -> f64 {
    let p = precision_at_recall(&m.scores(&eval.0), &eval.1);
    eprintln!(
        "{name}: eval P@R(0.98) = {p:.4}; w = {:?}, b = {:.3}{extra}",
        vec64(&m.w)
            .iter()
            .map(|v| (v * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        m.b.double_value(&[0])
    );
    p
}

#[test]
fn toy_precision_at_recall_beats_cross_entropy() {
    for seed in [0u64, 1] {
        let (train, eval) = data(seed);
        let xent = train_xent(&train);
        let p_xent = report(&format!("seed {seed} xent"), &xent, &eval, "");
        assert!(p_xent <= 0.3, "xent P@R {p_xent}");
        let (go, lam) = train_go(
            &train,
            MultiplierUpdate::Reversed {
                dual_rate_factor: 15.0,
            },
        );
        let p_go = report(
            &format!("seed {seed} P@R reversed ρ=15"),
            &go,
            &eval,
            &format!(", λ = {lam:.2}"),
        );
        assert!(p_go >= 0.75, "reversed P@R {p_go}");
        let (da, lam) = train_go(
            &train,
            MultiplierUpdate::DualAscent {
                rate: TOY_DUAL_RATE,
                max: None,
            },
        );
        let p_da = report(
            &format!("seed {seed} P@R dual ascent η={TOY_DUAL_RATE}"),
            &da,
            &eval,
            &format!(", λ = {lam:.2}"),
        );
        assert!(p_da >= 0.75, "dual-ascent P@R {p_da}");
    }
}

const TOY_DUAL_RATE: f64 = 5.0;

/// Adam on the model, 300 steps at lr 0.01. With projected dual ascent (the default
/// rate 1.0) λ grows to where the constraint binds and P@R ≥ 0.75; with the reversed
/// mechanism Adam normalises v's step, so λ ends at the same value for ρ = 0.1 and
/// ρ = 15 (the measurement: the dual rate factor is ignored).
#[test]
fn toy_under_adam() {
    let (train, eval) = data(0);
    let run = |update: MultiplierUpdate| {
        let m = model();
        let c = LossConfig {
            multiplier_update: update,
            ..LossConfig::new(par(Target::All(TARGET_RECALL)))
        };
        let loss = GlobalLoss::new(&(m.vs.root() / "loss"), 1, &c).unwrap();
        let mut opt = nn::OptimizerConfig::build(nn::Adam::default(), &m.vs, 0.01).unwrap();
        for _ in 0..300 {
            let out = loss
                .forward_mean(&m.scores(&train.0), &train.1, None, Pass::Train)
                .unwrap();
            opt.backward_step(&out.loss);
            loss.dual_step(&out).unwrap();
        }
        (m, loss.multipliers().double_value(&[0]))
    };
    let (m, lam) = run(MultiplierUpdate::default());
    let p = report(
        "adam + dual ascent η=1",
        &m,
        &eval,
        &format!(", λ = {lam:.2}"),
    );
    assert!(p >= 0.75 && lam > 10.0, "P@R {p}, λ {lam}");
    let (m, slow) = run(MultiplierUpdate::Reversed {
        dual_rate_factor: 0.1,
    });
    report(
        "adam + reversed ρ=0.1",
        &m,
        &eval,
        &format!(", λ = {slow:.4}"),
    );
    let (m, fast) = run(MultiplierUpdate::Reversed {
        dual_rate_factor: 15.0,
    });
    report(
        "adam + reversed ρ=15",
        &m,
        &eval,
        &format!(", λ = {fast:.4}"),
    );
    assert_close(&[fast], &[slow], 1e-6, 0.0);
    assert!(fast < 4.0, "λ {fast}");
}
