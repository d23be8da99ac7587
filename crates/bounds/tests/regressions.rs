//! Regression tests for defects found by trying to break the crate as a new user
//! (issue 3, "Errors": every bad input gives a typed error, never a panic or a silent
//! NaN / inf). Each test failed before its fix.
use bounds::baseline::focal;
use bounds::fused::anchor_surrogate_sum;
use bounds::roc::roc_auc_pairwise_loss;
use bounds::{
    Error, GlobalLoss, LossConfig, ObjectiveConfig, Pass, PriorConfig, Surrogate, Target,
    false_positives_upper_bound, true_positives_lower_bound, weighted_surrogate_loss,
};
use tch::{Device, Kind, Tensor, nn};

use crate::common::*;

fn zeros(shape: &[i64]) -> Tensor {
    Tensor::zeros(shape, DOUBLE)
}

/// A `[N, 0]` batch (no labels) used to panic inside `Tensor::stack`.
#[test]
fn pairwise_roc_with_zero_labels_returns_an_empty_loss() {
    for max_pairs in [None, Some(3)] {
        let out = roc_auc_pairwise_loss(
            &zeros(&[3, 0]),
            &zeros(&[3, 0]),
            None,
            Surrogate::Xent,
            max_pairs,
            0,
        )
        .expect("an empty label axis is a valid, empty problem");
        assert_eq!(out.size(), vec![3, 0]);
    }
}

/// NaN, ±inf or negative coefficients used to come back as a silent NaN / inf loss.
#[test]
fn weighted_surrogate_loss_rejects_bad_coefficients() {
    let y = t64(&[1.0, 0.0], &[2]);
    let x = t64(&[0.5, -0.5], &[2]);
    let one = Tensor::from(1.0f64);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
        let b = Tensor::from(bad);
        let e = weighted_surrogate_loss(&y, &x, Surrogate::Xent, &b, &one);
        assert!(
            matches!(
                e,
                Err(Error::InvalidValue {
                    what: "positive_weights",
                    ..
                })
            ),
            "{bad}: {e:?}"
        );
        let e = weighted_surrogate_loss(&y, &x, Surrogate::Hinge, &one, &b);
        assert!(
            matches!(
                e,
                Err(Error::InvalidValue {
                    what: "negative_weights",
                    ..
                })
            ),
            "{bad}: {e:?}"
        );
    }
}

/// Half / BFloat16 logits were accepted by `GlobalLoss::forward` and the free bound
/// functions but refused by the fused, pairwise and baseline paths; now one rule.
#[test]
fn half_precision_logits_are_unsupported_everywhere() {
    let vs = vs64();
    let loss = make_loss(&vs, 1, &LossConfig::new(par(Target::All(0.8))));
    for kind in [Kind::Half, Kind::BFloat16] {
        let x = t64(&[0.5, -0.5], &[2]).to_kind(kind);
        let y = t64(&[1.0, 0.0], &[2]).to_kind(kind);
        let e = loss.forward(&x, &y, None, Pass::Train);
        assert!(
            matches!(e, Err(Error::Unsupported { .. })),
            "{kind:?}: {e:?}"
        );
        let e = weighted_surrogate_loss(
            &y,
            &x,
            Surrogate::Xent,
            &Tensor::from(1.0),
            &Tensor::from(1.0),
        );
        assert!(
            matches!(e, Err(Error::Unsupported { .. })),
            "{kind:?}: {e:?}"
        );
        let e = true_positives_lower_bound(&y, &x, None, Surrogate::Xent);
        assert!(
            matches!(e, Err(Error::Unsupported { .. })),
            "{kind:?}: {e:?}"
        );
    }
    // The failed calls left the streaming priors alone.
    assert_close(&vec64(&loss.priors()), &[0.5], 0.0, 0.0);
    // Non-floating logits are a kind error on every path.
    let xi = t64(&[1.0, 0.0], &[2]).to_kind(Kind::Int64);
    let y = t64(&[1.0, 0.0], &[2]);
    let e = roc_auc_pairwise_loss(&y, &xi, None, Surrogate::Xent, None, 0);
    assert!(
        matches!(e, Err(Error::Kind { what: "logits", .. })),
        "{e:?}"
    );
    let e = loss.forward(&xi, &y, None, Pass::Train);
    assert!(
        matches!(e, Err(Error::Kind { what: "logits", .. })),
        "{e:?}"
    );
}

