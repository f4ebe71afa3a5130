//! Row buffers of the large tables and their conversion to Arrow batches of
//! exactly [`Table::schema`].
//!
//! Workers fill a buffer per school; the emitting thread appends them in
//! order and cuts batches of [`BATCH_ROWS`] rows, so batch boundaries (and
//! therefore output bytes) never depend on threading.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use sapa_udfs::Mark;

use super::marks::Period;
use crate::schema::Table;

/// Rows per emitted batch (the last batch of a table may be shorter).
pub const BATCH_ROWS: usize = 65_536;

/// A columnar buffer of one table's rows.
pub(crate) trait Rows: Default + Send {
    /// The table the rows belong to.
    const TABLE: Table;
    /// Number of buffered rows.
    fn len(&self) -> usize;
    /// Moves all of `other`'s rows to the end of `self`.
    fn append(&mut self, other: &mut Self);
    /// The rows in `range` as a batch of the table's schema.
    fn batch(&self, range: Range<usize>) -> Result<RecordBatch, ArrowError>;
    /// Drops the first `n` rows.
    fn drain_front(&mut self, n: usize);
}

fn batch(table: Table, columns: Vec<ArrayRef>) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(table.schema(), columns)
}

fn i64s(v: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}

fn i32s(v: &[i32]) -> ArrayRef {
    Arc::new(Int32Array::from(v.to_vec()))
}

/// `classes` rows.
#[derive(Debug, Default)]
pub(crate) struct ClassRows {
    pub(crate) class_id: Vec<i64>,
    pub(crate) school_id: Vec<i64>,
    pub(crate) year: Vec<i32>,
    pub(crate) parallel: Vec<i32>,
    pub(crate) letter: Vec<String>,
    pub(crate) journal: Vec<&'static str>,
    pub(crate) period: Vec<&'static str>,
}

impl Rows for ClassRows {
    const TABLE: Table = Table::Classes;
    fn len(&self) -> usize {
        self.class_id.len()
    }
    fn append(&mut self, o: &mut Self) {
        self.class_id.append(&mut o.class_id);
        self.school_id.append(&mut o.school_id);
        self.year.append(&mut o.year);
        self.parallel.append(&mut o.parallel);
        self.letter.append(&mut o.letter);
        self.journal.append(&mut o.journal);
        self.period.append(&mut o.period);
    }
    fn batch(&self, r: Range<usize>) -> Result<RecordBatch, ArrowError> {
        batch(
            Self::TABLE,
            vec![
                i64s(&self.class_id[r.clone()]),
                i64s(&self.school_id[r.clone()]),
                i32s(&self.year[r.clone()]),
                i32s(&self.parallel[r.clone()]),
                Arc::new(StringArray::from_iter_values(&self.letter[r.clone()])),
                Arc::new(StringArray::from_iter_values(&self.journal[r.clone()])),
                Arc::new(StringArray::from_iter_values(&self.period[r])),
            ],
        )
    }
    fn drain_front(&mut self, n: usize) {
        self.class_id.drain(..n);
        self.school_id.drain(..n);
        self.year.drain(..n);
        self.parallel.drain(..n);
        self.letter.drain(..n);
        self.journal.drain(..n);
        self.period.drain(..n);
    }
}

/// `enrollments` rows (dates as days since the epoch).
#[derive(Debug, Default)]
pub(crate) struct EnrollmentRows {
    pub(crate) student_id: Vec<i64>,
    pub(crate) class_id: Vec<i64>,
    pub(crate) from: Vec<i32>,
    pub(crate) to: Vec<Option<i32>>,
}

impl Rows for EnrollmentRows {
    const TABLE: Table = Table::Enrollments;
    fn len(&self) -> usize {
        self.student_id.len()
    }
    fn append(&mut self, o: &mut Self) {
        self.student_id.append(&mut o.student_id);
        self.class_id.append(&mut o.class_id);
        self.from.append(&mut o.from);
        self.to.append(&mut o.to);
    }
    fn batch(&self, r: Range<usize>) -> Result<RecordBatch, ArrowError> {
        batch(
            Self::TABLE,
            vec![
                i64s(&self.student_id[r.clone()]),
                i64s(&self.class_id[r.clone()]),
                Arc::new(Date32Array::from(self.from[r.clone()].to_vec())),
                Arc::new(Date32Array::from(self.to[r].to_vec())),
            ],
        )
    }
    fn drain_front(&mut self, n: usize) {
        self.student_id.drain(..n);
        self.class_id.drain(..n);
        self.from.drain(..n);
        self.to.drain(..n);
    }
}

