//! The audit of marking windows (SPEC §6, 003_…txt): the `mark_audit` view
//! and the `late_and_changed_marks` report over marks ingested in three
//! weekly deltas, every row and figure computed by hand below.
//!
//! The reference data is the ingest tests' (tests/ingest_support): school
//! 100 (class 1000) and school 200 (class 1003), district 10, region 1;
//! Q1 2024 ends 2024-10-25, Q4 (and so YEAR and FINAL) 2025-05-25.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ingest_support::*;

const HEADER: &str = "student_id,class_id,subject_id,period,mark,recorded_at\n";

/// Week 1, ingested with the reference files: up to Sunday 2024-10-27.
const WEEK_1: &str = "\
1,1000,1,Q1,4,2024-10-20
2,1000,1,Q1,5,2024-10-24
2,1000,1,Q1,,2024-10-26T08:00:00
2,1000,1,Q1,,2024-10-27T09:00:00
3,1000,2,Q1,4,2024-10-20
3,1000,2,Q1,,2024-10-22
3,1000,2,Q1,5,2024-10-27
4,1000,1,Q1,5,2024-10-25T23:59:59
4,1000,2,Q1,4,2024-10-25
5,1000,1,Q1,3,2024-10-26T00:00:00
5,1000,2,Q1,,2024-10-20
8,1000,1,Q1,5,2024-10-24
9,1003,1,Q1,3,2024-10-23
";

/// Week 2, a delta of marks only (one week-1 version repeated as is).
const WEEK_2: &str = "\
1,1000,1,Q1,5,2024-10-28T10:00:00
1,1000,1,Q1,3,2024-11-02
3,1000,1,Q1,4,2024-11-03T12:00:00
5,1000,2,Q1,4,2024-10-29
8,1000,1,Q1,5,2024-10-30
8,1000,1,Q1,5,2024-10-24
";

/// The annual marks, a later delta.
const WEEK_3: &str = "\
10,1000,1,YEAR,3,2025-05-20
10,1000,1,FINAL,5,2025-05-28
11,1000,1,YEAR,4,2025-05-26T00:00:00
11,1000,1,FINAL,2,2025-05-25
11,1000,1,FINAL,,2025-05-29
";

const AUDIT: &str = "SELECT period, school_id, class_id, student_id, subject_id, kind, \
    old_mark, new_mark, recorded_at, end_date, days_late FROM mark_audit \
    ORDER BY academic_year, period, student_id, subject_id, recorded_at";

/// A data directory with the reference files and week 1 committed.
async fn week_1(root: &Path) -> PathBuf {
    let mut files: Vec<(&str, Vec<u8>)> = valid_files()
        .into_iter()
        .filter(|(n, _)| *n != "marks.csv")
        .map(|(n, s)| (n, s.into_bytes()))
        .collect();
    files.push(("marks.csv", format!("{HEADER}{WEEK_1}").into_bytes()));
    let data = root.join("data");
    ingest(&input_dir(root, "week1", &files), &data)
        .await
        .unwrap();
    data
}

async fn delta(root: &Path, data: &Path, name: &str, marks: &str) {
    let files = [("marks.csv", format!("{HEADER}{marks}").into_bytes())];
    let report = ingest(&input_dir(root, name, &files), data).await.unwrap();
    assert!(report.committed, "{name}");
}

/// Every data directory the tests use: all three weeks ingested.
async fn all_weeks(root: &Path) -> PathBuf {
    let data = week_1(root).await;
    delta(root, &data, "week2", WEEK_2).await;
    delta(root, &data, "week3", WEEK_3).await;
    data
}

