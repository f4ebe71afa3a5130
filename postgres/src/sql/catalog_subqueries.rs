//! Scalar subqueries of catalog queries, made plannable.
//!
//! Clients' catalog queries (SQLAlchemy's column reflection, psql's `\d`)
//! put plain correlated scalar subqueries in their select lists:
//! `(SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid =
//! pg_attribute.attrelid AND …)`. DataFusion decorrelates only aggregating
//! ones, so in a statement that reads nothing but `pg_catalog` and
//! `information_schema` each plain scalar subquery's single select item
//! `e` becomes `sapa_subquery_value(e)` ([`super::subquery_value`]): the
//! same value for no row or one row, SQLSTATE 21000 for more — PostgreSQL's
//! meaning, and it can only differ from PostgreSQL by an error, never by a
//! value. (Decorrelated, the subquery is computed for every key of the
//! inner relation, so a duplicate under a key no outer row asks for is an
//! error PostgreSQL would not raise; the catalog's keys are unique.)
//! Statements that read user relations are left to DataFusion as written.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, GroupByExpr, Ident, ObjectName, Query, Select, SelectItem, SetExpr,
    Statement, TableFactor, Value, Visit, Visitor, visit_expressions, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::subquery_value::NAME;

/// Schemas whose relations are the catalog's.
const CATALOG_SCHEMAS: [&str; 2] = ["pg_catalog", "information_schema"];

/// The relations a statement reads and the names its `WITH` clauses define.
#[derive(Default)]
struct Relations {
    read: Vec<ObjectName>,
    defined: HashSet<String>,
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
            self.defined
                .insert(cte.alias.name.value.to_ascii_lowercase());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        self.read.push(relation.clone());
        ControlFlow::Continue(())
    }
}

/// Whether `statement` reads relations and every one is in `pg_catalog` or
/// `information_schema` (or is a `WITH` name of the statement).
pub fn reads_only_catalog(statement: &Statement) -> bool {
    let mut relations = Relations::default();
    let _ = statement.visit(&mut relations);
    !relations.read.is_empty()
        && relations.read.iter().all(|name| {
            let parts: Vec<String> = name
                .0
                .iter()
                .map(|p| p.to_string().trim_matches('"').to_ascii_lowercase())
                .collect();
            match parts.as_slice() {
                [only] => relations.defined.contains(only),
                [.., schema, _] => CATALOG_SCHEMAS.contains(&schema.as_str()),
                [] => false,
            }
        })
}

/// The select item of a plain one-item subquery: no aggregate, grouping,
/// `DISTINCT`, window, ordering or limit (those DataFusion plans itself, or
/// they would change meaning under an aggregate).
fn plain_item<'q>(
    query: &'q mut Query,
    is_aggregate: &dyn Fn(&str) -> bool,
) -> Option<&'q mut Expr> {
    if query.order_by.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let grouped = match &select.group_by {
        GroupByExpr::All(_) => true,
        GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
    };
    if grouped
        || select.having.is_some()
        || select.distinct.is_some()
        || select.qualify.is_some()
        || !select.named_window.is_empty()
    {
        return None;
    }
    let [item] = select.projection.as_mut_slice() else {
        return None;
    };
    let expr = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return None,
    };
    let aggregates = visit_expressions(&*expr, |e| match e {
        Expr::Function(f) if f.over.is_some() || is_aggregate(&function_name(f)) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    aggregates.is_continue().then_some(expr)
}

fn function_name(f: &Function) -> String {
    f.name
        .0
        .last()
        .map(|p| p.to_string().trim_matches('"').to_ascii_lowercase())
        .unwrap_or_default()
}

/// `sapa_subquery_value(expr)`.
fn subquery_value(expr: Expr) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(NAME)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(expr))],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// The names a subquery's own relations go by: aliases, else table names.
fn inner_names(select: &Select) -> HashSet<String> {
    let mut names = HashSet::new();
    let factors = select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    for factor in factors {
        match factor {
            TableFactor::Table {
                alias: Some(alias), ..
            }
            | TableFactor::Derived {
                alias: Some(alias), ..
            } => {
                names.insert(alias.name.value.to_ascii_lowercase());
            }
            TableFactor::Table { name, .. } => {
                if let Some(last) = name.0.last() {
                    names.insert(last.to_string().trim_matches('"').to_ascii_lowercase());
                }
            }
            _ => {}
        }
    }
    names
}

