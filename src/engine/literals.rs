//! Literals typed as PostgreSQL types them.
//!
//! Int4 arithmetic that overflows fails with 22003 as in PostgreSQL
//! ([`super::checked`]); the wire narrows integer literals to int4 when
//! they fit (`sapa_postgres::sql::integer_literals`).
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
    use datafusion::execution::SessionStateBuilder;
    use datafusion::prelude::SessionContext;

    use super::*;

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
