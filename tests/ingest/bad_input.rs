//! Bad input as a new user meets it (SPEC §10), through the real `sapa
//! ingest` binary: a missing, empty or headless file, a missing column, a
//! row naming what is neither stored nor in the input, a calendar that
//! contradicts itself. Each is refused with a non-zero exit code and a
//! message naming the file (and the line), and leaves `_sapa/CURRENT` and
//! every answer exactly as they were.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::ingest_support::{input_dir, valid_files};

fn sapa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sapa"))
        .args(args)
        .output()
        .unwrap()
}

fn ingest(input: &Path, data: &Path) -> Output {
    sapa(&[
        "ingest",
        input.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--quiet",
    ])
}

/// The valid files, `changes` applied: `(file, Some(text))` replaces or
/// adds a file, `(file, None)` leaves it out.
fn files(changes: &[(&str, Option<&str>)]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = valid_files()
        .into_iter()
        .filter(|(n, _)| !changes.iter().any(|(c, _)| c == n))
        .map(|(n, s)| (n, s.into_bytes()))
        .collect();
    for (name, text) in changes {
        if let Some(text) = text {
            let name: &'static str = Box::leak(name.to_string().into_boxed_str());
            out.push((name, text.as_bytes().to_vec()));
        }
    }
    out
}

/// Runs an ingest that must fail; returns its stderr.
fn refused(input: &Path, data: &Path) -> String {
    let out = ingest(input, data);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "accepted: {stderr}");
    stderr
}

/// A first ingest of the valid files with `changes` must be refused and
/// leave no dataset; returns its stderr.
fn first_refused(changes: &[(&str, Option<&str>)]) -> String {
    let root = tempfile::tempdir().unwrap();
    let input = input_dir(root.path(), "in", &files(changes));
    let data = root.path().join("data");
    let stderr = refused(&input, &data);
    assert!(!data.join("_sapa/CURRENT").exists(), "{stderr}");
    stderr
}

/// What must not change: the pointer and a query over every stored table.
fn state(data: &Path) -> (Vec<u8>, String) {
    let current = std::fs::read(data.join("_sapa/CURRENT")).unwrap();
    let out = sapa(&[
        "query",
        "--data",
        data.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT (SELECT count(*) FROM marks_history) AS h, (SELECT count(*) FROM classes) AS c, \
         (SELECT count(*) FROM districts) AS d, (SELECT max(end_date) FROM calendar) AS e, \
         (SELECT count(*) FROM student_status) AS s",
    ]);
    assert!(out.status.success());
    (current, String::from_utf8(out.stdout).unwrap())
}

/// A data directory holding the valid dataset, committed by the binary.
fn committed(root: &Path) -> PathBuf {
    let input = input_dir(root, "valid", &files(&[]));
    let data = root.join("data");
    let out = ingest(&input, &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

/// A delta of `delta` files into the valid dataset must be refused and
/// change nothing; returns its stderr.
fn delta_refused(delta: &[(&str, &str)]) -> String {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path());
    let before = state(&data);
    let delta: Vec<(&str, Vec<u8>)> = delta
        .iter()
        .map(|(n, t)| (*n, t.as_bytes().to_vec()))
        .collect();
    let input = input_dir(root.path(), "delta", &delta);
    let stderr = refused(&input, &data);
    assert_eq!(state(&data), before, "{stderr}");
    stderr
}

#[test]
fn a_first_ingest_without_a_required_file_names_it_and_only_it() {
    let stderr = first_refused(&[("schools.csv", None)]);
    assert!(
        stderr.contains("1 error\n  schools.csv: required file missing"),
        "{stderr}"
    );
    // Not buried under the classes that name the missing schools.
    assert!(!stderr.contains("classes.csv line"), "{stderr}");
    let stderr = first_refused(&[("enrollments.csv", None), ("regions.csv", None)]);
    assert!(stderr.contains("2 errors"), "{stderr}");
    assert!(
        stderr.contains("regions.csv: required file missing"),
        "{stderr}"
    );
    assert!(
        stderr.contains("enrollments.csv: required file missing"),
        "{stderr}"
    );
    // modo.csv alone may be left out.
    let root = tempfile::tempdir().unwrap();
    let input = input_dir(root.path(), "in", &files(&[]));
    assert!(ingest(&input, &root.path().join("data")).status.success());
}

#[test]
fn a_first_ingest_of_headers_without_rows_is_refused() {
    // It used to commit an empty version 1, after which every later
    // ingest counted as a delta and could leave out any file.
    let headers: Vec<(String, Option<String>)> = valid_files()
        .into_iter()
        .map(|(n, text)| {
            let header = text.lines().next().unwrap().to_string() + "\n";
            (n.to_string(), Some(header))
        })
        .collect();
    let changes: Vec<(&str, Option<&str>)> = headers
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_deref()))
        .collect();
    let stderr = first_refused(&changes);
    for (file, _) in valid_files() {
        assert!(
            stderr.contains(&format!("{file}: the file has a header but no rows")),
            "{file}: {stderr}"
        );
    }
    let stderr = first_refused(&[(
        "schools.csv",
        Some("school_id,district_id,name_kk,name_ru,locality,language,school_type,internet_mbps\n"),
    )]);
    assert!(
        stderr.contains("schools.csv: the file has a header but no rows"),
        "{stderr}"
    );
}

