//! One ingest as a transaction: everything it writes goes into the
//! directories of a version that only becomes current when its manifest is
//! committed; on failure those directories are removed again (and, should
//! the process die first, by the next ingest).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::Int32Type;
use futures::StreamExt;
use sapa_datasets::schema::REPORT_PERIODS;

mod derived;

use super::error::{ErrorLog, IngestError};
use super::marks::StagedPartitions;
use super::merge::{PartitionInput, merge_partition};
use super::reference::References;
use super::{IngestOptions, IngestReport, Progress, TableSize};
use crate::engine::status::derived_partition;
use crate::engine::{Engine, EngineOptions};
use crate::storage::writer::ParquetWriter;
use crate::storage::{
    CommitSummary, DataFile, DataLocation, Manifest, StoredTable, WriterLock, cleanup, manifest,
};

/// What the reading stage hands to the commit stage.
pub(crate) struct Staged {
    /// The merged reference tables.
    pub(crate) refs: References,
    /// The input file of the marks and their staging files, if marks came.
    pub(crate) marks: Option<(String, StagedPartitions)>,
}

/// The reference tables a student's status depends on.
const STATUS_INPUTS: [StoredTable; 5] = [
    StoredTable::Schools,
    StoredTable::Subjects,
    StoredTable::Calendar,
    StoredTable::Classes,
    StoredTable::Enrollments,
];

/// An ingest in progress.
pub(crate) struct Transaction {
    pub(crate) loc: DataLocation,
    pub(crate) prev: Option<Manifest>,
    pub(crate) version: u64,
    pub(crate) opts: IngestOptions,
    pub(crate) errors: ErrorLog,
    pub(crate) summary: CommitSummary,
    started: Instant,
    /// Held from the clean-up before this version to its commit.
    writer: Option<WriterLock>,
}

impl Transaction {
    /// Starts the ingest of the next version, first removing what an
    /// earlier failed or killed ingest may have left.
    pub(crate) async fn begin(
        loc: &DataLocation,
        opts: &IngestOptions,
        source: &str,
    ) -> Result<Transaction, IngestError> {
        // Before the clean-up: another writer's files are not leftovers.
        let writer = WriterLock::acquire(loc, &format!("ingest of {source}")).await?;
        let prev = manifest::read_current(loc).await?;
        cleanup::remove_uncommitted(loc, prev.as_ref()).await?;
        let version = prev.as_ref().map_or(1, |m| m.version + 1);
        Ok(Transaction {
            loc: loc.clone(),
            version,
            prev,
            opts: opts.clone(),
            errors: ErrorLog::new(opts.error_limit),
            summary: CommitSummary {
                source: source.to_string(),
                ..CommitSummary::default()
            },
            started: Instant::now(),
            writer: Some(writer),
        })
    }

    /// Reports progress.
    pub(crate) fn progress(&self, event: Progress) {
        if let Some(f) = &self.opts.progress {
            f(&event);
        }
    }

    /// The reference tables of the current version (none before the first).
    pub(crate) async fn stored_references(
        &self,
    ) -> Result<BTreeMap<StoredTable, RecordBatch>, IngestError> {
        let Some(prev) = &self.prev else {
            return Ok(BTreeMap::new());
        };
        // One partition: each table comes back as one stream, in file order.
        let options = EngineOptions {
            target_partitions: Some(1),
            ..self.opts.engine.clone()
        };
        let engine = Engine::at(&self.loc, prev.clone()).with_options(options);
        let ctx = engine.session_context()?;
        let mut out = BTreeMap::new();
        for table in StoredTable::REFERENCE {
            let batches = ctx.table(table.name()).await?.collect().await?;
            let schema = table.schema();
            let mut fitted = Vec::with_capacity(batches.len());
            for b in batches {
                // A scan may hand strings back as views; store them as declared.
                let columns = b
                    .columns()
                    .iter()
                    .zip(schema.fields())
                    .map(|(c, f)| cast(c, f.data_type()))
                    .collect::<Result<Vec<_>, _>>()?;
                fitted.push(RecordBatch::try_new(schema.clone(), columns)?);
            }
            out.insert(table, concat_batches(&schema, &fitted)?);
        }
        Ok(out)
    }

