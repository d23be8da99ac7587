//! The training loop: Adam on the model (and anchor biases), a separate projected dual
//! step on the multipliers, validation every epoch, checkpoints and exact resume.
//!
//! One optimization step on a minibatch (x, y, v) of images, masks and validity:
//!
//! ```text
//! s      = UNet(x)                          logits [B, 1, H, W], batch-norm in training mode
//! J      = objective(s, y, v)               scalar (Pass::Train: streaming priors update)
//! θ      ← Adam(θ, ∂J/∂θ)                   θ = model weights and anchor biases
//! λ      ← clamp(λ + η_dual · ∂J/∂λ, 0, λ_max)    global objectives only, after Adam
//! ```
//!
//! Randomness: the model is initialised after `tch::manual_seed(seed)`; at the start of
//! epoch `e` (0-based) tch's generator is re-seeded from `(seed, e)` and the loader
//! draws its order, crops and flips from `(seed, e)`. A run resumed from the checkpoint
//! of epoch `e` therefore sees exactly the batches and random state of the
//! uninterrupted run, and at a fixed thread count reproduces it bit for bit.
use std::path::PathBuf;
use std::time::Instant;

use bounds::Pass;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, nn};

use crate::checkpoint::{self, CheckpointState, FORMAT_VERSION};
use crate::data::SegSplits;
use crate::data::loader::{BatchConfig, Batches, to_device};
use crate::evaluate::{check_target, predict_logits, validation_metrics};
use crate::model::{UNet, UNetConfig};
use crate::objective::{Objective, ObjectiveSpec};
use crate::optim::{Adam, AdamConfig};
use crate::{Error, Result};

/// Where to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// The first CUDA device if one is available, else the CPU
    /// (`Device::cuda_if_available()`). The default.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device `i`.
    Cuda(usize),
}

impl DeviceChoice {
    /// The tch device.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (field `device`) for a CUDA device that does not exist.
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(i) => {
                let count = tch::Cuda::device_count() as usize;
                if i < count {
                    Ok(Device::Cuda(i))
                } else {
                    Err(Error::config(
                        "device",
                        format!("cuda:{i} requested, {count} CUDA device(s) available"),
                    ))
                }
            }
        }
    }
}

/// Settings of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Total number of epochs (a resumed run continues up to this count); ≥ 1.
    /// Defaults to `10`.
    pub epochs: usize,
    /// Training images per minibatch (the last one may be smaller); defaults to `16`.
    pub batch_size: usize,
    /// Adam step size; defaults to `1e-3` (β₁ = 0.9, β₂ = 0.999, ε = 1e-8). The dual step
    /// size is the objective's `MultiplierUpdate::DualAscent { rate }`.
    pub lr: f64,
    /// Seed of model initialisation, batch order and augmentation; defaults to `0`.
    pub seed: u64,
    /// libtorch intra-op threads, set with `tch::set_num_threads` (process-wide) at the
    /// start of [`train`]; 1 ..= 256, defaults to `2`.
    pub threads: usize,
    /// Device; defaults to [`DeviceChoice::Auto`].
    pub device: DeviceChoice,
    /// Recall at which validation precision and the validation threshold are read,
    /// in (0, 1]; defaults to `0.9`.
    pub target_recall: f64,
    /// Directory for per-epoch checkpoints; defaults to `None` (no checkpoints).
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue from the latest checkpoint in `checkpoint_dir` (a fresh start when there
    /// is none); defaults to `false`.
    pub resume: bool,
    /// Stop each epoch after this many minibatches; defaults to `None` (all).
    pub max_batches_per_epoch: Option<usize>,
    /// Random horizontal and vertical flips of training images; defaults to `false`.
    pub flips: bool,
    /// Random training crops `[height, width]`; defaults to `None`.
    pub crop: Option<[i64; 2]>,
    /// Images per forward pass in validation; defaults to `64`.
    pub eval_batch_size: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 16,
            lr: 1e-3,
            seed: 0,
            threads: 2,
            device: DeviceChoice::Auto,
            target_recall: 0.9,
            checkpoint_dir: None,
            resume: false,
            max_batches_per_epoch: None,
            flips: false,
            crop: None,
            eval_batch_size: 64,
        }
    }
}

