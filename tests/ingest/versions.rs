//! Versions: re-ingesting adds nothing, a delta appends mark versions and
//! rewrites only what it touches, ambiguous versions are rejected even when
//! found after data files were written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::ingest_support::*;
use sapa::ingest::{IngestOptions, Progress, ingest_dir};
use sapa::storage::{DataLocation, StoredTable, manifest};

#[tokio::test]
async fn ingesting_the_same_files_twice_adds_nothing() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    let before = snapshot(&data);
    let answers = fingerprint(&data).await;
    let report = ingest(&valid_input(root.path()), &data).await.unwrap();
    assert!(!report.committed);
    assert_eq!(report.version, 1);
    assert_eq!((report.marks_new, report.marks_duplicate), (0, 21));
    assert_unchanged(&data, &before, &answers).await;
}

#[tokio::test]
async fn a_delta_appends_versions_and_rewrites_only_what_it_touches() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    let v1 = snapshot(&data);
    // A later 3 replaces student 1's math 1; the Kazakh 5 is repeated.
    let delta = "student_id,class_id,subject_id,period,mark,recorded_at\n\
                 1,1000,1,Q1,3,2024-10-25T12:00:00\n\
                 1,1000,2,Q1,5,2024-10-24\n";
    let input = input_dir(
        root.path(),
        "delta",
        &[("marks.csv", delta.as_bytes().to_vec())],
    );
    let report = ingest(&input, &data).await.unwrap();
    assert!(report.committed);
    assert_eq!(report.version, 2);
    assert_eq!((report.marks_new, report.marks_duplicate), (1, 1));
    assert_eq!(report.tables["marks_history"].rows, 22);
    assert_eq!(report.tables["marks"].rows, 18);

    assert_eq!(
        query(&data, "SELECT mark, recorded_at FROM marks_history WHERE student_id = 1 AND subject_id = 1 ORDER BY recorded_at").await,
        ["4|2024-10-20T00:00:00", "1|2024-10-24T09:00:00", "3|2024-10-25T12:00:00"]
    );
    assert_eq!(
        query(
            &data,
            "SELECT mark FROM marks WHERE student_id = 1 AND subject_id = 1"
        )
        .await,
        ["3"]
    );
    // 5 and 3: satisfactory now.
    assert_eq!(
        query(
            &data,
            "SELECT status FROM student_status WHERE student_id = 1 AND period = 'Q1'"
        )
        .await,
        ["satisfactory"]
    );

    // Every file of version 1 is still there, unchanged; version 2 reuses
    // the partitions the delta did not touch.
    let v2 = snapshot(&data);
    for (path, bytes) in &v1 {
        if path != std::path::Path::new("_sapa/CURRENT") {
            assert_eq!(v2.get(path), Some(bytes), "{}", path.display());
        }
    }
    let loc = DataLocation::local(&data).unwrap();
    let m = manifest::read_current(&loc).await.unwrap().unwrap();
    assert_eq!((m.version, m.parent), (2, Some(1)));
    let dir_of = |table: StoredTable, period: &str| -> Vec<String> {
        m.files(table)
            .iter()
            .filter(|f| f.period.as_deref() == Some(period))
            .map(|f| f.path.split('/').nth(2).unwrap().to_string())
            .collect()
    };
    assert_eq!(dir_of(StoredTable::MarksHistory, "Q1"), ["v000002"]);
    assert_eq!(dir_of(StoredTable::MarksHistory, "Q2"), ["v000001"]);
    assert_eq!(dir_of(StoredTable::StudentStatus, "Q1"), ["v000002"]);
    assert_eq!(dir_of(StoredTable::StudentStatus, "YEAR"), ["v000001"]);
    assert!(m.files(StoredTable::Regions)[0].path.contains("/v000001/"));
    assert_eq!(m.summary.marks_new, 1);
}

