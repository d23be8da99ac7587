//! Workloads shared by the criterion suite (`benches/suite.rs`) and the timing binary
//! (`src/bin/timings.rs`) that `benches/side_by_side.py` runs against PyTorch and
//! scikit-learn.
//!
//! Every workload is named by a [`Case`] whose id encodes its parameters, e.g.
//! `loss/precision_at_recall/N2097152-L1` or `metrics/roc_auc/N10000000`; the same id
//! is the criterion benchmark id, the timing binary's argument and the row of
//! `docs/benchmarks.md`. Inputs come from the seeded builders in [`data`], built once
//! outside the timed closure.
pub mod case;
pub mod data;
pub mod loss_cases;
pub mod memory;
pub mod metric_cases;
pub mod seg_cases;

pub use case::{Case, LossKind, MetricKind, SegObjective};

/// Error type of the workload builders: any library error, boxed.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Result of the workload builders.
pub type Result<T> = std::result::Result<T, Error>;

/// Threads used on both sides of every comparison (`tch::set_num_threads` here,
/// `torch.set_num_threads` in `side_by_side.py`).
pub const THREADS: i32 = 2;
