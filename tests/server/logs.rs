//! The access and query log of `sapa serve`, as an auditor reads it: the
//! real binary with `--log-file`, a scoped user over a real socket.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sapa::server::Verifier;
use serde_json::Value;

use crate::support::{dataset, engine_rows, log_in, sqlstate};

const PASSWORD: &str = "Ulttyq-Qupiya-7";

/// `sapa serve` on a free port; its address once it listens.
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sapa"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("serve ended").unwrap();
        if let Some((_, addr)) = line.rsplit_once(" on ") {
            break addr.trim().to_string();
        }
    };
    // Keep reading stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// The log's events, parsed, once `until` holds of them (or after 20 s).
fn events(path: &std::path::Path, until: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let events: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        if until(&events) || started.elapsed() > Duration::from_secs(20) {
            return events;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn find(events: &[Value], pred: impl Fn(&Value) -> bool) -> Option<&Value> {
    events.iter().find(|e| pred(e))
}

#[tokio::test]
async fn logins_statements_and_refusals_are_logged_as_json_lines() {
    let data = dataset().await;
    let district = engine_rows("SELECT min(district_id) FROM districts").await[0][0].clone();
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.toml");
    let verifier = Verifier::generate(PASSWORD, 4096).unwrap();
    std::fs::write(
        &users,
        format!("[[user]]\nname = \"aigul\"\nscope = \"district:{district}\"\npassword = \"{verifier}\"\n"),
    )
    .unwrap();
    let log = dir.path().join("access.jsonl");
    let (mut child, addr) = serve(&[
        "--data",
        data.to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
    ]);
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let client = log_in(addr, "aigul", PASSWORD).await.unwrap();
    client
        .simple_query("SELECT count(*) FROM schools")
        .await
        .unwrap();
    let refused = client
        .simple_query("CREATE TABLE x (a int)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&refused), "42501");
    let typed = client.prepare("SELECT $1::int + 1").await.unwrap();
    client.query(&typed, &[&41i32]).await.unwrap();
    drop(client);
    let wrong = log_in(addr, "aigul", "not-the-password").await.unwrap_err();
    assert_eq!(sqlstate(&wrong), "28P01");

    let scope = format!("district:{district}");
    let events = events(&log, |events| {
        events.iter().filter(|e| e["event"] == "disconnect").count() >= 2
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(PASSWORD), "the password reached the log");

    let start = find(&events, |e| e["event"] == "start").expect("start");
    assert_eq!(start["listen"], addr.to_string());
    assert!(
        start["users_file"]
            .as_str()
            .unwrap()
            .ends_with("users.toml")
    );
    let login = find(&events, |e| e["event"] == "login").expect("login");
    assert_eq!(login["user"], "aigul");
    assert_eq!(login["scope"], scope.as_str());
    assert_eq!(login["method"], "scram-sha-256");
    let conn = login["conn"].clone();
    assert!(find(&events, |e| e["event"] == "connect" && e["conn"] == conn).is_some());
    let select = find(&events, |e| e["text"] == "SELECT count(*) FROM schools").expect("select");
    assert_eq!(select["event"], "statement");
    assert_eq!(
        (select["user"].as_str(), select["scope"].as_str()),
        (Some("aigul"), Some(scope.as_str()))
    );
    assert_eq!(
        (select["kind"].as_str(), select["outcome"].as_str()),
        (Some("SELECT"), Some("ok"))
    );
    assert!(select["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(select["rows"], 1);
    assert_eq!(select["conn"], conn);
    let create = find(&events, |e| e["text"] == "CREATE TABLE x (a int)").expect("refusal");
    assert_eq!(
        (create["outcome"].as_str(), create["sqlstate"].as_str()),
        (Some("refused"), Some("42501"))
    );
    let extended = find(&events, |e| e["text"] == "SELECT $1::int + 1").expect("extended");
    assert_eq!(extended["protocol"], "extended");
    assert_eq!(extended["rows"], 1);
    assert!(create.get("rows").is_none(), "{create}");
    let failed = find(&events, |e| e["event"] == "login_failed").expect("login_failed");
    assert_eq!(
        (failed["user"].as_str(), failed["sqlstate"].as_str()),
        (Some("aigul"), Some("28P01"))
    );
    let end =
        find(&events, |e| e["event"] == "disconnect" && e["conn"] == conn).expect("disconnect");
    assert_eq!(end["statements"], 3);
}

#[tokio::test]
async fn statement_text_is_left_out_when_asked() {
    let data = dataset().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let (mut child, addr) = serve(&[
        "--data",
        data.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
        "--log-statement",
        "kind",
    ]);
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let client = crate::support::connect(addr).await;
    client
        .simple_query("SELECT 'a secret literal' AS s")
        .await
        .unwrap();
    drop(client);
    let events = events(&log, |events| {
        events.iter().any(|e| e["event"] == "disconnect")
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let statement = find(&events, |e| e["event"] == "statement").expect("statement");
    assert_eq!(statement["kind"], "SELECT");
    assert!(statement.get("text").is_none(), "{statement}");
    assert!(
        !std::fs::read_to_string(&log)
            .unwrap()
            .contains("a secret literal")
    );
}

/// Under `--log-slow` a statement at least that slow is logged again with
/// its plan and the metrics its operators gathered; a faster one is not.
#[tokio::test]
async fn slow_statements_are_logged_with_their_plan_and_metrics() {
    let data = dataset().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.jsonl");
    let (mut child, addr) = serve(&[
        "--data",
        data.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
        "--log-slow",
        "300ms",
    ]);
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let client = crate::support::connect(addr).await;
    // About a second of work on two cores (60 million rows into a million
    // groups), all of it in one plan.
    let slow = "SELECT count(DISTINCT g.value % 1000003) FROM generate_series(1, 60000000) g";
    client.simple_query(slow).await.unwrap();
    client.simple_query("SELECT 1").await.unwrap();
    drop(client);
    let events = events(&log, |events| {
        events.iter().any(|e| e["event"] == "disconnect")
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let statements: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "statement")
        .collect();
    assert_eq!(statements.len(), 2, "{events:?}");
    for statement in statements {
        let took = statement["duration_ms"].as_f64().unwrap();
        let logged = find(&events, |e| {
            e["event"] == "slow_statement" && e["text"] == statement["text"]
        });
        // Whatever the machine's speed: logged again exactly when slow.
        assert_eq!(logged.is_some(), took >= 300.0, "{statement}");
    }
    let logged = find(&events, |e| {
        e["event"] == "slow_statement" && e["text"] == slow
    })
    .expect("the slow statement is logged with its plan");
    let plan = logged["plan"].as_str().unwrap();
    assert!(plan.contains("AggregateExec"), "{plan}");
    assert!(plan.contains("output_rows=60.00 M"), "{plan}");
    assert!(plan.contains("elapsed_compute="), "{plan}");
    assert_eq!(logged["rows"], 1);
}
