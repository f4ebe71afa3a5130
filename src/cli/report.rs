//! `sapa report`: one canned query of `queries/`, with its parameters, as a
//! table, CSV or an `.xlsx` workbook.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use datafusion::arrow::array::RecordBatch;
use sapa::reports::{self, CannedQuery, Period, PeriodRef, ReportParams, Unit};

use super::CliError;
use super::output::{OutputFormat, write_batches};

/// How `sapa report` writes its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum ReportFormat {
    /// An aligned text table, for people.
    #[default]
    Table,
    /// CSV with a header row of SQL column names.
    Csv,
    /// An Excel workbook: Kazakh and Russian header rows, typed cells,
    /// percentages as percentages.
    Xlsx,
}

/// Arguments of `sapa report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The canned query to run (`sapa report --list` shows them).
    #[arg(required_unless_present = "list")]
    name: Option<String>,
    /// List the canned queries with their titles and parameters, and exit.
    #[arg(long, conflicts_with = "name")]
    list: bool,
    /// The dataset to query (default: ./data, else the built-in sample).
    #[arg(long, env = "SAPA_DATA")]
    data: Option<String>,
    /// Academic year by its start year (default: the latest in the data).
    #[arg(long)]
    year: Option<i32>,
    /// Q1, Q2, Q3, Q4 or YEAR (default: the year's latest quarter in the data).
    #[arg(long)]
    period: Option<Period>,
    /// Base period of a comparison, YEAR:PERIOD (default: the period before --period).
    #[arg(long, value_name = "YEAR:PERIOD")]
    from: Option<PeriodRef>,
    /// country, region:ID, district:ID or school:ID (default: country).
    #[arg(long)]
    unit: Option<Unit>,
    /// How to write the result.
    #[arg(long, value_enum, default_value_t)]
    format: ReportFormat,
    /// Where to write it (default: stdout; for xlsx, NAME.xlsx in the current directory).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) async fn run(args: ReportArgs) -> Result<(), CliError> {
    if args.list {
        return list();
    }
    let name = args.name.as_deref().unwrap_or_default();
    let query = reports::find(name)?;
    let given = ReportParams {
        year: args.year,
        period: args.period,
        from: args.from,
        unit: args.unit,
    };
    let data = super::resolve_data(args.data).await?;
    let ctx = super::open_dataset(&data).await?;
    let params = reports::resolve_defaults(&ctx, query, given).await?;
    eprintln!("{}", describe(query, &params));
    let frame = reports::dataframe(&ctx, query, &params).await?;
    let schema = frame.schema().as_arrow().clone();
    let mut batches = frame.collect().await?;
    if batches.is_empty() {
        // An empty result still has its header row (CSV, table, workbook).
        batches.push(RecordBatch::new_empty(std::sync::Arc::new(schema.clone())));
    }
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    match args.format {
        ReportFormat::Xlsx => {
            let path = args
                .out
                .unwrap_or_else(|| PathBuf::from(format!("{}.xlsx", query.name)));
            reports::xlsx::write_xlsx(&path, query, &schema, &batches)?;
            eprintln!("wrote {} to {}", rows_text(rows), path.display());
        }
        ReportFormat::Table | ReportFormat::Csv => {
            let format = match args.format {
                ReportFormat::Csv => OutputFormat::Csv,
                _ => OutputFormat::Table,
            };
            match &args.out {
                Some(path) => {
                    let mut out = BufWriter::new(File::create(path)?);
                    write_batches(&mut out, &batches, format)?;
                    out.flush()?;
                    eprintln!("wrote {} to {}", rows_text(rows), path.display());
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = stdout.lock();
                    write_batches(&mut out, &batches, format)?;
                    out.flush()?;
                }
            }
        }
    }
    Ok(())
}

/// `1 row`, `2 rows`.
fn rows_text(rows: usize) -> String {
    format!("{rows} row{}", if rows == 1 { "" } else { "s" })
}

/// Prints every canned query: name, title and parameters.
fn list() -> Result<(), CliError> {
    let queries = reports::canned_queries()?;
    let width = queries.iter().map(|q| q.name.len()).max().unwrap_or(0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for q in queries {
        writeln!(
            out,
            "{:width$}  {}  [params: {}]",
            q.name,
            q.title,
            q.params_text()
        )?;
    }
    out.flush()?;
    Ok(())
}

/// One line saying what runs with which values, defaults included.
fn describe(query: &CannedQuery, params: &ReportParams) -> String {
    let mut parts = Vec::new();
    if let Some(year) = params.year {
        parts.push(format!("year {year}"));
    }
    if let Some(period) = params.period {
        parts.push(format!("period {period}"));
    }
    if let Some(from) = params.from {
        parts.push(format!("from {from}"));
    }
    if let Some(unit) = params.unit {
        parts.push(format!("unit {unit}"));
    }
    format!("{}: {} ({})", query.name, query.title, parts.join(", "))
}
