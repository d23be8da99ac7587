//! Shared helpers for the criterion suite in `benches/suite.rs`.
