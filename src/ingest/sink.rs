//! Ingest from a producer of Arrow batches — the synthetic generator — with
//! the same checks and the same commit as [`super::ingest_dir`], without a
//! detour through CSV.
//!
//! The producer runs on a blocking thread and hands batches of the SPEC §10
//! schemas, reference tables before marks (modo may come last), to a
//! [`TableSink`]. Marks are normalised to their canonical codes and
//! checked like a file's; keys and references are checked on the merged
//! state. The producer's enumerations and value ranges are trusted.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::compute::concat_batches;
use sapa_datasets::generate::{SinkError, TableSink};
use sapa_datasets::schema::Table;
use tokio::runtime::Handle;

use super::error::{IngestError, LocatedError};
use super::fields::{MarkCache, Value};
use super::input_table::InputTable;
use super::marks::MarksStager;
use super::pipeline::{Staged, Transaction};
use super::reference::{self, References};
use super::{IngestOptions, IngestReport};
use crate::storage::{DataLocation, StoredTable};

/// Ingests the batches `produce` writes to its sink into `data`, as one new
/// version (or none, if anything is wrong). `source` names the producer in
/// the manifest and in error messages.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use sapa::ingest::{IngestOptions, ingest_batches};
/// use sapa::storage::DataLocation;
/// use sapa_datasets::generate::{GenerateOptions, generate};
///
/// let data = DataLocation::local("data")?;
/// let opts = GenerateOptions::default();
/// let report = ingest_batches(&data, &IngestOptions::default(), "generate", move |sink| {
///     generate(&opts, sink, &mut |_| {}).map(|_| ()).map_err(Into::into)
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn ingest_batches<F>(
    data: &DataLocation,
    opts: &IngestOptions,
    source: &str,
    produce: F,
) -> Result<IngestReport, IngestError>
where
    F: FnOnce(&mut dyn TableSink) -> Result<(), SinkError> + Send + 'static,
{
    let tx = Transaction::begin(data, opts, source).await?;
    let mut sink = BatchSink {
        handle: Handle::current(),
        tx,
        pending: BTreeMap::new(),
        refs: None,
        stager: None,
        rows: BTreeMap::new(),
        marks: MarkCache::default(),
    };
    let joined = tokio::task::spawn_blocking(move || {
        let produced = produce(&mut sink);
        (sink, produced)
    })
    .await;
    let (mut sink, produced) = joined.map_err(|e| IngestError::Producer(e.to_string()))?;
    let outcome = match produced {
        Ok(()) => sink.finish().await,
        Err(e) => Err(match e.downcast::<IngestError>() {
            Ok(ingest) => *ingest,
            Err(other) => IngestError::Producer(other.to_string()),
        }),
    };
    match outcome {
        Ok(report) => Ok(report),
        Err(e) => {
            sink.tx.rollback().await;
            Err(e)
        }
    }
}

/// The sink the producer writes to.
struct BatchSink {
    handle: Handle,
    tx: Transaction,
    /// Reference batches not merged yet.
    pending: BTreeMap<Table, Vec<RecordBatch>>,
    /// The merged reference tables, once marks have begun.
    refs: Option<References>,
    stager: Option<MarksStager>,
    rows: BTreeMap<Table, u64>,
    marks: MarkCache,
}

impl TableSink for BatchSink {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<(), SinkError> {
        let handle = self.handle.clone();
        handle
            .block_on(self.push(table, batch))
            .map_err(|e| Box::new(e) as SinkError)
    }
}

impl BatchSink {
    async fn push(&mut self, table: Table, batch: RecordBatch) -> Result<(), IngestError> {
        let first_row = self.rows.get(&table).copied().unwrap_or(0);
        *self.rows.entry(table).or_default() += batch.num_rows() as u64;
        if table != Table::Marks {
            if self.refs.is_some() && table != Table::Modo {
                return Err(IngestError::Producer(format!(
                    "{} arrived after marks; reference tables must come first",
                    table.name()
                )));
            }
            self.pending.entry(table).or_default().push(batch);
            return Ok(());
        }
        if self.refs.is_none() {
            let refs = self.merge_pending(None).await?;
            self.refs = Some(refs);
            let file = generated(Table::Marks);
            self.stager = Some(MarksStager::new(&self.tx.loc, self.tx.version, &file));
        }
        let batch = self.normalise_marks(&batch, first_row)?;
        let lines: Vec<u64> = (first_row + 1..=first_row + batch.num_rows() as u64).collect();
        if let (Some(refs), Some(stager)) = (&self.refs, &mut self.stager) {
            stager
                .push(refs, &batch, &lines, &mut self.tx.errors)
                .await?;
        }
        Ok(())
    }

