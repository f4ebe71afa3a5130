//! A report result as an `.xlsx` workbook a report author can paste into
//! the National Report: one sheet named after the report, two bold header
//! rows (Kazakh labels, then Russian, see [`labels`](super::labels)) frozen
//! above the data, typed cells, percentages as `0.0%` cells, and column
//! widths fitted to their longest text.
//!
//! # Charts
//!
//! Band cells (`low`, `medium`, `high`) carry conditional formats in the
//! band colours ([`bands`]). The reports a National Report draws from get
//! native Excel charts beside the table, built from the table's own cells:
//! `indicator_dynamics` (the indicators and their required levels over the
//! periods; the status shares per period), `indicator_blocks` (each value
//! beside its required level; the schools reaching it), `rankings` (a
//! region's districts and schools by knowledge quality) and
//! `period_comparison` (the units one level down in both periods). Bars of
//! a unit are coloured by its band.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float64Type, Schema, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use rust_xlsxwriter::{DocProperties, Format, FormatAlign, Workbook, Worksheet};

pub mod bands;
mod charts;

use super::labels::{header, is_percentage};
use super::{CannedQuery, ReportError};

/// Rows of a worksheet (Excel's limit).
const SHEET_ROWS: usize = 1_048_576;
/// Rows above the data: the Kazakh and the Russian header.
const HEADER_ROWS: u32 = 2;
/// Excel's limit on a sheet name's length.
const SHEET_NAME_CHARS: usize = 31;
/// Column widths (in characters) are fitted within these bounds; longer
/// header labels wrap.
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 40;
/// Excel's paper size code of A4.
const A4: u8 = 9;
/// Days from Excel's epoch (1899-12-30) to 1970-01-01.
const EXCEL_UNIX_EPOCH_DAYS: f64 = 25_569.0;

