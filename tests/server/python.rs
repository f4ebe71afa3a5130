//! Real Python clients: psycopg 3, SQLAlchemy's inspector and pandas, from
//! the virtualenv `tests/clients/install.sh` makes.

use std::path::Path;
use std::process::Command;

use super::support::{engine_rows, start};

#[tokio::test]
async fn psycopg_sqlalchemy_and_pandas_work_as_with_postgres() {
    let addr = start().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/clients-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/clients/install.sh (the README's test command does)",
        python.display()
    );
    let script = root.join("tests/clients/python_clients.py");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args([addr.ip().to_string(), addr.port().to_string()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "python clients failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let first_district = &engine_rows(
        "SELECT count(*) FROM schools WHERE district_id = (SELECT min(district_id) FROM districts)",
    )
    .await[0][0];
    assert_eq!(
        found["schools_in_first_district"].to_string(),
        *first_district
    );
    let report = &engine_rows(
        "SELECT count(*), sum(students) FROM report_by_school WHERE academic_year = 2024 AND period = 'Q1'",
    )
    .await[0];
    let expected_run = serde_json::json!([
        report[0].parse::<i64>().unwrap(),
        report[1].parse::<i64>().unwrap()
    ]);
    assert_eq!(
        found["prepared_runs"],
        serde_json::json!([expected_run, expected_run, expected_run])
    );
    assert_eq!(found["current_user"], "sapa");
    assert!(found["version"].as_str().unwrap().contains("Sapa"));
    assert_eq!(found["error"], "42P01");

    let marks = &engine_rows(
        "SELECT count(*), sum(student_id) FROM marks WHERE school_id = (SELECT min(school_id) FROM schools)",
    )
    .await[0];
    assert_eq!(
        found["named_cursor_columns"],
        serde_json::json!(["student_id", "class_id", "subject_id", "period", "mark"])
    );
    assert_eq!(found["named_cursor_first"], 7);
    assert_eq!(found["named_cursor_rows"].to_string(), marks[0]);
    assert_eq!(found["named_cursor_sum"].to_string(), marks[1]);
    // Rows are kept as text: a binary cursor is refused, not misread.
    assert_eq!(found["binary_cursor"], "0A000");
    assert_eq!(found["nested_error"], "42P01");
    let regions = &engine_rows("SELECT count(*) FROM regions").await[0][0];
    assert_eq!(found["after_nested"].to_string(), *regions);
    assert_eq!(found["after_nested_status"], "INTRANS");

    // The search path's tables, none of information_schema's.
    assert_eq!(
        found["sqlalchemy_tables"],
        serde_json::json!([
            "calendar",
            "classes",
            "districts",
            "enrollments",
            "marks",
            "marks_history",
            "modo",
            "regions",
            "schools",
            "student_status",
            "subjects"
        ])
    );
    assert_eq!(
        found["sqlalchemy_views"],
        serde_json::json!(["indicators", "report_by_school"])
    );

    let regions = engine_rows("SELECT count(*), min(region_id) FROM regions").await;
    assert_eq!(found["pandas_shape"][0].to_string(), regions[0][0]);
    assert_eq!(found["pandas_shape"][1], 3);
    assert_eq!(
        found["pandas_columns"],
        serde_json::json!(["region_id", "name_kk", "name_ru"])
    );
    assert_eq!(found["pandas_first_region"].to_string(), regions[0][1]);
    assert_eq!(
        found["pandas_dtypes"],
        serde_json::json!(["int64", "object", "object"])
    );
}
