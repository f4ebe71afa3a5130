//! Writes generated tables as the SPEC §10 interchange CSVs.
//!
//! One file per table (`regions.csv`, ...) with a header row, UTF-8,
//! RFC 4180 quoting; dates `YYYY-MM-DD`; `recorded_at` as
//! `YYYY-MM-DDTHH:MM:SS` (with `.ffffff` only when there are sub-seconds);
//! booleans `true`/`false`; NULL as an empty field.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;

use crate::generate::{SinkError, TableSink};
use crate::schema::Table;

/// Why writing the CSV directory failed.
#[derive(Debug, thiserror::Error)]
pub enum CsvSinkError {
    /// A file or the directory could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CSV writer failed.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The writer's error.
        source: csv::Error,
    },
    /// A batch does not have its table's schema.
    #[error("a {table} batch does not have the {table} schema of SPEC §10")]
    Schema {
        /// The table.
        table: &'static str,
    },
}

/// A directory of interchange CSVs being written.
///
/// Files are created on a table's first batch; [`CsvDirSink::finish`]
/// flushes them and writes a header-only file for every required table that
/// got no rows, so the directory is always a complete §10 input.
pub struct CsvDirSink {
    dir: PathBuf,
    writers: BTreeMap<Table, (PathBuf, csv::Writer<BufWriter<File>>)>,
    field: Vec<u8>,
}

