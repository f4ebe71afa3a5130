//! Bad inputs fail with the exact file, line, column and value, and leave
//! the committed version byte for byte as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::ingest_support::*;
use sapa::engine::keys::{FOREIGN_KEYS, PRIMARY_KEYS};
use sapa::storage::StoredTable;

const MARKS_HEADER: &str = "student_id,class_id,subject_id,period,mark,recorded_at\n";

fn marks(lines: &str) -> Vec<u8> {
    format!("{MARKS_HEADER}{lines}").into_bytes()
}

#[tokio::test]
async fn unknown_mark() {
    let errors = rejected(&[(
        "marks.csv",
        &marks("1,1000,1,Q1,5,2024-10-25\n1,1000,2,Q1,6,2024-10-25\n"),
    )])
    .await;
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with(r#"marks.csv line 3, column mark, value "6": unknown mark code"#),
        "{errors:?}"
    );
}

#[tokio::test]
async fn missing_references() {
    let errors = rejected(&[
        (
            "marks.csv",
            &marks(
                "1,9999,1,Q1,5,2024-10-25\n1,1000,77,Q1,5,2024-10-25\n5,1001,1,Q1,5,2024-10-25\n",
            ),
        ),
        (
            "enrollments.csv",
            b"student_id,class_id,active_from,active_to\n12,4242,2024-09-02,\n",
        ),
    ])
    .await;
    assert_eq!(
        errors,
        [
            r#"enrollments.csv line 2, column class_id, value "4242": no row of classes has class_id 4242"#,
            r#"marks.csv line 2, column class_id, value "9999": no row of classes has class_id 9999"#,
            r#"marks.csv line 3, column subject_id, value "77": no row of subjects has subject_id 77"#,
            r#"marks.csv line 4, column student_id, value "5": student 5 has no enrollment in class 1001"#,
        ]
    );
}

#[tokio::test]
async fn malformed_date() {
    let errors = rejected(&[(
        "enrollments.csv",
        b"student_id,class_id,active_from,active_to\n12,1000,2024-13-01,\n13,1000,2024-09-02,31.05.2025\n",
    )])
    .await;
    assert_eq!(
        errors,
        [
            r#"enrollments.csv line 2, column active_from, value "2024-13-01": expected an ISO date YYYY-MM-DD"#,
            r#"enrollments.csv line 3, column active_to, value "31.05.2025": expected an ISO date YYYY-MM-DD or empty"#,
        ]
    );
}

