//! Read-only and the limits that keep the server up (issue 6), over a real
//! socket: refused statements, `SET`s kept apart, `statement_timeout` and
//! the memory limit.

use std::time::{Duration, Instant};

use sapa::server::ServerOptions;

use super::full;
use crate::support::{connect, sqlstate, start, start_with};

#[tokio::test]
async fn statements_that_write_or_reach_files_are_refused_with_42501() {
    let addr = start().await;
    let client = connect(addr).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("leak.csv");
    let target = target.display();
    let refused = [
        "CREATE TABLE t (a INT)".to_string(),
        "CREATE VIEW v AS SELECT 1".to_string(),
        format!("CREATE EXTERNAL TABLE ext STORED AS CSV LOCATION '{target}'"),
        "DROP TABLE marks".to_string(),
        "INSERT INTO regions VALUES (99, 'x', 'y')".to_string(),
        "DELETE FROM marks".to_string(),
        "UPDATE schools SET name_kk = 'x'".to_string(),
        format!("COPY marks TO '{target}'"),
        format!("COPY (SELECT 1) TO '{target}'"),
        "SELECT * INTO copied FROM schools".to_string(),
        "SET ROLE postgres".to_string(),
        "SET datafusion.runtime.memory_limit = '100G'".to_string(),
    ];
    for sql in &refused {
        // Simple protocol …
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql}: {err}");
        // … and extended.
        let err = client.execute(sql.as_str(), &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql} (extended): {err}");
    }
    assert!(
        !dir.path().join("leak.csv").exists(),
        "no server file written"
    );
    // Nothing changed, and the connection goes on.
    let n: i64 = client
        .query_one("SELECT count(*) FROM regions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, full("SELECT count(*) FROM regions").await);
}

/// What `SHOW name` answers.
async fn show(client: &tokio_postgres::Client, name: &str) -> String {
    let rows = client.simple_query(&format!("SHOW {name}")).await.unwrap();
    rows.iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap().to_string()),
            _ => None,
        })
        .unwrap()
}

#[tokio::test]
async fn one_sessions_set_never_reaches_another() {
    let addr = start().await;
    let a = connect(addr).await;
    let b = connect(addr).await;
    let before = show(&b, "datafusion.execution.batch_size").await;
    a.simple_query("SET datafusion.execution.batch_size = 123")
        .await
        .unwrap();
    a.simple_query("SET statement_timeout = '5s'")
        .await
        .unwrap();
    assert_eq!(show(&a, "datafusion.execution.batch_size").await, "123");
    assert_eq!(show(&b, "datafusion.execution.batch_size").await, before);
    assert_eq!(show(&b, "statement_timeout").await, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_stops_a_query_while_its_rows_are_computed() {
    let addr = start().await;
    let client = connect(addr).await;
    client
        .simple_query("SET statement_timeout = '300ms'")
        .await
        .unwrap();
    let started = Instant::now();
    // About 5 s of work uncancelled (see the cancel test), all of it in
    // the row stream.
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        client.simple_query(
            "SELECT count(*) FROM marks a CROSS JOIN marks b WHERE a.student_id + b.student_id = 7",
        ),
    )
    .await
    .expect("the timeout must end the query")
    .unwrap_err();
    let took = started.elapsed();
    assert_eq!(sqlstate(&err), "57014", "{err}");
    assert!(
        err.as_db_error()
            .is_some_and(|e| e.message().contains("statement timeout")),
        "{err}"
    );
    eprintln!("statement_timeout 300ms: the query ended after {took:?}");
    // COPY … TO STDOUT (psql's \\copy) is watched the same way.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.csv");
    let mut psql = std::process::Command::new("psql");
    psql.args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .args(["-U", "sapa", "-d", "sapa", "-v", "ON_ERROR_STOP=1"])
        .args(["-c", "SET statement_timeout = '300ms'"])
        .arg("-c")
        .arg(format!(
            "\\copy (SELECT a.student_id FROM marks a CROSS JOIN marks b \
             WHERE a.student_id + b.student_id = 7) to '{}'",
            out.display()
        ));
    let psql = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || psql.output()),
    )
    .await
    .expect("the timeout must end the COPY")
    .unwrap()
    .expect("psql runs (bash tests/clients/install.sh installs it)");
    let stderr = String::from_utf8_lossy(&psql.stderr);
    assert!(!psql.status.success(), "{stderr}");
    assert!(
        stderr.contains("canceling statement due to statement timeout"),
        "{stderr}"
    );
    client
        .simple_query("SET statement_timeout = 0")
        .await
        .unwrap();
    client.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_the_memory_limit_ends_with_53200_and_others_go_on() {
    let addr = start_with(ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        query_memory: 256 << 10,
        memory: 1 << 20,
        ..ServerOptions::default()
    })
    .await;
    let greedy = connect(addr).await;
    let other = connect(addr).await;
    // A hash join's build side cannot spill.
    let err = greedy
        .simple_query(
            "SELECT count(*) FROM marks_history a JOIN marks_history b \
             ON a.student_id = b.student_id AND a.subject_id = b.subject_id",
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "53200", "{err}");
    let message = err.as_db_error().unwrap().message().to_string();
    assert!(message.contains("per-query memory limit"), "{message}");
    for client in [&greedy, &other] {
        let n: i64 = client
            .query_one("SELECT count(*) FROM schools", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, full("SELECT count(*) FROM schools").await);
    }
}
