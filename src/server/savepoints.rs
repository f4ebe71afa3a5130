//! `SAVEPOINT`, `RELEASE SAVEPOINT` and `ROLLBACK TO SAVEPOINT`.
//!
//! Sapa is read-only, so a savepoint has nothing to undo: inside a
//! transaction block the three succeed as PostgreSQL's do. psycopg opens one
//! around every type lookup when it is already in a transaction (SQLAlchemy
//! connects that way), so without them SQLAlchemy cannot connect at all.
//! Outside a block they fail as PostgreSQL's do (25P01). After an error,
//! pgwire keeps the block aborted whatever a statement answers, so
//! `ROLLBACK TO` there says so (0A000) instead of pretending to recover.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::{DFSchema, ParamValues};
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::error::PgWireResult;
use datafusion_postgres::pgwire::messages::response::TransactionStatus;

use super::sqlstate::{code, user_error};

/// Answers the savepoint statements; must run before
/// `TransactionStatementHook`, which would take `ROLLBACK TO` for `ROLLBACK`.
#[derive(Debug)]
pub(crate) struct Savepoints;

/// The command a savepoint statement is, `None` for any other statement.
fn command(statement: &Statement) -> Option<&'static str> {
    match statement {
        Statement::Savepoint { .. } => Some("SAVEPOINT"),
        Statement::ReleaseSavepoint { .. } => Some("RELEASE"),
        Statement::Rollback {
            savepoint: Some(_), ..
        } => Some("ROLLBACK"),
        _ => None,
    }
}

fn answer(statement: &Statement, status: TransactionStatus) -> Option<PgWireResult<Response>> {
    let tag = command(statement)?;
    let spelled = match tag {
        "SAVEPOINT" => "SAVEPOINT",
        "RELEASE" => "RELEASE SAVEPOINT",
        _ => "ROLLBACK TO SAVEPOINT",
    };
    Some(match status {
        TransactionStatus::Transaction => Ok(Response::Execution(Tag::new(tag))),
        TransactionStatus::Idle => Err(user_error(
            code::NO_ACTIVE_TRANSACTION,
            format!("{spelled} can only be used in transaction blocks"),
        )),
        TransactionStatus::Error if tag == "ROLLBACK" => Err(user_error(
            code::FEATURE_NOT_SUPPORTED,
            "ROLLBACK TO SAVEPOINT cannot recover an aborted transaction here; use ROLLBACK",
        )),
        TransactionStatus::Error => Err(user_error(
            code::IN_FAILED_TRANSACTION,
            "current transaction is aborted, commands ignored until end of transaction block",
        )),
    })
}

#[async_trait]
impl QueryHook for Savepoints {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        answer(statement, client.transaction_status())
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        // Nothing to plan: the statement is answered when it is executed.
        command(statement)?;
        Some(Ok(LogicalPlan::EmptyRelation(EmptyRelation {
            produce_one_row: false,
            schema: Arc::new(DFSchema::empty()),
        })))
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        answer(statement, client.transaction_status())
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn run(sql: &str, status: TransactionStatus) -> Option<Result<String, String>> {
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        answer(&statement, status).map(|r| match r {
            Ok(Response::Execution(tag)) => Ok(format!("{tag:?}")),
            Ok(_) => Ok("other".to_string()),
            Err(e) => Err(format!("{e:?}")),
        })
    }

    #[test]
    fn savepoints_succeed_inside_a_block_and_fail_outside() {
        use TransactionStatus::*;
        assert!(
            run("SAVEPOINT a", Transaction)
                .unwrap()
                .unwrap()
                .contains("SAVEPOINT")
        );
        assert!(
            run("RELEASE SAVEPOINT a", Transaction)
                .unwrap()
                .unwrap()
                .contains("RELEASE")
        );
        assert!(
            run("ROLLBACK TO SAVEPOINT a", Transaction)
                .unwrap()
                .unwrap()
                .contains("ROLLBACK")
        );
        assert!(
            run("SAVEPOINT a", Idle)
                .unwrap()
                .unwrap_err()
                .contains("25P01")
        );
        assert!(
            run("RELEASE a", Error)
                .unwrap()
                .unwrap_err()
                .contains("25P02")
        );
        assert!(
            run("ROLLBACK TO a", Error)
                .unwrap()
                .unwrap_err()
                .contains("0A000")
        );
        // Plain ROLLBACK and queries are left to the next hooks.
        assert!(run("ROLLBACK", Error).is_none());
        assert!(run("SELECT 1", Transaction).is_none());
    }
}
