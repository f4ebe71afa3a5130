//! A small result written to a workbook in memory and read back with
//! calamine.

use std::io::Cursor;
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};
use datafusion::arrow::array::{
    BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::Field;

use super::*;

fn result() -> (Schema, Vec<RecordBatch>) {
    let schema = Schema::new(vec![
        Field::new("region_id", DataType::Int64, true),
        Field::new("school_kk", DataType::Utf8, true),
        Field::new("parallel", DataType::Int32, true),
        Field::new("quality_pct", DataType::Float64, true),
        Field::new("mystery", DataType::Boolean, true),
        Field::new("start_date", DataType::Date32, true),
    ]);
    let columns = |ids: Vec<Option<i64>>, names: Vec<Option<&str>>, pct: Vec<Option<f64>>| {
        let n = ids.len();
        vec![
            Arc::new(Int64Array::from(ids)) as ArrayRef,
            Arc::new(StringArray::from(names)),
            Arc::new(Int32Array::from(vec![Some(5); n])),
            Arc::new(Float64Array::from(pct)),
            Arc::new(BooleanArray::from(vec![Some(true); n])),
            // 2024-09-02 is day 19968 since 1970-01-01.
            Arc::new(Date32Array::from(vec![Some(19_968); n])),
        ]
    };
    let schema_ref = Arc::new(schema.clone());
    let first = RecordBatch::try_new(
        Arc::clone(&schema_ref),
        columns(
            vec![Some(2), Some(18)],
            vec![Some("№1 мектеп"), None],
            vec![Some(40.0), None],
        ),
    )
    .unwrap();
    let second = RecordBatch::try_new(
        schema_ref,
        columns(
            vec![None],
            vec![Some(
                "Өте ұзын атауы бар мектеп, оның атауы қырық таңбадан да ұзын",
            )],
            vec![Some(62.5)],
        ),
    )
    .unwrap();
    (schema, vec![first, second])
}

fn read_back(sheet: &str) -> calamine::Range<Data> {
    let (schema, batches) = result();
    let (mut workbook, rows) = workbook(sheet, "A title", &schema, &batches).unwrap();
    assert_eq!(rows, 3);
    let bytes = workbook.save_to_buffer().unwrap();
    let mut xlsx: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    assert_eq!(xlsx.sheet_names(), vec![sheet_name(sheet)]);
    xlsx.worksheet_range(&sheet_name(sheet)).unwrap()
}

#[test]
fn two_header_rows_kazakh_then_russian() {
    let range = read_back("quarterly_report");
    assert_eq!(range.get((0, 0)), Some(&Data::String("Облыс коды".into())));
    assert_eq!(range.get((1, 0)), Some(&Data::String("Код области".into())));
    assert_eq!(range.get((0, 3)), Some(&Data::String("Сапа, %".into())));
    assert_eq!(range.get((1, 3)), Some(&Data::String("Качество, %".into())));
    // No label: the SQL name in both rows.
    assert_eq!(range.get((0, 4)), Some(&Data::String("mystery".into())));
    assert_eq!(range.get((1, 4)), Some(&Data::String("mystery".into())));
}

#[test]
fn cells_are_typed_and_nulls_empty() {
    let range = read_back("quarterly_report");
    assert_eq!(range.height(), 5, "two header rows and three data rows");
    assert_eq!(range.get((2, 0)), Some(&Data::Float(2.0)));
    assert_eq!(range.get((3, 0)), Some(&Data::Float(18.0)));
    assert_eq!(range.get((4, 0)), Some(&Data::Empty));
    assert_eq!(range.get((2, 1)), Some(&Data::String("№1 мектеп".into())));
    assert_eq!(range.get((3, 1)), Some(&Data::Empty));
    assert_eq!(range.get((2, 2)), Some(&Data::Float(5.0)));
    // Percentages are fractions (shown as 40.0% by the cell format).
    assert_eq!(range.get((2, 3)), Some(&Data::Float(0.4)));
    assert_eq!(range.get((3, 3)), Some(&Data::Empty));
    assert_eq!(range.get((4, 3)), Some(&Data::Float(0.625)));
    assert_eq!(range.get((2, 4)), Some(&Data::Bool(true)));
    match range.get((2, 5)) {
        Some(Data::DateTime(date)) => assert_eq!(date.as_f64(), 45_537.0),
        other => panic!("a date cell, got {other:?}"),
    }
}

#[test]
fn sheet_names_are_valid_excel_names() {
    assert_eq!(sheet_name("quarterly_report"), "quarterly_report");
    let long = "national_statistical_collection_by_region";
    assert_eq!(sheet_name(long), &long[..31]);
    assert_eq!(sheet_name("a/b:c"), "a_b_c");
    assert_eq!(sheet_name("''"), "report");
    let range = read_back(long);
    assert_eq!(range.get((1, 0)), Some(&Data::String("Код области".into())));
}

#[test]
fn widths_follow_the_longest_text_within_bounds() {
    let (schema, batches) = result();
    let mut widths = vec![0; schema.fields().len()];
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let styles = Styles::new();
    for (col, array) in batches[1].columns().iter().enumerate() {
        let name = schema.field(col).name();
        widths[col] = write_column(sheet, &styles, 2, col as u16, name, array).unwrap();
    }
    // The long school name is 60 characters; the workbook caps it at 40.
    assert_eq!(widths[1], 60);
    assert_eq!(widths[3], "100.0%".len());
    let headers = write_headers(sheet, &schema).unwrap();
    assert_eq!(
        headers[0],
        "Облыс коды"
            .chars()
            .count()
            .max("Код области".chars().count())
    );
}
