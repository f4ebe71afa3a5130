//! The PostgreSQL wire front end (`sapa serve`, SPEC §12).
//!
//! A thin layer over the engine. Users log in from the users file with
//! SCRAM-SHA-256 (or, without one, as `sapa` from loopback), over TLS if
//! configured. Each connection then gets its own DataFusion session, a copy
//! of its scope's prepared session (SPEC §8): the relations as that scope
//! sees them, read-only, with `pg_catalog` and `information_schema`
//! describing only them — so one client's `SET` never reaches another and no
//! SQL reaches past the scope. Statements other than queries and session
//! statements are refused (42501); query work runs on a runtime of its own,
//! so cancel and `statement_timeout` are heard while rows are computed; and
//! each session's memory pool draws from one server budget. The protocol,
//! `pg_catalog` and the query hooks come from `datafusion-postgres`; what it
//! leaves open is closed by the `sapa_postgres` crate (the statement path,
//! SCRAM and TLS, the hooks, client SQL made plannable, the functions
//! clients call, every setting). What needs the engine is here: the
//! startup and the users file (`auth`), the session's catalog (`catalog`:
//! Sapa's functions in `pg_proc`, the declared keys, `information_schema`),
//! each connection's message loop and handlers (`wire`), the access log
//! ([`events`]) and the sessions per scope ([`SessionFactory`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sapa::engine::Engine;
//! use sapa::server::{Server, ServerOptions};
//! use sapa::storage::DataLocation;
//!
//! let engine = Engine::open(&DataLocation::local("data")?).await?;
//! let server = Server::bind(engine, ServerOptions::default()).await?;
//! println!("listening on {}", server.local_addr());
//! server.run().await?;
//! # Ok(()) }
//! ```

// What needs the engine stays here; the PostgreSQL layer it builds on is
// the `sapa_postgres` crate.
mod auth; // who may connect: the startup and the users file
mod catalog; // the session's catalog: pg_proc, keys, information_schema
pub mod events; // the access and query log
mod functions; // the key functions, over the session's catalog
mod session; // the per-scope sessions, from the engine's SQL surface
mod wire; // one connection: its message loop and handlers

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::engine::{Engine, EngineError, MemoryBudget, Scope};
use auth::startup;
use sapa_postgres::wire::peer::Peer;
use sapa_postgres::wire::{cancel_requests, executor};
use wire::{connection, socket};

pub use auth::startup::SCOPE_METADATA;
pub use auth::users::{User, Users, UsersError};
pub use sapa_postgres::auth::scram::{MECHANISM, MIN_ITERATIONS, Verifier, VerifierError};
pub use sapa_postgres::auth::tls::{TlsError, TlsFiles, load_acceptor};
pub use sapa_postgres::settings::PG_VERSION;
pub use sapa_postgres::sqlstate::sqlstate_of;
pub use sapa_postgres::wire::executor::Running;
pub use session::SessionFactory;
pub use wire::socket::STARTUP_DEADLINE;

/// The default address: PostgreSQL's port plus one, on loopback.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5433";

/// What can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime queries execute on could not be started.
    #[error("cannot start the query runtime: {0}")]
    Runtime(std::io::Error),
    /// Accepting connections failed.
    #[error("accepting connections failed: {0}")]
    Accept(std::io::Error),
    /// Preparing the base session failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The users file is unreadable or wrong.
    #[error(transparent)]
    Users(#[from] UsersError),
    /// A TLS certificate or key file does not load.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A user's scope cannot be served (it names a unit the data lacks).
    #[error("user \"{user}\" of the users file: {source}")]
    UserScope {
        /// The user.
        user: String,
        /// Why.
        source: Box<EngineError>,
    },
    /// `--require-tls` without a certificate: no client could connect.
    #[error(
        "TLS is required (--require-tls) but no certificate and key are given (--tls-cert, --tls-key)"
    )]
    RequireTlsWithoutCert,
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where to listen (`127.0.0.1:5433` by default; port 0 picks a free one).
    pub listen: String,
    /// The most concurrent logged-in connections; a login over it is
    /// refused with SQLSTATE 53300 (0 = no limit). Clients still logging in
    /// wait apart, in a pool of [`pending_logins`] places, for at most
    /// [`STARTUP_DEADLINE`].
    pub max_connections: usize,
    /// Bytes of memory one query may use before it spills or, if it cannot,
    /// ends with SQLSTATE 53200.
    pub query_memory: usize,
    /// Bytes of memory all queries together may use.
    pub memory: usize,
    /// The `statement_timeout` every session starts with (`None`: none).
    pub statement_timeout: Option<std::time::Duration>,
    /// Who may log in, with SCRAM-SHA-256 passwords. `None`: loopback
    /// clients only, as user `sapa` with the ministry's scope.
    pub users: Option<Arc<Users>>,
    /// The certificate and key to offer TLS with (`None`: no TLS; clients
    /// asking for it are told so and may go on in plaintext).
    pub tls: Option<TlsFiles>,
    /// Refuse clients that did not negotiate TLS (SQLSTATE 28000). Needs
    /// [`ServerOptions::tls`].
    pub require_tls: bool,
    /// How much of each statement the access log keeps ([`events`]).
    pub log_statement: events::LogStatement,
    /// Statements that take at least this long are logged with their plan
    /// and its metrics (PostgreSQL's `log_min_duration_statement`).
    pub log_slow: Option<std::time::Duration>,
}

