//! Scopes over the wire: users of a users file, logged in with SCRAM,
//! each seeing only its scope through every path a client has.

use std::sync::Arc;

use sapa::engine::{Engine, Scope};
use sapa::server::ServerOptions;
use sapa::storage::DataLocation;

use super::{full, hand_filters, some_id};
use crate::support::{dataset, engine_rows, log_in, start_with};

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
    // Its catalog lists the same eighteen relations, nothing more.
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 18);
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

#[tokio::test]
async fn over_the_wire_the_as_of_functions_hold_the_scope() {
    let district = some_id("SELECT max(district_id) FROM districts").await;
    let addr = start_with_users(&[("raion", Scope::District(district))]).await;
    let client = pw_login(addr, "raion").await;
    // A date after every mark: the function is the view, as the user sees it.
    for (function, view) in [
        ("indicators_as_of('2100-01-01')", "indicators"),
        ("report_by_school_as_of('2100-01-01')", "report_by_school"),
        ("student_status_as_of('2100-01-01')", "student_status"),
    ] {
        let dated = count_of(&client, &format!("SELECT count(*) FROM {function}")).await;
        let seen = count_of(&client, &format!("SELECT count(*) FROM {view}")).await;
        assert_eq!(dated, seen, "{function}");
        assert!(dated > 0, "{function} is empty");
    }
    // The extended protocol with a bound parameter beside the function.
    let rows = client
        .query(
            "SELECT count(*) FROM indicators_as_of('2100-01-01') \
             WHERE level IN ('region', 'country') OR (level = 'district' AND unit_id <> $1)",
            &[&district],
        )
        .await
        .unwrap();
    let outside: i64 = rows[0].get(0);
    assert_eq!(outside, 0);
    let full_rows = full(&format!(
        "SELECT count(*) FROM indicators WHERE level = 'district' AND unit_id = {district}"
    ))
    .await;
    let own = count_of(
        &client,
        "SELECT count(*) FROM indicators_current('2100-01-01') WHERE level = 'district'",
    )
    .await;
    // The current period is one of the district's periods: one row.
    assert_eq!((own, full_rows > 0), (1, true));
}