    /// Writes the version, materialises `student_status` and commits it —
    /// unless the input changed nothing, in which case nothing is committed.
    pub(crate) async fn complete(&mut self, staged: Staged) -> Result<IngestReport, IngestError> {
        self.errors.check()?;
        let prev_files = |t: StoredTable| -> Vec<DataFile> {
            self.prev
                .as_ref()
                .map(|m| m.files(t).to_vec())
                .unwrap_or_default()
        };
        let mut m = Manifest::new(self.version, self.prev.as_ref().map(|p| p.version));
        for table in StoredTable::REFERENCE {
            let files = match staged.refs.tables.get(&table) {
                Some(batch) if staged.refs.changed.contains(&table) => {
                    let mut w = ParquetWriter::for_table(&self.loc, table, self.version, None)?;
                    w.write(batch).await?;
                    w.finish().await?
                }
                _ => prev_files(table),
            };
            m.tables.insert(table.name().to_string(), files);
        }

        let mut history = prev_files(StoredTable::MarksHistory);
        let mut current = prev_files(StoredTable::Marks);
        let mut touched = BTreeSet::new();
        if let Some((file, parts)) = &staged.marks {
            let ctx = Engine::at(&self.loc, Manifest::new(0, None))
                .with_options(self.opts.engine.clone())
                .session_context()?;
            for (done, (&(year, period), staged_files)) in parts.iter().enumerate() {
                self.progress(Progress::Merging {
                    academic_year: year,
                    period: period.to_string(),
                    done,
                    total: parts.len(),
                });
                let stored: Vec<DataFile> = history
                    .iter()
                    .filter(|f| f.in_partition(year, period))
                    .cloned()
                    .collect();
                let input = PartitionInput {
                    academic_year: year,
                    period,
                    stored: &stored,
                    staged: staged_files,
                    units: &staged.refs.units.districts,
                    file,
                };
                let out = merge_partition(&ctx, &self.loc, self.version, &input, &mut self.errors)
                    .await?;
                self.summary.marks_new += out.new;
                self.summary.marks_duplicate += out.duplicate;
                // A partition that gained no version keeps its stored files;
                // the rewritten ones are left for the clean-up.
                if out.new > 0 {
                    replace_partition(&mut history, year, period, out.history);
                    replace_partition(&mut current, year, period, out.current);
                    touched.insert((year, period));
                }
            }
            self.errors.check()?;
        }
        m.tables
            .insert(StoredTable::MarksHistory.name().into(), history);
        m.tables.insert(StoredTable::Marks.name().into(), current);

        if staged.refs.changed.is_empty() && touched.is_empty() && self.prev.is_some() {
            return self.unchanged().await;
        }

        let mut status = prev_files(StoredTable::StudentStatus);
        let targets = self.status_targets(&staged.refs, &status, &touched)?;
        m.tables
            .insert(StoredTable::StudentStatus.name().into(), status.clone());
        let ctx = Engine::at(&self.loc, m.clone())
            .with_options(self.opts.engine.clone())
            .session_context()?;
        for (done, &(year, period)) in targets.iter().enumerate() {
            self.progress(Progress::Materialising {
                academic_year: year,
                period: period.to_string(),
                done,
                total: targets.len(),
            });
            let mut stream =
                derived_partition(&ctx, StoredTable::StudentStatus, year, period).await?;
            let mut w = ParquetWriter::for_table(
                &self.loc,
                StoredTable::StudentStatus,
                self.version,
                Some((year, period)),
            )?;
            while let Some(batch) = stream.next().await {
                w.write(&batch?).await?;
            }
            replace_partition(&mut status, year, period, w.finish().await?);
        }
        m.tables
            .insert(StoredTable::StudentStatus.name().into(), status);
        self.materialise_derived(&mut m, &targets).await?;
        self.materialise_audit(&mut m, &touched).await?;
        m.summary = self.summary.clone();

        self.progress(Progress::Committing {
            version: self.version,
        });
        let own_dir = format!("/v{:06}/", self.version);
        let new_files: Vec<String> = m
            .all_paths()
            .filter(|p| p.contains(&own_dir))
            .map(String::from)
            .collect();
        if let Some(writer) = &self.writer {
            writer.check()?;
        }
        manifest::commit(&self.loc, &m, &new_files).await?;
        // Committed: the staging files and unused rewrites can go. A failure
        // here is harmless (the next ingest removes them), so it is ignored.
        let _ = cleanup::remove_uncommitted(&self.loc, Some(&m)).await;
        self.let_go().await;
        Ok(self.report(&m, true))
    }

