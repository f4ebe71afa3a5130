//! The three views of SPEC §11 (`student_status`, `report_by_school`,
//! `indicators`) checked against an independent oracle on generated data.
//!
//! The generator's tiny dataset (2023–2024 and 2024–2025, seed 7) gets a
//! hand-written region appended (`views_oracle/hand.rs`) in which every
//! edge of SPEC §3–§5 occurs. The CSVs are ingested; the oracle
//! (`views_oracle/oracle.rs`) reads the same CSVs in plain Rust and computes
//! every view row; the views must match it row for row. The hand region's
//! rows are also compared with values computed by hand, on both sides, so
//! the oracle and the engine cannot pass by sharing a mistake. Finally the
//! materialised `student_status` must equal a researcher's ad-hoc query
//! applying the `student_status(mark)` aggregate to `marks`.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)]

mod compare;
mod hand;
mod input;
mod oracle;

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use sapa::engine::Engine;
use sapa::ingest::{IngestOptions, ingest_dir};
use sapa::storage::DataLocation;
use sapa_datasets::csv_sink::CsvDirSink;
use sapa_datasets::generate::{GenerateOptions, Scale, generate};
use sapa_udfs::status::Status;

use compare::{Row, compare, compare_lines, fetch, line};
use input::Input;
use oracle::StudentStatus;

const STATUS_COLUMNS: [&str; 9] = [
    "academic_year",
    "period",
    "student_id",
    "region_id",
    "district_id",
    "school_id",
    "class_id",
    "parallel",
    "status",
];

const REPORT_COLUMNS: [&str; 16] = [
    "academic_year",
    "period",
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
    "quality_pct",
    "performance_pct",
    "marks_count",
];

const INDICATOR_COLUMNS: [&str; 17] = [
    "academic_year",
    "period",
    "level",
    "unit_id",
    "n_total",
    "n_exempt",
    "n_low",
    "n_excellent",
    "n_good",
    "n_ungraded",
    "performance_level",
    "performance_band",
    "knowledge_quality",
    "quality_band",
    "schools",
    "schools_meeting_performance",
    "schools_meeting_quality",
];

/// A researcher's query: the quarter statuses straight from `marks`, with
/// the SPEC §4 filters written out (criterial quarter classes, certified
/// subjects, the marks of the class the student is active in at the
/// quarter's end date).
const RESEARCH_QUARTERS: &str = "
SELECT c.academic_year, m.period, m.student_id, student_status(m.mark) AS status
FROM marks m
JOIN classes c ON c.class_id = m.class_id
JOIN enrollments e ON e.student_id = m.student_id AND e.class_id = m.class_id
JOIN calendar cal ON cal.academic_year = c.academic_year AND cal.period = m.period
JOIN subjects s ON s.subject_id = m.subject_id
WHERE c.journal_type = 'criterial' AND c.period_type = 'quarter' AND s.certified
  AND e.active_from <= cal.end_date
  AND (e.active_to IS NULL OR e.active_to >= cal.end_date)
GROUP BY c.academic_year, m.period, m.student_id";

/// The same for the year: one annual mark per subject (`FINAL` if set, else
/// `YEAR`), in the class the student is active in at Q4's end date.
const RESEARCH_YEAR: &str = "
SELECT academic_year, 'YEAR' AS period, student_id, student_status(mark) AS status
FROM (
    SELECT c.academic_year, m.student_id,
           annual_mark(max(CASE WHEN m.period = 'FINAL' THEN m.mark END),
                       max(CASE WHEN m.period = 'YEAR' THEN m.mark END)) AS mark
    FROM marks m
    JOIN classes c ON c.class_id = m.class_id
    JOIN enrollments e ON e.student_id = m.student_id AND e.class_id = m.class_id
    JOIN calendar cal ON cal.academic_year = c.academic_year AND cal.period = 'Q4'
    JOIN subjects s ON s.subject_id = m.subject_id
    WHERE c.journal_type = 'criterial' AND c.period_type = 'quarter' AND s.certified
      AND m.period IN ('YEAR', 'FINAL')
      AND e.active_from <= cal.end_date
      AND (e.active_to IS NULL OR e.active_to >= cal.end_date)
    GROUP BY c.academic_year, m.student_id, m.subject_id
) AS annual
GROUP BY academic_year, student_id";

