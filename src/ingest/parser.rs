//! Turning the rows of one interchange file into Arrow batches of its
//! SPEC §10 schema, with a located error for every bad value.
//!
//! A row is appended only if all its values parse and its cross-column
//! checks pass, so the builders never go out of step.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use sapa_datasets::schema::Table;

use super::error::{ErrorLog, IngestError, LocatedError};
use super::fields::{Kind, MarkCache, Value, kind_of, parse};
use super::source::Row;

/// The most columns an interchange table has (`schools`).
const MAX_COLUMNS: usize = 8;

/// Parses rows of one file into batches of its table's schema.
pub(crate) struct TableParser {
    table: Table,
    file: String,
    schema: SchemaRef,
    /// For each schema column: its index in the input row and its kind.
    columns: Vec<(usize, Kind)>,
    builders: Vec<Builder>,
    lines: Vec<u64>,
    marks: MarkCache,
    /// Marks whose spelling was a look-alike (SPEC §2).
    pub(crate) look_alikes: u64,
    /// Rows accepted so far.
    pub(crate) rows: u64,
}

impl TableParser {
    /// Maps the header to the table's columns. Missing columns are errors;
    /// unknown ones are returned as warnings. `None` if a column is missing.
    pub(crate) fn new(
        table: Table,
        file: &str,
        header: &[String],
        errors: &mut ErrorLog,
        warnings: &mut Vec<String>,
    ) -> Option<TableParser> {
        let schema = table.schema();
        if schema.fields().len() > MAX_COLUMNS {
            errors.push(LocatedError::file(
                file,
                "table has more columns than the parser holds",
            ));
            return None;
        }
        let mut columns = Vec::with_capacity(schema.fields().len());
        let mut missing = false;
        for (i, name) in header.iter().enumerate() {
            if header[..i].iter().any(|h| h.eq_ignore_ascii_case(name)) {
                errors.push(LocatedError::line(
                    file,
                    1,
                    format!("column {name:?} appears twice in the header"),
                ));
                missing = true;
            }
        }
        for field in schema.fields() {
            match header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(field.name()))
            {
                Some(i) => columns.push((i, kind_of(table, field.name()))),
                None => {
                    errors.push(LocatedError {
                        line: Some(1),
                        column: Some(field.name().clone()),
                        ..LocatedError::file(
                            file,
                            format!(
                                "required column {:?} is missing from the header",
                                field.name()
                            ),
                        )
                    });
                    missing = true;
                }
            }
        }
        for name in header {
            if !schema
                .fields()
                .iter()
                .any(|f| f.name().eq_ignore_ascii_case(name))
            {
                warnings.push(format!("{file}: unknown column {name:?} ignored"));
            }
        }
        if missing {
            return None;
        }
        let builders = schema
            .fields()
            .iter()
            .map(|f| Builder::new(f.data_type()))
            .collect();
        Some(TableParser {
            table,
            file: file.to_string(),
            schema,
            columns,
            builders,
            lines: Vec::new(),
            marks: MarkCache::default(),
            look_alikes: 0,
            rows: 0,
        })
    }

    /// Rows buffered since the last [`TableParser::take_batch`].
    pub(crate) fn buffered(&self) -> usize {
        self.lines.len()
    }

    /// Parses one row; on failure records every bad value and skips the row.
    pub(crate) fn push(&mut self, row: &Row, errors: &mut ErrorLog) -> Result<(), IngestError> {
        // No table has more columns than this; a fixed array spares an
        // allocation per row.
        let mut values = [Value::Null; MAX_COLUMNS];
        let mut ok = true;
        let mut look_alike = false;
        for (c, &(idx, kind)) in self.columns.iter().enumerate() {
            let raw = row.fields.get(idx).map_or("", String::as_str);
            let parsed = match kind {
                Kind::Mark => self.marks.parse(raw),
                _ => parse(kind, raw),
            };
            match parsed {
                Ok((v, la)) => {
                    look_alike |= la;
                    values[c] = v;
                }
                Err(expected) => {
                    errors.push(LocatedError::value(
                        &self.file,
                        row.line,
                        self.schema.field(c).name(),
                        raw,
                        expected,
                    ));
                    ok = false;
                }
            }
        }
        let values = &values[..self.columns.len()];
        if ok && let Some((c, message)) = row_check(self.table, values) {
            let idx = self.columns[c].0;
            errors.push(LocatedError::value(
                &self.file,
                row.line,
                self.schema.field(c).name(),
                row.fields.get(idx).map_or("", String::as_str),
                message,
            ));
            ok = false;
        }
        if !ok {
            return Ok(());
        }
        for (b, v) in self.builders.iter_mut().zip(values) {
            b.append(*v).map_err(|m| {
                IngestError::Inconsistent(format!("{} column type: {m}", self.file))
            })?;
        }
        self.look_alikes += u64::from(look_alike);
        self.rows += 1;
        self.lines.push(row.line);
        Ok(())
    }

    /// The rows parsed since the last call, and their lines.
    pub(crate) fn take_batch(&mut self) -> Result<(RecordBatch, Vec<u64>), IngestError> {
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        Ok((batch, std::mem::take(&mut self.lines)))
    }
}

