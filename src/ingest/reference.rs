//! The reference tables (everything but marks): merging an input into the
//! stored version and checking keys and references (SPEC §10).
//!
//! A table present in the input replaces, row by row, the stored rows with
//! the same key (an upsert); rows are never deleted. The checks run on the
//! merged state, and errors point at the input line that causes them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{
    SortColumn, concat_batches, filter_record_batch, lexsort_to_indices, take_record_batch,
};
use datafusion::arrow::datatypes::{DataType, Date32Type, Int32Type, Int64Type};
use datafusion::arrow::util::display::array_value_to_string;
use sapa_datasets::schema::allowed_values;

use super::error::{ErrorLog, IngestError, LocatedError};
use super::input_table::InputTable;
use super::units::{Units, distinct_years};
use crate::storage::StoredTable;

/// Where a class sits: what every mark of it is stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClassPlace {
    pub(crate) academic_year: i32,
    pub(crate) region_id: i64,
    pub(crate) district_id: i64,
    pub(crate) school_id: i64,
    /// The merge unit of its district.
    pub(crate) unit: u32,
}

/// The merged reference tables of the version being built.
pub(crate) struct References {
    /// Every reference table, merged and sorted in its stored order.
    pub(crate) tables: BTreeMap<StoredTable, RecordBatch>,
    /// The tables whose content differs from the stored version.
    pub(crate) changed: BTreeSet<StoredTable>,
    /// Class → its year and place.
    pub(crate) classes: HashMap<i64, ClassPlace>,
    /// Subject ids.
    pub(crate) subjects: HashSet<i64>,
    /// (class_id, student_id) of every enrollment, sorted.
    pub(crate) enrolled: Vec<(i64, i64)>,
    /// The (academic year, quarter) pairs of the calendar.
    pub(crate) periods: HashSet<(i32, &'static str)>,
    /// How partitions of marks are cut for merging.
    pub(crate) units: Units,
}

impl References {
    /// Whether `student` has an enrollment in `class`.
    pub(crate) fn is_enrolled(&self, class: i64, student: i64) -> bool {
        self.enrolled.binary_search(&(class, student)).is_ok()
    }
}

/// A row key, each part an integer (enumerated text by its position in the
/// allowed values).
type Key = [i64; 3];

/// Merges `inputs` into `stored`, checks keys and references, and builds
/// the lookups marks are validated against.
pub(crate) fn merge(
    mut stored: BTreeMap<StoredTable, RecordBatch>,
    inputs: Vec<InputTable>,
    unit_students: u64,
    errors: &mut ErrorLog,
) -> Result<References, IngestError> {
    let mut tables = BTreeMap::new();
    let mut changed = BTreeSet::new();
    let mut by_table: BTreeMap<StoredTable, InputTable> =
        inputs.into_iter().map(|t| (t.table, t)).collect();
    for table in StoredTable::REFERENCE {
        let before = stored
            .remove(&table)
            .unwrap_or_else(|| RecordBatch::new_empty(table.schema()));
        let merged = match by_table.get(&table) {
            None => before,
            Some(input) => {
                let merged = sort(table, &upsert(&before, input, errors)?)?;
                // Scans need not return stored rows in order: compare sorted.
                if !same_rows(&sort(table, &before)?, &merged) {
                    changed.insert(table);
                }
                merged
            }
        };
        tables.insert(table, merged);
    }
    check_references(&tables, &mut by_table, errors)?;
    let mut classes = class_places(&tables)?;
    let subjects = ids(&tables, StoredTable::Subjects, "subject_id")?
        .into_iter()
        .collect();
    let enrollments = table(&tables, StoredTable::Enrollments)?;
    let classes_col = i64s(enrollments, "class_id")?;
    let students_col = i64s(enrollments, "student_id")?;
    let units = Units::cut(
        table(&tables, StoredTable::Districts)?,
        classes_col
            .iter()
            .filter_map(|c| classes.get(c).map(|p| p.district_id)),
        distinct_years(classes.values().map(|p| p.academic_year)),
        unit_students,
    )?;
    for place in classes.values_mut() {
        place.unit = units.unit_of.get(&place.district_id).copied().unwrap_or(0);
    }
    let mut enrolled: Vec<(i64, i64)> = classes_col.into_iter().zip(students_col).collect();
    enrolled.sort_unstable();
    enrolled.dedup();
    let periods = super::calendar::periods(table(&tables, StoredTable::Calendar)?)?;
    Ok(References {
        tables,
        changed,
        classes,
        subjects,
        enrolled,
        periods,
        units,
    })
}

/// The stored rows not replaced by the input, then the input's rows;
/// duplicate keys in the input and moves of a stored row to another parent
/// are errors.
fn upsert(
    before: &RecordBatch,
    input: &InputTable,
    errors: &mut ErrorLog,
) -> Result<RecordBatch, IngestError> {
    let table = input.table;
    let new_keys = keys(table, &input.batch)?;
    let mut order: Vec<(Key, usize)> = new_keys.iter().copied().zip(0..).collect();
    order.sort_unstable();
    for pair in order.windows(2) {
        if pair[0].0 == pair[1].0 {
            let (first, dup) = (pair[0].1.min(pair[1].1), pair[0].1.max(pair[1].1));
            errors.push(LocatedError::value(
                &input.file,
                input.line(dup),
                &table.key_columns().join(", "),
                &key_text(table, &input.batch, dup),
                format!("duplicate key, also at line {}", input.line(first)),
            ));
        }
    }
    let old_keys = keys(table, before)?;
    let mut keep = Vec::with_capacity(old_keys.len());
    for (old_row, key) in old_keys.iter().enumerate() {
        match order.binary_search_by(|(k, _)| k.cmp(key)) {
            Ok(pos) => {
                keep.push(false);
                check_parent(table, before, old_row, input, order[pos].1, errors)?;
            }
            Err(_) => keep.push(true),
        }
    }
    let kept = filter_record_batch(before, &BooleanArray::from(keep))?;
    Ok(concat_batches(&table.schema(), [&kept, &input.batch])?)
}

/// The columns a delta may not change, since marks are stored under them.
fn parent_columns(table: StoredTable) -> &'static [&'static str] {
    match table {
        StoredTable::Districts => &["region_id"],
        StoredTable::Schools => &["district_id"],
        StoredTable::Classes => &["school_id", "academic_year"],
        _ => &[],
    }
}