#[tokio::test]
async fn a_reference_delta_upserts_and_recomputes_status() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    // Student 5 leaves class 1000 before Q2 ends, and school 100 turns rural.
    let enrollments = "student_id,class_id,active_from,active_to\n5,1000,2024-09-02,2024-11-30\n";
    let schools = "school_id,district_id,name_kk,name_ru,locality,language,school_type,internet_mbps\n\
                   100,10,№1 мектеп,Школа №1,rural,kk,general,50\n";
    let input = input_dir(
        root.path(),
        "delta",
        &[
            ("enrollments.csv", enrollments.as_bytes().to_vec()),
            ("schools.csv", schools.as_bytes().to_vec()),
        ],
    );
    let report = ingest(&input, &data).await.unwrap();
    assert_eq!((report.version, report.marks_new), (2, 0));
    assert_eq!(report.tables["enrollments"].rows, 12, "replaced, not added");
    assert_eq!(
        query(
            &data,
            "SELECT period FROM student_status WHERE student_id = 5 ORDER BY period"
        )
        .await,
        ["Q1"]
    );
    assert_eq!(
        query(&data, "SELECT DISTINCT locality FROM student_status").await,
        ["rural"]
    );
}

#[tokio::test]
async fn ambiguous_versions_are_rejected() {
    // Against the stored history: 1's math was "1" at 09:00 on 2024-10-24.
    let errors = rejected(&[(
        "marks.csv",
        b"student_id,class_id,subject_id,period,mark,recorded_at\n1,1000,1,Q1,2,2024-10-24T09:00:00\n",
    )])
    .await;
    assert_eq!(
        errors,
        [
            "marks.csv line 2, column mark, value \"2\": ambiguous version: student 1, class 1000, \
          subject 1, period Q1 recorded at 2024-10-24 09:00:00 is \"2\" here but \"1\" in the \
          stored history"
        ]
    );
    // Within the input.
    let errors = rejected(&[(
        "marks.csv",
        "student_id,class_id,subject_id,period,mark,recorded_at\n\
         3,1000,1,Q2,5,2024-12-20\n3,1000,1,Q2,4,2024-12-20\n3,1000,1,Q2,5,2024-12-20\n"
            .as_bytes(),
    )])
    .await;
    assert_eq!(
        errors,
        [
            "marks.csv line 3, column mark, value \"4\": ambiguous version: student 3, class 1000, \
          subject 1, period Q2 recorded at 2024-12-20 00:00:00 is \"4\" here but \"5\" in line 2"
        ]
    );
}

#[tokio::test]
async fn a_failure_after_data_files_were_written_leaves_no_trace() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    let before = snapshot(&data);
    let answers = fingerprint(&data).await;
    // A new region (written as version 2's regions file first), then marks
    // whose ambiguity only the merge finds.
    let regions = "region_id,name_kk,name_ru\n2,Алматы,Алматы\n";
    let marks = "student_id,class_id,subject_id,period,mark,recorded_at\n\
                 8,1000,1,Q3,5,2025-03-01\n1,1000,1,Q1,2,2024-10-24T09:00:00\n";
    let input = input_dir(
        root.path(),
        "late",
        &[
            ("regions.csv", regions.as_bytes().to_vec()),
            ("marks.csv", marks.as_bytes().to_vec()),
        ],
    );
    // Watch the data directory while the merge runs: version 2's files exist.
    let seen = Arc::new(AtomicBool::new(false));
    let (watch, dir) = (Arc::clone(&seen), data.clone());
    let options = IngestOptions {
        progress: Some(Arc::new(move |p: &Progress| {
            if matches!(p, Progress::Merging { .. }) {
                let regions = dir.join("tables/regions/v000002/part-00000.parquet");
                let staged = dir.join("_sapa/staging/v000002");
                if regions.exists() && staged.exists() {
                    watch.store(true, Ordering::SeqCst);
                }
            }
        })),
        ..options()
    };
    let loc = DataLocation::local(&data).unwrap();
    let errors = located(ingest_dir(&input, &loc, &options).await);
    assert!(
        seen.load(Ordering::SeqCst),
        "data files were written before the failure"
    );
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("marks.csv line 3, column mark, value \"2\": ambiguous"));
    assert_unchanged(&data, &before, &answers).await;
}
