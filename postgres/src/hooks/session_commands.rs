//! `RESET` and `UNLISTEN`, answered before planning; the settings they
//! act on are [`crate::settings`]'s.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Reset, Statement};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::{Response, Tag};
use datafusion_postgres::pgwire::error::PgWireResult;
use sapa_sqlstate::SqlState;

use super::no_plan;
use crate::settings::SessionSettings;
use crate::sqlstate::user_error;

/// `RESET`, and `UNLISTEN` (a read-only server sends no notifications, so
/// nothing is listened to; `LISTEN` and `NOTIFY` are refused by the
/// read-only policy).
#[derive(Debug)]
pub struct SessionCommands;

impl SessionCommands {
    fn run(
        &self,
        statement: &Statement,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        match statement {
            Statement::Reset(reset) => {
                let name = match &reset.reset {
                    Reset::ALL => None,
                    Reset::ConfigurationParameter(name) => Some(name.to_string()),
                };
                let settings = client.session_extensions().get::<Arc<SessionSettings>>()?;
                Some(
                    settings
                        .reset(client, name.as_deref())
                        .map(|()| Response::Execution(Tag::new("RESET")))
                        .map_err(|e| user_error(e.sqlstate(), e.to_string())),
                )
            }
            // Nothing is listened to: there is nothing to stop.
            Statement::UNLISTEN { .. } => Some(Ok(Response::Execution(Tag::new("UNLISTEN")))),
            _ => None,
        }
    }
}

#[async_trait]
impl QueryHook for SessionCommands {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.run(statement, client)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        matches!(statement, Statement::Reset(_) | Statement::UNLISTEN { .. }).then(|| Ok(no_plan()))
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.run(statement, client)
    }
}
