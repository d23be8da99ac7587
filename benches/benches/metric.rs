//! Metrics on 10⁵–10⁷ scores: exact ROC-AUC, AP, P@R, the PR curve, and the streaming
//! accumulator in binned mode.
use std::hint::black_box;

use criterion::Criterion;

use benches::metric_cases::MetricWorkload;
use benches::{Case, MetricKind};

use crate::settings::{self, METRIC_SIZES};

/// Bins of the streaming binned benchmark.
const BINS: usize = 1024;

/// Registers the metric benchmarks (CPU only: `metrics` does not use libtorch).
pub fn bench(c: &mut Criterion) {
    for &n in settings::sizes(&METRIC_SIZES) {
        for kind in [
            MetricKind::RocAuc,
            MetricKind::AveragePrecision,
            MetricKind::PrecisionAtRecall,
            MetricKind::PrCurve,
            MetricKind::BinnedRocAuc { bins: BINS },
        ] {
            let case = Case::Metric { kind, n };
            let w = MetricWorkload::new(kind, n);
            let mut g = settings::group(c, &case);
            g.bench_function(case.parameter(), |b| {
                b.iter(|| black_box(w.run().expect("the metric should accept its own inputs")))
            });
            g.finish();
        }
    }
}
