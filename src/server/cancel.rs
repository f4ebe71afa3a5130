//! Cancel requests that reach a query while its rows are being computed.
//!
//! pgwire races a cancel request only against `do_query`, which for
//! DataFusion merely plans: the work happens later, as the row stream is
//! polled, where a cancel went unheard and a `GROUP BY` over the country
//! ran to its end. [`Cancellable`] wraps the session service and every row
//! stream it answers: on its first poll the stream takes the connection's
//! cancel signal, and a cancel then ends it with SQLSTATE 57014, dropping
//! the DataFusion stream (which stops its tasks). The connection stays open.
//!
//! `statement_timeout` works the same way: the stream ends with 57014 when
//! the statement has run that long, wherever its work is.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::pgwire::api::portal::{Format, Portal, PortalExecutionState};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{DescribePortalResponse, QueryResponse, Response};
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::api::store::{Entry, PortalStore};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionHandle, DEFAULT_NAME,
};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::extendedquery::Execute;
use datafusion_postgres::pgwire::messages::simplequery::Query;
use datafusion_postgres::pgwire::types::format::FormatOptions;
use datafusion_postgres::{DfSessionService, QueryHook};
use futures::channel::oneshot;
use futures::{Sink, Stream};
use tokio::time::Sleep;

use super::executor::{Forwarded, OnRuntime, Queries};
use super::parse::{GuardedParser, StatementParser, api_error};
use super::peer::Peer;
use super::read_only::text_refusal;
use super::sqlstate::{code, user_error};
use super::transactions;

/// The session service, with row streams that hear cancel requests and
/// query work on the query runtime.
pub(crate) struct Cancellable {
    pub(crate) inner: Arc<DfSessionService>,
    /// The runtime query work runs on ([`super::executor`]).
    pub(crate) queries: Queries,
    /// The client's end of the socket, watched while rows are computed.
    pub(crate) peer: Option<Arc<Peer>>,
    /// The extended protocol's parser, with the read-only text check.
    pub(crate) parser: Arc<GuardedParser>,
}

impl Cancellable {
    /// The service over `inner` (made with `hooks` over `session`), running
    /// query work on `queries` and stopping it when `peer` hangs up.
    pub(crate) fn new(
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
        });
        Cancellable {
            inner,
            queries,
            peer: peer.map(Arc::new),
            parser,
        }
    }
}

impl Cancellable {
    /// What the rows of a statement that started with `deadline` listen to
    /// (nothing without the connection's handle: then pgwire runs it bare).
    fn watch<C: ClientInfo>(
        &self,
        client: &C,
        deadline: Option<tokio::time::Instant>,
    ) -> Option<Watch> {
        Some(Watch {
            handle: handle_of(client)?,
            deadline,
            queries: self.queries.clone(),
            peer: self.peer.clone(),
        })
    }
}

/// The client-metadata key `datafusion-postgres` keeps `SET
/// statement_timeout` under (milliseconds); its planning race reads it too.
pub(crate) const STATEMENT_TIMEOUT_KEY: &str = "statement_timeout_ms";

/// When the statement starting now must end, if `statement_timeout` is set.
fn deadline_of<C: ClientInfo>(client: &C) -> Option<tokio::time::Instant> {
    let ms: u64 = client.metadata().get(STATEMENT_TIMEOUT_KEY)?.parse().ok()?;
    (ms > 0).then(|| tokio::time::Instant::now() + std::time::Duration::from_millis(ms))
}

/// Why a row stream ended early.
enum Stop {
    Cancel,
    Timeout,
    Gone,
}

/// The connection's handle, through which pgwire delivers cancel requests.
fn handle_of<C: ClientInfo>(client: &C) -> Option<Arc<ConnectionHandle>> {
    client
        .session_extensions()
        .get::<Arc<ConnectionHandle>>()
        .map(|h| Arc::clone(h.as_ref()))
}

/// Where the stream is: not yet listening, listening, or done listening
/// (the signal was replaced by a later statement's: a suspended portal
/// must not be cancelled by the next query's bookkeeping).
enum Signal {
    Start(Arc<ConnectionHandle>),
    Listening(oneshot::Receiver<()>),
    Deaf,
}

