//! Reading input files row by row: CSV (UTF-8, header row, any column
//! order, CRLF, quoted fields, a leading BOM tolerated) and XLSX (the first
//! sheet, the same columns).
//!
//! Problems of a single row — bytes that are not UTF-8, a wrong number of
//! fields — are recorded as located errors and the row is skipped, so one
//! pass reports them all.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};

use super::error::{ErrorLog, IngestError, LocatedError};

/// One data row: its line (CSV) or sheet row (XLSX), 1-based, the header
/// being line 1 (or the first sheet row), and its fields in input order.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub(crate) line: u64,
    pub(crate) fields: Vec<String>,
}

/// A file of rows under a header.
pub(crate) trait RowSource {
    /// The file's name as errors show it (`marks.csv`).
    fn file(&self) -> &str;
    /// The header's column names, trimmed.
    fn header(&self) -> &[String];
    /// Reads the next well-formed row into `row`; `false` at the end.
    fn next_row(&mut self, row: &mut Row, errors: &mut ErrorLog) -> Result<bool, IngestError>;
    /// Input bytes consumed so far (for progress).
    fn bytes_read(&self) -> u64;
}

/// Opens `path` as CSV or XLSX by its extension.
pub(crate) fn open(
    path: &Path,
    errors: &mut ErrorLog,
) -> Result<Option<Box<dyn RowSource>>, IngestError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    if is_xlsx {
        Ok(XlsxSource::open(path, name, errors)?.map(|s| Box::new(s) as Box<dyn RowSource>))
    } else {
        Ok(CsvSource::open(path, name, errors)?.map(|s| Box::new(s) as Box<dyn RowSource>))
    }
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> IngestError {
    IngestError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A CSV file.
pub(crate) struct CsvSource {
    file: String,
    path: std::path::PathBuf,
    reader: csv::Reader<BufReader<File>>,
    header: Vec<String>,
    record: csv::ByteRecord,
}

impl CsvSource {
    /// Opens a CSV file and reads its header; `None` (with an error logged)
    /// if the header is unusable.
    fn open(
        path: &Path,
        file: String,
        errors: &mut ErrorLog,
    ) -> Result<Option<CsvSource>, IngestError> {
        let handle = File::open(path).map_err(|e| read_error(path, e))?;
        // Records end at LF; a CR before it is stripped below. (With the
        // default CRLF terminator the reader counts a record's line before
        // consuming the LF of the previous one, so lines came out one short.)
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(BufReader::with_capacity(1 << 20, handle));
        let mut record = csv::ByteRecord::new();
        if !reader
            .read_byte_record(&mut record)
            .map_err(|e| read_error(path, e))?
        {
            errors.push(LocatedError::file(
                &file,
                "the file is empty (no header row)",
            ));
            return Ok(None);
        }
        let mut header = Vec::with_capacity(record.len());
        let last = record.len().saturating_sub(1);
        for (i, raw) in record.iter().enumerate() {
            // A UTF-8 byte-order mark (Excel's "CSV UTF-8") precedes the first name.
            let raw = if i == 0 {
                raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
            } else {
                raw
            };
            let raw = if i == last { strip_cr(raw) } else { raw };
            match std::str::from_utf8(raw) {
                Ok(s) => header.push(s.trim().to_string()),
                Err(_) => {
                    errors.push(LocatedError::line(
                        &file,
                        1,
                        format!(
                            "header field {} is not valid UTF-8 (the file must be UTF-8)",
                            i + 1
                        ),
                    ));
                    return Ok(None);
                }
            }
        }
        Ok(Some(CsvSource {
            file,
            path: path.to_path_buf(),
            reader,
            header,
            record,
        }))
    }
}

impl RowSource for CsvSource {
    fn file(&self) -> &str {
        &self.file
    }

    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self, row: &mut Row, errors: &mut ErrorLog) -> Result<bool, IngestError> {
        loop {
            if !self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| read_error(&self.path, e))?
            {
                return Ok(false);
            }
            let line = self.record.position().map_or(0, |p| p.line());
            if self.record.len() != self.header.len() {
                errors.push(LocatedError::line(
                    &self.file,
                    line,
                    format!(
                        "expected {} fields as in the header, found {} (truncated or malformed line)",
                        self.header.len(),
                        self.record.len()
                    ),
                ));
                continue;
            }
            row.line = line;
            row.fields.resize_with(self.header.len(), String::new);
            let mut ok = true;
            let last = self.record.len().saturating_sub(1);
            for (i, raw) in self.record.iter().enumerate() {
                let raw = if i == last { strip_cr(raw) } else { raw };
                match std::str::from_utf8(raw) {
                    Ok(s) => {
                        row.fields[i].clear();
                        row.fields[i].push_str(s);
                    }
                    Err(_) => {
                        errors.push(LocatedError::value(
                            &self.file,
                            line,
                            &self.header[i],
                            &String::from_utf8_lossy(raw),
                            "not valid UTF-8 (the file must be UTF-8)",
                        ));
                        ok = false;
                    }
                }
            }
            if ok {
                return Ok(true);
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// The field without the CR of a CRLF line end.
fn strip_cr(raw: &[u8]) -> &[u8] {
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

/// The first sheet of an XLSX workbook, loaded whole (a sheet holds at
/// most 2^20 rows, so this stays bounded).
pub(crate) struct XlsxSource {
    file: String,
    header: Vec<String>,
    rows: std::vec::IntoIter<(u64, Vec<Data>)>,
    bytes: u64,
    read: u64,
    total_rows: u64,
}

impl XlsxSource {
    fn open(
        path: &Path,
        file: String,
        errors: &mut ErrorLog,
    ) -> Result<Option<XlsxSource>, IngestError> {
        let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        let mut book: Xlsx<_> = calamine::open_workbook(path).map_err(|e| read_error(path, e))?;
        let Some(sheet) = book.sheet_names().first().cloned() else {
            errors.push(LocatedError::file(&file, "the workbook has no sheet"));
            return Ok(None);
        };
        let range = book
            .worksheet_range(&sheet)
            .map_err(|e| read_error(path, e))?;
        let first_row = u64::from(range.start().map_or(0, |(r, _)| r));
        let mut rows = range
            .rows()
            .enumerate()
            .map(|(i, r)| (first_row + i as u64 + 1, r.to_vec()))
            .filter(|(_, r)| r.iter().any(|c| !matches!(c, Data::Empty)));
        let Some((_, head)) = rows.next() else {
            errors.push(LocatedError::file(
                &file,
                format!("sheet {sheet:?} is empty (no header row)"),
            ));
            return Ok(None);
        };
        let mut header: Vec<String> = head
            .iter()
            .map(|c| cell_text(c).trim().to_string())
            .collect();
        while header.last().is_some_and(String::is_empty) {
            header.pop();
        }
        let rows: Vec<(u64, Vec<Data>)> = rows.collect();
        let total_rows = rows.len() as u64;
        Ok(Some(XlsxSource {
            file,
            header,
            rows: rows.into_iter(),
            bytes,
            read: 0,
            total_rows,
        }))
    }
}

impl RowSource for XlsxSource {
    fn file(&self) -> &str {
        &self.file
    }

    fn header(&self) -> &[String] {
        &self.header
    }

    fn next_row(&mut self, row: &mut Row, errors: &mut ErrorLog) -> Result<bool, IngestError> {
        for (line, cells) in self.rows.by_ref() {
            self.read += 1;
            if let Some(extra) = cells
                .iter()
                .skip(self.header.len())
                .find(|c| !matches!(c, Data::Empty))
            {
                errors.push(LocatedError::line(
                    &self.file,
                    line,
                    format!(
                        "value {:?} beyond the last named column (expected {} columns as in the header)",
                        cell_text(extra),
                        self.header.len()
                    ),
                ));
                continue;
            }
            row.line = line;
            row.fields.resize_with(self.header.len(), String::new);
            for (i, field) in row.fields.iter_mut().enumerate() {
                field.clear();
                if let Some(cell) = cells.get(i) {
                    field.push_str(&cell_text(cell));
                }
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn bytes_read(&self) -> u64 {
        // Progress through a loaded sheet, scaled to the file's size.
        self.bytes * self.read / self.total_rows.max(1)
    }
}

/// A cell as the text a CSV export would hold.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Excel stores every number as a double: an id typed as 12 is 12.0.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            match (h, mi, s, ms) {
                (0, 0, 0, 0) => format!("{y:04}-{mo:02}-{d:02}"),
                (_, _, _, 0) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
                _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}"),
            }
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    type Lines = Vec<(u64, Vec<String>)>;

    fn rows_of(bytes: &[u8]) -> (Vec<String>, Lines, ErrorLog) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).unwrap();
        let mut errors = ErrorLog::new(10);
        let mut src = open(&path, &mut errors).unwrap().unwrap();
        let mut row = Row::default();
        let mut out = Vec::new();
        while src.next_row(&mut row, &mut errors).unwrap() {
            out.push((row.line, row.fields.clone()));
        }
        (src.header().to_vec(), out, errors)
    }

    #[test]
    fn bom_crlf_quotes() {
        let (header, rows, errors) =
            rows_of(b"\xEF\xBB\xBFa, b\r\n1,\"x, \"\"y\"\"\"\r\n2,\"multi\r\nline\"\r\n3,z\r\n");
        assert!(errors.is_empty());
        assert_eq!(header, ["a", "b"]);
        assert_eq!(rows[0], (2, vec!["1".into(), "x, \"y\"".into()]));
        assert_eq!(rows[1], (3, vec!["2".into(), "multi\r\nline".into()]));
        assert_eq!(
            rows[2],
            (5, vec!["3".into(), "z".into()]),
            "physical lines, CR stripped"
        );
    }

    #[test]
    fn bad_rows_are_located_and_skipped() {
        let (_, rows, errors) = rows_of(b"a,b\n1,2\n3\n4,\xFF\xFE\n5,6\n");
        assert_eq!(rows.len(), 2);
        let err = errors.check().unwrap_err();
        let located = err.located();
        assert_eq!(located[0].line, Some(3));
        assert!(
            located[0].message.contains("expected 2 fields"),
            "{}",
            located[0]
        );
        assert_eq!(located[1].line, Some(4));
        assert_eq!(located[1].column.as_deref(), Some("b"));
        assert!(located[1].message.contains("UTF-8"));
    }

    #[test]
    fn excel_cells_as_text() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        assert_eq!(cell_text(&Data::Float(12.0)), "12");
        assert_eq!(cell_text(&Data::Float(2.5)), "2.5");
        let date = ExcelDateTime::new(45943.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(date)), "2025-10-13");
        let ts = ExcelDateTime::new(45943.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(ts)), "2025-10-13T12:00:00");
    }
}
