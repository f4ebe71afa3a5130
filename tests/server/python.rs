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
