//! psqlODBC (Excel's and Power BI's way in) through unixODBC and pyodbc,
//! installed by `tests/clients/install.sh`: the ministry's user and a
//! district's, each in both of the driver's fetch modes.

use serde_json::{Value, json};

use crate::support::{
    client_json, clients_python, engine_rows, ministry_and_district, start_with_users,
};

const PASSWORD: &str = "Excel-Kesteler-9";

async fn run_as(addr: std::net::SocketAddr, user: &str) -> Value {
    client_json(
        clients_python(),
        "tests/clients/odbc_client.py",
        &[],
        addr,
        user,
        PASSWORD,
    )
    .await
}

async fn count(sql: &str) -> i64 {
    engine_rows(sql).await[0][0].parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psqlodbc_works_in_both_fetch_modes_for_the_ministry_and_a_district() {
    let (users, district) = ministry_and_district().await;
    let addr = start_with_users(&users, PASSWORD).await;
    for (user, schools) in [
        ("minister", "SELECT school_id FROM schools".to_string()),
        (
            "aigul",
            format!("SELECT school_id FROM schools WHERE district_id = {district}"),
        ),
    ] {
        let found = run_as(addr, user).await;
        let school = count(&format!("SELECT min(school_id) FROM ({schools}) s")).await;
        let expected = json!({
            // psqlODBC's default BoolsAsChar: a boolean reads as '1', as
            // from PostgreSQL.
            "typed": ["int", "str", "float", "str"],
            "school": school,
            "school_rows": 1,
            "schools": count(&format!("SELECT count(*) FROM ({schools}) s")).await,
            "report_rows": count(&format!(
                "SELECT count(*) FROM report_by_school WHERE academic_year = 2024 \
                 AND period = 'Q1' AND school_id IN ({schools})"
            ))
            .await,
            "marks": count(&format!("SELECT count(*) FROM marks WHERE school_id IN ({schools})"))
                .await,
            "missing_table": "42P01",
            "division": "22012",
            "write": "42501",
            "after_errors": 42,
        });
        for mode in ["declare_fetch_0", "declare_fetch_1"] {
            let got = &found[mode];
            for (key, want) in expected.as_object().unwrap() {
                assert_eq!(&got[key], want, "{user} {mode} {key}");
            }
            let tables = got["tables"].as_array().unwrap();
            assert!(tables.contains(&json!("marks")) && tables.contains(&json!("schools")));
            assert!(
                got["views"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("report_by_school"))
            );
            assert_eq!(
                got["columns"][0],
                json!(["school_id", "int8"]),
                "{user} {mode}"
            );
            assert_eq!(
                got["primary_key"],
                json!([
                    ["student_id", 1, "marks_history_pkey"],
                    ["class_id", 2, "marks_history_pkey"],
                    ["subject_id", 3, "marks_history_pkey"],
                    ["period", 4, "marks_history_pkey"],
                    ["recorded_at", 5, "marks_history_pkey"]
                ]),
                "{user} {mode}"
            );
            assert_eq!(
                got["foreign_keys"],
                json!([
                    ["classes", "school_id", "school_id", 1],
                    ["marks", "school_id", "school_id", 1],
                    ["marks_history", "school_id", "school_id", 1],
                    ["modo", "school_id", "school_id", 1]
                ]),
                "{user} {mode}"
            );
            assert_eq!(
                got["statistics"],
                json!([
                    ["marks_history_pkey", 1, "student_id", 0],
                    ["marks_history_pkey", 2, "class_id", 0],
                    ["marks_history_pkey", 3, "subject_id", 0],
                    ["marks_history_pkey", 4, "period", 0],
                    ["marks_history_pkey", 5, "recorded_at", 0]
                ]),
                "{user} {mode}"
            );
        }
    }
}
