//! `modo_results` and `modo_inflation` (SPEC §9) over a hand-made dataset,
//! every figure computed by hand below.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;

use super::test_tables::{put, put_rest_empty};
use crate::storage::StoredTable;

/// Region 1: district 10 (schools 100, 101), district 11 (school 110, no
/// MODO). Region 2: district 20 (school 200). Academic year 2024.
///
/// Grade 4 (maxima reading 10, math 12, science 8; total 30):
/// - s1 @100: 10, 12, 8 → 100 % each, total 30/30 = 100 % excellent
/// - s2 @100: 4 (40 % satisfactory), 6 (50 % sat.), 2 (25 % low) → total
///   12/30 = 40 % satisfactory
/// - s3 @100: 7 (70 % good), 3 (25 % low), 6 (75 % good) → total 16/30 =
///   53.33 % satisfactory
/// - s4 @100: reading 5 only (50 % sat.): no total
/// - s5 @101: 9 (90 % exc.), 10 (83.33 % good), 7 (87.5 % exc.) → total
///   26/30 = 86.67 % excellent
/// - s6 @101: 0, 0, 0 → low, total 0 % low
///
/// Grade 9 (30, 13, 32; total 75): s7 @200: 15 (50 %), 13 (100 %), 16
/// (50 %) → total 44/75 = 58.67 % satisfactory.
async fn context() -> SessionContext {
    let ctx = SessionContext::new();
    sapa_udfs::register_all(&ctx);
    put(
        &ctx,
        StoredTable::Regions,
        "(1, 'R1', 'R1'), (2, 'R2', 'R2')",
        1,
    )
    .await;
    put(
        &ctx,
        StoredTable::Districts,
        "(10, 1, 'D10', 'D10'), (11, 1, 'D11', 'D11'), (20, 2, 'D20', 'D20')",
        1,
    )
    .await;
    put(
        &ctx,
        StoredTable::Schools,
        "(100, 10, 'a', 'a', 'urban', 'kk', 'general', 10.0), \
         (101, 10, 'b', 'b', 'urban', 'kk', 'general', 10.0), \
         (110, 11, 'c', 'c', 'rural', 'ru', 'general', 10.0), \
         (200, 20, 'd', 'd', 'urban', 'ru', 'lyceum', 10.0)",
        1,
    )
    .await;
    let modo = [
        (1, 100, 4, [10, 12, 8]),
        (2, 100, 4, [4, 6, 2]),
        (3, 100, 4, [7, 3, 6]),
        (5, 101, 4, [9, 10, 7]),
        (6, 101, 4, [0, 0, 0]),
        (7, 200, 9, [15, 13, 16]),
    ];
    let mut rows = Vec::new();
    for (student, school, grade, scores) in modo {
        let maxima = if grade == 4 {
            [10, 12, 8]
        } else {
            [30, 13, 32]
        };
        for ((domain, score), max) in ["reading", "math", "science"]
            .iter()
            .zip(scores)
            .zip(maxima)
        {
            rows.push(format!(
                "({student}, {school}, 2024, {grade}, '{domain}', {score}.0, {max}.0)"
            ));
        }
    }
    rows.push("(4, 100, 2024, 4, 'reading', 5.0, 10.0)".to_string());
    put(&ctx, StoredTable::Modo, &rows.join(", "), 3).await;
    // YEAR statuses (and a Q4 one that must not count): (period, region,
    // district, school, parallel, student, status).
    let statuses = [
        ("YEAR", 1, 10, 100, 4, 1, "excellent"),
        ("Q4", 1, 10, 100, 4, 1, "low"),
        ("YEAR", 1, 10, 100, 4, 2, "good"),
        ("YEAR", 1, 10, 100, 4, 3, "exempt"),
        ("YEAR", 1, 10, 100, 4, 4, "good"),
        ("YEAR", 1, 10, 100, 4, 10, "low"),
        ("YEAR", 1, 10, 100, 4, 11, "satisfactory"),
        ("YEAR", 1, 10, 101, 4, 5, "exempt"),
        ("YEAR", 1, 10, 101, 4, 6, "exempt"),
        ("YEAR", 1, 11, 110, 4, 12, "good"),
        ("YEAR", 2, 20, 200, 9, 7, "good"),
        ("YEAR", 2, 20, 200, 9, 8, "excellent"),
        ("YEAR", 2, 20, 200, 9, 9, "exempt"),
    ];
    let rows: Vec<String> = statuses
        .iter()
        .map(|(period, r, d, s, p, st, status)| {
            format!(
                "(2024, '{period}', {r}, {d}, {s}, {s}{p}, {p}, {st}, '{status}', 10, 'urban', 'kk', 'general')"
            )
        })
        .collect();
    put(&ctx, StoredTable::StudentStatus, &rows.join(", "), 2).await;
    put_rest_empty(&ctx).await;
    super::register(&ctx).await.unwrap();
    ctx
}

