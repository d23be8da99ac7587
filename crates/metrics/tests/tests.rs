//! Integration tests (one binary; topic modules).

mod common;
mod policy;
mod properties;
mod segmentation;
mod sklearn;
mod stream;
