//! Defaults chosen from a hand-built `student_status`, checks of the given
//! parameters, and the binding of all nine placeholders.

use std::sync::Arc;

use datafusion::arrow::array::{Int32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;

use super::*;
use crate::reports::{CannedQuery, run};

/// 2023 has every period; 2024 so far Q1 and Q2. Region 2 has district 19
/// with school 900.
async fn context() -> SessionContext {
    let ctx = SessionContext::new();
    let statuses: [(i32, &str); 7] = [
        (2023, "Q1"),
        (2023, "Q2"),
        (2023, "Q3"),
        (2023, "Q4"),
        (2023, "YEAR"),
        (2024, "Q2"),
        (2024, "Q1"),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("academic_year", DataType::Int32, false),
        Field::new("period", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int32Array::from_iter_values(statuses.iter().map(|s| s.0))),
            Arc::new(StringArray::from_iter_values(statuses.iter().map(|s| s.1))),
        ],
    )
    .unwrap();
    register(&ctx, "student_status", batch);
    for (table, column, id) in [
        ("regions", "region_id", 2),
        ("districts", "district_id", 19),
        ("schools", "school_id", 900),
    ] {
        let schema = Arc::new(Schema::new(vec![Field::new(
            column,
            DataType::Int64,
            false,
        )]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![id]))]).unwrap();
        register(&ctx, table, batch);
    }
    ctx
}

fn register(ctx: &SessionContext, name: &str, batch: RecordBatch) {
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap();
    ctx.register_table(name, Arc::new(table)).unwrap();
}

const ALL: &str = "-- title: Every placeholder
-- params: year period from unit
SELECT $year AS year, $period AS period, $from_year AS from_year,
       $from_period AS from_period, $unit_level AS unit_level, $unit_id AS unit_id,
       $region_id AS region_id, $district_id AS district_id, $school_id AS school_id";

fn all_params() -> CannedQuery {
    CannedQuery::parse("all", ALL).unwrap()
}

#[tokio::test]
async fn defaults_are_the_latest_quarter_and_the_one_before() {
    let ctx = context().await;
    let params = resolve_defaults(&ctx, &all_params(), ReportParams::default())
        .await
        .unwrap();
    assert_eq!(
        params,
        ReportParams {
            year: Some(2024),
            period: Some(Period::Q2),
            from: Some(PeriodRef {
                year: 2024,
                period: Period::Q1
            }),
            unit: Some(Unit::Country),
        }
    );
}

#[tokio::test]
async fn the_default_base_of_q1_is_the_previous_years_q4() {
    let ctx = context().await;
    let given = ReportParams {
        period: Some(Period::Q1),
        ..ReportParams::default()
    };
    let params = resolve_defaults(&ctx, &all_params(), given).await.unwrap();
    assert_eq!(params.year, Some(2024));
    assert_eq!(
        params.from,
        Some(PeriodRef {
            year: 2023,
            period: Period::Q4
        })
    );
    // A given year's default period is its latest quarter, never YEAR.
    let given = ReportParams {
        year: Some(2023),
        ..ReportParams::default()
    };
    let params = resolve_defaults(&ctx, &all_params(), given).await.unwrap();
    assert_eq!(params.period, Some(Period::Q4));
    assert_eq!(params.from.map(|f| f.to_string()), Some("2023:Q3".into()));
}

#[tokio::test]
async fn a_year_without_quarters_has_no_default_period() {
    let ctx = context().await;
    let given = ReportParams {
        year: Some(2019),
        ..ReportParams::default()
    };
    let err = resolve_defaults(&ctx, &all_params(), given)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("2019"), "{err}");
}

#[tokio::test]
async fn only_declared_params_are_resolved_and_accepted() {
    let ctx = context().await;
    let query =
        CannedQuery::parse("by_year", "-- title: T\n-- params: year\nSELECT $year").unwrap();
    let params = resolve_defaults(&ctx, &query, ReportParams::default())
        .await
        .unwrap();
    assert_eq!(
        params,
        ReportParams {
            year: Some(2024),
            ..ReportParams::default()
        }
    );
    let given = ReportParams {
        period: Some(Period::Q3),
        ..ReportParams::default()
    };
    let err = resolve_defaults(&ctx, &query, given).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "report by_year does not take --period (its parameters: year)"
    );
}

#[tokio::test]
async fn units_must_exist() {
    let ctx = context().await;
    for unit in [Unit::Region(2), Unit::District(19), Unit::School(900)] {
        let given = ReportParams {
            unit: Some(unit),
            ..ReportParams::default()
        };
        let params = resolve_defaults(&ctx, &all_params(), given).await.unwrap();
        assert_eq!(params.unit, Some(unit));
    }
    let given = ReportParams {
        unit: Some(Unit::District(2)),
        ..ReportParams::default()
    };
    let err = resolve_defaults(&ctx, &all_params(), given)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no district with id 2 in the data");
}

#[tokio::test]
async fn all_nine_placeholders_are_bound_typed() {
    let ctx = context().await;
    let params = ReportParams {
        year: Some(2024),
        period: Some(Period::Q2),
        from: Some(PeriodRef {
            year: 2023,
            period: Period::Year,
        }),
        unit: Some(Unit::District(19)),
    };
    let batches = run(&ctx, &all_params(), &params).await.unwrap();
    let schema = batches[0].schema();
    let types: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{}:{}", f.name(), f.data_type()))
        .collect();
    assert_eq!(
        types,
        [
            "year:Int32",
            "period:Utf8",
            "from_year:Int32",
            "from_period:Utf8",
            "unit_level:Utf8",
            "unit_id:Int64",
            "region_id:Int64",
            "district_id:Int64",
            "school_id:Int64"
        ]
    );
    let text = pretty_format_batches(&batches).unwrap().to_string();
    assert!(
        text.contains("| 2024 | Q2     | 2023      | YEAR        | district   | 19      |           | 19          |           |"),
        "{text}"
    );
}

#[tokio::test]
async fn extra_bindings_are_harmless_and_nulls_are_typed() {
    let ctx = context().await;
    // Uses only $region_id; the eight others are bound too. For the country
    // it is a NULL that still compares as an Int64.
    let query = CannedQuery::parse(
        "regions",
        "-- title: T\n-- params: unit\n\
         SELECT count(*) AS n FROM student_status \
         WHERE ($region_id IS NULL OR academic_year = $region_id + 2022)",
    )
    .unwrap();
    let count = |unit| {
        let ctx = &ctx;
        let query = &query;
        async move {
            let params = ReportParams {
                unit: Some(unit),
                ..ReportParams::default()
            };
            let batches = run(ctx, query, &params).await.unwrap();
            pretty_format_batches(&batches).unwrap().to_string()
        }
    };
    assert!(count(Unit::Country).await.contains("| 7 |"));
    // Region 2: academic_year 2024 only.
    assert!(count(Unit::Region(2)).await.contains("| 2 |"));
}
