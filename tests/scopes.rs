//! Who sees what (SPEC §8), read-only, and the limits that keep the server
//! up (issue 6): scoped sessions against the full data filtered by hand,
//! and refused statements, `SET`s kept apart, `statement_timeout` and the
//! memory limit over a real socket.

// Test helpers outside #[test] functions fail the test by panicking.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "server/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use sapa::engine::{Engine, MemoryBudget, Scope};
use sapa::server::{ServerOptions, SessionFactory};
use sapa::storage::DataLocation;
use support::{connect, dataset, engine_rows, log_in, rows_of, sqlstate, start, start_with};

/// The session factory over the tiny dataset.
async fn factory() -> SessionFactory {
    let data = dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).unwrap())
        .await
        .unwrap();
    SessionFactory::new(&engine, MemoryBudget::new(1 << 30, 1 << 30))
        .await
        .unwrap()
}

/// A logged-in session of `scope`.
async fn session(factory: &SessionFactory, scope: Scope) -> Arc<SessionContext> {
    let session = factory.session();
    factory.log_in(&session, "tester", scope).await.unwrap();
    session
}

async fn count(ctx: &SessionContext, sql: &str) -> i64 {
    let batches = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let column = batches[0].column(0);
    datafusion::common::cast::as_int64_array(column)
        .unwrap()
        .value(0)
}

/// What the full data answers.
async fn full(sql: &str) -> i64 {
    engine_rows(sql).await[0][0].parse().unwrap()
}

/// One id the tiny data holds.
async fn some_id(sql: &str) -> i64 {
    full(sql).await
}

/// Every relation of the SQL surface with the hand-written filter that
/// picks the rows a scope sees, given `schools`, `districts`, `regions`
/// as SQL lists of the scope's units (subqueries over the full data) and
/// whether the scope sees the country.
fn hand_filters(
    schools: &str,
    districts: &str,
    regions: &str,
    country: bool,
) -> Vec<(&'static str, String)> {
    let in_schools = format!("school_id IN ({schools})");
    vec![
        ("regions", format!("region_id IN ({regions})")),
        ("districts", format!("district_id IN ({districts})")),
        ("schools", in_schools.clone()),
        ("subjects", "TRUE".to_string()),
        ("calendar", "TRUE".to_string()),
        ("classes", in_schools.clone()),
        (
            "enrollments",
            format!("class_id IN (SELECT class_id FROM classes WHERE {in_schools})"),
        ),
        ("modo", in_schools.clone()),
        ("marks_history", in_schools.clone()),
        ("marks", in_schools.clone()),
        ("student_status", in_schools.clone()),
        ("report_by_school", in_schools.clone()),
        (
            "indicators",
            format!(
                "(level = 'school' AND unit_id IN ({schools})) \
                 OR (level = 'district' AND unit_id IN ({districts})) \
                 OR (level = 'region' AND unit_id IN ({regions})) \
                 OR (level = 'country' AND {country})"
            ),
        ),
    ]
}

#[tokio::test]
async fn every_relation_of_every_scope_holds_the_hand_filtered_rows() {
    let factory = factory().await;
    let region = some_id("SELECT max(region_id) FROM regions").await;
    let district = some_id(&format!(
        "SELECT min(district_id) FROM districts WHERE region_id = {region}"
    ))
    .await;
    let school = some_id(&format!(
        "SELECT max(school_id) FROM schools WHERE district_id = {district}"
    ))
    .await;
    let none = "SELECT -1";
    let cases = [
        (
            Scope::Region(region),
            format!(
                "SELECT school_id FROM schools WHERE district_id IN \
                 (SELECT district_id FROM districts WHERE region_id = {region})"
            ),
            format!("SELECT district_id FROM districts WHERE region_id = {region}"),
            format!("SELECT {region}"),
        ),
        (
            Scope::District(district),
            format!("SELECT school_id FROM schools WHERE district_id = {district}"),
            format!("SELECT {district}"),
            none.to_string(),
        ),
        (
            Scope::School(school),
            format!("SELECT {school}"),
            none.to_string(),
            none.to_string(),
        ),
    ];
    for (scope, schools, districts, regions) in cases {
        let ctx = session(&factory, scope).await;
        for (relation, filter) in hand_filters(&schools, &districts, &regions, false) {
            let expected = full(&format!("SELECT count(*) FROM {relation} WHERE {filter}")).await;
            let got = count(&ctx, &format!("SELECT count(*) FROM {relation}")).await;
            assert_eq!(got, expected, "{scope}: {relation}");
            if matches!(
                relation,
                "schools" | "marks" | "student_status" | "indicators"
            ) {
                let everything = full(&format!("SELECT count(*) FROM {relation}")).await;
                assert!(
                    got < everything,
                    "{scope}: {relation} must be narrower than the country"
                );
            }
        }
    }
    // The ministry and researchers see every row.
    for scope in [Scope::Ministry, Scope::Researcher] {
        let ctx = session(&factory, scope).await;
        for (relation, _) in hand_filters(none, none, none, true) {
            let expected = full(&format!("SELECT count(*) FROM {relation}")).await;
            let got = count(&ctx, &format!("SELECT count(*) FROM {relation}")).await;
            assert_eq!(got, expected, "{scope}: {relation}");
        }
    }
}

