//! Times one workload in its own process and prints one JSON line; `side_by_side.py`
//! runs it beside the PyTorch / scikit-learn versions of the same workloads.
//!
//! ```text
//! timings run ID [--reps R] [--min-time S] [--warmup W] [--budget S] [--device cpu|cuda]
//!                [--threads T]   (default 2, as in docs/benchmarks.md)
//! timings gen DIR ID...      write the inputs of these cases for side_by_side.py
//! timings meta               the constants the Python side must mirror (JSON)
//! ```
//!
//! `run` repeats the workload at least R times (default 10) and for at least `--min-time`
//! seconds (default 1; fast cases get many repetitions, so that the median is not at the
//! mercy of one scheduler hiccup on a shared machine), stopping early once `--budget`
//! seconds (default 20) have passed with at least 3 repetitions. It prints `{"id",
//! "device", "threads", "reps", "median_s", "min_s", "p10_s", "p90_s", "rss_before_kb",
//! "peak_kb", "extra_peak_kb", "value"}`: the peak resident set is reset after the
//! inputs are built, so `extra_peak_kb` is what the workload itself adds.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use benches::loss_cases::LossWorkload;
use benches::metric_cases::{BINNED_RANGE, MetricWorkload, STREAM_CHUNK};
use benches::seg_cases::{LEARNING_RATE, SegWorkload, unet_config};
use benches::{Case, THREADS, case, data, memory};
use serde_json::json;
use tch::{Device, Kind};

type Result<T> = benches::Result<T>;

struct RunArgs {
    case: Case,
    reps: usize,
    min_time: Duration,
    warmup: usize,
    budget: Duration,
    device: Device,
    threads: i32,
}

fn parse_run(args: &[String]) -> Result<RunArgs> {
    let mut it = args.iter();
    let id = it.next().ok_or("run needs a case id")?;
    let mut run = RunArgs {
        case: id.parse()?,
        reps: 10,
        min_time: Duration::from_secs(1),
        warmup: 2,
        budget: Duration::from_secs(20),
        device: Device::Cpu,
        threads: THREADS,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--reps" => run.reps = value.parse()?,
            "--warmup" => run.warmup = value.parse()?,
            "--min-time" => run.min_time = Duration::from_secs_f64(value.parse()?),
            "--threads" => run.threads = value.parse()?,
            "--budget" => run.budget = Duration::from_secs_f64(value.parse()?),
            "--device" => {
                run.device = match value.as_str() {
                    "cpu" => Device::Cpu,
                    "cuda" if tch::Cuda::is_available() => Device::Cuda(0),
                    "cuda" => return Err("no CUDA device is available".into()),
                    other => return Err(format!("unknown device {other:?}").into()),
                }
            }
            other => return Err(format!("unknown flag {other:?}").into()),
        }
    }
    if run.reps == 0 {
        return Err("--reps must be at least 1".into());
    }
    Ok(run)
}

/// Waits for queued device work, so that the clock reads finished work.
fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// A built workload behind one call.
type Step = Box<dyn FnMut() -> Result<f64>>;

fn build(case: Case, device: Device) -> Result<Step> {
    Ok(match case {
        Case::Loss { kind, n } => {
            let w = LossWorkload::new(kind, n, device)?;
            Box::new(move || {
                let g = w.step()?;
                // Reading one element forces the (possibly asynchronous) work.
                Ok(g[0].get(0).double_value(&[]))
            })
        }
        Case::Metric { kind, n } => {
            if device != Device::Cpu {
                return Err("metrics run on the CPU only".into());
            }
            let w = MetricWorkload::new(kind, n);
            Box::new(move || w.run())
        }
        Case::SegStep {
            objective,
            batch,
            side,
        } => {
            let mut w = SegWorkload::new(objective, batch, side, device)?;
            Box::new(move || Ok(w.step()?.to_kind(Kind::Double).double_value(&[])))
        }
    })
}

