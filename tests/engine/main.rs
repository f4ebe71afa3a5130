//! The engine tests, one binary: the SQL surface (views, as-of functions,
//! the mark audit) against hand-computed figures and an independent oracle,
//! every canned query against its snapshot (locally, over `s3://` and on a
//! Ballista cluster), `sapa report` and the README's quick start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod as_of;
mod canned_queries;
#[cfg(feature = "cluster")]
#[path = "../cluster_support/mod.rs"]
mod cluster_support;
#[path = "../ingest_support/mod.rs"]
mod ingest_support;
mod mark_audit;
mod readme_quickstart;
mod report_command;
mod support;
mod views_oracle;
