//! Statement hooks that run before `datafusion-postgres`'s own.
//!
//! [`ShowGuard`]: `SHOW` answers as PostgreSQL does — the emulated server
//! version, the session's time zone — and an unknown parameter is an error
//! (SQLSTATE 42704) rather than an empty string.
//!
//! [`Deallocate`]: `DEALLOCATE` of the protocol's prepared statements.

//!
//! The other statements answered before planning sit beside it: the
//! read-only policy ([`read_only`]), `RESET` ([`session_commands`]),
//! transaction blocks and savepoints ([`transactions`]), cursors ([`cursors`], [`fetch`]) and `COPY … TO
//! STDOUT` ([`copy`]).

pub mod copy;
pub mod cursors;
pub mod fetch;
pub mod read_only;
pub mod session_commands;
pub mod transactions;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::QueryHook;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::Type;
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::results::{
    DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag,
};
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::error::PgWireResult;
use datafusion_postgres::pgwire::types::format::FormatOptions;

use crate::settings::setting;
use crate::sqlstate::{code, user_error};

/// `SHOW` parameters `datafusion-postgres` answers itself.
const PASSED_ON: &[&str] = &[
    "transaction_isolation",
    "catalogs",
    "bytea_output",
    "datestyle",
    "intervalstyle",
    "extra_float_digits",
    "application_name",
    "search_path",
];

/// Answers `SHOW` of the parameters whose upstream answer is wrong or empty.
#[derive(Debug)]
pub struct ShowGuard;

/// What `SHOW` answers: `None` to let the next hook answer.
fn show(
    statement: &Statement,
    session: &SessionContext,
    client: &dyn ClientInfo,
) -> Option<PgWireResult<Response>> {
    let Statement::ShowVariable { variable } = statement else {
        return None;
    };
    let words: Vec<String> = variable.iter().map(|v| v.value.to_lowercase()).collect();
    // DataFusion's own settings, as this session has them.
    if words.first().is_some_and(|w| w.starts_with("datafusion")) {
        let key = words.join(".");
        let entry = session
            .state()
            .config()
            .options()
            .entries()
            .into_iter()
            .find(|e| e.key == key);
        return Some(match entry {
            Some(e) => one_value(&key, e.value.as_deref().unwrap_or("")).map(Response::Query),
            None => Err(user_error(
                code::UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{key}\""),
            )),
        });
    }
    let name = words.join(" ");
    let answer = match name.as_str() {
        "timezone" | "time zone" => {
            let zone = client.metadata().get("timezone").cloned();
            (
                "TimeZone".to_string(),
                zone.unwrap_or_else(|| "UTC".to_string()),
            )
        }
        "statement_timeout" => {
            let ms = client
                .metadata()
                .get(crate::wire::cancel::STATEMENT_TIMEOUT_KEY)
                .and_then(|ms| ms.parse().ok())
                .unwrap_or(0);
            (name.clone(), crate::settings::pg_duration(ms))
        }
        "transaction isolation level" => return None,
        _ if PASSED_ON.contains(&name.as_str()) || client.metadata().contains_key(&name) => {
            return None;
        }
        _ => match setting(&name) {
            Some(value) => (name.clone(), value),
            None => {
                return Some(Err(user_error(
                    code::UNDEFINED_OBJECT,
                    format!("unrecognized configuration parameter \"{name}\""),
                )));
            }
        },
    };
    Some(one_value(&answer.0, &answer.1).map(Response::Query))
}

/// A one-row, one-column text result.
fn one_value(column: &str, value: &str) -> PgWireResult<QueryResponse> {
    let fields = Arc::new(vec![FieldInfo::new(
        column.to_string(),
        None,
        None,
        Type::TEXT,
        FieldFormat::Text,
    )]);
    let mut encoder = DataRowEncoder::new(Arc::clone(&fields));
    encoder.encode_field(&Some(value))?;
    let row = encoder.take_row();
    Ok(QueryResponse::new(
        fields,
        futures::stream::once(async move { Ok(row) }),
    ))
}

#[async_trait]
impl QueryHook for ShowGuard {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        show(statement, session_context, client)
    }

    async fn handle_extended_parse_query(
        &self,
        _statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        // `SetShowHook` plans every SHOW as one text column; we only answer.
        None
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        show(statement, session_context, client)
    }
}

/// `frame`'s rows for the simple protocol: text, in the client's date and
/// interval styles.
pub async fn text_rows(
    frame: datafusion::prelude::DataFrame,
    client: &(impl ClientInfo + ?Sized),
) -> PgWireResult<QueryResponse> {
    let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
    let mut rows = encode_dataframe(frame, &Format::UnifiedText, Some(options)).await?;
    rows.row_schema = Arc::new(crate::catalog::pg_types::vector_types(
        rows.row_schema.to_vec(),
    ));
    Ok(rows)
}

/// The plan of a statement a hook answers when it runs: nothing to plan,
/// no columns.
pub(crate) fn no_plan() -> LogicalPlan {
    LogicalPlan::EmptyRelation(datafusion::logical_expr::EmptyRelation {
        produce_one_row: false,
        schema: Arc::new(datafusion::common::DFSchema::empty()),
    })
}

/// `DEALLOCATE` of the protocol's prepared statements, which DataFusion's
/// own `DEALLOCATE` (for SQL `PREPARE`) does not know: psycopg sends
/// `DEALLOCATE ALL` after every `ROLLBACK` once it has prepared any, and
/// a failure there broke SQLAlchemy's inspector.
#[derive(Debug)]
pub struct Deallocate;

/// The answer to `statement` if it deallocates protocol statements:
/// `ALL` succeeds (they are the connection's and go with it; pgwire's store
/// cannot list them), a named one is removed if the protocol holds it, and
/// anything else is left to DataFusion.
fn deallocate(statement: &Statement, client: &dyn HookClient) -> Option<PgWireResult<Response>> {
    let Statement::Deallocate { name, .. } = statement else {
        return None;
    };
    if name.quote_style.is_none() && name.value.eq_ignore_ascii_case("all") {
        return Some(Ok(Response::Execution(Tag::new("DEALLOCATE ALL"))));
    }
    let store = client.portal_store();
    store.get_statement(&name.value)?;
    store.rm_statement(&name.value);
    Some(Ok(Response::Execution(Tag::new("DEALLOCATE"))))
}

#[async_trait]
impl QueryHook for Deallocate {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        deallocate(statement, client)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        matches!(statement, Statement::Deallocate { .. }).then(|| Ok(no_plan()))
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        deallocate(statement, client)
    }
}
