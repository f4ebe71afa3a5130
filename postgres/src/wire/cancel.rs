//! Cancel requests that reach a query while its rows are being computed.
//!
//! pgwire races a cancel request only against `do_query`, which for
//! DataFusion merely plans: the work happens later, as the row stream is
//! polled, where a cancel went unheard and a `GROUP BY` over the country
//! ran to its end. The session service ([`super::service`]) wraps every row
//! stream it answers: the stream listens to the connection's cancel flag
//! ([`super::cancel_requests`]), and a cancel ends it with SQLSTATE 57014,
//! dropping the DataFusion stream (which stops its tasks). The connection
//! stays open.
//!
//! `statement_timeout` works the same way: the stream ends with 57014 when
//! the statement has run that long, wherever its work is. So does a client
//! hanging up ([`super::peer`]): the work is dropped, with 08006.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;

use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::{QueryResponse, Response};
use datafusion_postgres::pgwire::error::PgWireResult;
use futures::Stream;
use tokio::time::Sleep;

use super::cancel_requests::CancelFlag;
use super::executor::{Forwarded, Queries};
use super::peer::Peer;
use crate::sqlstate::{code, user_error};

/// The client-metadata key `datafusion-postgres` keeps `SET
/// statement_timeout` under (milliseconds); its planning race reads it too.
pub const STATEMENT_TIMEOUT_KEY: &str = "statement_timeout_ms";

/// When the statement starting now must end, if `statement_timeout` is set.
pub(crate) fn deadline_of<C: ClientInfo>(client: &C) -> Option<tokio::time::Instant> {
    let ms: u64 = client.metadata().get(STATEMENT_TIMEOUT_KEY)?.parse().ok()?;
    (ms > 0).then(|| tokio::time::Instant::now() + std::time::Duration::from_millis(ms))
}

/// Why a row stream ended early.
enum Stop {
    Cancel,
    Timeout,
    Gone,
}

/// What ends a row stream early: a cancel request for the statement
/// polling it, the statement's deadline, or the client hanging up. Pends
/// forever when none can come.
async fn stopped(
    cancel: &CancelFlag,
    deadline: &mut Option<Pin<Box<Sleep>>>,
    peer: Option<&Peer>,
) -> Stop {
    let cancel = cancel.requested();
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

/// `work` (a statement's planning, run apart on the query runtime),
/// unless a cancel request or the statement's deadline comes first: both
/// answer 57014 at once (the abandoned work stops at its next yield).
pub(crate) async fn unless_stopped<T>(
    work: impl std::future::Future<Output = T>,
    cancel: Option<Arc<CancelFlag>>,
    deadline: Option<tokio::time::Instant>,
) -> PgWireResult<T> {
    let cancelled = async {
        match &cancel {
            Some(flag) => flag.requested().await,
            None => std::future::pending::<()>().await,
        }
    };
    let timed_out = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        biased;
        () = cancelled => Err(user_error(
            code::QUERY_CANCELED,
            "canceling statement due to user request",
        )),
        () = timed_out => Err(user_error(
            code::QUERY_CANCELED,
            "canceling statement due to statement timeout",
        )),
        out = work => Ok(out),
    }
}

/// What a statement's rows listen to, from its start.
pub struct Watch {
    pub cancel: Arc<CancelFlag>,
    pub deadline: Option<tokio::time::Instant>,
    pub queries: Queries,
    pub peer: Option<Arc<Peer>>,
}

/// The response, its rows or COPY lines (if any) computed on the query
/// runtime and ending at a cancel request, at the statement's deadline or
/// when the client hangs up.
pub(crate) fn cancellable(response: Response, watch: Option<Watch>) -> Response {
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
        cancel: watch.cancel,
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
        let next = tokio::select! {
            biased;
            stop = stopped(&state.cancel, &mut state.sleep, state.peer.as_deref()) => Err(stop),
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
        state.sleep = None;
        Some((Err(user_error(code, why)), state))
    })
}

/// Where a watched stream stands.
struct Watched<T> {
    forwarded: Forwarded<PgWireResult<T>>,
    /// Items received and not yet handed on.
    ready: VecDeque<PgWireResult<T>>,
    cancel: Arc<CancelFlag>,
    sleep: Option<Pin<Box<Sleep>>>,
    peer: Option<Arc<Peer>>,
    /// Ended by a cancel, the deadline or the client gone.
    done: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use datafusion_postgres::pgwire::error::PgWireError;

    use super::*;

    fn message(result: PgWireResult<()>) -> String {
        match result {
            Err(PgWireError::UserError(info)) => format!("{} {}", info.code, info.message),
            other => format!("{other:?}"),
        }
    }

    /// Planning that never yields an answer (as a statement whose planning
    /// takes longer than its timeout) is abandoned at the deadline or at a
    /// cancel, and the client is answered at once.
    #[tokio::test]
    async fn planning_is_abandoned_at_the_deadline_or_a_cancel() {
        let never = std::future::pending::<()>;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
        let timed_out = unless_stopped(never(), None, Some(deadline)).await;
        assert_eq!(
            message(timed_out),
            "57014 canceling statement due to statement timeout"
        );
        let flag = Arc::new(CancelFlag::default());
        let request = {
            let flag = Arc::clone(&flag);
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                flag.request();
            }
        };
        let (cancelled, ()) = tokio::join!(unless_stopped(never(), Some(flag), None), request);
        assert_eq!(
            message(cancelled),
            "57014 canceling statement due to user request"
        );
        assert!(unless_stopped(async {}, None, None).await.is_ok());
    }
}
