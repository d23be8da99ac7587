//! Integration tests (one binary; topic modules).
mod data;
