//! Cells: the unit of work of a suite (one experiment, model, loss, training target and
//! seed), their stable keys and the deterministic sharding.
use serde::{Deserialize, Serialize};

use crate::config::{
    DataConfig, ExperimentConfig, LossKind, LossParams, ModelConfig, SuiteConfig, Target, TargetOn,
    TrainParams,
};

/// Everything one training run depends on, fully resolved.
///
/// Its key hashes its JSON form, so a cell keeps its key (and its stored result) as long as
/// nothing it depends on changes, and gets a new one as soon as anything does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSpec {
    /// Experiment name.
    pub experiment: String,
    /// The data set.
    pub data: DataConfig,
    /// The model.
    pub model: ModelConfig,
    /// The loss.
    pub loss: LossKind,
    /// The target the loss trains for (constrained losses only).
    pub train_target: Option<Target>,
    /// The targets at which the trained model is evaluated.
    pub eval_targets: Vec<Target>,
    /// Seed of data order, initialization and augmentation.
    pub seed: u64,
    /// The training budget.
    pub train: TrainParams,
    /// Loss hyper-parameters.
    pub loss_params: LossParams,
    /// libtorch CPU threads.
    pub threads: i64,
}

impl CellSpec {
    /// Stable key: a readable prefix plus 16 hex digits of the FNV-1a hash of the spec.
    pub fn key(&self) -> String {
        let json = serde_json::to_string(self).expect("cell spec should serialize");
        format!("{}-{:016x}", self.readable(), fnv1a(json.as_bytes()))
    }

    /// `experiment-model-loss[-target]-sSEED`.
    pub fn readable(&self) -> String {
        let mut s = format!(
            "{}-{}-{}",
            self.experiment,
            self.model.name,
            self.loss.name()
        );
        if let Some(t) = self.train_target {
            s.push_str(&format!("{}", t.value));
        }
        s.push_str(&format!("-s{}", self.seed));
        s
    }

    /// Loss label with its training target, e.g. `P@R(0.9)`.
    pub fn loss_label(&self) -> String {
        loss_label(self.loss, self.train_target)
    }
}

/// Loss label with its training target, e.g. `P@R(0.9)`.
pub fn loss_label(loss: LossKind, target: Option<Target>) -> String {
    match target {
        Some(t) => format!("{}({})", loss.label(), t.value),
        None => loss.label().to_string(),
    }
}

/// 64-bit FNV-1a: a tiny hash that is the same on every platform and Rust version.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Expands a suite into its cells, in a fixed order (experiment, model, loss, target, seed).
pub fn expand(suite: &SuiteConfig) -> Vec<CellSpec> {
    let mut cells = Vec::new();
    for e in &suite.experiments {
        for m in &e.models {
            for &loss in model_losses(e, m) {
                for train_target in training_targets(e, loss) {
                    let eval_targets = match train_target {
                        Some(t) => vec![t],
                        None => e.targets(),
                    };
                    for seed in 0..e.seeds as u64 {
                        cells.push(CellSpec {
                            experiment: e.name.clone(),
                            data: e.data.clone(),
                            model: ModelConfig {
                                losses: None,
                                ..m.clone()
                            },
                            loss,
                            train_target,
                            eval_targets: eval_targets.clone(),
                            seed,
                            train: e.train.clone(),
                            loss_params: suite.loss_params.clone(),
                            threads: suite.threads,
                        });
                    }
                }
            }
        }
    }
    cells
}

fn model_losses<'a>(e: &'a ExperimentConfig, m: &'a ModelConfig) -> &'a [LossKind] {
    m.losses.as_deref().unwrap_or(&e.losses)
}

fn training_targets(e: &ExperimentConfig, loss: LossKind) -> Vec<Option<Target>> {
    match loss.trains_for() {
        None => vec![None],
        Some(on) => {
            let values = match on {
                TargetOn::Recall => &e.recall_targets,
                TargetOn::Precision => &e.precision_targets,
            };
            values
                .iter()
                .map(|&value| Some(Target { on, value }))
                .collect()
        }
    }
}

/// A `--shard i/n` selection (1-based `index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, 1..=count.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl Shard {
    /// Parses `i/n` with 1 ≤ i ≤ n.
    pub fn parse(s: &str) -> anyhow::Result<Shard> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| anyhow::anyhow!("--shard: expected i/n, e.g. 1/4 (got {s:?})"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("--shard: bad index {i:?}"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("--shard: bad count {n:?}"))?;
        if count == 0 || index == 0 || index > count {
            anyhow::bail!("--shard: need 1 ≤ i ≤ n (got {index}/{count})");
        }
        Ok(Shard { index, count })
    }

    /// Whether the cell at position `position` of the expansion belongs to this shard.
    pub fn contains(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Preset, SuiteConfig};

    #[test]
    fn keys_are_unique_and_stable() {
        let cells = expand(&SuiteConfig::preset(Preset::Default));
        let keys: std::collections::BTreeSet<_> = cells.iter().map(CellSpec::key).collect();
        assert_eq!(keys.len(), cells.len());
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn shards_partition() {
        let n = 7;
        let shards: Vec<_> = (1..=3).map(|i| Shard { index: i, count: 3 }).collect();
        for p in 0..n {
            assert_eq!(shards.iter().filter(|s| s.contains(p)).count(), 1);
        }
        assert!(Shard::parse("0/2").is_err());
        assert!(Shard::parse("3/2").is_err());
        assert_eq!(Shard::parse("2/5").unwrap(), Shard { index: 2, count: 5 });
    }
}
