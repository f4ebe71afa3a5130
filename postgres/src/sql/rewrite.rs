//! Statement rewrites for what clients send that DataFusion cannot plan as
//! written, applied before planning on both protocols:
//!
//! - `col_description(…)` / `obj_description(…)`: Sapa stores no comments,
//!   so these are `NULL` whatever their arguments — and Metabase's argument,
//!   `CAST(format('%I.%I', schema, table) AS regclass)`, is a name-to-oid
//!   lookup DataFusion cannot cast. The call becomes `CAST(NULL AS TEXT)`.
//! - `ARRAY(subquery)` becomes an `array_agg` subquery, and
//!   `pg_table_is_visible(oid)` a test that the relation is in `public` or
//!   `pg_catalog` (upstream's says yes to `information_schema` too);
//!   `pg_type_is_visible(oid)` the same for a type.
//! - In statements that read only the catalog, `unnest`/
//!   `generate_subscripts` over vector columns ([`super::int_vectors`])
//!   and plain scalar subqueries ([`super::catalog_subqueries`]).
//! - `_pg_expandarray(array)` becomes `unnest(_pg_expandarray(array))`:
//!   PostgreSQL's is set-returning (a row per element, pgjdbc's
//!   `getPrimaryKeys`), Sapa's returns the list the `unnest` expands.
//! - `(record).field` becomes `(record)['field']`, the only field access
//!   DataFusion plans on an expression.
//! - `SELECT current_user, session_user`: the upstream parser turns both
//!   into `session_user()`, two columns of one name; they get the names
//!   PostgreSQL gives them.
//! - The spellings of [`super::pg_spellings`]: `LIKE … ESCAPE '/'`,
//!   `::name`, repeated unnamed `NULL` columns.

use std::ops::ControlFlow;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::common::tree_node::TreeNode;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, Expr, FunctionArg, FunctionArguments, Ident, SelectItem, SetExpr, Statement,
    Subscript, Value, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion_postgres::QueryHook;
use datafusion_postgres::datafusion_pg_catalog::sql::rules::{
    RemoveSubqueryFromProjection, SqlStatementRewriteRule,
};
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::Response;
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};

use crate::hooks::text_rows;
use crate::sql::integer_literals::integer_literals;

/// The rewrite hook.
#[derive(Debug)]
pub struct Rewrites;

fn null_text() -> Option<Expr> {
    parse_expr("CAST(NULL AS TEXT)")
}

fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .ok()
}

/// `pg_class.reloptions`: Sapa sets no storage options, so they are NULL
/// (and the emulated `pg_class` has no such column).
fn is_storage_options(expr: &Expr) -> bool {
    match expr {
        Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case("reloptions"),
        Expr::CompoundIdentifier(parts) => parts
            .last()
            .is_some_and(|p| p.value.eq_ignore_ascii_case("reloptions")),
        _ => false,
    }
}

/// An `ARRAY(subquery)` over storage options, NULL as they are.
fn is_storage_options_array(expr: &Expr) -> bool {
    match expr {
        Expr::Function(f) => {
            function_name(expr).as_deref() == Some("array")
                && matches!(&f.args, FunctionArguments::Subquery(q)
                    if q.to_string().to_ascii_lowercase().contains("reloptions"))
        }
        _ => false,
    }
}

fn function_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Function(f) => f.name.0.last().map(|p| p.to_string().to_ascii_lowercase()),
        _ => None,
    }
}

/// `ARRAY(subquery)` (psql's `\\d+`) as the aggregate DataFusion plans:
/// `(SELECT array_agg(v) FROM (subquery) AS a(v))`.
fn array_of_subquery(expr: &Expr) -> Option<Expr> {
    let Expr::Function(f) = expr else {
        return None;
    };
    if function_name(expr).as_deref() != Some("array") {
        return None;
    }
    let FunctionArguments::Subquery(query) = &f.args else {
        return None;
    };
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&format!(
            "(SELECT array_agg(sapa_array.v) FROM ({query}) AS sapa_array(v))"
        ))
        .and_then(|mut p| p.parse_expr())
        .ok()
}

