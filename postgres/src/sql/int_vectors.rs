//! `unnest` and `generate_subscripts` over the catalog's vector columns
//! (`pg_index.indkey`, `indclass`, …), whatever their Arrow form.
//!
//! PostgreSQL's `int2vector`/`oidvector` are arrays (indexed from 0) whose
//! text is the elements separated by spaces; the emulated catalog may hold
//! them as that text or as lists. SQLAlchemy's index and constraint
//! reflection reads them with `unnest(indkey)` beside
//! `generate_subscripts(indkey, 1)`, which DataFusion has not. In catalog
//! statements ([`super::catalog_subqueries::reads_only_catalog`]),
//! `unnest(v)` becomes `unnest(sapa_int_vector(v))` and
//! `generate_subscripts(v, d)` becomes `unnest(sapa_subscripts(v, d))`;
//! DataFusion zips the unnests of one select list as PostgreSQL zips its
//! set-returning functions.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder, ListBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident,
    ObjectName, Query, SelectItem, SetExpr, Statement, Subscript, Value, VisitMut, VisitorMut,
    visit_expressions_mut,
};
use sapa_sqlstate::{SqlState, code};

/// What a vector's text cannot hold.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VectorError {
    /// An element that is no integer.
    #[error("invalid input syntax for type int2vector: \"{0}\"")]
    NotAnInteger(String),
}

impl SqlState for VectorError {
    fn sqlstate(&self) -> &'static str {
        code::INVALID_TEXT_REPRESENTATION
    }
}

/// The functions of this module, for a session to register.
pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(IntVector {
            signature: Signature::any(1, Volatility::Immutable),
        }),
        ScalarUDF::new_from_impl(Subscripts {
            signature: Signature::any(2, Volatility::Immutable),
        }),
    ]
}

fn int_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
}

/// The elements of a vector's text (`"1 2"`, or array text `"{1,2}"`).
fn elements(text: &str) -> Result<Vec<i64>> {
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.parse::<i64>()
                .map_err(|_| VectorError::NotAnInteger(e.to_string()).into_datafusion())
        })
        .collect()
}

/// Each row's list built from `row`, NULL where the input is.
fn lists(
    input: &ArrayRef,
    mut row: impl FnMut(&ArrayRef, usize) -> Result<Vec<i64>>,
) -> Result<ArrayRef> {
    let mut out = ListBuilder::new(Int64Builder::new());
    for i in 0..input.len() {
        if input.is_null(i) {
            out.append_null();
        } else {
            out.values().append_slice(&row(input, i)?);
            out.append(true);
        }
    }
    Ok(Arc::new(out.finish()))
}

fn text_at(input: &ArrayRef, i: usize) -> Result<String> {
    match ScalarValue::try_from_array(input, i)? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Ok(s),
        other => Ok(other.to_string()),
    }
}

fn is_text(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// `sapa_int_vector(v)`: a vector's text as a list of integers; a list as is.
#[derive(Debug, PartialEq, Eq, Hash)]
struct IntVector {
    signature: Signature,
}

impl ScalarUDFImpl for IntVector {
    fn name(&self) -> &str {
        "sapa_int_vector"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types {
            [ty] if !is_text(ty) && !ty.is_null() => ty.clone(),
            _ => int_list(),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(
                "sapa_int_vector takes one argument".into(),
            ));
        };
        let input = arg.to_array(args.number_rows)?;
        if !is_text(input.data_type()) && !input.data_type().is_null() {
            return Ok(ColumnarValue::Array(input));
        }
        Ok(ColumnarValue::Array(lists(&input, |a, i| {
            elements(&text_at(a, i)?)
        })?))
    }
}

/// `sapa_subscripts(v, dim)`: the subscripts of dimension 1 of a vector
/// (from 0, as PostgreSQL's vectors) or of a list (from 1); none for any
/// other dimension.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Subscripts {
    signature: Signature,
}

