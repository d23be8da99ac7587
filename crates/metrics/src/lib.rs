//! Exact evaluation metrics for binary scores, with no libtorch dependency.
