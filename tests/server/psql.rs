//! Real psql against the server: its meta-commands run the catalog queries
//! psql really sends (`.ci/run` installs postgresql-client).

use std::process::Command;

use crate::support::{engine_rows, start};

/// Runs psql with `args` against `addr`; returns stdout, failing the test
/// with psql's stderr when psql fails.
async fn psql(addr: std::net::SocketAddr, args: Vec<String>) -> String {
    let shown = args.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("psql")
            .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
            .args(["-U", "sapa", "-d", "sapa", "-X", "-v", "ON_ERROR_STOP=1"])
            .args(&args)
            .env("PGCONNECT_TIMEOUT", "10")
            .env_remove("PGPASSWORD")
            .output()
    })
    .await
    .unwrap()
    .expect("psql must be installed (apt-get install postgresql-client; .ci/run does)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "psql {shown:?} failed:\n{stderr}\n{stdout}"
    );
    assert!(
        !stderr.contains("ERROR"),
        "psql printed an error:\n{stderr}"
    );
    stdout
}

fn c(command: &str) -> Vec<String> {
    vec!["-c".to_string(), command.to_string()]
}

#[tokio::test]
async fn psql_meta_commands_list_the_sql_surface() {
    let addr = start().await;
    let list = psql(addr, c("\\l")).await;
    assert!(list.contains("sapa"), "{list}");
    let schemas = psql(addr, c("\\dn")).await;
    assert!(schemas.contains("public"), "{schemas}");
    let tables = psql(addr, c("\\dt")).await;
    for table in [
        "regions",
        "districts",
        "schools",
        "subjects",
        "calendar",
        "classes",
        "enrollments",
        "marks",
        "marks_history",
        "modo",
        "student_status",
        "school_counts",
        "earlier_statuses",
    ] {
        assert!(
            tables
                .lines()
                .any(|l| l.split('|').nth(1).map(str::trim) == Some(table)),
            "\\dt lacks {table}:\n{tables}"
        );
    }
    // Only the search path's tables: none of information_schema's.
    assert!(tables.contains("(13 rows)"), "{tables}");
    let views = psql(addr, c("\\dv")).await;
    for view in [
        "report_by_school",
        "indicators",
        "modo_results",
        "modo_inflation",
    ] {
        assert!(views.contains(view), "\\dv lacks {view}:\n{views}");
    }
    let described = psql(addr, c("\\d schools")).await;
    for column in ["school_id", "district_id", "name_kk", "name_ru", "locality"] {
        assert!(
            described.contains(column),
            "\\d schools lacks {column}:\n{described}"
        );
    }
    assert!(described.contains("bigint"), "{described}");
    // Its primary key, as psql prints a table's indexes.
    assert!(
        described.contains("Indexes:\n    \"schools_pkey\" PRIMARY KEY, btree (school_id)"),
        "{described}"
    );
    let calendar = psql(addr, c("\\d calendar")).await;
    assert!(
        calendar.contains("\"calendar_pkey\" PRIMARY KEY, btree (academic_year, period)"),
        "{calendar}"
    );
    // A view has no index.
    let view = psql(addr, c("\\d indicators")).await;
    assert!(!view.contains("Indexes:"), "{view}");
    let detailed = psql(addr, c("\\d+ schools")).await;
    assert!(detailed.contains("Storage"), "{detailed}");
    assert!(
        detailed
            .lines()
            .any(|l| l.trim_start().starts_with("school_id") && l.contains("bigint")),
        "\\d+ schools lacks school_id:\n{detailed}"
    );
    let conninfo = psql(addr, c("\\conninfo")).await;
    assert!(conninfo.contains("\"sapa\""), "{conninfo}");
}

#[tokio::test]
async fn psql_copy_writes_the_query_result_to_a_client_file() {
    let addr = start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("regions.csv");
    let command = format!(
        "\\copy (SELECT region_id, name_kk, name_ru FROM regions ORDER BY region_id) to '{}' csv header",
        file.display()
    );
    psql(addr, c(&command)).await;
    let written = std::fs::read_to_string(&file).unwrap();
    let mut expected = String::from("region_id,name_kk,name_ru\n");
    for row in
        engine_rows("SELECT region_id, name_kk, name_ru FROM regions ORDER BY region_id").await
    {
        let quoted: Vec<String> = row
            .iter()
            .map(|v| {
                if v.contains(',') || v.contains('"') {
                    format!("\"{}\"", v.replace('"', "\"\""))
                } else {
                    v.clone()
                }
            })
            .collect();
        expected.push_str(&quoted.join(","));
        expected.push('\n');
    }
    assert_eq!(written, expected);
}

