//! The keys the stored data really has: primary and foreign keys of the
//! stored tables, declared once here so every catalog a client reads can
//! describe them the same way.
//!
//! Sapa enforces no constraint when a query runs — the data is read-only —
//! so a key is declared only when ingest guarantees it for every committed
//! version: each entry says which check does. The views (`student_status`,
//! `report_by_school`, `indicators`) declare none.

use crate::storage::StoredTable;

/// A primary key: the columns no two rows share, none of them NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrimaryKey {
    /// The table.
    pub table: StoredTable,
    /// The key's columns, in key order.
    pub columns: &'static [&'static str],
}

impl PrimaryKey {
    /// The name PostgreSQL would give it: `regions_pkey`.
    pub fn name(&self) -> String {
        format!("{}_pkey", self.table.name())
    }
}

/// A foreign key: every row's `columns` equal the primary key of a row of
/// `references`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referencing table.
    pub table: StoredTable,
    /// Its referencing columns.
    pub columns: &'static [&'static str],
    /// The referenced table; the key references its primary key.
    pub references: StoredTable,
}

impl ForeignKey {
    /// The name PostgreSQL would give it: `districts_region_id_fkey`.
    pub fn name(&self) -> String {
        format!("{}_{}_fkey", self.table.name(), self.columns.join("_"))
    }

    /// The referenced columns: the referenced table's primary key.
    pub fn referenced_columns(&self) -> &'static [&'static str] {
        primary_key(self.references).map_or(&[], |pk| pk.columns)
    }
}

/// The primary keys.
///
/// - The reference tables (`regions` … `modo`): ingest merges an input
///   into the stored rows by exactly these columns (`StoredTable::
///   key_columns`, `ingest::reference::upsert`): an input row replaces the
///   stored row with its key, and two input rows with one key are rejected
///   ("duplicate key"). IDs are unique per file (SPEC §10).
/// - `marks`: one row per student × class × subject × period (SPEC §11).
///   The marks merge (`ingest::merge`) writes each mark's latest version
///   only, per academic year × period partition, and a class belongs to one
///   academic year, so the key is unique across partitions too.
/// - `marks_history`: the same merge keeps one row per version (a repeated
///   version is dropped) and rejects two values recorded at the same
///   instant as ambiguous.
pub const PRIMARY_KEYS: [PrimaryKey; 10] = [
    pk(StoredTable::Regions, &["region_id"]),
    pk(StoredTable::Districts, &["district_id"]),
    pk(StoredTable::Schools, &["school_id"]),
    pk(StoredTable::Subjects, &["subject_id"]),
    pk(StoredTable::Calendar, &["academic_year", "period"]),
    pk(StoredTable::Classes, &["class_id"]),
    pk(
        StoredTable::Enrollments,
        &["student_id", "class_id", "active_from"],
    ),
    pk(
        StoredTable::Modo,
        &["student_id", "academic_year", "domain"],
    ),
    pk(
        StoredTable::Marks,
        &["student_id", "class_id", "subject_id", "period"],
    ),
    pk(
        StoredTable::MarksHistory,
        &[
            "student_id",
            "class_id",
            "subject_id",
            "period",
            "recorded_at",
        ],
    ),
];

