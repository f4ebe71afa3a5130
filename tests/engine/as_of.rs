//! "As of" reporting (SPEC §6, issue 14): `student_status_as_of`,
//! `report_by_school_as_of`, `indicators_as_of` and `indicators_current` on
//! a hand-made school whose every answer is worked out below, the week
//! boundary at Sunday 23:59:59 included; the current state reproduced by a
//! date after every mark; and the scopes of SPEC §8 through the functions.
//!
//! The school (100, class 1000, parallel 5) and its Q1 2024 (ends Friday
//! 2024-10-25, published Sunday 2024-10-27) marks, subject 1 unless said:
//!
//! | student | versions | as of Sun 10-20 | as of Sun 10-27 | as of 11-03 = now |
//! |---|---|---|---|---|
//! | 1 | 5 at Sun 10-20 23:59:59; 3 at 10-28 (changed late); subject 2: 5 at 10-21 | excellent | excellent | satisfactory |
//! | 2 | 4 at 10-24; cleared 11-01 | ungraded | good | ungraded |
//! | 3 | 2 at 10-30 (first set late) | ungraded | ungraded | low |
//! | 4 | 4 at Mon 10-21 00:00:00 | ungraded | good | good |
//! | 5 | БОС at 10-24 | ungraded | exempt | exempt |
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ingest_support::{
    CALENDAR, CLASSES, DISTRICTS, REGIONS, SCHOOLS, SUBJECTS, ingest, input_dir, rows,
};
use datafusion::prelude::SessionContext;
use sapa::engine::{Engine, MemoryBudget, Scope};
use sapa::server::SessionFactory;
use sapa::storage::DataLocation;

const ENROLLMENTS: &str = "\
student_id,class_id,active_from,active_to
1,1000,2024-09-02,
2,1000,2024-09-02,
3,1000,2024-09-02,
4,1000,2024-09-02,
5,1000,2024-09-02,
";

/// The first delivery: what the school had entered by the period's end.
const MARKS_BEFORE: &str = "\
student_id,class_id,subject_id,period,mark,recorded_at
1,1000,1,Q1,5,2024-10-20T23:59:59
1,1000,2,Q1,5,2024-10-21T08:00:00
2,1000,1,Q1,4,2024-10-24
4,1000,1,Q1,4,2024-10-21
5,1000,1,Q1,БОС,2024-10-24
1,1000,1,YEAR,4,2025-05-20
";

/// The weekly delta after the period: a change, a clearing, a late mark.
const MARKS_AFTER: &str = "\
student_id,class_id,subject_id,period,mark,recorded_at
1,1000,1,Q1,3,2024-10-28T10:00:00
2,1000,1,Q1,,2024-11-01
3,1000,1,Q1,2,2024-10-30
";

struct Data {
    _root: tempfile::TempDir,
    data: PathBuf,
}

async fn dataset() -> Data {
    let root = tempfile::tempdir().unwrap();
    let file = |name: &'static str, text: &str| (name, text.as_bytes().to_vec());
    let first = input_dir(
        root.path(),
        "first",
        &[
            file("regions.csv", REGIONS),
            file("districts.csv", DISTRICTS),
            file("schools.csv", SCHOOLS),
            file("subjects.csv", SUBJECTS),
            file("calendar.csv", CALENDAR),
            file("classes.csv", CLASSES),
            file("enrollments.csv", ENROLLMENTS),
            file("marks.csv", MARKS_BEFORE),
        ],
    );
    let delta = input_dir(root.path(), "delta", &[file("marks.csv", MARKS_AFTER)]);
    let data = root.path().join("data");
    ingest(&first, &data).await.unwrap();
    ingest(&delta, &data).await.unwrap();
    Data { _root: root, data }
}

/// The unscoped session `sapa query` uses.
async fn context(data: &Path) -> SessionContext {
    let engine = Engine::open(&DataLocation::local(data).unwrap())
        .await
        .unwrap();
    engine.sql_session().await.unwrap()
}

