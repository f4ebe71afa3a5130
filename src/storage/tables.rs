//! The tables a dataset stores, their Arrow schemas and their sort orders.
//!
//! The reference tables are stored with the interchange schemas of SPEC §10
//! ([`sapa_datasets::schema::Table::schema`]). The marks are stored twice —
//! every version (`marks_history`) and the latest one (`marks`) — with the
//! class's year and place (region, district, school) copied in, so a scan for
//! one school or one year never joins. `student_status` is the §3 status of
//! every counted student per period, materialised at ingest, and
//! `school_counts` its per-school counts (SPEC §5.3's numbers), so the
//! indicators of a period roll up thousands of rows, not millions.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use sapa_datasets::schema::Table;

/// A table stored in a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoredTable {
    /// `regions`, as in SPEC §10.
    Regions,
    /// `districts`, as in SPEC §10.
    Districts,
    /// `schools`, as in SPEC §10.
    Schools,
    /// `subjects`, as in SPEC §10.
    Subjects,
    /// `calendar`, as in SPEC §10.
    Calendar,
    /// `classes`, as in SPEC §10.
    Classes,
    /// `enrollments`, as in SPEC §10.
    Enrollments,
    /// `modo`, as in SPEC §10.
    Modo,
    /// Every version of every mark, with `recorded_at`; `mark` NULL = cleared.
    MarksHistory,
    /// The latest version of every mark; cleared marks left out.
    Marks,
    /// The SPEC §3 status of every counted student per academic year and period.
    StudentStatus,
    /// Per school, academic year and period: the §5.3 counts over the
    /// statuses (`crate::engine::SCHOOL_COUNTS_SQL`).
    SchoolCounts,
    /// The statuses students had as of past weekly updates, where they
    /// differ from the current one (`crate::engine::earlier_statuses`).
    EarlierStatuses,
    /// The rows of the `mark_audit` view, per academic year × mark period
    /// (`crate::engine::audit`): read through the view, not listed itself.
    MarkAudit,
    /// Per school, academic year, period and Sunday: how the §5.3 counts
    /// as of the updates from that Sunday on differ from the stored ones
    /// (`crate::engine::SCHOOL_COUNT_CHANGES_SQL`); read by the "as of"
    /// indicators, not listed itself.
    SchoolCountChanges,
    /// Per school, academic year and mark period: how many marks have a
    /// version in `marks_history` (current or cleared), made in the audit's
    /// pass; read by `late_and_changed_marks`, not listed itself.
    RecordedMarks,
}

/// The columns every partitioned table starts with.
pub const PARTITION_COLUMNS: [&str; 2] = ["academic_year", "period"];

impl StoredTable {
    /// Every stored table.
    pub const ALL: [StoredTable; 16] = [
        StoredTable::Regions,
        StoredTable::Districts,
        StoredTable::Schools,
        StoredTable::Subjects,
        StoredTable::Calendar,
        StoredTable::Classes,
        StoredTable::Enrollments,
        StoredTable::Modo,
        StoredTable::MarksHistory,
        StoredTable::Marks,
        StoredTable::StudentStatus,
        StoredTable::SchoolCounts,
        StoredTable::EarlierStatuses,
        StoredTable::MarkAudit,
        StoredTable::SchoolCountChanges,
        StoredTable::RecordedMarks,
    ];

    /// The tables computed from the others that a dataset written by an
    /// earlier Sapa may lack (its manifest has no entry for them).
    pub const DERIVED_LATER: [StoredTable; 5] = [
        StoredTable::SchoolCounts,
        StoredTable::EarlierStatuses,
        StoredTable::MarkAudit,
        StoredTable::SchoolCountChanges,
        StoredTable::RecordedMarks,
    ];

    /// Whether the table is the storage of a view rather than a relation of
    /// the SQL surface (clients read `mark_audit`, not its stored rows).
    pub fn internal(self) -> bool {
        matches!(
            self,
            StoredTable::MarkAudit | StoredTable::SchoolCountChanges | StoredTable::RecordedMarks
        )
    }

    /// The reference tables, stored as they are read (SPEC §10), in
    /// dependency order.
    pub const REFERENCE: [StoredTable; 8] = [
        StoredTable::Regions,
        StoredTable::Districts,
        StoredTable::Schools,
        StoredTable::Subjects,
        StoredTable::Calendar,
        StoredTable::Classes,
        StoredTable::Enrollments,
        StoredTable::Modo,
    ];