#[tokio::test]
async fn joins_subqueries_and_ctes_cannot_reach_past_the_scope() {
    let factory = factory().await;
    let district = some_id("SELECT min(district_id) FROM districts").await;
    let ctx = session(&factory, Scope::District(district)).await;
    let mine = format!("SELECT school_id FROM schools WHERE district_id = {district}");
    for (scoped, by_hand) in [
        (
            "SELECT count(*) FROM marks m JOIN schools s ON m.school_id = s.school_id".to_string(),
            format!("SELECT count(*) FROM marks WHERE school_id IN ({mine})"),
        ),
        (
            // A join to an unscoped reference table does not widen.
            "SELECT count(*) FROM marks m JOIN subjects USING (subject_id)".to_string(),
            format!("SELECT count(*) FROM marks WHERE school_id IN ({mine})"),
        ),
        (
            "SELECT count(*) FROM (SELECT DISTINCT student_id FROM student_status) t".to_string(),
            format!(
                "SELECT count(*) FROM (SELECT DISTINCT student_id FROM student_status \
                 WHERE school_id IN ({mine})) t"
            ),
        ),
        (
            "WITH e AS (SELECT * FROM enrollments) SELECT count(*) FROM e".to_string(),
            format!(
                "SELECT count(*) FROM enrollments WHERE class_id IN \
                 (SELECT class_id FROM classes WHERE school_id IN ({mine}))"
            ),
        ),
        (
            // Naming the catalog and schema reaches the same scoped table.
            "SELECT count(*) FROM sapa.public.marks_history".to_string(),
            format!("SELECT count(*) FROM marks_history WHERE school_id IN ({mine})"),
        ),
        (
            "SELECT count(*) FROM indicators WHERE level IN ('region', 'country')".to_string(),
            "SELECT 0".to_string(),
        ),
    ] {
        assert_eq!(count(&ctx, &scoped).await, full(&by_hand).await, "{scoped}");
    }
    // Nothing else is there to name: no other catalog, no other schema
    // holding the full tables.
    for sql in [
        "SELECT count(*) FROM datafusion.public.marks",
        "SELECT count(*) FROM sapa.base.marks",
    ] {
        assert!(ctx.sql(sql).await.is_err(), "{sql} must not plan");
    }
    let schemas = count(
        &ctx,
        "SELECT count(DISTINCT table_schema) FROM information_schema.tables",
    )
    .await;
    assert!(schemas <= 3, "public, pg_catalog, information_schema only");
}

#[tokio::test]
async fn the_catalog_of_a_scope_lists_the_sql_surface_and_cannot_change() {
    let factory = factory().await;
    let school = some_id("SELECT min(school_id) FROM schools").await;
    let ctx = session(&factory, Scope::School(school)).await;
    let relations = rows_of(
        &ctx,
        "SELECT c.relname, c.relkind FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
         WHERE n.nspname = 'public' ORDER BY c.relname",
    )
    .await;
    let expected: Vec<Vec<String>> = [
        ("calendar", "r"),
        ("classes", "r"),
        ("districts", "r"),
        ("enrollments", "r"),
        ("indicators", "v"),
        ("marks", "r"),
        ("marks_history", "r"),
        ("modo", "r"),
        ("regions", "r"),
        ("report_by_school", "v"),
        ("schools", "r"),
        ("student_status", "r"),
        ("subjects", "r"),
    ]
    .iter()
    .map(|(n, k)| vec![n.to_string(), k.to_string()])
    .collect();
    assert_eq!(relations, expected);
    // Even past the server's statement guard, the catalog refuses.
    for sql in [
        "CREATE VIEW leak AS SELECT 1",
        "CREATE TABLE leak AS SELECT 1",
        "CREATE SCHEMA leak",
        "DROP TABLE marks",
        "DROP VIEW indicators",
    ] {
        let planned = ctx.sql(sql).await;
        let err = match planned {
            Err(e) => e.to_string(),
            Ok(df) => df.collect().await.map(|_| ()).unwrap_err().to_string(),
        };
        assert!(
            err.contains("read-only") || err.contains("doesn't exist"),
            "{sql}: {err}"
        );
    }
    assert_eq!(
        rows_of(&ctx, "SELECT count(*) FROM indicators").await.len(),
        1
    );
    // Still the same tables, for this and any other session of the scope.
    let other = session(&factory, Scope::School(school)).await;
    assert_eq!(count(&other, "SELECT count(*) FROM marks").await, {
        full(&format!(
            "SELECT count(*) FROM marks WHERE school_id = {school}"
        ))
        .await
    });
}