/// One kind rule: labels and weights of any kind are cast to the logits' kind, on
/// `GlobalLoss` and on the fused sum alike (they used to differ from the free functions).
#[test]
fn labels_and_weights_are_cast_to_the_logits_kind() {
    let x = t64(&[0.5, -0.5, 1.0, 0.0, 2.0, -2.0], &[3, 2]);
    let y = t64(&[1.0, 0.0, 1.0, 0.0, 0.0, 1.0], &[3, 2]);
    let w = t64(&[1.0, 2.0, 0.0, 1.0, 3.0, 1.0], &[3, 2]);
    for fused in [false, true] {
        let cfg = LossConfig {
            fused,
            ..LossConfig::new(pr_auc((0.0, 1.0), 3))
        };
        let reference = {
            let vs = vs64();
            make_loss(&vs, 2, &cfg)
                .forward_mean(&x, &y, Some(&w), Pass::Train)
                .unwrap()
        };
        for (yk, wk) in [
            (Kind::Float, Kind::Float),
            (Kind::Int64, Kind::Int64),
            (Kind::Bool, Kind::Double),
        ] {
            let vs = vs64();
            let out = make_loss(&vs, 2, &cfg)
                .forward_mean(&x, &y.to_kind(yk), Some(&w.to_kind(wk)), Pass::Train)
                .unwrap_or_else(|e| panic!("{yk:?}/{wk:?}: {e}"));
            assert_eq!(out.loss.kind(), Kind::Double);
            assert_tensors_close(&out.loss, &reference.loss, 1e-15, 0.0);
            assert_tensors_close(
                &out.diagnostics.priors,
                &reference.diagnostics.priors,
                1e-15,
                0.0,
            );
        }
        // A label outside [0, 1] is still caught after the cast.
        let vs = vs64();
        let e = make_loss(&vs, 2, &cfg).forward(
            &x,
            &(&y * 2.0).to_kind(Kind::Int64),
            None,
            Pass::Train,
        );
        assert!(
            matches!(e, Err(Error::InvalidValue { what: "labels", .. })),
            "{e:?}"
        );
    }
    let b = zeros(&[2, 3]);
    let c = b.ones_like();
    let direct = anchor_surrogate_sum(&x, &y, &w, &b, &c, &c, Surrogate::Xent, 2).unwrap();
    let cast = anchor_surrogate_sum(
        &x,
        &y.to_kind(Kind::Float),
        &w.to_kind(Kind::Int64),
        &b,
        &c,
        &c,
        Surrogate::Xent,
        2,
    )
    .unwrap();
    assert_tensors_close(&cast, &direct, 1e-15, 0.0);
}

