//! Registered snapshots (SPEC §6, seed 002 §10): `sapa snapshot register`
//! freezes a version under a name, later ingests never alter it, and every
//! relation of the SQL surface is served in its schema, scoped like the
//! current ones. The wire tests are in `registered_snapshots/wire.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod wire;

use std::path::Path;
use std::process::{Command, Output};

use crate::ingest_support::{committed, ingest, input_dir};
use datafusion::prelude::SessionContext;
use sapa::engine::Engine;
use sapa::engine::surface::SqlSurface;
use sapa::storage::{DataLocation, manifest, snapshot};

/// Runs the `sapa` binary.
fn sapa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sapa"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "sapa failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The current version with every snapshot schema, as `sapa query` opens it.
async fn opened(data: &Path) -> SessionContext {
    let loc = DataLocation::local(data).unwrap();
    let engine = Engine::open(&loc).await.unwrap();
    SqlSurface::open(&engine)
        .await
        .unwrap()
        .unscoped()
        .await
        .unwrap()
}

async fn rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
    crate::support::rows_of(ctx, sql)
        .await
        .into_iter()
        .map(|r| r.join("|"))
        .collect()
}

/// A later weekly delta: student 1's math Q1 mark, a 1, becomes a 3.
fn delta(root: &Path) -> std::path::PathBuf {
    let marks = "student_id,class_id,subject_id,period,mark,recorded_at\n\
                 1,1000,1,Q1,3,2024-10-27T12:00:00\n";
    input_dir(root, "delta", &[("marks.csv", marks.as_bytes().to_vec())])
}

const MARKS: &str = "SELECT * FROM {s}.marks ORDER BY student_id, class_id, subject_id, period";
const INDICATORS: &str =
    "SELECT * FROM {s}.indicators ORDER BY academic_year, period, level, unit_id";
const SCHOOL_Q1: &str = "SELECT n_total, n_exempt, n_low, n_excellent, n_good, n_ungraded \
                         FROM {s}.indicators WHERE level = 'school' AND unit_id = 100 \
                         AND academic_year = 2024 AND period = 'Q1'";

fn at(sql: &str, schema: &str) -> String {
    sql.replace("{s}", schema)
}

#[tokio::test]
async fn a_later_ingest_never_alters_a_registered_snapshot() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    let loc = DataLocation::local(&data).unwrap();
    let registered = snapshot::register(&loc, "2024-10", None).await.unwrap();
    assert_eq!(
        (registered.version, registered.schema.as_str()),
        (1, "snapshot_2024_10")
    );
    let ctx = opened(&data).await;
    let s = "snapshot_2024_10";
    let marks_before = rows(&ctx, &at(MARKS, s)).await;
    let indicators_before = rows(&ctx, &at(INDICATORS, s)).await;
    assert_eq!(marks_before.len(), 18);
    assert_eq!(marks_before, rows(&ctx, &at(MARKS, "public")).await);
    // Q1 of school 100 (parallel 5, active on 2024-10-25): students 1 and 2
    // low, 3 and 8 excellent, 6 good, 4 exempt, 5, 10 and 11 ungraded.
    assert_eq!(rows(&ctx, &at(SCHOOL_Q1, s)).await, ["9|1|2|2|1|3"]);

    let report = ingest(&delta(root.path()), &data).await.unwrap();
    assert_eq!((report.version, report.marks_new), (2, 1));

    let ctx = opened(&data).await;
    assert_eq!(rows(&ctx, &at(MARKS, s)).await, marks_before);
    assert_eq!(rows(&ctx, &at(INDICATORS, s)).await, indicators_before);
    // The current state moved on: student 1 (3 and 5) is satisfactory now.
    let current = rows(&ctx, &at(MARKS, "public")).await;
    assert_ne!(current, marks_before);
    let one =
        "SELECT mark FROM {s}.marks WHERE student_id = 1 AND subject_id = 1 AND period = 'Q1'";
    assert_eq!(rows(&ctx, &at(one, s)).await, ["1"]);
    assert_eq!(rows(&ctx, &at(one, "public")).await, ["3"]);
    assert_eq!(rows(&ctx, &at(SCHOOL_Q1, s)).await, ["9|1|2|2|1|3"]);
    assert_eq!(rows(&ctx, &at(SCHOOL_Q1, "public")).await, ["9|1|1|2|1|3"]);
    let history = "SELECT count(*) FROM {s}.marks_history";
    assert_eq!(rows(&ctx, &at(history, s)).await, ["21"]);
    assert_eq!(rows(&ctx, &at(history, "public")).await, ["22"]);

    // The snapshot's manifest and every file it names are still there.
    let m = manifest::read_manifest(&loc, 1).await.unwrap();
    assert!(data.join("_sapa/manifests/v000001.json").is_file());
    for path in m.all_paths() {
        assert!(data.join(path).is_file(), "{path} is gone");
    }
    // … and stay there through a failed ingest's clean-up.
    let bad = input_dir(
        root.path(),
        "bad",
        &[(
            "marks.csv",
            b"student_id,class_id,subject_id,period,mark,recorded_at\n1,1000,1,Q1,9,2024-11-01\n"
                .to_vec(),
        )],
    );
    assert!(ingest(&bad, &data).await.is_err());
    for path in m.all_paths() {
        assert!(data.join(path).is_file(), "{path} is gone");
    }
}

