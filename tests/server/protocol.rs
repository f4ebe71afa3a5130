//! `sapa serve` over a real socket with tokio-postgres (simple and
//! extended protocol) and raw bytes.

use crate::support::{connect, connect_as, engine_rows, sqlstate, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn simple_queries_answer_what_the_engine_answers() {
    let addr = start().await;
    let client = connect(addr).await;
    let sql = "SELECT status, count(*) AS n FROM student_status \
               WHERE academic_year = 2024 AND period = 'Q1' GROUP BY status ORDER BY status";
    let expected = engine_rows(sql).await;
    assert!(!expected.is_empty());
    let rows = client.simple_query(sql).await.unwrap();
    let got: Vec<Vec<String>> = rows
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn prepared_statements_bind_parameters_and_return_binary_values() {
    let addr = start().await;
    let client = connect(addr).await;
    let district: i64 = engine_rows("SELECT min(district_id) FROM districts").await[0][0]
        .parse()
        .unwrap();
    let expected: i64 = engine_rows(&format!(
        "SELECT count(*) FROM schools WHERE district_id = {district}"
    ))
    .await[0][0]
        .parse()
        .unwrap();
    let stmt = client
        .prepare("SELECT count(*) AS n FROM schools WHERE district_id = $1")
        .await
        .unwrap();
    // The same prepared statement, executed more than once (pgjdbc's
    // prepare threshold path).
    for _ in 0..3 {
        let row = client.query_one(&stmt, &[&district]).await.unwrap();
        assert_eq!(row.get::<_, i64>("n"), expected);
    }
    let row = client
        .query_one(
            "SELECT name_kk, name_ru, district_id FROM districts WHERE district_id = $1",
            &[&district],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>("district_id"), district);
    let name_kk: String = row.get("name_kk");
    assert!(!name_kk.is_empty());
    // Floats and dates come back typed.
    let row = client
        .query_one(
            "SELECT knowledge_quality, quality_band FROM indicators \
             WHERE level = 'country' AND academic_year = $1 AND period = $2",
            &[&2024i32, &"YEAR"],
        )
        .await
        .unwrap();
    let q: Option<f64> = row.get(0);
    let expected_q: f64 = engine_rows(
        "SELECT knowledge_quality FROM indicators \
         WHERE level = 'country' AND academic_year = 2024 AND period = 'YEAR'",
    )
    .await[0][0]
        .parse()
        .unwrap();
    assert!((q.unwrap() - expected_q).abs() < 1e-9);
    let row = client
        .query_one(
            "SELECT end_date FROM calendar WHERE academic_year = 2024 AND period = 'Q1'",
            &[],
        )
        .await
        .unwrap();
    let _: chrono::NaiveDate = row.get(0);
}

#[tokio::test]
async fn session_functions_answer_the_logged_in_user_and_sapa() {
    let addr = start().await;
    let client = connect(addr).await;
    let row = client
        .query_one("SELECT current_user, session_user", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "sapa");
    assert_eq!(row.get::<_, String>(1), "sapa");
    let version: String = client
        .query_one("SELECT version()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(version.starts_with("PostgreSQL 16.6"), "{version}");
    assert!(version.contains("Sapa"), "{version}");
    let show = |sql: &'static str| {
        let client = &client;
        async move {
            let messages = client.simple_query(sql).await.unwrap();
            messages
                .iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some(r.get(0).unwrap().to_string())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{sql}: no row in {messages:?}"))
        }
    };
    assert_eq!(show("SHOW timezone").await, "UTC");
    assert_eq!(show("SHOW server_version").await, "16.6");
    assert_eq!(
        show("SELECT current_setting('server_version_num')").await,
        "160006"
    );
    assert_eq!(show("SELECT pg_typeof(1::bigint)").await, "bigint");
    let err = client
        .simple_query("SHOW no_such_parameter")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42704");
}

#[tokio::test]
async fn user_mistakes_get_their_sqlstate_and_the_connection_goes_on() {
    let addr = start().await;
    let client = connect(addr).await;
    let cases = [
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM schools", "42703"),
        ("SELEC 1", "42601"),
        ("SELECT no_such_function(1)", "42883"),
        ("SELECT mark_class('7')", "22P02"),
        ("SELECT CAST('abc' AS INT)", "22P02"),
        ("SELECT 1 / 0", "22012"),
    ];
    for (sql, code) in cases {
        let simple = client.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&simple), code, "simple: {sql}: {simple:?}");
        let extended = client.query(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&extended), code, "extended: {sql}: {extended:?}");
        // The message is a person's, not a Rust debug dump.
        let message = simple.as_db_error().unwrap().message().to_string();
        assert!(!message.contains("DataFusionError"), "{message}");
    }
    // int4 + int4 is int4, as in PostgreSQL.
    let row = client.query_one("SELECT 41 + 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
}