    /// The SQL name of the table and its directory under `tables/`.
    pub fn name(self) -> &'static str {
        match self {
            StoredTable::MarksHistory => "marks_history",
            StoredTable::Marks => "marks",
            StoredTable::StudentStatus => "student_status",
            StoredTable::SchoolCounts => "school_counts",
            StoredTable::EarlierStatuses => "earlier_statuses",
            StoredTable::MarkAudit => "mark_audit_rows",
            StoredTable::SchoolCountChanges => "school_count_changes",
            StoredTable::RecordedMarks => "recorded_marks",
            other => other.interchange().map_or("", Table::name),
        }
    }

    /// The table by its SQL name.
    pub fn from_name(name: &str) -> Option<StoredTable> {
        StoredTable::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The interchange table a reference table is read from.
    pub fn interchange(self) -> Option<Table> {
        Some(match self {
            StoredTable::Regions => Table::Regions,
            StoredTable::Districts => Table::Districts,
            StoredTable::Schools => Table::Schools,
            StoredTable::Subjects => Table::Subjects,
            StoredTable::Calendar => Table::Calendar,
            StoredTable::Classes => Table::Classes,
            StoredTable::Enrollments => Table::Enrollments,
            StoredTable::Modo => Table::Modo,
            _ => return None,
        })
    }

    /// Whether the table is partitioned by academic year and period, one
    /// `academic_year=Y/period=P` directory per partition.
    pub fn partitioned(self) -> bool {
        matches!(
            self,
            StoredTable::MarksHistory
                | StoredTable::Marks
                | StoredTable::StudentStatus
                | StoredTable::SchoolCounts
                | StoredTable::EarlierStatuses
                | StoredTable::MarkAudit
                | StoredTable::SchoolCountChanges
                | StoredTable::RecordedMarks
        )
    }

    /// The Arrow schema of the stored table.
    pub fn schema(self) -> SchemaRef {
        if let Some(table) = self.interchange() {
            return table.schema();
        }
        let id = |n: &str| Field::new(n, DataType::Int64, false);
        let mut fields = vec![
            Field::new("academic_year", DataType::Int32, false),
            Field::new("period", DataType::Utf8, false),
            id("region_id"),
            id("district_id"),
            id("school_id"),
        ];
        if self == StoredTable::SchoolCounts {
            fields.extend(
                [
                    "n_total",
                    "n_exempt",
                    "n_low",
                    "n_excellent",
                    "n_good",
                    "n_ungraded",
                ]
                .map(id),
            );
            return Arc::new(Schema::new(fields));
        }
        if self == StoredTable::RecordedMarks {
            fields.push(id("marks_recorded"));
            return Arc::new(Schema::new(fields));
        }
        if self == StoredTable::SchoolCountChanges {
            // NULL: since before any mark version.
            fields.push(Field::new("sunday", DataType::Date32, true));
            fields.extend(["d_exempt", "d_low", "d_excellent", "d_good", "d_ungraded"].map(id));
            return Arc::new(Schema::new(fields));
        }
        fields.push(id("class_id"));
        if self == StoredTable::MarkAudit {
            let text = |n: &str, nullable| Field::new(n, DataType::Utf8, nullable);
            fields.extend([
                id("student_id"),
                id("subject_id"),
                text("kind", false),
                text("old_mark", true),
                text("new_mark", true),
                Field::new(
                    "recorded_at",
                    DataType::Timestamp(TimeUnit::Microsecond, None),
                    false,
                ),
                Field::new("end_date", DataType::Date32, false),
                Field::new("days_late", DataType::Int64, false),
            ]);
            return Arc::new(Schema::new(fields));
        }
        if self == StoredTable::EarlierStatuses {
            fields.extend([
                id("student_id"),
                Field::new("status", DataType::Utf8, false),
                id("marks_count"),
                // NULL: since before the first mark version.
                Field::new("from_sunday", DataType::Date32, true),
                Field::new("until_sunday", DataType::Date32, false),
            ]);
            return Arc::new(Schema::new(fields));
        }
        match self {
            StoredTable::MarksHistory | StoredTable::Marks => {
                fields.push(id("student_id"));
                fields.push(id("subject_id"));
                // Cleared versions live only in the history.
                let cleared = self == StoredTable::MarksHistory;
                fields.push(Field::new("mark", DataType::Utf8, cleared));
                fields.push(Field::new(
                    "recorded_at",
                    DataType::Timestamp(TimeUnit::Microsecond, None),
                    false,
                ));
            }
            _ => {
                fields.push(Field::new("parallel", DataType::Int32, false));
                fields.push(id("student_id"));
                fields.push(Field::new("status", DataType::Utf8, false));
                fields.push(Field::new("marks_count", DataType::Int64, false));
                fields.push(Field::new("locality", DataType::Utf8, false));
                fields.push(Field::new("language", DataType::Utf8, false));
                fields.push(Field::new("school_type", DataType::Utf8, false));
            }
        }
        Arc::new(Schema::new(fields))
    }

    /// The columns the stored rows are sorted by: a school's rows together,
    /// a student's marks contiguous.
    pub fn sort_columns(self) -> &'static [&'static str] {
        match self {
            StoredTable::Regions => &["region_id"],
            StoredTable::Districts => &["region_id", "district_id"],
            StoredTable::Schools => &["district_id", "school_id"],
            StoredTable::Subjects => &["subject_id"],
            StoredTable::Calendar => &["academic_year", "period"],
            StoredTable::Classes => &["school_id", "academic_year", "class_id"],
            StoredTable::Enrollments => &["class_id", "student_id", "active_from"],
            StoredTable::Modo => &["academic_year", "school_id", "student_id", "domain"],
            StoredTable::MarksHistory => &[
                "region_id",
                "district_id",
                "school_id",
                "class_id",
                "student_id",
                "subject_id",
                "recorded_at",
            ],
            StoredTable::Marks => &[
                "region_id",
                "district_id",
                "school_id",
                "class_id",
                "student_id",
                "subject_id",
            ],
            StoredTable::StudentStatus => &[
                "region_id",
                "district_id",
                "school_id",
                "class_id",
                "student_id",
            ],
            StoredTable::SchoolCounts | StoredTable::RecordedMarks => {
                &["region_id", "district_id", "school_id"]
            }
            StoredTable::SchoolCountChanges => &["region_id", "district_id", "school_id", "sunday"],
            StoredTable::EarlierStatuses => &[
                "region_id",
                "district_id",
                "school_id",
                "class_id",
                "student_id",
                "from_sunday",
            ],
            StoredTable::MarkAudit => &[
                "region_id",
                "district_id",
                "school_id",
                "class_id",
                "student_id",
                "subject_id",
                "recorded_at",
            ],
        }
    }

    /// The columns that identify a row of a reference table: a row of a delta
    /// replaces the stored row with the same key.
    pub fn key_columns(self) -> &'static [&'static str] {
        match self {
            StoredTable::Regions => &["region_id"],
            StoredTable::Districts => &["district_id"],
            StoredTable::Schools => &["school_id"],
            StoredTable::Subjects => &["subject_id"],
            StoredTable::Calendar => &["academic_year", "period"],
            StoredTable::Classes => &["class_id"],
            StoredTable::Enrollments => &["student_id", "class_id", "active_from"],
            StoredTable::Modo => &["student_id", "academic_year", "domain"],
            StoredTable::MarksHistory => &[
                "student_id",
                "class_id",
                "subject_id",
                "period",
                "recorded_at",
            ],
            StoredTable::Marks => &["student_id", "class_id", "subject_id", "period"],
            StoredTable::StudentStatus => &["academic_year", "period", "student_id", "class_id"],
            StoredTable::SchoolCounts | StoredTable::RecordedMarks => {
                &["academic_year", "period", "school_id"]
            }
            StoredTable::SchoolCountChanges => &["academic_year", "period", "school_id", "sunday"],
            StoredTable::EarlierStatuses => &[
                "academic_year",
                "period",
                "class_id",
                "student_id",
                "until_sunday",
            ],
            StoredTable::MarkAudit => &[
                "academic_year",
                "period",
                "class_id",
                "student_id",
                "subject_id",
                "recorded_at",
            ],
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_columns_exist() {
        for t in StoredTable::ALL {
            assert_eq!(StoredTable::from_name(t.name()), Some(t));
            let schema = t.schema();
            for c in t.sort_columns().iter().chain(t.key_columns()) {
                assert!(schema.index_of(c).is_ok(), "{} lacks {c}", t.name());
            }
            if t.partitioned() {
                assert_eq!(schema.field(0).name(), "academic_year");
                assert_eq!(schema.field(1).name(), "period");
            }
        }
    }

    #[test]
    fn cleared_marks_only_in_history() {
        let nullable = |t: StoredTable| t.schema().field_with_name("mark").unwrap().is_nullable();
        assert!(nullable(StoredTable::MarksHistory));
        assert!(!nullable(StoredTable::Marks));
    }
}