#[tokio::test]
async fn psql_runs_a_query_and_shows_an_error_with_its_sqlstate() {
    let addr = start().await;
    let out = psql(
        addr,
        vec![
            "-A".into(),
            "-t".into(),
            "-c".into(),
            "SELECT count(*) FROM report_by_school".into(),
        ],
    )
    .await;
    let expected = &engine_rows("SELECT count(*) FROM report_by_school").await[0][0];
    assert_eq!(out.trim(), expected);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("psql")
            .args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
            .args(["-U", "sapa", "-d", "sapa", "-X", "-v", "VERBOSITY=verbose"])
            .args(["-c", "SELECT * FROM no_such_table"])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("42P01"), "{stderr}");
}

/// What `\df` shows as the result of the set-returning `modo_draw`.
const MODO_DRAW_RESULT: &str = "TABLE(academic_year integer, school_id bigint, district_id bigint, \
     region_id bigint, cluster_key text, locality text, language text, school_type text, \
     internet_mbps double precision, students bigint, students_4_9 bigint, cluster_schools bigint, \
     cluster_quota bigint, rank_in_cluster bigint, draw_key bigint)";

/// The rows of psql's `\df` output: `(schema, name, result, arguments, type)`.
fn function_rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| {
            l.split('|')
                .map(|f| f.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|fields| fields.len() == 5 && fields[0] == "public")
        .collect()
}

#[tokio::test]
async fn psql_df_lists_sapa_functions() {
    let addr = start().await;
    let all = psql(addr, c("\\df")).await;
    let expected = [
        ["public", "annual_mark", "text", "text, text", "func"],
        [
            "public",
            "indicator_band",
            "text",
            "text, text, bigint, bigint",
            "func",
        ],
        [
            "public",
            "indicator_band",
            "text",
            "text, text, double precision",
            "func",
        ],
        ["public", "indicators_as_of", "SETOF record", "date", "func"],
        [
            "public",
            "indicators_current",
            "SETOF record",
            "date",
            "func",
        ],
        ["public", "mark_class", "text", "text", "func"],
        [
            "public",
            "modo_band",
            "text",
            "double precision, double precision",
            "func",
        ],
        [
            "public",
            "modo_cluster",
            "text",
            "text, text, text, bigint",
            "func",
        ],
        [
            "public",
            "modo_draw",
            MODO_DRAW_RESULT,
            "bigint, bigint",
            "func",
        ],
        [
            "public",
            "modo_draw",
            MODO_DRAW_RESULT,
            "bigint, bigint, bigint",
            "func",
        ],
        [
            "public",
            "modo_draw_key",
            "bigint",
            "bigint, bigint",
            "func",
        ],
        [
            "public",
            "modo_exclusion",
            "text",
            "text, bigint, double precision",
            "func",
        ],
        [
            "public",
            "modo_exclusion",
            "text",
            "text, bigint, double precision, bigint",
            "func",
        ],
        ["public", "modo_quota", "bigint", "bigint", "func"],
        ["public", "normalize_mark", "text", "text", "func"],
        ["public", "publication_sunday", "date", "date", "func"],
        [
            "public",
            "report_by_school_as_of",
            "SETOF record",
            "date",
            "func",
        ],
        ["public", "student_status", "text", "text", "agg"],
        [
            "public",
            "student_status_as_of",
            "SETOF record",
            "date",
            "func",
        ],
        ["public", "update_sunday", "date", "date", "func"],
    ];
    assert_eq!(function_rows(&all), expected, "{all}");
    assert!(all.contains(&format!("({} rows)", expected.len())), "{all}");
    let one = psql(addr, c("\\df mark_class")).await;
    assert_eq!(
        function_rows(&one),
        [["public", "mark_class", "text", "text", "func"]],
        "{one}"
    );
    assert!(one.contains("(1 row)"), "{one}");
}
