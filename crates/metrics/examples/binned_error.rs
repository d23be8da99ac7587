//! Prints the error of the binned accumulator against the exact ranking, for
//! `docs/metrics.md`: 10⁶ seeded probabilities (positives ~ √U, negatives ~ U²,
//! prior 0.3), T from 10 to 10⁵ bins over [0, 1].
use metrics::{Accumulator, Ranking, ScoreScale};

fn main() -> Result<(), metrics::Error> {
    let mut state = 2017u64;
    let mut uniform = move || {
        // SplitMix64.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = 1_000_000;
    let labels: Vec<u8> = (0..n).map(|_| (uniform() < 0.3) as u8).collect();
    let scores: Vec<f64> = labels
        .iter()
        .map(|&l| {
            let u = uniform();
            if l == 1 { u.sqrt() } else { u * u }
        })
        .collect();
    let p = ScoreScale::Probabilities;
    let exact = Ranking::new(&scores, &labels, p)?;
    let (auc, ap) = (exact.roc_auc().value, exact.average_precision().value);
    let pr = exact.precision_at_recall(0.9)?.value;
    println!("| T | AUC bound | abs AUC error | abs AP error | P@R(0.9) exact - binned |");
    println!("|---|---|---|---|---|");
    for bins in [10, 100, 1000, 10_000, 100_000] {
        let mut acc = Accumulator::binned(bins, 0.0, 1.0, p)?;
        acc.push(&scores, &labels)?;
        let bound = acc.auc_error_bound().unwrap_or(f64::NAN);
        let r = acc.finish()?;
        println!(
            "| {bins} | {bound:.2e} | {:.2e} | {:.2e} | {:.2e} |",
            (r.roc_auc().value - auc).abs(),
            (r.average_precision().value - ap).abs(),
            pr - r.precision_at_recall(0.9)?.value
        );
    }
    Ok(())
}