/// The Q1 statuses of students 1–5 as of `date`.
async fn statuses(ctx: &SessionContext, date: &str) -> Vec<String> {
    rows(
        ctx,
        &format!(
            "SELECT student_id, status FROM student_status_as_of('{date}') \
             WHERE academic_year = 2024 AND period = 'Q1' ORDER BY student_id"
        ),
    )
    .await
}

#[tokio::test]
async fn statuses_as_of_each_sunday_with_the_boundary_at_23_59_59() {
    let d = dataset().await;
    let ctx = context(&d.data).await;
    let sunday_20 = [
        "1|excellent",
        "2|ungraded",
        "3|ungraded",
        "4|ungraded",
        "5|ungraded",
    ];
    // Sunday 10-20: student 1's 5 at 23:59:59 counts, student 4's mark of
    // Monday 00:00:00 does not.
    assert_eq!(statuses(&ctx, "2024-10-20").await, sunday_20);
    // Any day of the following week sees the same update.
    assert_eq!(statuses(&ctx, "2024-10-26").await, sunday_20);
    let sunday_27 = ["1|excellent", "2|good", "3|ungraded", "4|good", "5|exempt"];
    assert_eq!(statuses(&ctx, "2024-10-27").await, sunday_27);
    assert_eq!(statuses(&ctx, "2024-11-02").await, sunday_27);
    // After the delta: the change (1), the clearing (2), the late mark (3).
    let now = [
        "1|satisfactory",
        "2|ungraded",
        "3|low",
        "4|good",
        "5|exempt",
    ];
    assert_eq!(statuses(&ctx, "2024-11-03").await, now);
    let current = rows(
        &ctx,
        "SELECT student_id, status FROM student_status \
         WHERE academic_year = 2024 AND period = 'Q1' ORDER BY student_id",
    )
    .await;
    assert_eq!(current, now);
    // A timestamp and a DATE literal name the same update as the text.
    for date in ["TIMESTAMP '2024-10-27 18:00:00'", "DATE '2024-10-27'"] {
        let sql = format!(
            "SELECT student_id, status FROM student_status_as_of({date}) \
             WHERE academic_year = 2024 AND period = 'Q1' ORDER BY student_id"
        );
        assert_eq!(rows(&ctx, &sql).await, sunday_27, "{date}");
    }
}

#[tokio::test]
async fn indicators_and_reports_as_of_the_sundays() {
    let d = dataset().await;
    let ctx = context(&d.data).await;
    let school = |date: &str| {
        format!(
            "SELECT n_total, n_exempt, n_low, n_excellent, n_good, n_ungraded, \
             performance_level, performance_band, knowledge_quality, quality_band \
             FROM indicators_as_of('{date}') \
             WHERE academic_year = 2024 AND period = 'Q1' AND level = 'school' AND unit_id = 100"
        )
    };
    // 10-20: 1 excellent, 4 ungraded: performance 5/5, quality 1/5.
    assert_eq!(
        rows(&ctx, &school("2024-10-20")).await,
        ["5|0|0|1|0|4|100.0|high|20.0|low"]
    );
    // 10-27: (5-1-0)/(5-1) = 100; (1+2)/4 = 75.
    assert_eq!(
        rows(&ctx, &school("2024-10-27")).await,
        ["5|1|0|1|2|1|100.0|high|75.0|high"]
    );
    // 11-03: (5-1-1)/4 = 75 (medium); 1/4 = 25 (low).
    let now = ["5|1|1|0|1|1|75.0|medium|25.0|low"];
    assert_eq!(rows(&ctx, &school("2024-11-03")).await, now);
    let current = school("x").replace("indicators_as_of('x')", "indicators");
    assert_eq!(rows(&ctx, &current).await, now);
    // The country pools the same students, with the body bands: 75 is low.
    let country = rows(
        &ctx,
        "SELECT schools, schools_meeting_quality, knowledge_quality, quality_band \
         FROM indicators_as_of('2024-10-27') \
         WHERE academic_year = 2024 AND period = 'Q1' AND level = 'country'",
    )
    .await;
    assert_eq!(country, ["1|1|75.0|medium"]);
    // §5.1: students excludes the exempt one; quality (1+2)/4.
    let report = rows(
        &ctx,
        "SELECT students, excellent, good, satisfactory, low, exempt, ungraded, \
         quality_pct, performance_pct, marks_count \
         FROM report_by_school_as_of('2024-10-27') \
         WHERE academic_year = 2024 AND period = 'Q1' AND school_id = 100 AND parallel = 5",
    )
    .await;
    assert_eq!(report, ["4|1|2|0|0|1|1|75.0|75.0|NULL"]);
}

