//! An integer literal is `integer` (int4) when it fits, as PostgreSQL
//! types it: DataFusion types every one `bigint`, so `SELECT 1` reached
//! node-postgres as a string (it reads int8 so) and `1 + 2` was bigint
//! arithmetic. [`integer_literals`] narrows them on the plan as planned —
//! before it is described to the client, so the described type and the
//! values sent agree; beside a bigint column type coercion widens them
//! back.

use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// `plan` (as the SQL planner made it) with its integer literals that fit
/// typed `integer`, its schemas recomputed and its column names kept.
/// `LIMIT`/`OFFSET` keep bigints, and so do `VALUES` rows (their schema
/// is fixed as planned).
pub fn integer_literals(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        if matches!(node, LogicalPlan::Limit(_) | LogicalPlan::Values(_)) {
            return Ok(Transformed::no(node));
        }
        // Names stay as planned: the nodes above refer to them.
        let names = NamePreserver::new(&node);
        let narrowed = node.map_expressions(|expr| {
            let saved = names.save(&expr);
            expr.transform_up(|e| match e {
                Expr::Literal(ScalarValue::Int64(Some(v)), meta) => match i32::try_from(v) {
                    Ok(narrow) => Ok(Transformed::yes(Expr::Literal(
                        ScalarValue::Int32(Some(narrow)),
                        meta,
                    ))),
                    Err(_) => Ok(Transformed::no(Expr::Literal(
                        ScalarValue::Int64(Some(v)),
                        meta,
                    ))),
                },
                other => Ok(Transformed::no(other)),
            })
            .map(|t| t.update_data(|e| saved.restore(e)))
        })?;
        // Recomputed whether or not this node changed: a child or a
        // subquery (a scalar one's type) may have.
        Ok(Transformed::yes(narrowed.data.recompute_schema()?))
    })
    .data()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::prelude::SessionContext;

    use super::*;

    #[tokio::test]
    async fn integer_literals_are_int4_when_they_fit_and_names_stay() {
        let ctx = SessionContext::new();
        let sql = "SELECT 1, 1 + 2 AS three, 3000000000 AS big, (SELECT 7) AS sub \
                   FROM (VALUES (5)) AS t(v) WHERE v = 5 LIMIT 10";
        let planned = ctx.state().create_logical_plan(sql).await.unwrap();
        let plan = integer_literals(planned).unwrap();
        let fields: Vec<(String, DataType)> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        assert_eq!(
            fields,
            [
                ("Int64(1)".to_string(), DataType::Int32),
                ("three".to_string(), DataType::Int32),
                ("big".to_string(), DataType::Int64),
                ("sub".to_string(), DataType::Int32),
            ]
        );
        // And it runs: the values are what the schema says.
        let batches = ctx
            .execute_logical_plan(plan)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(batches[0].column(1).data_type(), &DataType::Int32);
    }
}
