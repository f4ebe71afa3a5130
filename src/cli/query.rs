//! `sapa query`: one SQL query against a dataset, printed.

use std::io::Write;

use clap::Args;

use super::CliError;
use super::output::{OutputFormat, write_batches};

/// Arguments of `sapa query`.
#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The dataset to query (default: ./data, else the built-in sample).
    #[arg(long, env = "SAPA_DATA")]
    data: Option<String>,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
    /// The SQL query.
    sql: String,
    #[cfg(feature = "cluster")]
    #[command(flatten)]
    cluster: super::cluster::ClusterTarget,
}

pub(crate) async fn run(args: QueryArgs) -> Result<(), CliError> {
    let data = super::resolve_data(args.data).await?;
    let options = sapa::engine::EngineOptions::default();
    #[cfg(feature = "cluster")]
    let options = args.cluster.apply(options)?;
    let ctx = super::open_dataset(&data, options).await?;
    let batches = ctx.sql(&args.sql).await?.collect().await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write_batches(&mut out, &batches, args.format)?;
    out.flush()?;
    Ok(())
}
