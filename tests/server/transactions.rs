//! Transaction blocks, savepoints and SQL cursors over the wire, through
//! both protocols, judged against what PostgreSQL answers.

use tokio_postgres::SimpleQueryMessage;

use crate::support::{connect, engine_rows, sqlstate, start};

/// The rows a simple query returns.
async fn simple_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    client
        .simple_query(sql)
        .await
        .unwrap()
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn rolling_back_to_a_savepoint_recovers_an_aborted_block() {
    let addr = start().await;
    let client = connect(addr).await;
    let regions = engine_rows("SELECT count(*) FROM regions").await[0][0].clone();

    // Simple protocol, several statements in one query string: each sees
    // the block the one before left.
    client.batch_execute("BEGIN; SAVEPOINT a").await.unwrap();
    let err = client.simple_query("SELECT * FROM nope").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    let err = client.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(sqlstate(&err), "25P02", "nothing runs in an aborted block");
    let err = client.batch_execute("ROLLBACK TO never").await.unwrap_err();
    assert_eq!(sqlstate(&err), "3B001");
    client
        .batch_execute("ROLLBACK TO SAVEPOINT a")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM regions").await,
        [[regions.clone()]]
    );
    // The savepoint stays open after a rollback to it, and goes with RELEASE.
    client.batch_execute("RELEASE a").await.unwrap();
    let err = client.batch_execute("ROLLBACK TO a").await.unwrap_err();
    assert_eq!(sqlstate(&err), "3B001");
    // That error aborted the block; COMMIT ends it as a rollback.
    client.batch_execute("COMMIT").await.unwrap();

    // Extended protocol (tokio-postgres prepares every statement it is
    // given with parameters' types; pgjdbc's autosave goes this way).
    client.execute("BEGIN", &[]).await.unwrap();
    client.execute("SAVEPOINT b", &[]).await.unwrap();
    let err = client
        .query("SELECT * FROM schools WHERE nope = $1", &[&1i64])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42703");
    let err = client.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "25P02");
    client
        .execute("ROLLBACK TO SAVEPOINT b", &[])
        .await
        .unwrap();
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM regions WHERE region_id > $1",
            &[&0i64],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n.to_string(), regions);
    client.execute("COMMIT", &[]).await.unwrap();

    // Outside a block, as PostgreSQL: savepoints need one.
    let err = client.batch_execute("SAVEPOINT c").await.unwrap_err();
    assert_eq!(sqlstate(&err), "25P01");
}

#[tokio::test]
async fn a_cursor_declared_with_parameters_fetches_its_rows_in_pieces() {
    let addr = start().await;
    let client = connect(addr).await;
    let school: i64 = engine_rows("SELECT min(school_id) FROM schools").await[0][0]
        .parse()
        .unwrap();
    let expected = engine_rows(&format!(
        "SELECT student_id, class_id, subject_id, period, mark FROM marks \
         WHERE school_id = {school} ORDER BY student_id, class_id, subject_id, period"
    ))
    .await;
    assert!(expected.len() > 10, "the sample school has marks");

    client.batch_execute("BEGIN").await.unwrap();
    // The parameter travels apart from the SQL, as psycopg's named cursors
    // send it.
    client
        .execute(
            "DECLARE marks_of CURSOR FOR SELECT student_id, class_id, subject_id, period, mark \
             FROM marks WHERE school_id = $1 ORDER BY student_id, class_id, subject_id, period",
            &[&school],
        )
        .await
        .unwrap();
    let mut fetched = simple_rows(&client, "FETCH FORWARD 7 FROM marks_of").await;
    assert_eq!(fetched.len(), 7);
    fetched.extend(simple_rows(&client, "FETCH NEXT FROM marks_of").await);
    assert_eq!(fetched.len(), 8);
    fetched.extend(simple_rows(&client, "FETCH ALL FROM marks_of").await);
    assert_eq!(fetched, expected);
    assert!(
        simple_rows(&client, "FETCH 5 FROM marks_of")
            .await
            .is_empty()
    );
    client.batch_execute("CLOSE marks_of").await.unwrap();
    let err = client
        .simple_query("FETCH 1 FROM marks_of")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "34000", "a closed cursor is gone");
    client.batch_execute("COMMIT").await.unwrap();

    // What PostgreSQL refuses, and what Sapa does not do.
    let err = client
        .batch_execute("DECLARE c CURSOR FOR SELECT 1")
        .await
        .unwrap_err();
    assert_eq!(
        sqlstate(&err),
        "25P01",
        "a cursor without HOLD needs a block"
    );
    client
        .batch_execute("DECLARE held CURSOR WITH HOLD FOR SELECT region_id FROM regions")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "FETCH ALL FROM held").await.len(),
        engine_rows("SELECT count(*) FROM regions").await[0][0]
            .parse::<usize>()
            .unwrap()
    );
    client.batch_execute("BEGIN").await.unwrap();
    let err = client
        .batch_execute("DECLARE s SCROLL CURSOR FOR SELECT 1")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "0A000");
    client.batch_execute("ROLLBACK").await.unwrap();
    // The refused DECLAREs ran nothing that could leak: the session goes on.
    assert_eq!(simple_rows(&client, "SELECT 1").await, [["1"]]);
}

