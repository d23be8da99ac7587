//! The suite configuration: what a TOML file holds, the built-in presets and validation.
//!
//! A suite is a list of experiments. Each experiment names one data set, the models,
//! the losses, the targets, the training budget and the number of seeds; the runner
//! expands it into cells (one model, one loss, one training target, one seed each).
//!
//! ```toml
//! name = "my-suite"
//! threads = 2
//!
//! [[experiment]]
//! name = "toy"
//! seeds = 3
//! losses = ["bce", "precision_at_recall"]
//! recall_targets = [0.98]
//! data = { kind = "toy" }
//! models = [{ name = "linear", arch = { kind = "linear" } }]
//! train = { epochs = 150, learning_rate = 1.0, dual_rate = 15.0 }
//! ```
use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The whole suite, as read from TOML or built from a preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteConfig {
    /// Name of the suite; the default run folder is `<name>-<config hash>`.
    pub name: String,
    /// CPU threads for libtorch (defaults to 2).
    #[serde(default = "default_threads")]
    pub threads: i64,
    /// Hyper-parameters shared by every loss.
    #[serde(default)]
    pub loss_params: LossParams,
    /// The experiments, run in order.
    #[serde(rename = "experiment")]
    pub experiments: Vec<ExperimentConfig>,
}

fn default_threads() -> i64 {
    2
}

/// One experiment: a data set crossed with models, losses, targets and seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Unique name, used in cell ids and report headings.
    pub name: String,
    /// Number of seeds (seeds are `0..seeds`).
    pub seeds: usize,
    /// Losses trained with the same model and budget.
    pub losses: Vec<LossKind>,
    /// Recall targets: P@R losses train for each; every model is evaluated at each.
    #[serde(default)]
    pub recall_targets: Vec<f64>,
    /// Precision targets: R@P losses train for each; every model is evaluated at each.
    #[serde(default)]
    pub precision_targets: Vec<f64>,
    /// The data set.
    pub data: DataConfig,
    /// The models; each one may restrict the losses it is trained with.
    pub models: Vec<ModelConfig>,
    /// The training budget.
    pub train: TrainParams,
}

/// The data set of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// The 2-D mixture of four Gaussians of the reference (§8); no parameter.
    Toy {},
    /// Fashion-MNIST 2×2 mosaics; the mask marks the items of the positive classes
    /// (`seg::data::fashion`).
    Fashion {
        /// Mosaics in the training split.
        train: usize,
        /// Mosaics in the validation split (carved from the official train images).
        val: usize,
        /// Mosaics in the test split (from the official test images).
        test: usize,
        /// Positive classes by name, e.g. `["Shirt"]`.
        positive: Vec<String>,
        /// Classes allowed into the mosaics (empty = all ten).
        #[serde(default)]
        pool: Vec<String>,
        /// Fraction of positive-class images kept (makes positives rarer); defaults to 1.
        #[serde(default = "one")]
        positive_keep: f64,
        /// Invert the mask: every pixel not on a positive item is positive.
        #[serde(default)]
        inverted: bool,
    },
    /// The StarDist nucleus image: three quadrants to train, the fourth to test.
    Stardist {
        /// Side of the square training crops.
        crop: i64,
        /// Crops per training epoch.
        crops_per_epoch: usize,
    },
    /// The Caravan insurance table (6% positives), standardized.
    Caravan {
        /// Fraction of the rows held out for validation.
        val_fraction: f64,
    },
}

/// Which part of the suite a data set belongs to (`--parts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The 2-D toy.
    Toy,
    /// Fashion-MNIST mosaics.
    Fashion,
    /// The StarDist image.
    Stardist,
    /// Tabular data (Caravan).
    Tabular,
}

