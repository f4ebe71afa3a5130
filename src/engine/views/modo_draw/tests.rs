//! The MODO draw over a hand-made country: each exclusion, the quota of
//! each cluster, determinism across runs and thread counts, and the scope.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::{SessionConfig, SessionContext};
use sapa_udfs::modo::draw::draw_key;

use super::ModoDraw;
use crate::engine::scoped::{Units, member};
use crate::engine::views::test_tables::{put, put_rest_empty};
use crate::storage::StoredTable;

/// `(school, district, locality, language, type, internet, grade 4,
/// grade 9, other grades)`.
type School = (
    i64,
    i64,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    i64,
);

const SCHOOLS: &[School] = &[
    // Excluded, district 10: an evening school; 79 students in grades 4
    // and 9 (plus one who left before and one who came after the count
    // date, and 2023 enrollments never closed); internet 3.9; internet
    // unknown; a school of another ministry (`other`).
    (1, 10, "urban", "kk", "evening", "10.0", 50, 50, 0),
    (2, 10, "urban", "kk", "general", "10.0", 40, 39, 0),
    (3, 10, "urban", "kk", "general", "3.9", 40, 40, 0),
    (5, 10, "urban", "kk", "general", "NULL", 40, 40, 0),
    (7, 10, "urban", "kk", "other", "10.0", 40, 40, 0),
    // urban/general/small/kk: 2 schools, quota 1 (at least one). School 4
    // has exactly 80 students and exactly 4 Mbit/s.
    (4, 10, "urban", "kk", "general", "4.0", 40, 40, 0),
    (6, 10, "urban", "kk", "general", "10.0", 40, 40, 0),
    // rural/lyceum/medium/ru: 10 schools of 300 students, quota 3 (2.5
    // rounded half up), in two regions.
    (11, 11, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (12, 11, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (13, 11, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (14, 11, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (15, 11, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (16, 20, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (17, 20, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (18, 20, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (19, 20, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    (20, 20, "rural", "ru", "lyceum", "8.0", 40, 40, 220),
    // urban/gymnasium/small/kk: 6 schools, quota 2 (1.5 rounded half up).
    (21, 20, "urban", "kk", "gymnasium", "20.0", 50, 50, 0),
    (22, 20, "urban", "kk", "gymnasium", "20.0", 50, 50, 0),
    (23, 20, "urban", "kk", "gymnasium", "20.0", 50, 50, 0),
    (24, 20, "urban", "kk", "gymnasium", "20.0", 50, 50, 0),
    (25, 20, "urban", "kk", "gymnasium", "20.0", 50, 50, 0),
    (26, 20, "urban", "kk", "gymnasium", "20.0", 50, 50, 0),
    // urban/specialized/small/mixed: its own cluster, quota 1.
    (30, 20, "urban", "mixed", "specialized", "20.0", 45, 45, 0),
];

/// The clusters of the eligible schools with their hand quotas.
const QUOTAS: [(&str, usize); 4] = [
    ("rural/lyceum/medium/ru", 3),
    ("urban/general/small/kk", 1),
    ("urban/gymnasium/small/kk", 2),
    ("urban/specialized/small/mixed", 1),
];

async fn context(partitions: usize) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions);
    let ctx = SessionContext::new_with_config(config);
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
        "(10, 1, 'a', 'a'), (11, 1, 'b', 'b'), (20, 2, 'c', 'c')",
        1,
    )
    .await;
    let schools: Vec<String> = SCHOOLS
        .iter()
        .map(|(id, d, loc, lang, kind, net, ..)| {
            format!("({id}, {d}, 's', 's', '{loc}', '{lang}', '{kind}', CAST({net} AS DOUBLE))")
        })
        .collect();
    put(&ctx, StoredTable::Schools, &schools.join(", "), 2).await;
    // The count date of 2024 is its Q3 end, 2025-03-21.
    put(
        &ctx,
        StoredTable::Calendar,
        "(2023, 'Q3', DATE '2024-01-08', DATE '2024-03-20'), \
         (2024, 'Q3', DATE '2025-01-08', DATE '2025-03-21'), \
         (2024, 'Q4', DATE '2025-03-31', DATE '2025-05-25')",
        1,
    )
    .await;
    let (mut classes, mut enrollments) = (Vec::new(), Vec::new());
    for &(id, _, _, _, _, _, n4, n9, rest) in SCHOOLS {
        for (code, parallel, n) in [(1, 4, n4), (2, 9, n9), (3, 5, rest)] {
            let class = id * 10 + code;
            classes.push(format!(
                "({class}, {id}, 2024, {parallel}, 'A', 'criterial', 'quarter')"
            ));
            for i in 0..n {
                let student = id * 10_000 + code * 1_000 + i;
                enrollments.push(format!("({student}, {class}, DATE '2024-09-01', NULL)"));
            }
        }
    }
    // School 2: enrollments not active on 2025-03-21, and a 2023 class.
    classes.push("(24, 2, 2023, 4, 'A', 'criterial', 'quarter')".to_string());
    enrollments.push("(29001, 21, DATE '2024-09-01', DATE '2025-03-20')".to_string());
    enrollments.push("(29002, 21, DATE '2025-03-22', NULL)".to_string());
    for i in 0..5 {
        enrollments.push(format!("({}, 24, DATE '2023-09-01', NULL)", 29_100 + i));
    }
    put(&ctx, StoredTable::Classes, &classes.join(", "), 4).await;
    put(&ctx, StoredTable::Enrollments, &enrollments.join(", "), 4).await;
    put_rest_empty(&ctx).await;
    crate::engine::views::register(&ctx).await.unwrap();
    ctx
}

async fn batches(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The drawn schools by cluster, in draw order.
async fn draw(ctx: &SessionContext, seed: i64) -> BTreeMap<String, Vec<i64>> {
    let sql = format!(
        "SELECT cluster_key, school_id FROM modo_draw(2024, {seed}) ORDER BY cluster_key, rank_in_cluster"
    );
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for batch in batches(ctx, &sql).await {
        let clusters = datafusion::arrow::compute::cast(
            batch.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let clusters = clusters.as_string::<i32>();
        let schools = batch.column(1).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            out.entry(clusters.value(i).to_string())
                .or_default()
                .push(schools.value(i));
        }
    }
    out
}

/// What the rules give by hand: each cluster's schools in ascending
/// (draw key, id), the first `quota` of them.
fn expected(seed: i64) -> BTreeMap<String, Vec<i64>> {
    let members = |c: &str| -> Vec<i64> {
        match c {
            "urban/general/small/kk" => vec![4, 6],
            "rural/lyceum/medium/ru" => (11..=20).collect(),
            "urban/gymnasium/small/kk" => (21..=26).collect(),
            _ => vec![30],
        }
    };
    QUOTAS
        .iter()
        .map(|(cluster, quota)| {
            let mut ids = members(cluster);
            ids.sort_by_key(|&id| (draw_key(seed, id), id));
            ids.truncate(*quota);
            (cluster.to_string(), ids)
        })
        .collect()
}

#[tokio::test]
async fn the_draw_follows_the_exclusions_clusters_and_quotas() {
    let ctx = context(4).await;
    let got = draw(&ctx, 7).await;
    assert_eq!(got, expected(7));
    let sizes: Vec<(String, usize)> = got.iter().map(|(c, s)| (c.clone(), s.len())).collect();
    let quotas: Vec<(String, usize)> = QUOTAS.iter().map(|(c, q)| (c.to_string(), *q)).collect();
    assert_eq!(sizes, quotas);
    // The counts the rules were applied to, for every eligible school.
    let counts = batches(
        &ctx,
        "SELECT count(*), min(students_4_9), max(students_4_9), min(cluster_schools), \
         max(cluster_quota) FROM modo_draw(2024, 7) WHERE school_id IN (4, 6)",
    )
    .await;
    let row: Vec<i64> = (0..5)
        .map(|i| counts[0].column(i).as_primitive::<Int64Type>().value(0))
        .collect();
    assert_eq!(row[1..], [80, 80, 2, 1]);
}

#[tokio::test]
async fn every_exclusion_keeps_a_school_out_whatever_the_seed() {
    let ctx = context(2).await;
    for seed in 0..40 {
        for schools in draw(&ctx, seed).await.values() {
            for excluded in [1, 2, 3, 5, 7] {
                assert!(
                    !schools.contains(&excluded),
                    "seed {seed}: school {excluded}"
                );
            }
        }
    }
    // With a minimum of 79, school 2 joins its cluster (3 schools, quota 1).
    let got = batches(
        &ctx,
        "SELECT max(cluster_schools) FROM modo_draw(2024, 1, 79) \
         WHERE cluster_key = 'urban/general/small/kk'",
    )
    .await;
    assert_eq!(got[0].column(0).as_primitive::<Int64Type>().value(0), 3);
    // School 2 would have 80 with the enrollments the count date leaves out.
    let got = batches(
        &ctx,
        "SELECT count(*) FROM modo_draw(2024, 1) WHERE school_id = 2",
    )
    .await;
    assert_eq!(got[0].column(0).as_primitive::<Int64Type>().value(0), 0);
}

#[tokio::test]
async fn the_same_seed_draws_the_same_schools_on_any_thread_count() {
    let one = context(1).await;
    let four = context(4).await;
    let first = draw(&one, 2024).await;
    assert_eq!(first, draw(&one, 2024).await);
    assert_eq!(first, draw(&four, 2024).await);
    assert_eq!(first, expected(2024));
    // Another seed, another draw (the same quotas).
    let other = draw(&four, 2025).await;
    assert_ne!(first, other);
    assert_eq!(other, expected(2025));
}

#[tokio::test]
async fn a_year_without_a_q3_draws_nothing_and_bad_arguments_are_named() {
    let ctx = context(1).await;
    assert_eq!(draw_rows(&ctx, "SELECT * FROM modo_draw(2030, 1)").await, 0);
    for (sql, needle) in [
        ("SELECT * FROM modo_draw(2024)", "takes 2 or 3 arguments"),
        (
            "SELECT * FROM modo_draw(2024, 1, -1)",
            "must not be negative",
        ),
        ("SELECT * FROM modo_draw('2024', 1)", "academic_year"),
        ("SELECT * FROM modo_draw(2024, NULL)", "seed"),
        ("SELECT * FROM modo_draw(2024, 1.5)", "seed"),
    ] {
        let err = match ctx.sql(sql).await {
            Err(e) => e.to_string(),
            Ok(df) => df
                .collect()
                .await
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string()),
        };
        assert!(err.contains(needle), "{sql}: {err}");
    }
}

async fn draw_rows(ctx: &SessionContext, sql: &str) -> usize {
    batches(ctx, sql)
        .await
        .iter()
        .map(RecordBatch::num_rows)
        .sum()
}

#[tokio::test]
async fn a_scope_sees_the_countrys_draw_among_its_schools() {
    let ctx = context(4).await;
    let country = draw(&ctx, 11).await;
    // Region 2: districts 20's schools 16–30.
    let units = Units {
        regions: Some(vec![2]),
        districts: Some(vec![20]),
        schools: Some((16..=30).collect()),
    };
    let scoped = SessionContext::new();
    let filter = member("school_id", &units.schools);
    scoped.register_udtf(
        super::NAME,
        ModoDraw::filtered(&ctx, &filter).await.unwrap(),
    );
    let got = draw(&scoped, 11).await;
    let want: BTreeMap<String, Vec<i64>> = country
        .iter()
        .map(|(c, s)| {
            (
                c.clone(),
                s.iter()
                    .copied()
                    .filter(|id| (16..=30).contains(id))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, s)| !s.is_empty())
        .collect();
    assert_eq!(got, want);
    // The ranks and quotas are the country's, not recomputed in the scope.
    let ranks = batches(
        &scoped,
        "SELECT max(cluster_schools) FROM modo_draw(2024, 11) WHERE cluster_key = 'rural/lyceum/medium/ru'",
    )
    .await;
    let max = ranks[0].column(0).as_primitive::<Int64Type>();
    assert!(max.is_null(0) || max.value(0) == 10);
}
