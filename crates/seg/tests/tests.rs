//! Integration tests (one binary; topic modules).
mod data;
mod evaluate;
mod model;
mod robustness;
mod train;
