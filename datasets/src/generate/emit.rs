//! Hands batches to the sink: cuts the row buffers into batches, counts rows
//! and reports progress; builds the small reference tables directly.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
};
use datafusion::arrow::record_batch::RecordBatch;

use super::batches::{BATCH_ROWS, Rows};
use super::calendar::date32;
use super::subjects::SUBJECTS;
use super::{GenerateError, GenerateSummary, Progress, TableSink, World};
use crate::schema::Table;

/// Hands batches to the sink and keeps count.
pub(crate) struct Emitter<'a> {
    pub(crate) sink: &'a mut dyn TableSink,
    pub(crate) progress: &'a mut dyn FnMut(&Progress),
    pub(crate) summary: GenerateSummary,
    pub(crate) expected: BTreeMap<Table, u64>,
}

impl Emitter<'_> {
    pub(crate) fn write(&mut self, table: Table, batch: RecordBatch) -> Result<(), GenerateError> {
        let n = batch.num_rows() as u64;
        self.sink
            .write(table, batch)
            .map_err(|source| GenerateError::Sink {
                table: table.name(),
                source,
            })?;
        let rows = self.summary.rows.entry(table).or_default();
        *rows += n;
        let rows = *rows;
        let expected = self.expected.get(&table).copied().unwrap_or(rows).max(rows);
        (self.progress)(&Progress {
            table,
            rows,
            rows_expected: expected,
        });
        Ok(())
    }

    pub(crate) fn push<R: Rows>(&mut self, buf: &mut R, mut rows: R) -> Result<(), GenerateError> {
        buf.append(&mut rows);
        while buf.len() >= BATCH_ROWS {
            let batch = buf
                .batch(0..BATCH_ROWS)
                .map_err(|source| GenerateError::Arrow {
                    table: R::TABLE.name(),
                    source,
                })?;
            buf.drain_front(BATCH_ROWS);
            self.write(R::TABLE, batch)?;
        }
        Ok(())
    }

    pub(crate) fn flush<R: Rows>(&mut self, buf: &mut R) -> Result<(), GenerateError> {
        let n = buf.len();
        if n > 0 {
            let batch = buf.batch(0..n).map_err(|source| GenerateError::Arrow {
                table: R::TABLE.name(),
                source,
            })?;
            buf.drain_front(n);
            self.write(R::TABLE, batch)?;
        } else {
            self.summary.rows.entry(R::TABLE).or_default();
        }
        Ok(())
    }

    pub(crate) fn small(
        &mut self,
        table: Table,
        columns: Vec<ArrayRef>,
    ) -> Result<(), GenerateError> {
        let batch = RecordBatch::try_new(table.schema(), columns).map_err(|source| {
            GenerateError::Arrow {
                table: table.name(),
                source,
            }
        })?;
        self.write(table, batch)
    }

    /// Regions, districts, schools, subjects and calendar: one batch each.
    pub(crate) fn reference_tables(&mut self, w: &World) -> Result<(), GenerateError> {
        let strs = |v: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from(v)) };
        let ids = |v: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(v)) };
        self.small(
            Table::Regions,
            vec![
                ids(w.regions.iter().map(|r| r.id).collect()),
                strs(w.regions.iter().map(|r| r.name_kk).collect()),
                strs(w.regions.iter().map(|r| r.name_ru).collect()),
            ],
        )?;
        let d = &w.districts;
        self.small(
            Table::Districts,
            vec![
                ids(d.iter().map(|x| x.id).collect()),
                ids(d.iter().map(|x| x.region_id).collect()),
                strs(d.iter().map(|x| x.name_kk.as_str()).collect()),
                strs(d.iter().map(|x| x.name_ru.as_str()).collect()),
            ],
        )?;
        let s = &w.schools;
        self.small(
            Table::Schools,
            vec![
                ids(s.iter().map(|x| x.id).collect()),
                ids(s.iter().map(|x| x.district_id).collect()),
                strs(s.iter().map(|x| x.name_kk.as_str()).collect()),
                strs(s.iter().map(|x| x.name_ru.as_str()).collect()),
                strs(s.iter().map(|x| x.locality.as_str()).collect()),
                strs(s.iter().map(|x| x.language.as_str()).collect()),
                strs(s.iter().map(|x| x.school_type.as_str()).collect()),
                Arc::new(Float64Array::from(
                    s.iter().map(|x| x.internet_mbps).collect::<Vec<_>>(),
                )),
            ],
        )?;
        self.small(
            Table::Subjects,
            vec![
                ids(SUBJECTS.iter().map(|x| x.id).collect()),
                strs(SUBJECTS.iter().map(|x| x.name_kk).collect()),
                strs(SUBJECTS.iter().map(|x| x.name_ru).collect()),
                Arc::new(BooleanArray::from(
                    SUBJECTS.iter().map(|x| x.certified).collect::<Vec<_>>(),
                )),
            ],
        )?;
        let mut years = Vec::new();
        let mut periods = Vec::new();
        let mut starts = Vec::new();
        let mut ends = Vec::new();
        for cal in &w.calendars {
            for (q, (start, end)) in cal.quarters.iter().enumerate() {
                years.push(cal.year);
                periods.push(crate::schema::QUARTERS[q]);
                starts.push(date32(*start));
                ends.push(date32(*end));
            }
        }
        self.small(
            Table::Calendar,
            vec![
                Arc::new(Int32Array::from(years)),
                strs(periods),
                Arc::new(Date32Array::from(starts)),
                Arc::new(Date32Array::from(ends)),
            ],
        )
    }
}
