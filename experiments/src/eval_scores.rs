//! `experiments eval-scores FILE`: exact metrics of a CSV of scores and labels.
//!
//! The file is read row by row (never whole into memory) into a
//! [`metrics::Accumulator`]; the metrics come from the `metrics` crate, this module
//! only parses, validates targets and prints JSON.
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, anyhow, bail};
use metrics::{Accumulator, Metric, OperatingPoint, ScoreScale};
use serde_json::{Value as Json, json};

/// How the scores in the file are to be read (declared, never guessed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScoresArg {
    /// Real-valued logits.
    Logits,
    /// Probabilities in [0, 1].
    Probabilities,
}

impl From<ScoresArg> for ScoreScale {
    fn from(s: ScoresArg) -> Self {
        match s {
            ScoresArg::Logits => ScoreScale::Logits,
            ScoresArg::Probabilities => ScoreScale::Probabilities,
        }
    }
}

/// Arguments of `eval-scores`.
#[derive(Debug, clap::Args)]
pub struct EvalScoresArgs {
    /// CSV file with columns `score,label[,weight]`; the header is optional (a first
    /// row in which no field is a number is taken as the header).
    pub file: PathBuf,
    /// Report the best precision subject to recall >= R (repeatable).
    #[arg(long = "at-recall", value_name = "R")]
    pub at_recall: Vec<f64>,
    /// Report the best recall subject to precision >= P (repeatable).
    #[arg(long = "at-precision", value_name = "P")]
    pub at_precision: Vec<f64>,
    /// What the scores are; defaults to probabilities (scores outside [0, 1] are then
    /// an error, not reinterpreted).
    #[arg(long, value_enum, default_value = "probabilities")]
    pub scores: ScoresArg,
    /// Use the binned accumulator with this many bins over [--low, --high] (O(bins)
    /// memory) instead of the exact one.
    #[arg(long, value_name = "T")]
    pub bins: Option<usize>,
    /// Lower end of the binned score range.
    #[arg(long, default_value_t = 0.0, requires = "bins")]
    pub low: f64,
    /// Upper end of the binned score range.
    #[arg(long, default_value_t = 1.0, requires = "bins")]
    pub high: f64,
}

/// Evaluates the scores in `args.file` and prints the metrics as JSON on stdout.
pub fn run(args: &EvalScoresArgs) -> anyhow::Result<()> {
    let report = evaluate(args)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).context("while writing the JSON report")?
    );
    Ok(())
}

/// Row counts gathered while reading (unweighted).
#[derive(Debug, Default)]
struct Rows {
    n: usize,
    positives: usize,
    weighted: bool,
}

fn evaluate(args: &EvalScoresArgs) -> anyhow::Result<Json> {
    for &r in &args.at_recall {
        check_target("--at-recall", r)?;
    }
    for &p in &args.at_precision {
        check_target("--at-precision", p)?;
    }
    let scale = ScoreScale::from(args.scores);
    let mut acc = match args.bins {
        None => Accumulator::exact(scale),
        Some(bins) => Accumulator::binned(bins, args.low, args.high, scale)
            .context("invalid --bins / --low / --high")?,
    };
    let rows = read(&args.file, &mut acc)?;
    if rows.n == 0 {
        bail!("{}: no data rows", args.file.display());
    }
    let clamped = acc.clamped();
    let bound = acc.auc_error_bound();
    let ranking = acc
        .finish()
        .with_context(|| format!("{}: every weight is 0", args.file.display()))?;
    let at_recall = points(&args.at_recall, |t| ranking.precision_at_recall(t))?;
    let at_precision = points(&args.at_precision, |t| ranking.recall_at_precision(t))?;
    let mut report = json!({
        "file": args.file.display().to_string(),
        "scores": scale.name(),
        "mode": if args.bins.is_some() { "binned" } else { "exact" },
        "n": rows.n,
        "positives": rows.positives,
        "negatives": rows.n - rows.positives,
        "roc_auc": metric(ranking.roc_auc()),
        "average_precision": metric(ranking.average_precision()),
        "precision_at_recall": at_recall,
        "recall_at_precision": at_precision,
    });
    let obj = report.as_object_mut().expect("report is an object");
    if let Some(reason) = ranking.roc_auc().undefined {
        obj.insert("roc_auc_undefined".into(), json!(reason));
    }
    if let Some(reason) = ranking.average_precision().undefined {
        obj.insert("average_precision_undefined".into(), json!(reason));
    }
    if rows.weighted {
        obj.insert("positive_weight".into(), json!(ranking.positives()));
        obj.insert("negative_weight".into(), json!(ranking.negatives()));
    }
    if let Some(bins) = args.bins {
        obj.insert(
            "binned".into(),
            json!({"bins": bins, "low": args.low, "high": args.high, "clamped": clamped,
                   "roc_auc_error_bound": bound}),
        );
    }
    Ok(report)
}

fn check_target(flag: &str, v: f64) -> anyhow::Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        bail!("{flag} {v} is outside [0, 1]")
    }
}

fn metric(m: Metric) -> Json {
    json!(m.get())
}

fn points(
    targets: &[f64],
    f: impl Fn(f64) -> metrics::Result<OperatingPoint>,
) -> anyhow::Result<Vec<Json>> {
    targets
        .iter()
        .map(|&t| {
            let p = f(t)?;
            let mut j = json!({
                "target": p.target,
                "value": if p.value.is_nan() { Json::Null } else { json!(p.value) },
                "threshold": p.threshold.map(threshold_json),
                "feasible": p.feasible,
                "achieved": p.achieved,
            });
            if let Some(reason) = p.undefined {
                j["undefined"] = json!(reason);
            }
            Ok(j)
        })
        .collect()
}