#[test]
fn a_file_without_a_header_or_a_column_is_named_without_its_consequences() {
    let stderr = first_refused(&[("schools.csv", Some(""))]);
    assert!(
        stderr.contains("schools.csv: the file is empty (no header row)"),
        "{stderr}"
    );
    assert!(!stderr.contains("classes.csv line"), "{stderr}");
    let stderr = first_refused(&[(
        "schools.csv",
        Some(
            "school_id,district_id,name_kk,name_ru,language,school_type,internet_mbps\n100,10,a,b,kk,general,\n",
        ),
    )]);
    assert!(
        stderr.contains(
            r#"schools.csv line 1, column locality: required column "locality" is missing from the header"#
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("classes.csv line"), "{stderr}");
    // In a delta too.
    let stderr = delta_refused(&[(
        "classes.csv",
        "class_id,school_id,academic_year,parallel,letter,journal_type\n1000,100,2024,5,А,criterial\n",
    )]);
    assert!(
        stderr.contains(r#"classes.csv line 1, column period_type: required column"#),
        "{stderr}"
    );
}

#[test]
fn a_delta_naming_what_is_neither_stored_nor_given_is_refused() {
    let stderr = delta_refused(&[(
        "marks.csv",
        "student_id,class_id,subject_id,period,mark,recorded_at\n1,4242,1,Q1,5,2024-10-20\n",
    )]);
    assert!(
        stderr.contains(
            r#"marks.csv line 2, column class_id, value "4242": no row of classes has class_id 4242"#
        ),
        "{stderr}"
    );
    let stderr = delta_refused(&[(
        "districts.csv",
        "district_id,region_id,name_kk,name_ru\n11,9,Алатау,Алатау\n",
    )]);
    assert!(
        stderr.contains(
            r#"districts.csv line 2, column region_id, value "9": no row of regions has region_id 9"#
        ),
        "{stderr}"
    );
    // A class of a year the calendar does not hold.
    let stderr = delta_refused(&[(
        "classes.csv",
        "class_id,school_id,academic_year,parallel,letter,journal_type,period_type\n\
         2000,100,2030,5,А,criterial,quarter\n",
    )]);
    assert!(
        stderr.contains(
            r#"classes.csv line 2, column academic_year, value "2030": no row of calendar has academic_year 2030"#
        ),
        "{stderr}"
    );
    // Marks of a period the calendar does not hold (2025 has only Q1):
    // they have no end date and would count nowhere.
    let stderr = delta_refused(&[
        (
            "calendar.csv",
            "academic_year,period,start_date,end_date\n2025,Q1,2025-09-01,2025-10-24\n",
        ),
        (
            "classes.csv",
            "class_id,school_id,academic_year,parallel,letter,journal_type,period_type\n\
             2000,100,2025,6,А,criterial,quarter\n",
        ),
        (
            "enrollments.csv",
            "student_id,class_id,active_from,active_to\n1,2000,2025-09-01,\n",
        ),
        (
            "marks.csv",
            "student_id,class_id,subject_id,period,mark,recorded_at\n\
             1,2000,1,Q1,5,2025-10-20\n1,2000,1,Q2,5,2025-12-20\n1,2000,1,FINAL,5,2026-05-20\n",
        ),
    ]);
    assert!(stderr.contains("2 errors"), "{stderr}");
    assert!(
        stderr.contains(r#"marks.csv line 3, column period, value "Q2": no row of calendar has academic_year 2025, period Q2"#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"marks.csv line 4, column period, value "FINAL": no row of calendar has academic_year 2025, period Q4"#),
        "{stderr}"
    );
}

#[test]
fn a_calendar_that_contradicts_itself_is_refused() {
    // Q2 moved to start before the stored Q1 ends.
    let stderr = delta_refused(&[(
        "calendar.csv",
        "academic_year,period,start_date,end_date\n2024,Q2,2024-10-20,2024-12-27\n",
    )]);
    assert!(
        stderr.contains(
            r#"calendar.csv line 2, column start_date, value "2024-10-20": 2024 Q2 starts on 2024-10-20, not after Q1 ends (2024-10-25)"#
        ),
        "{stderr}"
    );
    // A quarter dated in another academic year (a typo of the year).
    let stderr = delta_refused(&[(
        "calendar.csv",
        "academic_year,period,start_date,end_date\n2024,Q3,2026-01-08,2026-03-19\n",
    )]);
    assert!(
        stderr.contains("calendar.csv line 2, column start_date, end_date, value \"2026-01-08 – 2026-03-19\": 2024 Q3 lies outside academic year 2024–2025"),
        "{stderr}"
    );
    // A quarter ending before it starts (a row check).
    let stderr = delta_refused(&[(
        "calendar.csv",
        "academic_year,period,start_date,end_date\n2024,Q1,2024-10-25,2024-09-02\n",
    )]);
    assert!(
        stderr.contains("calendar.csv line 2, column end_date"),
        "{stderr}"
    );
}

#[test]
fn what_a_delta_may_do_is_accepted_and_said() {
    let root = tempfile::tempdir().unwrap();
    let data = committed(root.path());
    let before = state(&data);
    // A header without rows: nothing to merge, nothing committed.
    let input = input_dir(
        root.path(),
        "empty",
        &[("regions.csv", b"region_id,name_kk,name_ru\n".to_vec())],
    );
    let out = ingest(&input, &data);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("regions.csv: a header and no rows, nothing of regions to merge"),
        "{stderr}"
    );
    assert_eq!(state(&data), before);
    // A corrected quarter end: accepted (a new version), with a warning.
    let input = input_dir(
        root.path(),
        "moved",
        &[(
            "calendar.csv",
            b"academic_year,period,start_date,end_date\n2024,Q4,2025-03-31,2025-05-30\n".to_vec(),
        )],
    );
    let out = ingest(&input, &data);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "calendar.csv line 2: 2024 Q4 changes from 2025-03-31 – 2025-05-25 to 2025-03-31 – 2025-05-30"
        ),
        "{stderr}"
    );
    let after = state(&data);
    assert_ne!(after.0, before.0, "a new version");
    assert!(after.1.contains("2025-05-30"), "{}", after.1);
}

