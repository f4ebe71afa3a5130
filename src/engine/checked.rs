//! Arithmetic that fails on overflow instead of wrapping.
//!
//! DataFusion plans `+`, `-` and `*` with Arrow's wrapping kernels:
//! `9223372036854775807::bigint + 1` answered −9223372036854775808, and
//! `1e308 * 10` answered `inf`. For national statistics a number that wraps
//! is worse than an error, so [`CheckedArithmetic`] (an analyzer rule,
//! after type coercion) replaces each such operation on two integers or two
//! floats of one type by a function that uses Arrow's checked kernels and
//! fails as PostgreSQL does (SQLSTATE 22003). Column names stay those of
//! the operators (`a + b`), and other types (decimals, dates, intervals)
//! keep DataFusion's kernels.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float32Type, Float64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ReturnFieldArgs,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

/// The analyzer rule that makes `+`, `-` and `*` fail on overflow.
#[derive(Debug, Default)]
pub struct CheckedArithmetic;

impl AnalyzerRule for CheckedArithmetic {
    fn name(&self) -> &str {
        "sapa_checked_arithmetic"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            let schema = expression_schema(&plan)?;
            let names = NamePreserver::new(&plan);
            plan.map_expressions(|expr| {
                let saved = names.save(&expr);
                expr.transform_up(|e| checked(e, &schema))
                    .map(|t| t.update_data(|e| saved.restore(e)))
            })
        })
        .data()
    }
}

/// The schema a node's expressions are typed against: its inputs', or a
/// table scan's own (its filters name the table's columns).
pub(crate) fn expression_schema(plan: &LogicalPlan) -> Result<DFSchema> {
    let mut schema = merge_schema(&plan.inputs());
    if let LogicalPlan::TableScan(scan) = plan {
        schema.merge(&DFSchema::try_from_qualified_schema(
            scan.table_name.clone(),
            &scan.source.schema(),
        )?);
    }
    Ok(schema)
}

static ADD: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| op(Operator::Plus, "checked_add"));
static SUB: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| op(Operator::Minus, "checked_sub"));
static MUL: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| op(Operator::Multiply, "checked_mul"));

/// The checked operators, for a session that decodes plans the analyzer
/// rule made elsewhere (a cluster executor finds them by name).
pub(crate) fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::clone(&ADD), Arc::clone(&SUB), Arc::clone(&MUL)]
}

fn op(op: Operator, name: &'static str) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(Checked {
        op,
        name,
        signature: Signature::any(2, Volatility::Immutable),
    }))
}

