//! Literals typed as PostgreSQL types them.
//!
//! An integer literal is `integer` (int4) when it fits: DataFusion types
//! every one `bigint`, so `SELECT 1` reached node-postgres as a string (it
//! reads int8 so) and `1 + 2` was bigint arithmetic. [`integer_literals`]
//! narrows them on the plan as planned — before it is described to the
//! client, so the described type and the values sent agree; beside a
//! bigint column type coercion widens them back, and int4 arithmetic that
//! overflows fails with 22003 as in PostgreSQL ([`super::checked`]).
//!
//! PostgreSQL types a quoted literal by what it meets: `indisprimary =
//! 't'` compares two booleans (psqlODBC's `SQLPrimaryKeys` sends it).
//! DataFusion types it as text and refuses a boolean compared with text.
//! [`BooleanLiterals`], an analyzer rule that runs before type coercion,
//! reads such a literal as PostgreSQL's boolean input does (`t`, `true`,
//! `yes`, `on`, `1` and the unambiguous prefixes of the words; their
//! opposites), and refuses anything else as PostgreSQL does (SQLSTATE
//! 22P02).

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::{Analyzer, AnalyzerRule};
use sapa_sqlstate::{SqlState, code};

use super::checked::{CheckedArithmetic, expression_schema};

/// A literal that is no boolean, compared with one.
#[derive(Debug, thiserror::Error)]
#[error("invalid input syntax for type boolean: \"{0}\"")]
pub struct InvalidBoolean(pub String);

impl SqlState for InvalidBoolean {
    fn sqlstate(&self) -> &'static str {
        code::INVALID_TEXT_REPRESENTATION
    }
}

/// The analyzer rules of every Sapa session: [`BooleanLiterals`] first (it
/// must see the literals before type coercion refuses them), DataFusion's
/// own, then [`CheckedArithmetic`] (after type coercion).
pub fn analyzer_rules() -> Vec<Arc<dyn AnalyzerRule + Send + Sync>> {
    let mut rules: Vec<Arc<dyn AnalyzerRule + Send + Sync>> = vec![Arc::new(BooleanLiterals)];
    rules.extend(Analyzer::new().rules);
    rules.push(Arc::new(CheckedArithmetic));
    rules
}

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

/// PostgreSQL's boolean input: `None` when `text` is none.
fn boolean(text: &str) -> Option<bool> {
    let t = text.trim().to_ascii_lowercase();
    let prefix_of = |word: &str| !t.is_empty() && word.starts_with(t.as_str());
    match t.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        // "o" alone is on or off: ambiguous, as in PostgreSQL.
        "o" => None,
        _ if prefix_of("true") || prefix_of("yes") || (t.len() >= 2 && prefix_of("on")) => {
            Some(true)
        }
        _ if prefix_of("false") || prefix_of("no") || (t.len() >= 2 && prefix_of("off")) => {
            Some(false)
        }
        _ => None,
    }
}

/// The rule that reads a quoted literal compared with a boolean as one.
#[derive(Debug, Default)]
pub struct BooleanLiterals;

fn is_comparison(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

/// The text of a quoted literal.
fn text_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s),
        _ => None,
    }
}

fn is_boolean(expr: &Expr, schema: &DFSchema) -> bool {
    expr.get_type(schema)
        .is_ok_and(|t| t == datafusion::arrow::datatypes::DataType::Boolean)
}

fn read(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    if !is_comparison(*op) {
        return Ok(Transformed::no(expr));
    }
    let as_boolean = |text: &str| -> Result<Box<Expr>> {
        match boolean(text) {
            Some(b) => Ok(Box::new(Expr::Literal(ScalarValue::Boolean(Some(b)), None))),
            None => Err(InvalidBoolean(text.to_string()).into_datafusion()),
        }
    };
    let (left, right) = match (text_literal(left), text_literal(right)) {
        (None, Some(text)) if is_boolean(left, schema) => (left.clone(), as_boolean(text)?),
        (Some(text), None) if is_boolean(right, schema) => (as_boolean(text)?, right.clone()),
        _ => return Ok(Transformed::no(expr)),
    };
    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr {
        left,
        op: *op,
        right,
    })))
}

impl AnalyzerRule for BooleanLiterals {
    fn name(&self) -> &str {
        "sapa_boolean_literals"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            let schema = expression_schema(&plan)?;
            plan.map_expressions(|expr| expr.transform_up(|e| read(e, &schema)))
        })
        .data()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::execution::SessionStateBuilder;
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

    #[test]
    fn boolean_input_is_postgres_s() {
        for t in ["t", "TRUE", "tr", "y", "yes", "on", "1", " true "] {
            assert_eq!(boolean(t), Some(true), "{t}");
        }
        for f in ["f", "false", "n", "no", "off", "of", "0"] {
            assert_eq!(boolean(f), Some(false), "{f}");
        }
        for bad in ["o", "", "2", "maybe", "truth"] {
            assert_eq!(boolean(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_boolean_meets_a_quoted_literal_as_in_postgres() {
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_analyzer_rules(analyzer_rules())
            .build();
        let ctx = SessionContext::new_with_state(state);
        let sql = "SELECT count(*) FROM (VALUES (true), (false), (true)) AS t(b) \
                   WHERE b = 't' AND 'yes' = b AND b <> 'f'";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let count = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(count, 2);
        // Text compared with text stays text.
        let same = ctx.sql("SELECT 't' = 't'").await.unwrap().collect().await;
        assert!(same.is_ok());
        let err = ctx
            .sql("SELECT * FROM (VALUES (true)) AS t(b) WHERE b = 'maybe'")
            .await
            .unwrap()
            .collect()
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid input syntax for type boolean: \"maybe\""),
            "{err}"
        );
    }
}