    /// Merges the pending reference batches into `base` (the stored
    /// version when `None`).
    async fn merge_pending(&mut self, base: Option<References>) -> Result<References, IngestError> {
        let mut inputs = Vec::new();
        for (table, batches) in std::mem::take(&mut self.pending) {
            let Some(stored) = StoredTable::from_name(table.name()) else {
                continue;
            };
            let rows = batches.iter().map(RecordBatch::num_rows).sum::<usize>() as u64;
            self.tx.summary.rows_read.insert(generated(table), rows);
            inputs.push(InputTable {
                table: stored,
                file: generated(table),
                batch: concat_batches(&table.schema(), &batches)?,
                lines: Some((1..=rows).collect()),
            });
        }
        match base {
            None => {
                if self.tx.prev.is_none() {
                    self.require_all();
                }
                let stored = self.tx.stored_references().await?;
                reference::merge(
                    stored,
                    inputs,
                    self.tx.opts.unit_students,
                    &mut self.tx.errors,
                )
            }
            Some(first) => {
                let mut merged = reference::merge(
                    first.tables,
                    inputs,
                    self.tx.opts.unit_students,
                    &mut self.tx.errors,
                )?;
                merged.changed.extend(first.changed);
                Ok(merged)
            }
        }
    }

    /// On a first ingest, every non-optional table must have come.
    fn require_all(&mut self) {
        for table in Table::ALL {
            let seen = self.pending.contains_key(&table) || self.rows.contains_key(&table);
            if !table.optional() && table != Table::Marks && !seen {
                self.tx.errors.push(LocatedError::file(
                    &generated(table),
                    "required table missing: the first ingest into an empty dataset needs every \
                     table of SPEC §10",
                ));
            }
        }
    }

    /// Replaces the marks by their canonical codes, counting look-alikes
    /// and logging unknown codes.
    fn normalise_marks(
        &mut self,
        batch: &RecordBatch,
        first_row: u64,
    ) -> Result<RecordBatch, IngestError> {
        let index = batch.schema().index_of("mark")?;
        let marks = batch
            .column(index)
            .as_string_opt::<i32>()
            .ok_or_else(|| IngestError::Producer("marks.mark is not Utf8".into()))?;
        let mut out = StringBuilder::with_capacity(marks.len(), marks.len() * 4);
        for (row, value) in marks.iter().enumerate() {
            match value.map(|v| (v, self.marks.parse(v))) {
                None | Some((_, Ok((Value::Null, _)))) => out.append_null(),
                Some((_, Ok((Value::Static(code), look_alike)))) => {
                    self.tx.summary.look_alikes += u64::from(look_alike);
                    out.append_value(code);
                }
                Some((raw, Ok(_) | Err(_))) => {
                    self.tx.errors.push(LocatedError::value(
                        &generated(Table::Marks),
                        first_row + row as u64 + 1,
                        "mark",
                        raw,
                        "unknown mark code (SPEC §2)",
                    ));
                    out.append_null();
                }
            }
        }
        let mut columns = batch.columns().to_vec();
        columns[index] = Arc::new(out.finish());
        Ok(RecordBatch::try_new(batch.schema(), columns)?)
    }

    async fn finish(&mut self) -> Result<IngestReport, IngestError> {
        let refs = match self.refs.take() {
            None => self.merge_pending(None).await?,
            Some(refs) if self.pending.is_empty() => refs,
            Some(refs) => self.merge_pending(Some(refs)).await?,
        };
        if self.tx.prev.is_none() && !self.rows.contains_key(&Table::Marks) {
            self.tx.errors.push(LocatedError::file(
                &generated(Table::Marks),
                "required table missing: the first ingest into an empty dataset needs marks",
            ));
        }
        if let Some(rows) = self.rows.get(&Table::Marks) {
            self.tx
                .summary
                .rows_read
                .insert(generated(Table::Marks), *rows);
        }
        let marks = match self.stager.take() {
            Some(stager) => Some((generated(Table::Marks), stager.finish().await?)),
            None => None,
        };
        self.tx.complete(Staged { refs, marks }).await
    }
}

/// How errors name a generated table.
fn generated(table: Table) -> String {
    format!("{} (generated)", table.name())
}