#[tokio::test]
async fn indicators_current_follows_publication_and_the_annual_report() {
    let d = dataset().await;
    let ctx = context(&d.data).await;
    let current = |date: &str| {
        format!(
            "SELECT DISTINCT academic_year, period FROM indicators_current('{date}') ORDER BY 1, 2"
        )
    };
    // Before Q1's publication Sunday nothing was published.
    assert!(rows(&ctx, &current("2024-10-26")).await.is_empty());
    assert_eq!(rows(&ctx, &current("2024-10-27")).await, ["2024|Q1"]);
    // During Q2 the previous quarter is shown…
    assert_eq!(rows(&ctx, &current("2024-12-28")).await, ["2024|Q1"]);
    // …until Q2's publication (Friday 12-27 → Sunday 12-29).
    assert_eq!(rows(&ctx, &current("2024-12-29")).await, ["2024|Q2"]);
    // Q4 ends on Sunday 2025-05-25: the year is published the same day.
    assert_eq!(rows(&ctx, &current("2025-05-24")).await, ["2024|Q3"]);
    assert_eq!(rows(&ctx, &current("2025-05-25")).await, ["2024|YEAR"]);
    // 1 September 2025 is a Monday: its week's update is Sunday 09-07.
    assert_eq!(rows(&ctx, &current("2025-09-06")).await, ["2024|YEAR"]);
    assert_eq!(rows(&ctx, &current("2025-09-07")).await, ["2024|Q4"]);
    // The values are those as of the date: quality 75 on 10-27, 25 now.
    let quality = |date: &str| {
        format!(
            "SELECT knowledge_quality FROM indicators_current('{date}') \
             WHERE level = 'school' AND unit_id = 100"
        )
    };
    assert_eq!(rows(&ctx, &quality("2024-10-27")).await, ["75.0"]);
    assert_eq!(rows(&ctx, &quality("2024-11-10")).await, ["25.0"]);
}

#[tokio::test]
async fn a_date_after_every_mark_is_the_current_state() {
    // The shared ingest dataset: movers, a cleared FINAL, look-alikes.
    let root = tempfile::tempdir().unwrap();
    let input = crate::ingest_support::valid_input(root.path());
    let data = root.path().join("data");
    ingest(&input, &data).await.unwrap();
    let ctx = context(&data).await;
    for (view, function) in [
        ("student_status", "student_status_as_of"),
        ("report_by_school", "report_by_school_as_of"),
        ("indicators", "indicators_as_of"),
    ] {
        for (a, b) in [
            (view.to_string(), format!("{function}('2030-01-01')")),
            (format!("{function}('2030-01-01')"), view.to_string()),
        ] {
            let sql = format!("SELECT count(*) FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})");
            assert_eq!(rows(&ctx, &sql).await, ["0"], "{sql}");
        }
        let sql = format!("SELECT count(*) > 0 FROM {view}");
        assert_eq!(rows(&ctx, &sql).await, ["true"], "{view} is empty");
    }
    // The year: student 10 has YEAR 3 (05-20) and FINAL 5 (Wed 05-28);
    // student 11 YEAR 4, FINAL 2 (05-28), FINAL cleared (05-29). As of the
    // week of Sunday 05-25 neither FINAL exists; from Sunday 06-01 the 5
    // counts and 11's cleared FINAL falls back to YEAR.
    let year = |date: &str| {
        format!(
            "SELECT student_id, status FROM student_status_as_of('{date}') \
             WHERE period = 'YEAR' AND student_id IN (10, 11) ORDER BY student_id"
        )
    };
    assert_eq!(
        rows(&ctx, &year("2025-05-31")).await,
        ["10|satisfactory", "11|good"]
    );
    assert_eq!(
        rows(&ctx, &year("2025-06-01")).await,
        ["10|excellent", "11|good"]
    );
    // Before the first mark, every counted student is ungraded.
    let early = rows(
        &ctx,
        "SELECT DISTINCT status FROM student_status_as_of('2024-09-01')",
    )
    .await;
    assert_eq!(early, ["ungraded"]);
}

