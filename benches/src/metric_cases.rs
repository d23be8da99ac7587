//! Metric workloads: `metrics` on seeded scores, the sort included in every call (as in
//! scikit-learn, whose functions sort on every call too).
use metrics::{Accumulator, Ranking, ScoreScale};

use crate::case::{MetricKind, TARGET_RECALL};
use crate::{Result, data};

/// Chunk size fed to the streaming accumulator.
pub const STREAM_CHUNK: usize = 100_000;

/// Score range of the binned accumulator; the generated logits fall outside it with
/// probability below 10⁻¹⁰.
pub const BINNED_RANGE: (f64, f64) = (-8.0, 8.0);

/// A metric with its inputs.
pub struct MetricWorkload {
    kind: MetricKind,
    scores: Vec<f32>,
    labels: Vec<u8>,
}

impl MetricWorkload {
    /// Builds the inputs (`data::scored("metrics", n)`).
    pub fn new(kind: MetricKind, n: usize) -> Self {
        let s = data::scored("metrics", n);
        MetricWorkload {
            kind,
            scores: s.logits,
            labels: s.labels,
        }
    }

    /// Computes the metric once; returns its value (the curve's length for
    /// [`MetricKind::PrCurve`]).
    ///
    /// # Errors
    /// A `metrics` error (bad input); `NaN` is returned for an undefined value.
    pub fn run(&self) -> Result<f64> {
        let ranking = || Ranking::new(&self.scores, &self.labels, ScoreScale::Logits);
        Ok(match self.kind {
            MetricKind::RocAuc => ranking()?.roc_auc().value,
            MetricKind::AveragePrecision => ranking()?.average_precision().value,
            MetricKind::PrecisionAtRecall => ranking()?.precision_at_recall(TARGET_RECALL)?.value,
            MetricKind::PrCurve => ranking()?.pr_curve()?.precision.len() as f64,
            MetricKind::BinnedRocAuc { bins } => {
                let (low, high) = BINNED_RANGE;
                let mut acc = Accumulator::binned(bins, low, high, ScoreScale::Logits)?;
                for (s, y) in self
                    .scores
                    .chunks(STREAM_CHUNK)
                    .zip(self.labels.chunks(STREAM_CHUNK))
                {
                    acc.push(s, y)?;
                }
                acc.finish()?.roc_auc().value
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binned_auc_is_close_to_exact() {
        let exact = MetricWorkload::new(MetricKind::RocAuc, 50_000)
            .run()
            .unwrap();
        let binned = MetricWorkload::new(MetricKind::BinnedRocAuc { bins: 1024 }, 50_000)
            .run()
            .unwrap();
        // Separation 1.5 standard deviations: AUC = Φ(1.5/√2) ≈ 0.856.
        assert!((exact - 0.856).abs() < 0.01, "exact {exact}");
        assert!(
            (binned - exact).abs() < 1e-3,
            "binned {binned} vs exact {exact}"
        );
    }
}