/// Whether `conjunct` reads only the enclosing query's columns: it names
/// some column, each through a qualifier none of the subquery's relations
/// goes by, and holds no subquery.
fn outer_only(conjunct: &Expr, inner: &HashSet<String>) -> bool {
    let mut columns = 0;
    let verdict = visit_expressions(conjunct, |e| match e {
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            let table = parts[parts.len() - 2].value.to_ascii_lowercase();
            columns += 1;
            if inner.contains(&table) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
        Expr::Identifier(_) | Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    verdict.is_continue() && columns > 0
}

fn conjuncts(expr: Expr, into: &mut Vec<Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(*left, into);
            conjuncts(*right, into);
        }
        Expr::Nested(inner)
            if matches!(
                inner.as_ref(),
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(*inner, into);
        }
        other => into.push(other),
    }
}

fn and_all(exprs: Vec<Expr>) -> Option<Expr> {
    exprs.into_iter().reduce(|left, right| Expr::BinaryOp {
        left: Box::new(left),
        op: BinaryOperator::And,
        right: Box::new(right),
    })
}

/// The conditions of `query`'s `WHERE` that read only the enclosing query,
/// taken out of it. DataFusion cannot decorrelate an aggregating subquery
/// filtered on outer columns alone (`AND pg_attribute.atthasdef`); as the
/// aggregate is NULL over no rows, `(SELECT v(e) … WHERE c AND p)` is
/// `CASE WHEN p THEN (SELECT v(e) … WHERE c) END`.
fn take_outer_conditions(query: &mut Query) -> Option<Expr> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let inner = inner_names(select);
    let mut all = Vec::new();
    conjuncts(select.selection.take()?, &mut all);
    let (outer, kept): (Vec<Expr>, Vec<Expr>) =
        all.into_iter().partition(|c| outer_only(c, &inner));
    select.selection = and_all(kept);
    and_all(outer)
}

/// `CASE WHEN condition THEN value END`.
fn guarded(condition: &Expr, value: &Expr) -> Option<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&format!("CASE WHEN {condition} THEN {value} END"))
        .and_then(|mut p| p.parse_expr())
        .ok()
}

/// `query` (one item, as [`plain_item`] found) with `item` as its item.
fn with_item(query: &Query, item: Expr) -> Box<Query> {
    let mut copy = Box::new(query.clone());
    if let SetExpr::Select(select) = copy.body.as_mut()
        && let [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] =
            select.projection.as_mut_slice()
    {
        *e = item;
    }
    copy
}