#[tokio::test]
async fn bad_arguments_are_plan_errors_naming_the_function() {
    let d = dataset().await;
    let ctx = context(&d.data).await;
    for (sql, function, expected) in [
        (
            "SELECT * FROM indicators_as_of()",
            "indicators_as_of",
            "takes one argument",
        ),
        (
            "SELECT * FROM indicators_as_of('2024-10-27', 1)",
            "indicators_as_of",
            "takes one argument",
        ),
        (
            "SELECT * FROM indicators_as_of('tomorrow')",
            "indicators_as_of",
            "is not a date",
        ),
        (
            "SELECT * FROM indicators_current(NULL)",
            "indicators_current",
            "must not be NULL",
        ),
        (
            "SELECT * FROM student_status_as_of(level)",
            "student_status_as_of",
            "takes a constant date",
        ),
    ] {
        let err = match ctx.sql(sql).await {
            Ok(df) => df.collect().await.map(|_| ()).unwrap_err(),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(
            text.contains(function) && text.contains(expected),
            "{sql}: {text}"
        );
    }
}

/// A logged-in session of `scope` over the hand-made data.
async fn scoped(factory: &SessionFactory, scope: Scope) -> Arc<SessionContext> {
    let session = factory.session();
    factory.log_in(&session, "tester", scope).await.unwrap();
    session
}

#[tokio::test]
async fn scopes_hold_through_the_functions() {
    let d = dataset().await;
    let engine = Engine::open(&DataLocation::local(&d.data).unwrap())
        .await
        .unwrap();
    let factory = SessionFactory::new(&engine, MemoryBudget::new(1 << 30, 1 << 30))
        .await
        .unwrap();
    let levels = "SELECT level, unit_id FROM indicators_as_of('2024-10-27') \
                  WHERE academic_year = 2024 AND period = 'Q1' ORDER BY level, unit_id";
    // School 200 has no counted student: no indicator row of its own.
    let district = scoped(&factory, Scope::District(10)).await;
    assert_eq!(rows(&district, levels).await, ["district|10", "school|100"]);
    let region = scoped(&factory, Scope::Region(1)).await;
    assert_eq!(
        rows(&region, levels).await,
        ["district|10", "region|1", "school|100"]
    );
    let school = scoped(&factory, Scope::School(100)).await;
    assert_eq!(rows(&school, levels).await, ["school|100"]);
    let current = "SELECT level, knowledge_quality FROM indicators_current('2024-10-27')";
    assert_eq!(rows(&school, current).await, ["school|75.0"]);
    let statuses = "SELECT count(*) FROM student_status_as_of('2024-10-27') WHERE period = 'Q1'";
    assert_eq!(rows(&school, statuses).await, ["5"]);
    let other = scoped(&factory, Scope::School(200)).await;
    assert_eq!(rows(&other, statuses).await, ["0"]);
    assert_eq!(rows(&other, levels).await, Vec::<String>::new());
    // A researcher's pseudonyms are those of `student_status`.
    let researcher = scoped(&factory, Scope::Researcher).await;
    let joined = rows(
        &researcher,
        "SELECT count(*), count(DISTINCT a.student_id) FROM student_status_as_of('2030-01-01') a \
         JOIN student_status s ON s.student_id = a.student_id \
         AND s.academic_year = a.academic_year AND s.period = a.period AND s.status = a.status",
    )
    .await;
    let total = rows(&researcher, "SELECT count(*) FROM student_status").await;
    assert_eq!(joined, [format!("{}|5", total[0])]);
    let ids = rows(
        &researcher,
        "SELECT count(*) FROM student_status_as_of('2030-01-01') WHERE student_id BETWEEN 1 AND 5",
    )
    .await;
    assert_eq!(ids, ["0"], "a researcher sees raw student ids");
}

/// The stored overrides (`earlier_statuses`) give, at every date around the
/// marking windows of a generated dataset, exactly the statuses the status
/// query gives when run again over the dated marks (the way a dataset
/// written before the table was stored is answered).
#[tokio::test]
async fn stored_overrides_agree_with_recomputing_the_statuses() {
    use sapa_datasets::generate::{GenerateOptions, Scale, generate};
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let options = GenerateOptions {
        scale: Scale::Tiny,
        years: 2024..=2024,
        seed: 3,
    };
    sapa::ingest::ingest_batches(
        &DataLocation::local(&data).unwrap(),
        &sapa::ingest::IngestOptions::default(),
        "generate tiny",
        move |sink| {
            generate(&options, sink, &mut |_| {})
                .map(|_| ())
                .map_err(Into::into)
        },
    )
    .await
    .unwrap();
    let stored = context(&data).await;
    let engine = Engine::open(&DataLocation::local(&data).unwrap())
        .await
        .unwrap();
    let recomputing = engine.session_context().unwrap();
    recomputing.deregister_table("earlier_statuses").unwrap();
    sapa::engine::views::register(&recomputing).await.unwrap();

    let overridden = rows(
        &stored,
        "SELECT count(*), count(DISTINCT period) FROM earlier_statuses",
    )
    .await;
    let fields: Vec<u64> = overridden[0]
        .split('|')
        .map(|f| f.parse().unwrap())
        .collect();
    assert!(fields[0] > 100 && fields[1] == 5, "{overridden:?}");

    // Generated Q1 ends Fri 10-25 (marks from the week before, late ones
    // up to two weeks after), Q4 Sun 05-25 (YEAR and FINAL beside it).
    for date in [
        "2024-09-01",
        "2024-10-19",
        "2024-10-20",
        "2024-10-23",
        "2024-10-27",
        "2024-11-03",
        "2024-11-10",
        "2024-12-29",
        "2025-05-18",
        "2025-05-25",
        "2025-06-01",
        "2025-06-08",
    ] {
        let sql = format!(
            "SELECT * FROM student_status_as_of('{date}') \
             ORDER BY academic_year, period, student_id, class_id"
        );
        let (a, b) = (rows(&stored, &sql).await, rows(&recomputing, &sql).await);
        assert!(!a.is_empty(), "{date}");
        assert_eq!(a.len(), b.len(), "{date}");
        let differing: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).take(3).collect();
        assert!(
            differing.is_empty(),
            "{date}: stored vs recomputed {differing:?}"
        );
        // The indicators from the stored counts and their change events.
        let sql = format!(
            "SELECT * FROM indicators_as_of('{date}') ORDER BY academic_year, period, level, unit_id"
        );
        let (a, b) = (rows(&stored, &sql).await, rows(&recomputing, &sql).await);
        assert!(!a.is_empty(), "{date}");
        assert_eq!(
            a, b,
            "{date}: indicators from counted changes vs recomputed"
        );
    }
    let changes = rows(
        &stored,
        "SELECT count(*), count(DISTINCT period) FROM school_count_changes",
    )
    .await;
    assert!(
        changes[0].ends_with("|5") && !changes[0].starts_with("0|"),
        "{changes:?}"
    );
    let sql = "SELECT * FROM indicators_as_of('2024-10-27') \
               ORDER BY academic_year, period, level, unit_id";
    assert_eq!(rows(&stored, sql).await, rows(&recomputing, sql).await);
}