/// Writes `batches` (of `schema`, the result of `query`) to `path` as a
/// workbook of one sheet named after the report; returns the number of
/// data rows.
pub fn write_xlsx(
    path: &Path,
    query: &CannedQuery,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<usize, ReportError> {
    let (mut workbook, rows) = workbook(query.name, &query.title, schema, batches)?;
    workbook.save(path)?;
    Ok(rows)
}

/// Writes one sheet per unit to `path`: `sheets` are `(sheet name,
/// result)` pairs, each result of `query` for one unit (`--unit region:*`).
/// Returns the number of data rows of all sheets.
pub fn write_xlsx_sheets(
    path: &Path,
    query: &CannedQuery,
    schema: &Schema,
    sheets: &[(String, Vec<RecordBatch>)],
) -> Result<usize, ReportError> {
    let mut workbook = new_workbook(&query.title);
    let mut rows = 0;
    for (sheet, batches) in sheets {
        rows += add_sheet(&mut workbook, query.name, sheet, schema, batches)?;
    }
    workbook.save(path)?;
    Ok(rows)
}

/// Builds the workbook of one result of report `report`: a sheet called
/// after it (cut to Excel's 31 characters), `title` in the document
/// properties. Returns it with the number of data rows.
pub fn workbook(
    report: &str,
    title: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<(Workbook, usize), ReportError> {
    let mut workbook = new_workbook(title);
    let rows = add_sheet(&mut workbook, report, report, schema, batches)?;
    Ok((workbook, rows))
}

/// An empty workbook with `title` in its document properties.
pub fn new_workbook(title: &str) -> Workbook {
    let mut workbook = Workbook::new();
    workbook.set_properties(&DocProperties::new().set_title(title));
    workbook
}

/// Adds a sheet called `sheet` (made a valid Excel name, see
/// [`sheet_name`]) holding `batches`, a result of report `report`: the two
/// header rows, the typed cells, the band cells' colours
/// ([`bands`]), and the report's charts beside the table
/// ([`charts`](self#charts)). Returns the number of data rows.
pub fn add_sheet(
    workbook: &mut Workbook,
    report: &str,
    sheet: &str,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<usize, ReportError> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let max = SHEET_ROWS - HEADER_ROWS as usize;
    if rows > max {
        return Err(ReportError::TooManyRows { rows, max });
    }
    let name = sheet_name(sheet);
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(&name)?;
    let mut widths = write_headers(worksheet, schema)?;
    let styles = Styles::new();
    let mut row = HEADER_ROWS;
    for batch in batches {
        for (col, (field, array)) in schema.fields().iter().zip(batch.columns()).enumerate() {
            let width = write_column(worksheet, &styles, row, col_num(col)?, field.name(), array)?;
            widths[col] = widths[col].max(width);
        }
        row +=
            u32::try_from(batch.num_rows()).map_err(|_| ReportError::TooManyRows { rows, max })?;
    }
    for (col, width) in widths.iter().enumerate() {
        let width = (*width).clamp(MIN_WIDTH, MAX_WIDTH) + 2;
        worksheet.set_column_width(col_num(col)?, width as f64)?;
    }
    worksheet.set_freeze_panes(HEADER_ROWS, 0)?;
    // Printed, every page of the table repeats its two header rows.
    worksheet.set_repeat_rows(0, HEADER_ROWS - 1)?;
    let last_row = (rows > 0).then(|| row - 1);
    bands::add_band_formats(worksheet, schema, HEADER_ROWS, last_row)?;
    // The charts look the rows up by column name: one batch of them all.
    let all = match batches.first() {
        Some(first) => concat_batches(&first.schema(), batches)?,
        None => RecordBatch::new_empty(Arc::new(schema.clone())),
    };
    let table = charts::Table {
        sheet: &name,
        rows: &all,
        first_row: HEADER_ROWS,
    };
    if charts::add_charts(worksheet, report, &table, widths.len())? > 0 {
        // Printed (or exported to PDF), the charts start a page of their
        // own: a landscape A4 page is as wide as two charts.
        worksheet
            .set_paper_size(A4)
            .set_landscape()
            .set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
        worksheet.set_vertical_page_breaks(&[u32::from(col_num(widths.len() + 1)?)])?;
    }
    Ok(rows)
}

/// The formats of the cells.
struct Styles {
    percent: Format,
    date: Format,
    timestamp: Format,
}

impl Styles {
    fn new() -> Styles {
        Styles {
            percent: Format::new().set_num_format("0.0%"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            timestamp: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        }
    }
}

/// Writes the two header rows; returns each column's widest label (chars).
fn write_headers(worksheet: &mut Worksheet, schema: &Schema) -> Result<Vec<usize>, ReportError> {
    let bold = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let mut widths = Vec::with_capacity(schema.fields().len());
    for (col, field) in schema.fields().iter().enumerate() {
        let (kk, ru) = header(field.name());
        worksheet.write_string_with_format(0, col_num(col)?, kk, &bold)?;
        worksheet.write_string_with_format(1, col_num(col)?, ru, &bold)?;
        widths.push(kk.chars().count().max(ru.chars().count()));
    }
    Ok(widths)
}

/// Writes one column of one batch from `first_row` down, as typed cells
/// (NULL as an empty cell); returns the widest rendered value (chars).
fn write_column(
    worksheet: &mut Worksheet,
    styles: &Styles,
    first_row: u32,
    col: u16,
    name: &str,
    array: &ArrayRef,
) -> Result<usize, ReportError> {
    let mut width = 0;
    let row_of = |i: usize| first_row + i as u32;
    match array.data_type() {
        t if t.is_numeric() => {
            let numbers = cast(array, &DataType::Float64)?;
            let numbers = numbers.as_primitive::<Float64Type>();
            let percent = is_percentage(name);
            for (i, value) in numbers.iter().enumerate() {
                let Some(value) = value else { continue };
                if percent {
                    worksheet.write_number_with_format(
                        row_of(i),
                        col,
                        value / 100.0,
                        &styles.percent,
                    )?;
                    width = width.max("100.0%".len());
                } else {
                    worksheet.write_number(row_of(i), col, value)?;
                    // Excel's General format shows at most ~11 characters
                    // of a fraction.
                    let shown = value.to_string().len();
                    width = width.max(if value.fract() == 0.0 {
                        shown
                    } else {
                        shown.min(11)
                    });
                }
            }
        }
        DataType::Boolean => {
            for (i, value) in array.as_boolean().iter().enumerate() {
                let Some(value) = value else { continue };
                worksheet.write_boolean(row_of(i), col, value)?;
                width = width.max("FALSE".len());
            }
        }
        DataType::Date32 | DataType::Date64 => {
            let days = cast(array, &DataType::Date32)?;
            for (i, day) in days.as_primitive::<Date32Type>().iter().enumerate() {
                let Some(day) = day else { continue };
                let serial = f64::from(day) + EXCEL_UNIX_EPOCH_DAYS;
                worksheet.write_number_with_format(row_of(i), col, serial, &styles.date)?;
                width = width.max("yyyy-mm-dd".len());
            }
        }
        DataType::Timestamp(_, None) => {
            let micros = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            for (i, us) in micros
                .as_primitive::<TimestampMicrosecondType>()
                .iter()
                .enumerate()
            {
                let Some(us) = us else { continue };
                let serial = us as f64 / 86_400_000_000.0 + EXCEL_UNIX_EPOCH_DAYS;
                worksheet.write_number_with_format(row_of(i), col, serial, &styles.timestamp)?;
                width = width.max("yyyy-mm-dd hh:mm:ss".len());
            }
        }
        // Text, and anything without a natural cell type, as its display.
        _ => {
            let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())?;
            for i in 0..array.len() {
                if array.is_null(i) {
                    continue;
                }
                let text = formatter.value(i).to_string();
                width = width.max(text.chars().count());
                worksheet.write_string(row_of(i), col, text)?;
            }
        }
    }
    Ok(width)
}

/// `index` as a worksheet column number.
fn col_num(index: usize) -> Result<u16, ReportError> {
    u16::try_from(index)
        .map_err(|_| ReportError::Xlsx(rust_xlsxwriter::XlsxError::RowColumnLimitError))
}

/// A valid sheet name for `name`: the characters Excel forbids replaced by
/// `_`, at most 31 characters, never empty.
pub fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(SHEET_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim_matches('\'').to_string();
    if cleaned.is_empty() {
        "report".to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests;
