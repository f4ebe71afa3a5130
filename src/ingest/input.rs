//! Reading an input directory: which files are there, the reference
//! tables into memory, the marks streamed into staging.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use sapa_datasets::schema::Table;

use super::Progress;
use super::calendar;
use super::error::{IngestError, LocatedError};
use super::input_table::InputTable;
use super::marks::MarksStager;
use super::parser::TableParser;
use super::pipeline::{Staged, Transaction};
use super::reference;
use super::source::{self, Row, RowSource};
use crate::storage::StoredTable;

/// Reads and checks every input file of `dir`, staging the marks.
///
/// A problem that would make every row referring to a table fail too — a
/// required file missing from a first ingest, a file whose header cannot
/// be used — stops the ingest before the references are checked, so the
/// error names the file instead of drowning in the lines it causes.
pub(crate) async fn read_dir(tx: &mut Transaction, dir: &Path) -> Result<Staged, IngestError> {
    let files = find_files(tx, dir)?;
    tx.errors.check()?;
    let first = tx.prev.is_none();
    let mut inputs = Vec::new();
    let mut unusable = false;
    for table in StoredTable::REFERENCE {
        let Some(interchange) = table.interchange() else {
            continue;
        };
        let Some(path) = files.get(&interchange) else {
            continue;
        };
        match read_reference(tx, table, path)? {
            Some(input) => {
                if input.seen == 0 {
                    no_rows(tx, interchange, &input.table_file.file, first);
                }
                inputs.push(input.table_file);
            }
            None => unusable = true,
        }
    }
    if unusable {
        tx.errors.check()?;
    }
    let stored = tx.stored_references().await?;
    let stored_calendar = stored.get(&StoredTable::Calendar).cloned();
    let calendar_input = inputs
        .iter()
        .find(|t| t.table == StoredTable::Calendar)
        .map(InputTable::clone_rows);
    let refs = reference::merge(stored, inputs, tx.opts.unit_students, &mut tx.errors)?;
    if let (Some(input), Some(merged)) = (calendar_input, refs.tables.get(&StoredTable::Calendar)) {
        let stored = stored_calendar
            .unwrap_or_else(|| RecordBatch::new_empty(StoredTable::Calendar.schema()));
        calendar::check(
            merged,
            &stored,
            &input,
            &mut tx.errors,
            &mut tx.summary.warnings,
        )?;
    }
    let marks = match files.get(&Table::Marks) {
        Some(path) => read_marks(tx, &refs, path, first).await?,
        None => None,
    };
    Ok(Staged { refs, marks })
}

/// A file with a header and no row: nothing to merge in a delta, but a
/// first ingest cannot build a dataset from it.
fn no_rows(tx: &mut Transaction, table: Table, file: &str, first: bool) {
    if first {
        tx.errors.push(LocatedError::file(
            file,
            format!(
                "the file has a header but no rows: the first ingest into an empty dataset needs \
                 the rows of every table of SPEC §10 (only {} may be left out)",
                Table::Modo.file_name()
            ),
        ));
    } else {
        tx.summary.warnings.push(format!(
            "{file}: a header and no rows, nothing of {} to merge",
            table.name()
        ));
    }
}

