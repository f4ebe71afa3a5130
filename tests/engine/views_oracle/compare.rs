//! Rows as plain values, read from a DataFusion query, and a keyed
//! comparison of two row sets that says precisely which rows differ.

use std::collections::BTreeMap;
use std::fmt;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::prelude::SessionContext;

/// Floats closer than this are equal.
const TOLERANCE: f64 = 1e-9;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
}

/// One row.
pub type Row = Vec<Cell>;

impl Cell {
    /// An optional integer.
    pub fn opt_int(v: Option<i64>) -> Cell {
        v.map_or(Cell::Null, Cell::Int)
    }

    /// An optional float.
    pub fn opt_float(v: Option<f64>) -> Cell {
        v.map_or(Cell::Null, Cell::Float)
    }

    /// An optional string.
    pub fn opt_str(v: Option<&str>) -> Cell {
        v.map_or(Cell::Null, Cell::str)
    }

    /// A string.
    pub fn str(v: &str) -> Cell {
        Cell::Str(v.to_string())
    }

    fn same(&self, other: &Cell) -> bool {
        match (self, other) {
            (Cell::Float(a), Cell::Float(b)) => (a - b).abs() <= TOLERANCE,
            _ => self == other,
        }
    }

    fn key(&self) -> Key {
        match self {
            Cell::Null => Key::Null,
            Cell::Int(v) => Key::Int(*v),
            Cell::Str(v) => Key::Str(v.clone()),
            Cell::Float(v) => panic!("a float ({v}) cannot be part of a row key"),
        }
    }
}

/// Floats print with six decimals, so hand-written expectations can spell
/// `83.333333`.
impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Float(v) => write!(f, "{v:.6}"),
            Cell::Str(v) => f.write_str(v),
        }
    }
}

/// A row as `a|b|c`.
pub fn line(row: &[Cell]) -> String {
    row.iter()
        .map(Cell::to_string)
        .collect::<Vec<_>>()
        .join("|")
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Null,
    Int(i64),
    Str(String),
}

/// Runs `sql` and reads every value: integers of any width as `Int`,
/// `Float64` as `Float`, strings as `Str`. Any other type fails the test
/// (percentages must be float64, SPEC §5).
pub async fn fetch(ctx: &SessionContext, sql: &str) -> Vec<Row> {
    let batches = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("planning {sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("running {sql}: {e}"));
    let mut rows = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let mut columns: Vec<Vec<Cell>> = Vec::new();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let cells = match column.data_type() {
                t if t.is_integer() => {
                    let c = cast(column, &DataType::Int64).unwrap();
                    let c = c.as_primitive::<Int64Type>();
                    (0..c.len())
                        .map(|i| Cell::opt_int(c.is_valid(i).then(|| c.value(i))))
                        .collect()
                }
                DataType::Float64 => {
                    let c = column.as_primitive::<Float64Type>();
                    (0..c.len())
                        .map(|i| Cell::opt_float(c.is_valid(i).then(|| c.value(i))))
                        .collect()
                }
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    let c = cast(column, &DataType::Utf8).unwrap();
                    let c = c.as_string::<i32>();
                    (0..c.len())
                        .map(|i| Cell::opt_str(c.is_valid(i).then(|| c.value(i))))
                        .collect()
                }
                other => panic!("column {} of {sql} has type {other}", field.name()),
            };
            columns.push(cells);
        }
        for i in 0..batch.num_rows() {
            rows.push(columns.iter().map(|c| c[i].clone()).collect());
        }
    }
    rows
}

/// How many differing rows a failure message shows.
const SHOWN: usize = 12;

/// Compares `actual` with `expected` rows, keyed by their first `key_len`
/// columns; `sides` names them in messages. `Ok` when both hold the same
/// keys with the same values; otherwise a message listing the first
/// differences.
pub fn compare(
    what: &str,
    sides: [&str; 2],
    columns: &[&str],
    key_len: usize,
    expected: &[Row],
    actual: &[Row],
) -> Result<(), String> {
    let [want_side, got_side] = sides;
    let keyed = |rows: &[Row], side: &str| -> Result<BTreeMap<Vec<Key>, Row>, String> {
        let mut map = BTreeMap::new();
        for row in rows {
            assert_eq!(row.len(), columns.len(), "{what}: {side} row {row:?}");
            let key: Vec<Key> = row[..key_len].iter().map(Cell::key).collect();
            if map.insert(key, row.clone()).is_some() {
                return Err(format!(
                    "{what}: the {side} has two rows with the key of {}",
                    line(row)
                ));
            }
        }
        Ok(map)
    };
    let expected = keyed(expected, want_side)?;
    let actual = keyed(actual, got_side)?;
    let mut diffs = Vec::new();
    let mut count = 0;
    for (key, want) in &expected {
        match actual.get(key) {
            None => {
                count += 1;
                diffs.push(format!("  only in the {want_side}: {}", line(want)));
            }
            Some(got) => {
                let cols: Vec<String> = columns
                    .iter()
                    .zip(want.iter().zip(got))
                    .filter(|(_, (w, g))| !w.same(g))
                    .map(|(c, (w, g))| format!("{c}: {want_side} {w}, {got_side} {g}"))
                    .collect();
                if !cols.is_empty() {
                    count += 1;
                    diffs.push(format!(
                        "  row {}\n    differs in {}\n    {want_side}: {}\n    {got_side}: {}",
                        line(&want[..key_len]),
                        cols.join("; "),
                        line(want),
                        line(got)
                    ));
                }
            }
        }
    }
    for (key, got) in &actual {
        if !expected.contains_key(key) {
            count += 1;
            diffs.push(format!("  only in the {got_side}: {}", line(got)));
        }
    }
    if count == 0 {
        return Ok(());
    }
    diffs.truncate(SHOWN);
    Err(format!(
        "{what}: {count} of {} {want_side} / {} {got_side} rows differ (columns {}):\n{}",
        expected.len(),
        actual.len(),
        columns.join(", "),
        diffs.join("\n")
    ))
}

/// Compares rows with hand-written `a|b|c` lines, in order; a failure
/// lists the lines found on one side only.
pub fn compare_lines(what: &str, expected: &[&str], actual: &[Row]) -> Result<(), String> {
    let actual: Vec<String> = actual.iter().map(|r| line(r)).collect();
    if actual == expected {
        return Ok(());
    }
    let mut out = format!(
        "{what}: {} hand-computed rows, {} actual",
        expected.len(),
        actual.len()
    );
    let mut same_set = true;
    for want in expected.iter().filter(|w| !actual.iter().any(|a| a == *w)) {
        same_set = false;
        out.push_str(&format!("\n  by hand only: {want}"));
    }
    for got in actual.iter().filter(|a| !expected.contains(&a.as_str())) {
        same_set = false;
        out.push_str(&format!("\n  actual only:  {got}"));
    }
    if same_set {
        out.push_str(", the same rows in another order or repeated");
    }
    Err(out)
}