#[tokio::test]
async fn researchers_see_pseudonyms_that_still_join_and_follow_students() {
    let factory = factory().await;
    let ctx = session(&factory, Scope::Researcher).await;
    let real = engine_rows("SELECT DISTINCT student_id FROM marks").await;
    let seen = rows_of(&ctx, "SELECT DISTINCT student_id FROM marks").await;
    assert_eq!(seen.len(), real.len(), "one pseudonym per student");
    let real: std::collections::HashSet<_> = real.into_iter().collect();
    assert!(
        seen.iter().all(|id| !real.contains(id)),
        "no real student id is shown"
    );
    // The same student has the same pseudonym in every table.
    for (scoped, by_hand) in [
        (
            "SELECT count(*) FROM marks m JOIN enrollments e \
             ON m.student_id = e.student_id AND m.class_id = e.class_id",
            "SELECT count(*) FROM marks m JOIN enrollments e \
             ON m.student_id = e.student_id AND m.class_id = e.class_id",
        ),
        (
            "SELECT count(*) FROM student_status a JOIN student_status b \
             ON a.student_id = b.student_id \
             WHERE a.period = 'Q1' AND b.period = 'Q2' AND a.academic_year = b.academic_year",
            "SELECT count(*) FROM student_status a JOIN student_status b \
             ON a.student_id = b.student_id \
             WHERE a.period = 'Q1' AND b.period = 'Q2' AND a.academic_year = b.academic_year",
        ),
    ] {
        assert_eq!(count(&ctx, scoped).await, full(by_hand).await, "{scoped}");
    }
    // The pseudonym function itself is out of reach.
    assert!(ctx.sql("SELECT sapa_pseudonym(1)").await.is_err());
}

#[tokio::test]
async fn a_scope_naming_a_unit_the_data_lacks_is_refused() {
    let factory = factory().await;
    let Err(err) = factory.scope(Scope::District(987_654)).await else {
        panic!("an unknown district must be refused");
    };
    assert!(err.to_string().contains("district:987654"), "{err}");
}

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

/// A server over the tiny data with one user per scope, all with the
/// password `pw`; returns its address and the scopes' units.
async fn start_with_users(users: &[(&str, Scope)]) -> std::net::SocketAddr {
    let mut text = String::new();
    for (name, scope) in users {
        let verifier = sapa::server::Verifier::new("pw", name.as_bytes(), 4096);
        text.push_str(&format!(
            "[[user]]\nname = \"{name}\"\nscope = \"{scope}\"\npassword = \"{verifier}\"\n\n"
        ));
    }
    let parsed = sapa::server::Users::parse(&text, std::path::Path::new("users.toml")).unwrap();
    start_with(ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        users: Some(Arc::new(parsed)),
        ..ServerOptions::default()
    })
    .await
}

