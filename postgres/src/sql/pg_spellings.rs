//! PostgreSQL spellings DataFusion does not read, respelt before planning
//! (part of [`super::rewrite`]):
//!
//! - `x LIKE 'pg//_%' ESCAPE '/'` (SQLAlchemy's `get_schema_names`):
//!   DataFusion takes only the backslash as the escape, so a literal
//!   pattern is rewritten to escape with it instead.
//! - `'sapa'::name` (psqlODBC): `name` is PostgreSQL's identifier type, text
//!   here.
//! - `SELECT NULL, nspname, NULL …` (psqlODBC's schema list): PostgreSQL
//!   lets unnamed columns share a name; DataFusion refuses two columns
//!   named `NULL`, so each repeat gets a name of its own (clients that send
//!   these read by position).

use sapa_sqlstate::{SqlState, code};
use std::collections::HashSet;
use std::ops::ControlFlow;

use super::rewrite::projection_mut;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::exec_err;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::sql::sqlparser::ast::{
    DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, SelectItem, Statement, Value, ValueWithSpan,
    visit_expressions_mut,
};

/// `pattern` with `escape` as its escape character, respelt with the
/// backslash; `None` when it cannot be (an escape at its end).
fn with_backslash(pattern: &str, escape: char) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            out.push('\\');
            out.push(chars.next()?);
        } else if c == '\\' {
            // A backslash that is not the escape is a literal one.
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `LIKE_PATTERN_FUNCTION(pattern, 'c')`.
fn respelling_call(pattern: Expr, escape: char) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(LIKE_PATTERN_FUNCTION)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![
                FunctionArg::Unnamed(FunctionArgExpr::Expr(pattern)),
                FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(
                    Value::SingleQuotedString(escape.to_string()).with_empty_span(),
                ))),
            ],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// The function that respells a `LIKE` pattern as it runs.
pub(crate) const LIKE_PATTERN_FUNCTION: &str = "sapa_like_pattern";

/// A pattern that ends with its escape character.
#[derive(Debug, thiserror::Error)]
#[error("LIKE pattern must not end with escape character")]
pub(crate) struct EscapeAtEnd;

impl SqlState for EscapeAtEnd {
    fn sqlstate(&self) -> &'static str {
        code::INVALID_ESCAPE_SEQUENCE
    }
}

/// `sapa_like_pattern(pattern, escape)`: the pattern with the backslash as
/// its escape.
pub(crate) fn like_pattern_udf() -> ScalarUDF {
    create_udf(
        LIKE_PATTERN_FUNCTION,
        vec![ArrowType::Utf8, ArrowType::Utf8],
        ArrowType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let (Some(patterns), Some(escapes)) = (arrays.first(), arrays.get(1)) else {
                return exec_err!("{LIKE_PATTERN_FUNCTION} takes a pattern and an escape");
            };
            let patterns = patterns.as_string::<i32>();
            let escapes = escapes.as_string::<i32>();
            let mut out = StringBuilder::with_capacity(patterns.len(), patterns.len() * 8);
            for (pattern, escape) in patterns.iter().zip(escapes.iter()) {
                match (pattern, escape.and_then(|e| e.chars().next())) {
                    (Some(p), Some(e)) => match with_backslash(p, e) {
                        Some(respelt) => out.append_value(respelt),
                        None => return Err(EscapeAtEnd.into_datafusion()),
                    },
                    _ => out.append_null(),
                }
            }
            let array: ArrayRef = Arc::new(out.finish());
            Ok(ColumnarValue::Array(array))
        }),
    )
}

