//! Integration tests for `bounds` (one test binary, topic modules).
mod smoke;
mod fused;