/// psqlODBC declares each statement's cursor under one name, closing it in
/// between; a name still in use must stay its cursor (PostgreSQL's 42P03),
/// not describe one query and send another's rows (found by replaying the
/// captured ODBC statements, `client_queries.rs`).
#[tokio::test]
async fn a_cursor_name_in_use_is_refused_and_keeps_its_rows() {
    let addr = start().await;
    let client = connect(addr).await;
    client
        .batch_execute("DECLARE c CURSOR WITH HOLD FOR SELECT min(school_id) FROM schools")
        .await
        .unwrap();
    let err = client
        .simple_query("DECLARE c CURSOR WITH HOLD FOR SELECT * FROM schools")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42P03", "{err:?}");
    // The first cursor, unchanged: one column, one row.
    let rows = simple_rows(&client, "FETCH 100 IN c").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].len(), 1);
    client.batch_execute("CLOSE c").await.unwrap();
    // Once closed, the name is free again.
    client
        .batch_execute("DECLARE c CURSOR WITH HOLD FOR SELECT * FROM schools")
        .await
        .unwrap();
    let rows = simple_rows(&client, "FETCH 2 IN c").await;
    assert_eq!(rows.len(), 2);
    assert!(rows[0].len() > 1);
}

/// As PostgreSQL: the end of a block closes the cursors it declared — all
/// of them at ROLLBACK (also of an aborted block, as psqlODBC's error path
/// does before it declares its cursor name again), those without HOLD at
/// COMMIT; a HOLD cursor outlives its COMMIT.
#[tokio::test]
async fn the_end_of_a_block_closes_the_cursors_it_declared() {
    let addr = start().await;
    let client = connect(addr).await;
    let gone = |err: tokio_postgres::Error| assert_eq!(sqlstate(&err), "34000", "{err:?}");

    client
        .batch_execute("BEGIN; DECLARE h CURSOR WITH HOLD FOR SELECT 1 / 0")
        .await
        .unwrap();
    let err = client.simple_query("FETCH 1 IN h").await.unwrap_err();
    assert_eq!(sqlstate(&err), "22012");
    client.batch_execute("ROLLBACK").await.unwrap();
    gone(client.simple_query("FETCH 1 IN h").await.unwrap_err());
    // The name is free: declaring it again is no 42P03.
    client
        .batch_execute("BEGIN; DECLARE h CURSOR WITH HOLD FOR SELECT 41 + 1")
        .await
        .unwrap();
    client
        .batch_execute("DECLARE n CURSOR FOR SELECT 7")
        .await
        .unwrap();
    client.batch_execute("COMMIT").await.unwrap();
    gone(client.simple_query("FETCH 1 IN n").await.unwrap_err());
    assert_eq!(
        simple_rows(&client, "FETCH 1 IN h").await,
        vec![vec!["42".to_string()]]
    );
    // Declared outside a block, a HOLD cursor is untouched by later blocks.
    client.batch_execute("CLOSE h").await.unwrap();
    client
        .batch_execute("DECLARE h CURSOR WITH HOLD FOR SELECT 5")
        .await
        .unwrap();
    client.batch_execute("BEGIN; ROLLBACK").await.unwrap();
    assert_eq!(
        simple_rows(&client, "FETCH 1 IN h").await,
        vec![vec!["5".to_string()]]
    );
}