#[tokio::test]
async fn over_the_wire_a_district_user_sees_its_district_through_every_path() {
    let district = some_id("SELECT max(district_id) FROM districts").await;
    let outside = some_id(&format!(
        "SELECT min(school_id) FROM schools WHERE district_id <> {district}"
    ))
    .await;
    let addr = start_with_users(&[("raion", Scope::District(district))]).await;
    let client = pw_login(addr, "raion").await;
    let who: String = client
        .query_one("SELECT current_user", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(who, "raion");
    let schools = format!("SELECT school_id FROM schools WHERE district_id = {district}");
    let none = "SELECT -1";
    for (relation, filter) in hand_filters(&schools, &format!("SELECT {district}"), none, false) {
        let expected = full(&format!("SELECT count(*) FROM {relation} WHERE {filter}")).await;
        let sql = format!("SELECT count(*) FROM {relation}");
        // Simple protocol …
        let rows = client.simple_query(&sql).await.unwrap();
        let simple: i64 = rows
            .iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(|v| v.parse().unwrap()),
                _ => None,
            })
            .unwrap();
        assert_eq!(simple, expected, "{relation} (simple)");
        // … a prepared statement …
        let stmt = client.prepare(&sql).await.unwrap();
        let prepared: i64 = client.query_one(&stmt, &[]).await.unwrap().get(0);
        assert_eq!(prepared, expected, "{relation} (prepared)");
    }
    // … with a parameter naming a school outside: nothing.
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM marks WHERE school_id = $1",
            &[&outside],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // … and a cursor.
    let expected = full(&format!(
        "SELECT count(*) FROM student_status WHERE school_id IN ({schools})"
    ))
    .await;
    client.batch_execute("BEGIN").await.unwrap();
    client
        .batch_execute("DECLARE c CURSOR FOR SELECT student_id FROM student_status")
        .await
        .unwrap();
    let fetched = client.simple_query("FETCH ALL FROM c").await.unwrap();
    let fetched = fetched
        .iter()
        .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
        .count() as i64;
    assert_eq!(fetched, expected, "cursor");
    client.batch_execute("CLOSE c; COMMIT").await.unwrap();
    // Its catalog lists the same thirteen relations, nothing more.
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 13);
}

/// A client logged in as `user` with the password all test users share.
async fn pw_login(addr: std::net::SocketAddr, user: &str) -> tokio_postgres::Client {
    log_in(addr, user, "pw").await.unwrap()
}

async fn count_of(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn over_the_wire_each_scope_sees_its_own_and_researchers_no_student_id() {
    let school = some_id("SELECT min(school_id) FROM schools").await;
    let region = some_id("SELECT min(region_id) FROM regions").await;
    let addr = start_with_users(&[
        ("maktab", Scope::School(school)),
        ("oblys", Scope::Region(region)),
        ("ministrlik", Scope::Ministry),
        ("zertteushi", Scope::Researcher),
    ])
    .await;
    let maktab = pw_login(addr, "maktab").await;
    assert_eq!(
        count_of(&maktab, "SELECT count(*) FROM marks").await,
        full(&format!(
            "SELECT count(*) FROM marks WHERE school_id = {school}"
        ))
        .await
    );
    assert_eq!(
        count_of(
            &maktab,
            "SELECT count(*) FROM indicators WHERE level <> 'school'"
        )
        .await,
        0
    );
    let oblys = pw_login(addr, "oblys").await;
    assert_eq!(
        count_of(&oblys, "SELECT count(*) FROM marks").await,
        full(&format!(
            "SELECT count(*) FROM marks WHERE region_id = {region}"
        ))
        .await
    );
    assert_eq!(
        count_of(
            &oblys,
            "SELECT count(*) FROM indicators WHERE level = 'country'"
        )
        .await,
        0
    );
    let ministrlik = pw_login(addr, "ministrlik").await;
    assert_eq!(
        count_of(&ministrlik, "SELECT count(*) FROM marks").await,
        full("SELECT count(*) FROM marks").await
    );
    let zertteushi = pw_login(addr, "zertteushi").await;
    let real: std::collections::HashSet<i64> = engine_rows("SELECT DISTINCT student_id FROM modo")
        .await
        .into_iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    let seen = zertteushi
        .query("SELECT DISTINCT student_id FROM modo", &[])
        .await
        .unwrap();
    assert_eq!(seen.len(), real.len());
    assert!(seen.iter().all(|r| !real.contains(&r.get::<_, i64>(0))));
}

#[tokio::test]
async fn a_users_file_naming_a_unit_the_data_lacks_stops_the_server() {
    let data = dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).unwrap())
        .await
        .unwrap();
    let verifier = sapa::server::Verifier::new("pw", b"salt-of-sixteen!", 4096);
    let text = format!(
        "[[user]]\nname = \"ghost\"\nscope = \"school:999999\"\npassword = \"{verifier}\"\n"
    );
    let users = sapa::server::Users::parse(&text, std::path::Path::new("users.toml")).unwrap();
    let Err(err) = sapa::server::Server::bind(
        engine,
        ServerOptions {
            listen: "127.0.0.1:0".to_string(),
            users: Some(Arc::new(users)),
            ..ServerOptions::default()
        },
    )
    .await
    else {
        panic!("the server must not start");
    };
    let message = err.to_string();
    assert!(
        message.contains("ghost") && message.contains("school:999999"),
        "{message}"
    );
}