#[tokio::test]
async fn non_integer_id() {
    let errors = rejected(&[("marks.csv", &marks("12a,1000,1,Q1,5,2024-10-25\n"))]).await;
    assert_eq!(
        errors,
        [r#"marks.csv line 2, column student_id, value "12a": expected a positive integer id"#]
    );
}

#[tokio::test]
async fn missing_column() {
    let errors = rejected(&[(
        "marks.csv",
        b"student_id,class_id,subject_id,period,mark\n1,1000,1,Q1,5\n",
    )])
    .await;
    assert_eq!(
        errors,
        [
            r#"marks.csv line 1, column recorded_at: required column "recorded_at" is missing from the header"#
        ]
    );
}

#[tokio::test]
async fn duplicate_key() {
    let errors = rejected(&[(
        "regions.csv",
        "region_id,name_kk,name_ru\n1,Астана,Астана\n2,Алматы,Алматы\n1,Астана қ.,Астана\n"
            .as_bytes(),
    )])
    .await;
    assert_eq!(
        errors,
        [r#"regions.csv line 4, column region_id, value "1": duplicate key, also at line 2"#]
    );
}

#[tokio::test]
async fn truncated_line() {
    let errors = rejected(&[("marks.csv", &marks("1,1000,1,Q1,5,2024-10-25\n1,1000,2,Q1"))]).await;
    assert_eq!(
        errors,
        [
            "marks.csv line 3: expected 6 fields as in the header, found 4 (truncated or malformed line)"
        ]
    );
}

#[tokio::test]
async fn non_utf8() {
    let mut bytes = marks("1,1000,1,Q1,5,2024-10-25\n");
    // "н/а" in Windows-1251, as an old export would write it.
    bytes.extend(b"1,1000,2,Q1,\xED/\xE0,2024-10-25\n");
    let errors = rejected(&[("marks.csv", &bytes)]).await;
    assert_eq!(
        errors,
        [
            "marks.csv line 3, column mark, value \"\u{FFFD}/\u{FFFD}\": not valid UTF-8 (the file must be UTF-8)"
        ]
    );
}

#[tokio::test]
async fn every_error_is_reported_up_to_the_limit() {
    let lines: String = (0..150)
        .map(|i| format!("1,1000,1,Q1,x{i},2024-10-25\n"))
        .collect();
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    let input = input_dir(root.path(), "many", &[("marks.csv", marks(&lines))]);
    let err = ingest(&input, &data).await.unwrap_err();
    assert_eq!(err.located().len(), 100);
    assert_eq!(err.located()[99].line, Some(101));
    let text = err.to_string();
    assert!(
        text.starts_with("input rejected, nothing was changed: 150 errors"),
        "{text}"
    );
    assert!(text.ends_with("…and 50 more"), "{text}");
}

#[tokio::test]
async fn first_ingest_needs_every_file() {
    let root = tempfile::tempdir().unwrap();
    let files: Vec<(&str, Vec<u8>)> = valid_files()
        .into_iter()
        .filter(|(n, _)| *n != "calendar.csv")
        .map(|(n, s)| (n, s.into_bytes()))
        .collect();
    let input = input_dir(root.path(), "partial", &files);
    let data = root.path().join("data");
    let errors = located(ingest(&input, &data).await);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("calendar.csv: required file missing"),
        "{errors:?}"
    );
    // Nothing committed: the location holds no dataset.
    assert!(!data.join("_sapa/CURRENT").exists());
    assert!(snapshot(&data).is_empty(), "{:?}", snapshot(&data).keys());
}

/// The input file of the valid dataset's `table`: its name, header and
/// first row.
fn sample(table: StoredTable) -> (&'static str, Vec<String>, Vec<String>) {
    use StoredTable::*;
    let (file, text) = match table {
        Regions => ("regions.csv", REGIONS),
        Districts => ("districts.csv", DISTRICTS),
        Schools => ("schools.csv", SCHOOLS),
        Subjects => ("subjects.csv", SUBJECTS),
        Calendar => ("calendar.csv", CALENDAR),
        Classes => ("classes.csv", CLASSES),
        Enrollments => ("enrollments.csv", ENROLLMENTS),
        Modo => (
            "modo.csv",
            "student_id,school_id,academic_year,grade,domain,score,max_score\n\
             1,100,2024,4,reading,7,10\n",
        ),
        Marks | MarksHistory => ("marks.csv", MARKS),
        StudentStatus | SchoolCounts | EarlierStatuses | MarkAudit | SchoolCountChanges
        | RecordedMarks => {
            panic!("{} is not read from a file", table.name())
        }
    };
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect());
    (file, lines.next().unwrap(), lines.next().unwrap())
}

fn csv(header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = header.join(",");
    for row in rows {
        out.push('\n');
        out.push_str(&row.join(","));
    }
    out.push('\n');
    out.into_bytes()
}

/// Every declared key (`sapa::engine::keys`) is one ingest enforces: a
/// file repeating a key, or naming a parent that does not exist, is
/// rejected, naming the line.
#[tokio::test]
async fn every_declared_key_is_enforced() {
    for key in PRIMARY_KEYS {
        let (file, header, row) = sample(key.table);
        let errors = if key.table.interchange().is_some() {
            rejected(&[(file, &csv(&header, &[row.clone(), row]))]).await
        } else {
            // A mark's key is its version's but for `recorded_at`, and the
            // history's is the version: one version, two values.
            let mut other = row.clone();
            let mark = header.iter().position(|c| c == "mark").unwrap();
            other[mark] = if row[mark] == "5" { "4" } else { "5" }.to_string();
            rejected(&[(file, &csv(&header, &[row, other]))]).await
        };
        let expected = if key.table.interchange().is_some() {
            format!("{file} line 3, column {}", key.columns.join(", "))
        } else {
            format!("{file} line 3, column mark")
        };
        let message = if key.table.interchange().is_some() {
            "duplicate key, also at line 2"
        } else {
            "ambiguous version"
        };
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&expected) && e.contains(message)),
            "{}: {errors:?}",
            key.name()
        );
    }
    for key in FOREIGN_KEYS {
        let (file, header, mut row) = sample(key.table);
        let column = key.columns[0];
        // The place columns of marks are not in the input: they are the
        // class's, whose parents must exist (checked above).
        let Some(at) = header.iter().position(|c| c == column) else {
            assert!(key.table.interchange().is_none(), "{}", key.name());
            continue;
        };
        row[at] = "999999".to_string();
        let errors = rejected(&[(file, &csv(&header, &[row]))]).await;
        let expected = format!(
            "{file} line 2, column {column}, value \"999999\": no row of {} has {column} 999999",
            key.references.name()
        );
        assert!(errors.contains(&expected), "{}: {errors:?}", key.name());
    }
}