/// The foreign keys.
///
/// - `districts.region_id`, `schools.district_id`, `classes.school_id`,
///   `enrollments.class_id`, `modo.school_id`: `ingest::reference::
///   check_references` rejects an input row whose parent is not in the
///   merged state; rows are never deleted, so a parent never goes away.
/// - `marks`/`marks_history` `.class_id` and `.subject_id`: the marks
///   check (`ingest::marks`) rejects a mark of an unknown class or subject
///   (SPEC §10).
/// - `marks`/`marks_history` `.school_id`, `.district_id`, `.region_id`:
///   copied from the mark's class, whose chain of school, district and
///   region must resolve for the mark to be accepted; a delta cannot move
///   a class, school or district to another parent
///   (`ingest::reference::check_parent`).
pub const FOREIGN_KEYS: [ForeignKey; 15] = [
    fk(StoredTable::Districts, &["region_id"], StoredTable::Regions),
    fk(
        StoredTable::Schools,
        &["district_id"],
        StoredTable::Districts,
    ),
    fk(StoredTable::Classes, &["school_id"], StoredTable::Schools),
    fk(
        StoredTable::Enrollments,
        &["class_id"],
        StoredTable::Classes,
    ),
    fk(StoredTable::Modo, &["school_id"], StoredTable::Schools),
    fk(StoredTable::Marks, &["class_id"], StoredTable::Classes),
    fk(StoredTable::Marks, &["subject_id"], StoredTable::Subjects),
    fk(StoredTable::Marks, &["school_id"], StoredTable::Schools),
    fk(StoredTable::Marks, &["district_id"], StoredTable::Districts),
    fk(StoredTable::Marks, &["region_id"], StoredTable::Regions),
    fk(
        StoredTable::MarksHistory,
        &["class_id"],
        StoredTable::Classes,
    ),
    fk(
        StoredTable::MarksHistory,
        &["subject_id"],
        StoredTable::Subjects,
    ),
    fk(
        StoredTable::MarksHistory,
        &["school_id"],
        StoredTable::Schools,
    ),
    fk(
        StoredTable::MarksHistory,
        &["district_id"],
        StoredTable::Districts,
    ),
    fk(
        StoredTable::MarksHistory,
        &["region_id"],
        StoredTable::Regions,
    ),
];

const fn pk(table: StoredTable, columns: &'static [&'static str]) -> PrimaryKey {
    PrimaryKey { table, columns }
}

const fn fk(
    table: StoredTable,
    columns: &'static [&'static str],
    references: StoredTable,
) -> ForeignKey {
    ForeignKey {
        table,
        columns,
        references,
    }
}

/// The primary key of `table`, if it has one.
pub fn primary_key(table: StoredTable) -> Option<&'static PrimaryKey> {
    PRIMARY_KEYS.iter().find(|k| k.table == table)
}

/// The primary key of the relation named `name` (a table's SQL name).
pub fn primary_key_of(name: &str) -> Option<&'static PrimaryKey> {
    StoredTable::from_name(name).and_then(primary_key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn has_columns(table: StoredTable, columns: &[&str]) {
        let schema = table.schema();
        assert!(!columns.is_empty(), "{} key has no column", table.name());
        for c in columns {
            let field = schema
                .field_with_name(c)
                .unwrap_or_else(|_| panic!("{} has no column {c}", table.name()));
            // PostgreSQL's key columns are NOT NULL; clients rely on it.
            assert!(!field.is_nullable(), "{}.{c} is nullable", table.name());
        }
    }

    #[test]
    fn every_key_names_columns_of_its_table() {
        for key in PRIMARY_KEYS {
            has_columns(key.table, key.columns);
        }
        for key in FOREIGN_KEYS {
            has_columns(key.table, key.columns);
            has_columns(key.references, key.referenced_columns());
            let (from, to) = (key.table.schema(), key.references.schema());
            for (c, r) in key.columns.iter().zip(key.referenced_columns()) {
                assert_eq!(
                    from.field_with_name(c).unwrap().data_type(),
                    to.field_with_name(r).unwrap().data_type(),
                    "{}",
                    key.name()
                );
            }
        }
    }

    #[test]
    fn keys_are_those_ingest_merges_by() {
        // A primary key is only guaranteed because ingest merges by it.
        for key in PRIMARY_KEYS {
            assert_eq!(key.columns, key.table.key_columns(), "{}", key.name());
        }
        for key in FOREIGN_KEYS {
            assert_eq!(key.columns.len(), key.referenced_columns().len());
            assert_eq!(key.columns, key.referenced_columns(), "{}", key.name());
        }
    }

    #[test]
    fn names_are_postgresql_defaults_and_unique() {
        assert_eq!(primary_key_of("regions").unwrap().name(), "regions_pkey");
        assert_eq!(FOREIGN_KEYS[0].name(), "districts_region_id_fkey");
        let mut names: Vec<String> = PRIMARY_KEYS
            .iter()
            .map(PrimaryKey::name)
            .chain(FOREIGN_KEYS.iter().map(ForeignKey::name))
            .collect();
        let all = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all);
        assert!(primary_key_of("student_status").is_none());
        assert!(primary_key_of("indicators").is_none());
    }
}