/// Writes the generated CSVs plus the hand rows into `dir`.
fn write_input(dir: &std::path::Path) {
    let options = GenerateOptions {
        scale: Scale::Tiny,
        years: 2023..=2024,
        seed: 7,
    };
    let mut sink = CsvDirSink::create(dir).unwrap();
    generate(&options, &mut sink, &mut |_| {}).unwrap();
    sink.finish().unwrap();
    hand::append(dir);
}

/// The input holds the edges the test is about, and the dates the hand
/// rows were written against.
fn check_input(input: &Input, statuses: &[StudentStatus]) {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let cal = &input.calendar[&2024];
    assert_eq!(
        cal["Q1"],
        day("2024-10-25"),
        "the hand rows assume Q1's end"
    );
    assert_eq!(
        cal["Q2"],
        day("2024-12-27"),
        "the hand rows assume Q2's end"
    );
    assert_eq!(
        cal["Q4"],
        day("2025-05-25"),
        "the hand rows assume Q4's end"
    );
    assert_eq!(input.calendar.len(), 2);
    assert_eq!(oracle::overlaps(input), 0, "no tie rule is relied on");
    assert!(input.cleared > 1, "cleared marks occur");
    assert!(input.versions > 50_000, "{} mark versions", input.versions);
    for status in Status::ALL {
        let n = statuses.iter().filter(|s| s.status == status).count();
        assert!(n > 0, "no student is {status:?}");
    }
    for parallel in [0, 1, 11] {
        assert!(statuses.iter().any(|s| s.parallel == parallel));
    }
}

/// Rows of the oracle selected by `keep`, projected on `columns` and sorted
/// as the hand-written lines are.
fn project(rows: &[Row], keep: impl Fn(&Row) -> bool, columns: &[usize]) -> Vec<Row> {
    let mut out: Vec<Row> = rows
        .iter()
        .filter(|r| keep(r))
        .map(|r| columns.iter().map(|&c| r[c].clone()).collect())
        .collect();
    out.sort_by_key(|r| line(r));
    out
}

/// Whether a cell prints as one of `values`.
fn is(cell: &compare::Cell, values: &[&str]) -> bool {
    values.iter().any(|v| cell.to_string() == *v)
}