fn run(args: RunArgs) -> Result<serde_json::Value> {
    tch::set_num_threads(args.threads);
    let mut step = build(args.case, args.device)?;
    let rss_before = memory::rss_kb();
    memory::reset_peak();
    let mut value = f64::NAN;
    for _ in 0..args.warmup {
        value = step()?;
    }
    sync(args.device);
    let mut times = Vec::with_capacity(args.reps);
    let started = Instant::now();
    // At most 10⁴ repetitions, whatever the minimum time.
    while times.len() < 10_000 {
        let t = Instant::now();
        value = step()?;
        sync(args.device);
        times.push(t.elapsed().as_secs_f64());
        let elapsed = started.elapsed();
        let enough = times.len() >= args.reps && elapsed >= args.min_time;
        if enough || (elapsed > args.budget && times.len() >= 3) {
            break;
        }
    }
    let peak = memory::peak_kb();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
    };
    Ok(json!({
        "id": args.case.to_string(),
        "device": format!("{:?}", args.device),
        "threads": tch::get_num_threads(),
        "reps": times.len(),
        "p10_s": sorted[sorted.len() / 10],
        "p90_s": sorted[sorted.len() * 9 / 10],
        "median_s": median,
        "min_s": sorted[0],
        "rss_before_kb": rss_before,
        "peak_kb": peak,
        "extra_peak_kb": match (peak, rss_before) {
            (Some(p), Some(b)) => Some(p.saturating_sub(b)),
            _ => None,
        },
        "value": if value.is_finite() { Some(value) } else { None },
    }))
}

/// Writes the inputs of `ids` into `dir` as raw little-endian files.
fn write_inputs(dir: &Path, ids: &[String]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for id in ids {
        match id.parse::<Case>()? {
            Case::Loss { n, .. } => write_scored(dir, "loss", n)?,
            Case::Metric { n, .. } => write_scored(dir, "metrics", n)?,
            Case::SegStep { batch, side, .. } => {
                let b = data::seg_batch(batch, side);
                let stem = format!("seg_B{batch}_S{side}");
                data::write_f32(&dir.join(format!("{stem}.images.f32")), &b.images)?;
                data::write_f32(&dir.join(format!("{stem}.masks.f32")), &b.masks)?;
            }
        }
    }
    Ok(())
}

/// `DIR/NAME_N{n}.logits.f32` and `DIR/NAME_N{n}.labels.u8`, skipped when present.
fn write_scored(dir: &Path, name: &str, n: usize) -> Result<()> {
    let logits = dir.join(format!("{name}_N{n}.logits.f32"));
    let labels = dir.join(format!("{name}_N{n}.labels.u8"));
    if logits.exists() && labels.exists() {
        return Ok(());
    }
    let s = data::scored(name, n);
    data::write_f32(&logits, &s.logits)?;
    data::write_u8(&labels, &s.labels)?;
    Ok(())
}

fn meta() -> Result<serde_json::Value> {
    let u = unet_config();
    // Trainable parameters of the U-Net, so that the Python side can check its copy.
    let vars = tch::nn::VarStore::new(Device::Cpu);
    seg::model::UNet::new(&(vars.root() / "unet"), &u)?;
    let parameters: i64 = vars
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    Ok(json!({
        "threads": THREADS,
        "target_recall": case::TARGET_RECALL,
        "target_precision": case::TARGET_PRECISION,
        "target_fpr": case::TARGET_FPR,
        "unet": {
            "depth": u.depth,
            "base_channels": u.base_channels,
            "in_channels": u.in_channels,
            "parameters": parameters,
        },
        "learning_rate": LEARNING_RATE,
        "binned_range": [BINNED_RANGE.0, BINNED_RANGE.1],
        "stream_chunk": STREAM_CHUNK,
        "cuda": tch::Cuda::is_available(),
    }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => parse_run(&args[1..]).and_then(run).map(|v| println!("{v}")),
        Some("gen") if args.len() >= 2 => write_inputs(&PathBuf::from(&args[1]), &args[2..]),
        Some("meta") => meta().map(|m| println!("{m}")),
        _ => Err(
            "usage: timings run ID [--reps R] [--warmup W] [--budget S] [--device D] \
                  | timings gen DIR ID... | timings meta"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("timings: {e}");
            ExitCode::FAILURE
        }
    }
}