impl TrainConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field: `epochs`, `batch_size`,
    /// `eval_batch_size` or `max_batches_per_epoch` equal to 0, `lr` not a finite
    /// positive number, `threads` outside 1 ..= 256, `target_recall` outside (0, 1],
    /// a crop side below 1, or `resume` without `checkpoint_dir`.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("eval_batch_size", self.eval_batch_size),
        ] {
            if value == 0 {
                return Err(Error::config(field, "must be at least 1, got 0"));
            }
        }
        if self.max_batches_per_epoch == Some(0) {
            return Err(Error::config(
                "max_batches_per_epoch",
                "must be at least 1 when set, got 0",
            ));
        }
        AdamConfig {
            lr: self.lr,
            ..AdamConfig::default()
        }
        .validate()?;
        if !(1..=256).contains(&self.threads) {
            return Err(Error::config(
                "threads",
                format!("must be in 1..=256, got {}", self.threads),
            ));
        }
        check_target(self.target_recall)?;
        if let Some([h, w]) = self.crop {
            if h < 1 || w < 1 {
                return Err(Error::config(
                    "crop",
                    format!("sides must be ≥ 1, got {h}x{w}"),
                ));
            }
        }
        if self.resume && self.checkpoint_dir.is_none() {
            return Err(Error::config("resume", "needs checkpoint_dir"));
        }
        Ok(())
    }

    /// The settings a resumed run must share with the checkpoint: everything but
    /// `epochs`, `resume`, `checkpoint_dir`, `device` and `eval_batch_size`.
    pub fn fingerprint(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("train config should serialize");
        if let Some(map) = value.as_object_mut() {
            for key in [
                "epochs",
                "resume",
                "checkpoint_dir",
                "device",
                "eval_batch_size",
            ] {
                map.remove(key);
            }
        }
        value
    }
}

/// What happened in one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epochs completed, counting this one (1-based).
    pub epoch: usize,
    /// Mean of the minibatch training losses.
    pub train_loss: f64,
    /// Minibatches in the epoch.
    pub batches: usize,
    /// Largest multiplier λ at the end of the epoch (global objectives only).
    pub multiplier_max: Option<f64>,
    /// Mean multiplier λ at the end of the epoch (global objectives only).
    pub multiplier_mean: Option<f64>,
    /// Mean over the epoch's minibatches of the mean constraint slack (target units;
    /// ≥ 0 means the surrogate constraint held), global objectives with a constraint only.
    pub slack: Option<f64>,
    /// Validation precision at the target recall (`None` when undefined).
    pub val_precision_at_target_recall: Option<f64>,
    /// Validation average precision (`None` when undefined).
    pub val_ap: Option<f64>,
    /// Validation IoU at the threshold that gives the target recall with the best
    /// precision (the threshold [`crate::evaluate::choose_threshold`] would pick).
    pub val_iou: f64,
    /// That threshold, on the logits.
    pub val_threshold_logit: f64,
    /// Wall-clock seconds of the epoch, validation included.
    pub seconds: f64,
}

/// Progress events sent to the caller's callback.
#[derive(Debug)]
pub enum Progress<'a> {
    /// Training starts (or resumes) at epoch `start_epoch` (0-based) of `epochs`.
    Started {
        /// First epoch to run, 0-based (> 0 when resumed).
        start_epoch: usize,
        /// Total epochs.
        epochs: usize,
        /// Minibatches per epoch.
        batches_per_epoch: usize,
    },
    /// One minibatch done.
    Batch {
        /// Epoch, 1-based.
        epoch: usize,
        /// Minibatch, 1-based.
        batch: usize,
        /// Minibatches in the epoch.
        batches: usize,
        /// The minibatch's training loss.
        loss: f64,
    },
    /// One epoch done (after validation and the checkpoint).
    Epoch(&'a EpochRecord),
}

/// A trained model with its objective state and history.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The store holding the model (under `model`) and the objective (under
    /// `objective`).
    pub vs: nn::VarStore,
    /// The model.
    pub model: UNet,
    /// The objective, with its multipliers, biases and priors.
    pub objective: Objective,
    /// One record per completed epoch, resumed epochs included.
    pub history: Vec<EpochRecord>,
    /// Completed epochs found in the checkpoint, when the run resumed.
    pub resumed_from: Option<usize>,
    /// Wall-clock seconds of this call.
    pub seconds: f64,
}

/// Seed of tch's generator for epoch `epoch` (0-based).
fn epoch_seed(seed: u64, epoch: usize) -> i64 {
    (seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) as i64
}

/// Names, shapes and content sums of the train and validation sets: a resume on other
/// data of the same name and shape is caught by the sums (rounded to 12 significant
/// digits, so a different reduction order cannot change them).
fn data_fingerprint(splits: &SegSplits) -> String {
    let sums = |set: &crate::data::SegSet| {
        let s = |t: &tch::Tensor| t.sum(tch::Kind::Double).double_value(&[]);
        // Per-image sums [N], also weighted by position: a permutation changes them.
        let per_image =
            set.images
                .sum_dim_intlist([1i64, 2, 3].as_slice(), false, tch::Kind::Double);
        let order =
            tch::Tensor::arange(per_image.size()[0], (tch::Kind::Double, per_image.device()));
        format!(
            "{:.11e} {:.11e} {:.11e} {:.11e}",
            s(&per_image),
            s(&(&per_image * &order)),
            s(&set.masks),
            s(&set.valid)
        )
    };
    format!(
        "train {} {:?} [{}]; val {} {:?} [{}]",
        splits.train.name,
        splits.train.images.size(),
        sums(&splits.train),
        splits.val.name,
        splits.val.images.size(),
        sums(&splits.val)
    )
}