/// Checks across the columns of a parsed row (positions are schema columns):
/// the column at fault and what is wrong.
fn row_check(table: Table, v: &[Value<'_>]) -> Option<(usize, String)> {
    match (table, v) {
        (Table::Calendar, [_, _, Value::Date(start), Value::Date(end)]) if end < start => {
            Some((3, "end_date is before start_date".into()))
        }
        (Table::Enrollments, [_, _, Value::Date(from), Value::Date(to)]) if to < from => {
            Some((3, "active_to is before active_from".into()))
        }
        (Table::Modo, [_, _, _, Value::I32(grade), ..]) if *grade != 4 && *grade != 9 => {
            Some((3, "expected grade 4 or 9 (SPEC §9)".into()))
        }
        (Table::Modo, [.., Value::F64(score), Value::F64(max)]) if score > max => {
            Some((5, "score is above max_score".into()))
        }
        _ => None,
    }
}

/// An Arrow builder for one column.
enum Builder {
    I64(Int64Builder),
    I32(Int32Builder),
    Text(StringBuilder),
    Bool(BooleanBuilder),
    F64(Float64Builder),
    Date(Date32Builder),
    Micros(TimestampMicrosecondBuilder),
}

impl Builder {
    fn new(t: &DataType) -> Builder {
        match t {
            DataType::Int64 => Builder::I64(Int64Builder::new()),
            DataType::Int32 => Builder::I32(Int32Builder::new()),
            DataType::Boolean => Builder::Bool(BooleanBuilder::new()),
            DataType::Float64 => Builder::F64(Float64Builder::new()),
            DataType::Date32 => Builder::Date(Date32Builder::new()),
            DataType::Timestamp(_, _) => Builder::Micros(TimestampMicrosecondBuilder::new()),
            _ => Builder::Text(StringBuilder::new()),
        }
    }

    fn append(&mut self, v: Value<'_>) -> Result<(), String> {
        match (self, v) {
            (Builder::I64(b), Value::I64(x)) => b.append_value(x),
            (Builder::I32(b), Value::I32(x)) => b.append_value(x),
            (Builder::Text(b), Value::Text(x)) => b.append_value(x),
            (Builder::Text(b), Value::Static(x)) => b.append_value(x),
            (Builder::Bool(b), Value::Bool(x)) => b.append_value(x),
            (Builder::F64(b), Value::F64(x)) => b.append_value(x),
            (Builder::Date(b), Value::Date(x)) => b.append_value(x),
            (Builder::Micros(b), Value::Micros(x)) => b.append_value(x),
            (Builder::I64(b), Value::Null) => b.append_null(),
            (Builder::I32(b), Value::Null) => b.append_null(),
            (Builder::Text(b), Value::Null) => b.append_null(),
            (Builder::Bool(b), Value::Null) => b.append_null(),
            (Builder::F64(b), Value::Null) => b.append_null(),
            (Builder::Date(b), Value::Null) => b.append_null(),
            (Builder::Micros(b), Value::Null) => b.append_null(),
            (_, v) => return Err(format!("value {v:?} does not fit the column")),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Micros(b) => Arc::new(b.finish()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;

    fn row(line: u64, fields: &[&str]) -> Row {
        Row {
            line,
            fields: fields.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn header_in_any_order_with_unknown_column() {
        let header: Vec<String> = ["name_ru", "extra", "region_id", "name_kk"]
            .map(String::from)
            .to_vec();
        let mut errors = ErrorLog::new(10);
        let mut warnings = Vec::new();
        let mut p = TableParser::new(
            Table::Regions,
            "regions.csv",
            &header,
            &mut errors,
            &mut warnings,
        )
        .unwrap();
        assert_eq!(warnings, [r#"regions.csv: unknown column "extra" ignored"#]);
        p.push(&row(2, &["Алматы", "x", "7", "Алматы"]), &mut errors)
            .unwrap();
        p.push(&row(3, &["Б", "x", "7a", "Б"]), &mut errors)
            .unwrap();
        let (batch, lines) = p.take_batch().unwrap();
        assert_eq!(lines, [2]);
        assert_eq!(batch.column(0).as_primitive::<Int64Type>().value(0), 7);
        let err = errors.check().unwrap_err().located()[0].clone();
        assert_eq!(
            (err.line, err.column.as_deref(), err.value.as_deref()),
            (Some(3), Some("region_id"), Some("7a"))
        );
    }

    #[test]
    fn missing_column_is_an_error() {
        let header: Vec<String> = ["region_id", "name_kk"].map(String::from).to_vec();
        let mut errors = ErrorLog::new(10);
        assert!(
            TableParser::new(
                Table::Regions,
                "regions.csv",
                &header,
                &mut errors,
                &mut Vec::new()
            )
            .is_none()
        );
        let err = errors.check().unwrap_err().located()[0].clone();
        assert_eq!(err.column.as_deref(), Some("name_ru"));
        assert!(
            err.to_string()
                .contains("required column \"name_ru\" is missing")
        );
    }

    #[test]
    fn marks_normalised_and_cross_checks() {
        let header: Vec<String> = Table::Marks
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut errors = ErrorLog::new(10);
        let mut p = TableParser::new(
            Table::Marks,
            "marks.csv",
            &header,
            &mut errors,
            &mut Vec::new(),
        )
        .unwrap();
        p.push(
            &row(2, &["1", "2", "3", "q1", "A/O", "2024-10-28"]),
            &mut errors,
        )
        .unwrap();
        p.push(
            &row(3, &["1", "2", "3", "Q1", "", "2024-10-28 10:00:00"]),
            &mut errors,
        )
        .unwrap();
        let (batch, _) = p.take_batch().unwrap();
        assert_eq!(p.look_alikes, 1);
        let marks = batch.column(4).as_string::<i32>();
        assert_eq!(marks.value(0), "А/Ө");
        assert!(marks.is_null(1));
        assert_eq!(batch.column(3).as_string::<i32>().value(0), "Q1");

        let header: Vec<String> = Table::Enrollments
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut p = TableParser::new(
            Table::Enrollments,
            "enrollments.csv",
            &header,
            &mut errors,
            &mut Vec::new(),
        )
        .unwrap();
        p.push(
            &row(4, &["1", "2", "2024-09-02", "2024-09-01"]),
            &mut errors,
        )
        .unwrap();
        assert_eq!(p.rows, 0);
        let err = errors.check().unwrap_err().located()[0].clone();
        assert_eq!(err.column.as_deref(), Some("active_to"));
        assert!(err.message.contains("before active_from"));
    }
}