/// The single character of an `ESCAPE` clause.
fn escape_of(value: &ValueWithSpan) -> Option<char> {
    let Value::SingleQuotedString(s) = &value.value else {
        return None;
    };
    let mut chars = s.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

/// Respells the LIKEs and casts of `statement` and names the repeated
/// unnamed columns of its select list; whether anything changed.
pub(crate) fn respell(statement: &mut Statement) -> bool {
    let mut changed = false;
    if let Some(projection) = projection_mut(statement) {
        changed |= name_repeated_columns(projection);
    }
    let _ = visit_expressions_mut(statement, |expr| {
        match expr {
            Expr::Like {
                pattern,
                escape_char,
                ..
            }
            | Expr::ILike {
                pattern,
                escape_char,
                ..
            } => {
                let Some(c) = escape_char.as_ref().and_then(escape_of) else {
                    return ControlFlow::Continue(());
                };
                if c == '\\' {
                    return ControlFlow::Continue(());
                }
                match pattern.as_mut() {
                    Expr::Value(ValueWithSpan {
                        value: Value::SingleQuotedString(text),
                        ..
                    }) => match with_backslash(text, c) {
                        Some(respelt) => *text = respelt,
                        // Left for the error PostgreSQL gives.
                        None => return ControlFlow::Continue(()),
                    },
                    // A pattern known only when it runs (a parameter):
                    // respelt then.
                    other => {
                        *other = respelling_call(other.clone(), c);
                    }
                }
                *escape_char = None;
                changed = true;
            }
            Expr::Cast { data_type, .. } => {
                if let DataType::Custom(name, modifiers) = data_type
                    && modifiers.is_empty()
                    && name
                        .0
                        .last()
                        .and_then(|part| part.as_ident())
                        .is_some_and(|ident| ident.value.eq_ignore_ascii_case("name"))
                    && name.0.len() <= 2
                {
                    *data_type = DataType::Text;
                    changed = true;
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    changed
}

/// Gives each unnamed literal column whose name repeats an earlier
/// column's a name of its own (`NULL`, `NULL_2`, …).
fn name_repeated_columns(projection: &mut [SelectItem]) -> bool {
    let mut seen: HashSet<String> = HashSet::new();
    let mut changed = false;
    for item in projection.iter_mut() {
        let name = match item {
            SelectItem::UnnamedExpr(expr) => expr.to_string(),
            SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
            _ => continue,
        };
        if seen.insert(name.clone()) {
            continue;
        }
        if let SelectItem::UnnamedExpr(expr @ Expr::Value(_)) = item {
            let alias = (2..)
                .map(|n| format!("{name}_{n}"))
                .find(|candidate| !seen.contains(candidate))
                .unwrap_or_default();
            seen.insert(alias.clone());
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: Ident::new(alias),
            };
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn respelt(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        respell(&mut statement);
        statement.to_string()
    }

    #[test]
    fn escapes_become_backslashes() {
        assert_eq!(with_backslash("pg//_%", '/').as_deref(), Some("pg\\/_%"));
        assert_eq!(
            with_backslash("a/%b\\c", '/').as_deref(),
            Some("a\\%b\\\\c")
        );
        assert_eq!(with_backslash("end/", '/'), None);
        assert_eq!(
            respelt("SELECT 1 FROM t WHERE n NOT LIKE 'pg/_%' ESCAPE '/'"),
            "SELECT 1 FROM t WHERE n NOT LIKE 'pg\\_%'"
        );
    }

    #[test]
    fn a_pattern_known_when_it_runs_is_respelt_then() {
        assert_eq!(
            respelt("SELECT 1 FROM t WHERE n NOT LIKE $1 || '%' ESCAPE '/'"),
            "SELECT 1 FROM t WHERE n NOT LIKE sapa_like_pattern($1 || '%', '/')"
        );
    }

    #[test]
    fn names_are_text_and_repeated_nulls_get_names() {
        assert_eq!(respelt("SELECT 'sapa'::name"), "SELECT 'sapa'::TEXT");
        assert_eq!(
            respelt("SELECT NULL, nspname, NULL, NULL FROM n"),
            "SELECT NULL, nspname, NULL AS NULL_2, NULL AS NULL_3 FROM n"
        );
    }
}