impl Part {
    /// All parts, in suite order.
    pub const ALL: [Part; 4] = [Part::Toy, Part::Fashion, Part::Stardist, Part::Tabular];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Part::Toy => "toy",
            Part::Fashion => "fashion",
            Part::Stardist => "stardist",
            Part::Tabular => "tabular",
        }
    }

    /// Parses a `--parts` item.
    pub fn parse(s: &str) -> anyhow::Result<Part> {
        Part::ALL
            .into_iter()
            .find(|p| p.name() == s.trim())
            .with_context(|| {
                format!("unknown part {s:?}: expected one of toy, fashion, stardist, tabular")
            })
    }
}

impl DataConfig {
    /// The `seg` mosaic config of a Fashion data set (`None` for other data sets).
    pub fn mosaic_config(&self, seed: u64) -> Option<seg::data::fashion::MosaicConfig> {
        match self {
            DataConfig::Fashion {
                train,
                val,
                test,
                positive,
                pool,
                positive_keep,
                inverted,
            } => Some(seg::data::fashion::MosaicConfig {
                positive: positive.clone(),
                pool: pool.clone(),
                positive_keep: *positive_keep,
                invert: *inverted,
                n_train: *train,
                n_val: *val,
                n_test: *test,
                seed,
                ..Default::default()
            }),
            _ => None,
        }
    }

    /// The suite part this data set belongs to.
    pub fn part(&self) -> Part {
        match self {
            DataConfig::Toy {} => Part::Toy,
            DataConfig::Fashion { .. } => Part::Fashion,
            DataConfig::Stardist { .. } => Part::Stardist,
            DataConfig::Caravan { .. } => Part::Tabular,
        }
    }
}

/// A model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Name used in cell ids and reports, e.g. `tiny`.
    pub name: String,
    /// The architecture, e.g. `{ kind = "unet", depth = 2, base_channels = 8 }`.
    pub arch: Arch,
    /// If set, only these losses (a subset of the experiment's) train this model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub losses: Option<Vec<LossKind>>,
}

/// A model architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arch {
    /// Linear model `x·w + b` (toy and tabular).
    Linear,
    /// Multilayer perceptron with ReLU hidden layers (tabular).
    Mlp {
        /// Widths of the hidden layers.
        hidden: Vec<i64>,
    },
    /// U-Net (segmentation).
    Unet {
        /// Number of down-sampling levels.
        depth: i64,
        /// Channels of the first level (doubled at each level).
        base_channels: i64,
    },
}

/// The training budget of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainParams {
    /// Epochs (the toy: full-batch gradient-descent iterations).
    pub epochs: usize,
    /// Minibatch size (ignored by the toy, which uses the full batch).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Learning rate (Adam; the toy: plain gradient descent, decayed linearly).
    pub learning_rate: f64,
    /// Multiplier step size (projected dual ascent; the toy: upstream's dual rate factor).
    pub dual_rate: f64,
}

fn one() -> f64 {
    1.0
}

fn default_batch_size() -> usize {
    32
}

/// The losses the suite can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Binary cross-entropy.
    Bce,
    /// BCE with positives weighted by `loss_params.pos_weight`.
    WeightedBce,
    /// Focal loss (`loss_params.focal_gamma`, `focal_alpha`).
    Focal,
    /// Soft Dice (segmentation only).
    Dice,
    /// Precision at a recall target (global objective).
    PrecisionAtRecall,
    /// Recall at a precision target (global objective).
    RecallAtPrecision,
    /// PR-AUC as a sum over precision anchors (global objective).
    PrAuc,
    /// ROC-AUC as TPR@FPR anchors (global objective).
    RocAuc,
}