/// The hand region's rows, computed by hand, against the engine and the
/// oracle alike.
async fn check_hand_rows(ctx: &SessionContext, oracle: [&[Row]; 3], failures: &mut Vec<String>) {
    let [statuses, report, indicators] = oracle;
    let year = |r: &Row| r[0].to_string() == "2024";
    let periods = ["Q1", "Q2", "YEAR"];
    let hand_schools = ["900001", "900002", "901001"];
    let cases: [(&str, &[&str], String, Vec<Row>); 3] = [
        (
            "hand student_status",
            hand::STATUSES,
            "SELECT student_id, period, class_id, parallel, status FROM student_status \
             WHERE academic_year = 2024 AND student_id BETWEEN 900000 AND 900999 \
             ORDER BY student_id, period"
                .to_string(),
            project(
                statuses,
                |r| year(r) && matches!(r[2], compare::Cell::Int(900_000..=900_999)),
                &[2, 1, 6, 7, 8],
            ),
        ),
        (
            "hand report_by_school",
            hand::REPORT,
            format!(
                "SELECT {} FROM report_by_school WHERE academic_year = 2024 \
                 AND school_id IN (900001, 900002, 901001) AND period IN ('Q1', 'Q2', 'YEAR') \
                 ORDER BY period, school_id, parallel",
                ["period", "school_id", "parallel"]
                    .iter()
                    .chain(&REPORT_COLUMNS[6..])
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            project(
                report,
                |r| year(r) && is(&r[1], &periods) && is(&r[4], &hand_schools),
                &[1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
            ),
        ),
        (
            "hand indicators",
            hand::INDICATORS,
            format!(
                "SELECT {} FROM indicators WHERE academic_year = 2024 \
                 AND period IN ('Q1', 'Q2', 'YEAR') \
                 AND ((level = 'school' AND unit_id IN (900001, 900002, 901001)) \
                   OR (level = 'district' AND unit_id IN (900, 901)) \
                   OR (level = 'region' AND unit_id = 90)) \
                 ORDER BY period, level, unit_id",
                INDICATOR_COLUMNS[1..].join(", ")
            ),
            project(
                indicators,
                |r| {
                    year(r)
                        && is(&r[1], &periods)
                        && match r[2].to_string().as_str() {
                            "school" => is(&r[3], &hand_schools),
                            "district" => is(&r[3], &["900", "901"]),
                            "region" => is(&r[3], &["90"]),
                            _ => false,
                        }
                },
                &(1..17).collect::<Vec<_>>(),
            ),
        ),
    ];
    for (what, expected, sql, from_oracle) in cases {
        let engine = fetch(ctx, &sql).await;
        for (side, rows) in [("engine", &engine), ("oracle", &from_oracle)] {
            if let Err(e) = compare_lines(&format!("{what} ({side})"), expected, rows) {
                failures.push(e);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_match_an_independent_oracle_on_generated_and_hand_built_data() {
    let root = tempfile::tempdir().unwrap();
    let csv_dir = root.path().join("csv");
    write_input(&csv_dir);
    let data = root.path().join("data");
    let location = DataLocation::local(&data).unwrap();
    let report = ingest_dir(&csv_dir, &location, &IngestOptions::default())
        .await
        .unwrap();
    assert!(report.committed, "{report:?}");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    let input = Input::read(&csv_dir);
    let statuses = oracle::statuses(&input);
    check_input(&input, &statuses);
    let status_rows = oracle::status_rows(&statuses);
    let report_rows = oracle::report_rows(&statuses);
    let indicator_rows = oracle::indicator_rows(&statuses);

    let engine = Engine::open(&location).await.unwrap();
    let ctx = engine.sql_session().await.unwrap();

    let mut failures = Vec::new();
    let sides = ["oracle", "engine"];
    for (view, columns, key_len, expected) in [
        ("student_status", &STATUS_COLUMNS[..], 3, &status_rows),
        ("report_by_school", &REPORT_COLUMNS[..], 6, &report_rows),
        ("indicators", &INDICATOR_COLUMNS[..], 4, &indicator_rows),
    ] {
        let keys = columns[..key_len].join(", ");
        let sql = format!(
            "SELECT {} FROM {view} ORDER BY {keys} NULLS FIRST",
            columns.join(", ")
        );
        let actual = fetch(&ctx, &sql).await;
        if let Err(e) = compare(view, sides, columns, key_len, expected, &actual) {
            failures.push(e);
        }
    }

    // The materialised table against the UDAF over `marks`: the students
    // with a counted mark match exactly; the rest are `ungraded` (a
    // research row for one of them shows as a row the table lacks).
    let research_columns = ["academic_year", "period", "student_id", "status"];
    let stored = fetch(
        &ctx,
        "SELECT academic_year, period, student_id, status FROM student_status \
         WHERE status <> 'ungraded' ORDER BY academic_year, period, student_id",
    )
    .await;
    let mut research = fetch(&ctx, RESEARCH_QUARTERS).await;
    research.extend(fetch(&ctx, RESEARCH_YEAR).await);
    if let Err(e) = compare(
        "student_status(mark) over marks",
        ["materialised student_status", "research query"],
        &research_columns,
        3,
        &stored,
        &research,
    ) {
        failures.push(e);
    }
    check_hand_rows(
        &ctx,
        [&status_rows, &report_rows, &indicator_rows],
        &mut failures,
    )
    .await;

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