/// Whether `item` names a column of the enclosing query.
fn reads_outer(item: &Expr, inner: &HashSet<String>) -> bool {
    visit_expressions(item, |e| match e {
        Expr::CompoundIdentifier(parts)
            if parts.len() >= 2
                && !inner.contains(&parts[parts.len() - 2].value.to_ascii_lowercase()) =>
        {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// The plain scalar subquery `query` as an expression DataFusion plans,
/// `None` to leave it as written.
///
/// Its item `e` becomes `sapa_subquery_value(e)`. DataFusion cannot
/// decorrelate an aggregate over outer columns either (SQLAlchemy's
/// `json_build_object(…, pg_attribute.attidentity = 'a', …)`), so such an
/// item is computed in the enclosing query instead, each of its own
/// columns `i` taken from a subquery of the same rows,
/// `(SELECT sapa_subquery_value(i) …)`, and the whole NULL unless the
/// subquery has its one row: `CASE WHEN (SELECT sapa_subquery_value(true)
/// …) THEN e' END`.
fn single_valued(written: &Query, is_aggregate: &dyn Fn(&str) -> bool) -> Option<Expr> {
    let mut query = written.clone();
    let item = plain_item(&mut query, is_aggregate)?.clone();
    let outer_condition = take_outer_conditions(&mut query);
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let inner = inner_names(select);
    let value = if reads_outer(&item, &inner) {
        let has_subquery = visit_expressions(&item, |e| match e {
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        });
        if has_subquery.is_break() {
            return None;
        }
        let mut outside = item;
        let _ = visit_expressions_mut(&mut outside, |e| {
            let own = match e {
                Expr::Identifier(_) => true,
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    inner.contains(&parts[parts.len() - 2].value.to_ascii_lowercase())
                }
                _ => false,
            };
            if own {
                *e = Expr::Subquery(with_item(&query, subquery_value(e.clone())));
            }
            ControlFlow::<()>::Continue(())
        });
        let one_row = Expr::Subquery(with_item(
            &query,
            subquery_value(Expr::value(Value::Boolean(true))),
        ));
        guarded(&one_row, &outside)?
    } else {
        Expr::Subquery(with_item(&query, subquery_value(item)))
    };
    match outer_condition {
        Some(condition) => guarded(&condition, &value),
        None => Some(value),
    }
}

/// `statement` with its plain scalar subqueries aggregated, if it reads only
/// the catalog and has any; `is_aggregate` tells the session's aggregate
/// functions by lower-case name.
pub fn rewrite(statement: &Statement, is_aggregate: &dyn Fn(&str) -> bool) -> Option<Statement> {
    if !reads_only_catalog(statement) {
        return None;
    }
    let mut rewritten = statement.clone();
    let mut changed = false;
    let _ = visit_expressions_mut(&mut rewritten, |expr| {
        if let Expr::Subquery(written) = expr
            && let Some(value) = single_valued(written, is_aggregate)
        {
            *expr = value;
            changed = true;
        }
        ControlFlow::<()>::Continue(())
    });
    changed.then_some(rewritten)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0)
    }

    fn aggregate(name: &str) -> bool {
        matches!(name, "count" | "max" | "array_agg")
    }

    fn rewritten(sql: &str) -> Option<String> {
        rewrite(&parse(sql), &aggregate).map(|s| s.to_string())
    }

    #[test]
    fn plain_subqueries_of_catalog_statements_are_aggregated() {
        assert_eq!(
            rewritten(
                "SELECT a.attname, (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS e \
                 FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid AND a.atthasdef) \
                 AS \"default\", CASE WHEN (SELECT t.typcollation FROM pg_catalog.pg_type t \
                 WHERE t.oid = a.atttypid) <> 0 THEN 1 END FROM pg_catalog.pg_attribute a"
            )
            .unwrap(),
            "SELECT a.attname, CASE WHEN a.atthasdef THEN (SELECT \
             sapa_subquery_value(pg_catalog.pg_get_expr(d.adbin, d.adrelid)) AS e FROM \
             pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid) END AS \"default\", CASE WHEN (SELECT sapa_subquery_value(t.typcollation) \
             FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid) <> 0 THEN 1 END FROM \
             pg_catalog.pg_attribute a"
        );
        // information_schema and WITH names are the catalog's too.
        assert!(
            rewritten(
                "WITH c AS (SELECT * FROM information_schema.columns) \
                 SELECT (SELECT x.table_name FROM c x WHERE x.column_name = c.column_name) FROM c"
            )
            .is_some()
        );
    }

    #[test]
    fn aggregating_limited_and_grouped_subqueries_are_left_as_written() {
        for sql in [
            "SELECT (SELECT count(*) FROM pg_catalog.pg_attrdef d WHERE d.adrelid = c.oid) \
             FROM pg_catalog.pg_class c",
            "SELECT (SELECT d.adnum FROM pg_catalog.pg_attrdef d WHERE d.adrelid = c.oid \
             LIMIT 1) FROM pg_catalog.pg_class c",
            "SELECT (SELECT d.adnum FROM pg_catalog.pg_attrdef d GROUP BY d.adnum) \
             FROM pg_catalog.pg_class c",
            "SELECT (SELECT DISTINCT d.adnum FROM pg_catalog.pg_attrdef d) \
             FROM pg_catalog.pg_class c",
            "SELECT (SELECT row_number() OVER () FROM pg_catalog.pg_attrdef d) \
             FROM pg_catalog.pg_class c",
            "SELECT c.relname FROM pg_catalog.pg_class c",
        ] {
            assert_eq!(rewritten(sql), None, "{sql}");
        }
    }

    #[test]
    fn statements_reading_user_relations_are_never_rewritten() {
        for sql in [
            "SELECT s.school_id, (SELECT c.class_id FROM classes c \
             WHERE c.school_id = s.school_id) FROM schools s",
            "SELECT (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = s.school_id) \
             FROM schools s",
            "SELECT (SELECT c.relname FROM pg_catalog.pg_class c) FROM public.pg_class",
            "SELECT (SELECT 1)",
        ] {
            assert_eq!(rewritten(sql), None, "{sql}");
        }
    }
}
