//! Merging staged marks into the stored history, one academic year × period
//! at a time.
//!
//! DataFusion sorts the stored versions and the staged rows of a partition
//! together (spilling under the session's memory limit) by mark, then
//! `recorded_at`, stored rows first; one pass over that order then
//! - keeps one row per version (a repeated version adds nothing),
//! - rejects two different values recorded at the same instant (ambiguous),
//! - writes the new `marks_history` partition, and
//! - writes the new `marks` partition: each mark's latest version, unless
//!   that version cleared it.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use sapa_udfs::mark::Mark;

use super::error::{ErrorLog, IngestError, LocatedError};
use super::marks::staging_schema;
use crate::engine::catalog::{listing_table, sorted_listing_table};
use crate::storage::writer::ParquetWriter;
use crate::storage::{DataFile, DataLocation, StoredTable};

/// Rows per batch handed to the writers.
const OUT_ROWS: usize = 64 * 1024;

/// The outcome of merging one partition.
#[derive(Debug, Default)]
pub(crate) struct PartitionMerge {
    /// The new `marks_history` files of the partition.
    pub(crate) history: Vec<DataFile>,
    /// The new `marks` files of the partition.
    pub(crate) current: Vec<DataFile>,
    /// Versions added.
    pub(crate) new: u64,
    /// Input rows that repeated a known version.
    pub(crate) duplicate: u64,
}

/// One partition to merge.
pub(crate) struct PartitionInput<'a> {
    pub(crate) academic_year: i32,
    pub(crate) period: &'static str,
    /// The stored history files of the partition.
    pub(crate) stored: &'a [DataFile],
    /// The staging files of the partition, by merge unit.
    pub(crate) staged: &'a BTreeMap<u32, Vec<String>>,
    /// The districts of each merge unit, in stored order.
    pub(crate) units: &'a [Vec<i64>],
    /// The input file the staged rows came from.
    pub(crate) file: &'a str,
}

/// Merges one partition, unit by unit, writing its new `marks_history` and
/// `marks` files for `version` (which only a committed manifest makes
/// visible).
pub(crate) async fn merge_partition(
    ctx: &SessionContext,
    loc: &DataLocation,
    version: u64,
    input: &PartitionInput<'_>,
    errors: &mut ErrorLog,
) -> Result<PartitionMerge, IngestError> {
    if let Some(unit) = input
        .staged
        .keys()
        .find(|u| **u as usize >= input.units.len())
    {
        return Err(IngestError::Inconsistent(format!(
            "staged merge unit {unit} is unknown"
        )));
    }
    let stored_rows: u64 = input.stored.iter().map(|f| f.rows).sum();
    // Each stored file apart, declared in its sort order: the plan then
    // sorts only the staged rows and merges them into the stored ones,
    // instead of sorting the whole partition again.
    let table = StoredTable::MarksHistory;
    let mut stored_tables = Vec::with_capacity(input.stored.len());
    for (i, file) in input.stored.iter().enumerate() {
        let name = format!("stored_versions_{i}");
        let _ = ctx.deregister_table(&name)?;
        ctx.register_table(
            &name,
            sorted_listing_table(
                loc,
                std::slice::from_ref(&file.path),
                table.schema(),
                table.sort_columns(),
            )?,
        )?;
        stored_tables.push(name);
    }
    let partition = Some((input.academic_year, input.period));
    let mut history = ParquetWriter::for_table(loc, StoredTable::MarksHistory, version, partition)?;
    let mut current = ParquetWriter::for_table(loc, StoredTable::Marks, version, partition)?;
    let mut merger = Merger::new(input);
    let cols =
        "region_id, district_id, school_id, class_id, student_id, subject_id, recorded_at, mark";
    for (unit, districts) in input.units.iter().enumerate() {
        let staged = u32::try_from(unit)
            .ok()
            .and_then(|u| input.staged.get(&u))
            .map_or(&[][..], Vec::as_slice);
        if districts.is_empty() || (staged.is_empty() && stored_rows == 0) {
            continue;
        }
        let _ = ctx.deregister_table("staged_versions")?;
        ctx.register_table(
            "staged_versions",
            listing_table(loc, staged, staging_schema())?,
        )?;
        let districts = districts
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        // Stored files are sorted by district: statistics skip the row
        // groups of other units.
        let stored: String = stored_tables
            .iter()
            .map(|t| {
                format!(
                    "SELECT {cols}, 0 AS src, CAST(NULL AS BIGINT) AS line FROM {t} \
                     WHERE district_id IN ({districts}) UNION ALL "
                )
            })
            .collect();
        let sql = format!(
            "SELECT {cols}, src, line FROM ( \
               {stored} \
               SELECT {cols}, 1 AS src, line FROM staged_versions) AS u \
             ORDER BY region_id, district_id, school_id, class_id, student_id, subject_id, \
                      recorded_at, src, line"
        );
        let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
        while let Some(batch) = stream.next().await {
            merger.push_batch(&batch?, errors)?;
            if errors.is_empty() {
                flush(&mut merger, &mut history, &mut current, false).await?;
            }
        }
    }
    merger.end();
    if merger.stored_seen != stored_rows {
        return Err(IngestError::Inconsistent(format!(
            "marks_history {} {}: {} stored rows merged of {stored_rows}",
            input.academic_year, input.period, merger.stored_seen
        )));
    }
    if errors.is_empty() {
        flush(&mut merger, &mut history, &mut current, true).await?;
    }
    Ok(PartitionMerge {
        history: history.finish().await?,
        current: current.finish().await?,
        new: merger.new,
        duplicate: merger.duplicate,
    })
}

