//! Snapshot schemas over the wire: scoped like the current relations,
//! read-only, listed by the catalogs psql reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sapa::engine::{Engine, Scope};
use sapa::server::{Server, ServerOptions};
use sapa::storage::{DataLocation, snapshot};
use sapa_datasets::csv_sink::CsvDirSink;
use sapa_datasets::generate::{GenerateOptions, Scale, generate};

use super::{opened, rows};
use crate::support::{log_in, sqlstate};

const S: &str = "snapshot_2024_10";

/// The generated tiny country, registered as `2024-10`, then changed by
/// a delta that turns one mark of `district` into a `2`. Returns the data
/// directory, the district and the changed mark's key as a SQL condition.
async fn registered_then_changed(root: &Path) -> (PathBuf, i64, String) {
    let csv = root.join("csv");
    let data = root.join("data");
    let mut sink = CsvDirSink::create(&csv).unwrap();
    let options = GenerateOptions {
        scale: Scale::Tiny,
        years: 2024..=2024,
        seed: 7,
    };
    generate(&options, &mut sink, &mut |_| {}).unwrap();
    sink.finish().unwrap();
    let loc = DataLocation::local(&data).unwrap();
    sapa::ingest::ingest_dir(&csv, &loc, &sapa::ingest::IngestOptions::default())
        .await
        .unwrap();
    snapshot::register(&loc, "2024-10", None).await.unwrap();

    let ctx = opened(&data).await;
    let district: i64 = rows(&ctx, "SELECT max(district_id) FROM districts").await[0]
        .parse()
        .unwrap();
    let mark = rows(
        &ctx,
        &format!(
            "SELECT student_id, class_id, subject_id, period FROM marks \
             WHERE district_id = {district} AND mark <> '2' AND period = 'Q1' \
             ORDER BY 1, 2, 3 LIMIT 1"
        ),
    )
    .await;
    let key: Vec<&str> = mark[0].split('|').collect();
    let delta = root.join("delta");
    std::fs::create_dir_all(&delta).unwrap();
    std::fs::write(
        delta.join("marks.csv"),
        format!(
            "student_id,class_id,subject_id,period,mark,recorded_at\n{},2,2025-06-30\n",
            key.join(",")
        ),
    )
    .unwrap();
    let report = sapa::ingest::ingest_dir(&delta, &loc, &sapa::ingest::IngestOptions::default())
        .await
        .unwrap();
    assert_eq!((report.version, report.marks_new), (2, 1));
    let condition = format!(
        "student_id = {} AND class_id = {} AND subject_id = {} AND period = '{}'",
        key[0], key[1], key[2], key[3]
    );
    (data, district, condition)
}

