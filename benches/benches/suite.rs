//! The criterion suite: one harness, a module per area.
//!
//! ```text
//! cargo bench -p benches                        # everything, short settings
//! cargo bench -p benches -- loss/pr_auc         # a filter on the ids
//! BENCH_LONG=1 cargo bench -p benches           # longer, steadier measurements
//! BENCH_QUICK=1 cargo bench -p benches          # smallest size of every workload
//! BENCH_THREADS=1 cargo bench -p benches        # 1 libtorch thread instead of 2
//! ```
//!
//! Ids encode the parameters (`loss/precision_at_recall/N2097152-L1`); CUDA variants
//! carry a `-cuda` suffix and only exist when `tch::Cuda::is_available()`. Settings
//! live in `settings.rs`. The side-by-side report against PyTorch and scikit-learn is
//! `benches/side_by_side.py`, which times the same workloads through the `timings`
//! binary.
use criterion::{criterion_group, criterion_main};

mod losses;
mod metric;
mod seg_step;
mod settings;

criterion_group! {
    name = suite;
    config = settings::criterion();
    targets = losses::bench, metric::bench, seg_step::bench
}
criterion_main!(suite);