/// `pg_table_is_visible(oid)` (SQLAlchemy's table list, psql's `\\dt`):
/// upstream's answers true for every relation, which would list the
/// `information_schema` tables among the user's. Visible means in `public`
/// or `pg_catalog`, Sapa's search path.
fn table_visibility(expr: &Expr) -> Option<Expr> {
    let arg = only_argument(expr, "pg_table_is_visible")?;
    parse_expr(&format!(
        "(({arg}) IN (SELECT sapa_c.oid FROM pg_catalog.pg_class AS sapa_c \
         JOIN pg_catalog.pg_namespace AS sapa_n ON sapa_c.relnamespace = sapa_n.oid \
         WHERE sapa_n.nspname IN ('public', 'pg_catalog')))"
    ))
}

/// `pg_type_is_visible(oid)` (SQLAlchemy's domain and enum lists, in their
/// select lists, where DataFusion plans no `IN (subquery)`): the type is
/// in `public` or `pg_catalog`, as a scalar subquery.
fn type_visibility(expr: &Expr) -> Option<Expr> {
    let arg = only_argument(expr, "pg_type_is_visible")?;
    parse_expr(&format!(
        "coalesce((SELECT bool_or(sapa_n.nspname IN ('public', 'pg_catalog')) \
         FROM pg_catalog.pg_type AS sapa_t \
         JOIN pg_catalog.pg_namespace AS sapa_n ON sapa_t.typnamespace = sapa_n.oid \
         WHERE sapa_t.oid = ({arg})), false)"
    ))
}

/// The one argument of a call to `name`.
fn only_argument<'e>(expr: &'e Expr, name: &str) -> Option<&'e FunctionArg> {
    let Expr::Function(f) = expr else {
        return None;
    };
    if function_name(expr).as_deref() != Some(name) {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.as_slice() {
        [arg] => Some(arg),
        _ => None,
    }
}

/// `_pg_expandarray(…)` as the set it is in PostgreSQL:
/// `unnest(_pg_expandarray(…))`.
fn expanded_array(expr: &Expr) -> Option<Expr> {
    if function_name(expr).as_deref() != Some("_pg_expandarray") {
        return None;
    }
    parse_expr(&format!("unnest({expr})"))
}

/// `(record).field` as `(record)['field']` (pgjdbc's
/// `(_pg_expandarray(…)).n`). Only on a parenthesised root, as PostgreSQL
/// requires: `t.a[1]` is a column's element, not a field.
fn record_field(expr: &Expr) -> Option<Expr> {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return None;
    };
    let dotted = |a: &AccessExpr| matches!(a, AccessExpr::Dot(Expr::Identifier(_)));
    if !matches!(root.as_ref(), Expr::Nested(_)) || !access_chain.iter().any(dotted) {
        return None;
    }
    let access_chain = access_chain
        .iter()
        .map(|access| match access {
            AccessExpr::Dot(Expr::Identifier(field)) => {
                // Unquoted names fold to lower case, as PostgreSQL's do.
                let name = match field.quote_style {
                    None => field.value.to_ascii_lowercase(),
                    Some(_) => field.value.clone(),
                };
                AccessExpr::Subscript(Subscript::Index {
                    index: Expr::value(Value::SingleQuotedString(name)),
                })
            }
            other => other.clone(),
        })
        .collect();
    Some(Expr::CompoundFieldAccess {
        root: root.clone(),
        access_chain,
    })
}

/// The select list of a plain `SELECT` statement.
pub(crate) fn projection_mut(statement: &mut Statement) -> Option<&mut Vec<SelectItem>> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    Some(&mut select.projection)
}