/// Trains a U-Net on `splits.train` with `objective`, validating on `splits.val` after
/// every epoch; see the [module docs](self) for the step and the randomness.
///
/// With `config.checkpoint_dir`, a checkpoint is written after every epoch (layout in
/// [`crate::checkpoint`]); with `config.resume`, training continues from the latest one
/// (configs, seed and data must match) up to `config.epochs`. Without `resume`, the
/// directory must not hold checkpoints yet.
///
/// A training or validation set without any positive pixel is accepted: every
/// objective stays finite, and the validation metrics that need positives (precision
/// at the target recall, AP) are `None` in the [`EpochRecord`]s, never 0.
///
/// Progress goes to `progress`; the function prints nothing (`tracing` at debug level).
/// `tch::set_num_threads(config.threads)` is applied process-wide.
///
/// # Errors
/// - [`Error::InvalidConfig`]: any invalid config (see the `validate` methods); images
///   whose channel count is not `model.in_channels`; an existing checkpoint without
///   `resume`, or one written with other configs, seed or data.
/// - [`Error::Data`]: a split that breaks the `SegSet` contract, a train or
///   validation set in which every pixel is ignored, or a corrupt checkpoint.
/// - [`Error::NonFinite`]: a training loss that is NaN or infinite.
/// - [`Error::Io`], [`Error::Torch`], [`Error::Bounds`], [`Error::Metrics`] from
///   checkpoints, libtorch, the loss and the validation metrics.
///
/// # Examples
/// ```
/// use bounds::{LossConfig, ObjectiveConfig, Target};
/// use seg::data::synthetic::{SyntheticConfig, generate};
/// use seg::evaluate::{EvalConfig, evaluate};
/// use seg::model::UNetConfig;
/// use seg::objective::ObjectiveSpec;
/// use seg::train::{DeviceChoice, TrainConfig, train};
/// let data = generate(&SyntheticConfig {
///     n_train: 8, n_val: 4, n_test: 4, size: 16, ..Default::default()
/// });
/// let objective = ObjectiveSpec::Global(LossConfig::new(ObjectiveConfig::PrecisionAtRecall {
///     target_recall: Target::All(0.9),
/// }));
/// let config = TrainConfig {
///     epochs: 1, batch_size: 4, threads: 1, device: DeviceChoice::Cpu, ..Default::default()
/// };
/// let out = train(&data, &UNetConfig::tiny(), &objective, &config, &mut |_| {})?;
/// assert_eq!(out.history.len(), 1);
/// assert!(out.history[0].multiplier_max.is_some());
/// let eval = evaluate(&out.model, &data.val, &data.test, &EvalConfig::default())?;
/// assert!(eval.test.recall.is_some());
/// # Ok::<(), seg::Error>(())
/// ```
pub fn train(
    splits: &SegSplits,
    model_config: &UNetConfig,
    objective_spec: &ObjectiveSpec,
    config: &TrainConfig,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> Result<TrainOutcome> {
    let started = Instant::now();
    config.validate()?;
    model_config.validate()?;
    objective_spec.validate()?;
    for set in [&splits.train, &splits.val] {
        set.validate()?;
        if set.is_empty() {
            return Err(Error::data(&set.name, "the set holds no image"));
        }
        if set.valid.max().double_value(&[]) == 0.0 {
            return Err(Error::data(
                &set.name,
                "every pixel is ignored (valid is 0 everywhere; check the ignore value)",
            ));
        }
        let channels = set.images.size()[1];
        if channels != model_config.in_channels {
            return Err(Error::config(
                "in_channels",
                format!(
                    "model expects {} channel(s), {} has {channels}",
                    model_config.in_channels, set.name
                ),
            ));
        }
    }
    let device = config.device.resolve()?;
    tch::set_num_threads(config.threads as i32);

    tch::manual_seed(config.seed as i64);
    let mut vs = nn::VarStore::new(device);
    let model = UNet::new(&(vs.root() / "model"), model_config)?;
    let objective = Objective::new(&(vs.root() / "objective"), objective_spec)?;
    let mut adam = Adam::new(
        &vs,
        AdamConfig {
            lr: config.lr,
            ..AdamConfig::default()
        },
    )?;

    let data = data_fingerprint(splits);
    let mut history = Vec::new();
    let mut resumed_from = None;
    if let Some(dir) = &config.checkpoint_dir {
        if let Some(last) = checkpoint::latest(dir)? {
            if !config.resume {
                return Err(Error::config(
                    "checkpoint_dir",
                    format!(
                        "{} already holds checkpoints; set resume or use an empty directory",
                        dir.display()
                    ),
                ));
            }
            let state = checkpoint::read_state(&last)?;
            let mismatch = if state.model != *model_config {
                Some("model config")
            } else if state.objective != *objective_spec {
                Some("objective")
            } else if state.train != config.fingerprint() {
                Some("training settings")
            } else if state.data != data {
                Some("data")
            } else {
                None
            };
            if let Some(what) = mismatch {
                return Err(Error::config(
                    "resume",
                    format!(
                        "checkpoint {} was written with another {what}",
                        last.display()
                    ),
                ));
            }
            let state = checkpoint::load(&last, &mut vs, &mut adam)?;
            tracing::debug!(epoch = state.epoch, path = %last.display(), "resumed");
            resumed_from = Some(state.epoch);
            history = state.history;
        }
    }

    let train_set = to_device(&splits.train, device);
    let batch_config = BatchConfig {
        batch_size: config.batch_size,
        shuffle: true,
        flips: config.flips,
        crop: config.crop,
        seed: config.seed,
    };
    let full = Batches::new(&train_set, &batch_config, 0)?.num_batches();
    let batches_per_epoch = config.max_batches_per_epoch.map_or(full, |m| m.min(full));
    let start_epoch = history.len();
    progress(&Progress::Started {
        start_epoch,
        epochs: config.epochs,
        batches_per_epoch,
    });

    for epoch in start_epoch..config.epochs {
        let epoch_started = Instant::now();
        tch::manual_seed(epoch_seed(config.seed, epoch));
        let batches = Batches::new(&train_set, &batch_config, epoch as u64)?;
        let (mut loss_sum, mut slack_sum, mut slack_count) = (0.0, 0.0, 0usize);
        for (b, batch) in batches.take(batches_per_epoch).enumerate() {
            let logits = model.f_forward_t(&batch.images, true)?;
            let (loss, diagnostics) =
                objective.loss(&logits, &batch.masks, &batch.valid, Pass::Train)?;
            let value = loss.double_value(&[]);
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    what: format!(
                        "training loss {value} at epoch {}, batch {}",
                        epoch + 1,
                        b + 1
                    ),
                });
            }
            adam.zero_grad();
            loss.backward();
            adam.step()?;
            if let Some(d) = &diagnostics {
                objective.dual_step(&loss, d)?;
                if d.slack.numel() > 0 {
                    slack_sum += d.slack.mean(Kind::Double).double_value(&[]);
                    slack_count += 1;
                }
            }
            loss_sum += value;
            progress(&Progress::Batch {
                epoch: epoch + 1,
                batch: b + 1,
                batches: batches_per_epoch,
                loss: value,
            });
        }

        let val_logits = predict_logits(&model, &splits.val, config.eval_batch_size)?;
        let val = validation_metrics(
            &val_logits,
            &splits.val.masks,
            &splits.val.valid,
            config.target_recall,
        )?;
        let multipliers = objective.multipliers();
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss: loss_sum / batches_per_epoch as f64,
            batches: batches_per_epoch,
            multiplier_max: multipliers
                .as_ref()
                .map(|m| m.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            multiplier_mean: multipliers
                .as_ref()
                .map(|m| m.iter().sum::<f64>() / m.len() as f64),
            slack: (slack_count > 0).then(|| slack_sum / slack_count as f64),
            val_precision_at_target_recall: val.precision_at_target_recall,
            val_ap: val.ap,
            val_iou: val.iou,
            val_threshold_logit: val.threshold.threshold_logit,
            seconds: epoch_started.elapsed().as_secs_f64(),
        };
        tracing::debug!(?record, "epoch done");
        history.push(record);
        if let Some(dir) = &config.checkpoint_dir {
            let state = CheckpointState {
                version: FORMAT_VERSION,
                epoch: epoch + 1,
                adam_steps: adam.steps(),
                seed: config.seed,
                model: model_config.clone(),
                objective: objective_spec.clone(),
                train: config.fingerprint(),
                data: data.clone(),
                history: history.clone(),
            };
            checkpoint::save(dir, &vs, &adam, &state)?;
        }
        progress(&Progress::Epoch(
            history.last().expect("a record was just pushed"),
        ));
    }

    Ok(TrainOutcome {
        vs,
        model,
        objective,
        history,
        resumed_from,
        seconds: started.elapsed().as_secs_f64(),
    })
}
