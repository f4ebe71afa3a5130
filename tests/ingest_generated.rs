//! The generator's tiny dataset ingests cleanly, through CSV and directly
//! from its batches, to the same stored tables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ingest_support;

use ingest_support::*;
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

    let from_batches = root.path().join("from_batches");
    let loc = DataLocation::local(&from_batches).unwrap();
    let direct = ingest_batches(
        &loc,
        &IngestOptions::default(),
        "generate tiny",
        move |sink| {
            generate(&tiny(), sink, &mut |_| {})
                .map(|_| ())
                .map_err(Into::into)
        },
    )
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
