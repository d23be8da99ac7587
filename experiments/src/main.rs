//! `experiments`: runs the comparisons of global-objective losses against BCE,
//! evaluates score files, and writes reports. Parsing lives in `cli`, work in the
//! subcommand modules; `main` only maps errors to exit codes: 0 success, 1 an error
//! (bad config, missing data, I/O), 3 a suite that ran but had failed cells (their
//! results are missing from the report; re-running resumes them). Clap uses 2 for
//! usage errors.
use std::process::ExitCode;

use clap::Parser;

mod cells;
mod cli;
mod config;
mod eval_scores;
mod parts;
mod plots;
mod presets;
mod report;
mod rundir;
mod runner;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.downcast_ref::<runner::CellsFailed>().is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