#[tokio::test]
async fn an_unknown_user_is_refused_without_a_users_file() {
    let addr = start().await;
    let Err(err) = connect_as(addr, "postgres").await else {
        panic!("the connection must be refused");
    };
    assert_eq!(sqlstate(&err), "28000");
    let message = err
        .as_db_error()
        .expect("a server error")
        .message()
        .to_string();
    assert!(message.contains("\"postgres\""), "{message}");
}

#[tokio::test]
async fn malformed_bytes_close_only_that_connection() {
    let addr = start().await;
    let client = connect(addr).await;
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A startup packet whose length runs past what is sent, then garbage.
    raw.write_all(&[0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xff])
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), raw.read(&mut buf)).await;
    match read {
        Ok(Ok(_)) | Ok(Err(_)) => {}
        Err(_) => panic!("the server kept a garbage connection open"),
    }
    let row = client
        .query_one("SELECT count(*) FROM regions", &[])
        .await
        .unwrap();
    assert!(row.get::<_, i64>(0) > 0);
    // New connections are still served.
    let other = connect(addr).await;
    other.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn the_connection_over_the_limit_is_refused_with_53300() {
    let addr = crate::support::start_with(sapa::server::ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        max_connections: 2,
        ..sapa::server::ServerOptions::default()
    })
    .await;
    let a = connect(addr).await;
    let b = connect(addr).await;
    let Err(err) = connect_as(addr, "sapa").await else {
        panic!("the connection must be refused");
    };
    assert_eq!(sqlstate(&err), "53300");
    drop(a);
    // A freed slot is usable again once the server notices the close.
    let mut last = None;
    for _ in 0..50 {
        match connect_as(addr, "sapa").await {
            Ok(c) => {
                c.simple_query("SELECT 1").await.unwrap();
                last = None;
                break;
            }
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    assert!(last.is_none(), "{last:?}");
    b.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_stops_a_query_while_its_rows_are_computed() {
    let addr = start().await;
    let client = connect(addr).await;
    let token = client.cancel_token();
    // 3.6 billion pairs: seconds of work (about 5 s here uncancelled), all
    // of it in the row stream, so planning alone cannot answer the cancel.
    let long = client.simple_query(
        "SELECT count(*) FROM marks a CROSS JOIN marks b WHERE a.student_id + b.student_id = 7",
    );
    let cancel = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
        std::time::Instant::now()
    };
    let (result, cancelled_at) = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        tokio::join!(long, cancel)
    })
    .await
    .expect("the cancel request must end the query");
    let stopped_after = cancelled_at.elapsed();
    let err = result.expect_err("the query must be cancelled");
    assert_eq!(sqlstate(&err), "57014", "{err}");
    eprintln!("cancel: the query stopped {stopped_after:?} after the cancel request");
    // The connection goes on.
    let rows = client.simple_query("SELECT 1").await.unwrap();
    assert!(
        matches!(&rows[1], tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("1"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_query_frees_its_work() {
    let (addr, running) = crate::support::start_counted(sapa::server::ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        ..Default::default()
    })
    .await;
    let (client, connection) = tokio_postgres::connect(
        &format!(
            "host={} port={} user=sapa dbname=sapa",
            addr.ip(),
            addr.port()
        ),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    let connection = tokio::spawn(connection);
    // Hours of work in bounded memory (ten billion rows into at most a
    // million distinct values), and no row comes out before the end: only
    // the hang-up can stop it.
    let query = tokio::spawn(async move {
        client
            .simple_query(
                "SELECT count(DISTINCT g.value % 1000003) FROM generate_series(1, 10000000000) g",
            )
            .await
    });
    let until = |want: usize, within: std::time::Duration| {
        let running = running.clone();
        async move {
            let start = std::time::Instant::now();
            while running.now() != want {
                assert!(
                    start.elapsed() < within,
                    "{} statements running after {within:?}, expected {want}",
                    running.now()
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            start.elapsed()
        }
    };
    until(1, std::time::Duration::from_secs(30)).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(running.now(), 1, "the query is still computing");
    // The client hangs up: its socket closes, no Terminate sent.
    connection.abort();
    query.abort();
    let freed = until(0, std::time::Duration::from_secs(60)).await;
    eprintln!("hang-up: the work stopped {freed:?} after the client closed its socket");
    // The server goes on serving others.
    let other = connect(addr).await;
    other.simple_query("SELECT 1").await.unwrap();
}

/// Scalar subqueries in a select list mean what they mean in PostgreSQL on
/// both protocols: a correlated aggregate is computed per row (it was NULL
/// before), and a subquery of several rows is an error, never a NULL or a
/// row picked at random.
#[tokio::test]
async fn scalar_subqueries_in_select_lists_answer_as_postgres_does() {
    let addr = start().await;
    let client = connect(addr).await;
    let sql = "SELECT s.school_id, (SELECT count(*) FROM classes c \
               WHERE c.school_id = s.school_id) AS n FROM schools s ORDER BY s.school_id";
    let expected = engine_rows(
        "SELECT s.school_id, count(c.class_id) FROM schools s \
         LEFT JOIN classes c ON c.school_id = s.school_id GROUP BY s.school_id ORDER BY s.school_id",
    )
    .await;
    assert!(expected.iter().any(|r| r[1] != "0"));
    let extended: Vec<Vec<String>> = client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| {
            vec![
                r.get::<_, i64>(0).to_string(),
                r.get::<_, i64>(1).to_string(),
            ]
        })
        .collect();
    assert_eq!(extended, expected);
    let simple = client.simple_query(sql).await.unwrap();
    let first = simple.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(1).map(str::to_string),
        _ => None,
    });
    assert_eq!(first.as_deref(), Some(expected[0][1].as_str()));
    // Several rows: PostgreSQL's 21000.
    let err = client
        .simple_query("SELECT (SELECT region_id FROM regions) AS r")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "21000", "{err}");
    // A plain correlated subquery over user tables is not rewritten: an
    // error, not NULLs.
    for run in [true, false] {
        let sql = "SELECT s.school_id, (SELECT c.class_id FROM classes c \
                   WHERE c.school_id = s.school_id) FROM schools s";
        let failed = if run {
            client.simple_query(sql).await.map(|_| ()).unwrap_err()
        } else {
            client.query(sql, &[]).await.map(|_| ()).unwrap_err()
        };
        assert!(failed.code().is_some(), "{failed}");
    }
}

/// An unordered scan of one relation (a Metabase table preview, `… LIMIT
/// 2000` without ORDER BY) answers the same rows in the same order every
/// time, on both protocols, as PostgreSQL does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unordered_scan_answers_the_same_rows_every_time() {
    let addr = start().await;
    let client = connect(addr).await;
    let school = &engine_rows("SELECT min(school_id) FROM schools").await[0][0];
    let simple = format!(
        "SELECT student_id, subject_id, period FROM marks WHERE school_id = {school} LIMIT 2000"
    );
    let text_rows = |messages: Vec<tokio_postgres::SimpleQueryMessage>| -> Vec<String> {
        messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    Some(format!("{:?} {:?} {:?}", r.get(0), r.get(1), r.get(2)))
                }
                _ => None,
            })
            .collect()
    };
    let first = text_rows(client.simple_query(&simple).await.unwrap());
    assert_eq!(first.len(), 2000);
    let extended =
        "SELECT student_id, subject_id, period FROM marks WHERE school_id = $1 LIMIT 2000";
    let school: i64 = school.parse().unwrap();
    let binary_rows = |rows: Vec<tokio_postgres::Row>| -> Vec<String> {
        rows.iter()
            .map(|r| {
                format!(
                    "{:?}",
                    (
                        r.get::<_, i64>(0),
                        r.get::<_, i64>(1),
                        r.get::<_, String>(2)
                    )
                )
            })
            .collect()
    };
    let first_extended = binary_rows(client.query(extended, &[&school]).await.unwrap());
    for _ in 0..8 {
        assert_eq!(
            text_rows(client.simple_query(&simple).await.unwrap()),
            first
        );
        let again = binary_rows(client.query(extended, &[&school]).await.unwrap());
        assert_eq!(again, first_extended);
    }
}

/// A `statement_timeout` sent at startup (libpq's `options=-c …`, as
/// `PGOPTIONS` does) holds for the session, over the server's default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_timeout_sent_at_startup_holds() {
    let addr = start().await;
    let config = format!(
        "host={} port={} user=sapa dbname=sapa options='-c statement_timeout=300'",
        addr.ip(),
        addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let shown = client.simple_query("SHOW statement_timeout").await.unwrap();
    assert!(
        matches!(&shown[1], tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("300ms")),
        "{shown:?}"
    );
    let long = "SELECT count(DISTINCT g.value % 1000003) FROM generate_series(1, 10000000000) g";
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        client.simple_query(long),
    )
    .await
    .expect("the timeout must end the statement")
    .unwrap_err();
    assert_eq!(sqlstate(&err), "57014", "{err}");
}
