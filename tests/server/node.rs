//! node-postgres (`pg` 8) and `pg-cursor`, as a Node.js report portal uses
//! them, installed under `target/clients-node` by `tests/clients/install.sh`:
//! the ministry's user and a district's.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{client_json, engine_rows, ministry_and_district, start_with_users};

const PASSWORD: &str = "Node-Portal-4";

async fn run_as(addr: std::net::SocketAddr, user: &str) -> Value {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/clients-node/node_modules");
    assert!(
        modules.join("pg-cursor").exists(),
        "{} is missing: run tests/clients/install.sh (the README's test command does)",
        modules.display()
    );
    client_json(
        PathBuf::from("node"),
        "tests/clients/node/node_client.js",
        &[("NODE_PATH", modules)],
        addr,
        user,
        PASSWORD,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_postgres_works_for_the_ministry_and_a_district() {
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
        let one = |sql: String| async move { engine_rows(&sql).await[0][0].clone() };
        let school = one(format!("SELECT min(school_id) FROM ({schools}) s")).await;
        let marks = one(format!(
            "SELECT count(*) FROM marks WHERE school_id = {school}"
        ))
        .await;
        let report: i64 = one(format!(
            "SELECT count(*) FROM report_by_school WHERE academic_year = 2024 AND period = 'Q1' \
             AND school_id IN ({schools})"
        ))
        .await
        .parse()
        .unwrap();
        // int8 values arrive as strings in JavaScript, as from PostgreSQL.
        assert_eq!(found["school"], json!(school), "{user}");
        assert_eq!(
            found["school_types"],
            json!(["string", "string", "number"]),
            "{user}"
        );
        assert_eq!(found["report_rows"], report, "{user}");
        assert_eq!(found["report_types"], json!(["number", "number"]), "{user}");
        assert_eq!(found["marks"], json!(marks), "{user}");
        assert_eq!(found["any"], json!(["int4", "text"]), "{user}");
        assert_eq!(
            found["attributes"],
            json!([
                "school_id",
                "district_id",
                "name_kk",
                "name_ru",
                "locality",
                "language",
                "school_type",
                "internet_mbps"
            ]),
            "{user}"
        );
        assert_eq!(found["distinct_pids"], 2, "{user}");
        assert_eq!(
            found["cursor_rows"],
            json!(marks.parse::<i64>().unwrap()),
            "{user}"
        );
        assert!(found["cursor_reads"].as_u64().unwrap() >= 1, "{user}");
        assert_eq!(found["missing_table"], "42P01", "{user}");
        assert_eq!(found["division"], "22012", "{user}");
        assert_eq!(found["write"], "42501", "{user}");
        // int4 + int4 is int4, a number in JavaScript, as from PostgreSQL.
        assert_eq!(found["after_errors"], 42, "{user}");
        assert_eq!(found["startup_timeout"], "300ms", "{user}");
        assert_eq!(found["timed_out"], "57014", "{user}");
    }
}
