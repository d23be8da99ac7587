//! Toy and tabular cells: a linear model or small MLP trained by `seg::classify`.
use anyhow::{Context, bail};
use bounds::{LossConfig, MultiplierUpdate, ObjectiveConfig, Target as BoundsTarget};
use seg::classify::{
    ClassifierArch, ClassifyConfig, ClassifyLoss, Constraint, Optimizer, Scored, evaluate_scores,
    train_classifier,
};
use seg::data::TabularSet;

use super::{DataCache, data_dir, finish};
use crate::cells::CellSpec;
use crate::config::{Arch, DataConfig, LossKind, TargetOn};
use crate::rundir::{CellResult, EpochLog};
use crate::runner::CellProgress;

/// The `bounds` loss config of a global loss of a cell (`None` for the baselines).
pub fn global_loss_config(spec: &CellSpec, update: MultiplierUpdate) -> Option<LossConfig> {
    let k = spec.loss_params.num_anchors;
    let objective = match spec.loss {
        LossKind::PrecisionAtRecall => ObjectiveConfig::PrecisionAtRecall {
            target_recall: BoundsTarget::All(spec.train_target?.value),
        },
        LossKind::RecallAtPrecision => ObjectiveConfig::RecallAtPrecision {
            target_precision: BoundsTarget::All(spec.train_target?.value),
        },
        LossKind::PrAuc => ObjectiveConfig::PrAuc {
            precision_range: (0.0, 1.0),
            num_anchors: k,
        },
        LossKind::RocAuc => ObjectiveConfig::RocAucAnchors {
            fpr_range: (0.0, 1.0),
            num_anchors: k,
        },
        _ => return None,
    };
    Some(LossConfig {
        multiplier_update: update,
        ..LossConfig::new(objective)
    })
}

/// The evaluation constraints of a cell.
pub fn constraints(spec: &CellSpec) -> Vec<Constraint> {
    spec.eval_targets
        .iter()
        .map(|t| match t.on {
            TargetOn::Recall => Constraint::Recall(t.value),
            TargetOn::Precision => Constraint::Precision(t.value),
        })
        .collect()
}

fn flat(t: &tch::Tensor) -> anyhow::Result<Vec<f32>> {
    Ok(Vec::<f32>::try_from(
        t.to_kind(tch::Kind::Float).reshape([-1]),
    )?)
}

/// Trains and evaluates a toy or tabular cell.
pub fn run(
    spec: &CellSpec,
    _data: &mut DataCache,
    progress: &mut CellProgress<'_>,
) -> anyhow::Result<CellResult> {
    let (train, val, test, toy) = match &spec.data {
        DataConfig::Toy {} => {
            let (train, eval) = seg::data::tabular::toy_gaussians(spec.seed);
            // As in the reference, the threshold is read off an independent draw: the
            // training draw serves as validation, the evaluation draw as test.
            let val = TabularSet {
                x: train.x.shallow_clone(),
                y: train.y.shallow_clone(),
            };
            (train, val, eval, true)
        }
        DataConfig::Caravan { val_fraction } => {
            let path = data_dir().join("caravan/Caravan.csv");
            let s = seg::data::tabular::caravan(&path, spec.seed, *val_fraction)
                .with_context(|| format!("cannot load {}", path.display()))?;
            (s.train, s.val, s.test, false)
        }
        other => bail!("not a classification data set: {other:?}"),
    };
    let arch = match &spec.model.arch {
        Arch::Linear if toy => ClassifierArch::Linear {
            init_weights: Some(vec![-1.0, -1.0]),
        },
        Arch::Linear => ClassifierArch::Linear { init_weights: None },
        Arch::Mlp { hidden } => ClassifierArch::Mlp {
            hidden: hidden.clone(),
        },
        Arch::Unet { .. } => bail!("a U-Net cannot classify tabular data"),
    };
    let update = if toy {
        // Reference §8: upstream's reversed-gradient multipliers under plain GD.
        MultiplierUpdate::Reversed {
            dual_rate_factor: spec.train.dual_rate,
        }
    } else {
        MultiplierUpdate::DualAscent {
            rate: spec.train.dual_rate,
            max: spec.loss_params.multiplier_max,
        }
    };
    let loss = match spec.loss {
        LossKind::Bce => ClassifyLoss::Bce,
        LossKind::WeightedBce => ClassifyLoss::WeightedBce {
            pos_weight: spec.loss_params.pos_weight,
        },
        l => match global_loss_config(spec, update) {
            Some(c) => ClassifyLoss::Global(c),
            None => bail!("loss {} is not available for classifiers", l.name()),
        },
    };
    let optimizer = if toy {
        Optimizer::GradientDescent {
            learning_rate: spec.train.learning_rate,
        }
    } else {
        Optimizer::Adam {
            learning_rate: spec.train.learning_rate,
            batch_size: spec.train.batch_size,
        }
    };
    let config = ClassifyConfig {
        arch,
        loss,
        optimizer,
        epochs: spec.train.epochs,
        seed: spec.seed,
    };
    let epochs = spec.train.epochs + usize::from(toy);
    let mut io_error = None;
    let model = train_classifier(&train, &config, &mut |s| {
        progress.start_epoch(s.epoch, epochs, 1);
        let record = EpochLog {
            epoch: s.epoch,
            loss: s.loss,
            multipliers: s.multipliers.clone(),
            slack: s.slack.clone(),
            val_metric: None,
            val_ap: None,
            seconds: None,
        };
        if let Err(e) = progress.end_epoch(&record) {
            io_error.get_or_insert(e);
        }
    })?;
    if let Some(e) = io_error {
        return Err(e);
    }
    let (vl, vy) = (flat(&model.logits(&val.x)?)?, flat(&val.y)?);
    let (tl, ty) = (flat(&model.logits(&test.x)?)?, flat(&test.y)?);
    let eval = evaluate_scores(
        Scored {
            logits: &vl,
            labels: &vy,
            weights: None,
        },
        Scored {
            logits: &tl,
            labels: &ty,
            weights: None,
        },
        &constraints(spec),
        200,
    )?;
    Ok(finish(spec, eval, model.multipliers()))
}
