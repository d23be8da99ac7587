//! Float64 finite-difference gradient checks of every loss wrt logits and biases, and
//! `forward_mean` (plain and fused) against `forward(..).loss.mean()`.
use bounds::{LossConfig, MultiplierUpdate, ObjectiveConfig, Pass, Surrogate, Target};
use tch::{Kind, Tensor};

use crate::common::*;

fn objectives() -> Vec<ObjectiveConfig> {
    vec![
        rap(Target::PerLabel(vec![0.6, 0.8])),
        par(Target::PerLabel(vec![0.9, 0.5])),
        fpr_at_tpr(Target::All(0.7)),
        tpr_at_fpr(Target::PerLabel(vec![0.1, 0.3])),
        pr_auc((0.0, 1.0), 4),
        roc_anchors((0.0, 0.5), 3),
        ObjectiveConfig::RocAucPairwise { max_pairs: None },
    ]
}

/// Central differences of f at x (flattened), step h.
fn fd(x: &Tensor, h: f64, f: &dyn Fn() -> f64) -> Vec<f64> {
    let flat = x.view(-1);
    (0..flat.size()[0])
        .map(|i| {
            let x0 = flat.double_value(&[i]);
            tch::no_grad(|| {
                let _ = flat.get(i).fill_(x0 + h);
            });
            let up = f();
            tch::no_grad(|| {
                let _ = flat.get(i).fill_(x0 - h);
            });
            let down = f();
            tch::no_grad(|| {
                let _ = flat.get(i).fill_(x0);
            });
            (up - down) / (2.0 * h)
        })
        .collect()
}

#[test]
fn every_loss_matches_finite_differences() {
    for obj in objectives() {
        for s in [Surrogate::Xent, Surrogate::Hinge] {
            let mut r = rng(200);
            let x = t64(&normals(&mut r, 16), &[8, 2]).set_requires_grad(true);
            let y = t64(&bernoulli(&mut r, 16, 0.5), &[8, 2]);
            let w = t64(&uniforms(&mut r, 8), &[8]) * 2.0;
            let coef = t64(&normals(&mut r, 16), &[8, 2]);
            let vs = vs64();
            let c = LossConfig {
                objective: obj.clone(),
                surrogate: s,
                multiplier_init: 1.7,
                ..LossConfig::default()
            };
            let loss = make_loss(&vs, 2, &c);
            if let Some(b) = loss.biases() {
                let k = b.size()[1];
                let vals = normals(&mut r, (2 * k) as usize);
                tch::no_grad(|| b.shallow_clone().copy_(&(t64(&vals, &[2, k]) * 0.5)));
            }
            let objective = || {
                let out = loss.forward(&x, &y, Some(&w), Pass::Eval).unwrap();
                (out.loss * &coef).sum(Kind::Double)
            };
            let j = objective();
            j.backward();
            let value = || tch::no_grad(|| objective().double_value(&[]));
            let gx = fd(&x, 1e-6, &value);
            assert_close(&vec64(&x.grad()), &gx, 1e-6, 1e-8);
            if let Some(b) = loss.biases() {
                let gb = fd(b, 1e-6, &value);
                assert_close(&vec64(&b.grad()), &gb, 1e-6, 1e-8);
            }
        }
    }
}

/// `forward_mean` equals `forward(..).loss.mean()` in value and in gradients wrt logits,
/// biases and the (reversed) multiplier variable, with and without the fused path.
#[test]
fn forward_mean_equals_mean_of_forward() {
    for obj in objectives() {
        for fused in [false, true] {
            let mut r = rng(201);
            let xv = normals(&mut r, 40);
            let y = t64(&bernoulli(&mut r, 40, 0.6), &[20, 2]);
            let w = t64(&uniforms(&mut r, 40), &[20, 2]);
            let bias_vals = normals(&mut r, 8);
            let mut results = Vec::new();
            for use_mean in [false, true] {
                let vs = vs64();
                let c = LossConfig {
                    objective: obj.clone(),
                    multiplier_update: MultiplierUpdate::Reversed {
                        dual_rate_factor: 0.5,
                    },
                    fused,
                    chunk_rows: 7,
                    ..LossConfig::default()
                };
                let loss = make_loss(&vs, 2, &c);
                if let Some(b) = loss.biases() {
                    let k = b.size()[1];
                    tch::no_grad(|| {
                        b.shallow_clone()
                            .copy_(&t64(&bias_vals[..(2 * k) as usize], &[2, k]))
                    });
                }
                let x = t64(&xv, &[20, 2]).set_requires_grad(true);
                let j = if use_mean {
                    loss.forward_mean(&x, &y, Some(&w), Pass::Train)
                        .unwrap()
                        .loss
                } else {
                    loss.forward(&x, &y, Some(&w), Pass::Train)
                        .unwrap()
                        .loss
                        .mean(Kind::Double)
                };
                j.backward();
                let mut v = vec![j.double_value(&[])];
                v.extend(vec64(&x.grad()));
                if let Some(m) = loss.multiplier_state() {
                    v.extend(vec64(&m.variable().grad()));
                }
                if let Some(b) = loss.biases() {
                    v.extend(vec64(&b.grad()));
                }
                results.push(v);
            }
            assert_close(&results[1], &results[0], 1e-6, 1e-12);
        }
    }
}
