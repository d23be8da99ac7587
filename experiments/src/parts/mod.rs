//! Runs one cell: loads its data (cached across cells), trains, evaluates.
use std::path::PathBuf;

use seg::classify::ScoreEval;

use crate::cells::CellSpec;
use crate::config::{DataConfig, Target};
use crate::rundir::{CellResult, TargetEval};
use crate::runner::CellProgress;

mod classify;
mod segment;

/// Data loaded once per process and shared by the cells that use it: the last
/// segmentation data set, keyed by its config's JSON.
#[derive(Default)]
pub struct DataCache {
    seg: Option<(String, std::rc::Rc<seg::data::SegSplits>)>,
}

/// The data folder: `$GO_DATA_DIR`, else `.data` under the working directory if it
/// exists, else the `.data` of the workspace this binary was built from.
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GO_DATA_DIR") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from(".data");
    if local.is_dir() {
        return local;
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.data")
}

/// Trains and evaluates one cell.
pub fn run_cell(
    spec: &CellSpec,
    data: &mut DataCache,
    progress: &mut CellProgress<'_>,
) -> anyhow::Result<CellResult> {
    tch::set_num_threads(spec.threads as i32);
    match spec.data {
        DataConfig::Toy {} | DataConfig::Caravan { .. } => classify::run(spec, data, progress),
        DataConfig::Fashion { .. } | DataConfig::Stardist { .. } => {
            segment::run(spec, data, progress)
        }
    }
}

/// Assembles a cell result from an evaluation (key and seconds are filled by the runner).
fn finish(spec: &CellSpec, eval: ScoreEval, multipliers: Vec<f64>) -> CellResult {
    let evals = spec
        .eval_targets
        .iter()
        .zip(eval.at)
        .map(|(&target, at): (&Target, _)| TargetEval {
            target,
            threshold: at.threshold,
            precision: at.precision,
            recall: at.recall,
            iou: at.iou,
            feasible_on_val: at.feasible_on_val,
        })
        .collect();
    CellResult {
        key: String::new(),
        spec: spec.clone(),
        evals,
        ap: eval.ap,
        roc_auc: eval.roc_auc,
        final_multipliers: multipliers,
        pr_curve: eval.pr_curve,
        test_positive_fraction: eval.positive_fraction,
        seconds: 0.0,
    }
}
