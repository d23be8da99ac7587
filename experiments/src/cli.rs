//! Command-line arguments and dispatch.
use clap::{Parser, Subcommand};

use crate::eval_scores;

/// Global-objective experiments: train, compare, evaluate, report.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Exact metrics (ROC-AUC, AP, P@R, R@P) of a CSV of scores and labels, as JSON.
    EvalScores(eval_scores::EvalScoresArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::EvalScores(args) => eval_scores::run(&args),
    }
}
