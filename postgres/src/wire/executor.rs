//! Query work runs on a runtime of its own.
//!
//! DataFusion yields to the scheduler once per batch it reads; an operator
//! that multiplies rows (a cross join) can compute for seconds between
//! yields, and its partition tasks then hold every worker thread. On a
//! shared runtime that starves the connections, the timers and the cancel
//! requests: a `statement_timeout` of 300 ms was heard after 28 s. So the
//! connections live on the server's runtime and everything DataFusion
//! spawns or polls lives on [`QueryRuntime`]: a connection waits on a
//! channel, hears its cancel or deadline at once and answers the client;
//! the abandoned work stops at its next yield.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// Rows a query hands to its connection at once, at most.
const CHUNK: usize = 256;
/// Chunks in flight between a query and its connection.
const IN_FLIGHT: usize = 8;

/// The stack of every thread the server runs statements on: room for the
/// deepest statement [`super::limits`] lets through, planned, evaluated
/// and dropped (the memory is reserved, and touched only as it is used).
pub const THREAD_STACK: usize = 32 << 20;

/// A runtime the server owns, with [`THREAD_STACK`] stacks.
pub struct OwnedRuntime {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl OwnedRuntime {
    /// A multi-threaded runtime of `threads` workers named `name`.
    pub fn new(name: &str, threads: usize) -> std::io::Result<OwnedRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(name)
            .thread_stack_size(THREAD_STACK)
            .enable_all()
            .build()?;
        Ok(OwnedRuntime {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Where its work is spawned.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        // Dropped from async code when a server ends: do not block there;
        // running work stops at its next yield.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The runtime queries execute on.
pub struct QueryRuntime {
    _runtime: OwnedRuntime,
    queries: Queries,
}

/// Where query work is spawned, and the count of it running.
#[derive(Clone)]
pub struct Queries {
    pub handle: Handle,
    pub running: Running,
}

impl Queries {
    /// Runs `work` as a task of the query runtime and waits for it here: a
    /// statement's planning computes without yielding, and the connection
    /// must hear its deadline and cancel requests meanwhile. Dropping the
    /// wait aborts the task (it stops at its next yield).
    pub async fn apart<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        struct AbortOnDrop(AbortHandle);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let task = self.handle.spawn(work);
        let _abort = AbortOnDrop(task.abort_handle());
        task.await
    }
}

impl Queries {
    /// Plans `statement` on the query runtime ([`Queries::apart`]).
    pub async fn plan(
        &self,
        session: Arc<datafusion::prelude::SessionContext>,
        statement: datafusion::sql::sqlparser::ast::Statement,
    ) -> datafusion::error::Result<datafusion::logical_expr::LogicalPlan> {
        let statement = datafusion::sql::parser::Statement::Statement(Box::new(statement));
        self.apart(async move {
            let plan = session.state().statement_to_plan(statement).await?;
            crate::sql::integer_literals::integer_literals(plan)
        })
        .await
        .map_err(|err| {
            datafusion::error::DataFusionError::Execution(format!("planning failed: {err}"))
        })?
    }
}

/// How many statements' row streams are being computed right now: each
/// counts from its start until its work ends or is dropped (a cancel, a
/// timeout, a client gone).
#[derive(Clone, Debug, Default)]
pub struct Running(Arc<AtomicUsize>);

impl Running {
    /// The number running now.
    pub fn now(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// One running statement, counted while it lives.
struct Counted(Running);

impl Counted {
    fn new(running: &Running) -> Counted {
        running.0.fetch_add(1, Ordering::SeqCst);
        Counted(running.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl QueryRuntime {
    /// A multi-threaded runtime with `threads` workers.
    pub fn new(threads: usize) -> std::io::Result<QueryRuntime> {
        let runtime = OwnedRuntime::new("sapa-query", threads)?;
        let handle = runtime.handle().clone();
        Ok(QueryRuntime {
            _runtime: runtime,
            queries: Queries {
                handle,
                running: Running::default(),
            },
        })
    }

    /// Where query work is spawned.
    pub fn queries(&self) -> Queries {
        self.queries.clone()
    }
}

/// `future`, with every task it spawns while it is polled (DataFusion's
/// partition streams, planning's I/O) spawned on `handle`'s runtime.
pub(crate) struct OnRuntime<'a, T> {
    handle: Handle,
    future: Pin<Box<dyn Future<Output = T> + Send + 'a>>,
}

impl<'a, T> OnRuntime<'a, T> {
    pub(crate) fn new(handle: Handle, future: impl Future<Output = T> + Send + 'a) -> Self {
        OnRuntime {
            handle,
            future: Box::pin(future),
        }
    }
}

impl<T> Future for OnRuntime<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let _entered = self.handle.enter();
        self.future.as_mut().poll(cx)
    }
}

/// Items (rows, COPY lines) computed on `handle`'s runtime and received
/// here, in chunks.
pub(crate) struct Forwarded<T> {
    receiver: mpsc::Receiver<Vec<T>>,
    task: AbortHandle,
}

impl<T: Send + 'static> Forwarded<T> {
    /// Starts polling `rows` on the query runtime.
    pub(crate) fn start(
        queries: &Queries,
        rows: impl Stream<Item = T> + Send + 'static,
    ) -> Forwarded<T> {
        let (sender, receiver) = mpsc::channel(IN_FLIGHT);
        let counted = Counted::new(&queries.running);
        let task = queries.handle.spawn(async move {
            // Dropped with the task, whether it ends or is aborted.
            let _counted = counted;
            let mut chunks = Box::pin(rows.ready_chunks(CHUNK));
            while let Some(chunk) = chunks.next().await {
                if sender.send(chunk).await.is_err() {
                    // The connection stopped listening (cancel, timeout,
                    // disconnect): drop the stream and its work.
                    break;
                }
            }
        });
        Forwarded {
            receiver,
            task: task.abort_handle(),
        }
    }

    /// The next chunk, `None` at the end.
    pub(crate) async fn next_chunk(&mut self) -> Option<Vec<T>> {
        self.receiver.recv().await
    }
}

impl<T> Drop for Forwarded<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}
