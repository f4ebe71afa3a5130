//! Merge units: runs of districts, in stored order, small enough that the
//! marks of one academic year × period × unit sort in memory.
//!
//! A partition nationwide holds ~45 million marks; sorted as one, it would
//! spill and need a large merge. Cut into units of about
//! [`UNIT_STUDENTS`] students, each sort holds a few million rows, and
//! writing the units one after the other in order keeps the partition
//! sorted by region, district, school, class, student.

use std::collections::{BTreeSet, HashMap};

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;

use super::error::IngestError;

/// Students per academic year a merge unit aims at, by default.
pub const UNIT_STUDENTS: u64 = 150_000;

/// The merge units of a dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Units {
    /// The districts of each unit, units in stored order.
    pub(crate) districts: Vec<Vec<i64>>,
    /// District → its unit.
    pub(crate) unit_of: HashMap<i64, u32>,
}

impl Units {
    /// Cuts the districts (sorted by region, then district) into units of
    /// about `unit_students` enrollments per academic year.
    ///
    /// `districts` is the merged `districts` table; `enrollment_districts`
    /// the district of every enrollment (by its class); `years` the
    /// academic years of the classes.
    pub(crate) fn cut(
        districts: &RecordBatch,
        enrollment_districts: impl Iterator<Item = i64>,
        years: usize,
        unit_students: u64,
    ) -> Result<Units, IngestError> {
        let column = |name: &str| {
            districts
                .column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<Int64Type>())
                .ok_or_else(|| IngestError::Inconsistent(format!("districts.{name}")))
        };
        let mut order: Vec<(i64, i64)> = column("region_id")?
            .values()
            .iter()
            .copied()
            .zip(column("district_id")?.values().iter().copied())
            .collect();
        order.sort_unstable();
        let mut weight: HashMap<i64, u64> = HashMap::new();
        for district in enrollment_districts {
            *weight.entry(district).or_default() += 1;
        }
        let cap = unit_students.max(1) * years.max(1) as u64;
        let mut units = Units::default();
        let mut current: Vec<i64> = Vec::new();
        let mut load = 0u64;
        for (_, district) in order {
            let w = weight.get(&district).copied().unwrap_or(0);
            if !current.is_empty() && load + w > cap {
                units.districts.push(std::mem::take(&mut current));
                load = 0;
            }
            current.push(district);
            load += w;
        }
        if !current.is_empty() || units.districts.is_empty() {
            units.districts.push(current);
        }
        for (unit, districts) in units.districts.iter().enumerate() {
            for d in districts {
                units
                    .unit_of
                    .insert(*d, u32::try_from(unit).unwrap_or(u32::MAX));
            }
        }
        Ok(units)
    }
}

/// The distinct academic years of `years`.
pub(crate) fn distinct_years(years: impl Iterator<Item = i32>) -> usize {
    years.collect::<BTreeSet<_>>().len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};

    use super::*;
    use crate::storage::StoredTable;

    #[test]
    fn units_are_runs_of_districts_in_stored_order() {
        // Districts 30 (region 1), 10 and 20 (region 2): stored order 30, 10, 20.
        let districts = RecordBatch::try_new(
            StoredTable::Districts.schema(),
            vec![
                Arc::new(Int64Array::from(vec![10, 20, 30])),
                Arc::new(Int64Array::from(vec![2, 2, 1])),
                Arc::new(StringArray::from(vec!["a", "b", "c"])),
                Arc::new(StringArray::from(vec!["a", "b", "c"])),
            ],
        )
        .unwrap();
        let big = UNIT_STUDENTS as usize;
        // 30 and 10 fit one unit together; 20 needs its own.
        let enrolled = std::iter::repeat_n(30, big / 2)
            .chain(std::iter::repeat_n(10, big / 2))
            .chain(std::iter::repeat_n(20, 10));
        let units = Units::cut(&districts, enrolled, 1, UNIT_STUDENTS).unwrap();
        assert_eq!(units.districts, vec![vec![30, 10], vec![20]]);
        assert_eq!(units.unit_of[&20], 1);
        // Two years double the room: one unit.
        let enrolled = std::iter::repeat_n(30, big).chain(std::iter::repeat_n(20, 10));
        assert_eq!(
            Units::cut(&districts, enrolled, 2, UNIT_STUDENTS)
                .unwrap()
                .districts
                .len(),
            1
        );
        // No district at all still makes one (empty) unit.
        let none = RecordBatch::new_empty(StoredTable::Districts.schema());
        assert_eq!(
            Units::cut(&none, std::iter::empty(), 1, UNIT_STUDENTS)
                .unwrap()
                .districts,
            vec![Vec::<i64>::new()]
        );
    }
}
