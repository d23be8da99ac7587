//! Segmentation cells (Fashion-MNIST mosaics, StarDist): a U-Net trained by
//! `seg::train::train`, evaluated pixel-wise by `seg::classify::evaluate_scores`.
use anyhow::{Context, bail};
use bounds::MultiplierUpdate;
use seg::classify::{Scored, evaluate_scores};
use seg::data::{SegSet, SegSplits};
use seg::model::UNetConfig;
use seg::objective::ObjectiveSpec;
use seg::train::{DeviceChoice, Progress, TrainConfig, train};
use tch::{Kind, Tensor};

use super::classify::{constraints, global_loss_config};
use super::{DataCache, data_dir, finish};
use crate::cells::CellSpec;
use crate::config::{Arch, DataConfig, LossKind, TargetOn};
use crate::rundir::{CellResult, EpochLog};
use crate::runner::CellProgress;

/// Loads (or takes from the cache) the splits of a segmentation data set. The data do
/// not depend on the cell's seed: every loss and seed sees the same images.
fn load(data: &DataConfig, cache: &mut DataCache) -> anyhow::Result<std::rc::Rc<SegSplits>> {
    let key = serde_json::to_string(data).expect("data config should serialize");
    if let Some((k, s)) = &cache.seg
        && *k == key
    {
        return Ok(s.clone());
    }
    let splits = match data {
        DataConfig::Fashion { .. } => {
            let dir = data_dir().join("fashion-mnist");
            let cfg = data.mosaic_config(0).expect("fashion");
            seg::data::fashion::load_mosaics(&dir, &cfg)
                .with_context(|| format!("cannot build mosaics from {}", dir.display()))?
        }
        DataConfig::Stardist {
            crops_per_epoch, ..
        } => {
            let dir = data_dir().join("stardist");
            let s = seg::data::stardist::load(&dir, &Default::default())
                .with_context(|| format!("cannot load {}", dir.display()))?;
            // An epoch draws `crops_per_epoch` random crops: repeat the training
            // quadrants so that the loader sees that many images per epoch.
            let n = s.train.len();
            let idx = Tensor::arange(*crops_per_epoch as i64, (Kind::Int64, tch::Device::Cpu))
                .remainder(n);
            let train = SegSet {
                images: s.train.images.index_select(0, &idx),
                masks: s.train.masks.index_select(0, &idx),
                valid: s.train.valid.index_select(0, &idx),
                name: s.train.name.clone(),
            };
            SegSplits { train, ..s }
        }
        other => bail!("not a segmentation data set: {other:?}"),
    };
    let splits = std::rc::Rc::new(splits);
    cache.seg = Some((key, splits.clone()));
    Ok(splits)
}

fn flat(t: &Tensor) -> anyhow::Result<Vec<f32>> {
    Ok(Vec::<f32>::try_from(t.to_kind(Kind::Float).reshape([-1]))?)
}

/// The `seg` objective of a cell.
fn objective(spec: &CellSpec) -> anyhow::Result<ObjectiveSpec> {
    let p = &spec.loss_params;
    Ok(match spec.loss {
        LossKind::Bce => ObjectiveSpec::Bce,
        LossKind::WeightedBce => ObjectiveSpec::WeightedBce {
            pos_weight: p.pos_weight,
        },
        LossKind::Focal => ObjectiveSpec::Focal {
            gamma: p.focal_gamma,
            alpha: Some(p.focal_alpha),
        },
        LossKind::Dice => ObjectiveSpec::Dice,
        _ => {
            let update = MultiplierUpdate::DualAscent {
                rate: spec.train.dual_rate,
                max: p.multiplier_max,
            };
            let mut c = global_loss_config(spec, update).context("global loss without target")?;
            // Anchor losses over every pixel: the chunked path keeps no [P, K] graph.
            c.fused = matches!(spec.loss, LossKind::PrAuc | LossKind::RocAuc);
            ObjectiveSpec::Global(c)
        }
    })
}

/// Trains and evaluates a segmentation cell.
pub fn run(
    spec: &CellSpec,
    cache: &mut DataCache,
    progress: &mut CellProgress<'_>,
) -> anyhow::Result<CellResult> {
    let splits = load(&spec.data, cache)?;
    let Arch::Unet {
        depth,
        base_channels,
    } = spec.model.arch
    else {
        bail!("segmentation needs a U-Net model");
    };
    let model = UNetConfig {
        depth: depth as usize,
        base_channels,
        in_channels: splits.train.images.size()[1],
    };
    let crop = match spec.data {
        DataConfig::Stardist { crop, .. } => Some([crop, crop]),
        _ => None,
    };
    let target_recall = spec
        .eval_targets
        .iter()
        .find(|t| t.on == TargetOn::Recall)
        .map_or(0.9, |t| t.value);
    let config = TrainConfig {
        epochs: spec.train.epochs,
        batch_size: spec.train.batch_size,
        lr: spec.train.learning_rate,
        seed: spec.seed,
        threads: spec.threads as usize,
        device: DeviceChoice::Cpu,
        target_recall,
        flips: crop.is_some(),
        crop,
        ..TrainConfig::default()
    };
    let mut io_error = None;
    let outcome = train(
        &splits,
        &model,
        &objective(spec)?,
        &config,
        &mut |p| match p {
            Progress::Started {
                start_epoch,
                epochs,
                batches_per_epoch,
            } => progress.start_epoch(start_epoch + 1, *epochs, *batches_per_epoch),
            Progress::Batch {
                epoch,
                batch,
                batches,
                ..
            } => {
                if *batch == 1 {
                    progress.start_epoch(*epoch, config.epochs, *batches);
                }
                progress.batch_done(*batch);
            }
            Progress::Epoch(r) => {
                let record = EpochLog {
                    epoch: r.epoch,
                    loss: r.train_loss,
                    multipliers: r.multiplier_max.into_iter().collect(),
                    slack: r.slack.into_iter().collect(),
                    val_metric: r.val_precision_at_target_recall,
                    val_ap: r.val_ap,
                    seconds: Some(r.seconds),
                };
                if let Err(e) = progress.end_epoch(&record) {
                    io_error.get_or_insert(e);
                }
            }
        },
    )?;
    if let Some(e) = io_error {
        return Err(e);
    }
    let scored = |set: &SegSet| -> anyhow::Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        let logits = seg::evaluate::predict_logits(&outcome.model, set, 64)?;
        Ok((flat(&logits)?, flat(&set.masks)?, flat(&set.valid)?))
    };
    let (vl, vy, vw) = scored(&splits.val)?;
    let (tl, ty, tw) = scored(&splits.test)?;
    let eval = evaluate_scores(
        Scored {
            logits: &vl,
            labels: &vy,
            weights: Some(&vw),
        },
        Scored {
            logits: &tl,
            labels: &ty,
            weights: Some(&tw),
        },
        &constraints(spec),
        200,
    )?;
    Ok(finish(
        spec,
        eval,
        outcome.objective.multipliers().unwrap_or_default(),
    ))
}
