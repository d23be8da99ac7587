//! Integration tests for `bounds` (one test binary, topic modules).
mod baseline;
mod bound;
mod common;
mod errors;
mod fused;
mod gradcheck;
mod ignored;
mod multiplier;
mod objectives;
mod regressions;
mod roc;
mod smoke;
mod spotcheck;
mod state;
mod toy;
mod util;
