//! Integration tests (one binary; topic modules).
mod eval_scores;
mod suite;
