//! Transaction blocks as PostgreSQL keeps them: `BEGIN`, `COMMIT`,
//! `ROLLBACK`, savepoints, and the aborted block.
//!
//! Sapa is read-only, so a block has nothing to commit or undo, but clients
//! lean on blocks and savepoints to survive errors: psycopg opens a
//! savepoint around every type lookup inside a transaction (SQLAlchemy
//! connects that way), and pgjdbc's `autosave` and SQLAlchemy's
//! `begin_nested()` roll back to one after a failed statement and carry on.
//! So each connection keeps the names of its open savepoints, and
//! `ROLLBACK TO` one of them leaves an aborted block usable again
//! ([`reopen`], called before pgwire reads the block's state). In an
//! aborted block every statement but `COMMIT`/`ROLLBACK` gets 25P02.
//!
//! The block's state changes as each statement is answered, not when the
//! whole query string is done, so `BEGIN; SAVEPOINT a` in one simple query
//! works as in PostgreSQL (pgwire alone would judge both by the state
//! before `BEGIN`).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Ident, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::error::PgWireResult;
use datafusion_postgres::pgwire::messages::response::TransactionStatus;

use super::no_plan;
use crate::sqlstate::{code, user_error};

/// Answers the transaction statements and refuses work in an aborted
/// block; runs before every other hook but the read-only guard.
#[derive(Debug)]
pub struct Transactions;

/// The open savepoints of a connection's transaction block, oldest first
/// (a name may repeat: PostgreSQL then finds the newest).
#[derive(Debug, Default)]
struct Open(Mutex<Vec<String>>);

impl Open {
    fn of(client: &(impl ClientInfo + ?Sized)) -> Arc<Open> {
        client
            .session_extensions()
            .get_or_insert_with(Open::default)
    }

