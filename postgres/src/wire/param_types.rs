//! Parameter types DataFusion leaves unknown that PostgreSQL infers.
//!
//! `typname = ANY($1)` becomes `array_has($1, typname)` (upstream's
//! rewrite), and DataFusion infers no type for a parameter that is a
//! function's argument: it was bound as text, the text of the array
//! (`{int4,text}`) compared with each name, and no row matched. PostgreSQL
//! infers `$1` as an array of the other side's type; so does
//! [`typed_array_parameters`], on the plan a Parse makes.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{Placeholder, ScalarFunction};
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};

/// `plan` with each untyped parameter that is the array of `array_has`
/// typed as a list of the element's type.
pub fn typed_array_parameters(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        let schema = merge_schema(&node.inputs());
        node.map_expressions(|expr| {
            expr.transform_up(|e| {
                let Expr::ScalarFunction(ScalarFunction { func, args }) = &e else {
                    return Ok(Transformed::no(e));
                };
                if func.name() != "array_has" {
                    return Ok(Transformed::no(e));
                }
                let [Expr::Placeholder(Placeholder { id, field: None }), element] = args.as_slice()
                else {
                    return Ok(Transformed::no(e));
                };
                let Ok(element_type) = element.get_type(&schema) else {
                    return Ok(Transformed::no(e));
                };
                let list = DataType::List(Arc::new(Field::new_list_field(element_type, true)));
                let typed = Expr::Placeholder(Placeholder {
                    id: id.clone(),
                    field: Some(Arc::new(Field::new(id.clone(), list, true))),
                });
                Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction {
                    func: Arc::clone(func),
                    args: vec![typed, element.clone()],
                })))
            })
        })
    })
    .data()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    #[tokio::test]
    async fn the_array_of_array_has_is_a_list_of_the_element() {
        let ctx = SessionContext::new();
        let plan = ctx
            .state()
            .create_logical_plan(
                "SELECT x FROM (VALUES ('a'), ('b')) AS t(x) WHERE array_has($1, x)",
            )
            .await
            .unwrap();
        assert_eq!(plan.get_parameter_types().unwrap()["$1"], None);
        let typed = typed_array_parameters(plan).unwrap();
        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        assert_eq!(typed.get_parameter_types().unwrap()["$1"], Some(list));
    }
}
