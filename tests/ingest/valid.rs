//! A hand-built valid dataset ingests, and queries return the rows worked
//! out by hand from SPEC §2–§4.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::ingest_support::*;
use sapa::engine::STUDENT_STATUS_SQL;

#[tokio::test]
async fn valid_dataset_ingests_with_expected_report() {
    let root = tempfile::tempdir().unwrap();
    let report = ingest(&valid_input(root.path()), &root.path().join("data"))
        .await
        .unwrap();
    assert!(report.committed);
    assert_eq!(report.version, 1);
    assert_eq!(report.rows_read["marks.csv"], 21);
    assert_eq!(report.rows_read["enrollments.csv"], 12);
    assert_eq!(report.marks_new, 21);
    assert_eq!(report.marks_duplicate, 0);
    assert_eq!(report.look_alikes, 1, "EСП with a Latin E");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.tables["marks_history"].rows, 21);
    assert_eq!(report.tables["marks"].rows, 18);
    assert_eq!(report.tables["student_status"].rows, 50);
    assert_eq!(report.tables["modo"].rows, 0);
}

#[tokio::test]
async fn current_marks_are_latest_versions_without_cleared_ones() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    let marks = query(
        &data,
        "SELECT student_id, class_id, subject_id, period, mark FROM marks \
         ORDER BY student_id, class_id, subject_id, period",
    )
    .await;
    assert_eq!(
        marks,
        [
            "1|1000|1|Q1|1",
            "1|1000|2|Q1|5",
            "2|1000|1|Q1|УА/Ө",
            "2|1000|2|Q1|5",
            "3|1000|1|Q1|ЕСП",
            "3|1000|2|Q1|ЕСП",
            "4|1000|1|Q1|БОС",
            "4|1000|2|Q1|О/Ж",
            "6|1000|1|Q1|4",
            "6|1000|1|Q2|2",
            "6|1001|1|Q2|5",
            "7|1002|1|Q1|3",
            "8|1000|1|Q1|5",
            "8|1000|3|Q1|2",
            "9|1003|1|Q1|2",
            "10|1000|1|FINAL|5",
            "10|1000|1|YEAR|3",
            "11|1000|1|YEAR|4",
        ]
    );
    let history = query(
        &data,
        "SELECT student_id, subject_id, period, mark, recorded_at FROM marks_history \
         WHERE student_id IN (1, 11) ORDER BY student_id, subject_id, period, recorded_at",
    )
    .await;
    assert_eq!(
        history,
        [
            "1|1|Q1|4|2024-10-20T00:00:00",
            "1|1|Q1|1|2024-10-24T09:00:00",
            "1|2|Q1|5|2024-10-24T00:00:00",
            "11|1|FINAL|2|2025-05-28T00:00:00",
            "11|1|FINAL|NULL|2025-05-29T00:00:00",
            "11|1|YEAR|4|2025-05-20T00:00:00",
        ]
    );
    let places = query(
        &data,
        "SELECT DISTINCT academic_year, region_id, district_id, school_id FROM marks_history \
         ORDER BY school_id",
    )
    .await;
    assert_eq!(places, ["2024|1|10|100", "2024|1|10|200"]);
}

#[tokio::test]
async fn student_status_follows_spec_sections_3_and_4() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    let status = |period: &'static str| {
        let data = data.clone();
        async move {
            query(
                &data,
                &format!(
                    "SELECT student_id, class_id, parallel, status, marks_count \
                     FROM student_status WHERE academic_year = 2024 AND period = '{period}' \
                     ORDER BY student_id"
                ),
            )
            .await
        }
    };
    // 9 sits in an `other` journal class: never counted.
    assert_eq!(
        status("Q1").await,
        [
            "1|1000|5|low|2",          // a 1 (its earlier 4 was replaced)
            "2|1000|5|low|2",          // УА/Ө beside a 5
            "3|1000|5|excellent|2",    // only ЕСП
            "4|1000|5|exempt|2",       // only БОС and О/Ж
            "5|1000|5|ungraded|0",     // no marks
            "6|1000|5|good|1",         // still in 1000 at Q1's end
            "7|1002|1|satisfactory|1", // parallel 1 kept
            "8|1000|5|excellent|1",    // the 2 in PE (not certified) ignored
            "10|1000|5|ungraded|0",
            "11|1000|5|ungraded|0",
        ]
    );
    // At Q2's end, 6 sits in 1001: the 2 left in 1000 does not count.
    let q2 = status("Q2").await;
    assert_eq!(q2[5], "6|1001|5|excellent|1");
    assert_eq!(q2.iter().filter(|r| r.ends_with("|ungraded|0")).count(), 9);
    // FINAL 5 overrides YEAR 3; a cleared FINAL falls back to YEAR 4.
    let year = status("YEAR").await;
    assert_eq!(year[8], "10|1000|5|excellent|1");
    assert_eq!(year[9], "11|1000|5|good|1");
    assert_eq!(
        year.iter().filter(|r| r.ends_with("|ungraded|0")).count(),
        8
    );
    assert_eq!(status("Q3").await.len(), 10);

    let slices = query(
        &data,
        "SELECT DISTINCT region_id, district_id, school_id, locality, language, school_type \
         FROM student_status",
    )
    .await;
    assert_eq!(slices, ["1|10|100|urban|kk|general"]);
}

