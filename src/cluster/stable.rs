//! Plans that decode as they were encoded.
//!
//! DataFusion 55's `UnionExec` (and `InterleaveExec`) wraps an input whose
//! columns are less nullable than the union's in a projection of
//! `CAST(col AS same type)` that declares the union's nullability. The
//! protobuf form of a cast keeps its type and not that declaration, so
//! each decode finds the input still non-nullable and wraps it once more:
//! the plan grows by a projection at every hop (front end, scheduler,
//! executor), and what executors run is not what `EXPLAIN` shows nor the
//! scheduler's stage, whose operators Ballista matches with the executors'
//! reports (`engine.rs`). Here such a cast becomes `CASE WHEN true THEN col
//! END`, nullable in any process, so the union is satisfied and every
//! decode gives back the same plan (`rule.rs` checks it does).

use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_expr::expressions::{CaseExpr, CastExpr, Literal};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::PhysicalExpr;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::union::{InterleaveExec, UnionExec};

/// `plan` with the nullability casts under its unions made durable.
pub fn stable_unions(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        if node.downcast_ref::<UnionExec>().is_none()
            && node.downcast_ref::<InterleaveExec>().is_none()
        {
            return Ok(Transformed::no(node));
        }
        let mut changed = false;
        let children = node
            .children()
            .into_iter()
            .map(|child| {
                let (child, done) = durable(Arc::clone(child))?;
                changed |= done;
                Ok(child)
            })
            .collect::<Result<Vec<_>>>()?;
        if changed {
            Ok(Transformed::yes(
                datafusion::physical_plan::execution_plan::replace_children_if_necessary(
                    node, children,
                )?,
            ))
        } else {
            Ok(Transformed::no(node))
        }
    })
    .map(|t| t.data)
}

/// A union input: its relabelling casts as `CASE`s, and whether any was.
fn durable(child: Arc<dyn ExecutionPlan>) -> Result<(Arc<dyn ExecutionPlan>, bool)> {
    let Some(projection) = child.downcast_ref::<ProjectionExec>() else {
        return Ok((child, false));
    };
    let input = projection.input();
    let schema = input.schema();
    let mut changed = false;
    let exprs = projection
        .expr()
        .iter()
        .map(|p| {
            let expr = match relabelled(&p.expr, &schema)? {
                Some(inner) => {
                    changed = true;
                    nullable(inner)?
                }
                None => Arc::clone(&p.expr),
            };
            Ok(ProjectionExpr {
                expr,
                alias: p.alias.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if !changed {
        return Ok((child, false));
    }
    let rebuilt: Arc<dyn ExecutionPlan> =
        Arc::new(ProjectionExec::try_new(exprs, Arc::clone(input))?);
    Ok((rebuilt, true))
}

/// The cast's input if `expr` is a cast to its input's own type that only
/// declares it nullable.
fn relabelled(
    expr: &Arc<dyn PhysicalExpr>,
    schema: &datafusion::arrow::datatypes::Schema,
) -> Result<Option<Arc<dyn PhysicalExpr>>> {
    let Some(cast) = expr.downcast_ref::<CastExpr>() else {
        return Ok(None);
    };
    let inner = cast.expr();
    let same_type = inner.data_type(schema)? == *cast.cast_type();
    let widens = cast.target_field().is_nullable() && !inner.nullable(schema)?;
    Ok((same_type && widens).then(|| Arc::clone(inner)))
}

/// `CASE WHEN true THEN expr END`: `expr`'s values, declared nullable.
fn nullable(expr: Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
    let always: Arc<dyn PhysicalExpr> = Arc::new(Literal::new(ScalarValue::Boolean(Some(true))));
    Ok(Arc::new(CaseExpr::try_new(
        None,
        vec![(always, expr)],
        None,
    )?))
}
