//! The tables of the interchange format (SPEC §10) as Arrow schemas.
//!
//! Ingest parses CSV/XLSX into batches of these schemas; the generator emits
//! them directly; storage writes them to Parquet. Identifiers are `Int64`,
//! dates `Date32`, `recorded_at` a timezone-less microsecond timestamp, and
//! enumerations their SPEC spelling as `Utf8`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// One table of the interchange format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `regions.csv`
    Regions,
    /// `districts.csv`
    Districts,
    /// `schools.csv`
    Schools,
    /// `subjects.csv`
    Subjects,
    /// `calendar.csv`
    Calendar,
    /// `classes.csv`
    Classes,
    /// `enrollments.csv`
    Enrollments,
    /// `marks.csv`
    Marks,
    /// `modo.csv` (optional)
    Modo,
}

impl Table {
    /// Every table, in dependency order (referenced tables first).
    pub const ALL: [Table; 9] = [
        Table::Regions,
        Table::Districts,
        Table::Schools,
        Table::Subjects,
        Table::Calendar,
        Table::Classes,
        Table::Enrollments,
        Table::Marks,
        Table::Modo,
    ];

    /// The table's SQL name and file stem.
    pub fn name(self) -> &'static str {
        match self {
            Table::Regions => "regions",
            Table::Districts => "districts",
            Table::Schools => "schools",
            Table::Subjects => "subjects",
            Table::Calendar => "calendar",
            Table::Classes => "classes",
            Table::Enrollments => "enrollments",
            Table::Marks => "marks",
            Table::Modo => "modo",
        }
    }

    /// The interchange file name, e.g. `marks.csv`.
    pub fn file_name(self) -> String {
        format!("{}.csv", self.name())
    }

    /// Whether an input directory may leave the file out.
    pub fn optional(self) -> bool {
        matches!(self, Table::Modo)
    }

    /// The Arrow schema of the table, with SPEC §10's column names in order.
    pub fn schema(self) -> SchemaRef {
        use DataType::*;
        let id = |n: &str| Field::new(n, Int64, false);
        let text = |n: &str| Field::new(n, Utf8, false);
        let date = |n: &str| Field::new(n, Date32, false);
        let fields = match self {
            Table::Regions => vec![id("region_id"), text("name_kk"), text("name_ru")],
            Table::Districts => vec![
                id("district_id"),
                id("region_id"),
                text("name_kk"),
                text("name_ru"),
            ],
            Table::Schools => vec![
                id("school_id"),
                id("district_id"),
                text("name_kk"),
                text("name_ru"),
                text("locality"),
                text("language"),
                text("school_type"),
                Field::new("internet_mbps", Float64, true),
            ],
            Table::Subjects => vec![
                id("subject_id"),
                text("name_kk"),
                text("name_ru"),
                Field::new("certified", Boolean, false),
            ],
            Table::Calendar => vec![
                Field::new("academic_year", Int32, false),
                text("period"),
                date("start_date"),
                date("end_date"),
            ],
            Table::Classes => vec![
                id("class_id"),
                id("school_id"),
                Field::new("academic_year", Int32, false),
                Field::new("parallel", Int32, false),
                text("letter"),
                text("journal_type"),
                text("period_type"),
            ],
            Table::Enrollments => vec![
                id("student_id"),
                id("class_id"),
                date("active_from"),
                Field::new("active_to", Date32, true),
            ],
            Table::Marks => vec![
                id("student_id"),
                id("class_id"),
                id("subject_id"),
                text("period"),
                Field::new("mark", Utf8, true),
                Field::new("recorded_at", Timestamp(TimeUnit::Microsecond, None), false),
            ],
            Table::Modo => vec![
                id("student_id"),
                id("school_id"),
                Field::new("academic_year", Int32, false),
                Field::new("grade", Int32, false),
                text("domain"),
                Field::new("score", Float64, false),
                Field::new("max_score", Float64, false),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

/// The values SPEC §10 allows in an enumerated column, or `None` for a free
/// column.
pub fn allowed_values(table: Table, column: &str) -> Option<&'static [&'static str]> {
    Some(match (table, column) {
        (Table::Schools, "locality") => &LOCALITIES,
        (Table::Schools, "language") => &LANGUAGES,
        (Table::Schools, "school_type") => &SCHOOL_TYPES,
        (Table::Calendar, "period") => &QUARTERS,
        (Table::Classes, "journal_type") => &["criterial", "other"],
        (Table::Classes, "period_type") => &["quarter", "half_year", "trimester"],
        (Table::Marks, "period") => &MARK_PERIODS,
        (Table::Modo, "domain") => &["reading", "math", "science"],
        _ => return None,
    })
}

/// `schools.locality`
pub const LOCALITIES: [&str; 2] = ["urban", "rural"];
/// `schools.language`
pub const LANGUAGES: [&str; 4] = ["kk", "ru", "mixed", "other"];
/// `schools.school_type`
pub const SCHOOL_TYPES: [&str; 12] = [
    "general",
    "gymnasium",
    "lyceum",
    "school_gymnasium",
    "school_lyceum",
    "specialized",
    "evening",
    "international",
    "autonomous",
    "correctional",
    "sanatorium",
    "other",
];
/// The quarters of `calendar.period`.
pub const QUARTERS: [&str; 4] = ["Q1", "Q2", "Q3", "Q4"];
/// `marks.period`
pub const MARK_PERIODS: [&str; 6] = ["Q1", "Q2", "Q3", "Q4", "YEAR", "FINAL"];
/// The periods of the reports and views (SPEC §11).
pub const REPORT_PERIODS: [&str; 5] = ["Q1", "Q2", "Q3", "Q4", "YEAR"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_its_spec_columns() {
        let cols = |t: Table| -> Vec<String> {
            t.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        };
        assert_eq!(
            cols(Table::Marks),
            [
                "student_id",
                "class_id",
                "subject_id",
                "period",
                "mark",
                "recorded_at"
            ]
        );
        assert_eq!(
            cols(Table::Enrollments),
            ["student_id", "class_id", "active_from", "active_to"]
        );
        assert_eq!(Table::ALL.iter().filter(|t| t.optional()).count(), 1);
        assert_eq!(
            allowed_values(Table::Marks, "period"),
            Some(&MARK_PERIODS[..])
        );
        assert_eq!(allowed_values(Table::Marks, "mark"), None);
    }
}