impl LossKind {
    /// The name in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Bce => "bce",
            LossKind::WeightedBce => "weighted_bce",
            LossKind::Focal => "focal",
            LossKind::Dice => "dice",
            LossKind::PrecisionAtRecall => "precision_at_recall",
            LossKind::RecallAtPrecision => "recall_at_precision",
            LossKind::PrAuc => "pr_auc",
            LossKind::RocAuc => "roc_auc",
        }
    }

    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            LossKind::Bce => "BCE",
            LossKind::WeightedBce => "weighted BCE",
            LossKind::Focal => "focal",
            LossKind::Dice => "Dice",
            LossKind::PrecisionAtRecall => "P@R",
            LossKind::RecallAtPrecision => "R@P",
            LossKind::PrAuc => "PR-AUC",
            LossKind::RocAuc => "ROC-AUC",
        }
    }

    /// The kind of target this loss trains for, if any.
    pub fn trains_for(self) -> Option<TargetOn> {
        match self {
            LossKind::PrecisionAtRecall => Some(TargetOn::Recall),
            LossKind::RecallAtPrecision => Some(TargetOn::Precision),
            _ => None,
        }
    }

    /// True for the Lagrangian (global-objective) losses.
    pub fn is_global(self) -> bool {
        matches!(
            self,
            LossKind::PrecisionAtRecall
                | LossKind::RecallAtPrecision
                | LossKind::PrAuc
                | LossKind::RocAuc
        )
    }
}

/// Which rate a target constrains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetOn {
    /// A recall target; the reported metric is precision.
    Recall,
    /// A precision target; the reported metric is recall.
    Precision,
}

/// A target at which models are evaluated (threshold chosen on validation).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Target {
    /// The constrained rate.
    pub on: TargetOn,
    /// Its required value.
    pub value: f64,
}

impl Target {
    /// `recall ≥ 0.9` style text.
    pub fn describe(&self) -> String {
        match self.on {
            TargetOn::Recall => format!("recall ≥ {}", self.value),
            TargetOn::Precision => format!("precision ≥ {}", self.value),
        }
    }
}

/// Hyper-parameters shared by every loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossParams {
    /// Positive-class weight of weighted BCE (defaults to 10).
    pub pos_weight: f64,
    /// Focusing exponent of the focal loss (defaults to 2).
    pub focal_gamma: f64,
    /// Positive-class balance of the focal loss (defaults to 0.25).
    pub focal_alpha: f64,
    /// Anchors of the PR-AUC and ROC-AUC losses (defaults to 5).
    pub num_anchors: usize,
    /// Upper bound of the multipliers, if any (defaults to none).
    pub multiplier_max: Option<f64>,
}

impl Default for LossParams {
    fn default() -> Self {
        LossParams {
            pos_weight: 10.0,
            focal_gamma: 2.0,
            focal_alpha: 0.25,
            num_anchors: 5,
            multiplier_max: None,
        }
    }
}

/// The size of a built-in preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Smoke test: seconds.
    Quick,
    /// The default suite: about 15 minutes on 2 CPU cores.
    Default,
    /// Full sizes, 5 seeds.
    Full,
}

