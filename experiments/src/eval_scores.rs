//! `experiments eval-scores FILE`.
use std::path::PathBuf;

/// Arguments of `eval-scores`.
#[derive(Debug, clap::Args)]
pub struct EvalScoresArgs {
    /// CSV file with columns `score,label[,weight]`; the header is optional.
    pub file: PathBuf,
}

/// Evaluates the scores in `args.file` and prints the metrics as JSON.
pub fn run(args: &EvalScoresArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "eval-scores is not implemented yet ({})",
        args.file.display()
    )
}