fn check_parent(
    table: StoredTable,
    before: &RecordBatch,
    old_row: usize,
    input: &InputTable,
    new_row: usize,
    errors: &mut ErrorLog,
) -> Result<(), IngestError> {
    for column in parent_columns(table) {
        let old = column_of(before, column)?;
        let new = column_of(&input.batch, column)?;
        let (old, new) = (
            array_value_to_string(old, old_row)?,
            array_value_to_string(new, new_row)?,
        );
        if old != new {
            errors.push(LocatedError::value(
                &input.file,
                input.line(new_row),
                column,
                &new,
                format!(
                    "the stored dataset has {column} {old} for {}; a delta cannot move it, since \
                     its marks are stored under it (ingest into a new data directory instead)",
                    key_text(table, &input.batch, new_row)
                ),
            ));
        }
    }
    Ok(())
}

/// Every input row's reference to another table must resolve in the merged
/// state (a class's school, a school's district, …).
fn check_references(
    tables: &BTreeMap<StoredTable, RecordBatch>,
    inputs: &mut BTreeMap<StoredTable, InputTable>,
    errors: &mut ErrorLog,
) -> Result<(), IngestError> {
    use StoredTable::*;
    let links = [
        (Districts, "region_id", Regions),
        (Schools, "district_id", Districts),
        (Classes, "school_id", Schools),
        (Enrollments, "class_id", Classes),
        (Modo, "school_id", Schools),
    ];
    for (child, column, parent) in links {
        let Some(input) = inputs.get(&child) else {
            continue;
        };
        let known: HashSet<i64> = ids(tables, parent, column)?.into_iter().collect();
        for (row, id) in i64s(&input.batch, column)?.into_iter().enumerate() {
            if !known.contains(&id) {
                errors.push(LocatedError::value(
                    &input.file,
                    input.line(row),
                    column,
                    &id.to_string(),
                    format!("no row of {} has {column} {id}", parent.name()),
                ));
            }
        }
    }
    // A class of a year the calendar does not hold would sit outside every
    // report: its period ends are unknown.
    if let Some(input) = inputs.get(&Classes) {
        let calendar = table(tables, Calendar)?;
        let known: HashSet<i32> = calendar
            .column_by_name("academic_year")
            .and_then(|c| c.as_primitive_opt::<Int32Type>())
            .ok_or_else(|| missing("calendar", "academic_year"))?
            .values()
            .iter()
            .copied()
            .collect();
        let years = input
            .batch
            .column_by_name("academic_year")
            .and_then(|c| c.as_primitive_opt::<Int32Type>())
            .ok_or_else(|| missing("classes", "academic_year"))?;
        for (row, year) in years.values().iter().enumerate() {
            if !known.contains(year) {
                errors.push(LocatedError::value(
                    &input.file,
                    input.line(row),
                    "academic_year",
                    &year.to_string(),
                    format!("no row of calendar has academic_year {year}"),
                ));
            }
        }
    }
    Ok(())
}