/// `expr` with a checked function in place of its operator, where the
/// operator is `+`, `-` or `*` on two integers or two floats of one type.
fn checked(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    // `-x` is `0 - x`: the negation of the smallest integer overflows too.
    if let Expr::Negative(inner) = &expr
        && let Ok(ty) = inner.get_type(schema)
        && ty.is_signed_integer()
    {
        let Expr::Negative(inner) = expr else {
            return Ok(Transformed::no(expr));
        };
        let zero = Expr::Literal(ScalarValue::new_zero(&ty)?, None);
        return Ok(Transformed::yes(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::clone(&SUB), vec![zero, *inner]),
        )));
    }
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let udf = match op {
        Operator::Plus => &ADD,
        Operator::Minus => &SUB,
        Operator::Multiply => &MUL,
        _ => return Ok(Transformed::no(expr)),
    };
    // A type that cannot be told here is left to DataFusion.
    let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else {
        return Ok(Transformed::no(expr));
    };
    if l != r || !(l.is_integer() || l.is_floating()) {
        return Ok(Transformed::no(expr));
    }
    let Expr::BinaryExpr(BinaryExpr { left, right, .. }) = expr else {
        return Ok(Transformed::no(expr));
    };
    Ok(Transformed::yes(Expr::ScalarFunction(
        ScalarFunction::new_udf(Arc::clone(udf), vec![*left, *right]),
    )))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Checked {
    op: Operator,
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for Checked {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        args.first()
            .cloned()
            .ok_or_else(|| DataFusionError::Plan(format!("{} takes two arguments", self.name)))
    }

    /// Null only where an operand may be null, as the operator's result:
    /// plans keep the nullability their schemas were made with.
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        let ty = self.return_type(
            &args
                .arg_fields
                .iter()
                .map(|f| f.data_type().clone())
                .collect::<Vec<_>>(),
        )?;
        Ok(Arc::new(Field::new(self.name, ty, nullable)))
    }

    /// Null in, null out, as the operator.
    fn is_strict(&self) -> bool {
        true
    }

    /// The operator's own name (`a + b`), so columns are named as written.
    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        match args {
            [l, r] => Ok(format!(
                "{} {} {}",
                l.schema_name(),
                self.op,
                r.schema_name()
            )),
            _ => Ok(self.name.to_string()),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [l, r] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(format!(
                "{} takes two arguments",
                self.name
            )));
        };
        let scalars = matches!((l, r), (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_)));
        let (la, ra) = (datum(l)?, datum(r)?);
        let (ld, rd): (
            &dyn datafusion::arrow::array::Datum,
            &dyn datafusion::arrow::array::Datum,
        ) = (&la, &ra);
        let out = match self.op {
            Operator::Plus => numeric::add(ld, rd),
            Operator::Minus => numeric::sub(ld, rd),
            _ => numeric::mul(ld, rd),
        }
        .map_err(|err| out_of_range(err, l.data_type()))?;
        if out.data_type().is_floating() && overflowed(&out, l, r)? {
            return Err(out_of_range(
                ArrowError::ArithmeticOverflow(String::new()),
                l.data_type(),
            ));
        }
        if scalars {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// A value as an Arrow datum: an array, or a scalar of one row.
fn datum(value: &ColumnarValue) -> Result<Either> {
    Ok(match value {
        ColumnarValue::Array(array) => Either::Array(Arc::clone(array)),
        ColumnarValue::Scalar(scalar) => Either::Scalar(scalar.to_scalar()?),
    })
}

enum Either {
    Array(ArrayRef),
    Scalar(datafusion::arrow::array::Scalar<ArrayRef>),
}

impl datafusion::arrow::array::Datum for Either {
    fn get(&self) -> (&dyn Array, bool) {
        match self {
            Either::Array(array) => (array.as_ref(), false),
            Either::Scalar(scalar) => scalar.get(),
        }
    }
}

/// Whether float arithmetic made an infinity of finite operands.
fn overflowed(out: &ArrayRef, l: &ColumnarValue, r: &ColumnarValue) -> Result<bool> {
    fn any_infinite(array: &dyn Array) -> bool {
        match array.data_type() {
            DataType::Float64 => array
                .as_primitive::<Float64Type>()
                .iter()
                .any(|v| v.is_some_and(f64::is_infinite)),
            DataType::Float32 => array
                .as_primitive::<Float32Type>()
                .iter()
                .any(|v| v.is_some_and(f32::is_infinite)),
            _ => false,
        }
    }
    if !any_infinite(out.as_ref()) {
        return Ok(false);
    }
    let operands = [l.to_array(1)?, r.to_array(1)?];
    Ok(!operands.iter().any(|a| any_infinite(a.as_ref())))
}

/// PostgreSQL's words for a result out of its type's range (22003).
fn out_of_range(err: ArrowError, ty: DataType) -> DataFusionError {
    let name = match ty {
        DataType::Int16 | DataType::UInt8 | DataType::Int8 => "smallint",
        DataType::Int32 | DataType::UInt16 => "integer",
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint",
        DataType::Float32 => "real",
        DataType::Float64 => "double precision",
        _ => return DataFusionError::ArrowError(Box::new(err), None),
    };
    match err {
        ArrowError::ArithmeticOverflow(_) => DataFusionError::ArrowError(
            Box::new(ArrowError::ArithmeticOverflow(format!(
                "{name} out of range"
            ))),
            None,
        ),
        other => DataFusionError::ArrowError(Box::new(other), None),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use datafusion::execution::SessionStateBuilder;
    use datafusion::prelude::SessionContext;

    use super::*;

    fn context(checked: bool) -> SessionContext {
        let mut builder = SessionStateBuilder::new().with_default_features();
        if checked {
            builder = builder.with_analyzer_rule(Arc::new(CheckedArithmetic));
        }
        SessionContext::new_with_state(builder.build())
    }

    async fn answer(ctx: &SessionContext, sql: &str) -> Result<String> {
        let batches = ctx.sql(sql).await?.collect().await?;
        Ok(datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
    }

    #[tokio::test]
    async fn overflow_fails_with_the_type_named() {
        let ctx = context(true);
        for (sql, expected) in [
            (
                "SELECT 9223372036854775807::bigint + 1",
                "bigint out of range",
            ),
            (
                "SELECT (-9223372036854775807)::bigint - 2",
                "bigint out of range",
            ),
            (
                "SELECT 4294967296::bigint * 4294967296",
                "bigint out of range",
            ),
            ("SELECT 2147483647::int + 1::int", "integer out of range"),
            ("SELECT -(-9223372036854775807 - 1)", "bigint out of range"),
            ("SELECT 1e308::double * 10", "double precision out of range"),
            (
                "SELECT x + 1 FROM (VALUES (9223372036854775806), (9223372036854775807)) t(x)",
                "bigint out of range",
            ),
        ] {
            let err = answer(&ctx, sql).await.unwrap_err();
            assert!(
                matches!(err.find_root(), DataFusionError::ArrowError(e, _)
                    if matches!(**e, ArrowError::ArithmeticOverflow(_))),
                "{sql}: {err:?}"
            );
            assert!(err.to_string().contains(expected), "{sql}: {err}");
        }
    }

    #[tokio::test]
    async fn answers_and_column_names_are_those_of_the_operators() {
        let sql = "SELECT x + 1, x - y, x * 2, y * 0.5, x + y AS s, -x, -(x - y), \
                   sum(x * y) OVER () FROM (VALUES (1, 2), (3, 4)) t(x, y) \
                   WHERE x + y > 2 ORDER BY x - y";
        let (plain, checked) = (context(false), context(true));
        assert_eq!(
            answer(&checked, sql).await.unwrap(),
            answer(&plain, sql).await.unwrap()
        );
        let grouped = "SELECT x + y, count(*) FROM (VALUES (1, 2), (2, 1)) t(x, y) GROUP BY x + y";
        assert_eq!(
            answer(&checked, grouped).await.unwrap(),
            answer(&plain, grouped).await.unwrap()
        );
        // Infinity in, infinity out: only overflow is refused.
        assert!(
            answer(&checked, "SELECT 'inf'::double + 1")
                .await
                .unwrap()
                .contains("inf")
        );
    }
}
