//! Training checkpoints: one directory per completed epoch, written atomically.
//!
//! Layout under the checkpoint directory `D`:
//!
//! ```text
//! D/epoch-0003/vars.safetensors    every VarStore variable: model weights, batch-norm
//!                                  running statistics, multipliers, anchor biases,
//!                                  label-prior counters
//! D/epoch-0003/adam.safetensors    Adam's moment estimates (adam_m.*, adam_v.*)
//! D/epoch-0003/state.json          CheckpointState: epoch, Adam step count, seed,
//!                                  configs, data fingerprint, history
//! D/history.json                   the history alone, for plots (rewritten each epoch)
//! ```
//!
//! Each epoch directory is first written as `D/.tmp-epoch-0003` and renamed into place
//! once complete, so a crash never leaves a half-written checkpoint that looks
//! finished. The two most recent epoch directories are kept.
//!
//! Random state is not stored as generator bytes: the trainer re-seeds tch's generator
//! and the batch order from `(seed, epoch)` at the start of every epoch, so `seed` and
//! `epoch` determine it exactly.
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use crate::model::UNetConfig;
use crate::objective::ObjectiveSpec;
use crate::optim::Adam;
use crate::train::EpochRecord;
use crate::{Error, Result};

/// Format version written into [`CheckpointState::version`].
pub const FORMAT_VERSION: u32 = 1;

/// How many epoch directories are kept.
pub const KEEP: usize = 2;

/// What `state.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// [`FORMAT_VERSION`] at the time of writing.
    pub version: u32,
    /// Number of completed epochs.
    pub epoch: usize,
    /// Adam steps taken.
    pub adam_steps: i64,
    /// The run's seed.
    pub seed: u64,
    /// The model config.
    pub model: UNetConfig,
    /// The objective.
    pub objective: ObjectiveSpec,
    /// The training settings that must not change on resume (see
    /// [`crate::train::TrainConfig::fingerprint`]).
    pub train: serde_json::Value,
    /// Names, sizes and content sums of the training and validation sets (a resume
    /// on other data is refused).
    pub data: String,
    /// One record per completed epoch.
    pub history: Vec<EpochRecord>,
}

/// Name of the directory for `epoch` completed epochs.
fn epoch_dir_name(epoch: usize) -> String {
    format!("epoch-{epoch:04}")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::io(path, source)
}

/// Writes a checkpoint of `vs`, `adam` and `state` for epoch `state.epoch` under `dir`
/// (created if missing) and returns the epoch directory.
///
/// # Errors
/// [`Error::Io`] when a file or directory cannot be written or renamed;
/// [`Error::Torch`] when libtorch cannot serialize a tensor.
pub fn save(
    dir: &Path,
    vs: &nn::VarStore,
    adam: &Adam,
    state: &CheckpointState,
) -> Result<PathBuf> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let name = epoch_dir_name(state.epoch);
    let tmp = dir.join(format!(".tmp-{name}"));
    let target = dir.join(&name);
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir(&tmp).map_err(io(&tmp))?;
    vs.save(tmp.join("vars.safetensors"))?;
    let adam_state = adam.state();
    let refs: Vec<(&str, &Tensor)> = adam_state.iter().map(|(n, t)| (n.as_str(), t)).collect();
    Tensor::write_safetensors(&refs, tmp.join("adam.safetensors"))?;
    let json = serde_json::to_string_pretty(state).expect("checkpoint state should serialize");
    let state_path = tmp.join("state.json");
    fs::write(&state_path, json).map_err(io(&state_path))?;
    if target.exists() {
        fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    fs::rename(&tmp, &target).map_err(io(&target))?;
    write_atomic(
        &dir.join("history.json"),
        &serde_json::to_string_pretty(&state.history).expect("history should serialize"),
    )?;
    prune(dir)?;
    Ok(target)
}

/// Writes `contents` to `path` through a temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, contents).map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// The completed epoch directories under `dir`, oldest first.
fn epoch_dirs(dir: &Path) -> Result<Vec<(usize, PathBuf)>> {
    let mut found = Vec::new();
    if !dir.exists() {
        return Ok(found);
    }
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let Some(epoch) = name
            .to_str()
            .and_then(|n| n.strip_prefix("epoch-"))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if entry.path().is_dir() {
            found.push((epoch, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Removes all but the [`KEEP`] most recent epoch directories.
fn prune(dir: &Path) -> Result<()> {
    let dirs = epoch_dirs(dir)?;
    let excess = dirs.len().saturating_sub(KEEP);
    for (_, path) in dirs.into_iter().take(excess) {
        fs::remove_dir_all(&path).map_err(io(&path))?;
    }
    Ok(())
}

/// The most recent complete epoch directory under `dir`, if any.
///
/// # Errors
/// [`Error::Io`] when `dir` exists but cannot be listed.
pub fn latest(dir: &Path) -> Result<Option<PathBuf>> {
    Ok(epoch_dirs(dir)?.pop().map(|(_, path)| path))
}

/// Reads `state.json` of the epoch directory `path`.
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::Data`] when it does not parse or has
/// another format version.
pub fn read_state(path: &Path) -> Result<CheckpointState> {
    let state_path = path.join("state.json");
    let text = fs::read_to_string(&state_path).map_err(io(&state_path))?;
    let state: CheckpointState = serde_json::from_str(&text)
        .map_err(|e| Error::data(&state_path, format!("cannot parse checkpoint state: {e}")))?;
    if state.version != FORMAT_VERSION {
        return Err(Error::data(
            &state_path,
            format!(
                "format version {}, expected {FORMAT_VERSION}",
                state.version
            ),
        ));
    }
    Ok(state)
}

/// Loads the epoch directory `path` into `vs` and `adam` (whose variables must already
/// exist, built from the same configs) and returns its state.
///
/// # Errors
/// As [`read_state`]; [`Error::Data`] when a variable or an optimizer tensor is missing
/// or has the wrong shape; [`Error::Torch`] when libtorch cannot read a file.
pub fn load(path: &Path, vs: &mut nn::VarStore, adam: &mut Adam) -> Result<CheckpointState> {
    let state = read_state(path)?;
    let vars = path.join("vars.safetensors");
    if !vars.is_file() {
        return Err(Error::data(&vars, "missing checkpoint file"));
    }
    vs.load(&vars)
        .map_err(|e| Error::data(&vars, format!("cannot load variables: {e}")))?;
    let adam_path = path.join("adam.safetensors");
    if !adam_path.is_file() {
        return Err(Error::data(&adam_path, "missing checkpoint file"));
    }
    let tensors = Tensor::read_safetensors(&adam_path)?;
    let device = vs.device();
    let tensors = tensors
        .into_iter()
        .map(|(n, t)| (n, t.to_device(device)))
        .collect();
    adam.load_state(tensors, state.adam_steps, &adam_path)?;
    Ok(state)
}