/// A threshold as JSON: a number, or the string `"inf"` / `"-inf"` for an infinite
/// logit (JSON has no infinity, and `null` means "no threshold").
fn threshold_json(t: f64) -> Json {
    if t.is_finite() {
        json!(t)
    } else if t > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

/// Streams the CSV rows into `acc`; errors name the file and line.
fn read(path: &Path, acc: &mut Accumulator) -> anyhow::Result<Rows> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let starts = Rc::new(RefCell::new(VecDeque::new()));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(LineStarts::new(
            BufReader::with_capacity(1 << 20, file),
            Rc::clone(&starts),
        ));
    let mut rows = Rows::default();
    let mut columns = None;
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let more = reader
            .read_record(&mut record)
            .with_context(|| format!("{}: malformed CSV", path.display()))?;
        if !more {
            break;
        }
        // csv's own line count skips blank lines (and CRLF ones entirely), so the
        // line is the first non-blank line starting at or after the record's offset.
        let from = record.position().map_or(0, |p| p.byte());
        let line = {
            let mut q = starts.borrow_mut();
            while q.front().is_some_and(|&(offset, _)| offset < from) {
                q.pop_front();
            }
            q.front().map_or(0, |&(_, line)| line)
        };
        let at = || format!("{}:{line}", path.display());
        if first {
            first = false;
            if record.iter().all(|f| f.parse::<f64>().is_err()) {
                continue; // header: no field is a number
            }
        }
        if record.len() == 1 && record.get(0) == Some("") {
            continue; // blank line
        }
        let width = record.len();
        if !(2..=3).contains(&width) {
            bail!(
                "{}: expected 2 or 3 columns (score,label[,weight]), got {width}",
                at()
            );
        }
        match columns {
            None => columns = Some(width),
            Some(c) if c != width => {
                bail!("{}: {width} columns where earlier rows have {c}", at())
            }
            Some(_) => {}
        }
        let field = |i: usize, name: &str| -> anyhow::Result<f64> {
            let text = &record[i];
            text.parse::<f64>()
                .map_err(|_| anyhow!("{}: {name} {text:?} is not a number", at()))
        };
        let score = field(0, "score")?;
        let label = field(1, "label")?;
        let weight = if width == 3 { field(2, "weight")? } else { 1.0 };
        acc.push_one(score, label, weight)
            .map_err(|e| anyhow!("{}: {}", at(), row_error(&e)))?;
        rows.n += 1;
        rows.positives += usize::from(label == 1.0);
        rows.weighted |= width == 3;
    }
    Ok(rows)
}

/// A reader that notes, for every line that does not start with `\r` or `\n`, its
/// byte offset and 1-based line number as the bytes stream past (only the lines
/// still ahead of the parser are kept: a few kilobytes' worth).
struct LineStarts<R> {
    inner: R,
    /// Offset of the next byte to be read.
    offset: u64,
    /// Newlines seen so far.
    newlines: u64,
    /// Whether the next byte starts a line.
    at_line_start: bool,
    starts: Rc<RefCell<VecDeque<(u64, u64)>>>,
}

impl<R> LineStarts<R> {
    fn new(inner: R, starts: Rc<RefCell<VecDeque<(u64, u64)>>>) -> Self {
        LineStarts {
            inner,
            offset: 0,
            newlines: 0,
            at_line_start: true,
            starts,
        }
    }
}

impl<R: Read> Read for LineStarts<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut starts = self.starts.borrow_mut();
        for (i, &b) in buf[..n].iter().enumerate() {
            if self.at_line_start && b != b'\n' && b != b'\r' {
                starts.push_back((self.offset + i as u64, self.newlines + 1));
            }
            self.at_line_start = b == b'\n';
            self.newlines += u64::from(b == b'\n');
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The reason a row is rejected, without the stream index (the line says where).
fn row_error(e: &metrics::Error) -> String {
    use metrics::Error as E;
    match e {
        E::NanScore { .. } => "score is NaN".into(),
        E::ScoreOutOfRange { value, .. } => {
            format!("score {value} is outside [0, 1] (pass --scores logits for logits)")
        }
        E::InvalidLabel { value, .. } => format!("label {value} is not 0 or 1"),
        E::InvalidWeight { value, .. } => format!("weight {value} is not finite and >= 0"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binned_and_exact_modes_agree_on_grid_scores() {
        // Scores on the bin edges: binning loses nothing.
        let dir = std::env::temp_dir().join(format!("eval-scores-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("grid.csv");
        std::fs::write(&path, "0.25,1\n0.5,0\n0.75,1\n0.0,0\n1.0,1\n0.5,1\n").unwrap();
        let mut args = EvalScoresArgs {
            file: path.clone(),
            at_recall: vec![0.5],
            at_precision: vec![],
            scores: ScoresArg::Probabilities,
            bins: None,
            low: 0.0,
            high: 1.0,
        };
        let exact = evaluate(&args).unwrap();
        args.bins = Some(4);
        let binned = evaluate(&args).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(exact["roc_auc"], binned["roc_auc"]);
        assert_eq!(exact["precision_at_recall"], binned["precision_at_recall"]);
        assert_eq!(binned["binned"]["clamped"], 0);
    }
}
