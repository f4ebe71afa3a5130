//! The functions through SQL on a real session: registration, GROUP BY over
//! several partitions (partial and final aggregation), dictionary input.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, DictionaryArray, Int64Array, RecordBatch, StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::Result;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};

fn context() -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    sapa_udfs::register_all(&ctx);
    ctx
}

/// Runs `sql` and renders every row as its cells joined by `|`.
async fn rows(ctx: &SessionContext, sql: &str) -> Result<Vec<String>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let mut out = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| array_value_to_string(c, row))
                .collect::<Result<_, _>>()?;
            out.push(cells.join("|"));
        }
    }
    Ok(out)
}

#[tokio::test]
async fn register_all_registers_every_function() {
    let ctx = context();
    let state = ctx.state();
    for name in [
        "mark_class",
        "normalize_mark",
        "indicator_band",
        "annual_mark",
        "publication_sunday",
        "update_sunday",
    ] {
        let udf = state.scalar_functions().get(name);
        assert!(udf.is_some(), "{name} not registered");
        assert!(
            udf.and_then(|u| u.documentation()).is_some(),
            "{name} has no documentation"
        );
    }
    let udaf = state.aggregate_functions().get("student_status");
    assert!(udaf.and_then(|u| u.documentation()).is_some());
}

/// Students 1..=4 with marks spread over four partitions, so the partial
/// states of one student meet in the final aggregation.
fn partitions(dictionary: bool) -> Result<(Arc<Schema>, Vec<Vec<RecordBatch>>)> {
    let mark_type = if dictionary {
        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
    } else {
        DataType::Utf8View
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("student", DataType::Int64, false),
        Field::new("mark", mark_type, true),
    ]));
    let parts: [&[(i64, Option<&str>)]; 4] = [
        &[(1, Some("5")), (2, Some("4")), (3, Some("БОС"))],
        &[(1, Some("ЕСП")), (2, Some("2")), (4, None)],
        &[(1, Some("О/Ж")), (3, Some("О/Ж")), (4, Some(""))],
        &[(2, Some("5")), (1, Some("зачёт"))],
    ];
    let mut out = Vec::new();
    for part in parts {
        let students = Int64Array::from_iter_values(part.iter().map(|r| r.0));
        let marks: ArrayRef = if dictionary {
            Arc::new(
                part.iter()
                    .map(|r| r.1)
                    .collect::<DictionaryArray<Int32Type>>(),
            )
        } else {
            Arc::new(StringViewArray::from_iter(part.iter().map(|r| r.1)))
        };
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(students), marks])?;
        out.push(vec![batch]);
    }
    Ok((schema, out))
}

#[tokio::test]
async fn student_status_over_partitions_and_encodings() -> Result<()> {
    for dictionary in [false, true] {
        let ctx = context();
        let (schema, parts) = partitions(dictionary)?;
        ctx.register_table("marks", Arc::new(MemTable::try_new(schema, parts)?))?;
        let got = rows(
            &ctx,
            "SELECT student, student_status(mark) FROM marks GROUP BY student ORDER BY student",
        )
        .await?;
        assert_eq!(
            got,
            ["1|excellent", "2|low", "3|exempt", "4|ungraded"],
            "dictionary: {dictionary}"
        );
        let got = rows(
            &ctx,
            "SELECT student_status(mark) FILTER (WHERE mark <> '2') FROM marks WHERE student = 2",
        )
        .await?;
        // Student 2 without the 2: a 4 and a 5.
        assert_eq!(got, ["good"], "dictionary: {dictionary}");
    }
    Ok(())
}

#[tokio::test]
async fn dictionary_marks_stay_encoded_for_the_aggregate() -> Result<()> {
    let ctx = context();
    let (schema, parts) = partitions(true)?;
    ctx.register_table("marks", Arc::new(MemTable::try_new(schema, parts)?))?;
    let plan = rows(
        &ctx,
        "EXPLAIN SELECT student_status(mark) FROM marks GROUP BY student",
    )
    .await?
    .join("\n");
    assert!(plan.contains("student_status(marks.mark)"), "{plan}");
    assert!(!plan.contains("CAST(marks.mark"), "{plan}");
    Ok(())
}

#[tokio::test]
async fn errors_name_the_value() {
    let ctx = context();
    let err = rows(
        &ctx,
        "SELECT student_status(m) FROM (VALUES ('5'), ('6')) t(m)",
    )
    .await
    .expect_err("6 is no mark");
    assert!(err.to_string().contains("\"6\""), "{err}");
    let err = rows(&ctx, "SELECT indicator_band('quality', 'oblast', 40)")
        .await
        .expect_err("oblast is no level");
    assert!(err.to_string().contains("\"oblast\""), "{err}");
}

#[tokio::test]
async fn scalar_functions_accept_coerced_types() -> Result<()> {
    let ctx = context();
    let got = rows(
        &ctx,
        "SELECT indicator_band('quality', 'school', 40), \
                indicator_band('quality', 'school', CAST(39.99 AS DECIMAL(5, 2))), \
                indicator_band('performance', 'region', 19, 20), \
                mark_class(arrow_cast('УА/Ө', 'LargeUtf8')), \
                publication_sunday('2021-10-29'), \
                update_sunday(TIMESTAMP '2021-10-31 23:59:59')",
    )
    .await?;
    assert_eq!(got, ["high|medium|high|failing|2021-10-31|2021-10-31"]);
    let null_count = ctx
        .sql("SELECT mark_class(NULL), annual_mark(NULL, NULL), indicator_band('quality', 'school', NULL)")
        .await?
        .collect()
        .await?[0]
        .columns()
        .iter()
        .map(|c| c.null_count())
        .sum::<usize>();
    assert_eq!(null_count, 3);
    Ok(())
}