/// How many clients may be logging in at once: twice the connections
/// (at least 32), so sockets that never log in cannot hold back users.
pub fn pending_logins(max_connections: usize) -> usize {
    max_connections.saturating_mul(2).max(32)
}

/// Default memory of one query: 2 GiB.
pub const DEFAULT_QUERY_MEMORY: usize = 2 << 30;
/// Default memory of all queries together: 8 GiB.
pub const DEFAULT_MEMORY: usize = 8 << 30;

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: DEFAULT_LISTEN.to_string(),
            max_connections: 100,
            query_memory: DEFAULT_QUERY_MEMORY,
            memory: DEFAULT_MEMORY,
            statement_timeout: None,
            users: None,
            tls: None,
            require_tls: false,
            log_statement: events::LogStatement::default(),
            log_slow: None,
        }
    }
}

/// A bound server, ready to accept connections.
pub struct Server {
    listener: TcpListener,
    shared: Arc<connection::Shared>,
    /// Places for clients that are logging in.
    logins: Arc<Semaphore>,
    tls: Option<TlsAcceptor>,
    /// Where connections run: the server's own threads, with stacks for
    /// the deepest statement allowed, whatever runtime accepts them.
    connections: executor::OwnedRuntime,
    log: events::LogOptions,
}

impl Server {
    /// Loads the TLS files, prepares the base session over `engine` and
    /// binds the listening socket (nothing is accepted until
    /// [`Server::run`]). TLS files that do not load are an error, never a
    /// plaintext fallback.
    pub async fn bind(engine: Engine, options: ServerOptions) -> Result<Server, ServerError> {
        let tls = match &options.tls {
            Some(files) => Some(load_acceptor(&files.cert, &files.key)?),
            None if options.require_tls => return Err(ServerError::RequireTlsWithoutCert),
            None => None,
        };
        let memory = MemoryBudget::new(options.memory, options.query_memory);
        let sessions = Arc::new(SessionFactory::new(&engine, memory).await?);
        // Every scope is prepared now: the first login does not wait for
        // it, and a users file naming a unit the data lacks stops the
        // server here, naming the user.
        sessions.scope(Scope::Ministry).await?;
        for user in options.users.iter().flat_map(|users| users.iter()) {
            sessions
                .scope(user.scope)
                .await
                .map_err(|source| ServerError::UserScope {
                    user: user.name.clone(),
                    source: Box::new(source),
                })?;
        }
        let listener =
            TcpListener::bind(&options.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: options.listen.clone(),
                    source,
                })?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let queries = executor::QueryRuntime::new(threads).map_err(ServerError::Runtime)?;
        let connections =
            executor::OwnedRuntime::new("sapa-conn", threads).map_err(ServerError::Runtime)?;
        let shared = Arc::new(connection::Shared {
            sessions,
            queries,
            cancels: Arc::new(cancel_requests::CancelRequests::new()),
            slots: startup::Slots::new(options.max_connections),
            statement_timeout: options.statement_timeout,
            users: options.users,
            require_tls: options.require_tls,
        });
        let logins = Arc::new(Semaphore::new(pending_logins(options.max_connections)));
        Ok(Server {
            listener,
            shared,
            logins,
            tls,
            connections,
            log: events::LogOptions {
                statement: options.log_statement,
                slow: options.log_slow,
            },
        })
    }

    /// How many statements' work is running now (a handle that stays
    /// current after [`Server::run`] takes the server).
    pub fn running(&self) -> Running {
        self.shared.queries.queries().running
    }

    /// The address the server listens on (with the real port when port 0
    /// was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Accepts connections until the task is dropped; each connection runs
    /// on its own task, and a failing connection closes only itself.
    pub async fn run(self) -> Result<(), ServerError> {
        let mut next_conn = 0u64;
        loop {
            let (socket, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                // Running out of file descriptors and the like are transient:
                // say so and keep serving the connections already open.
                Err(err) => {
                    log::warn!("accept failed: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = socket.set_nodelay(true);
            // A client over the pool of logins is closed at once: the
            // pool is full only of sockets that have not logged in.
            let Ok(login) = Arc::clone(&self.logins).try_acquire_owned() else {
                log::warn!("{peer}: too many clients logging in at once; closed");
                continue;
            };
            next_conn += 1;
            let log = events::ConnectionLog::new(next_conn, peer, self.log);
            let shared = Arc::clone(&self.shared);
            let tls = self.tls.clone();
            let socket = match socket.into_std() {
                Ok(socket) => socket,
                Err(err) => {
                    log::warn!("{peer}: {err}");
                    continue;
                }
            };
            self.connections.handle().spawn(async move {
                let socket = match TcpStream::from_std(socket) {
                    Ok(socket) => socket,
                    Err(err) => return log::warn!("{peer}: {err}"),
                };
                let handlers = connection::ConnectionHandlers::new(shared, peer, Peer::of(&socket));
                if let Err(err) = socket::serve(socket, tls, handlers, login, log).await {
                    log::info!("connection from {peer} ended: {err}");
                }
            });
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    /// DataFusion's own errors are `sapa_sqlstate`'s tests; here, an error
    /// of Sapa's UDFs reaches the wire with the code it carries.
    #[tokio::test]
    async fn a_udf_error_keeps_its_sqlstate() {
        let ctx = SessionContext::new();
        sapa_udfs::register_all(&ctx);
        let err = ctx
            .sql("SELECT mark_class('7')")
            .await
            .expect("planned")
            .collect()
            .await
            .expect_err("an unknown mark");
        assert_eq!(sqlstate_of(&err), "22P02");
    }
}