#[tokio::test]
async fn each_version_after_the_end_is_one_row_of_its_kind() {
    let root = tempfile::tempdir().unwrap();
    let data = week_1(root.path()).await;
    // After week 1, only what week 1 recorded after 2024-10-25:
    // - student 2: 5 cleared on 10-26 08:00 (one day late); the second
    //   empty version on 10-27 repeats the clearing: no row;
    // - student 3, subject 2: 4, cleared on time, then 5 after the end:
    //   `changed` from the clearing (old NULL), two days late;
    // - student 4: 5 at 23:59:59 on the end date is on time: no row;
    // - student 5, subject 1: first set at 00:00:00 the next day: `late`,
    //   days_late 1; subject 2's empty first version is no row.
    let week1 = [
        "Q1|100|1000|2|1|cleared|5|NULL|2024-10-26T08:00:00|2024-10-25|1",
        "Q1|100|1000|3|2|changed|NULL|5|2024-10-27T00:00:00|2024-10-25|2",
        "Q1|100|1000|5|1|late|NULL|3|2024-10-26T00:00:00|2024-10-25|1",
    ];
    assert_eq!(query_views(&data, AUDIT).await, week1);

    delta(root.path(), &data, "week2", WEEK_2).await;
    delta(root.path(), &data, "week3", WEEK_3).await;
    // Week 2 adds:
    // - student 1: 4 on time, changed to 5 (3 days late), then to 3 (8
    //   days late): two rows, each with the value it replaced;
    // - student 3, subject 1: first set on 11-03: `late`, 9 days;
    // - student 5, subject 2: its first value, after an empty version:
    //   `late`, 4 days;
    // - student 8: 5 re-recorded on 10-30: the same value, no row (and
    //   its week-1 version repeated as is is not even a new version).
    // Week 3, against Q4's end date 2025-05-25:
    // - student 10: YEAR 3 on time; FINAL first set on 05-28: `late`, 3;
    // - student 11: YEAR first set at 00:00:00 on 05-26: `late`, 1; FINAL 2
    //   on the end date (on time), cleared on 05-29: `cleared`, 4.
    let all = [
        "FINAL|100|1000|10|1|late|NULL|5|2025-05-28T00:00:00|2025-05-25|3",
        "FINAL|100|1000|11|1|cleared|2|NULL|2025-05-29T00:00:00|2025-05-25|4",
        "Q1|100|1000|1|1|changed|4|5|2024-10-28T10:00:00|2024-10-25|3",
        "Q1|100|1000|1|1|changed|5|3|2024-11-02T00:00:00|2024-10-25|8",
        "Q1|100|1000|2|1|cleared|5|NULL|2024-10-26T08:00:00|2024-10-25|1",
        "Q1|100|1000|3|1|late|NULL|4|2024-11-03T12:00:00|2024-10-25|9",
        "Q1|100|1000|3|2|changed|NULL|5|2024-10-27T00:00:00|2024-10-25|2",
        "Q1|100|1000|5|1|late|NULL|3|2024-10-26T00:00:00|2024-10-25|1",
        "Q1|100|1000|5|2|late|NULL|4|2024-10-29T00:00:00|2024-10-25|4",
        "YEAR|100|1000|11|1|late|NULL|4|2025-05-26T00:00:00|2025-05-25|1",
    ];
    assert_eq!(query_views(&data, AUDIT).await, all);
    // The history kept both week-2 versions of student 8 apart from the
    // repeated one: two versions, one row of marks.
    assert_eq!(
        query(
            &data,
            "SELECT count(*) FROM marks_history WHERE student_id = 8 AND period = 'Q1'"
        )
        .await,
        ["2"]
    );
}

