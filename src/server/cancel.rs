//! Cancel requests that reach a query while its rows are being computed.
//!
//! pgwire races a cancel request only against `do_query`, which for
//! DataFusion merely plans: the work happens later, as the row stream is
//! polled, where a cancel went unheard and a `GROUP BY` over the country
//! ran to its end. [`Cancellable`] wraps the session service and every row
//! stream it answers: on its first poll the stream takes the connection's
//! cancel signal, and a cancel then ends it with SQLSTATE 57014, dropping
//! the DataFusion stream (which stops its tasks). The connection stays open.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::DfSessionService;
use datafusion_postgres::pgwire::api::portal::Portal;
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{QueryResponse, Response};
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore, ConnectionHandle};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use futures::channel::oneshot;
use futures::{Sink, StreamExt};

use super::sqlstate::{code, user_error};

/// The session service, with row streams that hear cancel requests.
pub(crate) struct Cancellable {
    pub(crate) inner: Arc<DfSessionService>,
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

/// The response, its rows (if any) ending at a cancel request.
fn cancellable(response: Response, handle: Option<&Arc<ConnectionHandle>>) -> Response {
    let Response::Query(query) = response else {
        return response;
    };
    let Some(handle) = handle.map(Arc::clone) else {
        return Response::Query(query);
    };
    let QueryResponse {
        command_tag,
        row_schema,
        data_rows,
        ..
    } = query;
    let rows = futures::stream::unfold(
        (data_rows, Signal::Start(handle), false),
        |(mut rows, mut signal, done)| async move {
            if done {
                return None;
            }
            if let Signal::Start(handle) = &signal {
                signal = Signal::Listening(handle.start_query().await);
            }
            let next = match &mut signal {
                Signal::Listening(receiver) => {
                    tokio::select! {
                        biased;
                        fired = receiver => match fired {
                            Ok(()) => Err(()),
                            Err(_) => {
                                signal = Signal::Deaf;
                                Ok(rows.next().await)
                            }
                        },
                        row = rows.next() => Ok(row),
                    }
                }
                _ => Ok(rows.next().await),
            };
            match next {
                Ok(Some(row)) => Some((row, (rows, signal, false))),
                Ok(None) => None,
                Err(()) => Some((
                    Err(user_error(
                        code::QUERY_CANCELED,
                        "canceling statement due to user request",
                    )),
                    (rows, Signal::Deaf, true),
                )),
            }
        },
    );
    let mut wrapped = QueryResponse::new(row_schema, rows);
    wrapped.command_tag = command_tag;
    Response::Query(wrapped)
}

#[async_trait]
impl SimpleQueryHandler for Cancellable {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let responses = SimpleQueryHandler::do_query(self.inner.as_ref(), client, query).await?;
        let handle = handle_of(client);
        Ok(responses
            .into_iter()
            .map(|r| cancellable(r, handle.as_ref()))
            .collect())
    }
}

#[async_trait]
impl ExtendedQueryHandler for Cancellable {
    type Statement = <DfSessionService as ExtendedQueryHandler>::Statement;
    type QueryParser = <DfSessionService as ExtendedQueryHandler>::QueryParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.inner.query_parser()
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
        let response =
            ExtendedQueryHandler::do_query(self.inner.as_ref(), client, portal, max_rows).await?;
        Ok(cancellable(response, handle_of(client).as_ref()))
    }
}
