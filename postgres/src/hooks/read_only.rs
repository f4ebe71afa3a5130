//! Read-only (issue 6): a client may run queries and session statements,
//! nothing else.
//!
//! The first hook of every connection, for the simple and the extended
//! protocol alike: DDL, DML, `COPY` to or from anything but the client,
//! `SELECT … INTO`, role changes and the server's own runtime settings end
//! with SQLSTATE 42501 before anything is planned. The scope's catalog
//! refuses changes as well (the engine's `read_only` catalog); this guard is
//! what gives the client a clear answer.

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{CopySource, CopyTarget, Query, Set, SetExpr, Statement};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::Response;
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};

use crate::sqlstate::{code, user_error};

/// Why a statement DataFusion would understand but the PostgreSQL parser
/// does not is refused: `CREATE EXTERNAL TABLE` reads a server path. The
/// text is checked before parsing so the client hears 42501, not 42601.
pub fn text_refusal(sql: &str) -> Option<String> {
    let words: Vec<String> = strip_comments(sql)
        .split_whitespace()
        .take(6)
        .map(str::to_ascii_uppercase)
        .collect();
    let external = words.first().is_some_and(|w| w == "CREATE")
        && words.iter().any(|w| w == "EXTERNAL")
        && words.iter().any(|w| w == "TABLE");
    external.then(|| {
        "CREATE EXTERNAL TABLE is not allowed: Sapa is read-only and reads no file a \
         client names"
            .to_string()
    })
}

/// `sql` without leading `--` line and `/* */` block comments.
fn strip_comments(sql: &str) -> &str {
    let mut rest = sql.trim_start();
    loop {
        if let Some(line) = rest.strip_prefix("--") {
            rest = line
                .split_once('\n')
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if let Some(block) = rest.strip_prefix("/*") {
            rest = block
                .split_once("*/")
                .map_or("", |(_, after)| after)
                .trim_start();
        } else {
            return rest;
        }
    }
}

/// Refuses every statement that is not a query or a session statement.
#[derive(Debug)]
pub struct ReadOnly;

/// Why `statement` is refused, or `None` if it may run.
pub fn refusal(statement: &Statement) -> Option<String> {
    match statement {
        Statement::Query(query) => query_refusal(query),
        Statement::Explain { statement, .. } | Statement::Prepare { statement, .. } => {
            refusal(statement)
        }
        Statement::Declare { stmts } => stmts
            .iter()
            .filter_map(|d| d.for_query.as_deref())
            .find_map(query_refusal),
        Statement::Copy {
            source,
            to: true,
            target: CopyTarget::Stdout,
            ..
        } => match source {
            CopySource::Query(query) => query_refusal(query),
            CopySource::Table { .. } => None,
        },
        Statement::Copy { .. } => Some(
            "COPY to or from a file, a program or the client's input is not allowed; \
             COPY (query) TO STDOUT is (psql: \\copy)"
                .to_string(),
        ),
        Statement::Set(set) => set_refusal(set),
        Statement::ExplainTable { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowCreate { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. }
        | Statement::Discard { .. }
        | Statement::Deallocate { .. }
        | Statement::Execute { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Reset(_)
        // Nothing is ever listened to: stopping is harmless.
        | Statement::UNLISTEN { .. } => None,
        other => Some(format!(
            "{} is not allowed: Sapa is read-only (queries and session statements only)",
            kind(other)
        )),
    }
}

/// A query that writes: `SELECT … INTO` or a data-modifying body.
fn query_refusal(query: &Query) -> Option<String> {
    if let Some(with) = &query.with
        && let Some(why) = with
            .cte_tables
            .iter()
            .find_map(|cte| query_refusal(&cte.query))
    {
        return Some(why);
    }
    body_refusal(&query.body)
}

fn body_refusal(body: &SetExpr) -> Option<String> {
    match body {
        SetExpr::Select(select) if select.into.is_some() => Some(
            "SELECT … INTO is not allowed: Sapa is read-only (it would create a table)".to_string(),
        ),
        SetExpr::Query(query) => query_refusal(query),
        SetExpr::SetOperation { left, right, .. } => {
            body_refusal(left).or_else(|| body_refusal(right))
        }
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
            Some("data-modifying statements are not allowed: Sapa is read-only".to_string())
        }
        _ => None,
    }
}

/// `SET` of a session setting may run; a role change or a runtime setting
/// of the server (memory, spill directory) may not.
fn set_refusal(set: &Set) -> Option<String> {
    match set {
        Set::SetRole { .. } | Set::SetSessionAuthorization(_) => Some(
            "changing the role is not allowed: a session keeps the user and scope it logged \
             in with"
                .to_string(),
        ),
        Set::SingleAssignment { variable, .. } => runtime_refusal(&variable.to_string()),
        Set::ParenthesizedAssignments { variables, .. } => variables
            .iter()
            .find_map(|v| runtime_refusal(&v.to_string())),
        Set::MultipleAssignments { assignments } => assignments
            .iter()
            .find_map(|a| runtime_refusal(&a.name.to_string())),
        _ => None,
    }
}

fn runtime_refusal(variable: &str) -> Option<String> {
    variable
        .to_ascii_lowercase()
        .starts_with("datafusion.runtime.")
        .then(|| {
            format!(
                "SET {variable} is not allowed: memory and disk limits are the server's \
                 (sapa serve --query-memory, --memory)"
            )
        })
}

/// The statement's kind as its first keywords say it (`CREATE TABLE`,
/// `INSERT`, `DROP`).
fn kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("statement").to_ascii_uppercase();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => {
            let mut kind = first;
            for word in words.take(3) {
                let word = word.to_ascii_uppercase();
                let keyword = word.chars().all(|c| c.is_ascii_alphabetic());
                if !keyword || matches!(word.as_str(), "IF") {
                    break;
                }
                kind.push(' ');
                kind.push_str(&word);
                if !matches!(
                    word.as_str(),
                    "OR" | "REPLACE" | "EXTERNAL" | "TEMPORARY" | "TEMP" | "UNIQUE"
                ) {
                    break;
                }
            }
            kind
        }
        _ => first,
    }
}