fn class_places(
    tables: &BTreeMap<StoredTable, RecordBatch>,
) -> Result<HashMap<i64, ClassPlace>, IngestError> {
    let pairs = |t: StoredTable, a: &str, b: &str| -> Result<HashMap<i64, i64>, IngestError> {
        let batch = table(tables, t)?;
        Ok(i64s(batch, a)?.into_iter().zip(i64s(batch, b)?).collect())
    };
    let regions = pairs(StoredTable::Districts, "district_id", "region_id")?;
    let districts = pairs(StoredTable::Schools, "school_id", "district_id")?;
    let classes = table(tables, StoredTable::Classes)?;
    let years = classes
        .column_by_name("academic_year")
        .and_then(|c| c.as_primitive_opt::<Int32Type>())
        .ok_or_else(|| missing("classes", "academic_year"))?;
    let mut places = HashMap::with_capacity(classes.num_rows());
    for (row, (class, school)) in i64s(classes, "class_id")?
        .into_iter()
        .zip(i64s(classes, "school_id")?)
        .enumerate()
    {
        // A broken chain was reported by the reference checks; its marks
        // are reported as belonging to an unknown class.
        let Some(&district) = districts.get(&school) else {
            continue;
        };
        let Some(&region) = regions.get(&district) else {
            continue;
        };
        places.insert(
            class,
            ClassPlace {
                academic_year: years.value(row),
                region_id: region,
                district_id: district,
                school_id: school,
                unit: 0,
            },
        );
    }
    Ok(places)
}

/// Sorts a reference table in its stored order.
pub(crate) fn sort(table: StoredTable, batch: &RecordBatch) -> Result<RecordBatch, IngestError> {
    if batch.num_rows() < 2 {
        return Ok(batch.clone());
    }
    let columns = table
        .sort_columns()
        .iter()
        .map(|c| {
            Ok(SortColumn {
                values: Arc::clone(column_of(batch, c)?),
                options: None,
            })
        })
        .collect::<Result<Vec<_>, IngestError>>()?;
    let indices = lexsort_to_indices(&columns, None)?;
    Ok(take_record_batch(batch, &indices)?)
}

/// Whether two batches hold the same rows in the same order (schemas'
/// metadata aside).
fn same_rows(a: &RecordBatch, b: &RecordBatch) -> bool {
    a.num_rows() == b.num_rows()
        && a.num_columns() == b.num_columns()
        && a.columns()
            .iter()
            .zip(b.columns())
            .all(|(x, y)| x.to_data() == y.to_data())
}

fn keys(table: StoredTable, batch: &RecordBatch) -> Result<Vec<Key>, IngestError> {
    let mut out = vec![[0i64; 3]; batch.num_rows()];
    for (part, column) in table.key_columns().iter().enumerate() {
        let array = column_of(batch, column)?;
        match array.data_type() {
            DataType::Int64 => {
                let a = array.as_primitive::<Int64Type>();
                out.iter_mut()
                    .zip(a.values())
                    .for_each(|(k, v)| k[part] = *v);
            }
            DataType::Int32 => {
                let a = array.as_primitive::<Int32Type>();
                out.iter_mut()
                    .zip(a.values())
                    .for_each(|(k, v)| k[part] = i64::from(*v));
            }
            DataType::Date32 => {
                let a = array.as_primitive::<Date32Type>();
                out.iter_mut()
                    .zip(a.values())
                    .for_each(|(k, v)| k[part] = i64::from(*v));
            }
            DataType::Utf8 => {
                let interchange = table
                    .interchange()
                    .ok_or_else(|| missing(table.name(), column))?;
                let allowed = allowed_values(interchange, column).unwrap_or(&[]);
                let a = array.as_string::<i32>();
                for (k, v) in out.iter_mut().zip(a.iter()) {
                    let v = v.unwrap_or_default();
                    k[part] = allowed
                        .iter()
                        .position(|x| *x == v)
                        .map_or(-1, |p| p as i64);
                }
            }
            other => {
                return Err(IngestError::Inconsistent(format!(
                    "{}.{column} has type {other}, not a key type",
                    table.name()
                )));
            }
        }
    }
    Ok(out)
}

fn key_text(table: StoredTable, batch: &RecordBatch, row: usize) -> String {
    table
        .key_columns()
        .iter()
        .map(|c| {
            column_of(batch, c)
                .ok()
                .and_then(|a| array_value_to_string(a, row).ok())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn table(
    tables: &BTreeMap<StoredTable, RecordBatch>,
    t: StoredTable,
) -> Result<&RecordBatch, IngestError> {
    tables
        .get(&t)
        .ok_or_else(|| IngestError::Inconsistent(format!("table {} not merged", t.name())))
}

fn ids(
    tables: &BTreeMap<StoredTable, RecordBatch>,
    t: StoredTable,
    column: &str,
) -> Result<Vec<i64>, IngestError> {
    i64s(table(tables, t)?, column)
}

fn column_of<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, IngestError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| missing("batch", name))
}

fn i64s(batch: &RecordBatch, name: &str) -> Result<Vec<i64>, IngestError> {
    let a = column_of(batch, name)?
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| missing("batch", name))?;
    Ok(a.values().to_vec())
}

fn missing(table: &str, column: &str) -> IngestError {
    IngestError::Inconsistent(format!("{table} has no Int64 column {column}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
