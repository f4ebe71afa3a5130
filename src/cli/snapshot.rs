//! `sapa snapshot`: register a version of a dataset under a name (the
//! October registration of SPEC §6) and list the registered ones.

use std::io::Write;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use sapa::storage::{DataLocation, SnapshotError, StoredTable, manifest, snapshot};

use super::logging::{self, LogArgs};
use super::output::{OutputFormat, write_batches};
use super::{CliError, default_data_dir};

/// Arguments of `sapa snapshot`.
#[derive(Debug, Args)]
pub(crate) struct SnapshotArgs {
    #[command(subcommand)]
    command: SnapshotCommand,
}

#[derive(Debug, Subcommand)]
enum SnapshotCommand {
    /// Freeze the dataset's current version (or the one current at the end
    /// of --as-of) under a name; no data is copied.
    Register(RegisterArgs),
    /// List the registered snapshots.
    List(ListArgs),
}

#[derive(Debug, Args)]
struct RegisterArgs {
    /// The dataset (default: ./data).
    #[arg(long, env = "SAPA_DATA")]
    data: Option<String>,
    /// The snapshot's name, 1–40 of A-Z a-z 0-9 _ - (e.g. 2024-10); its
    /// SQL schema is snapshot_ + the name lower-cased, '-' as '_'.
    #[arg(long)]
    name: String,
    /// Register the version that was current at the end of this day (UTC),
    /// YYYY-MM-DD, instead of the current one.
    #[arg(long, value_name = "DATE")]
    as_of: Option<NaiveDate>,
    #[command(flatten)]
    log: LogArgs,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// The dataset (default: ./data).
    #[arg(long, env = "SAPA_DATA")]
    data: Option<String>,
    /// How to print the list.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

pub(crate) async fn run(args: SnapshotArgs) -> Result<(), CliError> {
    match args.command {
        SnapshotCommand::Register(args) => register(args).await,
        SnapshotCommand::List(args) => list(args).await,
    }
}

fn location(data: Option<String>) -> Result<DataLocation, CliError> {
    let data = data.unwrap_or_else(|| default_data_dir().display().to_string());
    Ok(DataLocation::parse(&data)?)
}

async fn register(args: RegisterArgs) -> Result<(), CliError> {
    if let Some(file) = &args.log.log_file {
        logging::init(args.log.log_format, Some(file))?;
    }
    let loc = location(args.data)?;
    let registered = snapshot::register(&loc, &args.name, args.as_of).await?;
    let m = manifest::read_manifest(&loc, registered.version).await?;
    logging::snapshot_registered(
        &loc.display(),
        &registered.name,
        registered.version,
        m.rows(StoredTable::Marks),
    );
    println!(
        "registered snapshot {} of {}: version {} (committed {}, {} marks); \
         query it as schema {} (e.g. SELECT * FROM {}.indicators)",
        registered.name,
        loc.display(),
        registered.version,
        m.created_at,
        m.rows(StoredTable::Marks),
        registered.schema,
        registered.schema
    );
    Ok(())
}

async fn list(args: ListArgs) -> Result<(), CliError> {
    let loc = location(args.data)?;
    if manifest::read_pointer(&loc).await?.is_none() {
        return Err(SnapshotError::NoDataset(loc.display()).into());
    }
    let listed = snapshot::list_with_manifests(&loc).await?;
    let text = |values: Vec<Option<String>>| Arc::new(StringArray::from(values)) as ArrayRef;
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("schema", DataType::Utf8, false),
        Field::new("version", DataType::UInt64, false),
        Field::new("created_at", DataType::Utf8, false),
        Field::new("as_of", DataType::Utf8, true),
        Field::new("registered_at", DataType::Utf8, false),
        Field::new("marks", DataType::UInt64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            text(listed.iter().map(|(s, _)| Some(s.name.clone())).collect()),
            text(listed.iter().map(|(s, _)| Some(s.schema.clone())).collect()),
            Arc::new(UInt64Array::from_iter_values(
                listed.iter().map(|(s, _)| s.version),
            )),
            text(
                listed
                    .iter()
                    .map(|(_, m)| Some(m.created_at.clone()))
                    .collect(),
            ),
            text(listed.iter().map(|(s, _)| s.as_of.clone()).collect()),
            text(
                listed
                    .iter()
                    .map(|(s, _)| Some(s.registered_at.clone()))
                    .collect(),
            ),
            Arc::new(UInt64Array::from_iter_values(
                listed.iter().map(|(_, m)| m.rows(StoredTable::Marks)),
            )),
        ],
    )?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write_batches(&mut out, &[batch], args.format)?;
    out.flush()?;
    Ok(())
}