    /// Ends an ingest that changed nothing: no new version.
    async fn unchanged(&mut self) -> Result<IngestReport, IngestError> {
        cleanup::remove_uncommitted(&self.loc, self.prev.as_ref()).await?;
        self.let_go().await;
        let prev = self.prev.clone().unwrap_or_else(|| Manifest::new(0, None));
        Ok(self.report(&prev, false))
    }

    /// Undoes an ingest that failed: removes every file of the version.
    /// Best effort: what stays is removed by the next ingest. A commit that
    /// lost a race removes nothing, since the files of its version number
    /// are the winner's now.
    pub(crate) async fn rollback(&mut self) {
        let committed_by_another = manifest::read_pointer(&self.loc)
            .await
            .ok()
            .flatten()
            .is_some_and(|p| p.version >= self.version);
        if !committed_by_another {
            let _ = cleanup::remove_uncommitted(&self.loc, self.prev.as_ref()).await;
        }
        self.let_go().await;
    }

    /// Releases the writer lock now rather than when the transaction drops:
    /// an object-store lock is deleted by a request the process must wait for.
    async fn let_go(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.release().await;
        }
    }

    /// The (year, period) partitions of `student_status` to recompute: all
    /// of them when a table the status depends on changed (or on the first
    /// ingest), else those whose marks gained versions (YEAR and FINAL
    /// marks make the YEAR status).
    fn status_targets(
        &self,
        refs: &References,
        stored: &[DataFile],
        touched: &BTreeSet<(i32, &'static str)>,
    ) -> Result<BTreeSet<(i32, &'static str)>, IngestError> {
        let report_period = |p: &str| REPORT_PERIODS.iter().copied().find(|r| *r == p);
        let everything =
            self.prev.is_none() || STATUS_INPUTS.iter().any(|t| refs.changed.contains(t));
        if !everything {
            return Ok(touched
                .iter()
                .map(|&(y, p)| (y, report_period(p).unwrap_or("YEAR")))
                .collect());
        }
        let mut targets: BTreeSet<(i32, &'static str)> = stored
            .iter()
            .filter_map(|f| Some((f.academic_year?, report_period(f.period.as_deref()?)?)))
            .collect();
        let calendar = refs
            .tables
            .get(&StoredTable::Calendar)
            .ok_or_else(|| IngestError::Inconsistent("calendar not merged".into()))?;
        let years = calendar
            .column_by_name("academic_year")
            .and_then(|c| c.as_primitive_opt::<Int32Type>())
            .ok_or_else(|| IngestError::Inconsistent("calendar.academic_year".into()))?;
        let periods = calendar
            .column_by_name("period")
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(|| IngestError::Inconsistent("calendar.period".into()))?;
        for (year, period) in years.values().iter().zip(periods.iter()) {
            if let Some(p) = period.and_then(report_period) {
                targets.insert((*year, p));
                if p == "Q4" {
                    targets.insert((*year, "YEAR"));
                }
            }
        }
        Ok(targets)
    }

    fn report(&self, m: &Manifest, committed: bool) -> IngestReport {
        let tables = StoredTable::ALL
            .iter()
            .map(|t| {
                let files = m.files(*t);
                (
                    t.name().to_string(),
                    TableSize {
                        rows: m.rows(*t),
                        files: files.len() as u64,
                        bytes: m.bytes(*t),
                    },
                )
            })
            .collect();
        IngestReport {
            version: m.version,
            committed,
            rows_read: self.summary.rows_read.clone(),
            marks_new: self.summary.marks_new,
            marks_duplicate: self.summary.marks_duplicate,
            look_alikes: self.summary.look_alikes,
            warnings: self.summary.warnings.clone(),
            tables,
            elapsed: self.started.elapsed(),
        }
    }
}

/// Replaces the files of partition (`year`, `period`) in `files`.
pub(super) fn replace_partition(
    files: &mut Vec<DataFile>,
    year: i32,
    period: &str,
    new: Vec<DataFile>,
) {
    files.retain(|f| !f.in_partition(year, period));
    files.extend(new);
}
