//! asyncpg, the binary-protocol client of Python asyncio services, from the
//! virtualenv `tests/clients/install.sh` makes: the ministry's user and a
//! district's, each over `marks`, `report_by_school` and `schools`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use sapa::server::{ServerOptions, Users, Verifier};
use serde_json::{Value, json};

use super::support::{engine_rows, start_with};

const PASSWORD: &str = "Asyn-Kele-5";

/// What `tests/clients/asyncpg_client.py` found as `user`.
async fn run_as(addr: std::net::SocketAddr, user: &str) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/clients-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/clients/install.sh (the README's test command does)",
        python.display()
    );
    let script = root.join("tests/clients/asyncpg_client.py");
    let args = [
        addr.ip().to_string(),
        addr.port().to_string(),
        user.to_string(),
        PASSWORD.to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "asyncpg as {user} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asyncpg_works_for_the_ministry_and_a_district() {
    let district = engine_rows("SELECT min(district_id) FROM districts").await[0][0].clone();
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.toml");
    let mut text = String::new();
    for (name, scope) in [
        ("minister", "ministry".to_string()),
        ("aigul", format!("district:{district}")),
    ] {
        let verifier = Verifier::generate(PASSWORD, 4096).unwrap();
        text += &format!(
            "[[user]]\nname = \"{name}\"\nscope = \"{scope}\"\npassword = \"{verifier}\"\n\n"
        );
    }
    std::fs::write(&users, text).unwrap();
    let addr = start_with(ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        users: Some(Arc::new(Users::load(&users).unwrap())),
        ..ServerOptions::default()
    })
    .await;
    for (user, schools) in [
        ("minister", "schools".to_string()),
        (
            "aigul",
            format!("(SELECT * FROM schools WHERE district_id = {district})"),
        ),
    ] {
        let found = run_as(addr, user).await;
        let school = format!("(SELECT min(school_id) FROM {schools} s)");
        let marks: i64 = engine_rows(&format!(
            "SELECT count(*) FROM marks WHERE school_id = {school}"
        ))
        .await[0][0]
            .parse()
            .unwrap();
        let report = &engine_rows(&format!(
            "SELECT count(*) FROM report_by_school WHERE academic_year = 2024 AND period = 'Q1' \
             AND school_id IN (SELECT school_id FROM {schools} s)"
        ))
        .await[0][0];
        assert_eq!(
            found["typed"],
            json!(["int", "int", "str", "float", "date", "bool"]),
            "{user}"
        );
        assert_eq!(found["school_rows"], 1, "{user}");
        assert_eq!(found["marks_count"], marks, "{user}");
        assert_eq!(found["report_rows"].to_string(), *report, "{user}");
        assert_eq!(found["cursor"], json!([5, 10, marks - 15]), "{user}");
        assert_eq!(found["cursor_iterated"], marks, "{user}");
        let copied: i64 = engine_rows(&format!("SELECT least(count(*), 3) FROM {schools} s")).await
            [0][0]
            .parse()
            .unwrap();
        assert_eq!(found["copy_status"], format!("COPY {copied}"), "{user}");
        assert_eq!(found["copy_lines"], copied + 1, "{user}");
        assert_eq!(found["set_config"], "5s", "{user}");
        assert_eq!(found["after_set_config"], "5000ms", "{user}");
        assert_eq!(found["after_reset"], "0", "{user}");
        assert_eq!(found["jit"], "off", "{user}");
        assert_eq!(found["missing_table"], "42P01", "{user}");
        assert_eq!(found["division"], "22012", "{user}");
        assert_eq!(found["write"], "42501", "{user}");
        assert_eq!(found["cancel"], "cancelled", "{user}");
        assert_eq!(found["after_cancel"], 42, "{user}");
        // Reset on release works: the pool keeps its two connections.
        assert!(found["pool_pids"].as_u64().unwrap() <= 2, "{found}");
    }
}