/// The statement rewritten, or `None` when nothing applies.
pub fn rewrite(statement: &Statement) -> Option<Statement> {
    let mut rewritten = statement.clone();
    let mut changed = false;
    let null = null_text()?;
    let no_options = parse_expr("CAST(NULL AS TEXT[])")?;
    // Storage options first, whole: psql's `\d+` builds them with an
    // `ARRAY(SELECT … FROM unnest(tc.reloptions))` DataFusion cannot plan.
    // A description keeps its column name when it becomes NULL, as it is
    // PostgreSQL's, and so as not to clash with another NULL column.
    if let Some(projection) = projection_mut(&mut rewritten) {
        for item in projection.iter_mut() {
            if let SelectItem::UnnamedExpr(e) = item
                && let Some(name) = function_name(e)
                && matches!(name.as_str(), "col_description" | "obj_description")
            {
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: Ident::new(name),
                };
            }
        }
    }
    // (The visit is post-order: the array must go before its insides do.)
    let _ = visit_expressions_mut(&mut rewritten, |expr| {
        if is_storage_options_array(expr) {
            *expr = no_options.clone();
            changed = true;
        }
        ControlFlow::<()>::Continue(())
    });
    let _ = visit_expressions_mut(&mut rewritten, |expr| {
        if is_storage_options(expr) {
            *expr = no_options.clone();
            changed = true;
        } else if matches!(
            function_name(expr).as_deref(),
            Some("col_description" | "obj_description")
        ) {
            *expr = null.clone();
            changed = true;
        } else if let Some(aggregated) = array_of_subquery(expr) {
            *expr = aggregated;
            changed = true;
        } else if let Some(visible) = table_visibility(expr).or_else(|| type_visibility(expr)) {
            *expr = visible;
            changed = true;
        } else if let Some(set) = expanded_array(expr) {
            // The visit is post-order: the call inside is not seen again.
            *expr = set;
            changed = true;
        } else if let Some(field) = record_field(expr) {
            *expr = field;
            changed = true;
        }
        ControlFlow::<()>::Continue(())
    });
    if let Some(projection) = projection_mut(&mut rewritten) {
        let unnamed_users = projection
            .iter()
            .filter(|item| {
                matches!(item, SelectItem::UnnamedExpr(e)
                    if function_name(e).as_deref() == Some("session_user"))
            })
            .count();
        if unnamed_users > 1 {
            let mut names = ["current_user", "session_user"].into_iter();
            for item in projection.iter_mut() {
                if let SelectItem::UnnamedExpr(e) = item
                    && function_name(e).as_deref() == Some("session_user")
                {
                    let alias = names.next().unwrap_or("session_user");
                    *item = SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::new(alias),
                    };
                }
            }
            changed = true;
        }
    }
    changed |= super::pg_spellings::respell(&mut rewritten);
    changed.then_some(rewritten)
}

/// [`rewrite`], then in statements that read only the catalog the vector
/// functions ([`super::int_vectors`]) and the plain scalar subqueries
/// ([`super::catalog_subqueries`]) made plannable.
fn rewrite_for(statement: &Statement, ctx: &SessionContext) -> Option<Statement> {
    let mut current = rewrite(statement);
    if !super::catalog_subqueries::reads_only_catalog(current.as_ref().unwrap_or(statement)) {
        return current;
    }
    if let Some(vectors) = super::int_vectors::rewrite(current.as_ref().unwrap_or(statement)) {
        current = Some(vectors);
    }
    let state = ctx.state();
    let aggregates = state.aggregate_functions();
    let is_aggregate = |name: &str| aggregates.contains_key(name);
    super::catalog_subqueries::rewrite(current.as_ref().unwrap_or(statement), &is_aggregate)
        .or(current)
}

/// The plan of `statement` rewritten, `None` when no rewrite applies.
///
/// A catalog subquery DataFusion still cannot decorrelate (psql's `\\d`
/// collation lookup, filtered on `a.attcollation <> t.typcollation`) would
/// fail at execution; such a statement is planned as upstream's parser
/// leaves it instead, its correlated select-list subqueries NULL.
async fn plan_rewritten(
    statement: &Statement,
    ctx: &SessionContext,
) -> Option<PgWireResult<LogicalPlan>> {
    let planned = plan(ctx, rewrite_for(statement, ctx)?).await;
    match &planned {
        Ok(p)
            if super::catalog_subqueries::reads_only_catalog(statement)
                && keeps_correlated_subquery(ctx, p) =>
        {
            let dropped = RemoveSubqueryFromProjection.rewrite(statement.clone());
            let fallback = rewrite_for(&dropped, ctx).unwrap_or(dropped);
            Some(plan(ctx, fallback).await)
        }
        _ => Some(planned),
    }
}