async fn flush(
    merger: &mut Merger,
    history: &mut ParquetWriter,
    current: &mut ParquetWriter,
    all: bool,
) -> Result<(), IngestError> {
    if all || merger.history.rows >= OUT_ROWS {
        let batch = merger
            .history
            .finish(StoredTable::MarksHistory, merger.year, merger.period)?;
        history.write(&batch).await?;
    }
    if all || merger.current.rows >= OUT_ROWS {
        let batch = merger
            .current
            .finish(StoredTable::Marks, merger.year, merger.period)?;
        current.write(&batch).await?;
    }
    Ok(())
}

/// One version as it comes out of the sort.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Version {
    /// region, district, school, class, student, subject.
    key: [i64; 6],
    recorded_at: i64,
    mark: Option<&'static str>,
    /// Whether it comes from the input (else from the stored history).
    from_input: bool,
    line: i64,
}

/// The pass over one partition's sorted versions.
struct Merger {
    year: i32,
    period: &'static str,
    file: String,
    last: Option<Version>,
    history: OutRows,
    current: OutRows,
    new: u64,
    duplicate: u64,
    /// Stored rows seen, to check that every unit was merged.
    stored_seen: u64,
}

impl Merger {
    fn new(input: &PartitionInput<'_>) -> Merger {
        Merger {
            year: input.academic_year,
            period: input.period,
            file: input.file.to_string(),
            last: None,
            history: OutRows::default(),
            current: OutRows::default(),
            new: 0,
            duplicate: 0,
            stored_seen: 0,
        }
    }

    fn push_batch(
        &mut self,
        batch: &RecordBatch,
        errors: &mut ErrorLog,
    ) -> Result<(), IngestError> {
        let col = |i: usize| -> Result<&ArrayRef, IngestError> {
            (i < batch.num_columns())
                .then(|| batch.column(i))
                .ok_or_else(|| IngestError::Inconsistent("merge query lost a column".into()))
        };
        let ints: Vec<_> = (0..6)
            .map(|i| col(i)?.as_primitive_opt::<Int64Type>().ok_or_else(bad_type))
            .collect::<Result<_, _>>()?;
        let recorded = col(6)?
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(bad_type)?;
        let marks = col(7)?;
        let marks = marks.as_string_opt::<i32>().ok_or_else(bad_type)?;
        let src = col(8)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(bad_type)?;
        let lines = col(9)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(bad_type)?;
        for row in 0..batch.num_rows() {
            let mut key = [0i64; 6];
            for (k, a) in key.iter_mut().zip(&ints) {
                *k = a.value(row);
            }
            let mark = if marks.is_valid(row) {
                let code = marks.value(row);
                Some(canonical(code).ok_or_else(|| {
                    IngestError::Inconsistent(format!(
                        "stored mark {code:?} is not a canonical code"
                    ))
                })?)
            } else {
                None
            };
            self.stored_seen += u64::from(src.value(row) == 0);
            self.push(
                Version {
                    key,
                    recorded_at: recorded.value(row),
                    mark,
                    from_input: src.value(row) == 1,
                    line: if lines.is_valid(row) {
                        lines.value(row)
                    } else {
                        0
                    },
                },
                errors,
            );
        }
        Ok(())
    }

    fn push(&mut self, v: Version, errors: &mut ErrorLog) {
        match self.last {
            Some(last) if last.key == v.key && last.recorded_at == v.recorded_at => {
                if last.mark == v.mark {
                    self.duplicate += u64::from(v.from_input);
                } else if v.from_input {
                    errors.push(self.ambiguity(&last, &v));
                }
            }
            Some(last) => {
                self.emit_version(&last);
                if last.key != v.key {
                    self.emit_current(&last);
                }
                self.last = Some(v);
            }
            None => self.last = Some(v),
        }
    }

    /// Emits the last version after the final row.
    fn end(&mut self) {
        if let Some(last) = self.last.take() {
            self.emit_version(&last);
            self.emit_current(&last);
        }
    }

    fn emit_version(&mut self, v: &Version) {
        self.new += u64::from(v.from_input);
        self.history.push(v);
    }

    fn emit_current(&mut self, v: &Version) {
        if v.mark.is_some() {
            self.current.push(v);
        }
    }

