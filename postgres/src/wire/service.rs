//! The session service each connection talks to: `datafusion-postgres`'s,
//! wrapped so that statements run on the query runtime and their rows
//! listen for a cancel, the deadline and the client hanging up
//! ([`super::cancel`]); SQL cursors are described by their rows; and an
//! aborted block is reopened by a rollback to an open savepoint
//! ([`crate::hooks::transactions`]) before pgwire reads its state.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::pgwire::api::portal::{Format, Portal, PortalExecutionState};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{DescribePortalResponse, Response};
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::api::store::{Entry, PortalStore};
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore, DEFAULT_NAME};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::extendedquery::Execute;
use datafusion_postgres::pgwire::messages::simplequery::Query;
use datafusion_postgres::pgwire::types::format::FormatOptions;
use datafusion_postgres::{DfSessionService, QueryHook};
use futures::Sink;

use super::cancel::{Watch, cancellable, deadline_of, unless_stopped};
use super::cancel_requests::flag_of;
use super::executor::{OnRuntime, Queries};
use super::parse::{GuardedParser, StatementParser, api_error};
use super::peer::Peer;
use super::portal_rows::{CHUNK_ROWS, Part};
use crate::hooks::read_only::text_refusal;
use crate::hooks::text_rows;
use crate::hooks::transactions;
use crate::sqlstate::{code, user_error};

/// The session service, with row streams that hear cancel requests and
/// query work on the query runtime.
pub struct Cancellable {
    pub inner: Arc<DfSessionService>,
    /// The runtime query work runs on ([`super::executor`]).
    pub queries: Queries,
    /// The client's end of the socket, watched while rows are computed.
    pub peer: Option<Arc<Peer>>,
    /// The extended protocol's parser, with the read-only text check.
    pub parser: Arc<GuardedParser>,
}

impl Cancellable {
    /// The service over `inner` (made with `hooks` over `session`), running
    /// query work on `queries` and stopping it when `peer` hangs up.
    pub fn new(
        inner: Arc<DfSessionService>,
        hooks: Vec<Arc<dyn QueryHook>>,
        session: Arc<SessionContext>,
        queries: Queries,
        peer: Option<Peer>,
    ) -> Cancellable {
        let parser = Arc::new(GuardedParser {
            inner: inner.query_parser(),
            statements: StatementParser::new(),
            hooks,
            session,
            queries: queries.clone(),
        });
        Cancellable {
            inner,
            queries,
            peer: peer.map(Arc::new),
            parser,
        }
    }

    /// What the rows of a statement that started with `deadline` listen to
    /// (nothing without the connection's handle: then pgwire runs it bare).
    fn watch<C: ClientInfo>(
        &self,
        client: &C,
        deadline: Option<tokio::time::Instant>,
    ) -> Option<Watch> {
        Some(Watch {
            cancel: flag_of(client)?,
            deadline,
            queries: self.queries.clone(),
            peer: self.peer.clone(),
        })
    }

    /// Upstream's simple-query loop over [`StatementParser`]'s statements:
    /// each goes to the hooks, else DataFusion plans it (within the
    /// statement's deadline) and its rows are encoded as text.
    async fn simple_query<C>(
        &self,
        client: &mut C,
        query: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = self.parser.statements.parse(query)?;
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let session = &self.parser.session;
        let mut responses = Vec::with_capacity(statements.len());
        'statements: for statement in statements {
            for hook in &self.parser.hooks {
                if let Some(response) = hook.handle_simple_query(&statement, session, client).await
                {
                    responses.push(response?);
                    continue 'statements;
                }
            }
            // Planned from the statement as checked ([`super::limits`]),
            // not from its text: a second parse could read it otherwise.
            let planned = async {
                let plan = self.queries.plan(Arc::clone(session), statement).await?;
                session.execute_logical_plan(plan).await
            };
            let frame = unless_stopped(planned, flag_of(client), deadline)
                .await?
                .map_err(api_error)?;
            let rows = text_rows(frame, client).await?;
            responses.push(Response::Query(rows));
        }
        Ok(responses)
    }
}

#[async_trait]
impl SimpleQueryHandler for Cancellable {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        transactions::reopen_for_text(client, &query.query);
        self._on_query(client, query).await
    }

    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Some(why) = text_refusal(query) {
            return Err(user_error(code::INSUFFICIENT_PRIVILEGE, why));
        }
        let deadline = deadline_of(client);
        let planned = self.simple_query(client, query, deadline);
        let responses = OnRuntime::new(self.queries.handle.clone(), planned).await?;
        Ok(responses
            .into_iter()
            .map(|r| cancellable(r, self.watch(client, deadline)))
            .collect())
    }
}