impl CsvDirSink {
    /// Creates `dir` (and its parents) if needed and writes into it.
    pub fn create(dir: impl AsRef<Path>) -> Result<CsvDirSink, CsvSinkError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|source| CsvSinkError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(CsvDirSink {
            dir,
            writers: BTreeMap::new(),
            field: Vec::with_capacity(64),
        })
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn writer(&mut self, table: Table) -> Result<&mut csv::Writer<BufWriter<File>>, CsvSinkError> {
        if !self.writers.contains_key(&table) {
            let path = self.dir.join(table.file_name());
            let file = File::create(&path).map_err(|source| CsvSinkError::Io {
                path: path.clone(),
                source,
            })?;
            let mut w =
                csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(1 << 20, file));
            let schema = table.schema();
            w.write_record(schema.fields().iter().map(|f| f.name().as_str()))
                .map_err(|source| CsvSinkError::Csv {
                    path: path.clone(),
                    source,
                })?;
            self.writers.insert(table, (path, w));
        }
        match self.writers.get_mut(&table) {
            Some((_, w)) => Ok(w),
            None => Err(CsvSinkError::Schema {
                table: table.name(),
            }),
        }
    }

    /// Writes one batch of `table`.
    pub fn write_batch(&mut self, table: Table, batch: &RecordBatch) -> Result<(), CsvSinkError> {
        if batch.schema().fields() != table.schema().fields() {
            return Err(CsvSinkError::Schema {
                table: table.name(),
            });
        }
        let columns: Vec<Column<'_>> = batch
            .columns()
            .iter()
            .map(|c| Column::of(c.as_ref()))
            .collect::<Option<_>>()
            .ok_or(CsvSinkError::Schema {
                table: table.name(),
            })?;
        let mut field = std::mem::take(&mut self.field);
        let path = self.dir.join(table.file_name());
        let w = self.writer(table)?;
        let result = (|| {
            for row in 0..batch.num_rows() {
                for c in &columns {
                    field.clear();
                    c.format(row, &mut field);
                    w.write_field(&field)?;
                }
                w.write_record(None::<&[u8]>)?;
            }
            Ok(())
        })();
        self.field = field;
        result.map_err(|source| CsvSinkError::Csv { path, source })
    }

    /// Flushes every file and adds header-only files for required tables
    /// that received no batch.
    pub fn finish(mut self) -> Result<(), CsvSinkError> {
        for table in Table::ALL {
            if !table.optional() {
                self.writer(table)?;
            }
        }
        for (path, w) in self.writers.values_mut() {
            w.flush().map_err(|source| CsvSinkError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

impl TableSink for CsvDirSink {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<(), SinkError> {
        Ok(self.write_batch(table, &batch)?)
    }
}

/// A column downcast once per batch.
enum Column<'a> {
    I64(&'a Int64Array),
    I32(&'a Int32Array),
    F64(&'a Float64Array),
    Bool(&'a BooleanArray),
    Str(&'a StringArray),
    Date(&'a Date32Array),
    Micros(&'a TimestampMicrosecondArray),
}

impl<'a> Column<'a> {
    fn of(a: &'a dyn Array) -> Option<Column<'a>> {
        Some(match a.data_type() {
            DataType::Int64 => Column::I64(a.as_primitive_opt()?),
            DataType::Int32 => Column::I32(a.as_primitive_opt()?),
            DataType::Float64 => Column::F64(a.as_primitive_opt()?),
            DataType::Boolean => Column::Bool(a.as_boolean_opt()?),
            DataType::Utf8 => Column::Str(a.as_string_opt()?),
            DataType::Date32 => Column::Date(a.as_primitive_opt()?),
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                Column::Micros(a.as_primitive_opt()?)
            }
            _ => return None,
        })
    }

    fn format(&self, row: usize, out: &mut Vec<u8>) {
        let arr: &dyn Array = match self {
            Column::I64(a) => *a,
            Column::I32(a) => *a,
            Column::F64(a) => *a,
            Column::Bool(a) => *a,
            Column::Str(a) => *a,
            Column::Date(a) => *a,
            Column::Micros(a) => *a,
        };
        if arr.is_null(row) {
            return;
        }
        match self {
            Column::I64(a) => push_int(out, a.value(row)),
            Column::I32(a) => push_int(out, i64::from(a.value(row))),
            Column::F64(a) => out.extend_from_slice(a.value(row).to_string().as_bytes()),
            Column::Bool(a) => out.extend_from_slice(if a.value(row) { b"true" } else { b"false" }),
            Column::Str(a) => out.extend_from_slice(a.value(row).as_bytes()),
            Column::Date(a) => push_date(out, i64::from(a.value(row))),
            Column::Micros(a) => push_timestamp(out, a.value(row)),
        }
    }
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_padded(out: &mut Vec<u8>, v: i64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut n = v.unsigned_abs();
    for i in (0..width).rev() {
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn push_date(out: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil(days);
    if y < 0 {
        out.push(b'-');
    }
    push_padded(out, y, 4);
    out.push(b'-');
    push_padded(out, m, 2);
    out.push(b'-');
    push_padded(out, d, 2);
}

fn push_timestamp(out: &mut Vec<u8>, micros: i64) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    push_date(out, secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    out.push(b'T');
    push_padded(out, tod / 3600, 2);
    out.push(b':');
    push_padded(out, tod / 60 % 60, 2);
    out.push(b':');
    push_padded(out, tod % 60, 2);
    if frac != 0 {
        out.push(b'.');
        push_padded(out, frac, 6);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn text(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn values_are_formatted_as_the_spec_says() {
        assert_eq!(text(|o| push_int(o, 0)), "0");
        assert_eq!(text(|o| push_int(o, -1234)), "-1234");
        assert_eq!(text(|o| push_int(o, i64::MIN)), "-9223372036854775808");
        assert_eq!(text(|o| push_date(o, 0)), "1970-01-01");
        assert_eq!(text(|o| push_date(o, 18_872)), "2021-09-02");
        assert_eq!(text(|o| push_date(o, 19_417)), "2023-03-01");
        assert_eq!(text(|o| push_date(o, 11_016)), "2000-02-29");
        // 2021-09-02T13:05:09
        let t = (18_872 * 86_400 + 13 * 3600 + 5 * 60 + 9) * 1_000_000;
        assert_eq!(text(|o| push_timestamp(o, t)), "2021-09-02T13:05:09");
        assert_eq!(
            text(|o| push_timestamp(o, t + 250)),
            "2021-09-02T13:05:09.000250"
        );
    }

    #[test]
    fn a_batch_becomes_a_quoted_csv_with_a_header() {
        let dir = std::env::temp_dir().join(format!("sapa-csv-sink-{}", std::process::id()));
        let mut sink = CsvDirSink::create(&dir).unwrap();
        let batch = RecordBatch::try_new(
            Table::Schools.schema(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(Int64Array::from(vec![7, 7])),
                Arc::new(StringArray::from(vec!["№ 1 мектеп", "«Болашақ», мектеп"])),
                Arc::new(StringArray::from(vec!["Школа № 1", "Школа \"Болашак\""])),
                Arc::new(StringArray::from(vec!["urban", "rural"])),
                Arc::new(StringArray::from(vec!["kk", "mixed"])),
                Arc::new(StringArray::from(vec!["general", "lyceum"])),
                Arc::new(Float64Array::from(vec![Some(20.0), None])),
            ],
        )
        .unwrap();
        sink.write(Table::Schools, batch).unwrap();
        let wrong = RecordBatch::try_new(
            Table::Regions.schema(),
            vec![
                Arc::new(Int64Array::from(vec![1])),
                Arc::new(StringArray::from(vec!["a"])),
                Arc::new(StringArray::from(vec!["b"])),
            ],
        )
        .unwrap();
        assert!(matches!(
            sink.write_batch(Table::Schools, &wrong),
            Err(CsvSinkError::Schema { .. })
        ));
        sink.finish().unwrap();
        let schools = std::fs::read_to_string(dir.join("schools.csv")).unwrap();
        assert_eq!(
            schools,
            "school_id,district_id,name_kk,name_ru,locality,language,school_type,internet_mbps\n\
             1,7,№ 1 мектеп,Школа № 1,urban,kk,general,20\n\
             2,7,\"«Болашақ», мектеп\",\"Школа \"\"Болашак\"\"\",rural,mixed,lyceum,\n"
        );
        // Required tables that got no rows still get their header; modo does not.
        assert_eq!(
            std::fs::read_to_string(dir.join("marks.csv")).unwrap(),
            "student_id,class_id,subject_id,period,mark,recorded_at\n"
        );
        assert!(!dir.join("modo.csv").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
