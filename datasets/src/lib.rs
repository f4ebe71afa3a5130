//! Sapa's datasets: the interchange format of SPEC §10 as Arrow schemas and
//! typed enums ([`schema`]), the deterministic synthetic generator of a
//! nation's grades ([`generate`]), and a writer of the interchange CSVs
//! ([`csv_sink`]).

// Tests may unwrap: a panic is how they fail.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod csv_sink;
pub mod generate;
pub mod schema;

pub use csv_sink::{CsvDirSink, CsvSinkError};