/// `marks` rows.
#[derive(Debug, Default)]
pub(crate) struct MarkRows {
    pub(crate) student_id: Vec<i64>,
    pub(crate) class_id: Vec<i64>,
    pub(crate) subject_id: Vec<i64>,
    pub(crate) period: Vec<Period>,
    pub(crate) mark: Vec<Option<Mark>>,
    pub(crate) recorded_at: Vec<i64>,
}

impl Rows for MarkRows {
    const TABLE: Table = Table::Marks;
    fn len(&self) -> usize {
        self.student_id.len()
    }
    fn append(&mut self, o: &mut Self) {
        self.student_id.append(&mut o.student_id);
        self.class_id.append(&mut o.class_id);
        self.subject_id.append(&mut o.subject_id);
        self.period.append(&mut o.period);
        self.mark.append(&mut o.mark);
        self.recorded_at.append(&mut o.recorded_at);
    }
    fn batch(&self, r: Range<usize>) -> Result<RecordBatch, ArrowError> {
        batch(
            Self::TABLE,
            vec![
                i64s(&self.student_id[r.clone()]),
                i64s(&self.class_id[r.clone()]),
                i64s(&self.subject_id[r.clone()]),
                Arc::new(StringArray::from_iter_values(
                    self.period[r.clone()].iter().map(|p| p.as_str()),
                )),
                Arc::new(StringArray::from_iter(
                    self.mark[r.clone()].iter().map(|m| m.map(|m| m.code())),
                )),
                Arc::new(TimestampMicrosecondArray::from(
                    self.recorded_at[r].to_vec(),
                )),
            ],
        )
    }
    fn drain_front(&mut self, n: usize) {
        self.student_id.drain(..n);
        self.class_id.drain(..n);
        self.subject_id.drain(..n);
        self.period.drain(..n);
        self.mark.drain(..n);
        self.recorded_at.drain(..n);
    }
}

/// `modo` rows.
#[derive(Debug, Default)]
pub(crate) struct ModoRows {
    pub(crate) student_id: Vec<i64>,
    pub(crate) school_id: Vec<i64>,
    pub(crate) year: Vec<i32>,
    pub(crate) grade: Vec<i32>,
    pub(crate) domain: Vec<&'static str>,
    pub(crate) score: Vec<f64>,
    pub(crate) max_score: Vec<f64>,
}

impl Rows for ModoRows {
    const TABLE: Table = Table::Modo;
    fn len(&self) -> usize {
        self.student_id.len()
    }
    fn append(&mut self, o: &mut Self) {
        self.student_id.append(&mut o.student_id);
        self.school_id.append(&mut o.school_id);
        self.year.append(&mut o.year);
        self.grade.append(&mut o.grade);
        self.domain.append(&mut o.domain);
        self.score.append(&mut o.score);
        self.max_score.append(&mut o.max_score);
    }
    fn batch(&self, r: Range<usize>) -> Result<RecordBatch, ArrowError> {
        batch(
            Self::TABLE,
            vec![
                i64s(&self.student_id[r.clone()]),
                i64s(&self.school_id[r.clone()]),
                i32s(&self.year[r.clone()]),
                i32s(&self.grade[r.clone()]),
                Arc::new(StringArray::from_iter_values(&self.domain[r.clone()])),
                Arc::new(Float64Array::from(self.score[r.clone()].to_vec())),
                Arc::new(Float64Array::from(self.max_score[r].to_vec())),
            ],
        )
    }
    fn drain_front(&mut self, n: usize) {
        self.student_id.drain(..n);
        self.school_id.drain(..n);
        self.year.drain(..n);
        self.grade.drain(..n);
        self.domain.drain(..n);
        self.score.drain(..n);
        self.max_score.drain(..n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_cut_batches_of_the_table_schema() {
        let mut a = MarkRows::default();
        let mut b = MarkRows {
            student_id: vec![1, 2],
            class_id: vec![10, 10],
            subject_id: vec![3, 3],
            period: vec![Period::Q1, Period::Final],
            mark: vec![Some(Mark::NotAttested), None],
            recorded_at: vec![0, 1],
        };
        a.append(&mut b);
        assert_eq!((a.len(), b.len()), (2, 0));
        let batch = a.batch(1..2).unwrap();
        assert_eq!(batch.schema(), Table::Marks.schema());
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.column(4).null_count(), 1);
        a.drain_front(1);
        assert_eq!(a.student_id, vec![2]);
    }
}