#[async_trait]
impl ExtendedQueryHandler for Cancellable {
    type Statement = <DfSessionService as ExtendedQueryHandler>::Statement;
    type QueryParser = GuardedParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        Arc::clone(&self.parser)
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        if let Some(Entry::Value(portal)) = client.portal_store().get_portal(name)
            && let Some((statement, _)) = &portal.statement.statement.1
        {
            transactions::reopen(client, statement);
        }
        let limit = usize::try_from(message.max_rows).unwrap_or(0);
        if limit <= CHUNK_ROWS {
            return self._on_execute(client, message).await;
        }
        let (mut left, mut sent) = (limit, 0);
        loop {
            let rows = left.min(CHUNK_ROWS);
            let mut part = Part::new(client, left > rows, sent);
            // `rows` is at most CHUNK_ROWS, which fits.
            let max_rows = i32::try_from(rows).unwrap_or(i32::MAX);
            self._on_execute(&mut part, Execute::new(message.name.clone(), max_rows))
                .await?;
            if !part.suspended {
                return Ok(());
            }
            sent += part.rows;
            left -= rows;
        }
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        target: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // A cursor opened by SQL `DECLARE` is a portal too, and psycopg's
        // named cursors describe it to learn their columns. It holds no
        // plan, only its started rows, so its shape is theirs; described as
        // a plan it would have no columns, and psycopg would read every
        // fetched row against none. A `FETCH` from it (psycopg's binary
        // cursors send it as a portal) has the same shape; its rows are
        // text, and the description says so.
        let cursor = match &target.statement.statement {
            (_, None) => Some(target.state()),
            (_, Some((Statement::Fetch { name, .. }, _))) => {
                match client.portal_store().get_portal(&name.value) {
                    Some(Entry::Value(portal)) => Some(portal.state()),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(cursor) = cursor
            && let PortalExecutionState::Suspended(rows) = &*cursor.lock().await
        {
            return Ok(DescribePortalResponse::new(rows.row_schema.to_vec()));
        }
        let fields = self.parser.get_result_schema(
            &target.statement.statement,
            Some(&target.result_column_format),
        )?;
        Ok(DescribePortalResponse::new(fields))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // A cursor's rows are encoded as text when it is declared; sent
        // where binary was asked for, a client would misread every value.
        if let (_, Some((Statement::Fetch { .. }, _))) = &portal.statement.statement
            && match &portal.result_column_format {
                Format::UnifiedText => false,
                Format::UnifiedBinary => true,
                Format::Individual(codes) => codes.iter().any(|&c| c != 0),
            }
        {
            return Err(user_error(
                code::FEATURE_NOT_SUPPORTED,
                "FETCH from a cursor returns text: ask for text results \
                 (psycopg: a named cursor without binary=True)",
            ));
        }
        let deadline = deadline_of(client);
        if let Some(response) = self.plain_query(client, portal).await {
            return Ok(cancellable(response?, self.watch(client, deadline)));
        }
        let planned = ExtendedQueryHandler::do_query(self.inner.as_ref(), client, portal, max_rows);
        let response = OnRuntime::new(self.queries.handle.clone(), planned).await?;
        Ok(cancellable(response, self.watch(client, deadline)))
    }
}

impl Cancellable {
    /// A query without parameters, run from the plan its Parse made with
    /// one optimizer pass: upstream's extended path optimizes the plan and
    /// then again when it makes the physical plan (~4 ms of a scoped
    /// `indicators` query). The hooks see it first, as upstream's would;
    /// `None` leaves every other statement to upstream.
    async fn plain_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<<Self as ExtendedQueryHandler>::Statement>,
    ) -> Option<PgWireResult<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = <Self as ExtendedQueryHandler>::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (_, Some((statement, plan))) = &portal.statement.statement else {
            return None;
        };
        if !matches!(statement, Statement::Query(_))
            || !plan.get_parameter_types().is_ok_and(|p| p.is_empty())
        {
            return None;
        }
        let session = &self.parser.session;
        let none = ParamValues::List(Vec::new());
        for hook in &self.parser.hooks {
            if let Some(response) = hook
                .handle_extended_query(statement, plan, &none, session, client)
                .await
            {
                return Some(response);
            }
        }
        let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
        let format = &portal.result_column_format;
        let planned = async move {
            let frame = session
                .execute_logical_plan(plan.clone())
                .await
                .map_err(api_error)?;
            encode_dataframe(frame, format, Some(options)).await
        };
        let rows = OnRuntime::new(self.queries.handle.clone(), planned).await;
        Some(rows.map(Response::Query))
    }
}
