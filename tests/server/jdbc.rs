//! Real pgjdbc (Debian's libpostgresql-jdbc-java) replaying Metabase's
//! connection, sync and questions: `tests/clients/MetabaseSync.java`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::{engine_rows, start};

const PGJDBC: &str = "/usr/share/java/postgresql.jar";

/// Compiles and runs the Java program; returns its `key=value` lines
/// (repeated keys keep every value, in order).
async fn run_metabase_sync(addr: std::net::SocketAddr) -> BTreeMap<String, Vec<String>> {
    let classes = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/MetabaseSync.java");
    let out_dir = classes.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        let javac = Command::new("javac")
            .args(["-d", out_dir.to_str().unwrap(), "-cp", PGJDBC])
            .arg(&source)
            .output()
            .expect("javac must be installed (tests/clients/install.sh installs it)");
        assert!(
            javac.status.success(),
            "javac failed: {}",
            String::from_utf8_lossy(&javac.stderr)
        );
        Command::new("java")
            .args(["-cp", &format!("{PGJDBC}:{}", out_dir.display())])
            .args([
                "MetabaseSync",
                &addr.ip().to_string(),
                &addr.port().to_string(),
            ])
            .output()
            .expect("java")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the Metabase replay failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in stdout.lines() {
        if let Some((k, v)) = line.split_once('=') {
            found.entry(k.to_string()).or_default().push(v.to_string());
        }
    }
    found
}

fn one<'a>(found: &'a BTreeMap<String, Vec<String>>, key: &str) -> &'a str {
    found
        .get(key)
        .and_then(|v| v.first())
        .unwrap_or_else(|| panic!("no {key} in {found:#?}"))
}

