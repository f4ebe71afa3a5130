//! The rows of the `mark_audit` view (SPEC §6 marking windows), stored.
//!
//! `src/views/mark_audit.sql` defines them: every version of a mark recorded
//! on or after the day after its period's end date that changes the value
//! before it, as `late`, `changed` or `cleared`. As SQL that is a window over
//! every version of the country (a sort of ~250M rows a year); here it is one
//! pass over a `marks_history` partition in its stored order, where a mark's
//! versions are contiguous and by `recorded_at`. Ingest writes the rows of
//! each partition it rewrote (or whose end date moved) to the table
//! [`StoredTable::MarkAudit`], and the view reads them; a dataset written
//! before the table existed keeps the SQL (`crate::engine::views`).

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    Array, AsArray, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type, TimestampMicrosecondType};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::storage::StoredTable;
use crate::storage::writer::ParquetWriter;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Rows per written batch.
const BATCH_ROWS: usize = 64 * 1024;

/// The end date of every (academic year, mark period) of `ctx`'s
/// `calendar`: Q1–Q4 their own, `YEAR` and `FINAL` Q4's (SPEC §7).
pub async fn end_dates(ctx: &SessionContext) -> Result<Vec<((i32, String), NaiveDate)>> {
    let sql = "SELECT academic_year, period, end_date FROM calendar \
               UNION ALL SELECT academic_year, 'YEAR', end_date FROM calendar WHERE period = 'Q4' \
               UNION ALL SELECT academic_year, 'FINAL', end_date FROM calendar WHERE period = 'Q4'";
    let mut out = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let years = batch
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        let periods = cast(batch.column(1), &DataType::Utf8)?;
        let periods = periods.as_string::<i32>();
        let ends = batch.column(2).as_primitive::<Date32Type>();
        for row in 0..batch.num_rows() {
            if let Some(end) = Date32Type::to_naive_date_opt(ends.value(row)) {
                out.push(((years.value(row), periods.value(row).to_string()), end));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes the audit rows of the `marks_history` partition (`academic_year`,
/// `period`) to `out`, against the period's `end` date (none: no audit, as
/// the view's join), and each school's count of marks with a version to
/// `recorded` ([`StoredTable::RecordedMarks`]); `ctx` must scan in one
/// partition, so that files come back in their stored order.
pub async fn write_partition(
    ctx: &SessionContext,
    academic_year: i32,
    period: &str,
    end: Option<NaiveDate>,
    out: &mut ParquetWriter,
    recorded: &mut ParquetWriter,
) -> Result<()> {
    let end_days = match end {
        Some(end) => i32::try_from((end - NaiveDate::default()).num_days()).map_err(|_| {
            datafusion::error::DataFusionError::Execution(format!("{end} out of range"))
        })?,
        None => i32::MAX,
    };
    // On time: up to the end date's last microsecond (never, without one).
    let due = end.map_or(i64::MAX, |_| (i64::from(end_days) + 1) * MICROS_PER_DAY);
    // Marks with a version per school: (region, district, school) → count.
    let mut schools: Vec<([i64; 3], i64)> = Vec::new();
    let sql = format!(
        "SELECT region_id, district_id, school_id, class_id, student_id, subject_id, mark, \
         recorded_at FROM marks_history WHERE academic_year = {academic_year} AND period = '{}'",
        period.replace('\'', "''")
    );
    let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
    let mut rows = Rows::new(academic_year, period, end_days);
    // The mark being walked: its key, its last value, and whether any of
    // its earlier versions held a value.
    let mut mark: Option<([i64; 6], Option<String>, bool)> = None;
    let mut last: Option<([i64; 6], i64)> = None;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let ints: Vec<_> = (0..6)
            .map(|i| batch.column(i).as_primitive::<Int64Type>())
            .collect();
        let values = cast(batch.column(6), &DataType::Utf8)?;
        let values = values.as_string::<i32>();
        let recorded = batch.column(7).as_primitive::<TimestampMicrosecondType>();
        for i in 0..batch.num_rows() {
            let key: [i64; 6] = std::array::from_fn(|c| ints[c].value(i));
            let at = recorded.value(i);
            if last.is_some_and(|l| l > (key, at)) {
                return exec_err!(
                    "marks_history {academic_year} {period} is not in its stored order at {key:?}"
                );
            }
            last = Some((key, at));
            let value = values.is_valid(i).then(|| values.value(i));
            let (old, held) = match &mark {
                Some((k, old, held)) if *k == key => (old.as_deref(), *held),
                _ => {
                    let school = [key[0], key[1], key[2]];
                    match schools.last_mut() {
                        Some((s, n)) if *s == school => *n += 1,
                        _ => schools.push((school, 1)),
                    }
                    (None, false)
                }
            };
            // The view: after the end, and not repeating the value before
            // (an empty first version repeats the nothing before it).
            if at >= due && value != old {
                let kind = match value {
                    None => "cleared",
                    Some(_) if !held => "late",
                    Some(_) => "changed",
                };
                rows.push(key, kind, old, value, at);
            }
            mark = Some((key, value.map(str::to_string), held || value.is_some()));
        }
        while rows.len() >= BATCH_ROWS {
            out.write(&rows.take(BATCH_ROWS)?).await.map_err(to_df)?;
        }
    }
    if rows.len() > 0 {
        let n = rows.len();
        out.write(&rows.take(n)?).await.map_err(to_df)?;
    }
    if !schools.is_empty() {
        let n = schools.len();
        let column =
            |c: usize| Arc::new(Int64Array::from_iter_values(schools.iter().map(|s| s.0[c])));
        let batch = RecordBatch::try_new(
            StoredTable::RecordedMarks.schema(),
            vec![
                Arc::new(Int32Array::from(vec![academic_year; n])),
                Arc::new(StringArray::from(vec![period; n])),
                column(0),
                column(1),
                column(2),
                Arc::new(Int64Array::from_iter_values(schools.iter().map(|s| s.1))),
            ],
        )?;
        recorded.write(&batch).await.map_err(to_df)?;
    }
    Ok(())
}

fn to_df(e: crate::storage::StorageError) -> datafusion::error::DataFusionError {
    sapa_sqlstate::SqlState::into_datafusion(e)
}

/// The output columns, filled row by row.
struct Rows {
    academic_year: i32,
    period: String,
    end_days: i32,
    keys: Vec<[i64; 6]>,
    kinds: Vec<&'static str>,
    old: Vec<Option<String>>,
    new: Vec<Option<String>>,
    recorded: Vec<i64>,
}

impl Rows {
    fn new(academic_year: i32, period: &str, end_days: i32) -> Rows {
        Rows {
            academic_year,
            period: period.to_string(),
            end_days,
            keys: Vec::new(),
            kinds: Vec::new(),
            old: Vec::new(),
            new: Vec::new(),
            recorded: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn push(
        &mut self,
        key: [i64; 6],
        kind: &'static str,
        old: Option<&str>,
        new: Option<&str>,
        at: i64,
    ) {
        self.keys.push(key);
        self.kinds.push(kind);
        self.old.push(old.map(str::to_string));
        self.new.push(new.map(str::to_string));
        self.recorded.push(at);
    }

    fn take(&mut self, n: usize) -> Result<RecordBatch> {
        let keys: Vec<[i64; 6]> = self.keys.drain(..n).collect();
        let key = |c: usize| Arc::new(Int64Array::from_iter_values(keys.iter().map(|k| k[c])));
        let recorded: Vec<i64> = self.recorded.drain(..n).collect();
        let days_late = Int64Array::from_iter_values(
            recorded
                .iter()
                .map(|at| at.div_euclid(MICROS_PER_DAY) - i64::from(self.end_days)),
        );
        Ok(RecordBatch::try_new(
            StoredTable::MarkAudit.schema(),
            vec![
                Arc::new(Int32Array::from(vec![self.academic_year; n])),
                Arc::new(StringArray::from(vec![self.period.as_str(); n])),
                key(0),
                key(1),
                key(2),
                key(3),
                key(4),
                key(5),
                Arc::new(StringArray::from_iter_values(self.kinds.drain(..n))),
                Arc::new(StringArray::from_iter(self.old.drain(..n))),
                Arc::new(StringArray::from_iter(self.new.drain(..n))),
                Arc::new(TimestampMicrosecondArray::from(recorded)),
                Arc::new(Date32Array::from(vec![self.end_days; n])),
                Arc::new(days_late),
            ],
        )?)
    }
}
