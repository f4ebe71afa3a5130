use super::*;
use crate::ingest::parser::TableParser;
use crate::ingest::source::Row;
use crate::ingest::units::UNIT_STUDENTS;

/// Parses `text` (header first, `|`-separated) as an input table.
fn input(table: StoredTable, text: &str) -> InputTable {
    let interchange = table.interchange().unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split('|').map(String::from).collect();
    let mut errors = ErrorLog::new(10);
    let file = format!("{}.csv", table.name());
    let mut parser =
        TableParser::new(interchange, &file, &header, &mut errors, &mut Vec::new()).unwrap();
    for (i, line) in lines.enumerate() {
        let row = Row {
            line: i as u64 + 2,
            fields: line.split('|').map(String::from).collect(),
        };
        parser.push(&row, &mut errors).unwrap();
    }
    errors.check().unwrap();
    let (batch, lines) = parser.take_batch().unwrap();
    InputTable {
        table,
        file,
        batch,
        lines: Some(lines),
    }
}

fn base() -> Vec<InputTable> {
    vec![
        input(
            StoredTable::Regions,
            "region_id|name_kk|name_ru\n1|A|A\n2|B|B",
        ),
        input(
            StoredTable::Districts,
            "district_id|region_id|name_kk|name_ru\n10|1|d|d\n20|2|e|e",
        ),
        input(
            StoredTable::Schools,
            "school_id|district_id|name_kk|name_ru|locality|language|school_type|internet_mbps\n\
             100|10|s|s|urban|kk|general|\n200|20|t|t|rural|ru|lyceum|10",
        ),
        input(
            StoredTable::Subjects,
            "subject_id|name_kk|name_ru|certified\n5|m|m|true",
        ),
        input(
            StoredTable::Calendar,
            "academic_year|period|start_date|end_date\n2024|Q1|2024-09-02|2024-10-25",
        ),
        input(
            StoredTable::Classes,
            "class_id|school_id|academic_year|parallel|letter|journal_type|period_type\n\
             1000|100|2024|5|А|criterial|quarter\n2000|200|2024|7||other|quarter",
        ),
        input(
            StoredTable::Enrollments,
            "student_id|class_id|active_from|active_to\n7|1000|2024-09-02|\n8|2000|2024-09-02|",
        ),
    ]
}

fn located(errors: &ErrorLog) -> Vec<String> {
    match errors.check() {
        Ok(()) => vec![],
        Err(e) => e.located().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn first_ingest_builds_lookups() {
    let mut errors = ErrorLog::new(10);
    let refs = merge(BTreeMap::new(), base(), UNIT_STUDENTS, &mut errors).unwrap();
    assert!(errors.is_empty(), "{:?}", located(&errors));
    assert_eq!(
        refs.classes[&2000],
        ClassPlace {
            academic_year: 2024,
            region_id: 2,
            district_id: 20,
            school_id: 200,
            unit: 0,
        }
    );
    assert!(refs.is_enrolled(1000, 7));
    assert!(!refs.is_enrolled(1000, 8));
    assert!(refs.subjects.contains(&5));
    assert_eq!(refs.units.districts, vec![vec![10, 20]]);
    assert!(refs.changed.contains(&StoredTable::Regions));
    assert!(
        !refs.changed.contains(&StoredTable::Modo),
        "empty before and after"
    );
}

#[test]
fn delta_upserts_by_key_and_detects_no_change() {
    let mut errors = ErrorLog::new(10);
    let first = merge(BTreeMap::new(), base(), UNIT_STUDENTS, &mut errors).unwrap();
    let delta = vec![input(
        StoredTable::Regions,
        "region_id|name_kk|name_ru\n2|B2|B2\n3|C|C",
    )];
    let second = merge(first.tables.clone(), delta, UNIT_STUDENTS, &mut errors).unwrap();
    assert!(errors.is_empty(), "{:?}", located(&errors));
    let regions = &second.tables[&StoredTable::Regions];
    assert_eq!(i64s(regions, "region_id").unwrap(), [1, 2, 3]);
    assert_eq!(
        array_value_to_string(column_of(regions, "name_kk").unwrap(), 1).unwrap(),
        "B2"
    );
    assert_eq!(
        second.changed.iter().copied().collect::<Vec<_>>(),
        [StoredTable::Regions]
    );
    // The same input again changes nothing.
    let again = vec![input(
        StoredTable::Regions,
        "region_id|name_kk|name_ru\n3|C|C\n2|B2|B2",
    )];
    let third = merge(second.tables.clone(), again, UNIT_STUDENTS, &mut errors).unwrap();
    assert!(third.changed.is_empty());
}

#[test]
fn duplicate_keys_dangling_references_and_moves_are_located() {
    let mut errors = ErrorLog::new(10);
    let first = merge(BTreeMap::new(), base(), UNIT_STUDENTS, &mut errors).unwrap();
    let delta = vec![
        input(
            StoredTable::Regions,
            "region_id|name_kk|name_ru\n4|x|x\n4|y|y",
        ),
        input(
            StoredTable::Classes,
            "class_id|school_id|academic_year|parallel|letter|journal_type|period_type\n\
             1000|200|2024|5|А|criterial|quarter\n3000|999|2024|5|Б|criterial|quarter",
        ),
        input(
            StoredTable::Enrollments,
            "student_id|class_id|active_from|active_to\n9|4000|2024-09-02|",
        ),
    ];
    merge(first.tables, delta, UNIT_STUDENTS, &mut errors).unwrap();
    assert_eq!(
        located(&errors),
        [
            r#"regions.csv line 3, column region_id, value "4": duplicate key, also at line 2"#,
            "classes.csv line 2, column school_id, value \"200\": the stored dataset has \
             school_id 100 for 1000; a delta cannot move it, since its marks are stored under \
             it (ingest into a new data directory instead)",
            r#"classes.csv line 3, column school_id, value "999": no row of schools has school_id 999"#,
            r#"enrollments.csv line 2, column class_id, value "4000": no row of classes has class_id 4000"#,
        ]
    );
}
