//! `sapa report`: one canned query of `queries/`, with its parameters, as a
//! table, CSV or an `.xlsx` workbook.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::SessionContext;
use sapa::reports::{
    self, CannedQuery, Period, PeriodRef, ReportError, ReportParams, Unit, UnitChoice,
};

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
    /// percentages as percentages, band cells coloured, and native charts
    /// beside the table for indicator_dynamics, indicator_blocks, rankings
    /// and period_comparison.
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
    /// country, region:ID, district:ID or school:ID (default: country); or
    /// region:* for every region, one sheet each (with --format xlsx only).
    #[arg(long)]
    unit: Option<UnitChoice>,
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
    let (unit, every_region) = match args.unit {
        Some(UnitChoice::One(unit)) => (Some(unit), false),
        Some(UnitChoice::EveryRegion) => (None, true),
        None => (None, false),
    };
    if every_region && args.format != ReportFormat::Xlsx {
        let format = match args.format {
            ReportFormat::Csv => "csv",
            _ => "table",
        };
        return Err(ReportError::EveryRegionNeedsWorkbook {
            format: format.to_string(),
        }
        .into());
    }
    let given = ReportParams {
        year: args.year,
        period: args.period,
        from: args.from,
        unit,
    };
    let data = super::resolve_data(args.data).await?;
    let ctx = super::open_dataset(&data, sapa::engine::EngineOptions::default()).await?;
    if every_region {
        return every_region_workbook(&ctx, query, given, args.out).await;
    }
    let params = reports::resolve_defaults(&ctx, query, given).await?;
    eprintln!("{}", describe(query, &params, None));
    let (schema, batches) = collect(&ctx, query, &params).await?;
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

/// Runs `query` and collects its result; an empty result is one empty
/// batch, so that it still has its header row (CSV, table, workbook).
async fn collect(
    ctx: &SessionContext,
    query: &CannedQuery,
    params: &ReportParams,
) -> Result<(Schema, Vec<RecordBatch>), CliError> {
    let frame = reports::dataframe(ctx, query, params).await?;
    let schema = frame.schema().as_arrow().clone();
    let mut batches = frame.collect().await?;
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(std::sync::Arc::new(schema.clone())));
    }
    Ok((schema, batches))
}

/// `--unit region:*`: the report run for every region, each result in a
/// sheet named by the region's id and Kazakh name, in one workbook.
async fn every_region_workbook(
    ctx: &SessionContext,
    query: &CannedQuery,
    given: ReportParams,
    out: Option<PathBuf>,
) -> Result<(), CliError> {
    let regions = reports::regions(ctx).await?;
    let Some(&(first, _)) = regions.first() else {
        return Err(ReportError::NoData {
            asked: "--unit region:*".to_string(),
            held: "no regions".to_string(),
        }
        .into());
    };
    // The defaults (year, period, base period) do not depend on the unit:
    // chosen and checked once.
    let given = ReportParams {
        unit: Some(Unit::Region(first)),
        ..given
    };
    let params = reports::resolve_defaults(ctx, query, given).await?;
    let every = format!("unit region:* ({} regions)", regions.len());
    eprintln!("{}", describe(query, &params, Some(every)));
    let mut schema = None;
    let mut sheets = Vec::with_capacity(regions.len());
    for (id, name) in regions {
        let params = ReportParams {
            unit: Some(Unit::Region(id)),
            ..params
        };
        let (region_schema, batches) = collect(ctx, query, &params).await?;
        schema.get_or_insert(region_schema);
        sheets.push((format!("{id} {name}"), batches));
    }
    let schema = schema.unwrap_or_else(Schema::empty);
    let path = out.unwrap_or_else(|| PathBuf::from(format!("{}.xlsx", query.name)));
    let rows = reports::xlsx::write_xlsx_sheets(&path, query, &schema, &sheets)?;
    eprintln!(
        "wrote {} in {} sheets to {}",
        rows_text(rows),
        sheets.len(),
        path.display()
    );
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

/// One line saying what runs with which values, defaults included;
/// `unit` replaces the unit's text.
fn describe(query: &CannedQuery, params: &ReportParams, unit: Option<String>) -> String {
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
    match (unit, params.unit) {
        (Some(unit), _) => parts.push(unit),
        (None, Some(unit)) => parts.push(format!("unit {unit}")),
        (None, None) => {}
    }
    format!("{}: {} ({})", query.name, query.title, parts.join(", "))
}
