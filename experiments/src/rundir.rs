//! The run directory: layout, atomic writes, stored cell results and epoch logs.
//!
//! ```text
//! RUN_DIR/
//!   config.toml, config.json   the suite as resolved (presets, --parts, --seeds applied)
//!   log.txt                    tracing log of every invocation (appended)
//!   epochs/<cell key>.jsonl    one JSON object per epoch of a cell
//!   cells/<cell key>.json      the result of a finished cell (written atomically)
//!   report.json, report.md     the report built from cells/ and epochs/
//!   plots/*.png                PR curves, multipliers and slack, training loss
//! ```
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::cells::CellSpec;
use crate::config::{SuiteConfig, Target, TargetOn};

/// The result of one finished cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// The cell key (file name stem).
    pub key: String,
    /// The resolved cell.
    pub spec: CellSpec,
    /// Test metrics at each evaluation target (threshold chosen on validation).
    pub evals: Vec<TargetEval>,
    /// Test average precision (threshold-free).
    #[serde(with = "nan_as_null")]
    pub ap: f64,
    /// Test ROC-AUC (threshold-free).
    #[serde(with = "nan_as_null")]
    pub roc_auc: f64,
    /// Multipliers λ at the end of training (empty for losses without multipliers).
    pub final_multipliers: Vec<f64>,
    /// Test precision-recall curve as `[recall, precision]` points (at most a few hundred).
    pub pr_curve: Vec<[f64; 2]>,
    /// Positive fraction of the test labels (pixels).
    #[serde(with = "nan_as_null")]
    pub test_positive_fraction: f64,
    /// Wall time of the cell in seconds (training and evaluation).
    pub seconds: f64,
}

/// Test metrics at one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetEval {
    /// The target (recall or precision) the validation threshold was chosen for.
    pub target: Target,
    /// The threshold on the probability chosen on validation.
    #[serde(with = "nan_as_null")]
    pub threshold: f64,
    /// Test precision at the threshold.
    #[serde(with = "nan_as_null")]
    pub precision: f64,
    /// Test recall at the threshold.
    #[serde(with = "nan_as_null")]
    pub recall: f64,
    /// Test IoU of the positive class at the threshold.
    #[serde(with = "nan_as_null")]
    pub iou: f64,
    /// Whether validation had a threshold meeting the target at all.
    pub feasible_on_val: bool,
}

impl TargetEval {
    /// The reported metric: precision for a recall target, recall for a precision target.
    pub fn metric(&self) -> f64 {
        match self.target.on {
            TargetOn::Recall => self.precision,
            TargetOn::Precision => self.recall,
        }
    }

    /// The achieved value of the constrained rate on test.
    pub fn achieved(&self) -> f64 {
        match self.target.on {
            TargetOn::Recall => self.recall,
            TargetOn::Precision => self.precision,
        }
    }
}

/// One epoch of one cell (a line of `epochs/<key>.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// Epoch (1-based; the toy: iteration).
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub loss: f64,
    /// Multipliers λ at the end of the epoch.
    pub multipliers: Vec<f64>,
    /// Constraint slack at the end of the epoch (≥ 0 means the surrogate constraint holds).
    pub slack: Vec<f64>,
    /// Validation metric at the training target (or the first target), if computed.
    pub val_metric: Option<f64>,
    /// Validation average precision, if computed.
    pub val_ap: Option<f64>,
    /// Wall time of the epoch in seconds, if measured.
    #[serde(default)]
    pub seconds: Option<f64>,
}

/// A run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// Its root.
    pub root: PathBuf,
}

impl RunDir {
    /// Opens (creating if needed) a run directory for `suite`. An existing directory must
    /// hold the same resolved suite, so that resuming never mixes two suites.
    pub fn create(root: &Path, suite: &SuiteConfig) -> anyhow::Result<RunDir> {
        let dir = RunDir {
            root: root.to_path_buf(),
        };
        for sub in ["cells", "epochs", "plots"] {
            fs::create_dir_all(root.join(sub))
                .with_context(|| format!("cannot create {}", root.join(sub).display()))?;
        }
        let json = serde_json::to_string_pretty(suite).expect("suite should serialize");
        let path = root.join("config.json");
        if path.exists() {
            let stored = dir.suite()?;
            if &stored != suite {
                bail!(
                    "{} holds a different suite (config.json differs); choose another --run-dir",
                    root.display()
                );
            }
        } else {
            write_atomic(&path, json.as_bytes())?;
            let toml = toml::to_string(suite).expect("suite should serialize to TOML");
            write_atomic(&root.join("config.toml"), toml.as_bytes())?;
        }
        Ok(dir)
    }

    /// Opens an existing run directory.
    pub fn open(root: &Path) -> anyhow::Result<RunDir> {
        if !root.join("config.json").is_file() {
            bail!("{} is not a run directory (no config.json)", root.display());
        }
        Ok(RunDir {
            root: root.to_path_buf(),
        })
    }

    /// The stored suite.
    pub fn suite(&self) -> anyhow::Result<SuiteConfig> {
        let path = self.root.join("config.json");
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))
    }

    /// Path of a cell's result.
    pub fn cell_path(&self, key: &str) -> PathBuf {
        self.root.join("cells").join(format!("{key}.json"))
    }

    /// Path of a cell's epoch log.
    pub fn epochs_path(&self, key: &str) -> PathBuf {
        self.root.join("epochs").join(format!("{key}.jsonl"))
    }

    /// The stored result of a cell, if it finished (unreadable files count as unfinished).
    pub fn load_cell(&self, key: &str) -> Option<CellResult> {
        let text = fs::read_to_string(self.cell_path(key)).ok()?;
        let r: CellResult = serde_json::from_str(&text).ok()?;
        (r.key == key).then_some(r)
    }

    /// Stores a cell result atomically.
    pub fn store_cell(&self, result: &CellResult) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(result).expect("cell result should serialize");
        write_atomic(&self.cell_path(&result.key), json.as_bytes())
    }

    /// The epoch log of a cell (empty if missing); malformed lines are an error.
    pub fn load_epochs(&self, key: &str) -> anyhow::Result<Vec<EpochLog>> {
        let path = self.epochs_path(key);
        let Ok(text) = fs::read_to_string(&path) else {
            return Ok(Vec::new());
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .with_context(|| format!("{} line {}: bad epoch record", path.display(), i + 1))
            })
            .collect()
    }

    /// Path of the log file.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("log.txt")
    }
}

/// Appends epoch records of one cell, one JSON object per line.
pub struct EpochWriter {
    file: fs::File,
}

impl EpochWriter {
    /// Starts (truncating) the epoch log of a cell.
    pub fn create(path: &Path) -> anyhow::Result<EpochWriter> {
        let file =
            fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(EpochWriter { file })
    }

    /// Appends one record and flushes it.
    pub fn write(&mut self, record: &EpochLog) -> anyhow::Result<()> {
        let line = serde_json::to_string(record).expect("epoch record should serialize");
        writeln!(self.file, "{line}")?;
        self.file.flush()?;
        Ok(())
    }
}

/// Writes `bytes` to a temporary sibling of `path`, then renames it over `path`, so
/// readers see the old file or the whole new one, never a partial one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

/// Serializes non-finite `f64` (an undefined metric, an infinite threshold) as `null`
/// and reads `null` back as NaN, since JSON has no NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
