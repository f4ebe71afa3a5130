//! The handlers of one connection: its own session, its own startup
//! handler, and the error handler that gives every error its SQLSTATE.

use std::net::SocketAddr;
use std::sync::Arc;

use datafusion_postgres::DfSessionService;
use datafusion_postgres::hooks::QueryHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::pgwire::api::{ClientInfo, ErrorHandler, PgWireServerHandlers};
use datafusion_postgres::pgwire::error::PgWireError;

use crate::server::auth::startup::{Slots, Startup};
use crate::server::auth::users::Users;
use crate::server::session::SessionFactory;
use sapa_postgres::hooks::copy::CopyHook;
use sapa_postgres::hooks::cursors::Cursors;
use sapa_postgres::hooks::fetch::Fetches;
use sapa_postgres::hooks::read_only::ReadOnly;
use sapa_postgres::hooks::session_commands::SessionCommands;
use sapa_postgres::hooks::transactions::Transactions;
use sapa_postgres::hooks::{Deallocate, ShowGuard};
use sapa_postgres::sql::rewrite::Rewrites;
use sapa_postgres::sqlstate::classify;
use sapa_postgres::wire::cancel_requests::CancelRequests;
use sapa_postgres::wire::executor::QueryRuntime;
use sapa_postgres::wire::peer::Peer;
use sapa_postgres::wire::service::Cancellable;

/// What every connection of a server shares.
pub(crate) struct Shared {
    pub(crate) sessions: Arc<SessionFactory>,
    /// Where query work runs, apart from the connections.
    pub(crate) queries: QueryRuntime,
    /// Where cancel requests find their connection.
    pub(crate) cancels: Arc<CancelRequests>,
    /// The slots of logged-in connections.
    pub(crate) slots: Slots,
    /// The `statement_timeout` a session starts with.
    pub(crate) statement_timeout: Option<std::time::Duration>,
    /// The users file, if any (see [`Startup`]).
    pub(crate) users: Option<Arc<Users>>,
    pub(crate) require_tls: bool,
}

/// The handlers of one connection (pgwire asks for them once per socket).
pub(crate) struct ConnectionHandlers {
    service: Arc<Cancellable>,
    startup: Arc<Startup>,
    cancel: Arc<CancelRequests>,
}

impl ConnectionHandlers {
    /// Handlers for a new connection from `peer`, whose socket is
    /// `watched` for hanging up while statements run.
    pub(crate) fn new(
        shared: Arc<Shared>,
        peer: SocketAddr,
        watched: Option<Peer>,
    ) -> ConnectionHandlers {
        let session = shared.sessions.session();
        let hooks = query_hooks();
        let service = Arc::new(Cancellable::new(
            Arc::new(DfSessionService::new_with_hooks(
                Arc::clone(&session),
                hooks.clone(),
            )),
            hooks,
            Arc::clone(&session),
            shared.queries.queries(),
            watched,
        ));
        ConnectionHandlers {
            service,
            startup: Arc::new(Startup {
                peer,
                session,
                sessions: Arc::clone(&shared.sessions),
                statement_timeout: shared.statement_timeout,
                cancels: Arc::clone(&shared.cancels),
                slots: shared.slots.clone(),
                users: shared.users.clone(),
                require_tls: shared.require_tls,
                login: Default::default(),
            }),
            cancel: Arc::clone(&shared.cancels),
        }
    }
}

/// The statement hooks, in order: the read-only guard, the transaction
/// block's (nothing else runs in an aborted block), ours, our `DECLARE`,
/// `FETCH`, `MOVE` and `CLOSE` ([`sapa_postgres::hooks::fetch`]; upstream's cursor hook
/// is no longer reached), `RESET` and `UNLISTEN`, then
/// `datafusion-postgres`'s `SET`/`SHOW`.
fn query_hooks() -> Vec<Arc<dyn QueryHook>> {
    vec![
        Arc::new(ReadOnly),
        Arc::new(Transactions),
        Arc::new(ShowGuard),
        Arc::new(Deallocate),
        Arc::new(Rewrites),
        Arc::new(CopyHook),
        Arc::new(Cursors),
        Arc::new(Fetches),
        Arc::new(SessionCommands),
        Arc::new(SetShowHook),
    ]
}

impl PgWireServerHandlers for ConnectionHandlers {
    fn simple_query_handler(
        &self,
    ) -> Arc<impl datafusion_postgres::pgwire::api::query::SimpleQueryHandler> {
        Arc::clone(&self.service)
    }

    fn extended_query_handler(
        &self,
    ) -> Arc<impl datafusion_postgres::pgwire::api::query::ExtendedQueryHandler> {
        Arc::clone(&self.service)
    }

    fn startup_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::auth::StartupHandler> {
        Arc::clone(&self.startup)
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(SqlstateErrors)
    }

    fn cancel_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::cancel::CancelHandler> {
        Arc::clone(&self.cancel)
    }
}

/// Every error a client receives passes here: DataFusion errors get their
/// SQLSTATE (never `XX000` for a user mistake).
struct SqlstateErrors;

impl ErrorHandler for SqlstateErrors {
    fn on_error<C>(&self, client: &C, error: &mut PgWireError)
    where
        C: ClientInfo,
    {
        let taken = std::mem::replace(error, PgWireError::InvalidStartupMessage);
        *error = classify(taken);
        log::debug!("error to {}: {error}", client.socket_addr());
    }
}
