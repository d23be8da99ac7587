//! Integration tests for `bounds` (one test binary, topic modules).
mod baseline;
mod common;
mod fused;
mod roc;
mod smoke;
mod util;
mod bound;
mod objectives;
mod multiplier;
mod gradcheck;
