//! Checks of the merged calendar (SPEC §7): every report, the "as of"
//! dates and the audit of marking windows are computed from these dates,
//! so a calendar that contradicts itself is refused, and a delta that
//! moves a stored period's dates is said aloud.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Date32Type, Int32Type};
use sapa_datasets::schema::QUARTERS;

use super::error::{ErrorLog, IngestError, LocatedError};
use super::input_table::InputTable;

/// One calendar row: (academic year, quarter index 0–3) → (start, end), as
/// days since the epoch.
type Periods = BTreeMap<(i32, usize), (i32, i32)>;

/// The quarter periods a calendar holds, as `(year, "Q1")` … pairs: a mark
/// of a year × period not in this set has no end date to be judged by.
pub(crate) fn periods(calendar: &RecordBatch) -> Result<HashSet<(i32, &'static str)>, IngestError> {
    Ok(rows(calendar)?
        .keys()
        .map(|&(year, q)| (year, QUARTERS[q]))
        .collect())
}

/// Checks the merged calendar against itself, pointing at the input rows
/// that cause a problem: the quarters of a year follow one another without
/// overlapping, and each lies within its academic year (1 July of its
/// start year to 31 August of the next). A stored period whose dates the
/// input changes is accepted (a correction) with a warning, since it moves
/// which students count and which marks are late.
pub(crate) fn check(
    merged: &RecordBatch,
    stored: &RecordBatch,
    input: &InputTable,
    errors: &mut ErrorLog,
    warnings: &mut Vec<String>,
) -> Result<(), IngestError> {
    let merged = rows(merged)?;
    let stored = rows(stored)?;
    let given = rows(&input.batch)?;
    let line_of = |key: &(i32, usize)| -> Option<u64> {
        let row = row_of(&input.batch, *key).ok()??;
        Some(
            input
                .lines
                .as_ref()
                .and_then(|l| l.get(row).copied())
                .unwrap_or(0),
        )
    };
    for (key, &(start, end)) in &given {
        let Some(line) = line_of(key) else { continue };
        let (year, q) = *key;
        let (first, last) = (
            NaiveDate::from_ymd_opt(year, 7, 1),
            NaiveDate::from_ymd_opt(year + 1, 8, 31),
        );
        let outside = |day: i32| match (date(day), first, last) {
            (Some(d), Some(f), Some(l)) => d < f || d > l,
            _ => true,
        };
        if outside(start) || outside(end) {
            errors.push(LocatedError::value(
                &input.file,
                line,
                "start_date, end_date",
                &format!("{} – {}", show(start), show(end)),
                format!(
                    "{year} {} lies outside academic year {year}–{} (1 July {year} to 31 \
                     August {}); an academic year is named by its start year",
                    QUARTERS[q],
                    year + 1,
                    year + 1
                ),
            ));
        }
        if let Some(&(old_start, old_end)) = stored.get(key)
            && (old_start, old_end) != (start, end)
        {
            warnings.push(format!(
                "{} line {line}: {year} {} changes from {} – {} to {} – {}; the statuses and \
                 the audit of late marks follow the new dates",
                input.file,
                QUARTERS[q],
                show(old_start),
                show(old_end),
                show(start),
                show(end)
            ));
        }
    }
    // Consecutive quarters of one year, in the merged state.
    let mut previous: Option<((i32, usize), (i32, i32))> = None;
    for (&key, &dates) in &merged {
        if let Some((prev_key, prev_dates)) = previous
            && prev_key.0 == key.0
            && prev_dates.1 >= dates.0
        {
            // Blame the input row: the later quarter if it came, else the earlier.
            let blamed = [key, prev_key]
                .into_iter()
                .find_map(|k| line_of(&k).map(|line| (k, line)));
            if let Some(((year, q), line)) = blamed {
                errors.push(LocatedError::value(
                    &input.file,
                    line,
                    if q == key.1 { "start_date" } else { "end_date" },
                    &show(if q == key.1 { dates.0 } else { prev_dates.1 }),
                    format!(
                        "{year} {} starts on {}, not after {} ends ({}): the quarters of a \
                         year must follow one another",
                        QUARTERS[key.1],
                        show(dates.0),
                        QUARTERS[prev_key.1],
                        show(prev_dates.1)
                    ),
                ));
            }
        }
        previous = Some((key, dates));
    }
    Ok(())
}

fn rows(calendar: &RecordBatch) -> Result<Periods, IngestError> {
    let col = |name: &str| {
        calendar
            .column_by_name(name)
            .ok_or_else(|| IngestError::Inconsistent(format!("calendar has no column {name}")))
    };
    let years = col("academic_year")?
        .as_primitive_opt::<Int32Type>()
        .ok_or_else(|| IngestError::Inconsistent("calendar.academic_year".into()))?;
    let periods = col("period")?
        .as_string_opt::<i32>()
        .ok_or_else(|| IngestError::Inconsistent("calendar.period".into()))?;
    let starts = col("start_date")?
        .as_primitive_opt::<Date32Type>()
        .ok_or_else(|| IngestError::Inconsistent("calendar.start_date".into()))?;
    let ends = col("end_date")?
        .as_primitive_opt::<Date32Type>()
        .ok_or_else(|| IngestError::Inconsistent("calendar.end_date".into()))?;
    let mut out = Periods::new();
    for row in 0..calendar.num_rows() {
        if let Some(q) = QUARTERS.iter().position(|p| *p == periods.value(row)) {
            out.insert((years.value(row), q), (starts.value(row), ends.value(row)));
        }
    }
    Ok(out)
}

/// The row of `batch` holding `key`.
fn row_of(batch: &RecordBatch, key: (i32, usize)) -> Result<Option<usize>, IngestError> {
    let years = batch
        .column_by_name("academic_year")
        .and_then(|c| c.as_primitive_opt::<Int32Type>())
        .ok_or_else(|| IngestError::Inconsistent("calendar.academic_year".into()))?;
    let periods = batch
        .column_by_name("period")
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| IngestError::Inconsistent("calendar.period".into()))?;
    Ok((0..batch.num_rows())
        .find(|&r| years.value(r) == key.0 && periods.value(r) == QUARTERS[key.1]))
}

/// Days since the epoch as a date.
fn date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(i64::from(days)))
}

/// An ISO date, as the input spells it.
fn show(days: i32) -> String {
    date(days).map_or_else(|| days.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn days_show_as_iso_dates() {
        let day = NaiveDate::from_ymd_opt(2024, 10, 25).unwrap();
        let days = (day - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32;
        assert_eq!(show(days), "2024-10-25");
        assert_eq!(date(days).map(|d| d.year()), Some(2024));
    }
}