#[tokio::test]
async fn pgjdbc_replays_metabase_connection_sync_and_questions() {
    let addr = start().await;
    let found = run_metabase_sync(addr).await;

    assert!(
        one(&found, "product").starts_with("PostgreSQL 16.6"),
        "{found:?}"
    );
    // Metabase's describe-database lists the 13 tables and 5 views.
    let listed = found.get("sync.6.row").cloned().unwrap_or_default();
    for name in [
        "marks",
        "schools",
        "student_status",
        "indicators",
        "report_by_school",
    ] {
        assert!(
            listed.iter().any(|r| r.split('|').nth(1) == Some(name)),
            "describe-database lacks {name}: {listed:?}"
        );
    }
    assert!(
        listed
            .iter()
            .any(|r| r.starts_with("public|indicators|VIEW")),
        "{listed:?}"
    );
    assert!(
        listed.iter().any(|r| r.starts_with("public|marks|TABLE")),
        "{listed:?}"
    );
    // Its describe-fields gives PostgreSQL type names from udt_name.
    let fields = found.get("sync.7.row").cloned().unwrap_or_default();
    assert!(
        fields
            .iter()
            .any(|r| r.starts_with("school_id|int8|0|public|schools|")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|r| r.starts_with("name_kk|text|")),
        "{fields:?}"
    );

    assert_eq!(
        one(&found, "schemas"),
        "[information_schema, pg_catalog, public]"
    );
    let tables = one(&found, "tables");
    for t in [
        "regions",
        "districts",
        "schools",
        "marks",
        "marks_history",
        "student_status",
    ] {
        assert!(tables.contains(t), "getTables lacks {t}: {tables}");
    }
    assert_eq!(
        one(&found, "views"),
        "[indicators, mark_audit, modo_inflation, modo_results, report_by_school]"
    );
    let columns = one(&found, "columns.schools");
    assert!(
        columns.starts_with("[school_id:int8, district_id:int8, name_kk:text"),
        "{columns}"
    );

    // The declared keys, through pgjdbc's DatabaseMetaData.
    assert_eq!(
        one(&found, "pk.schools"),
        "[schools:school_id:1:schools_pkey]"
    );
    assert_eq!(
        one(&found, "pk.calendar"),
        "[calendar:academic_year:1:calendar_pkey, calendar:period:2:calendar_pkey]"
    );
    assert_eq!(
        one(&found, "pk.marks"),
        "[marks:student_id:1:marks_pkey, marks:class_id:2:marks_pkey, \
         marks:subject_id:3:marks_pkey, marks:period:4:marks_pkey]"
    );
    assert_eq!(one(&found, "pk.indicators"), "[]");
    // UPDATE_RULE and DELETE_RULE 3: importedKeyNoAction.
    assert_eq!(
        one(&found, "imported.schools"),
        "[schools:district_id:districts:district_id:1:schools_district_id_fkey:districts_pkey:3:3]"
    );
    assert_eq!(
        one(&found, "imported.marks"),
        "[marks:class_id:classes:class_id:1:marks_class_id_fkey:classes_pkey:3:3, \
         marks:district_id:districts:district_id:1:marks_district_id_fkey:districts_pkey:3:3, \
         marks:region_id:regions:region_id:1:marks_region_id_fkey:regions_pkey:3:3, \
         marks:school_id:schools:school_id:1:marks_school_id_fkey:schools_pkey:3:3, \
         marks:subject_id:subjects:subject_id:1:marks_subject_id_fkey:subjects_pkey:3:3]"
    );
    assert_eq!(
        one(&found, "exported.regions"),
        "[districts:region_id:regions:region_id:1:districts_region_id_fkey:regions_pkey:3:3, \
         marks:region_id:regions:region_id:1:marks_region_id_fkey:regions_pkey:3:3, \
         marks_history:region_id:regions:region_id:1:marks_history_region_id_fkey:regions_pkey:3:3]"
    );
    assert_eq!(
        one(&found, "indexes.schools"),
        "[schools:f:schools_pkey:1:school_id:A]"
    );
    assert_eq!(
        one(&found, "indexes.calendar"),
        "[calendar:f:calendar_pkey:1:academic_year:A, calendar:f:calendar_pkey:2:period:A]"
    );

    // Metabase's field sync marks exactly the primary-key columns `pk?`.
    let mut keyed: Vec<String> = fields
        .iter()
        .filter(|r| r.split('|').nth(5) == Some("t"))
        .map(|r| {
            let cells: Vec<&str> = r.split('|').collect();
            format!("{}.{}", cells[4], cells[0])
        })
        .collect();
    keyed.sort();
    let mut expected_pk = vec![
        "calendar.academic_year",
        "calendar.period",
        "classes.class_id",
        "districts.district_id",
        "enrollments.active_from",
        "enrollments.class_id",
        "enrollments.student_id",
        "marks.class_id",
        "marks.period",
        "marks.student_id",
        "marks.subject_id",
        "marks_history.class_id",
        "marks_history.period",
        "marks_history.recorded_at",
        "marks_history.student_id",
        "marks_history.subject_id",
        "modo.academic_year",
        "modo.domain",
        "modo.student_id",
        "regions.region_id",
        "schools.school_id",
        "subjects.subject_id",
    ];
    expected_pk.sort();
    assert_eq!(keyed, expected_pk);
    // Its foreign-key sync finds every declared foreign key, once.
    let mut fks = found.get("sync.8.row").cloned().unwrap_or_default();
    fks.sort();
    let mut expected_fks: Vec<String> = [
        "classes|school_id|schools|school_id",
        "districts|region_id|regions|region_id",
        "enrollments|class_id|classes|class_id",
        "marks|class_id|classes|class_id",
        "marks|district_id|districts|district_id",
        "marks|region_id|regions|region_id",
        "marks|school_id|schools|school_id",
        "marks|subject_id|subjects|subject_id",
        "marks_history|class_id|classes|class_id",
        "marks_history|district_id|districts|district_id",
        "marks_history|region_id|regions|region_id",
        "marks_history|school_id|schools|school_id",
        "marks_history|subject_id|subjects|subject_id",
        "modo|school_id|schools|school_id",
        "schools|district_id|districts|district_id",
    ]
    .iter()
    .map(|r| {
        let c: Vec<&str> = r.split('|').collect();
        format!("public|{}|{}|public|{}|{}", c[0], c[1], c[2], c[3])
    })
    .collect();
    expected_fks.sort();
    assert_eq!(fks, expected_fks);

    // Seven runs of one prepared question, all equal to the engine's answer.
    let expected = &engine_rows(
        "SELECT count(*), sum(students), max(quality_pct) FROM report_by_school \
         WHERE academic_year = 2024 AND period = 'Q1'",
    )
    .await[0];
    let runs: Vec<&str> = one(&found, "prepared.runs").split(',').collect();
    assert_eq!(runs.len(), 7);
    for run in &runs {
        let parts: Vec<&str> = run.split('/').collect();
        assert_eq!(parts[0], expected[0], "{run}");
        assert_eq!(parts[1], expected[1], "{run}");
        let q: f64 = parts[2].parse().unwrap();
        let e: f64 = expected[2].parse().unwrap();
        assert!((q - e).abs() < 1e-9, "{run} vs {expected:?}");
    }
    let all =
        &engine_rows("SELECT count(*) FROM student_status WHERE academic_year = 2024").await[0][0];
    assert_eq!(one(&found, "fetch.rows"), all);
    assert_eq!(one(&found, "maxrows.rows"), "3");
    assert_eq!(one(&found, "error.sqlstate"), "42P01");
    assert_eq!(one(&found, "after_error"), "1");
}