    fn names(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A panic elsewhere cannot leave the list half-written.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn newest(&self, name: &str) -> Option<usize> {
        self.names().iter().rposition(|n| n == name)
    }
}

/// A savepoint name as PostgreSQL compares it: unquoted names fold to
/// lower case.
fn folded(name: &Ident) -> String {
    match name.quote_style {
        Some(_) => name.value.clone(),
        None => name.value.to_lowercase(),
    }
}

fn undefined(name: &str) -> PgWireResult<Response> {
    Err(user_error(
        code::INVALID_SAVEPOINT,
        format!("savepoint \"{name}\" does not exist"),
    ))
}

fn outside_block(spelled: &str) -> PgWireResult<Response> {
    Err(user_error(
        code::NO_ACTIVE_TRANSACTION,
        format!("{spelled} can only be used in transaction blocks"),
    ))
}

fn aborted() -> PgWireResult<Response> {
    Err(user_error(
        code::IN_FAILED_TRANSACTION,
        "current transaction is aborted, commands ignored until end of transaction block",
    ))
}

/// What the block's state makes of `statement`: an answer for savepoint
/// statements and for anything refused in an aborted block, `None` to let
/// the next hooks answer.
fn answer(
    statement: &Statement,
    status: TransactionStatus,
    open: &Open,
) -> Option<PgWireResult<Response>> {
    use TransactionStatus::{Error, Idle, Transaction};
    match statement {
        Statement::Savepoint { name } => Some(match status {
            Transaction => {
                open.names().push(folded(name));
                Ok(Response::Execution(Tag::new("SAVEPOINT")))
            }
            Idle => outside_block("SAVEPOINT"),
            Error => aborted(),
        }),
        Statement::ReleaseSavepoint { name } => Some(match status {
            Transaction => match open.newest(&folded(name)) {
                Some(at) => {
                    open.names().truncate(at);
                    Ok(Response::Execution(Tag::new("RELEASE")))
                }
                None => undefined(&folded(name)),
            },
            Idle => outside_block("RELEASE SAVEPOINT"),
            Error => aborted(),
        }),
        Statement::Rollback {
            savepoint: Some(name),
            ..
        } => Some(match status {
            // In an aborted block this is reached only for a name that is
            // not open: `reopen` has turned the block back otherwise.
            Transaction | Error => match open.newest(&folded(name)) {
                Some(at) => {
                    open.names().truncate(at + 1);
                    Ok(Response::Execution(Tag::new("ROLLBACK")))
                }
                None => undefined(&folded(name)),
            },
            Idle => outside_block("ROLLBACK TO SAVEPOINT"),
        }),
        Statement::StartTransaction { .. } => Some(match status {
            Idle => {
                open.names().clear();
                Ok(Response::TransactionStart(Tag::new("BEGIN")))
            }
            // PostgreSQL warns and stays in the block.
            Transaction => Ok(Response::Execution(Tag::new("BEGIN"))),
            Error => aborted(),
        }),
        Statement::Commit { .. } | Statement::Rollback { .. } => {
            open.names().clear();
            // COMMIT of an aborted block rolls it back, and says so.
            let tag = match (statement, status) {
                (Statement::Commit { .. }, Idle | Transaction) => "COMMIT",
                _ => "ROLLBACK",
            };
            Some(Ok(Response::TransactionEnd(Tag::new(tag))))
        }
        _ if status == Error => Some(aborted()),
        _ => None,
    }
}

/// Turns an aborted block back into a live one when `statement` rolls back
/// to a savepoint that is open, as PostgreSQL does. Must run before pgwire
/// reads the block's state for the statement: pgwire keeps an aborted block
/// aborted whatever a statement answers.
pub fn reopen(client: &mut (impl ClientInfo + ?Sized), statement: &Statement) {
    if client.transaction_status() != TransactionStatus::Error {
        return;
    }
    if let Statement::Rollback {
        savepoint: Some(name),
        ..
    } = statement
        && Open::of(client).newest(&folded(name)).is_some()
    {
        client.set_transaction_status(TransactionStatus::Transaction);
    }
}

/// [`reopen`] for a simple-protocol query string (parsed only in an
/// aborted block, and only when it can be a `ROLLBACK TO`).
pub(crate) fn reopen_for_text(client: &mut (impl ClientInfo + ?Sized), query: &str) {
    if client.transaction_status() != TransactionStatus::Error
        || !query.to_ascii_lowercase().contains("rollback")
    {
        return;
    }
    if let Ok(statements) = Parser::parse_sql(&PostgreSqlDialect {}, query)
        && let [statement] = statements.as_slice()
    {
        reopen(client, statement);
    }
}

/// [`answer`], with the block's new state set at once, for the statements
/// after it in the same query string.
fn answer_and_move(
    client: &mut dyn HookClient,
    statement: &Statement,
) -> Option<PgWireResult<Response>> {
    let status = client.transaction_status();
    let answered = answer(statement, status, &Open::of(client))?;
    match &answered {
        Ok(Response::TransactionStart(_)) => {
            client.set_transaction_status(status.to_in_transaction_state())
        }
        Ok(Response::TransactionEnd(_)) => {
            // COMMIT of an aborted block rolls it back.
            let committed = status == TransactionStatus::Transaction
                && matches!(statement, Statement::Commit { .. });
            super::cursors::end_block(client, committed);
            client.set_transaction_status(TransactionStatus::Idle)
        }
        _ => {}
    }
    Some(answered)
}

#[async_trait]
impl QueryHook for Transactions {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        answer_and_move(client, statement)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        // Nothing to plan: the statement is answered when it is executed.
        matches!(
            statement,
            Statement::Savepoint { .. }
                | Statement::ReleaseSavepoint { .. }
                | Statement::StartTransaction { .. }
                | Statement::Commit { .. }
                | Statement::Rollback { .. }
        )
        .then(|| Ok(no_plan()))
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        answer_and_move(client, statement)
    }
}

#[cfg(test)]
#[path = "transactions_tests.rs"]
mod tests;