async fn table(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

const LEVEL_ORDER: &str =
    "CASE level WHEN 'school' THEN 0 WHEN 'district' THEN 1 WHEN 'region' THEN 2 ELSE 3 END";

#[tokio::test]
async fn modo_results_match_hand_means_and_band_shares() {
    let ctx = context().await;
    let got = table(
        &ctx,
        &format!(
            "SELECT grade, domain, level, unit_id, students, round(mean_pct, 4) AS mean, \
             n_low AS lo, n_satisfactory AS sat, n_good AS good, n_excellent AS exc, \
             round(low_pct, 4) AS lo_pct, round(quality_pct, 4) AS q_pct \
             FROM modo_results \
             WHERE (level = 'school' AND unit_id = 100) OR domain IN ('reading', 'total') \
             ORDER BY grade, {LEVEL_ORDER}, unit_id, domain"
        ),
    )
    .await;
    // School 100 reading: 100, 40, 70, 50 → 65; math: 100, 50, 25 →
    // 58.33; science: 100, 25, 75 → 66.67; total: 100, 40, 53.33 → 64.44.
    // School 101 reading: 90, 0 → 45; total 86.67, 0 → 43.33.
    // District 10 reading: 100, 40, 70, 50, 90, 0 → 58.33, quality 3/6.
    // District 10 total: 100, 40, 53.33, 86.67, 0 → 56. No rows for 110/11.
    let want = "\
+-------+---------+----------+---------+----------+---------+----+-----+------+-----+---------+---------+
| grade | domain  | level    | unit_id | students | mean    | lo | sat | good | exc | lo_pct  | q_pct   |
+-------+---------+----------+---------+----------+---------+----+-----+------+-----+---------+---------+
| 4     | math    | school   | 100     | 3        | 58.3333 | 1  | 1   | 0    | 1   | 33.3333 | 33.3333 |
| 4     | reading | school   | 100     | 4        | 65.0    | 0  | 2   | 1    | 1   | 0.0     | 50.0    |
| 4     | science | school   | 100     | 3        | 66.6667 | 1  | 0   | 1    | 1   | 33.3333 | 66.6667 |
| 4     | total   | school   | 100     | 3        | 64.4444 | 0  | 2   | 0    | 1   | 0.0     | 33.3333 |
| 4     | reading | school   | 101     | 2        | 45.0    | 1  | 0   | 0    | 1   | 50.0    | 50.0    |
| 4     | total   | school   | 101     | 2        | 43.3333 | 1  | 0   | 0    | 1   | 50.0    | 50.0    |
| 4     | reading | district | 10      | 6        | 58.3333 | 1  | 2   | 1    | 2   | 16.6667 | 50.0    |
| 4     | total   | district | 10      | 5        | 56.0    | 1  | 2   | 0    | 2   | 20.0    | 40.0    |
| 4     | reading | region   | 1       | 6        | 58.3333 | 1  | 2   | 1    | 2   | 16.6667 | 50.0    |
| 4     | total   | region   | 1       | 5        | 56.0    | 1  | 2   | 0    | 2   | 20.0    | 40.0    |
| 4     | reading | country  |         | 6        | 58.3333 | 1  | 2   | 1    | 2   | 16.6667 | 50.0    |
| 4     | total   | country  |         | 5        | 56.0    | 1  | 2   | 0    | 2   | 20.0    | 40.0    |
| 9     | reading | school   | 200     | 1        | 50.0    | 0  | 1   | 0    | 0   | 0.0     | 0.0     |
| 9     | total   | school   | 200     | 1        | 58.6667 | 0  | 1   | 0    | 0   | 0.0     | 0.0     |
| 9     | reading | district | 20      | 1        | 50.0    | 0  | 1   | 0    | 0   | 0.0     | 0.0     |
| 9     | total   | district | 20      | 1        | 58.6667 | 0  | 1   | 0    | 0   | 0.0     | 0.0     |
| 9     | reading | region   | 2       | 1        | 50.0    | 0  | 1   | 0    | 0   | 0.0     | 0.0     |
| 9     | total   | region   | 2       | 1        | 58.6667 | 0  | 1   | 0    | 0   | 0.0     | 0.0     |
| 9     | reading | country  |         | 1        | 50.0    | 0  | 1   | 0    | 0   | 0.0     | 0.0     |
| 9     | total   | country  |         | 1        | 58.6667 | 0  | 1   | 0    | 0   | 0.0     | 0.0     |
+-------+---------+----------+---------+----------+---------+----+-----+------+-----+---------+---------+";
    assert_eq!(got, want, "\n{got}");
}

#[tokio::test]
async fn modo_inflation_sets_marks_beside_the_same_students_scores() {
    let ctx = context().await;
    let got = table(
        &ctx,
        &format!(
            "SELECT grade, level, unit_id, schools, modo_students AS n, \
             round(modo_mean_pct, 4) AS modo, round(modo_quality_pct, 4) AS modo_q, \
             tested_with_status AS st, tested_exempt AS ex, tested_excellent_good AS eg, \
             round(tested_knowledge_quality, 4) AS kq, parallel_students AS ps, \
             round(parallel_knowledge_quality, 4) AS pkq, round(gap, 4) AS gap, \
             round(quality_gap, 4) AS q_gap \
             FROM modo_inflation ORDER BY grade, {LEVEL_ORDER}, unit_id"
        ),
    )
    .await;
    // School 100: tested s1, s2, s3 (s4 has no total): modo (100 + 40 +
    // 53.33) / 3 = 64.44, quality 1/3; statuses excellent, good, exempt:
    // 2 / (3 − 1) = 100; the parallel: 3 / (6 − 1) = 60 (the Q4 status of
    // s1 is not looked at). Gap 100 − 64.44 = 35.56.
    // School 101: both tested exempt: zero denominators, NULL figures.
    // School 200: s7 good: 100; parallel 2 / (3 − 1) = 100.
    // School 110 has no MODO: no row, and not in region 1's parallel.
    let want = "\
+-------+----------+---------+---------+---+---------+---------+----+----+----+-------+----+-------+---------+---------+
| grade | level    | unit_id | schools | n | modo    | modo_q  | st | ex | eg | kq    | ps | pkq   | gap     | q_gap   |
+-------+----------+---------+---------+---+---------+---------+----+----+----+-------+----+-------+---------+---------+
| 4     | school   | 100     |         | 3 | 64.4444 | 33.3333 | 3  | 1  | 2  | 100.0 | 6  | 60.0  | 35.5556 | 66.6667 |
| 4     | school   | 101     |         | 2 | 43.3333 | 50.0    | 2  | 2  | 0  |       | 2  |       |         |         |
| 4     | district | 10      | 2       | 5 | 56.0    | 40.0    | 5  | 3  | 2  | 100.0 | 8  | 60.0  | 44.0    | 60.0    |
| 4     | region   | 1       | 2       | 5 | 56.0    | 40.0    | 5  | 3  | 2  | 100.0 | 8  | 60.0  | 44.0    | 60.0    |
| 4     | country  |         | 2       | 5 | 56.0    | 40.0    | 5  | 3  | 2  | 100.0 | 8  | 60.0  | 44.0    | 60.0    |
| 9     | school   | 200     |         | 1 | 58.6667 | 0.0     | 1  | 0  | 1  | 100.0 | 3  | 100.0 | 41.3333 | 100.0   |
| 9     | district | 20      | 1       | 1 | 58.6667 | 0.0     | 1  | 0  | 1  | 100.0 | 3  | 100.0 | 41.3333 | 100.0   |
| 9     | region   | 2       | 1       | 1 | 58.6667 | 0.0     | 1  | 0  | 1  | 100.0 | 3  | 100.0 | 41.3333 | 100.0   |
| 9     | country  |         | 1       | 1 | 58.6667 | 0.0     | 1  | 0  | 1  | 100.0 | 3  | 100.0 | 41.3333 | 100.0   |
+-------+----------+---------+---------+---+---------+---------+----+----+----+-------+----+-------+---------+---------+";
    assert_eq!(got, want, "\n{got}");
}