#[tokio::test]
async fn the_commands_register_refuse_list_and_pick_the_version_as_of() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path()).await;
    ingest(&delta(root.path()), &data).await.unwrap();
    // Two versions, committed (as the test pretends) on 5 and 20 October.
    for (version, at) in [
        (1, "2024-10-05T10:00:00+00:00"),
        (2, "2024-10-20T00:00:00+00:00"),
    ] {
        let path = data.join(format!("_sapa/manifests/v{version:06}.json"));
        let mut m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        m["created_at"] = at.into();
        std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    }
    let d = data.to_str().unwrap();
    let register = |name: &str, as_of: Option<&str>| {
        let mut args = vec!["snapshot", "register", "--data", d, "--name", name];
        if let Some(date) = as_of {
            args.extend(["--as-of", date]);
        }
        sapa(&args)
    };

    let out = stdout(&register("2024-10", None));
    assert!(
        out.contains("registered snapshot 2024-10") && out.contains("version 2"),
        "{out}"
    );
    assert!(out.contains("snapshot_2024_10.indicators"), "{out}");
    let record = data.join("_sapa/snapshots/snapshot_2024_10.json");
    let before = std::fs::read(&record).unwrap();
    for name in ["2024-10", "2024_10"] {
        let out = register(name, Some("2024-10-10"));
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("a snapshot \"2024-10\" (schema snapshot_2024_10, version 2"),
            "{err}"
        );
        assert!(err.contains("nothing changed"), "{err}");
    }
    assert_eq!(std::fs::read(&record).unwrap(), before);

    // The end of 19 October is before version 2; the end of 20 October
    // is after it; nothing was committed by the end of 4 October.
    let audit = root.path().join("audit.jsonl");
    let a = audit.to_str().unwrap();
    stdout(&sapa(&[
        "snapshot",
        "register",
        "--data",
        d,
        "--name",
        "early",
        "--as-of",
        "2024-10-19",
        "--log-file",
        a,
    ]));
    let logged: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&audit).unwrap().trim()).unwrap();
    assert_eq!(
        (
            &logged["event"],
            &logged["command"],
            &logged["snapshot"],
            &logged["version"]
        ),
        (
            &"commit".into(),
            &"snapshot register".into(),
            &"early".into(),
            &1.into()
        ),
        "{logged}"
    );
    assert_eq!(logged["rows"], 18);
    stdout(&register("Late-Oct", Some("2024-10-20")));
    let out = register("too-early", Some("2024-10-04"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no version of the dataset was current at the end of 2024-10-04"),
        "{err}"
    );
    let out = register("bad name", None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"bad name\" is not valid"));
    let out = register("x", Some("2024-13-01"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--as-of"));
    assert!(
        !data
            .join("_sapa/snapshots/snapshot_too_early.json")
            .exists()
    );

    let listed = stdout(&sapa(&["snapshot", "list", "--data", d, "--format", "csv"]));
    let lines: Vec<Vec<&str>> = listed.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        lines[0],
        [
            "name",
            "schema",
            "version",
            "created_at",
            "as_of",
            "registered_at",
            "marks"
        ]
    );
    let short: Vec<String> = lines[1..]
        .iter()
        .map(|l| format!("{} {} {} {} {} {}", l[0], l[1], l[2], l[3], l[4], l[6]))
        .collect();
    assert_eq!(
        short,
        [
            "2024-10 snapshot_2024_10 2 2024-10-20T00:00:00+00:00  18",
            "early snapshot_early 1 2024-10-05T10:00:00+00:00 2024-10-19 18",
            "Late-Oct snapshot_late_oct 2 2024-10-20T00:00:00+00:00 2024-10-20 18",
        ]
    );
    let none = root.path().join("none");
    let out = sapa(&["snapshot", "list", "--data", none.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no Sapa dataset at"),
        "{out:?}"
    );
    let table = stdout(&sapa(&["snapshot", "list", "--data", d]));
    assert!(
        table.contains("snapshot_late_oct") && table.ends_with("(3 rows)\n"),
        "{table}"
    );

    // `sapa query` sees each schema at its own version.
    let q = |schema: &str| {
        stdout(&sapa(&[
            "query",
            "--data",
            d,
            "--format",
            "csv",
            &format!(
                "SELECT mark FROM {schema}.marks WHERE student_id = 1 AND subject_id = 1 AND period = 'Q1'"
            ),
        ]))
    };
    assert_eq!(q("snapshot_early"), "mark\n1\n");
    assert_eq!(q("snapshot_late_oct"), "mark\n3\n");
    assert_eq!(q("snapshot_2024_10"), "mark\n3\n");
}
