//! `earlier_statuses`: the statuses students had as of past weekly updates
//! (SPEC §6), wherever they differ from the current one.
//!
//! Only the marks are dated, so a student's status in a class changes only
//! at the updates that first show one of its mark versions (the Sunday on
//! or after the version's day). Between two such Sundays it is the SPEC §3
//! status of the versions shown by the first; before the first it is
//! `ungraded`; from the last on it is the current (stored) status. A row
//! here is one such stretch whose status or marks count differs from the
//! current one: from the update of `from_sunday` (NULL: from before any
//! version) up to, not including, that of `until_sunday`.
//!
//! So "as of D" is the stored `student_status` overridden by the row that
//! covers D's update, if any (`crate::engine::views::as_of`): a scan and a join,
//! whatever the date, instead of re-running the status query.
//!
//! Ingest computes the rows of a partition in one pass over its
//! `marks_history` files in their stored order (a student's versions are
//! contiguous, by subject then `recorded_at`), with the filters of SPEC §4
//! that belong to marks: certified subjects, and for `YEAR` the annual mark
//! (`FINAL` if set, else `YEAR`). Memberships are the stored statuses'
//! business: an override joins its student's row by class.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, AsArray, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimestampMicrosecondType};
use datafusion::common::{exec_datafusion_err, exec_err};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use sapa_udfs::calendar::publication_sunday_days;
use sapa_udfs::{Mark, Status, StatusBits, lookup_mark};

use crate::storage::StoredTable;
use crate::storage::writer::ParquetWriter;

/// Rows per written batch.
const BATCH_ROWS: usize = 64 * 1024;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Where a (class, student) group sits in the stored order: region,
/// district, school, class, student.
type Key = [i64; 5];

/// One version of a counted mark.
#[derive(Debug, Clone, Copy)]
struct Version {
    subject: i64,
    /// A `FINAL` version (of the `YEAR` status); else the period's own.
    is_final: bool,
    /// NULL: the mark was cleared.
    mark: Option<Mark>,
    /// The Sunday (days since 1970-01-01) whose update first shows it.
    shown: i32,
}

/// A status and marks count.
type Value = (Status, i64);

/// Writes the `earlier_statuses` rows of (`academic_year`, `period`) to
/// `out`, reading `marks_history` and `subjects` from `ctx`, which must
/// scan in one partition so files come back in their stored order.
pub async fn write_partition(
    ctx: &SessionContext,
    academic_year: i32,
    period: &str,
    out: &mut ParquetWriter,
) -> Result<()> {
    let certified: HashSet<i64> =
        ids(ctx, "SELECT subject_id FROM subjects WHERE certified").await?;
    let mut rows = Rows::new(academic_year, period);
    // YEAR: the FINAL versions, in the same order, merged in by key.
    let mut finals = if period == "YEAR" {
        let mut all = Vec::new();
        let mut reader = Reader::open(ctx, academic_year, "FINAL", true, &certified).await?;
        while let Some(batch) = reader.next().await? {
            all.extend(batch);
        }
        all
    } else {
        Vec::new()
    }
    .into_iter()
    .peekable();
    let mut reader = Reader::open(ctx, academic_year, period, false, &certified).await?;
    let mut group: Option<(Key, Vec<Version>)> = None;
    while let Some(batch) = reader.next().await? {
        for (key, version) in batch {
            if group.as_ref().is_some_and(|(k, _)| *k != key)
                && let Some((k, versions)) = group.take()
            {
                finish(k, versions, &mut finals, &mut rows);
            }
            let (_, versions) = group.get_or_insert_with(|| (key, Vec::new()));
            versions.push(version);
        }
        for batch in rows.full_batches()? {
            out.write(&batch)
                .await
                .map_err(|e| exec_datafusion_err!("{e}"))?;
        }
    }
    if let Some((k, versions)) = group.take() {
        finish(k, versions, &mut finals, &mut rows);
    }
    // FINAL versions of students with no YEAR version at all.
    while let Some((key, _)) = finals.peek().copied() {
        let mut versions = Vec::new();
        while let Some((_, v)) = finals.next_if(|(k, _)| *k == key) {
            versions.push(v);
        }
        rows.group(key, versions);
    }
    for batch in rows.all_batches()? {
        out.write(&batch)
            .await
            .map_err(|e| exec_datafusion_err!("{e}"))?;
    }
    Ok(())
}

