//! The views over a hand-built `student_status`, with every figure computed
//! by hand below (SPEC §5).

use std::sync::Arc;

use datafusion::arrow::array::{Int32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::storage::StoredTable;

/// (period, region, district, school, parallel, status, marks_count)
type Row = (&'static str, i64, i64, i64, i32, &'static str, i64);

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut add = |period, r, d, s, p, statuses: &[&'static str], marks| {
        for st in statuses {
            rows.push((period, r, d, s, p, *st, marks));
        }
    };
    // Region 1, district 10, school 100: parallel 2 has one of each graded
    // status; parallel 1 (students only) and parallel 0 (every figure).
    add(
        "Q1",
        1,
        10,
        100,
        2,
        &["excellent", "good", "good", "satisfactory", "low"],
        9,
    );
    add("Q1", 1, 10, 100, 1, &["ungraded", "ungraded"], 0);
    add("Q1", 1, 10, 100, 0, &["good"], 4);
    // School 101, parallel 3: one exempt (out of every denominator) and one
    // ungraded (inside `students`).
    add(
        "Q1",
        1,
        10,
        101,
        3,
        &["exempt", "excellent", "excellent", "ungraded", "good"],
        8,
    );
    // District 11, school 110: only exempt students: zero denominators.
    add("Q1", 1, 11, 110, 2, &["exempt", "exempt"], 7);
    // Region 2, district 20, school 200: quality exactly 40.0.
    add(
        "Q1",
        2,
        20,
        200,
        5,
        &["excellent", "excellent", "good", "good"],
        10,
    );
    add("Q1", 2, 20, 200, 5, &["satisfactory"; 6], 10);
    // The year: marks_count is reported.
    add("YEAR", 1, 10, 100, 2, &["good"], 10);
    add("YEAR", 1, 10, 100, 2, &["good"], 12);
    add("YEAR", 1, 10, 100, 1, &["excellent"], 3);
    rows
}

async fn context() -> SessionContext {
    let ctx = SessionContext::new();
    sapa_udfs::register_all(&ctx);
    let rows = rows();
    let schema = Arc::new(Schema::new(vec![
        Field::new("academic_year", DataType::Int32, false),
        Field::new("period", DataType::Utf8, false),
        Field::new("region_id", DataType::Int64, false),
        Field::new("district_id", DataType::Int64, false),
        Field::new("school_id", DataType::Int64, false),
        Field::new("parallel", DataType::Int32, false),
        Field::new("student_id", DataType::Int64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("marks_count", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(vec![2024; rows.len()])),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.3))),
            Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.4))),
            Arc::new(Int64Array::from_iter_values(0..rows.len() as i64)),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.5))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.6))),
        ],
    )
    .unwrap();
    let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
    ctx.register_table("student_status", Arc::new(table))
        .unwrap();
    // mark_audit and the MODO views read the other tables: empty here
    // (their cases are in tests/engine/mark_audit.rs and modo_tests.rs).
    for stored in StoredTable::ALL {
        // school_counts is left to `create_views`: derived from the statuses.
        if !matches!(
            stored,
            StoredTable::StudentStatus
                | StoredTable::SchoolCounts
                | StoredTable::MarkAudit
                | StoredTable::RecordedMarks
        ) {
            let empty = MemTable::try_new(stored.schema(), vec![vec![]]).unwrap();
            ctx.register_table(stored.name(), Arc::new(empty)).unwrap();
        }
    }
    super::create_views(&ctx).await.unwrap();
    ctx
}

