//! Shared helpers of the ingest integration tests: a small hand-built
//! dataset (`tests/data/valid`, also what the `views/` sqllogictest files
//! query) whose every figure is computed by hand in the tests, and ways to
//! snapshot and query a data directory.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod xlsx;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use sapa::engine::Engine;
use sapa::ingest::{IngestError, IngestOptions, IngestReport, ingest_dir};
use sapa::storage::DataLocation;

pub const REGIONS: &str = include_str!("../data/valid/regions.csv");

pub const DISTRICTS: &str = include_str!("../data/valid/districts.csv");

pub const SCHOOLS: &str = include_str!("../data/valid/schools.csv");

/// Subject 3 (physical education) is not certified: its marks never count.
pub const SUBJECTS: &str = include_str!("../data/valid/subjects.csv");

pub const CALENDAR: &str = include_str!("../data/valid/calendar.csv");

/// 1000 and 1001 are criterial quarter classes of school 100 (parallel 5),
/// 1002 a parallel-1 class, 1003 an `other`-journal class of school 200.
pub const CLASSES: &str = include_str!("../data/valid/classes.csv");

/// Student 6 moves from 1000 to 1001 on 2024-11-16.
pub const ENROLLMENTS: &str = include_str!("../data/valid/enrollments.csv");

/// The marks, in a shuffled column order, with aliases and one look-alike
/// (`EСП` with a Latin E on line 7).
pub const MARKS: &str = include_str!("../data/valid/marks.csv");

/// Every file of the valid dataset.
pub fn valid_files() -> Vec<(&'static str, String)> {
    vec![
        ("regions.csv", REGIONS.to_string()),
        ("districts.csv", DISTRICTS.to_string()),
        ("schools.csv", SCHOOLS.to_string()),
        ("subjects.csv", SUBJECTS.to_string()),
        ("calendar.csv", CALENDAR.to_string()),
        ("classes.csv", CLASSES.to_string()),
        ("enrollments.csv", ENROLLMENTS.to_string()),
        ("marks.csv", MARKS.to_string()),
    ]
}

/// Writes files into a fresh directory under `root`.
pub fn input_dir(root: &Path, name: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, bytes) in files {
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    dir
}

/// The valid dataset as an input directory.
pub fn valid_input(root: &Path) -> PathBuf {
    let files: Vec<(&str, Vec<u8>)> = valid_files()
        .into_iter()
        .map(|(n, s)| (n, s.into_bytes()))
        .collect();
    input_dir(root, "valid", &files)
}

/// Options with a small memory limit and batch size, so tests exercise
/// batching.
pub fn options() -> IngestOptions {
    IngestOptions {
        batch_rows: 4,
        ..IngestOptions::default()
    }
}

pub async fn ingest(input: &Path, data: &Path) -> Result<IngestReport, IngestError> {
    let loc = DataLocation::local(data).unwrap();
    ingest_dir(input, &loc, &options()).await
}

/// A data directory with the valid dataset committed as version 1.
pub async fn committed(root: &Path) -> PathBuf {
    let data = root.join("data");
    let report = ingest(&valid_input(root), &data).await.unwrap();
    assert_eq!(report.version, 1);
    data
}

/// Every file under `dir` with its bytes, but the writer lock's note of
/// who last held it (each writer rewrites it; it is no data).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                if rel != Path::new(sapa::storage::lock::LOCK_FILE) {
                    out.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
    }
    out
}

/// The rows of `sql` over the current version, each as `a|b|c`.
pub async fn query(data: &Path, sql: &str) -> Vec<String> {
    let engine = Engine::open(&DataLocation::local(data).unwrap())
        .await
        .unwrap();
    rows(&engine.session_context().unwrap(), sql).await
}

/// [`query`] with the views (`sapa::engine::views`) registered too.
pub async fn query_views(data: &Path, sql: &str) -> Vec<String> {
    let engine = Engine::open(&DataLocation::local(data).unwrap())
        .await
        .unwrap();
    let ctx = engine.sql_session().await.unwrap();
    rows(&ctx, sql).await
}

/// The rows of `sql` in `ctx`, each as `a|b|c`, NULL as `NULL`.
pub async fn rows(ctx: &datafusion::prelude::SessionContext, sql: &str) -> Vec<String> {
    let batches = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows
}

/// The answers the tests compare before and after a failed ingest.
pub async fn fingerprint(data: &Path) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for sql in [
        "SELECT * FROM marks ORDER BY student_id, class_id, subject_id, period",
        "SELECT * FROM marks_history ORDER BY student_id, class_id, subject_id, period, recorded_at",
        "SELECT * FROM student_status ORDER BY academic_year, period, student_id",
        "SELECT * FROM regions ORDER BY region_id",
        "SELECT * FROM enrollments ORDER BY student_id, class_id",
    ] {
        out.push(query(data, sql).await);
    }
    out
}

/// The located errors of a failed ingest, as displayed.
pub fn located(result: Result<IngestReport, IngestError>) -> Vec<String> {
    match result {
        Ok(report) => panic!("ingest should have failed: {report:?}"),
        Err(e) => {
            assert!(!e.located().is_empty(), "not an input error: {e}");
            e.located().iter().map(ToString::to_string).collect()
        }
    }
}

/// Ingests `files` as a delta into a data directory holding the valid
/// dataset and returns the located errors; asserts that every file of the
/// data directory and every query answer is unchanged.
pub async fn rejected(files: &[(&str, &[u8])]) -> Vec<String> {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    let before = snapshot(&data);
    let answers = fingerprint(&data).await;
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (*n, b.to_vec())).collect();
    let input = input_dir(root.path(), "bad", &files);
    let errors = located(ingest(&input, &data).await);
    assert_unchanged(&data, &before, &answers).await;
    errors
}

pub async fn assert_unchanged(
    data: &Path,
    before: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
    answers: &[Vec<String>],
) {
    let after = snapshot(data);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "the data directory gained or lost files"
    );
    assert!(after == *before, "a file of the committed version changed");
    assert_eq!(fingerprint(data).await, answers);
}