    fn ambiguity(&self, first: &Version, v: &Version) -> LocatedError {
        let [.., class, student, subject] = v.key;
        let when = chrono::DateTime::from_timestamp_micros(v.recorded_at)
            .map_or_else(|| v.recorded_at.to_string(), |t| t.naive_utc().to_string());
        let show = |m: Option<&str>| m.map_or_else(|| "(empty)".to_string(), |m| format!("{m:?}"));
        let other = if first.from_input {
            format!("line {}", first.line)
        } else {
            "the stored history".to_string()
        };
        LocatedError::value(
            &self.file,
            u64::try_from(v.line).unwrap_or(0),
            "mark",
            v.mark.unwrap_or(""),
            format!(
                "ambiguous version: student {student}, class {class}, subject {subject}, period \
                 {} recorded at {when} is {} here but {} in {other}",
                self.period,
                show(v.mark),
                show(first.mark)
            ),
        )
    }
}

fn bad_type() -> IngestError {
    IngestError::Inconsistent("merge query returned an unexpected column type".into())
}

/// The canonical code `code` is, as a static string.
fn canonical(code: &str) -> Option<&'static str> {
    Mark::ALL.iter().map(|m| m.code()).find(|c| *c == code)
}

/// Output rows of `marks_history` or `marks` for one partition.
#[derive(Default)]
struct OutRows {
    rows: usize,
    ints: [Int64Builder; 6],
    mark: StringBuilder,
    recorded: TimestampMicrosecondBuilder,
}

impl OutRows {
    fn push(&mut self, v: &Version) {
        for (b, k) in self.ints.iter_mut().zip(v.key) {
            b.append_value(k);
        }
        self.mark.append_option(v.mark);
        self.recorded.append_value(v.recorded_at);
        self.rows += 1;
    }

    fn finish(
        &mut self,
        table: StoredTable,
        year: i32,
        period: &str,
    ) -> Result<RecordBatch, IngestError> {
        let n = self.rows;
        self.rows = 0;
        let mut years = Int32Builder::with_capacity(n);
        years.append_value_n(year, n);
        let mut periods = StringBuilder::with_capacity(n, n * period.len());
        for _ in 0..n {
            periods.append_value(period);
        }
        let mut columns: Vec<ArrayRef> = vec![Arc::new(years.finish()), Arc::new(periods.finish())];
        columns.extend(
            self.ints
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.push(Arc::new(self.mark.finish()));
        columns.push(Arc::new(self.recorded.finish()));
        Ok(RecordBatch::try_new(table.schema(), columns)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn v(
        student: i64,
        ts: i64,
        mark: Option<&'static str>,
        from_input: bool,
        line: i64,
    ) -> Version {
        Version {
            key: [1, 10, 100, 1000, student, 5],
            recorded_at: ts,
            mark,
            from_input,
            line,
        }
    }

    fn merger() -> Merger {
        Merger {
            year: 2024,
            period: "Q1",
            file: "marks.csv".into(),
            last: None,
            history: OutRows::default(),
            current: OutRows::default(),
            new: 0,
            duplicate: 0,
            stored_seen: 0,
        }
    }

    #[test]
    fn versions_dedup_and_latest_wins() {
        let mut m = merger();
        let mut errors = ErrorLog::new(10);
        // Student 1: stored "4" at t=1, input repeats it, input "5" at t=2.
        m.push(v(1, 1, Some("4"), false, 0), &mut errors);
        m.push(v(1, 1, Some("4"), true, 2), &mut errors);
        m.push(v(1, 2, Some("5"), true, 3), &mut errors);
        // Student 2: "3" then cleared: no current mark.
        m.push(v(2, 1, Some("3"), true, 4), &mut errors);
        m.push(v(2, 5, None, true, 5), &mut errors);
        m.end();
        assert!(errors.is_empty());
        assert_eq!((m.new, m.duplicate), (3, 1));
        assert_eq!(m.history.rows, 4);
        let current = m.current.finish(StoredTable::Marks, 2024, "Q1").unwrap();
        assert_eq!(current.num_rows(), 1);
        assert_eq!(current.column(8).as_string::<i32>().value(0), "5");
        assert_eq!(current.column(6).as_primitive::<Int64Type>().value(0), 1);
    }

    #[test]
    fn same_instant_different_value_is_ambiguous() {
        let mut m = merger();
        let mut errors = ErrorLog::new(10);
        m.push(v(1, 0, Some("4"), true, 2), &mut errors);
        m.push(v(1, 0, Some("5"), true, 7), &mut errors);
        m.push(v(2, 0, Some("4"), false, 0), &mut errors);
        m.push(v(2, 0, None, true, 9), &mut errors);
        let err = errors.check().unwrap_err();
        let located = err.located();
        assert_eq!(
            located[0].to_string(),
            "marks.csv line 7, column mark, value \"5\": ambiguous version: student 1, class 1000, \
             subject 5, period Q1 recorded at 1970-01-01 00:00:00 is \"5\" here but \"4\" in line 2"
        );
        assert!(
            located[1]
                .to_string()
                .contains("is (empty) here but \"4\" in the stored history")
        );
    }
}
