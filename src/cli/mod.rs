//! The `sapa` command line (SPEC §12): a thin layer over the engine library.

mod generate;
mod ingest;
mod output;
mod query;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use datafusion::prelude::SessionContext;
use sapa::engine::Engine;
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
    /// Generate a deterministic synthetic dataset (Parquet, ready to serve, or the §10 CSVs).
    Generate(generate::GenerateArgs),
    /// Validate an interchange directory (§10) and commit it as a new version of a dataset.
    Ingest(ingest::IngestArgs),
    /// Run one SQL query against a dataset and print the result.
    Query(query::QueryArgs),
}

/// Where a dataset lives when `--data` is not given: `./data`.
pub(crate) fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// Opens the current version of the dataset at `data` (a directory or an
/// object-store URL) with the report views of SPEC §11 registered.
pub(crate) async fn open_dataset(data: &str) -> Result<SessionContext, CliError> {
    let location = DataLocation::parse(data)?;
    let engine = Engine::open(&location).await?;
    let ctx = engine.session_context()?;
    sapa::views::register(&ctx).await?;
    Ok(ctx)
}

/// Runs one command.
pub(crate) fn run(cli: Cli) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Generate(args) => runtime.block_on(generate::run(args)),
        Command::Ingest(args) => runtime.block_on(ingest::run(args)),
        Command::Query(args) => runtime.block_on(query::run(args)),
    }
}
