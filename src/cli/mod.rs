//! The `sapa` command line (SPEC §12): a thin layer over the engine library.

mod bench;
#[cfg(feature = "cluster")]
mod cluster;
mod generate;
mod ingest;
mod logging;
mod output;
mod query;
mod report;
mod serve;
mod snapshot;
mod user;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use datafusion::prelude::SessionContext;
use sapa::engine::surface::SqlSurface;
use sapa::engine::{Engine, EngineOptions};
use sapa::storage::DataLocation;

/// Any failure of a command, printed as `error: …` with a non-zero exit.
pub(crate) type CliError = Box<dyn std::error::Error + Send + Sync>;

/// Sapa: a columnar analytics engine for school final grades.
#[derive(Debug, Parser)]
#[command(name = "sapa", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Benchmarks: `sapa bench national` measures every national workload beside DuckDB.
    Bench(bench::BenchArgs),
    /// Run a Ballista scheduler or executor for `sapa serve --cluster`.
    #[cfg(feature = "cluster")]
    Cluster(cluster::ClusterArgs),
    /// Generate a deterministic synthetic dataset (Parquet, ready to serve, or the §10 CSVs).
    Generate(generate::GenerateArgs),
    /// Validate an interchange directory (§10) and commit it as a new version of a dataset.
    Ingest(ingest::IngestArgs),
    /// Run one SQL query against a dataset and print the result.
    Query(query::QueryArgs),
    /// Run a canned query of `queries/` as a table, CSV or a bilingual .xlsx workbook.
    Report(report::ReportArgs),
    /// Serve a dataset over the PostgreSQL protocol (psql, Metabase, Python).
    Serve(serve::ServeArgs),
    /// Register a version of a dataset as a named, immutable snapshot; list them.
    Snapshot(snapshot::SnapshotArgs),
    /// Manage users: `sapa user hash` prints a password's SCRAM-SHA-256 verifier.
    User(user::UserArgs),
}

/// Where a dataset lives when `--data` is not given: `./data`.
pub(crate) fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// The dataset a command works on: `--data` if given, else `./data` if it
/// holds a dataset, else the built-in sample (made on first use).
pub(crate) async fn resolve_data(data: Option<String>) -> Result<String, CliError> {
    if let Some(data) = data {
        return Ok(data);
    }
    let local = default_data_dir();
    if local.join("_sapa").join("CURRENT").is_file() {
        return Ok(local.display().to_string());
    }
    let started = std::time::Instant::now();
    let (dir, made) = sapa::sample::ensure_sample().await?;
    if made {
        eprintln!(
            "no --data and no ./data: made the built-in sample dataset in {} ({:.1}s)",
            dir.display(),
            started.elapsed().as_secs_f64()
        );
    } else {
        eprintln!(
            "no --data and no ./data: using the built-in sample dataset in {}",
            dir.display()
        );
    }
    Ok(dir.display().to_string())
}

/// Opens the current version of the dataset at `data` (a directory or an
/// object-store URL) with the report views of SPEC §11 registered, and
/// every registered snapshot as a schema of its own (`snapshot_2024_10`).
pub(crate) async fn open_dataset(
    data: &str,
    options: EngineOptions,
) -> Result<SessionContext, CliError> {
    let location = DataLocation::parse(data)?;
    let engine = Engine::open(&location).await?.with_options(options);
    Ok(SqlSurface::open(&engine).await?.unscoped().await?)
}

/// Runs one command.
pub(crate) fn run(cli: Cli) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Bench(args) => bench::run(args),
        #[cfg(feature = "cluster")]
        Command::Cluster(args) => runtime.block_on(cluster::run(args)),
        Command::Generate(args) => runtime.block_on(generate::run(args)),
        Command::Ingest(args) => runtime.block_on(ingest::run(args)),
        Command::Query(args) => runtime.block_on(query::run(args)),
        Command::Report(args) => runtime.block_on(report::run(args)),
        Command::Serve(args) => runtime.block_on(serve::run(args)),
        Command::Snapshot(args) => runtime.block_on(snapshot::run(args)),
        Command::User(args) => user::run(args),
    }
}
