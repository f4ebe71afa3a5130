//! Streaming the marks of an input into staging files.
//!
//! Marks are the one table too large for memory (≈250 million rows a year
//! nationwide). Each parsed batch is checked against the merged reference
//! tables (the class and subject exist, the student is enrolled in the
//! class), given its class's year, region, district and school, and
//! appended to a staging Parquet file of its academic year × period, with
//! its input line so later errors can still point at it.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{
    DataType, Field, Int64Type, Schema, SchemaRef, TimestampMicrosecondType,
};
use sapa_datasets::schema::MARK_PERIODS;

use super::error::{ErrorLog, IngestError, LocatedError};
use super::reference::References;
use crate::storage::writer::{ParquetWriter, staging_properties};
use crate::storage::{DataLocation, StoredTable};

/// The staging schema: the `marks_history` columns and the input line.
pub(crate) fn staging_schema() -> SchemaRef {
    let history = StoredTable::MarksHistory.schema();
    let mut fields: Vec<Field> = history
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("line", DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

/// The staging directory of the ingest building `version`.
pub(crate) fn staging_dir(version: u64) -> String {
    format!("_sapa/staging/v{version:06}")
}

/// Checks and stages the marks of one input.
pub(crate) struct MarksStager {
    loc: DataLocation,
    dir: String,
    file: String,
    schema: SchemaRef,
    writers: BTreeMap<StagingKey, ParquetWriter>,
    /// Rows staged.
    pub(crate) staged: u64,
}

/// Academic year, period and merge unit of a staging file.
type StagingKey = (i32, &'static str, u32);

/// The staging files of an input, by academic year and period, then by
/// merge unit.
pub(crate) type StagedPartitions = BTreeMap<(i32, &'static str), BTreeMap<u32, Vec<String>>>;

impl MarksStager {
    /// A stager for the ingest of `version`, reading `file`.
    pub(crate) fn new(loc: &DataLocation, version: u64, file: &str) -> MarksStager {
        MarksStager {
            loc: loc.clone(),
            dir: staging_dir(version),
            file: file.to_string(),
            schema: staging_schema(),
            writers: BTreeMap::new(),
            staged: 0,
        }
    }

    /// Checks a batch of parsed marks (the SPEC §10 `marks` schema) and, as
    /// long as the input has no error at all, stages its rows.
    pub(crate) async fn push(
        &mut self,
        refs: &References,
        batch: &RecordBatch,
        lines: &[u64],
        errors: &mut ErrorLog,
    ) -> Result<(), IngestError> {
        let int = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<Int64Type>())
                .ok_or_else(|| IngestError::Inconsistent(format!("marks batch lacks {name}")))
        };
        let (students, classes, subjects) =
            (int("student_id")?, int("class_id")?, int("subject_id")?);
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_string_opt::<i32>())
                .ok_or_else(|| IngestError::Inconsistent(format!("marks batch lacks {name}")))
        };
        let (periods, marks) = (text("period")?, text("mark")?);
        let recorded = batch
            .column_by_name("recorded_at")
            .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
            .ok_or_else(|| IngestError::Inconsistent("marks batch lacks recorded_at".into()))?;

        let mut parts: BTreeMap<StagingKey, StagingBuilder> = BTreeMap::new();
        for row in 0..batch.num_rows() {
            let line = lines.get(row).copied().unwrap_or(row as u64 + 1);
            let (student, class, subject) =
                (students.value(row), classes.value(row), subjects.value(row));
            let mut ok = true;
            let place = refs.classes.get(&class);
            if place.is_none() {
                self.reject(
                    errors,
                    line,
                    "class_id",
                    class,
                    format!("no row of classes has class_id {class}"),
                );
                ok = false;
            } else if !refs.is_enrolled(class, student) {
                self.reject(
                    errors,
                    line,
                    "student_id",
                    student,
                    format!("student {student} has no enrollment in class {class}"),
                );
                ok = false;
            }
            if !refs.subjects.contains(&subject) {
                self.reject(
                    errors,
                    line,
                    "subject_id",
                    subject,
                    format!("no row of subjects has subject_id {subject}"),
                );
                ok = false;
            }
            let period = MARK_PERIODS
                .iter()
                .copied()
                .find(|p| *p == periods.value(row));
            if period.is_none() {
                // Parsed files cannot get here; a batch producer can.
                errors.push(LocatedError::value(
                    &self.file,
                    line,
                    "period",
                    periods.value(row),
                    format!("expected one of {}", MARK_PERIODS.join(", ")),
                ));
            }
            let (Some(place), Some(period), true) = (place, period, ok) else {
                continue;
            };
            // The period's end date judges the mark (SPEC §7): YEAR and
            // FINAL are Q4's.
            let quarter = if period.starts_with('Q') {
                period
            } else {
                "Q4"
            };
            if !refs.periods.contains(&(place.academic_year, quarter)) {
                errors.push(LocatedError::value(
                    &self.file,
                    line,
                    "period",
                    period,
                    format!(
                        "no row of calendar has academic_year {}, period {quarter} (class {class} \
                         is of academic year {})",
                        place.academic_year, place.academic_year
                    ),
                ));
                continue;
            }
            if !errors.is_empty() {
                // The ingest will fail: keep checking, stop writing.
                continue;
            }
            let b = parts
                .entry((place.academic_year, period, place.unit))
                .or_default();
            b.year.append_value(place.academic_year);
            b.period.append_value(period);
            b.region.append_value(place.region_id);
            b.district.append_value(place.district_id);
            b.school.append_value(place.school_id);
            b.class.append_value(class);
            b.student.append_value(student);
            b.subject.append_value(subject);
            b.mark
                .append_option(marks.is_valid(row).then(|| marks.value(row)));
            b.recorded.append_value(recorded.value(row));
            b.line.append_value(i64::try_from(line).unwrap_or(i64::MAX));
        }
        for (key, mut builder) in parts {
            let staged = builder.finish(&self.schema)?;
            self.staged += staged.num_rows() as u64;
            let writer = match self.writers.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let dir = format!(
                        "{}/academic_year={}/period={}/unit={}",
                        self.dir, key.0, key.1, key.2
                    );
                    e.insert(ParquetWriter::new(
                        &self.loc,
                        dir,
                        Arc::clone(&self.schema),
                        staging_properties()?,
                        Some((key.0, key.1)),
                    ))
                }
            };
            writer.write(&staged).await?;
        }
        Ok(())
    }

    fn reject(&self, errors: &mut ErrorLog, line: u64, column: &str, value: i64, message: String) {
        errors.push(LocatedError::value(
            &self.file,
            line,
            column,
            &value.to_string(),
            message,
        ));
    }

    /// Completes the staging files.
    pub(crate) async fn finish(self) -> Result<StagedPartitions, IngestError> {
        let mut out = StagedPartitions::new();
        for ((year, period, unit), writer) in self.writers {
            let files = writer.finish().await?;
            out.entry((year, period))
                .or_default()
                .insert(unit, files.into_iter().map(|f| f.path).collect());
        }
        Ok(out)
    }
}

/// Builders of one partition's staged rows.
#[derive(Default)]
struct StagingBuilder {
    year: Int32Builder,
    period: StringBuilder,
    region: Int64Builder,
    district: Int64Builder,
    school: Int64Builder,
    class: Int64Builder,
    student: Int64Builder,
    subject: Int64Builder,
    mark: StringBuilder,
    recorded: TimestampMicrosecondBuilder,
    line: Int64Builder,
}

impl StagingBuilder {
    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, IngestError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.year.finish()),
            Arc::new(self.period.finish()),
            Arc::new(self.region.finish()),
            Arc::new(self.district.finish()),
            Arc::new(self.school.finish()),
            Arc::new(self.class.finish()),
            Arc::new(self.student.finish()),
            Arc::new(self.subject.finish()),
            Arc::new(self.mark.finish()),
            Arc::new(self.recorded.finish()),
            Arc::new(self.line.finish()),
        ];
        Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
    }
}