/// With `--log-file` (or `SAPA_LOG_FILE`) an ingest leaves an audit line:
/// a commit with its version, rows and who ran it, or a refusal with the
/// reason that names the file.
#[test]
fn ingests_are_logged_as_commits_or_refusals() {
    let root = tempfile::tempdir().unwrap();
    let log = root.path().join("audit.jsonl");
    let input = input_dir(root.path(), "valid", &files(&[]));
    let data = root.path().join("data");
    let logged = |input: &Path| {
        Command::new(env!("CARGO_BIN_EXE_sapa"))
            .args(["ingest", input.to_str().unwrap(), "--quiet"])
            .args(["--data", data.to_str().unwrap()])
            .env("SAPA_LOG_FILE", &log)
            .env("USER", "operator-7")
            .output()
            .unwrap()
    };
    assert!(logged(&input).status.success());
    let bad = input_dir(
        root.path(),
        "bad",
        &[("schools.csv", b"school_id\n".to_vec())],
    );
    assert!(!logged(&bad).status.success());
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    let (commit, refusal) = (&events[0], &events[1]);
    assert_eq!(commit["event"], "commit");
    assert_eq!(commit["command"], "ingest");
    assert_eq!(commit["os_user"], "operator-7");
    assert_eq!(commit["version"], 1);
    assert!(commit["rows"].as_u64().unwrap() > 0, "{commit}");
    assert_eq!(refusal["event"], "commit_refused");
    assert!(
        refusal["reason"].as_str().unwrap().contains("schools.csv"),
        "{refusal}"
    );
}
