//! Command-line arguments and dispatch.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::eval_scores;
use crate::report;
use crate::rundir::RunDir;
use crate::runner;

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
    /// Run a suite of comparisons (default: the built-in suite, about 8 minutes on 2 cores)
    /// into a run directory; re-running the same command resumes unfinished cells.
    Suite(runner::SuiteArgs),
    /// Rebuild report.json, report.md and the plots of a run directory from its files.
    Report {
        /// The run directory.
        run_dir: PathBuf,
    },
    /// Merge the cells of shard run directories of one suite and write one report.
    Merge {
        /// The shard run directories.
        #[arg(required = true)]
        run_dirs: Vec<PathBuf>,
        /// The merged run directory (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Exact metrics (ROC-AUC, AP, P@R, R@P) of a CSV of scores and labels, as JSON.
    EvalScores(eval_scores::EvalScoresArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Suite(args) => runner::run(&args).map(|_| ()),
        Command::Report { run_dir } => {
            let report = report::write(&RunDir::open(&run_dir)?)?;
            println!(
                "{}/{} cells; report: {}",
                report.cells_finished,
                report.cells_expected,
                run_dir.join("report.md").display()
            );
            Ok(())
        }
        Command::Merge { run_dirs, out } => runner::merge(&run_dirs, &out),
        Command::EvalScores(args) => eval_scores::run(&args),
    }
}
