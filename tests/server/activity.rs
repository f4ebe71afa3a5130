//! `pg_stat_activity`, `pg_backend_pid()` and `pg_cancel_backend(pid)`
//! over a real socket: the ministry sees every session and may cancel any
//! statement; a district user sees only their own sessions and may not
//! cancel another user's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, SimpleQueryMessage};

use crate::support::{log_in, ministry_and_district, sqlstate, start_with_users};

const PASSWORD: &str = "Bilim-Ordasy-3";

/// The rows of `sql` as text.
async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

async fn pid_of(client: &Client) -> String {
    rows(client, "SELECT pg_backend_pid()").await[0][0]
        .clone()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ministry_sees_and_cancels_every_session_a_district_only_its_own() {
    let (mut users, district) = ministry_and_district().await;
    users.push(("bolat", format!("district:{district}")));
    let addr = start_with_users(&users, PASSWORD).await;
    let minister = log_in(addr, "minister", PASSWORD).await.unwrap();
    let aigul = log_in(addr, "aigul", PASSWORD).await.unwrap();
    let bolat = Arc::new(log_in(addr, "bolat", PASSWORD).await.unwrap());
    let (m_pid, a_pid, b_pid) = (
        pid_of(&minister).await,
        pid_of(&aigul).await,
        pid_of(&bolat).await,
    );
    assert!(m_pid != a_pid && a_pid != b_pid, "{m_pid} {a_pid} {b_pid}");

    // The ministry: every session, its own running the query that asks.
    let own = "SELECT pid, usename, state, query, client_addr, datname \
               FROM pg_stat_activity ORDER BY usename";
    let seen = rows(&minister, own).await;
    let users_seen: Vec<_> = seen.iter().map(|r| r[1].clone().unwrap()).collect();
    assert_eq!(users_seen, ["aigul", "bolat", "minister"]);
    let me = &seen[2];
    assert_eq!(me[0].as_deref(), Some(m_pid.as_str()));
    assert_eq!(me[2].as_deref(), Some("active"));
    assert_eq!(me[3].as_deref(), Some(own));
    assert_eq!(me[4].as_deref(), Some("127.0.0.1"));
    assert_eq!(me[5].as_deref(), Some("sapa"));
    // Another session, between statements: idle, its last statement shown.
    assert_eq!(seen[0][2].as_deref(), Some("idle"));
    assert_eq!(seen[0][3].as_deref(), Some("SELECT pg_backend_pid()"));

    // A district user: only its own session.
    let theirs = rows(&aigul, "SELECT pid, usename FROM pg_stat_activity").await;
    assert_eq!(
        theirs,
        [vec![Some(a_pid.clone()), Some("aigul".to_string())]]
    );

    // A long statement of bolat's, watched and cancelled by the ministry.
    let long = "SELECT count(DISTINCT g.value % 1000003) FROM generate_series(1, 10000000000) g";
    let running = {
        let bolat = Arc::clone(&bolat);
        tokio::spawn(async move { bolat.simple_query(long).await })
    };
    let watch = format!("SELECT state, query FROM pg_stat_activity WHERE pid = {b_pid}");
    let started = Instant::now();
    loop {
        let row = rows(&minister, &watch).await;
        if row[0][0].as_deref() == Some("active") {
            assert_eq!(row[0][1].as_deref(), Some(long));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{row:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = aigul
        .simple_query(&format!("SELECT pg_cancel_backend({b_pid})"))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&refused), "42501", "{refused}");
    let no_one = rows(&minister, "SELECT pg_cancel_backend(2147483)").await;
    assert_eq!(no_one[0][0].as_deref(), Some("f"));
    let sent = rows(&minister, &format!("SELECT pg_cancel_backend({b_pid})")).await;
    assert_eq!(sent[0][0].as_deref(), Some("t"));
    let ended = tokio::time::timeout(Duration::from_secs(60), running)
        .await
        .expect("the cancel must end bolat's statement")
        .unwrap();
    let err = ended.expect_err("bolat's statement must be cancelled");
    assert_eq!(sqlstate(&err), "57014", "{err}");
    // Bolat's session goes on, and is idle again (the server marks it so
    // just after sending its answer: looked for until then).
    rows(&bolat, "SELECT 1").await;
    let started = Instant::now();
    loop {
        let after = rows(&minister, &watch).await;
        if after[0][0].as_deref() == Some("idle") {
            assert_eq!(after[0][1].as_deref(), Some("SELECT 1"));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{after:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A session that ends leaves the view.
    drop(aigul);
    let started = Instant::now();
    while rows(&minister, "SELECT pid FROM pg_stat_activity")
        .await
        .len()
        != 2
    {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
