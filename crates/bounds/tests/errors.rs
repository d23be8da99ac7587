//! Every typed error of the Errors list, once each.
use bounds::{
    Error, GlobalLoss, LossConfig, MultiplierUpdate, Multipliers, ObjectiveConfig, Pass,
    PriorConfig, Surrogate, Target, true_positives_lower_bound, weighted_surrogate_loss,
};
use tch::{Device, Kind, Tensor, nn};

use crate::common::*;

fn loss(vs: &nn::VarStore, labels: i64) -> GlobalLoss {
    make_loss(vs, labels, &LossConfig::new(pr_auc((0.0, 1.0), 3)))
}

fn ok_inputs() -> (Tensor, Tensor) {
    (
        t64(&[0.5, -0.5, 1.0, 0.0], &[2, 2]),
        t64(&[1.0, 0.0, 1.0, 0.0], &[2, 2]),
    )
}

#[test]
fn shape_mismatches() {
    let vs = vs64();
    let l = loss(&vs, 2);
    let (x, y) = ok_inputs();
    let e = l.forward(&x, &y.view([4]), None, Pass::Eval);
    assert!(
        matches!(e, Err(Error::Shape { what: "labels", .. })),
        "{e:?}"
    );
    let e = l.forward(&x, &y, Some(&t64(&[1.0; 3], &[3])), Pass::Eval);
    assert!(
        matches!(
            e,
            Err(Error::Shape {
                what: "weights",
                ..
            })
        ),
        "{e:?}"
    );
    let e = l.forward(&x.view([4]), &y.view([4]), None, Pass::Eval);
    assert!(
        matches!(e, Err(Error::Shape { what: "logits", .. })),
        "L = 1 vs 2: {e:?}"
    );
    let e = true_positives_lower_bound(&y, &x, Some(&t64(&[1.0; 3], &[3])), Surrogate::Xent);
    assert!(matches!(e, Err(Error::Shape { .. })), "{e:?}");
}

#[test]
fn rank() {
    let vs = vs64();
    let l = loss(&vs, 2);
    let x = t64(&[0.0; 8], &[2, 2, 2]);
    let e = l.forward(&x, &x, None, Pass::Eval);
    assert!(matches!(e, Err(Error::Rank { got: 3, .. })), "{e:?}");
}

#[test]
fn kind_rule() {
    let vs = vs64();
    let l = loss(&vs, 2);
    let (x, y) = ok_inputs();
    let e = l.forward(&x.to_kind(Kind::Int64), &y, None, Pass::Eval);
    assert!(
        matches!(e, Err(Error::Kind { what: "logits", .. })),
        "{e:?}"
    );
    let e = l.forward(&x.to_kind(Kind::Half), &y, None, Pass::Eval);
    assert!(matches!(e, Err(Error::Unsupported { .. })), "{e:?}");
    // Labels and weights of another kind are cast to the logits' kind.
    let same = l.forward(&x, &y, None, Pass::Eval).unwrap().loss;
    let cast = l
        .forward(&x, &y.to_kind(Kind::Float), None, Pass::Eval)
        .unwrap()
        .loss;
    assert_tensors_close(&cast, &same, 0.0, 0.0);
    let w = Tensor::ones([2, 2], (Kind::Float, Device::Cpu));
    let cast = l.forward(&x, &y, Some(&w), Pass::Eval).unwrap().loss;
    assert_tensors_close(&cast, &same, 0.0, 0.0);
}

#[test]
fn device_mismatch_when_a_gpu_exists() {
    if !tch::Cuda::is_available() {
        return; // Only one device on this machine; nothing can mismatch.
    }
    let vs = vs64();
    let l = loss(&vs, 2);
    let (x, y) = ok_inputs();
    let e = l.forward(&x.to_device(Device::Cuda(0)), &y, None, Pass::Eval);
    assert!(matches!(e, Err(Error::Device { .. })), "{e:?}");
}