#[tokio::test]
async fn materialised_status_equals_the_query() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    for (a, b) in [
        ("student_status", format!("({STUDENT_STATUS_SQL})")),
        (
            &*format!("({STUDENT_STATUS_SQL})"),
            "student_status".to_string(),
        ),
    ] {
        let diff = query(
            &data,
            &format!(
                "SELECT count(*) FROM (SELECT * FROM {a} AS x EXCEPT SELECT * FROM {b} AS y) AS d"
            ),
        )
        .await;
        assert_eq!(diff, ["0"]);
    }
}

#[tokio::test]
async fn xlsx_inputs_are_read_like_csv() {
    let root = tempfile::tempdir().unwrap();
    let mut files: Vec<(&str, Vec<u8>)> = valid_files()
        .into_iter()
        .filter(|(n, _)| *n != "regions.csv" && *n != "marks.csv")
        .map(|(n, s)| (n, s.into_bytes()))
        .collect();
    let sheet = |csv: &str| -> Vec<Vec<String>> {
        csv.lines()
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    };
    let to_rows = |rows: &Vec<Vec<String>>| -> Vec<u8> {
        let borrowed: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        xlsx::workbook(&borrowed)
    };
    files.push(("regions.xlsx", to_rows(&sheet(REGIONS))));
    files.push(("marks.xlsx", to_rows(&sheet(MARKS))));
    let input = input_dir(root.path(), "xlsx", &files);
    let data = root.path().join("data");
    let report = ingest(&input, &data).await.unwrap();
    assert_eq!(report.rows_read["marks.xlsx"], 21);
    assert_eq!(report.look_alikes, 1);
    assert_eq!(
        query(&data, "SELECT name_kk FROM regions").await,
        ["Астана"]
    );
    assert_eq!(
        query(
            &data,
            "SELECT count(*) FROM student_status WHERE status = 'low'"
        )
        .await,
        ["2"]
    );

    // A bad cell in a sheet is located by its row.
    let mut bad = sheet(MARKS);
    bad[3][5] = "7".into();
    let input = input_dir(root.path(), "bad_xlsx", &[("marks.xlsx", to_rows(&bad))]);
    let errors = located(ingest(&input, &data).await);
    assert_eq!(
        errors[0].split(':').next().unwrap(),
        r#"marks.xlsx line 4, column mark, value "7""#
    );
}

#[tokio::test]
async fn any_object_store_holds_a_dataset() {
    use std::sync::Arc;

    use sapa::engine::Engine;
    use sapa::ingest::ingest_dir;
    use sapa::storage::DataLocation;

    // Nothing of the dataset goes through the local file system: an
    // in-memory store under a prefix holds it just as well.
    let root = tempfile::tempdir().unwrap();
    let store = Arc::new(object_store::memory::InMemory::new());
    let loc = DataLocation::with_store(store, "memory://", "datasets/kz").unwrap();
    let report = ingest_dir(&valid_input(root.path()), &loc, &options())
        .await
        .unwrap();
    assert_eq!(report.tables["marks"].rows, 18);
    let ctx = Engine::open(&loc).await.unwrap().session_context().unwrap();
    let batches = ctx
        .sql("SELECT count(*) AS n FROM student_status WHERE status = 'excellent'")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let n = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .unwrap()
        .value(0);
    // 3 and 8 in Q1, 6 in Q2, 10 in YEAR.
    assert_eq!(n, 4);
    assert!(!root.path().join("datasets").exists());
}
