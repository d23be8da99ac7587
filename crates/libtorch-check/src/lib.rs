//! Build-time guard for the project's libtorch.
//!
//! This crate has no code. Its build script checks that `LIBTORCH` (set by the
//! workspace's `.cargo/config.toml` to `.libtorch/`) holds libtorch 2.13.0, the
//! version tch 0.26 links against, and stops the build with a message naming the
//! command to run when it does not. `bounds` depends on it, so every crate that
//! links libtorch gets the check.