#[test]
fn invalid_values() {
    let vs = vs64();
    let l = loss(&vs, 2);
    let (x, y) = ok_inputs();
    let bad = |e: bounds::Result<bounds::LossOutput>, what: &str| match e {
        Err(Error::InvalidValue { what: w, .. }) => assert_eq!(w, what),
        other => panic!("expected InvalidValue({what}), got {other:?}"),
    };
    bad(
        l.forward(&x, &t64(&[1.0, 0.0, 1.5, 0.0], &[2, 2]), None, Pass::Eval),
        "labels",
    );
    bad(
        l.forward(&x, &t64(&[1.0, -0.1, 1.0, 0.0], &[2, 2]), None, Pass::Eval),
        "labels",
    );
    bad(
        l.forward(
            &x,
            &t64(&[1.0, f64::NAN, 1.0, 0.0], &[2, 2]),
            None,
            Pass::Eval,
        ),
        "labels",
    );
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        bad(
            l.forward(&t64(&[0.0, v, 0.0, 0.0], &[2, 2]), &y, None, Pass::Eval),
            "logits",
        );
    }
    for v in [-1.0, f64::NAN, f64::INFINITY] {
        bad(
            l.forward(&x, &y, Some(&t64(&[1.0, v], &[2])), Pass::Eval),
            "weights",
        );
    }
    let empty = Tensor::zeros([0, 2], (Kind::Double, Device::Cpu));
    bad(l.forward(&empty, &empty, None, Pass::Eval), "logits");
    // Nothing moved: the failed calls did not touch the priors.
    assert_close(&vec64(&l.priors()), &[0.5, 0.5], 0.0, 0.0);
}

#[test]
fn invalid_configs() {
    let vs = vs64();
    let bad = |labels: i64, c: LossConfig, field: &str| match GlobalLoss::new(
        &(vs.root() / field),
        labels,
        &c,
    ) {
        Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected InvalidConfig({field}), got {other:?}"),
    };
    bad(1, LossConfig::new(par(Target::All(0.0))), "target_recall");
    bad(
        1,
        LossConfig::new(rap(Target::All(1.01))),
        "target_precision",
    );
    bad(
        2,
        LossConfig::new(tpr_at_fpr(Target::PerLabel(vec![0.1, -0.2]))),
        "target_rate",
    );
    bad(
        3,
        LossConfig::new(tpr_at_fpr(Target::PerLabel(vec![0.1, 0.2]))),
        "target_rate",
    );
    bad(1, LossConfig::new(pr_auc((0.5, 0.5), 3)), "precision_range");
    bad(1, LossConfig::new(pr_auc((0.0, 1.0), 0)), "num_anchors");
    bad(1, LossConfig::new(roc_anchors((0.2, 0.1), 3)), "fpr_range");
    bad(0, LossConfig::default(), "num_labels");
    let c = LossConfig {
        priors: PriorConfig::Fixed(vec![0.1, 0.2]),
        ..LossConfig::default()
    };
    bad(3, c, "priors");
    let c = LossConfig {
        multiplier_update: MultiplierUpdate::DualAscent {
            rate: f64::NAN,
            max: None,
        },
        ..LossConfig::default()
    };
    bad(1, c, "rate");
    // The same names twice under one path.
    let p = vs.root() / "twice";
    GlobalLoss::new(&p, 1, &LossConfig::default()).unwrap();
    let e = GlobalLoss::new(&p, 1, &LossConfig::default());
    assert!(
        matches!(e, Err(Error::InvalidConfig { field: "path", .. })),
        "{e:?}"
    );
    let e = Multipliers::new(&vs.root(), "m", &[1], -1.0, MultiplierUpdate::default());
    assert!(
        matches!(
            e,
            Err(Error::InvalidConfig {
                field: "multiplier_init",
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn unsupported_surrogate_and_free_function_errors() {
    let e = "squared".parse::<Surrogate>();
    assert!(matches!(e, Err(Error::Unsupported { .. })), "{e:?}");
    let (x, y) = ok_inputs();
    let one = Tensor::from(1.0f64);
    let e = weighted_surrogate_loss(&y, &x, Surrogate::Hinge, &t64(&[1.0; 3], &[3]), &one);
    assert!(
        matches!(
            e,
            Err(Error::Shape {
                what: "positive_weights",
                ..
            })
        ),
        "{e:?}"
    );
    let e = weighted_surrogate_loss(
        &t64(&[2.0, 0.0, 1.0, 0.0], &[2, 2]),
        &x,
        Surrogate::Xent,
        &one,
        &one,
    );
    assert!(
        matches!(e, Err(Error::InvalidValue { what: "labels", .. })),
        "{e:?}"
    );
    let e = weighted_surrogate_loss(&y, &Tensor::from(1.0f64), Surrogate::Xent, &one, &one);
    assert!(
        matches!(e, Err(Error::Rank { .. }) | Err(Error::Shape { .. })),
        "{e:?}"
    );
    let e = true_positives_lower_bound(&y, &x, Some(&t64(&[-1.0, 1.0], &[2])), Surrogate::Xent);
    assert!(
        matches!(
            e,
            Err(Error::InvalidValue {
                what: "weights",
                ..
            })
        ),
        "{e:?}"
    );
    let vs = vs64();
    let c = LossConfig::new(ObjectiveConfig::RocAucPairwise { max_pairs: Some(0) });
    assert!(matches!(
        GlobalLoss::new(&vs.root(), 1, &c),
        Err(Error::InvalidConfig { .. })
    ));
}