impl SuiteConfig {
    /// Reads and validates a TOML suite file.
    pub fn from_toml_file(path: &Path) -> anyhow::Result<SuiteConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::from_toml_str(&text).with_context(|| format!("invalid config {}", path.display()))
    }

    /// Parses and validates a TOML suite.
    pub fn from_toml_str(text: &str) -> anyhow::Result<SuiteConfig> {
        let config: SuiteConfig = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Keeps only the experiments of the given parts.
    pub fn restrict_to(&mut self, parts: &[Part]) {
        self.experiments.retain(|e| parts.contains(&e.data.part()));
    }

    /// Overrides the number of seeds of every experiment.
    pub fn set_seeds(&mut self, seeds: usize) {
        for e in &mut self.experiments {
            e.seeds = seeds;
        }
    }

    /// Checks every field; the error names the offending field and value.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!(
                "name: must be non-empty ASCII letters, digits, '-' or '_' (got {:?})",
                self.name
            );
        }
        if !(1..=256).contains(&self.threads) {
            bail!("threads: must be in 1..=256 (got {})", self.threads);
        }
        let lp = &self.loss_params;
        positive("loss_params.pos_weight", lp.pos_weight)?;
        if !(lp.focal_gamma.is_finite() && lp.focal_gamma >= 0.0) {
            bail!(
                "loss_params.focal_gamma: must be ≥ 0 (got {})",
                lp.focal_gamma
            );
        }
        if !(lp.focal_alpha > 0.0 && lp.focal_alpha < 1.0) {
            bail!(
                "loss_params.focal_alpha: must be in (0, 1) (got {})",
                lp.focal_alpha
            );
        }
        if lp.num_anchors == 0 || lp.num_anchors > 1000 {
            bail!(
                "loss_params.num_anchors: must be in 1..=1000 (got {})",
                lp.num_anchors
            );
        }
        if let Some(m) = lp.multiplier_max {
            positive("loss_params.multiplier_max", m)?;
        }
        if self.experiments.is_empty() {
            bail!("experiment: the suite has no experiment");
        }
        let mut names = BTreeSet::new();
        for (i, e) in self.experiments.iter().enumerate() {
            let at = format!("experiment[{i}] ({:?})", e.name);
            if !names.insert(e.name.as_str()) {
                bail!("{at}.name: duplicate experiment name");
            }
            e.validate().with_context(|| at.clone())?;
        }
        Ok(())
    }
}

fn positive(field: &str, v: f64) -> anyhow::Result<()> {
    if !(v.is_finite() && v > 0.0) {
        bail!("{field}: must be a finite number > 0 (got {v})");
    }
    Ok(())
}

fn valid_name(field: &str, s: &str) -> anyhow::Result<()> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("{field}: must be non-empty ASCII letters, digits, '-' or '_' (got {s:?})");
    }
    Ok(())
}

