//! `experiments suite`: resolves the suite, runs the unfinished cells of this shard with
//! progress bars and a log file, and writes the report.
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cells::{self, Shard, fnv1a};
use crate::config::{Part, Preset, SuiteConfig};
use crate::parts;
use crate::report;
use crate::rundir::{EpochLog, EpochWriter, RunDir};

/// Some cells of a suite failed (the others are stored and the report is written).
#[derive(Debug)]
pub struct CellsFailed {
    /// How many.
    pub count: usize,
    /// The log file with their errors.
    pub log: PathBuf,
    /// Their keys.
    pub keys: Vec<String>,
}

impl std::fmt::Display for CellsFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cells failed (see {}): {}",
            self.count,
            self.log.display(),
            self.keys.join(", ")
        )
    }
}

impl std::error::Error for CellsFailed {}

/// Arguments of `suite`.
#[derive(Debug, Clone, clap::Args)]
pub struct SuiteArgs {
    /// Smoke-test sizes (seconds).
    #[arg(long, conflicts_with_all = ["full", "config"])]
    pub quick: bool,
    /// Full data sizes and 5 seeds (hours on 2 CPU cores).
    #[arg(long, conflicts_with = "config")]
    pub full: bool,
    /// A TOML suite file instead of a built-in preset (see docs/experiments.md).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Parent folder of run directories.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
    /// The run directory itself (default: OUT/NAME-HASH, with -shardIofN for a shard).
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// Only these parts, comma-separated: toy,fashion,stardist,tabular.
    #[arg(long, value_delimiter = ',')]
    pub parts: Option<Vec<String>>,
    /// Run only the cells of shard i of n (1-based), e.g. 2/4.
    #[arg(long, value_name = "i/n")]
    pub shard: Option<String>,
    /// Override the number of seeds of every experiment.
    #[arg(long)]
    pub seeds: Option<usize>,
    /// No progress bars and no summary on the terminal.
    #[arg(long)]
    pub quiet: bool,
}