/// Defaults documented on the fields were not applied by serde, and misspelt fields
/// were silently ignored (`"fussed": true` gave `fused = false`).
#[test]
fn config_json_applies_documented_defaults_and_rejects_unknown_fields() {
    let c: LossConfig = serde_json::from_str(r#"{"objective": {"kind": "pr_auc"}}"#).unwrap();
    assert_eq!(c.objective, pr_auc((0.0, 1.0), 20));
    let c: LossConfig =
        serde_json::from_str(r#"{"objective": {"kind": "roc_auc_anchors", "num_anchors": 4}}"#)
            .unwrap();
    assert_eq!(c.objective, roc_anchors((0.0, 1.0), 4));
    let c: LossConfig =
        serde_json::from_str(r#"{"multiplier_update": {"mode": "dual_ascent"}}"#).unwrap();
    assert_eq!(c.multiplier_update, DUAL);
    let c: LossConfig =
        serde_json::from_str(r#"{"priors": {"streaming": {"negative_pseudocount": 3}}}"#).unwrap();
    assert_eq!(
        c.priors,
        PriorConfig::Streaming {
            positive_pseudocount: 1.0,
            negative_pseudocount: 3.0
        }
    );
    for typo in [
        r#"{"fussed": true}"#,
        r#"{"objective": {"kind": "pr_auc", "num_anchor": 5}}"#,
        r#"{"objective": {"kind": "precision_at_recall", "target_recall": 0.9, "x": 1}}"#,
        r#"{"multiplier_update": {"mode": "dual_ascent", "rat": 2.0}}"#,
        r#"{"priors": {"streaming": {"positive_pseudo": 2}}}"#,
    ] {
        let e = serde_json::from_str::<LossConfig>(typo);
        assert!(e.is_err(), "{typo} was accepted: {e:?}");
    }
    // A LossConfig inside an internally tagged enum (as seg's objective spec) still parses.
    #[derive(serde::Deserialize, Debug)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Spec {
        Global(LossConfig),
    }
    let Spec::Global(c) =
        serde_json::from_str(r#"{"kind": "global", "fused": true}"#).expect("nested config");
    assert!(c.fused);
}

/// A name collision part-way through `GlobalLoss::new` used to leave the variables
/// created before it in the VarStore (which `VarStore::load` then demands).
#[test]
fn failed_new_leaves_no_state_behind() {
    let vs = vs64();
    let p = vs.root() / "loss";
    let _user = p.var("prior_positive", &[1], nn::Init::Const(0.0));
    let before = vs.variables().len();
    let e = GlobalLoss::new(&p, 1, &LossConfig::default());
    assert!(
        matches!(e, Err(Error::InvalidConfig { field: "path", .. })),
        "{e:?}"
    );
    assert_eq!(vs.variables().len(), before, "{:?}", vs.variables().keys());
}

/// Finite inputs whose loss overflows the logits' kind used to give a silent inf / NaN
/// loss and diagnostics; now a typed error, and the failed training pass does not move
/// the priors.
#[test]
fn overflowing_loss_is_a_typed_error() {
    let big = 3.0e38f32;
    let x = Tensor::from_slice(&[big, -big, big, -big, 0.0, 1.0, big, big]);
    let y = Tensor::from_slice(&[0.0f32, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    let objectives = [
        par(Target::All(0.8)),
        rap(Target::All(0.7)),
        tpr_at_fpr(Target::All(0.1)),
        pr_auc((0.0, 1.0), 3),
        ObjectiveConfig::RocAucPairwise { max_pairs: None },
    ];
    for objective in objectives {
        for fused in [false, true] {
            let vs = nn::VarStore::new(Device::Cpu);
            let cfg = LossConfig {
                objective: objective.clone(),
                fused,
                ..LossConfig::default()
            };
            let loss = make_loss(&vs, 1, &cfg);
            let priors = loss.priors();
            for mean in [false, true] {
                let e = if mean {
                    loss.forward_mean(&x, &y, None, Pass::Train)
                } else {
                    loss.forward(&x, &y, None, Pass::Train)
                };
                assert!(
                    matches!(
                        e,
                        Err(Error::InvalidValue {
                            what: "loss" | "diagnostics",
                            ..
                        })
                    ),
                    "{objective:?} fused={fused} mean={mean}: {e:?}"
                );
            }
            assert!(loss.priors().equal(&priors), "{objective:?}: priors moved");
        }
    }
    // The pairwise free function: pair weights that overflow.
    let w = t64(&[1e300, 1.0, 1e300], &[3]);
    let e = roc_auc_pairwise_loss(
        &t64(&[1.0, 0.0, 0.0], &[3]),
        &t64(&[0.0, 1.0, 2.0], &[3]),
        Some(&w),
        Surrogate::Xent,
        None,
        0,
    );
    assert!(
        matches!(e, Err(Error::InvalidValue { what: "loss", .. })),
        "{e:?}"
    );
}

/// The bounds accepted logits of any rank although only `[N]`, `[N, L]`, `[N, L, K]`
/// are documented.
#[test]
fn bounds_reject_rank_four() {
    let t = zeros(&[2, 2, 3, 1]);
    let e = false_positives_upper_bound(&t, &t, None, Surrogate::Xent);
    assert!(matches!(e, Err(Error::Rank { got: 4, .. })), "{e:?}");
    let e = true_positives_lower_bound(&t, &t, None, Surrogate::Hinge);
    assert!(matches!(e, Err(Error::Rank { got: 4, .. })), "{e:?}");
}

/// Focal loss with targets that require grad (soft targets from another network)
/// produced NaN target gradients at targets 0 and 1; targets are now constants.
#[test]
fn focal_gradients_stay_finite_with_targets_that_require_grad() {
    let s = t64(&[3.0, -3.0, 0.0, 1.0], &[4]).set_requires_grad(true);
    let t = t64(&[1.0, 0.0, 0.5, 0.0], &[4]).set_requires_grad(true);
    let loss = focal(&s, &t, None, 2.0, Some(0.25)).unwrap();
    loss.sum(Kind::Double).backward();
    let gs = vec64(&s.grad());
    assert!(gs.iter().all(|g| g.is_finite()), "{gs:?}");
    let gt = t.grad();
    assert!(!gt.defined() || vec64(&gt).iter().all(|g| g.is_finite()));
    // Same value and logit gradient as with constant targets.
    let s2 = s.detach().set_requires_grad(true);
    let loss2 = focal(&s2, &t.detach(), None, 2.0, Some(0.25)).unwrap();
    loss2.sum(Kind::Double).backward();
    assert_tensors_close(&loss, &loss2, 0.0, 0.0);
    assert_close(&gs, &vec64(&s2.grad()), 0.0, 0.0);
}

/// The exact pairwise loss allocates `[N, N]` tensors with libtorch's panicking ops,
/// so a batch too large for memory aborted the caller with a panic instead of an error.
/// Runs only where the kernel refuses such an allocation outright (heuristic or strict
/// overcommit), so that it cannot start a multi-terabyte allocation anywhere.
#[test]
fn exact_pairwise_roc_too_large_for_memory_is_an_error() {
    let mode = std::fs::read_to_string("/proc/sys/vm/overcommit_memory").unwrap_or_default();
    if !matches!(mode.trim(), "0" | "2") {
        return;
    }
    // [N, N] in float32 is 4 TiB.
    let y = Tensor::zeros([1 << 20], (Kind::Float, Device::Cpu));
    let e = roc_auc_pairwise_loss(&y, &y, None, Surrogate::Xent, None, 0);
    assert!(
        matches!(e, Err(Error::Torch(_))),
        "{:?}",
        e.map(|t| t.size())
    );
}
