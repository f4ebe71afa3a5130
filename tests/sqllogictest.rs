//! SQL behaviour tests: every `tests/slt/**/*.slt` file runs against a fresh
//! DataFusion `SessionContext` with Sapa's functions registered — and the
//! files under `tests/slt/views/` against the whole SQL surface (tables,
//! views, "as of" functions) over the hand-built dataset of
//! `tests/data/valid`, ingested once per run, whose every figure the files
//! work out by hand.
//!
//! ```text
//! cargo test -p sapa --test sqllogictest                 # run every file
//! cargo test -p sapa --test sqllogictest -- mark_class   # files whose path contains "mark_class"
//! cargo test -p sapa --test sqllogictest -- --complete   # rewrite expected output
//! ```
//!
//! Values are rendered as text, NULL as `NULL` and the empty string as
//! `(empty)`, as DataFusion's own suite does. Every failing record is
//! reported with its file and line; the run ends with `N passed, M failed`
//! (N and M count statements and queries) and fails if M > 0.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sapa::engine::Engine;
use sapa::ingest::{IngestOptions, ingest_dir};
use sapa::storage::DataLocation;
use sqllogictest::{
    AsyncDB, ColumnType, DBOutput, Record, Runner, default_normalizer, default_validator,
    parse_file, strict_column_validator,
};

/// The column types of a query header: `T`ext, `I`nteger, `R`eal,
/// `B`oolean, `D`ate/time, `?` anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SapaColumnType {
    Text,
    Integer,
    Real,
    Boolean,
    DateTime,
    Other,
}

impl ColumnType for SapaColumnType {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'T' => Self::Text,
            'I' => Self::Integer,
            'R' => Self::Real,
            'B' => Self::Boolean,
            'D' => Self::DateTime,
            _ => Self::Other,
        })
    }

    fn to_char(&self) -> char {
        match self {
            Self::Text => 'T',
            Self::Integer => 'I',
            Self::Real => 'R',
            Self::Boolean => 'B',
            Self::DateTime => 'D',
            Self::Other => '?',
        }
    }
}

impl SapaColumnType {
    fn of(data_type: &DataType) -> Self {
        match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Self::Text,
            DataType::Dictionary(_, value) => Self::of(value),
            t if t.is_integer() => Self::Integer,
            t if t.is_floating() || t.is_decimal() => Self::Real,
            DataType::Boolean => Self::Boolean,
            t if t.is_temporal() => Self::DateTime,
            _ => Self::Other,
        }
    }
}

/// One database per `.slt` file: a fresh session with Sapa's functions,
/// or the SQL surface over a dataset.
struct SapaDb {
    ctx: SessionContext,
}

impl SapaDb {
    async fn open(dataset: Option<&Path>) -> Result<Self, DataFusionError> {
        let Some(dir) = dataset else {
            let ctx = SessionContext::new();
            sapa_udfs::register_all(&ctx);
            return Ok(Self { ctx });
        };
        let engine = Engine::open(&DataLocation::local(dir).map_err(external)?)
            .await
            .map_err(external)?;
        let ctx = engine.sql_session().await.map_err(external)?;
        Ok(Self { ctx })
    }
}

fn external(err: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(err))
}

/// Ingests the hand-built dataset of `tests/data/valid` into `dir`.
async fn ingest_valid(dir: &Path) -> Result<(), String> {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/valid");
    let location = DataLocation::local(dir).map_err(|e| e.to_string())?;
    ingest_dir(&input, &location, &IngestOptions::default())
        .await
        .map(|_| ())
        .map_err(|e| format!("ingesting {}: {e}", input.display()))
}

/// Whether a file runs over the dataset (it lies under `views/`).
fn over_dataset(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "views")
}

/// Renders query results as text rows.
fn render(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, ArrowError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let cells = formatters
                .iter()
                .map(|f| {
                    let text = f.value(row).to_string();
                    if text.is_empty() {
                        "(empty)".to_string()
                    } else {
                        text
                    }
                })
                .collect();
            rows.push(cells);
        }
    }
    Ok(rows)
}

#[async_trait]
impl AsyncDB for SapaDb {
    type Error = DataFusionError;
    type ColumnType = SapaColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<SapaColumnType>, DataFusionError> {
        let frame = self.ctx.sql(sql).await?;
        let schema = frame.schema().as_arrow().clone();
        let batches = frame.collect().await?;
        if schema.fields().is_empty() {
            // DDL (CREATE TABLE / VIEW …) returns no columns.
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = schema
            .fields()
            .iter()
            .map(|f| SapaColumnType::of(f.data_type()))
            .collect();
        let rows = render(&batches)?;
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "sapa"
    }
}

/// Every `.slt` file under `dir`, sorted.
fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            slt_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

/// Counts of one run.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// Runs one file record by record, so one failure does not hide the next.
async fn run_file(path: &Path, dataset: Option<PathBuf>, tally: &mut Tally) {
    let records = match parse_file::<SapaColumnType>(path) {
        Ok(records) => records,
        Err(err) => {
            eprintln!("FAIL {}: cannot parse: {err}", path.display());
            tally.failed += 1;
            return;
        }
    };
    let mut runner = Runner::new(move || {
        let dataset = dataset.clone();
        async move { SapaDb::open(dataset.as_deref()).await }
    });
    runner.with_column_validator(strict_column_validator);
    for record in records {
        if let Record::Halt { .. } = record {
            break;
        }
        let counted = matches!(record, Record::Statement { .. } | Record::Query { .. });
        match runner.run_async(record).await {
            Ok(_) if counted => tally.passed += 1,
            Ok(_) => {}
            Err(err) => {
                eprintln!("FAIL {}", err.display(false));
                tally.failed += 1;
            }
        }
    }
}

/// Rewrites a file's expected output from what the engine returns now.
async fn complete_file(path: &Path, dataset: Option<PathBuf>, tally: &mut Tally) {
    let mut runner = Runner::new(move || {
        let dataset = dataset.clone();
        async move { SapaDb::open(dataset.as_deref()).await }
    });
    let result = runner
        .update_test_file(
            path,
            " ",
            default_validator,
            default_normalizer,
            strict_column_validator,
        )
        .await;
    match result {
        Ok(()) => {
            println!("completed {}", path.display());
            tally.passed += 1;
        }
        Err(err) => {
            eprintln!("FAIL {}: {err}", path.display());
            tally.failed += 1;
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let complete = args.iter().any(|a| a == "--complete");
    // Other flags (cargo's own) are ignored; bare words filter by path.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();

    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("slt");
    let mut files = Vec::new();
    if let Err(err) = slt_files(&root, &mut files) {
        eprintln!("cannot list {}: {err}", root.display());
        return ExitCode::FAILURE;
    }
    files.retain(|f| {
        let name = f.to_string_lossy();
        filters.is_empty() || filters.iter().any(|p| name.contains(p.as_str()))
    });

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start tokio: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The dataset the `views/` files query, made only if one runs.
    let data = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("cannot make a temporary directory: {err}");
            return ExitCode::FAILURE;
        }
    };
    if files.iter().any(|f| over_dataset(f))
        && let Err(err) = runtime.block_on(ingest_valid(data.path()))
    {
        eprintln!("FAIL {err}");
        return ExitCode::FAILURE;
    }
    let mut tally = Tally::default();
    runtime.block_on(async {
        for file in &files {
            let dataset = over_dataset(file).then(|| data.path().to_path_buf());
            if complete {
                complete_file(file, dataset, &mut tally).await;
            } else {
                run_file(file, dataset, &mut tally).await;
            }
        }
    });
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 && !files.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