/// What ends a row stream early: the connection's cancel signal (once it
/// fires; a signal dropped by a later statement stops being listened to),
/// the statement's deadline, or the client hanging up. Pends forever when
/// none can come.
async fn stopped(
    signal: &mut Signal,
    deadline: &mut Option<Pin<Box<Sleep>>>,
    peer: Option<&Peer>,
) -> Stop {
    let cancel = async {
        loop {
            match signal {
                Signal::Listening(receiver) => match receiver.await {
                    Ok(()) => return,
                    Err(_) => *signal = Signal::Deaf,
                },
                _ => std::future::pending::<()>().await,
            }
        }
    };
    let timeout = async {
        match deadline {
            Some(sleep) => sleep.as_mut().await,
            None => std::future::pending::<()>().await,
        }
    };
    let gone = async {
        match peer {
            Some(peer) => peer.hung_up().await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        biased;
        () = cancel => Stop::Cancel,
        () = timeout => Stop::Timeout,
        () = gone => Stop::Gone,
    }
}

/// What a statement's rows listen to, from its start.
struct Watch {
    handle: Arc<ConnectionHandle>,
    deadline: Option<tokio::time::Instant>,
    queries: Queries,
    peer: Option<Arc<Peer>>,
}

/// The response, its rows or COPY lines (if any) computed on the query
/// runtime and ending at a cancel request, at the statement's deadline or
/// when the client hangs up.
fn cancellable(response: Response, watch: Option<Watch>) -> Response {
    let Some(watch) = watch else {
        return response;
    };
    match response {
        Response::Query(query) => {
            let QueryResponse {
                command_tag,
                row_schema,
                data_rows,
                ..
            } = query;
            let rows = watched(data_rows, watch);
            let mut wrapped = QueryResponse::new(row_schema, rows);
            wrapped.command_tag = command_tag;
            Response::Query(wrapped)
        }
        Response::CopyOut(mut copy) => {
            // The stream is swapped in place: `CopyResponse::new` would add
            // a second binary trailer to a stream that already has one.
            let lines =
                std::mem::replace(&mut copy.data_stream, Box::pin(futures::stream::empty()));
            copy.data_stream = Box::pin(watched(lines, watch));
            Response::CopyOut(copy)
        }
        other => other,
    }
}

/// `items`, computed on the query runtime, ending with 57014 at a cancel
/// request or at the deadline, and with 08006 when the client is gone.
fn watched<T: Send + 'static>(
    items: impl Stream<Item = PgWireResult<T>> + Send + 'static,
    watch: Watch,
) -> impl Stream<Item = PgWireResult<T>> + Send + 'static {
    let state = Watched {
        forwarded: Forwarded::start(&watch.queries, items),
        ready: VecDeque::new(),
        signal: Signal::Start(watch.handle),
        sleep: watch
            .deadline
            .map(|at| Box::pin(tokio::time::sleep_until(at))),
        peer: watch.peer,
        done: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        if let Some(item) = state.ready.pop_front() {
            return Some((item, state));
        }
        if state.done {
            return None;
        }
        if let Signal::Start(handle) = &state.signal {
            state.signal = Signal::Listening(handle.start_query().await);
        }
        let next = tokio::select! {
            biased;
            stop = stopped(&mut state.signal, &mut state.sleep, state.peer.as_deref()) => Err(stop),
            chunk = state.forwarded.next_chunk() => Ok(chunk),
        };
        let (code, why) = match next {
            Ok(Some(chunk)) => {
                state.ready.extend(chunk);
                let item = state.ready.pop_front()?;
                return Some((item, state));
            }
            Ok(None) => return None,
            Err(Stop::Cancel) => (
                code::QUERY_CANCELED,
                "canceling statement due to user request",
            ),
            Err(Stop::Timeout) => (
                code::QUERY_CANCELED,
                "canceling statement due to statement timeout",
            ),
            Err(Stop::Gone) => {
                log::info!("client hung up while its statement ran: its work is stopped");
                (code::CONNECTION_FAILURE, "connection to client lost")
            }
        };
        state.done = true;
        state.signal = Signal::Deaf;
        state.sleep = None;
        Some((Err(user_error(code, why)), state))
    })
}

/// Where a watched stream stands.
struct Watched<T> {
    forwarded: Forwarded<PgWireResult<T>>,
    /// Items received and not yet handed on.
    ready: VecDeque<PgWireResult<T>>,
    signal: Signal,
    sleep: Option<Pin<Box<Sleep>>>,
    peer: Option<Arc<Peer>>,
    /// Ended by a cancel, the deadline or the client gone.
    done: bool,
}

impl Cancellable {
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
        let statements = self.parser.statements.parse(query).map_err(api_error)?;
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
            let sql = statement.to_string();
            let planned = session.sql(&sql);
            let frame = match deadline {
                Some(at) => tokio::time::timeout_at(at, planned).await.map_err(|_| {
                    user_error(
                        code::QUERY_CANCELED,
                        "canceling statement due to statement timeout",
                    )
                })?,
                None => planned.await,
            }
            .map_err(api_error)?;
            let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
            let rows = encode_dataframe(frame, &Format::UnifiedText, Some(options)).await?;
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
        self._on_execute(client, message).await
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
        let planned = ExtendedQueryHandler::do_query(self.inner.as_ref(), client, portal, max_rows);
        let response = OnRuntime::new(self.queries.handle.clone(), planned).await?;
        Ok(cancellable(response, self.watch(client, deadline)))
    }
}
