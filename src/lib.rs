//! The Sapa engine: storage, validated ingest, and the SQL surface of SPEC §11
//! over Apache DataFusion.
//!
//! The domain rules live in `sapa-udfs`, the interchange format and the
//! generator in `sapa-datasets`; this library stores and serves them. It knows
//! nothing of the PostgreSQL wire except in `server`, the thin front end
//! `sapa serve` runs; the `sapa` binary is a thin layer over it.

#[cfg(feature = "cluster")]
pub mod cluster;
pub mod engine;
pub mod ingest;
pub mod reports;
pub mod sample;
pub mod server;
pub mod storage;
