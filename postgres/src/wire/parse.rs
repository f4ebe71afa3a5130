//! How SQL text becomes the statements the hooks and the planner see, on
//! both protocols.
//!
//! `datafusion-postgres` parses with `datafusion-pg-catalog`'s
//! compatibility parser: a few whole client queries swapped for plannable
//! ones, then rewrite rules. One rule, `RemoveSubqueryFromProjection`,
//! replaces every correlated scalar subquery of a select list with `NULL`
//! and caps the others with `LIMIT 1` — `SELECT (SELECT count(*) FROM
//! classes c WHERE c.school_id = s.school_id) FROM schools s` answered
//! NULLs, and the bound parameters inside a dropped subquery vanished from
//! the plan, so the client's later parameters were decoded as the wrong
//! types. [`StatementParser`] applies the same rules in the same order
//! without that one; DataFusion then plans the subqueries as written
//! (aggregating ones, uncorrelated ones with PostgreSQL's error for more
//! than one row) and the catalog's plain ones are made plannable by
//! [`crate::sql::catalog_subqueries`].

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser as SqlParser;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::datafusion_pg_catalog::sql::rules::{
    AliasDuplicatedProjectionRewrite, CurrentUserVariableToSessionUserFunctionCall,
    FixArrayLiteral, FixVersionColumnName, PrependUnqualifiedPgTableName,
    RemoveSubqueryFromProjection, ResolveUnqualifiedIdentifier, RewriteArrayAnyAllOperation,
    RewritePgCatalogOperator, RewriteRegCastToSubquery, SqlStatementRewriteRule,
    StripCallableQualifier, StripCollate,
};
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::Type;
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::FieldInfo;
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::{Parser, QueryHook};

use super::cancel::{deadline_of, unless_stopped};
use super::cancel_requests::flag_of;
use super::executor::Queries;
use super::limits;
use super::param_types::typed_array_parameters;
use crate::functions::pg_stat_activity;
use crate::hooks::fetch;
use crate::hooks::read_only::text_refusal;
use crate::sqlstate::{code, user_error};

type Rules = Vec<Arc<dyn SqlStatementRewriteRule>>;

/// `datafusion-pg-catalog`'s parser without `RemoveSubqueryFromProjection`.
#[derive(Debug)]
pub struct StatementParser {
    upstream: PostgresCompatibilityParser,
    /// The upstream rules, in upstream's order.
    all: Rules,
    /// The same without the one that drops subqueries.
    kept: Rules,
}

impl Default for StatementParser {
    fn default() -> StatementParser {
        StatementParser::new()
    }
}

impl StatementParser {
    pub fn new() -> StatementParser {
        let before: Rules = vec![
            Arc::new(AliasDuplicatedProjectionRewrite),
            Arc::new(ResolveUnqualifiedIdentifier),
            Arc::new(RewriteArrayAnyAllOperation),
            Arc::new(PrependUnqualifiedPgTableName),
            Arc::new(StripCallableQualifier),
            Arc::new(FixArrayLiteral),
            Arc::new(CurrentUserVariableToSessionUserFunctionCall),
            Arc::new(StripCollate),
            Arc::new(RewritePgCatalogOperator),
            Arc::new(RewriteRegCastToSubquery::new()),
        ];
        let dropping: Arc<dyn SqlStatementRewriteRule> = Arc::new(RemoveSubqueryFromProjection);
        let after: Arc<dyn SqlStatementRewriteRule> = Arc::new(FixVersionColumnName);
        let mut all = before.clone();
        all.extend([dropping, Arc::clone(&after)]);
        let mut kept = before;
        kept.push(after);
        StatementParser {
            upstream: PostgresCompatibilityParser::new(),
            all,
            kept,
        }
    }

    /// The statements of `sql`, within the server's limits
    /// ([`super::limits`]: measured before upstream's rules walk them).
    /// Where upstream swapped a whole client query (its own rules applied
    /// to the text as written give another statement than upstream's)
    /// upstream's statement is kept; everywhere else the rules run without
    /// the subquery-dropping one.
    pub fn parse(&self, sql: &str) -> PgWireResult<Vec<Statement>> {
        limits::check_text(sql)?;
        if let Some(statements) = fetch::with_cursor_commands(sql, |text| self.parse_checked(text))
        {
            return statements;
        }
        self.parse_checked(sql)
    }

    /// [`Self::parse`] of text whose size is checked.
    fn parse_checked(&self, sql: &str) -> PgWireResult<Vec<Statement>> {
        let written = SqlParser::parse_sql(&PostgreSqlDialect {}, sql);
        limits::check_parsed(&written)?;
        let upstream = self.upstream.parse(sql).map_err(api_error)?;
        let Ok(written) = written else {
            return Ok(qualified(upstream));
        };
        if written.len() != upstream.len() {
            return Ok(qualified(upstream));
        }
        Ok(upstream
            .into_iter()
            .zip(written)
            .map(|(theirs, written)| {
                if apply(&self.all, written.clone()).to_string() == theirs.to_string() {
                    apply(&self.kept, written)
                } else {
                    theirs
                }
            })
            .map(pg_stat_activity::qualify)
            .collect())
    }
}

