//! The server tests, one binary: `sapa serve` over a real socket with real
//! clients (tokio-postgres, psql, pgjdbc, psycopg, asyncpg, node-postgres,
//! ODBC, raw bytes), logging in, scopes, registered snapshots over the wire
//! and the Ballista cluster behind the front end. One module per concern;
//! `support` serves the tiny dataset they share.

// Test helpers outside #[test] functions fail the test by panicking.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod activity;
mod asyncpg;
mod auth;
mod client_queries;
#[cfg(feature = "cluster")]
mod cluster;
#[cfg(feature = "cluster")]
#[path = "../cluster_support/mod.rs"]
mod cluster_support;
mod hostile;
#[path = "../ingest_support/mod.rs"]
mod ingest_support;
mod jdbc;
mod logs;
mod node;
mod odbc;
mod protocol;
mod psql;
mod python;
mod registered_snapshots;
mod scopes;
#[allow(dead_code)] // each module uses its own part
mod support;
mod transactions;