impl ExperimentConfig {
    fn validate(&self) -> anyhow::Result<()> {
        valid_name("name", &self.name)?;
        if self.seeds == 0 || self.seeds > 1000 {
            bail!("seeds: must be in 1..=1000 (got {})", self.seeds);
        }
        if self.losses.is_empty() {
            bail!("losses: empty");
        }
        for (field, targets) in [
            ("recall_targets", &self.recall_targets),
            ("precision_targets", &self.precision_targets),
        ] {
            for &t in targets.iter() {
                if !(t > 0.0 && t < 1.0) {
                    bail!("{field}: every target must be in (0, 1) (got {t})");
                }
            }
        }
        if self.recall_targets.is_empty() && self.precision_targets.is_empty() {
            bail!("recall_targets: give at least one recall or precision target");
        }
        let part = self.data.part();
        for &l in &self.losses {
            match l.trains_for() {
                Some(TargetOn::Recall) if self.recall_targets.is_empty() => {
                    bail!(
                        "recall_targets: loss {} needs at least one recall target",
                        l.name()
                    )
                }
                Some(TargetOn::Precision) if self.precision_targets.is_empty() => bail!(
                    "precision_targets: loss {} needs at least one precision target",
                    l.name()
                ),
                _ => {}
            }
            let ok = match part {
                Part::Toy => matches!(l, LossKind::Bce | LossKind::PrecisionAtRecall),
                Part::Tabular => !matches!(l, LossKind::Dice | LossKind::Focal),
                Part::Fashion | Part::Stardist => true,
            };
            if !ok {
                bail!(
                    "losses: {} is not supported on the {} part",
                    l.name(),
                    part.name()
                );
            }
        }
        match &self.data {
            DataConfig::Toy {} => {}
            DataConfig::Fashion {
                train, val, test, ..
            } => {
                for (f, v) in [
                    ("data.train", *train),
                    ("data.val", *val),
                    ("data.test", *test),
                ] {
                    if v == 0 || v > 1_000_000 {
                        bail!("{f}: must be in 1..=1000000 (got {v})");
                    }
                }
                self.data
                    .mosaic_config(0)
                    .expect("fashion")
                    .validate()
                    .map_err(|e| anyhow::anyhow!("data: {e}"))?;
            }
            DataConfig::Stardist {
                crop,
                crops_per_epoch,
            } => {
                if !(8..=512).contains(crop) {
                    bail!("data.crop: must be in 8..=512 (got {crop})");
                }
                if *crops_per_epoch == 0 {
                    bail!("data.crops_per_epoch: must be ≥ 1 (got 0)");
                }
            }
            DataConfig::Caravan { val_fraction } => {
                if !(*val_fraction > 0.0 && *val_fraction < 0.9) {
                    bail!("data.val_fraction: must be in (0, 0.9) (got {val_fraction})");
                }
            }
        }
        if self.models.is_empty() {
            bail!("models: empty");
        }
        let mut names = BTreeSet::new();
        for (i, m) in self.models.iter().enumerate() {
            valid_name(&format!("models[{i}].name"), &m.name)?;
            if !names.insert(m.name.as_str()) {
                bail!("models[{i}].name: duplicate model name {:?}", m.name);
            }
            let ok = match (&m.arch, part) {
                (
                    Arch::Unet {
                        depth,
                        base_channels,
                    },
                    Part::Fashion | Part::Stardist,
                ) => {
                    if !(1..=5).contains(depth) {
                        bail!("models[{i}].depth: must be in 1..=5 (got {depth})");
                    }
                    if !(1..=512).contains(base_channels) {
                        bail!(
                            "models[{i}].base_channels: must be in 1..=512 (got {base_channels})"
                        );
                    }
                    true
                }
                (Arch::Linear, Part::Toy | Part::Tabular) => true,
                (Arch::Mlp { hidden }, Part::Tabular) => {
                    if hidden.iter().any(|&h| !(1..=65536).contains(&h)) {
                        bail!("models[{i}].hidden: widths must be in 1..=65536 (got {hidden:?})");
                    }
                    true
                }
                _ => false,
            };
            if !ok {
                bail!(
                    "models[{i}].kind: {:?} does not fit the {} part",
                    m.arch,
                    part.name()
                );
            }
            if let Some(ls) = &m.losses {
                if let Some(l) = ls.iter().find(|l| !self.losses.contains(l)) {
                    bail!(
                        "models[{i}].losses: {} is not in the experiment's losses",
                        l.name()
                    );
                }
            }
        }
        let t = &self.train;
        if t.epochs == 0 || t.epochs > 100_000 {
            bail!("train.epochs: must be in 1..=100000 (got {})", t.epochs);
        }
        if t.batch_size == 0 {
            bail!("train.batch_size: must be ≥ 1 (got 0)");
        }
        positive("train.learning_rate", t.learning_rate)?;
        positive("train.dual_rate", t.dual_rate)?;
        Ok(())
    }

    /// Every evaluation target of this experiment.
    pub fn targets(&self) -> Vec<Target> {
        let r = self.recall_targets.iter().map(|&value| Target {
            on: TargetOn::Recall,
            value,
        });
        let p = self.precision_targets.iter().map(|&value| Target {
            on: TargetOn::Precision,
            value,
        });
        r.chain(p).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate() {
        for p in [Preset::Quick, Preset::Default, Preset::Full] {
            let c = SuiteConfig::preset(p);
            c.validate().unwrap();
            let text = toml::to_string(&c).unwrap();
            assert_eq!(SuiteConfig::from_toml_str(&text).unwrap(), c);
        }
    }

    #[test]
    fn errors_name_the_field() {
        let mut c = SuiteConfig::preset(Preset::Quick);
        c.experiments[0].seeds = 0;
        let e = format!("{:#}", c.validate().unwrap_err());
        assert!(e.contains("seeds"), "{e}");
        let mut c = SuiteConfig::preset(Preset::Quick);
        c.experiments[0].recall_targets = vec![1.5];
        let e = format!("{:#}", c.validate().unwrap_err());
        assert!(e.contains("recall_targets") && e.contains("1.5"), "{e}");
    }
}