/// The view over the rows ingest stores (`mark_audit_rows`) equals the
/// window query of `mark_audit.sql` over the history after every delta,
/// and a calendar that moves Q1's end date re-audits Q1's stored rows.
#[tokio::test]
async fn stored_rows_are_the_window_query_and_follow_a_moved_end_date() {
    let window = format!(
        "SELECT period, school_id, class_id, student_id, subject_id, kind, old_mark, new_mark, \
         recorded_at, end_date, days_late FROM ({}) AS a \
         ORDER BY academic_year, period, student_id, subject_id, recorded_at",
        include_str!("../../src/engine/views/mark_audit.sql")
    );
    let root = tempfile::tempdir().unwrap();
    let data = week_1(root.path()).await;
    assert_eq!(query_views(&data, AUDIT).await, query(&data, &window).await);
    let stored = query(&data, "SELECT count(*) FROM mark_audit_rows").await;
    assert_eq!(stored, ["3"]);
    delta(root.path(), &data, "week2", WEEK_2).await;
    delta(root.path(), &data, "week3", WEEK_3).await;
    assert_eq!(query_views(&data, AUDIT).await, query(&data, &window).await);

    // Q1 now ends on Sunday 2024-10-27: what was recorded by then is on
    // time (students 2 and 5's first subject, student 3's second), the
    // rest is two days less late. Q4's rows stay.
    let calendar = CALENDAR.replace("2024-09-02,2024-10-25", "2024-09-02,2024-10-27");
    let files = [("calendar.csv", calendar.into_bytes())];
    let report = ingest(&input_dir(root.path(), "calendar", &files), &data)
        .await
        .unwrap();
    assert!(report.committed);
    let moved = [
        "FINAL|100|1000|10|1|late|NULL|5|2025-05-28T00:00:00|2025-05-25|3",
        "FINAL|100|1000|11|1|cleared|2|NULL|2025-05-29T00:00:00|2025-05-25|4",
        "Q1|100|1000|1|1|changed|4|5|2024-10-28T10:00:00|2024-10-27|1",
        "Q1|100|1000|1|1|changed|5|3|2024-11-02T00:00:00|2024-10-27|6",
        "Q1|100|1000|3|1|late|NULL|4|2024-11-03T12:00:00|2024-10-27|7",
        "Q1|100|1000|5|2|late|NULL|4|2024-10-29T00:00:00|2024-10-27|2",
        "YEAR|100|1000|11|1|late|NULL|4|2025-05-26T00:00:00|2025-05-25|1",
    ];
    assert_eq!(query_views(&data, AUDIT).await, moved);
    assert_eq!(query(&data, &window).await, moved);
    // The marks with a version, counted by ingest, are the distinct marks
    // of the history.
    let counted = "SELECT period, school_id, marks_recorded FROM recorded_marks \
                   ORDER BY academic_year, period, school_id";
    let distinct = "SELECT period, school_id, count(*) FROM (SELECT DISTINCT academic_year, \
                    period, school_id, class_id, student_id, subject_id FROM marks_history) AS k \
                    GROUP BY academic_year, period, school_id ORDER BY academic_year, period, school_id";
    let stored = query(&data, counted).await;
    assert!(stored.len() >= 3, "{stored:?}");
    assert_eq!(stored, query(&data, distinct).await);
}

#[tokio::test]
async fn the_view_has_the_documented_columns_and_places_rows_by_unit() {
    let root = tempfile::tempdir().unwrap();
    let data = all_weeks(root.path()).await;
    let columns = query_views(
        &data,
        "SELECT column_name || ' ' || data_type FROM information_schema.columns \
         WHERE table_name = 'mark_audit' ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        columns,
        [
            "academic_year Int32",
            "period Utf8",
            "region_id Int64",
            "district_id Int64",
            "school_id Int64",
            "class_id Int64",
            "student_id Int64",
            "subject_id Int64",
            "kind Utf8",
            "old_mark Utf8",
            "new_mark Utf8",
            "recorded_at Timestamp(µs)",
            "end_date Date32",
            "days_late Int64",
        ]
    );
    // Every row carries its class's place and year; filters on them reach
    // the same rows.
    assert_eq!(
        query_views(
            &data,
            "SELECT academic_year, region_id, district_id, school_id, count(*) \
             FROM mark_audit GROUP BY 1, 2, 3, 4"
        )
        .await,
        ["2024|1|10|100|10"]
    );
    assert_eq!(
        query_views(
            &data,
            "SELECT count(*) FROM mark_audit WHERE school_id = 200 OR days_late < 1"
        )
        .await,
        ["0"]
    );
}