/// The input file of every table present (`<table>.csv` or `.xlsx`, names
/// case-insensitive); errors for missing required files on a first ingest
/// and for tables given twice, warnings for other files.
fn find_files(tx: &mut Transaction, dir: &Path) -> Result<BTreeMap<Table, PathBuf>, IngestError> {
    let entries = std::fs::read_dir(dir).map_err(|e| IngestError::Read {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut found: BTreeMap<Table, PathBuf> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| IngestError::Read {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_file() {
            continue;
        }
        let lower = name.to_lowercase();
        let table = Table::ALL.into_iter().find(|t| {
            lower == format!("{}.csv", t.name()) || lower == format!("{}.xlsx", t.name())
        });
        match table {
            Some(t) => {
                if let Some(other) = found.get(&t) {
                    tx.errors.push(LocatedError::file(
                        &name,
                        format!(
                            "table {} is also given as {}; keep one of them",
                            t.name(),
                            other.file_name().unwrap_or_default().to_string_lossy()
                        ),
                    ));
                } else {
                    found.insert(t, entry.path());
                }
            }
            None => tx.summary.warnings.push(format!(
                "{name}: not a file of the interchange format, ignored"
            )),
        }
    }
    if tx.prev.is_none() {
        for t in Table::ALL {
            if !t.optional() && !found.contains_key(&t) {
                tx.errors.push(LocatedError::file(
                    &t.file_name(),
                    format!(
                        "required file missing (or {}.xlsx): the first ingest into an empty \
                         dataset needs every table of SPEC §10",
                        t.name()
                    ),
                ));
            }
        }
    }
    Ok(found)
}

/// An open input file and the parser of its rows.
type Opened = (Box<dyn RowSource>, TableParser);

/// Opens an input file and maps its header; `None` if it cannot be used
/// (the reason is logged).
fn open(tx: &mut Transaction, table: Table, path: &Path) -> Result<Option<Opened>, IngestError> {
    let Some(src) = source::open(path, &mut tx.errors)? else {
        return Ok(None);
    };
    let Some(parser) = TableParser::new(
        table,
        src.file(),
        src.header(),
        &mut tx.errors,
        &mut tx.summary.warnings,
    ) else {
        return Ok(None);
    };
    Ok(Some((src, parser)))
}

/// A reference file as read, and how many data rows it had (accepted or
/// not).
struct ReadTable {
    table_file: InputTable,
    seen: u64,
}

fn read_reference(
    tx: &mut Transaction,
    table: StoredTable,
    path: &Path,
) -> Result<Option<ReadTable>, IngestError> {
    let Some(interchange) = table.interchange() else {
        return Ok(None);
    };
    let Some((mut src, mut parser)) = open(tx, interchange, path)? else {
        return Ok(None);
    };
    let total = file_size(path);
    let mut row = Row::default();
    let mut batches = Vec::new();
    let mut lines = Vec::new();
    let mut seen = 0u64;
    while src.next_row(&mut row, &mut tx.errors)? {
        seen += 1;
        parser.push(&row, &mut tx.errors)?;
        if parser.buffered() >= tx.opts.batch_rows {
            let (batch, l) = parser.take_batch()?;
            batches.push(batch);
            lines.extend(l);
            tx.progress(Progress::Reading {
                file: src.file().to_string(),
                bytes_read: src.bytes_read(),
                bytes_total: total,
                rows: parser.rows,
            });
        }
    }
    let (batch, l) = parser.take_batch()?;
    batches.push(batch);
    lines.extend(l);
    let file = src.file().to_string();
    tx.summary.rows_read.insert(file.clone(), parser.rows);
    tx.progress(Progress::Read {
        file: file.clone(),
        rows: parser.rows,
    });
    Ok(Some(ReadTable {
        table_file: InputTable {
            table,
            batch: concat_batches(&interchange.schema(), &batches)?,
            file,
            lines: Some(lines),
        },
        seen,
    }))
}

async fn read_marks(
    tx: &mut Transaction,
    refs: &reference::References,
    path: &Path,
    first: bool,
) -> Result<Option<(String, super::marks::StagedPartitions)>, IngestError> {
    let Some((mut src, mut parser)) = open(tx, Table::Marks, path)? else {
        return Ok(None);
    };
    let total = file_size(path);
    let file = src.file().to_string();
    let mut stager = MarksStager::new(&tx.loc, tx.version, &file);
    let mut row = Row::default();
    let mut seen = 0u64;
    loop {
        let more = src.next_row(&mut row, &mut tx.errors)?;
        if more {
            seen += 1;
            parser.push(&row, &mut tx.errors)?;
        }
        if parser.buffered() >= tx.opts.batch_rows || (!more && parser.buffered() > 0) {
            let (batch, lines) = parser.take_batch()?;
            stager.push(refs, &batch, &lines, &mut tx.errors).await?;
            tx.progress(Progress::Reading {
                file: file.clone(),
                bytes_read: src.bytes_read(),
                bytes_total: total,
                rows: parser.rows,
            });
        }
        if !more {
            break;
        }
    }
    if seen == 0 {
        no_rows(tx, Table::Marks, &file, first);
    }
    tx.summary.rows_read.insert(file.clone(), parser.rows);
    tx.summary.look_alikes += parser.look_alikes;
    tx.progress(Progress::Read {
        file: file.clone(),
        rows: parser.rows,
    });
    Ok(Some((file, stager.finish().await?)))
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