async fn table(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

#[tokio::test]
async fn report_by_school_matches_hand_counts() {
    let ctx = context().await;
    let got = table(
        &ctx,
        "SELECT period, school_id, parallel, students, excellent, good, satisfactory, low, \
         exempt, ungraded, round(quality_pct, 4) AS q, round(performance_pct, 4) AS p, marks_count \
         FROM report_by_school ORDER BY period, school_id, parallel",
    )
    .await;
    let want = "\
+--------+-----------+----------+----------+-----------+------+--------------+-----+--------+----------+-------+-------+-------------+
| period | school_id | parallel | students | excellent | good | satisfactory | low | exempt | ungraded | q     | p     | marks_count |
+--------+-----------+----------+----------+-----------+------+--------------+-----+--------+----------+-------+-------+-------------+
| Q1     | 100       | 0        | 1        | 0         | 1    | 0            | 0   | 0      | 0        | 100.0 | 100.0 |             |
| Q1     | 100       | 1        | 2        |           |      |              |     | 0      | 2        |       |       |             |
| Q1     | 100       | 2        | 5        | 1         | 2    | 1            | 1   | 0      | 0        | 60.0  | 80.0  |             |
| Q1     | 101       | 3        | 4        | 2         | 1    | 0            | 0   | 1      | 1        | 75.0  | 75.0  |             |
| Q1     | 110       | 2        | 0        | 0         | 0    | 0            | 0   | 2      | 0        |       |       |             |
| Q1     | 200       | 5        | 10       | 2         | 2    | 6            | 0   | 0      | 0        | 40.0  | 100.0 |             |
| YEAR   | 100       | 1        | 1        |           |      |              |     | 0      | 0        |       |       | 3           |
| YEAR   | 100       | 2        | 2        | 0         | 2    | 0            | 0   | 0      | 0        | 100.0 | 100.0 | 22          |
+--------+-----------+----------+----------+-----------+------+--------------+-----+--------+----------+-------+-------+-------------+";
    assert_eq!(got, want, "\n{got}");
}

#[tokio::test]
async fn indicators_match_hand_values_and_bands() {
    let ctx = context().await;
    let got = table(
        &ctx,
        "SELECT level, unit_id, n_total, n_exempt, n_low, n_excellent, n_good, n_ungraded, \
         round(performance_level, 4) AS perf, performance_band, \
         round(knowledge_quality, 4) AS quality, quality_band, \
         schools, schools_meeting_performance AS meet_p, schools_meeting_quality AS meet_q \
         FROM indicators WHERE period = 'Q1' \
         ORDER BY CASE level WHEN 'school' THEN 0 WHEN 'district' THEN 1 WHEN 'region' THEN 2 ELSE 3 END, unit_id",
    )
    .await;
    // School 100 (parallel 0/1 left out): 4/5 = 80 medium, 3/5 = 60 high.
    // School 101: den 5-1 = 4: perf 4/4, quality 3/4.
    // School 110: only exempt: NULL values and bands, but a row.
    // School 200: quality 4/10 = 40.0: `high` for a school, `medium` for its
    // district and region (governing bands start `high` at 86).
    // District 10 = schools 100+101: 8/9 and 6/9. Country: 18/19 and 10/19.
    let want = "\
+----------+---------+---------+----------+-------+-------------+--------+------------+---------+------------------+---------+--------------+---------+--------+--------+
| level    | unit_id | n_total | n_exempt | n_low | n_excellent | n_good | n_ungraded | perf    | performance_band | quality | quality_band | schools | meet_p | meet_q |
+----------+---------+---------+----------+-------+-------------+--------+------------+---------+------------------+---------+--------------+---------+--------+--------+
| school   | 100     | 5       | 0        | 1     | 1           | 2      | 0          | 80.0    | medium           | 60.0    | high         |         |        |        |
| school   | 101     | 5       | 1        | 0     | 2           | 1      | 1          | 100.0   | high             | 75.0    | high         |         |        |        |
| school   | 110     | 2       | 2        | 0     | 0           | 0      | 0          |         |                  |         |              |         |        |        |
| school   | 200     | 10      | 0        | 0     | 2           | 2      | 0          | 100.0   | high             | 40.0    | high         |         |        |        |
| district | 10      | 10      | 1        | 1     | 3           | 3      | 1          | 88.8889 | medium           | 66.6667 | medium       | 2       | 1      | 2      |
| district | 11      | 2       | 2        | 0     | 0           | 0      | 0          |         |                  |         |              | 1       | 0      | 0      |
| district | 20      | 10      | 0        | 0     | 2           | 2      | 0          | 100.0   | high             | 40.0    | medium       | 1       | 1      | 1      |
| region   | 1       | 12      | 3        | 1     | 3           | 3      | 1          | 88.8889 | medium           | 66.6667 | medium       | 3       | 1      | 2      |
| region   | 2       | 10      | 0        | 0     | 2           | 2      | 0          | 100.0   | high             | 40.0    | medium       | 1       | 1      | 1      |
| country  |         | 22      | 3        | 1     | 5           | 5      | 1          | 94.7368 | medium           | 52.6316 | medium       | 4       | 2      | 3      |
+----------+---------+---------+----------+-------+-------------+--------+------------+---------+------------------+---------+--------------+---------+--------+--------+";
    assert_eq!(got, want, "\n{got}");
}

#[tokio::test]
async fn indicator_values_are_exact_fractions_at_band_edges() {
    let ctx = context().await;
    // 100.0 * 4 / 10 must be exactly 40.0 (not 40.000000000000004), or a
    // school on the boundary would fall on the wrong side of it.
    let got = table(
        &ctx,
        "SELECT knowledge_quality = 40.0 AS exact FROM indicators \
         WHERE period = 'Q1' AND level = 'school' AND unit_id = 200",
    )
    .await;
    assert!(got.contains("| true  |"), "{got}");
}
