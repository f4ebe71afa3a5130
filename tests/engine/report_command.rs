//! `sapa report` end to end on a generated tiny dataset: the workbook is
//! opened with calamine and its cells checked against the CSV output and
//! against figures summed here, independently, from `report_by_school`.

// Test helpers unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod charts;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::support::{YEAR, data, parse_csv, query_csv, sapa_fails, sapa_ok};

const PERIOD: &str = "Q2";

/// The smallest region id of the dataset.
fn a_region() -> String {
    let (_, rows) = query_csv("SELECT min(region_id) FROM regions");
    rows[0][0].clone()
}

fn report_args(region: &str, format: &str) -> Vec<String> {
    [
        "report",
        "quarterly_report",
        "--data",
        data(),
        "--year",
        YEAR,
        "--period",
        PERIOD,
        "--unit",
        &format!("region:{region}"),
        "--format",
        format,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_report(region: &str, format: &str, out: Option<&Path>) -> String {
    let mut args = report_args(region, format);
    if let Some(out) = out {
        args.push("--out".into());
        args.push(out.to_str().unwrap().into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sapa_ok(&args)
}

/// Sums of report_by_school for one row of the quarterly report.
#[derive(Default, Debug)]
struct Sums {
    top: i64,
    passing: i64,
    graded_students: i64,
}

/// (row_level, unit id, parallel or None for all) → sums over the
/// parallels other than 1, computed from report_by_school.
fn expected_sums(region: &str) -> HashMap<(String, String, String), Sums> {
    let (header, rows) = query_csv(&format!(
        "SELECT region_id, district_id, school_id, parallel, students, excellent, good, satisfactory \
         FROM report_by_school WHERE academic_year = {YEAR} AND period = '{PERIOD}' \
         AND region_id = {region}"
    ));
    assert_eq!(header[3], "parallel");
    let int = |s: &str| s.parse::<i64>().unwrap_or(0);
    let mut sums: HashMap<(String, String, String), Sums> = HashMap::new();
    for row in &rows {
        let units = [
            ("school", row[2].clone()),
            ("district", row[1].clone()),
            ("region", row[0].clone()),
        ];
        for (level, id) in units {
            for parallel in [row[3].clone(), String::new()] {
                let s = sums
                    .entry((level.into(), id.clone(), parallel))
                    .or_default();
                if row[3] == "1" {
                    continue; // parallel 1 counts only in `students` (SPEC §4.4)
                }
                s.top += int(&row[5]) + int(&row[6]);
                s.passing += int(&row[5]) + int(&row[6]) + int(&row[7]);
                s.graded_students += int(&row[4]);
            }
        }
    }
    assert!(sums.len() > 10, "the region has schools and parallels");
    sums
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn the_workbook_has_bilingual_headers_typed_cells_and_the_views_figures() {
    let region = a_region();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xlsx");
    run_report(&region, "xlsx", Some(&path));
    let (header, csv_rows) = parse_csv(&run_report(&region, "csv", None));

    let mut workbook: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(workbook.sheet_names(), vec!["quarterly_report".to_string()]);
    let range = workbook.worksheet_range("quarterly_report").unwrap();
    assert_eq!(range.start(), Some((0, 0)));
    assert_eq!(range.width(), header.len());
    assert_eq!(
        range.height(),
        2 + csv_rows.len(),
        "two header rows, then the CSV's rows"
    );

    // The header rows: Kazakh, then Russian, written out by hand here.
    let text = |s: &str| Data::String(s.to_string());
    for (name, kk, ru) in [
        ("region_id", "Облыс коды", "Код области"),
        ("school_kk", "Мектеп (қаз.)", "Школа (каз.)"),
        ("parallel", "Параллель", "Параллель"),
        ("students", "Оқушылар саны", "Количество учащихся"),
        ("excellent", "Үздік оқушылар", "Отличники"),
        ("quality_pct", "Сапа, %", "Качество, %"),
        ("performance_pct", "Үлгерім, %", "Успеваемость, %"),
    ] {
        let col = column(&header, name) as u32;
        assert_eq!(range.get_value((0, col)), Some(&text(kk)), "{name}");
        assert_eq!(range.get_value((1, col)), Some(&text(ru)), "{name}");
    }

    // Every cell agrees with the CSV: numbers as numeric cells, NULLs as
    // empty cells, percentages divided by 100.
    let level_col = column(&header, "row_level");
    let quality_col = column(&header, "quality_pct");
    let performance_col = column(&header, "performance_pct");
    let parallel_col = column(&header, "parallel");
    let numeric = [
        "region_id",
        "district_id",
        "school_id",
        "parallel",
        "students",
        "excellent",
        "good",
        "satisfactory",
        "low",
        "exempt",
        "ungraded",
    ];
    let expected = expected_sums(&region);
    let mut checked_percentages = 0;
    let mut empty_percentages = 0;
    for (i, row) in csv_rows.iter().enumerate() {
        let r = i as u32 + 2;
        for (c, field) in row.iter().enumerate() {
            let cell = range.get_value((r, c as u32)).unwrap();
            let name = header[c].as_str();
            if field.is_empty() {
                assert_eq!(cell, &Data::Empty, "row {r} {name}");
            } else if numeric.contains(&name) {
                assert_eq!(cell, &Data::Float(field.parse().unwrap()), "row {r} {name}");
            } else if c == quality_col || c == performance_col {
                let Data::Float(v) = cell else {
                    panic!("row {r} {name}: {cell:?}")
                };
                let expected: f64 = field.parse::<f64>().unwrap() / 100.0;
                assert!(
                    (v - expected).abs() < 1e-12,
                    "row {r} {name}: {v} vs {expected}"
                );
            } else {
                assert_eq!(cell, &text(field), "row {r} {name}");
            }
        }
        // The percentages, computed independently from report_by_school.
        let level = &row[level_col];
        if level == "country" {
            continue; // a region unit has no country row
        }
        let id_col = column(&header, &format!("{level}_id"));
        let key = (
            level.clone(),
            row[id_col].clone(),
            row[parallel_col].clone(),
        );
        let sums = &expected[&key];
        for (col, num) in [(quality_col, sums.top), (performance_col, sums.passing)] {
            let cell = range.get_value((r, col as u32)).unwrap();
            if sums.graded_students == 0 {
                assert_eq!(cell, &Data::Empty, "{key:?}");
                empty_percentages += 1;
            } else {
                let expected = num as f64 / sums.graded_students as f64;
                let Data::Float(v) = cell else {
                    panic!("{key:?}: {cell:?}")
                };
                assert!((v - expected).abs() < 1e-12, "{key:?}: {v} vs {expected}");
                checked_percentages += 1;
            }
        }
    }
    assert!(checked_percentages > 50, "{checked_percentages}");
    assert!(
        empty_percentages > 0,
        "parallel 1 rows have NULL percentages"
    );

    // Header cells are bold; percentage cells carry the 0.0% format.
    let styles = workbook.worksheet_style("quarterly_report").unwrap();
    for row in [0, 1] {
        let font = styles.get((row, 0)).and_then(|s| s.font.as_ref());
        assert!(
            font.is_some_and(|f| f.is_bold()),
            "header row {row} is bold"
        );
    }
    let first_percentage = csv_rows
        .iter()
        .position(|row| !row[quality_col].is_empty())
        .unwrap() as u32
        + 2;
    let format = styles
        .get((first_percentage, quality_col as u32))
        .and_then(|s| s.number_format.as_ref())
        .map(|f| f.format_code.clone());
    assert_eq!(format.as_deref(), Some("0.0%"));
}

#[test]
fn csv_goes_to_stdout_with_sql_names_and_to_a_file_with_out() {
    let region = a_region();
    let stdout = run_report(&region, "csv", None);
    let (header, rows) = parse_csv(&stdout);
    assert_eq!(header[0], "row_level");
    assert!(header.contains(&"quality_pct".to_string()));
    assert!(!rows.is_empty());
    // The region's own roll-up rows are there, and only this region's rows.
    let region_col = column(&header, "region_id");
    assert!(rows.iter().all(|r| r[region_col] == region));
    assert!(rows.iter().any(|r| r[0] == "region"));
    assert!(!rows.iter().any(|r| r[0] == "country"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.csv");
    let printed = run_report(&region, "csv", Some(&file));
    assert_eq!(printed, "", "with --out nothing goes to stdout");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout);
}

#[test]
fn xlsx_without_out_lands_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sapa"))
        .current_dir(dir.path())
        .args([
            "report",
            "national_statistics",
            "--data",
            data(),
            "--year",
            YEAR,
            "--format",
            "xlsx",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("national_statistics.xlsx"), "{stderr}");
    let mut workbook: Xlsx<_> = open_workbook(dir.path().join("national_statistics.xlsx")).unwrap();
    let range = workbook.worksheet_range("national_statistics").unwrap();
    // The country and each region: one row each below the headers.
    let (_, regions) = query_csv("SELECT region_id FROM regions");
    assert_eq!(range.height(), 2 + 1 + regions.len());
    assert!(
        stderr.contains(&format!("wrote {} rows", 1 + regions.len())),
        "{stderr}"
    );
}

#[test]
fn list_shows_every_report_with_its_title() {
    let out = sapa_ok(&["report", "--list"]);
    assert!(out.contains("quarterly_report"), "{out}");
    assert!(out.contains("Quarterly performance report"), "{out}");
    assert!(out.contains("[params: year period unit]"), "{out}");
}

#[test]
fn bad_names_and_values_are_named_in_the_error() {
    let err = sapa_fails(&["report", "no_such_report", "--data", data()]);
    assert!(err.contains("\"no_such_report\""), "{err}");
    assert!(
        err.contains("quarterly_report"),
        "lists the known reports: {err}"
    );

    // (report, flag, value, what the error must say)
    let cases = [
        ("quarterly_report", "--period", "Q5", "Q5"),
        ("quarterly_report", "--unit", "town:3", "town:3"),
        (
            "quarterly_report",
            "--unit",
            "school:987654",
            "no school with id 987654",
        ),
        (
            "quarterly_report",
            "--from",
            "2023:Q4",
            "does not take --from",
        ),
        // A period the data does not hold is named, with what it does
        // hold, instead of an empty report.
        (
            "annual_report",
            "--year",
            "2031",
            "nothing for year 2031 (it holds years: 2023, 2024)",
        ),
        (
            "period_comparison",
            "--from",
            "2019:Q1",
            "nothing for 2019 Q1",
        ),
        ("period_comparison", "--from", "2023-Q4", "2023-Q4"),
    ];
    for (report, flag, value, expected) in cases {
        let err = sapa_fails(&["report", report, "--data", data(), flag, value]);
        assert!(err.contains(expected), "{report} {flag} {value}: {err}");
    }
}