/// Whether `plan`, optimized, still holds a correlated scalar subquery
/// (which the physical planner refuses).
fn keeps_correlated_subquery(ctx: &SessionContext, plan: &LogicalPlan) -> bool {
    let Ok(optimized) = ctx.state().optimize(plan) else {
        return false;
    };
    optimized
        .exists(|node| {
            Ok(node.expressions().iter().any(|e| {
                e.exists(|e| {
                    Ok(
                        matches!(e, datafusion::logical_expr::Expr::ScalarSubquery(s)
                        if !s.outer_ref_columns.is_empty()),
                    )
                })
                .unwrap_or(false)
            }))
        })
        .unwrap_or(false)
}

async fn plan(ctx: &SessionContext, statement: Statement) -> PgWireResult<LogicalPlan> {
    ctx.state()
        .statement_to_plan(DfStatement::Statement(Box::new(statement)))
        .await
        .and_then(integer_literals)
        .map_err(|e| PgWireError::ApiError(Box::new(e)))
}

#[async_trait]
impl QueryHook for Rewrites {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        let planned = plan_rewritten(statement, session_context).await?;
        let result = async {
            let plan = planned?;
            let df = session_context
                .execute_logical_plan(plan)
                .await
                .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
            let response = text_rows(df, client).await?;
            Ok(Response::Query(response))
        };
        Some(result.await)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        plan_rewritten(statement, session_context).await
    }

    async fn handle_extended_query(
        &self,
        _statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        // The plan made at parse time is the rewritten one; it runs as is.
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn descriptions_become_null_and_user_functions_get_their_names() {
        let s = rewrite(&parse(
            "SELECT col_description(CAST(CAST('a' AS REGCLASS) AS OID), 1) AS c FROM t",
        ))
        .unwrap();
        assert_eq!(s.to_string(), "SELECT CAST(NULL AS TEXT) AS c FROM t");
        let s = rewrite(&parse("SELECT session_user, session_user")).unwrap();
        assert_eq!(
            s.to_string(),
            "SELECT session_user AS current_user, session_user AS session_user"
        );
        assert!(rewrite(&parse("SELECT 1")).is_none());
    }

    #[test]
    fn type_visibility_means_on_the_search_path() {
        let s = rewrite(&parse(
            "SELECT typname FROM pg_catalog.pg_type t WHERE pg_type_is_visible(t.oid)",
        ))
        .unwrap()
        .to_string();
        assert!(s.contains("sapa_t.typnamespace = sapa_n.oid"), "{s}");
        assert!(s.contains("WHERE sapa_t.oid = (t.oid)), false)"), "{s}");
    }

    #[test]
    fn table_visibility_means_on_the_search_path() {
        let s = rewrite(&parse(
            "SELECT relname FROM pg_class c WHERE pg_table_is_visible(c.oid)",
        ))
        .unwrap()
        .to_string();
        assert!(s.contains("(c.oid) IN (SELECT sapa_c.oid"), "{s}");
        assert!(s.contains("nspname IN ('public', 'pg_catalog')"), "{s}");
        assert!(!s.contains("pg_table_is_visible"), "{s}");
    }

    #[test]
    fn expandarray_is_a_set() {
        let s = rewrite(&parse(
            "SELECT (information_schema._pg_expandarray(i.indkey)).n AS k, \
             _pg_expandarray(i.indkey) AS keys FROM pg_index i",
        ))
        .unwrap()
        .to_string();
        assert_eq!(
            s,
            "SELECT (unnest(information_schema._pg_expandarray(i.indkey)))['n'] AS k, \
             unnest(_pg_expandarray(i.indkey)) AS keys FROM pg_index i"
        );
        let s = rewrite(&parse(
            "SELECT r.c FROM t r WHERE r.a = (r.keys).X AND con.confkey[pos.n] = 1",
        ))
        .unwrap()
        .to_string();
        assert_eq!(
            s,
            "SELECT r.c FROM t r WHERE r.a = (r.keys)['x'] AND con.confkey[pos.n] = 1"
        );
    }

    #[test]
    fn storage_options_are_null() {
        let s = rewrite(&parse(
            "SELECT array_to_string(c.reloptions || array(select 'toast.' || x \
             from unnest(tc.reloptions) x), ', ') FROM pg_class c",
        ))
        .unwrap()
        .to_string();
        assert_eq!(
            s,
            "SELECT array_to_string(CAST(NULL AS TEXT[]) || CAST(NULL AS TEXT[]), ', ') FROM pg_class c"
        );
    }
}
