//! The ingest tests, one binary: valid input and its hand-computed
//! answers, bad input named by file, line, column and value, faults that
//! leave the committed version as it was, versions and deltas, and the
//! generator's data. `ingest_support` holds the hand-built dataset.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod errors;
mod faults;
mod generated;
#[path = "../ingest_support/mod.rs"]
mod ingest_support;
mod valid;
mod versions;
