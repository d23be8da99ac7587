//! `experiments`: runs the comparisons of global-objective losses against BCE,
//! evaluates score files, and writes reports. Parsing lives in `cli`, work in the
//! subcommand modules; `main` only maps errors to exit codes.
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
            ExitCode::from(1)
        }
    }
}
