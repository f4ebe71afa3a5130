//! Printing query results as a table, CSV or JSON.

use std::io::Write;

use clap::ValueEnum;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::pretty::pretty_format_batches;

/// How `sapa query` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum OutputFormat {
    /// An aligned text table, for people.
    #[default]
    Table,
    /// CSV with a header row, for spreadsheets and scripts.
    Csv,
    /// One JSON object per row, one per line.
    Json,
}

/// Writes `batches` to `out` in `format`.
pub(crate) fn write_batches(
    out: &mut dyn Write,
    batches: &[RecordBatch],
    format: OutputFormat,
) -> Result<(), ArrowError> {
    match format {
        OutputFormat::Table => {
            writeln!(out, "{}", pretty_format_batches(batches)?)?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            writeln!(out, "({rows} row{})", if rows == 1 { "" } else { "s" })?;
        }
        OutputFormat::Csv => {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            for batch in batches {
                writer.write(batch)?;
            }
        }
        OutputFormat::Json => {
            let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(&mut *out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("school_id", DataType::Int64, false),
            Field::new("status", DataType::Utf8, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![7, 8])),
                Arc::new(StringArray::from(vec![Some("good"), None])),
            ],
        )
        .unwrap()
    }

    fn render(format: OutputFormat) -> String {
        let mut out = Vec::new();
        write_batches(&mut out, &[batch()], format).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_has_header_and_empty_null() {
        assert_eq!(render(OutputFormat::Csv), "school_id,status\n7,good\n8,\n");
    }

    #[test]
    fn json_is_one_object_per_line() {
        assert_eq!(
            render(OutputFormat::Json),
            "{\"school_id\":7,\"status\":\"good\"}\n{\"school_id\":8}\n"
        );
    }

    #[test]
    fn table_counts_rows() {
        let text = render(OutputFormat::Table);
        assert!(text.contains("| school_id | status |"), "{text}");
        assert!(text.ends_with("(2 rows)\n"), "{text}");
    }
}
