//! The generator's tiny dataset ingests cleanly, through CSV and directly
//! from its batches, to the same stored tables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::ingest_support::*;
use sapa::engine::STUDENT_STATUS_SQL;
use sapa::ingest::{IngestOptions, ingest_batches, ingest_dir};
use sapa::storage::DataLocation;
use sapa_datasets::csv_sink::CsvDirSink;
use sapa_datasets::generate::{GenerateOptions, Scale, generate};

fn tiny() -> GenerateOptions {
    GenerateOptions {
        scale: Scale::Tiny,
        years: 2024..=2025,
        seed: 7,
    }
}

#[tokio::test]
async fn generated_tiny_dataset_ingests_the_same_through_csv_and_batches() {
    let root = tempfile::tempdir().unwrap();
    let csv_dir = root.path().join("csv");
    let mut sink = CsvDirSink::create(&csv_dir).unwrap();
    let summary = generate(&tiny(), &mut sink, &mut |_| {}).unwrap();
    sink.finish().unwrap();

    let from_csv = root.path().join("from_csv");
    let report = ingest_dir(
        &csv_dir,
        &DataLocation::local(&from_csv).unwrap(),
        &IngestOptions::default(),
    )
    .await
    .unwrap();
    assert!(report.committed, "{report:?}");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let generated_marks = summary.rows[&sapa_datasets::schema::Table::Marks];
    assert_eq!(report.rows_read["marks.csv"], generated_marks);
    assert!(report.tables["student_status"].rows > 0);

    // Directly from the batches, merged district by district (one merge
    // unit each): the same tables as one unit.
    let from_batches = root.path().join("from_batches");
    let loc = DataLocation::local(&from_batches).unwrap();
    let per_district = IngestOptions {
        unit_students: 1,
        ..IngestOptions::default()
    };
    let direct = ingest_batches(&loc, &per_district, "generate tiny", move |sink| {
        generate(&tiny(), sink, &mut |_| {})
            .map(|_| ())
            .map_err(Into::into)
    })
    .await
    .unwrap();
    assert_eq!(direct.marks_new, report.marks_new);
    assert_eq!(direct.look_alikes, report.look_alikes);
    assert_eq!(direct.tables["marks"].rows, report.tables["marks"].rows);

    for sql in [
        "SELECT * FROM marks_history ORDER BY student_id, class_id, subject_id, period, recorded_at",
        "SELECT * FROM student_status ORDER BY academic_year, period, student_id, class_id",
        "SELECT * FROM enrollments ORDER BY student_id, class_id, active_from",
        "SELECT * FROM schools ORDER BY school_id",
        "SELECT * FROM modo ORDER BY student_id, academic_year, domain",
    ] {
        assert_eq!(
            query(&from_csv, sql).await,
            query(&from_batches, sql).await,
            "{sql}"
        );
    }
    // The materialised statuses are exactly what the query computes.
    let diff = query(
        &from_csv,
        &format!(
            "SELECT count(*) FROM (SELECT * FROM student_status \
             EXCEPT ALL SELECT * FROM ({STUDENT_STATUS_SQL}) AS q) AS d"
        ),
    )
    .await;
    assert_eq!(diff, ["0"]);
    assert_sorted(&from_batches).await;

    // A delta of one mark rewrites its partition unit by unit, keeping
    // every stored row and the order.
    let last = query(
        &from_batches,
        "SELECT student_id, class_id, subject_id FROM marks \
         WHERE academic_year = 2025 AND period = 'Q2' ORDER BY student_id DESC LIMIT 1",
    )
    .await;
    let fields: Vec<&str> = last[0].split('|').collect();
    let delta = format!(
        "student_id,class_id,subject_id,period,mark,recorded_at\n{},{},{},Q2,2,2026-06-30T23:59:59\n",
        fields[0], fields[1], fields[2]
    );
    let input = input_dir(root.path(), "delta", &[("marks.csv", delta.into_bytes())]);
    let before = query(&from_batches, "SELECT count(*) FROM marks_history").await;
    let report = ingest_dir(&input, &loc, &per_district).await.unwrap();
    assert_eq!((report.marks_new, report.version), (1, 2));
    let after = query(&from_batches, "SELECT count(*) FROM marks_history").await;
    assert_eq!(
        after[0].parse::<u64>().unwrap(),
        before[0].parse::<u64>().unwrap() + 1
    );
    assert_sorted(&from_batches).await;
    school_counts_are_the_statuses_counted(&from_batches, 2).await;

    // Ingesting the same CSVs again adds nothing.
    let again = ingest_dir(
        &csv_dir,
        &DataLocation::local(&from_csv).unwrap(),
        &IngestOptions::default(),
    )
    .await
    .unwrap();
    assert!(!again.committed);
    assert_eq!(again.marks_duplicate, generated_marks);
}

