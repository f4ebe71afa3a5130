//! Real Python clients: psycopg 3, SQLAlchemy's inspector and pandas, from
//! the virtualenv `tests/clients/install.sh` makes.

use std::path::Path;
use std::process::Command;

use datafusion::arrow::datatypes::DataType;
use sapa::engine::Engine;
use sapa::storage::DataLocation;
use serde_json::json;

use crate::support::{dataset, engine_rows, start};

/// Each relation's columns as the engine has them: name, the SQLAlchemy
/// type the served PostgreSQL type reflects as, nullable.
async fn engine_columns(relation: &str) -> Vec<serde_json::Value> {
    let data = dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).expect("location"))
        .await
        .expect("open");
    let ctx = engine.sql_session().await.expect("session");
    let frame = ctx.table(relation).await.expect("relation");
    frame
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let ty = match f.data_type() {
                DataType::Int64 => "BIGINT",
                DataType::Int32 => "INTEGER",
                DataType::Float64 => "DOUBLE PRECISION",
                DataType::Boolean => "BOOLEAN",
                DataType::Date32 => "DATE",
                DataType::Timestamp(_, None) => "TIMESTAMP",
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "TEXT",
                DataType::Dictionary(_, v) if v.is_string() => "TEXT",
                other => panic!("{relation}.{}: no expectation for {other}", f.name()),
            };
            json!([f.name(), ty, f.is_nullable(), null, false])
        })
        .collect()
}

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
            "earlier_statuses",
            "enrollments",
            "marks",
            "marks_history",
            "modo",
            "regions",
            "school_counts",
            "schools",
            "student_status",
            "subjects"
        ])
    );
    assert_eq!(
        found["sqlalchemy_views"],
        serde_json::json!([
            "indicators",
            "mark_audit",
            "modo_inflation",
            "modo_results",
            "report_by_school"
        ])
    );

    // The registered snapshots' schemas would be listed too; the tiny
    // dataset has none.
    assert_eq!(
        found["sqlalchemy_schemas"],
        serde_json::json!(["information_schema", "public"])
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

    // inspector.get_columns: name, type, nullable, default, autoincrement.
    let columns = &found["sqlalchemy_columns"];
    assert_eq!(
        columns["regions"],
        json!([
            ["region_id", "BIGINT", false, null, false],
            ["name_kk", "TEXT", false, null, false],
            ["name_ru", "TEXT", false, null, false]
        ])
    );
    let schools = json!([
        ["school_id", "BIGINT", false, null, false],
        ["district_id", "BIGINT", false, null, false],
        ["name_kk", "TEXT", false, null, false],
        ["name_ru", "TEXT", false, null, false],
        ["locality", "TEXT", false, null, false],
        ["language", "TEXT", false, null, false],
        ["school_type", "TEXT", false, null, false],
        ["internet_mbps", "DOUBLE PRECISION", true, null, false]
    ]);
    assert_eq!(columns["schools"], schools);
    // The roll-up's grouping sets leave academic_year and period nullable
    // in the schema, as PostgreSQL reports every view column.
    let mut indicators = vec![
        json!(["academic_year", "INTEGER", true, null, false]),
        json!(["period", "TEXT", true, null, false]),
        json!(["level", "TEXT", false, null, false]),
        json!(["unit_id", "BIGINT", true, null, false]),
    ];
    for count in [
        "n_total",
        "n_exempt",
        "n_low",
        "n_excellent",
        "n_good",
        "n_ungraded",
    ] {
        indicators.push(json!([count, "BIGINT", true, null, false]));
    }
    indicators.extend([
        json!(["performance_level", "DOUBLE PRECISION", true, null, false]),
        json!(["performance_band", "TEXT", true, null, false]),
        json!(["knowledge_quality", "DOUBLE PRECISION", true, null, false]),
        json!(["quality_band", "TEXT", true, null, false]),
        json!(["schools", "BIGINT", true, null, false]),
        json!(["schools_meeting_performance", "BIGINT", true, null, false]),
        json!(["schools_meeting_quality", "BIGINT", true, null, false]),
    ]);
    assert_eq!(columns["indicators"], json!(indicators));
    // Every one of the 18 relations as the engine's schema has it.
    let relations = columns.as_object().unwrap();
    assert_eq!(relations.len(), 18);
    for (relation, found_columns) in relations {
        assert_eq!(
            *found_columns,
            json!(engine_columns(relation).await),
            "{relation}"
        );
        let names: Vec<_> = found_columns
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[0].clone())
            .collect();
        assert_eq!(
            found["sqlalchemy_multi_columns"][relation],
            json!(names),
            "{relation}"
        );
    }

    // The rest of the per-table reflection: the declared keys (the primary
    // key's index is not among `get_indexes`, as in PostgreSQL), and no
    // other indexes, checks or comments.
    assert_eq!(
        found["sqlalchemy_schools"],
        json!({
            "table_comment": {"text": null},
            "pk_constraint": {
                "name": "schools_pkey",
                "constrained_columns": ["school_id"],
                "comment": null,
                "dialect_options": {"postgresql_include": []}
            },
            "foreign_keys": [{
                "name": "schools_district_id_fkey",
                "constrained_columns": ["district_id"],
                "referred_schema": null,
                "referred_table": "districts",
                "referred_columns": ["district_id"],
                "options": {},
                "comment": null
            }],
            "indexes": [],
            "unique_constraints": [],
            "check_constraints": []
        })
    );
    let autoloaded: Vec<_> = schools
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c[0], c[1], c[2]]))
        .collect();
    assert_eq!(found["autoload_schools"], json!(autoloaded));

    // pandas.read_sql_table reflects the table, then reads it.
    assert_eq!(found["read_sql_table_shape"][0].to_string(), regions[0][0]);
    assert_eq!(found["read_sql_table_shape"][1], 3);
    assert_eq!(
        found["read_sql_table_columns"],
        json!(["region_id", "name_kk", "name_ru"])
    );
    assert_eq!(
        found["read_sql_table_dtypes"],
        json!(["int64", "object", "object"])
    );
}