/// Ends the group `key`: first the FINAL-only groups before it, then it
/// with its own FINAL versions.
fn finish(
    key: Key,
    mut versions: Vec<Version>,
    finals: &mut std::iter::Peekable<std::vec::IntoIter<(Key, Version)>>,
    rows: &mut Rows,
) {
    while let Some((k, _)) = finals.peek().copied() {
        if k >= key {
            break;
        }
        let mut only = Vec::new();
        while let Some((_, v)) = finals.next_if(|(kk, _)| *kk == k) {
            only.push(v);
        }
        rows.group(k, only);
    }
    while let Some((_, v)) = finals.next_if(|(k, _)| *k == key) {
        versions.push(v);
    }
    rows.group(key, versions);
}

/// The status of a group's versions shown by the update of Sunday `at`.
fn value_at(versions: &[Version], at: i32) -> Value {
    let mut bits = StatusBits::EMPTY;
    let mut count = 0;
    let mut i = 0;
    while i < versions.len() {
        let subject = versions[i].subject;
        let (mut own, mut fin) = (None, None);
        // Versions of a subject are in `recorded_at` order: the last shown wins.
        while i < versions.len() && versions[i].subject == subject {
            let v = versions[i];
            if v.shown <= at {
                if v.is_final {
                    fin = Some(v.mark);
                } else {
                    own = Some(v.mark);
                }
            }
            i += 1;
        }
        // SPEC §4.5: FINAL if set (a cleared FINAL falls back), else YEAR.
        if let Some(mark) = fin.flatten().or(own.flatten()) {
            bits = bits.add(mark);
            count += 1;
        }
    }
    if count == 0 {
        (Status::Ungraded, 0)
    } else {
        (bits.status(), count)
    }
}

/// The stretches of one group whose value differs from the current one:
/// (from, until, value), `from` None for "since before any version".
fn stretches(mut versions: Vec<Version>) -> Vec<(Option<i32>, i32, Value)> {
    // Subjects together, own versions before FINAL ones; stable, so each
    // kind keeps its `recorded_at` order.
    versions.sort_by_key(|v| (v.subject, v.is_final));
    let mut sundays: Vec<i32> = versions.iter().map(|v| v.shown).collect();
    sundays.sort_unstable();
    sundays.dedup();
    let current = value_at(&versions, i32::MAX);
    let mut out: Vec<(Option<i32>, i32, Value)> = Vec::new();
    let mut from = None;
    let mut value = (Status::Ungraded, 0);
    for &sunday in &sundays {
        if value != current {
            match out.last_mut() {
                Some(last) if last.2 == value && last.1 == from.unwrap_or(i32::MIN) => {
                    last.1 = sunday
                }
                _ => out.push((from, sunday, value)),
            }
        }
        from = Some(sunday);
        value = value_at(&versions, sunday);
    }
    out
}

/// The output columns, filled group by group.
struct Rows {
    academic_year: i32,
    period: String,
    keys: Vec<Key>,
    status: Vec<&'static str>,
    marks_count: Vec<i64>,
    from: Vec<Option<i32>>,
    until: Vec<i32>,
}

impl Rows {
    fn new(academic_year: i32, period: &str) -> Rows {
        Rows {
            academic_year,
            period: period.to_string(),
            keys: Vec::new(),
            status: Vec::new(),
            marks_count: Vec::new(),
            from: Vec::new(),
            until: Vec::new(),
        }
    }

    fn group(&mut self, key: Key, versions: Vec<Version>) {
        for (from, until, (status, count)) in stretches(versions) {
            self.keys.push(key);
            self.status.push(status.as_str());
            self.marks_count.push(count);
            self.from.push(from);
            self.until.push(until);
        }
    }

    /// The batches of [`BATCH_ROWS`] rows ready so far.
    fn full_batches(&mut self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        while self.keys.len() >= BATCH_ROWS {
            out.push(self.take(BATCH_ROWS)?);
        }
        Ok(out)
    }

    /// Every remaining row.
    fn all_batches(&mut self) -> Result<Vec<RecordBatch>> {
        let mut out = self.full_batches()?;
        if !self.keys.is_empty() {
            out.push(self.take(self.keys.len())?);
        }
        Ok(out)
    }