/// The stored `school_counts` equal their query over the stored statuses
/// (both ways), the delta of `version` rewrote only the partition it
/// touched, and a dataset whose manifest predates the table (its entry
/// removed) gets the same `indicators` from the derived view.
async fn school_counts_are_the_statuses_counted(data: &std::path::Path, version: u64) {
    use sapa::engine::SCHOOL_COUNTS_SQL;
    use sapa::storage::{StoredTable, manifest};

    for (a, b) in [
        (
            "school_counts".to_string(),
            format!("({SCHOOL_COUNTS_SQL})"),
        ),
        (
            format!("({SCHOOL_COUNTS_SQL})"),
            "school_counts".to_string(),
        ),
    ] {
        let diff = query(
            data,
            &format!("SELECT count(*) FROM (SELECT * FROM {a} AS x EXCEPT ALL SELECT * FROM {b} AS y) AS d"),
        )
        .await;
        assert_eq!(diff, ["0"], "{a} EXCEPT ALL {b}");
    }
    let loc = DataLocation::local(data).unwrap();
    let m = manifest::read_current(&loc).await.unwrap().unwrap();
    let own = format!("/v{version:06}/");
    let rewritten: Vec<(i32, String)> = m
        .files(StoredTable::SchoolCounts)
        .iter()
        .filter(|f| f.path.contains(&own))
        .map(|f| (f.academic_year.unwrap(), f.period.clone().unwrap()))
        .collect();
    assert_eq!(rewritten, [(2025, "Q2".to_string())]);
    assert!(m.partitions(StoredTable::SchoolCounts).len() > 5);

    let sql = "SELECT * FROM indicators ORDER BY academic_year, period, level, unit_id";
    let stored = query_views(data, sql).await;
    assert!(stored.len() > 20, "{}", stored.len());
    // The same dataset, its manifest without the table.
    let old = tempfile::tempdir().unwrap();
    copy_dir(data, old.path());
    let current: serde_json::Value =
        serde_json::from_slice(&std::fs::read(old.path().join("_sapa/CURRENT")).unwrap()).unwrap();
    let path = old.path().join(current["manifest"].as_str().unwrap());
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    json["tables"]
        .as_object_mut()
        .unwrap()
        .remove("school_counts");
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    assert_eq!(query_views(old.path(), sql).await, stored);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every `marks_history` file holds its rows in the stored order.
async fn assert_sorted(data: &std::path::Path) {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use sapa::storage::{StoredTable, manifest};

    let loc = DataLocation::local(data).unwrap();
    let m = manifest::read_current(&loc).await.unwrap().unwrap();
    let files = m.files(StoredTable::MarksHistory);
    assert!(!files.is_empty());
    for file in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(data.join(&file.path)).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        let mut previous: Option<[i64; 7]> = None;
        for batch in reader {
            let batch = batch.unwrap();
            let int = |i: usize| batch.column(i).as_primitive::<Int64Type>().clone();
            let ids: Vec<_> = (2..8).map(int).collect();
            let at = batch.column(9).as_primitive::<TimestampMicrosecondType>();
            for row in 0..batch.num_rows() {
                let mut key = [0i64; 7];
                for (k, a) in key.iter_mut().zip(&ids) {
                    *k = a.value(row);
                }
                key[6] = at.value(row);
                if let Some(p) = previous {
                    assert!(p < key, "{}: {p:?} before {key:?}", file.path);
                }
                previous = Some(key);
            }
        }
    }
}
