//! Times this crate on a raw score file, for `benches/compare_metrics.py`.
//!
//! Usage: `metrics_timing SCORES.f64 LABELS.u8 REPEATS` where the first file holds
//! little-endian `f64` scores and the second one byte (0 or 1) per label. Prints one
//! JSON object: for each task the best wall time in seconds over at least `REPEATS`
//! runs and at least one second (from the raw slices to the value, sort included)
//! and the value.
use std::time::Instant;

use metrics::{Ranking, ScoreScale};

/// Best wall time of at least `repeats` runs, repeated until one second has been
/// spent (the rule the Python side uses too).
fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = None;
    let (mut best, mut total, mut runs) = (f64::INFINITY, 0.0, 0);
    while runs < repeats.max(1) || total < 1.0 {
        let t0 = Instant::now();
        let v = f();
        let t = t0.elapsed().as_secs_f64();
        best = best.min(t);
        total += t;
        runs += 1;
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        return Err("usage: metrics_timing SCORES.f64 LABELS.u8 REPEATS".into());
    }
    let raw = std::fs::read(&args[1])?;
    let scores: Vec<f64> = raw
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let labels = std::fs::read(&args[2])?;
    let repeats: usize = args[3].parse()?;
    let rank = || Ranking::new(&scores, &labels, ScoreScale::Probabilities);

    let (t_auc, auc) = best(repeats, || rank().map(|r| r.roc_auc().value));
    let (t_ap, ap) = best(repeats, || rank().map(|r| r.average_precision().value));
    let (t_pr, pr) = best(repeats, || {
        rank().and_then(|r| r.precision_at_recall(0.9).map(|p| p.value))
    });
    let (t_all, all) = best(repeats, || {
        rank().and_then(|r| {
            Ok([
                r.roc_auc().value,
                r.average_precision().value,
                r.precision_at_recall(0.9)?.value,
                r.recall_at_precision(0.9)?.value,
            ])
        })
    });
    let all = all?;
    println!(
        "{{\"n\": {}, \"roc_auc\": [{t_auc}, {}], \"average_precision\": [{t_ap}, {}], \
         \"precision_at_recall\": [{t_pr}, {}], \"all_four\": [{t_all}, {}], \
         \"recall_at_precision\": {}}}",
        scores.len(),
        auc?,
        ap?,
        pr?,
        all[0],
        all[3]
    );
    Ok(())
}