fn refuse(statement: &Statement) -> Option<PgWireError> {
    refusal(statement).map(|why| user_error(code::INSUFFICIENT_PRIVILEGE, why))
}

#[async_trait]
impl QueryHook for ReadOnly {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        refuse(statement).map(Err)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        refuse(statement).map(Err)
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        refuse(statement).map(Err)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn verdict(sql: &str) -> Option<String> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        refusal(&statements[0])
    }

    #[test]
    fn datafusion_only_syntax_that_reads_files_is_refused_by_its_text() {
        for sql in [
            "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
            "  -- a comment\n create unbounded external table t stored as parquet location 'x'",
            "/* c */ CREATE OR REPLACE EXTERNAL TABLE t STORED AS CSV LOCATION 'x'",
        ] {
            assert!(text_refusal(sql).is_some(), "{sql}");
        }
        for sql in [
            "SELECT 'CREATE EXTERNAL TABLE'",
            "CREATE TABLE t (a int)",
            "",
        ] {
            assert_eq!(text_refusal(sql), None, "{sql}");
        }
    }

    #[test]
    fn queries_and_session_statements_run() {
        for sql in [
            "SELECT count(*) FROM marks",
            "WITH x AS (SELECT 1) SELECT * FROM x UNION SELECT 2",
            "EXPLAIN ANALYZE SELECT 1",
            "SHOW timezone",
            "SET statement_timeout = 1000",
            "SET datafusion.execution.batch_size = 1024",
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT a",
            "DISCARD ALL",
            "DEALLOCATE ALL",
            "DECLARE c CURSOR FOR SELECT 1",
            "FETCH 10 FROM c",
            "CLOSE c",
            "COPY (SELECT 1) TO STDOUT",
            "COPY schools TO STDOUT WITH (FORMAT csv)",
            "PREPARE p AS SELECT 1",
            "EXECUTE p",
            "RESET statement_timeout",
        ] {
            assert_eq!(verdict(sql), None, "{sql}");
        }
    }

    #[test]
    fn writes_files_and_role_changes_are_refused_by_kind() {
        for (sql, says) in [
            ("CREATE TABLE t (a int)", "CREATE TABLE is not allowed"),
            (
                "CREATE OR REPLACE VIEW v AS SELECT 1",
                "CREATE OR REPLACE VIEW",
            ),
            ("CREATE TEMP TABLE t AS SELECT 1", "CREATE TEMPORARY TABLE"),
            ("CREATE SCHEMA s", "CREATE SCHEMA"),
            ("DROP TABLE marks", "DROP TABLE"),
            ("DROP VIEW IF EXISTS indicators", "DROP VIEW is not allowed"),
            ("ALTER TABLE marks ADD COLUMN x int", "ALTER TABLE"),
            (
                "INSERT INTO marks SELECT * FROM marks",
                "INSERT is not allowed",
            ),
            ("UPDATE schools SET name_kk = 'x'", "UPDATE"),
            ("DELETE FROM marks", "DELETE"),
            ("TRUNCATE marks", "TRUNCATE"),
            ("COPY marks TO '/tmp/x.csv'", "COPY to or from a file"),
            ("COPY (SELECT 1) TO PROGRAM 'id'", "COPY to or from a file"),
            ("COPY marks FROM STDIN", "COPY to or from a file"),
            ("SELECT * INTO t2 FROM schools", "SELECT … INTO"),
            (
                "EXPLAIN ANALYZE INSERT INTO marks SELECT * FROM marks",
                "INSERT",
            ),
            ("PREPARE p AS DELETE FROM marks", "DELETE"),
            ("SET ROLE ministry", "changing the role"),
            ("SET SESSION AUTHORIZATION other", "changing the role"),
            (
                "SET datafusion.runtime.memory_limit = '100G'",
                "--query-memory",
            ),
            ("GRANT SELECT ON marks TO x", "GRANT"),
        ] {
            let why = verdict(sql).unwrap_or_else(|| panic!("{sql} was let through"));
            assert!(why.contains(says), "{sql}: {why}");
        }
    }
}