/// `sapa report late_and_changed_marks … --format csv` on the three weeks.
fn report(data: &Path, period: &str, unit: &str, format: &str, out: Option<&Path>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sapa"));
    cmd.args(["report", "late_and_changed_marks", "--data"])
        .arg(data)
        .args(["--year", "2024", "--period", period, "--unit", unit])
        .args(["--format", format]);
    if let Some(out) = out {
        cmd.arg("--out").arg(out);
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The rows of a CSV report: `level,unit_id` then the counts and the
/// shares rounded to 4 decimals.
fn figures(csv_text: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let want = [
        "level",
        "unit_id",
        "marks_recorded",
        "set_late",
        "changed_late",
        "cleared_late",
        "after_end",
        "changes_after_end",
        "set_late_pct",
        "changed_late_pct",
        "cleared_late_pct",
        "after_end_pct",
    ];
    let at: Vec<usize> = want
        .iter()
        .map(|w| header.iter().position(|h| h == w).unwrap())
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            at.iter()
                .map(|&i| {
                    let field = &r[i];
                    if header[i].ends_with("_pct") && !field.is_empty() {
                        format!("{:.4}", field.parse::<f64>().unwrap())
                    } else {
                        field.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[tokio::test]
async fn the_report_counts_marks_not_versions_worst_unit_first() {
    let root = tempfile::tempdir().unwrap();
    let data = all_weeks(root.path()).await;
    // Q1: school 100 has 9 marks with a version (students 1, 2, 3, 4, 5, 8
    // in subject 1; 3, 4, 5 in subject 2), the cleared one of student 2
    // included; school 200 has 1 (student 9), on time. After the end:
    // set late 3 (3/1, 5/1, 5/2), changed 2 (1/1 twice = one mark, 3/2),
    // cleared 1 (2/1): 6 marks, 3 changes. Shares of 9 and of 10.
    let q1 = figures(&report(&data, "Q1", "country", "csv", None));
    assert_eq!(
        q1,
        [
            "country||10|3|2|1|6|3|30.0000|20.0000|10.0000|60.0000",
            "region|1|10|3|2|1|6|3|30.0000|20.0000|10.0000|60.0000",
            "district|10|10|3|2|1|6|3|30.0000|20.0000|10.0000|60.0000",
            "school|100|9|3|2|1|6|3|33.3333|22.2222|11.1111|66.6667",
            "school|200|1|0|0|0|0|0|0.0000|0.0000|0.0000|0.0000",
        ]
    );
    // YEAR audits the YEAR and FINAL columns against Q4's end: 4 marks
    // (10 YEAR, 10 FINAL, 11 YEAR, 11 FINAL — the last cleared), set late
    // 2 (10 FINAL, 11 YEAR), cleared 1 (11 FINAL).
    let year = figures(&report(&data, "YEAR", "district:10", "csv", None));
    assert_eq!(
        year,
        [
            "district|10|4|2|0|1|3|0|50.0000|0.0000|25.0000|75.0000",
            "school|100|4|2|0|1|3|0|50.0000|0.0000|25.0000|75.0000",
        ]
    );
    // A school's report is its own row only.
    assert_eq!(
        figures(&report(&data, "Q1", "school:200", "csv", None)),
        ["school|200|1|0|0|0|0|0|0.0000|0.0000|0.0000|0.0000"]
    );
    // The table and workbook formats work too; the workbook's two header
    // rows are the labels (Kazakh, then Russian).
    let table = report(&data, "Q1", "country", "table", None);
    assert!(table.contains("after_end_pct"), "{table}");
    let xlsx = root.path().join("audit.xlsx");
    report(&data, "Q1", "country", "xlsx", Some(&xlsx));
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut workbook: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let sheet = workbook.worksheet_range("late_and_changed_marks").unwrap();
    let headers: Vec<String> = (0..2)
        .map(|r| match sheet.get_value((r, 11)).unwrap() {
            Data::String(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        headers,
        [
            "Мерзімінен кеш алғаш қойылған бағалар",
            "Оценки, впервые выставленные с опозданием"
        ]
    );
    assert_eq!(sheet.height(), 2 + 5);
}
