//! asyncpg, the binary-protocol client of Python asyncio services, from the
//! virtualenv `tests/clients/install.sh` makes: the ministry's user and a
//! district's, each over `marks`, `report_by_school` and `schools`.

use serde_json::{Value, json};

use crate::support::{
    client_json, clients_python, engine_rows, ministry_and_district, start_with_users,
};

const PASSWORD: &str = "Asyn-Kele-5";

async fn run_as(addr: std::net::SocketAddr, user: &str) -> Value {
    client_json(
        clients_python(),
        "tests/clients/asyncpg_client.py",
        &[],
        addr,
        user,
        PASSWORD,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asyncpg_works_for_the_ministry_and_a_district() {
    let (users, district) = ministry_and_district().await;
    let addr = start_with_users(&users, PASSWORD).await;
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
        assert_eq!(found["after_set_config"], "5s", "{user}");
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