/// A server over `data`; with `users`, each has the password `pw`.
async fn serve(data: &Path, users: &[(&str, Scope)]) -> std::net::SocketAddr {
    let users = (!users.is_empty()).then(|| {
        let mut text = String::new();
        for (name, scope) in users {
            let verifier = sapa::server::Verifier::new("pw", name.as_bytes(), 4096);
            text.push_str(&format!(
                "[[user]]\nname = \"{name}\"\nscope = \"{scope}\"\npassword = \"{verifier}\"\n\n"
            ));
        }
        Arc::new(sapa::server::Users::parse(&text, Path::new("users.toml")).unwrap())
    });
    let engine = Engine::open(&DataLocation::local(data).unwrap())
        .await
        .unwrap();
    let server = Server::bind(
        engine,
        ServerOptions {
            listen: "127.0.0.1:0".to_string(),
            users,
            ..ServerOptions::default()
        },
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run());
    addr
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[tokio::test]
async fn a_district_user_sees_only_its_rows_of_a_snapshot_and_cannot_write_to_it() {
    let root = tempfile::tempdir().unwrap();
    let (data, district, changed) = registered_then_changed(root.path()).await;
    let full = opened(&data).await;
    let full_count = |sql: String| {
        let full = &full;
        async move { rows(full, &sql).await[0].parse::<i64>().unwrap() }
    };
    let addr = serve(
        &data,
        &[
            ("raion", Scope::District(district)),
            ("zertteushi", Scope::Researcher),
        ],
    )
    .await;
    let raion = log_in(addr, "raion", "pw").await.unwrap();

    let schools = format!("SELECT school_id FROM {S}.schools WHERE district_id = {district}");
    let in_district = format!("district_id = {district}");
    let in_schools = format!("school_id IN ({schools})");
    for (relation, filter) in [
        ("regions", "FALSE".to_string()),
        ("districts", in_district.clone()),
        ("schools", in_district.clone()),
        ("subjects", "TRUE".to_string()),
        ("calendar", "TRUE".to_string()),
        ("classes", in_schools.clone()),
        (
            "enrollments",
            format!("class_id IN (SELECT class_id FROM {S}.classes WHERE {in_schools})"),
        ),
        ("modo", in_schools.clone()),
        ("marks", in_district.clone()),
        ("marks_history", in_district.clone()),
        ("student_status", in_district.clone()),
        ("school_counts", in_district.clone()),
        ("earlier_statuses", in_district.clone()),
        ("report_by_school", in_district.clone()),
        (
            "indicators",
            format!(
                "(level = 'school' AND unit_id IN ({schools})) \
                 OR (level = 'district' AND unit_id = {district})"
            ),
        ),
    ] {
        let expected = full_count(format!(
            "SELECT count(*) FROM {S}.{relation} WHERE {filter}"
        ))
        .await;
        let got = count(&raion, &format!("SELECT count(*) FROM {S}.{relation}")).await;
        assert_eq!(got, expected, "{S}.{relation}");
        // The tiny data's MODO sample happens to lie in this district.
        if !matches!(relation, "regions" | "subjects" | "calendar" | "modo") {
            let all = full_count(format!("SELECT count(*) FROM {S}.{relation}")).await;
            assert!(0 < got && got < all, "{relation}: {got} of {all}");
        }
    }
    assert_eq!(
        count(
            &raion,
            &format!("SELECT count(*) FROM {S}.indicators WHERE level IN ('region', 'country')")
        )
        .await,
        0
    );
    // The delta changed the current marks only.
    let mark = |schema: &str| format!("SELECT mark FROM {schema}.marks WHERE {changed}");
    let old: String = raion.query_one(&mark(S), &[]).await.unwrap().get(0);
    let new: String = raion.query_one(&mark("public"), &[]).await.unwrap().get(0);
    assert_ne!(old, "2");
    assert_eq!(new, "2");
    assert_eq!(
        count(&raion, "SELECT count(*) FROM marks_history").await,
        count(&raion, &format!("SELECT count(*) FROM {S}.marks_history")).await + 1
    );

    for sql in [
        format!("CREATE TABLE {S}.x AS SELECT 1"),
        format!("CREATE VIEW {S}.v AS SELECT 1"),
        format!("INSERT INTO {S}.marks SELECT * FROM {S}.marks"),
        format!("DELETE FROM {S}.marks"),
        format!("DROP TABLE {S}.marks"),
        format!("DROP SCHEMA {S}"),
        "CREATE SCHEMA snapshot_2025_10".to_string(),
    ] {
        let err = raion.simple_query(&sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql}: {err}");
    }
    assert_eq!(
        count(
            &raion,
            &format!("SELECT count(*) FROM information_schema.tables WHERE table_schema = '{S}'")
        )
        .await,
        (sapa::storage::StoredTable::ALL
            .iter()
            .filter(|t| !t.internal())
            .count()
            + sapa::engine::views::VIEWS.len()) as i64
    );

    // A researcher reads pseudonyms there too, the same as in `public`.
    let zertteushi = log_in(addr, "zertteushi", "pw").await.unwrap();
    let some_id = rows(&full, &format!("SELECT min(student_id) FROM {S}.marks")).await;
    let by_id = format!(
        "SELECT count(*) FROM {S}.marks WHERE student_id = {}",
        some_id[0]
    );
    assert_eq!(count(&zertteushi, &by_id).await, 0);
    let joined = format!(
        "SELECT count(*) FROM {S}.marks s JOIN marks c \
         USING (student_id, class_id, subject_id, period)"
    );
    assert_eq!(
        count(&zertteushi, &joined).await,
        full_count(joined.clone()).await
    );
}

#[tokio::test]
async fn psql_lists_the_snapshot_schema_and_its_relations() {
    let root = tempfile::tempdir().unwrap();
    let (data, _, _) = registered_then_changed(root.path()).await;
    let addr = serve(&data, &[]).await;
    let psql = |command: String| async move {
        let args = command.clone();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("psql")
                .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
                .args(["-U", "sapa", "-d", "sapa", "-X", "-v", "ON_ERROR_STOP=1"])
                .args(["-c", &args])
                .env("PGCONNECT_TIMEOUT", "10")
                .output()
        })
        .await
        .unwrap()
        .expect("psql must be installed (tests/clients/install.sh)");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success() && !stderr.contains("ERROR"),
            "{command}: {stderr}"
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let schemas = psql("\\dn".into()).await;
    assert!(
        schemas.contains("public") && schemas.contains(S),
        "{schemas}"
    );
    let listed = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.split('|').next().map(str::trim) == Some(S))
            .filter_map(|l| l.split('|').nth(1).map(|n| n.trim().to_string()))
            .collect()
    };
    let tables = psql(format!("\\dt {S}.*")).await;
    let mut expected: Vec<&str> = sapa::storage::StoredTable::ALL
        .iter()
        .filter(|t| !t.internal())
        .map(|t| t.name())
        .collect();
    expected.sort_unstable();
    assert_eq!(listed(&tables), expected, "{tables}");
    let views = psql("\\dv snapshot_*.*".into()).await;
    let mut expected: Vec<&str> = sapa::engine::views::VIEWS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    expected.sort_unstable();
    assert_eq!(listed(&views), expected, "{views}");
    // `\dt` alone lists the search path's tables, not the snapshot's.
    let public = psql("\\dt".into()).await;
    assert!(!public.contains(S), "{public}");
    let described = psql(format!("\\d {S}.marks")).await;
    assert!(described.contains("recorded_at"), "{described}");
}