/// The resolved suite: presets, `--config`, `--parts` and `--seeds` applied, validated.
pub fn resolve(args: &SuiteArgs) -> anyhow::Result<SuiteConfig> {
    let mut suite = match &args.config {
        Some(path) => SuiteConfig::from_toml_file(path)?,
        None if args.quick => SuiteConfig::preset(Preset::Quick),
        None if args.full => SuiteConfig::preset(Preset::Full),
        None => SuiteConfig::preset(Preset::Default),
    };
    if let Some(parts) = &args.parts {
        let parts = parts
            .iter()
            .map(|p| Part::parse(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        suite.restrict_to(&parts);
        if suite.experiments.is_empty() {
            bail!("--parts: the suite has no experiment in {parts:?}");
        }
    }
    if let Some(seeds) = args.seeds {
        suite.set_seeds(seeds);
    }
    suite.validate().context("invalid suite")?;
    Ok(suite)
}

/// Default run directory of a suite: `<out>/<name>-<8 hex digits of its hash>[-shardIofN]`.
pub fn default_run_dir(
    out: &std::path::Path,
    suite: &SuiteConfig,
    shard: Option<Shard>,
) -> PathBuf {
    let json = serde_json::to_string(suite).expect("suite should serialize");
    let mut name = format!("{}-{:08x}", suite.name, fnv1a(json.as_bytes()) as u32);
    if let Some(s) = shard {
        name.push_str(&format!("-shard{}of{}", s.index, s.count));
    }
    out.join(name)
}

/// Sends tracing events to the run's log file (appending).
fn init_logging(run: &RunDir) -> anyhow::Result<()> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(run.log_path())
        .with_context(|| format!("cannot open {}", run.log_path().display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("EXPERIMENTS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second initialization (tests calling twice in one process) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
    Ok(())
}

/// Progress bars for one cell: epochs and batches.
pub struct CellProgress<'a> {
    epoch: &'a ProgressBar,
    batch: &'a ProgressBar,
    writer: EpochWriter,
}

impl CellProgress<'_> {
    /// Starts epoch `epoch` (1-based) of `epochs`, with `batches` batches.
    pub fn start_epoch(&self, epoch: usize, epochs: usize, batches: usize) {
        self.epoch.set_length(epochs as u64);
        self.epoch.set_position(epoch.saturating_sub(1) as u64);
        self.batch.set_length(batches as u64);
        self.batch.set_position(0);
    }

    /// One batch done (`done` batches of the epoch so far).
    pub fn batch_done(&self, done: usize) {
        self.batch.set_position(done as u64);
    }

    /// Records a finished epoch in the cell's epoch log.
    pub fn end_epoch(&mut self, record: &EpochLog) -> anyhow::Result<()> {
        self.epoch.set_position(record.epoch as u64);
        self.epoch.set_message(format!("loss {:.4}", record.loss));
        tracing::debug!(epoch = record.epoch, loss = record.loss, "epoch");
        self.writer.write(record)
    }
}

/// Runs `suite` (see [`SuiteArgs`]); returns the run directory.
pub fn run(args: &SuiteArgs) -> anyhow::Result<PathBuf> {
    let suite = resolve(args)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let dir = match &args.run_dir {
        Some(d) => d.clone(),
        None => default_run_dir(&args.out, &suite, shard),
    };
    let run = RunDir::create(&dir, &suite)?;
    init_logging(&run)?;
    let all = cells::expand(&suite);
    let mine: Vec<_> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| s.contains(*i)))
        .map(|(_, c)| c)
        .collect();
    let todo: Vec<_> = mine
        .iter()
        .filter(|c| run.load_cell(&c.key()).is_none())
        .collect();
    tracing::info!(
        run_dir = %dir.display(),
        cells = all.len(),
        in_shard = mine.len(),
        to_run = todo.len(),
        "suite {} started",
        suite.name
    );
    let multi = MultiProgress::with_draw_target(if args.quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let bar = |len: usize, template: &str| {
        let b = multi.add(ProgressBar::new(len as u64));
        b.set_style(
            ProgressStyle::with_template(template)
                .expect("progress template should parse")
                .progress_chars("=> "),
        );
        b
    };
    let suite_bar = bar(
        todo.len(),
        "suite  [{bar:30}] {pos}/{len} cells {elapsed_precise} eta {eta} {msg}",
    );
    let epoch_bar = bar(1, "epoch  [{bar:30}] {pos}/{len} {msg}");
    let batch_bar = bar(1, "batch  [{bar:30}] {pos}/{len}");
    suite_bar.enable_steady_tick(Duration::from_millis(500));
    let started = Instant::now();
    let mut failed = Vec::new();
    let mut data = parts::DataCache::default();
    for spec in todo {
        let key = spec.key();
        suite_bar.set_message(spec.readable());
        tracing::info!(cell = %key, "cell started");
        let t0 = Instant::now();
        let outcome = EpochWriter::create(&run.epochs_path(&key)).and_then(|writer| {
            let mut progress = CellProgress {
                epoch: &epoch_bar,
                batch: &batch_bar,
                writer,
            };
            parts::run_cell(spec, &mut data, &mut progress)
        });
        match outcome {
            Ok(mut result) => {
                result.key = key.clone();
                result.seconds = t0.elapsed().as_secs_f64();
                run.store_cell(&result)?;
                tracing::info!(cell = %key, seconds = result.seconds, "cell finished");
            }
            Err(e) => {
                tracing::error!(cell = %key, "cell failed: {e:#}");
                suite_bar.println(format!("cell {key} failed: {e:#}"));
                failed.push(key);
            }
        }
        suite_bar.inc(1);
    }
    suite_bar.finish_and_clear();
    epoch_bar.finish_and_clear();
    batch_bar.finish_and_clear();
    let report = report::write(&run)?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        finished = report.cells_finished,
        expected = report.cells_expected,
        "suite {} done",
        suite.name
    );
    if !args.quiet {
        println!(
            "{} cells of {} finished in {:.0} s; report: {}",
            report.cells_finished,
            report.cells_expected,
            started.elapsed().as_secs_f64(),
            dir.join("report.md").display()
        );
    }
    if !failed.is_empty() {
        return Err(CellsFailed {
            count: failed.len(),
            log: run.log_path(),
            keys: failed,
        }
        .into());
    }
    Ok(dir)
}

/// `experiments merge DIR... --out DIR`: copies the cells of shard run directories (same
/// suite) into one and writes its report.
pub fn merge(dirs: &[PathBuf], out: &std::path::Path) -> anyhow::Result<()> {
    let first = dirs
        .first()
        .context("merge: give at least one run directory")?;
    let suite = RunDir::open(first)?.suite()?;
    let target = RunDir::create(out, &suite)?;
    for d in dirs {
        let run = RunDir::open(d)?;
        if run.suite()? != suite {
            bail!(
                "{} holds a different suite than {}",
                d.display(),
                first.display()
            );
        }
        for spec in cells::expand(&suite) {
            let key = spec.key();
            if let Some(result) = run.load_cell(&key) {
                let epochs = run.epochs_path(&key);
                if epochs.is_file() {
                    let bytes = std::fs::read(&epochs)
                        .with_context(|| format!("cannot read {}", epochs.display()))?;
                    crate::rundir::write_atomic(&target.epochs_path(&key), &bytes)?;
                }
                target.store_cell(&result)?;
            }
        }
    }
    let report = report::write(&target)?;
    println!(
        "merged {} run directories: {}/{} cells; report: {}",
        dirs.len(),
        report.cells_finished,
        report.cells_expected,
        out.join("report.md").display()
    );
    Ok(())
}