    fn take(&mut self, n: usize) -> Result<RecordBatch> {
        let keys: Vec<Key> = self.keys.drain(..n).collect();
        let key = |i: usize| Arc::new(Int64Array::from_iter_values(keys.iter().map(|k| k[i])));
        let batch = RecordBatch::try_new(
            StoredTable::EarlierStatuses.schema(),
            vec![
                Arc::new(Int32Array::from(vec![self.academic_year; n])),
                Arc::new(StringArray::from(vec![self.period.as_str(); n])),
                key(0),
                key(1),
                key(2),
                key(3),
                key(4),
                Arc::new(StringArray::from_iter_values(self.status.drain(..n))),
                Arc::new(Int64Array::from_iter_values(self.marks_count.drain(..n))),
                Arc::new(Date32Array::from_iter(self.from.drain(..n))),
                Arc::new(Date32Array::from_iter_values(self.until.drain(..n))),
            ],
        )?;
        Ok(batch)
    }
}

/// The counted versions of one stored partition, batch by batch, checked
/// to come in the stored order.
struct Reader<'a> {
    stream: datafusion::execution::SendableRecordBatchStream,
    is_final: bool,
    certified: &'a HashSet<i64>,
    last: Option<(Key, i64, i64)>,
    what: String,
}

impl<'a> Reader<'a> {
    async fn open(
        ctx: &SessionContext,
        academic_year: i32,
        period: &str,
        is_final: bool,
        certified: &'a HashSet<i64>,
    ) -> Result<Reader<'a>> {
        // `period` is one of the fixed periods, never user text.
        let sql = format!(
            "SELECT region_id, district_id, school_id, class_id, student_id, subject_id, \
             mark, recorded_at FROM marks_history \
             WHERE academic_year = {academic_year} AND period = '{}'",
            period.replace('\'', "''")
        );
        Ok(Reader {
            stream: ctx.sql(&sql).await?.execute_stream().await?,
            is_final,
            certified,
            last: None,
            what: format!("marks_history {academic_year} {period}"),
        })
    }

    /// The next batch's counted versions with their keys; None at the end.
    async fn next(&mut self) -> Result<Option<Vec<(Key, Version)>>> {
        let Some(batch) = self.stream.next().await.transpose()? else {
            return Ok(None);
        };
        let int = |i: usize| batch.column(i).as_primitive::<Int64Type>().clone();
        let (region, district, school, class, student, subject) =
            (int(0), int(1), int(2), int(3), int(4), int(5));
        let marks = cast(batch.column(6), &DataType::Utf8)?;
        let marks = marks.as_string::<i32>();
        let recorded = batch.column(7).as_primitive::<TimestampMicrosecondType>();
        let mut out = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            let key = [
                region.value(i),
                district.value(i),
                school.value(i),
                class.value(i),
                student.value(i),
            ];
            let at = recorded.value(i);
            let place = (key, subject.value(i), at);
            if self.last.is_some_and(|last| last > place) {
                return exec_err!("{} is not in its stored order at {place:?}", self.what);
            }
            self.last = Some(place);
            if !self.certified.contains(&subject.value(i)) {
                continue;
            }
            let mark = if marks.is_null(i) {
                None
            } else {
                lookup_mark(marks.value(i))
                    .map_err(|e| exec_datafusion_err!("{}: {e}", self.what))?
            };
            let day = i32::try_from(at.div_euclid(MICROS_PER_DAY)).map_err(|_| {
                exec_datafusion_err!("{}: recorded_at {at} out of range", self.what)
            })?;
            let shown = publication_sunday_days(day)
                .map_err(|e| exec_datafusion_err!("{}: {e}", self.what))?;
            out.push((
                key,
                Version {
                    subject: subject.value(i),
                    is_final: self.is_final,
                    mark,
                    shown,
                },
            ));
        }
        Ok(Some(out))
    }
}

/// The ids of a one-column Int64 query.
async fn ids(ctx: &SessionContext, sql: &str) -> Result<HashSet<i64>> {
    let mut out = HashSet::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        out.extend(batch.column(0).as_primitive::<Int64Type>().iter().flatten());
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