fn qualified(statements: Vec<Statement>) -> Vec<Statement> {
    statements
        .into_iter()
        .map(pg_stat_activity::qualify)
        .collect()
}

fn apply(rules: &Rules, mut statement: Statement) -> Statement {
    for rule in rules {
        statement = rule.rewrite(statement);
    }
    statement
}

/// The extended protocol's parser: [`text_refusal`] in front, statements
/// from [`StatementParser`], then the hooks or DataFusion plan them (as
/// upstream's `Parser` does).
pub struct GuardedParser {
    /// Upstream's, for the parameter types and result columns of a plan.
    pub inner: Arc<Parser>,
    pub statements: StatementParser,
    pub hooks: Vec<Arc<dyn QueryHook>>,
    pub session: Arc<SessionContext>,
    /// Where statements are planned, apart from the connection.
    pub queries: Queries,
}

pub(crate) fn api_error(e: impl std::error::Error + Send + Sync + 'static) -> PgWireError {
    PgWireError::ApiError(Box::new(e))
}

#[async_trait]
impl QueryParser for GuardedParser {
    type Statement = <Parser as QueryParser>::Statement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        if let Some(why) = text_refusal(sql) {
            return Err(user_error(code::INSUFFICIENT_PRIVILEGE, why));
        }
        let mut statements = self.statements.parse(sql)?;
        if statements.is_empty() {
            return Ok(None);
        }
        let statement = statements.remove(0);
        let query = statement.to_string();
        for hook in &self.hooks {
            if let Some(plan) = hook
                .handle_extended_parse_query(&statement, &self.session, client)
                .await
            {
                return Ok(Some((query, Some((statement, plan?)))));
            }
        }
        let planned = self
            .queries
            .plan(Arc::clone(&self.session), statement.clone());
        let plan = unless_stopped(planned, flag_of(client), deadline_of(client))
            .await?
            .map_err(api_error)?;
        let plan = typed_array_parameters(plan).map_err(api_error)?;
        Ok(Some((query, Some((statement, plan)))))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        self.inner.get_parameter_types(stmt)
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        // A `DECLARE` is planned as its cursor's query (for the parameter
        // types) but answers no rows itself: clients must see NoData.
        if let (_, Some((Statement::Declare { .. }, _))) = stmt {
            return Ok(vec![]);
        }
        let fields = self.inner.get_result_schema(stmt, column_format)?;
        Ok(crate::catalog::pg_types::vector_types(fields))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parsed(sql: &str) -> String {
        StatementParser::new()
            .parse(sql)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn correlated_subqueries_and_their_parameters_are_kept() {
        let sql = "SELECT s.school_id, (SELECT count(*) FROM classes c \
                   WHERE c.school_id = s.school_id AND c.parallel = $1) AS n FROM schools s";
        assert_eq!(parsed(sql), sql);
        // Uncorrelated ones are not capped: more than one row is an error.
        assert_eq!(
            parsed("SELECT (SELECT name_ru FROM regions) AS r"),
            "SELECT (SELECT name_ru FROM regions) AS r"
        );
    }

    #[test]
    fn the_other_upstream_rules_still_apply() {
        // Unqualified catalog tables are qualified; `= ANY` is a membership test.
        assert_eq!(
            parsed("SELECT relname FROM pg_class WHERE relkind = ANY (ARRAY['r', 'v'])"),
            "SELECT relname FROM pg_catalog.pg_class WHERE array_contains(ARRAY['r', 'v'], relkind)"
        );
        assert_eq!(parsed("SELECT 1; SELECT 2"), "SELECT 1; SELECT 2");
        assert_eq!(parsed(""), "");
    }

    #[test]
    fn whole_queries_upstream_swaps_stay_swapped() {
        let pgcli = "SELECT n.nspname schema_name, t.typname type_name FROM pg_catalog.pg_type t \
            INNER JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
            WHERE ( t.typrelid = 0 OR ( SELECT c.relkind = 'c' FROM pg_catalog.pg_class c \
            WHERE c.oid = t.typrelid ) ) AND NOT EXISTS( SELECT 1 FROM pg_catalog.pg_type el \
            WHERE el.oid = t.typelem AND el.typarray = t.oid ) \
            AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' ORDER BY 1, 2;";
        assert!(parsed(pgcli).contains("WHERE false"), "{}", parsed(pgcli));
    }
}
