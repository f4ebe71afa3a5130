//! `DECLARE name CURSOR FOR query`: a cursor opened in SQL, with the
//! query's parameters bound.
//!
//! `datafusion-postgres` opens cursors too, but plans their query from its
//! text alone: a `$1` in it (psycopg's named cursors send their parameters
//! that way) fails with "Placeholder '$1' was not provided a value", and
//! the statement reports no parameters to bind. Here the cursor's query is
//! planned when the `DECLARE` is parsed, so its parameters are typed like
//! any query's, and bound when it runs. `FETCH`, `MOVE` and `CLOSE` are
//! [`super::fetch`]'s: the cursor is a portal of the connection, named as the cursor, as in
//! PostgreSQL (psycopg describes it by that name; see
//! [`crate::wire::service::Cancellable`]'s portal description).
//!
//! What PostgreSQL refuses is refused the same way: a cursor without
//! `WITH HOLD` outside a transaction block (25P01). What Sapa cannot do is
//! said: `SCROLL` and `BINARY` cursors (0A000).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Declare, DeclareType, Statement};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::portal::Portal;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::api::stmt::StoredStatement;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::response::TransactionStatus;

use super::fetch::drop_cursor;
use super::{no_plan, text_rows};
use crate::sql::integer_literals::integer_literals;
use crate::sql::rewrite::rewrite;
use crate::sqlstate::{code, user_error};

/// Opens cursors (`FETCH`, `MOVE` and `CLOSE`: [`super::fetch::Fetches`]).
#[derive(Debug)]
pub struct Cursors;

/// The one cursor a `DECLARE` opens, checked against what Sapa serves.
fn declared(statement: &Statement) -> Option<PgWireResult<&Declare>> {
    let Statement::Declare { stmts } = statement else {
        return None;
    };
    Some(match stmts.as_slice() {
        [declare] if declare.declare_type == Some(DeclareType::Cursor) => {
            if declare.for_query.is_none() {
                Err(user_error(
                    code::SYNTAX_ERROR,
                    "DECLARE CURSOR needs FOR query",
                ))
            } else if declare.scroll == Some(true) {
                Err(user_error(
                    code::FEATURE_NOT_SUPPORTED,
                    "scrollable cursors are not supported; declare it NO SCROLL",
                ))
            } else if declare.binary == Some(true) {
                Err(user_error(
                    code::FEATURE_NOT_SUPPORTED,
                    "BINARY cursors are not supported; ask for binary results when fetching",
                ))
            } else {
                Ok(declare)
            }
        }
        _ => Err(user_error(
            code::SYNTAX_ERROR,
            "DECLARE opens one cursor: DECLARE name CURSOR FOR query",
        )),
    })
}

/// The plan of the cursor's query (with the rewrites any query gets).
async fn plan(ctx: &SessionContext, declare: &Declare) -> PgWireResult<LogicalPlan> {
    let query = declare
        .for_query
        .as_ref()
        .map(|q| Statement::Query(q.clone()))
        .ok_or_else(|| user_error(code::SYNTAX_ERROR, "DECLARE CURSOR needs FOR query"))?;
    let query = rewrite(&query).unwrap_or(query);
    ctx.state()
        .statement_to_plan(DfStatement::Statement(Box::new(query)))
        .await
        .and_then(integer_literals)
        .map_err(|e| PgWireError::ApiError(Box::new(e)))
}

/// The cursors declared in the connection's open transaction block, with
/// whether each is `WITH HOLD`: PostgreSQL closes them when the block ends
/// — all of them at `ROLLBACK`, those without `HOLD` at `COMMIT`.
#[derive(Debug, Default)]
pub(crate) struct BlockCursors(Mutex<Vec<(String, bool)>>);

impl BlockCursors {
    fn of(client: &(impl ClientInfo + ?Sized)) -> Arc<BlockCursors> {
        client
            .session_extensions()
            .get_or_insert_with(BlockCursors::default)
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<(String, bool)>> {
        // A panic elsewhere cannot leave the list half-written.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Closes what the end of a block closes: every cursor it declared when
/// it rolled back, those without `HOLD` when it committed.
pub(crate) fn end_block(client: &mut dyn HookClient, committed: bool) {
    let declared = std::mem::take(&mut *BlockCursors::of(client).list());
    for (name, hold) in declared {
        if !(committed && hold) {
            drop_cursor(client, &name);
        }
    }
}

/// Starts the cursor's rows under its name in the connection's portals.
async fn open(
    declare: &Declare,
    plan: LogicalPlan,
    params: &ParamValues,
    ctx: &SessionContext,
    client: &mut dyn HookClient,
) -> PgWireResult<Response> {
    if declare.hold != Some(true) && client.transaction_status() == TransactionStatus::Idle {
        return Err(user_error(
            code::NO_ACTIVE_TRANSACTION,
            "DECLARE CURSOR can only be used in transaction blocks",
        ));
    }
    let name = declare
        .names
        .first()
        .map(|n| n.value.clone())
        .ok_or_else(|| user_error(code::SYNTAX_ERROR, "DECLARE CURSOR needs a name"))?;
    // As PostgreSQL: a name in use stays the cursor it names (replacing it
    // left a FETCH describing one cursor and sending the other's rows).
    if client.portal_store().get_portal(&name).is_some() {
        return Err(user_error(
            code::DUPLICATE_CURSOR,
            format!("cursor \"{name}\" already exists"),
        ));
    }
    let plan = plan
        .replace_params_with_values(params)
        .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    let rows = text_rows(df, client).await?;
    let text = declare
        .for_query
        .as_ref()
        .map(|q| q.to_string())
        .unwrap_or_default();
    // No plan kept with it: `FETCH` reads its started rows, and its
    // description comes from them.
    let statement = Arc::new(StoredStatement::new(name.clone(), (text, None), vec![]));
    let portal = Portal::new_cursor(name.clone(), statement);
    portal.start(rows).await;
    client.portal_store().put_portal(Arc::new(portal));
    if client.transaction_status() != TransactionStatus::Idle {
        BlockCursors::of(client)
            .list()
            .push((name, declare.hold == Some(true)));
    }
    Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
}

#[async_trait]
impl QueryHook for Cursors {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        let declare = match declared(statement)? {
            Ok(declare) => declare,
            Err(e) => return Some(Err(e)),
        };
        Some(
            async {
                let plan = plan(session_context, declare).await?;
                open(
                    declare,
                    plan,
                    &ParamValues::List(vec![]),
                    session_context,
                    client,
                )
                .await
            }
            .await,
        )
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        Some(match declared(statement)? {
            Ok(declare) => plan(session_context, declare).await,
            // Refused when it runs, as the simple protocol does.
            Err(_) => Ok(no_plan()),
        })
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        logical_plan: &LogicalPlan,
        params: &ParamValues,
        session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        Some(match declared(statement)? {
            Ok(declare) => {
                open(
                    declare,
                    logical_plan.clone(),
                    params,
                    session_context,
                    client,
                )
                .await
            }
            Err(e) => Err(e),
        })
    }
}
