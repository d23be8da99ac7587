//! Exact evaluation metrics for binary scores, with no libtorch dependency.
//!
//! One threshold rule everywhere: an element is **predicted positive ⇔ score ≥ t**.
//! The candidate thresholds are the distinct scores; tied scores form one group, so
//! no result depends on input order. Everything curve-shaped is read from a
//! [`Ranking`], built by one sort (an LSD radix sort on the score bits) and one pass
//! of cumulative sums: `O(N)` memory and time per digit pass, 10⁷ scores in well under
//! a second.
//!
//! - Curves and areas: [`Ranking::roc_curve`], [`Ranking::pr_curve`],
//!   [`Ranking::roc_auc`] (ties count ½), [`Ranking::average_precision`]
//!   (scikit-learn's step-wise definition).
//! - Operating points with the threshold that attains them and a `feasible` flag:
//!   [`Ranking::precision_at_recall`], [`Ranking::recall_at_precision`],
//!   [`Ranking::tpr_at_fpr`], [`Ranking::fpr_at_tpr`].
//! - At one threshold: [`ConfusionCounts`] with precision, recall, IoU, Dice, F-beta.
//! - Streams: [`Accumulator`] (exact, or binned in `O(T)` memory with a bound on
//!   its error).
//! - Segmentation: [`segmentation::dataset`] and [`segmentation::per_image`] with an
//!   explicit [`EmptyMaskPolicy`].
//!
//! Inputs are slices of `f32`, `f64`, `u8`, `i32`, `i64` or `bool` ([`Value`]), or
//! `ndarray` views of any shape and layout ([`Ranking::from_arrays`]).
//!
//! Undefined values (a missing class, nothing predicted positive) are NaN with an
//! [`Undefined`] reason, never 0; bad input is an [`Error`]. The full edge-case
//! policy is the table in `docs/metrics.md`.
//!
//! ```
//! use metrics::{Ranking, ScoreScale};
//! let scores = [2.0_f32, 1.0, 1.0, -0.5, -3.0];
//! let labels = [1u8, 1, 0, 1, 0];
//! let r = Ranking::new(&scores, &labels, ScoreScale::Logits)?;
//! // Threshold 1.0 reaches recall 2/3 at precision 2/3; -0.5 reaches recall 1
//! // at precision 3/4, the best precision with recall >= 0.6.
//! let p = r.precision_at_recall(0.6)?;
//! assert_eq!(p.threshold, Some(-0.5));
//! assert_eq!((p.value, p.achieved, p.feasible), (0.75, Some(1.0), true));
//! # Ok::<(), metrics::Error>(())
//! ```

mod arrays;
mod confusion;
mod error;
mod input;
mod operating;
mod ranking;
pub mod segmentation;
mod sort;
mod stream;
mod value;

pub use confusion::ConfusionCounts;
pub use error::{Error, Result};
pub use operating::OperatingPoint;
pub use ranking::{PrCurve, Ranking, RocCurve};
pub use segmentation::{EmptyMaskPolicy, PerImage};
pub use stream::Accumulator;
pub use value::{Metric, ScoreScale, Undefined, Value};