impl ScalarUDFImpl for Subscripts {
    fn name(&self) -> &str {
        "sapa_subscripts"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(int_list())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [vector, dim] = args.args.as_slice() else {
            return Err(DataFusionError::Plan(
                "sapa_subscripts takes two arguments".into(),
            ));
        };
        let rows = args.number_rows;
        let input = vector.to_array(rows)?;
        let dims = dim.to_array(rows)?;
        let text = is_text(input.data_type());
        let mut out = ListBuilder::new(Int64Builder::new());
        for i in 0..rows {
            let first = matches!(
                ScalarValue::try_from_array(&dims, i)?.cast_to(&DataType::Int64)?,
                ScalarValue::Int64(Some(1))
            );
            if input.is_null(i) || dims.is_null(i) {
                out.append_null();
                continue;
            }
            let (from, len) = if text {
                (0, elements(&text_at(&input, i)?)?.len())
            } else if let Some(list) = input.as_list_opt::<i32>() {
                (1, list.value(i).len())
            } else {
                (1, 0)
            };
            if first {
                let len = i64::try_from(len).unwrap_or(i64::MAX);
                out.values().extend((from..from + len).map(Some));
            }
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

fn function_call(name: &str, args: Vec<FunctionArg>) -> Expr {
    Expr::Function(datafusion::sql::sqlparser::ast::Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(datafusion::sql::sqlparser::ast::FunctionArgumentList {
            duplicate_treatment: None,
            args,
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

fn unnamed(expr: Expr) -> FunctionArg {
    FunctionArg::Unnamed(FunctionArgExpr::Expr(expr))
}

/// The catalog's `int2vector`/`oidvector` columns.
const VECTOR_COLUMNS: &[&str] = &[
    "indkey",
    "indclass",
    "indcollation",
    "indoption",
    "proargtypes",
];

/// Whether `expr` names a vector column (`indkey`, `i.indkey`).
fn is_vector_column(expr: &Expr) -> Option<String> {
    let name = match expr {
        Expr::Identifier(ident) => ident,
        Expr::CompoundIdentifier(idents) => idents.last()?,
        _ => return None,
    };
    let lower = name.value.to_ascii_lowercase();
    VECTOR_COLUMNS.contains(&lower.as_str()).then_some(lower)
}

/// A vector is indexed from 0 in PostgreSQL (`i.indkey[ia.attnum - 1]`,
/// psqlODBC's key queries), a list from 1 in DataFusion: each subscript of
/// a vector column moves up by one. And a vector column in the select
/// list is sent as PostgreSQL writes an `int2vector`, its elements between
/// spaces (psqlODBC's `SQLStatistics` reads `indkey` as that text).
fn vector_spellings(statement: &mut Statement) -> bool {
    let mut changed = false;
    let _ = visit_expressions_mut(statement, |expr| {
        // `indkey[…]`, or `i.indkey[…]` (the name a dotted access).
        if let Expr::CompoundFieldAccess { root, access_chain } = expr
            && let Some((AccessExpr::Subscript(Subscript::Index { index }), before)) =
                access_chain.split_last_mut()
            && match before {
                [] => is_vector_column(root).is_some(),
                [.., AccessExpr::Dot(name)] => is_vector_column(name).is_some(),
                _ => false,
            }
        {
            *index = Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(index.clone()))),
                op: BinaryOperator::Plus,
                right: Box::new(Expr::value(Value::Number("1".to_string(), false))),
            };
            changed = true;
        }
        ControlFlow::<()>::Continue(())
    });
    if let Some(projection) = super::rewrite::projection_mut(statement) {
        for item in projection.iter_mut() {
            if let SelectItem::UnnamedExpr(e) = item
                && let Some(name) = is_vector_column(e)
            {
                let text = function_call(
                    "array_to_string",
                    vec![
                        unnamed(e.clone()),
                        unnamed(Expr::value(Value::SingleQuotedString(" ".to_string()))),
                    ],
                );
                *item = SelectItem::ExprWithAlias {
                    expr: text,
                    alias: Ident::new(name),
                };
                changed = true;
            }
        }
    }
    let mut series = SeriesRows { changed: false };
    let _ = statement.visit(&mut series);
    changed | series.changed
}

/// `generate_series(a, b) [AS i]` in a select list, of any query of the
/// statement: set-returning in PostgreSQL (psqlODBC's foreign keys walk a
/// key's columns so), a list in DataFusion; its elements unnested are
/// PostgreSQL's rows.
struct SeriesRows {
    changed: bool,
}

impl VisitorMut for SeriesRows {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in select.projection.iter_mut() {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                    && matches!(e, Expr::Function(f)
                        if f.name.to_string().eq_ignore_ascii_case("generate_series"))
                {
                    *e = function_call("unnest", vec![unnamed(e.clone())]);
                    self.changed = true;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// `statement` (a catalog statement) with `unnest` and
/// `generate_subscripts` over vectors, subscripts of vectors from 0 and
/// vectors in the select list as text (`vector_spellings`), or `None` if
/// it has none of them.
pub fn rewrite(statement: &Statement) -> Option<Statement> {
    let mut rewritten = statement.clone();
    let mut changed = vector_spellings(&mut rewritten);
    let _ = visit_expressions_mut(&mut rewritten, |expr| {
        if let Expr::Function(f) = expr
            && f.over.is_none()
            && let FunctionArguments::List(list) = &f.args
        {
            let name = f.name.0.last().map(|p| p.to_string().to_ascii_lowercase());
            let args: Vec<Expr> = list
                .args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                    _ => None,
                })
                .collect();
            // Already a list: ours, or a series ([`SeriesRows`]).
            let done = |e: &Expr| {
                matches!(e, Expr::Function(g)
                    if g.name.to_string().starts_with("sapa_")
                        || g.name.to_string().eq_ignore_ascii_case("generate_series"))
            };
            match (name.as_deref(), args.as_slice()) {
                (Some("unnest"), [v]) if !done(v) => {
                    let vector = function_call("sapa_int_vector", vec![unnamed(v.clone())]);
                    *expr = function_call("unnest", vec![unnamed(vector)]);
                    changed = true;
                }
                (Some("generate_subscripts"), [v, d]) => {
                    let subscripts = function_call(
                        "sapa_subscripts",
                        vec![unnamed(v.clone()), unnamed(d.clone())],
                    );
                    *expr = function_call("unnest", vec![unnamed(subscripts)]);
                    changed = true;
                }
                _ => {}
            }
        }
        ControlFlow::<()>::Continue(())
    });
    changed.then_some(rewritten)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn vectors_are_indexed_from_0_and_selected_as_text() {
        let sql = "SELECT i.indkey, i.indkey[ia.attnum - 1], indoption[0] \
                   FROM pg_catalog.pg_index i, pg_catalog.pg_attribute ia";
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        let rewritten = rewrite(&statement).unwrap_or_else(|| panic!("{statement:?}"));
        assert_eq!(
            rewritten.to_string(),
            "SELECT array_to_string(i.indkey, ' ') AS indkey, i.indkey[(ia.attnum - 1) + 1], \
             indoption[(0) + 1] FROM pg_catalog.pg_index i, pg_catalog.pg_attribute ia"
        );
    }

    #[test]
    fn series_in_select_lists_are_rows() {
        let sql =
            "SELECT r.i FROM (SELECT generate_series(1, 3) AS i FROM pg_catalog.pg_constraint) r";
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        assert_eq!(
            rewrite(&statement).unwrap().to_string(),
            "SELECT r.i FROM (SELECT unnest(generate_series(1, 3)) AS i \
             FROM pg_catalog.pg_constraint) r"
        );
    }

    #[test]
    fn unnest_and_subscripts_read_vectors() {
        let statement = Parser::parse_sql(
            &PostgreSqlDialect {},
            "SELECT unnest(i.indkey) AS attnum, generate_subscripts(i.indkey, 1) AS ord \
             FROM pg_catalog.pg_index i",
        )
        .unwrap()
        .remove(0);
        assert_eq!(
            rewrite(&statement).unwrap().to_string(),
            "SELECT unnest(sapa_int_vector(i.indkey)) AS attnum, \
             unnest(sapa_subscripts(i.indkey, 1)) AS ord FROM pg_catalog.pg_index i"
        );
    }

    async fn rows(sql: &str) -> Result<String> {
        let ctx = SessionContext::new();
        for udf in udfs() {
            ctx.register_udf(udf);
        }
        let batches = ctx.sql(sql).await?.collect().await?;
        Ok(datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
    }

    #[tokio::test]
    async fn text_vectors_count_from_zero_lists_from_one_nulls_stay_null() {
        let found = rows(
            "SELECT k, unnest(sapa_int_vector(v)) AS a, unnest(sapa_subscripts(v, 1)) AS o \
             FROM (VALUES (1, '3 1'), (2, ''), (3, NULL)) AS t(k, v) ORDER BY k, o",
        )
        .await
        .unwrap();
        let expected = [
            "+---+---+---+",
            "| k | a | o |",
            "+---+---+---+",
            "| 1 | 3 | 0 |",
            "| 1 | 1 | 1 |",
            "+---+---+---+",
        ]
        .join("\n");
        assert_eq!(found, expected);
        let listed = rows(
            "SELECT sapa_int_vector(make_array(4, 5)) AS v, sapa_subscripts(make_array(4, 5), 1) AS s, \
             sapa_subscripts(make_array(4, 5), 2) AS none, sapa_int_vector('{7,8}') AS braces",
        )
        .await
        .unwrap();
        assert!(
            listed.contains("| [4, 5] | [1, 2] | []   | [7, 8] |"),
            "{listed}"
        );
        let bad = rows("SELECT sapa_int_vector('1 x')").await.unwrap_err();
        assert!(bad.to_string().contains("invalid input syntax"), "{bad}");
    }
}
