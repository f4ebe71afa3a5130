//! Who may connect (SPEC §12): with no users file, only loopback clients
//! logging in as `sapa`, with the ministry's scope. Each connection has its
//! own startup handler, so concurrent logins never share state.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ConnectionManager, METADATA_USER, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::Sink;

use datafusion::prelude::SessionContext;

use super::PG_VERSION;
use super::cancel::STATEMENT_TIMEOUT_KEY;
use super::session::SessionFactory;
use super::sqlstate::{code, fatal_error};
use crate::engine::Scope;

/// The client-metadata key of the connection's scope.
pub(crate) const SCOPE_KEY: &str = "sapa.scope";

/// The only user when no users file is given.
pub(crate) const DEFAULT_USER: &str = "sapa";

/// The startup handler of one connection.
pub(crate) struct Startup {
    pub(crate) peer: SocketAddr,
    /// The connection's session, which login binds to the user.
    pub(crate) session: Arc<SessionContext>,
    /// Where the session of a user's scope comes from.
    pub(crate) sessions: Arc<SessionFactory>,
    /// The `statement_timeout` a session starts with.
    pub(crate) statement_timeout: Option<std::time::Duration>,
    pub(crate) connections: Arc<ConnectionManager>,
    /// Set when the server is full: every login is refused with 53300.
    pub(crate) refuse_full: Option<usize>,
}

impl Startup {
    /// Whether `user` may log in from this connection's peer.
    fn admit(&self, user: &str) -> PgWireResult<()> {
        if let Some(max) = self.refuse_full {
            return Err(fatal_error(
                code::TOO_MANY_CONNECTIONS,
                format!("sorry, too many clients already (the server allows {max} connections)"),
            ));
        }
        if !self.peer.ip().is_loopback() {
            return Err(fatal_error(
                code::INVALID_AUTHORIZATION,
                format!(
                    "connections from {} are refused: without a users file (--users) \
                     the server accepts loopback clients only",
                    self.peer.ip()
                ),
            ));
        }
        if user != DEFAULT_USER {
            return Err(fatal_error(
                code::INVALID_AUTHORIZATION,
                format!(
                    "role \"{user}\" does not exist (without a users file the only user is \
                     \"{DEFAULT_USER}\")"
                ),
            ));
        }
        Ok(())
    }
}

/// What the server tells a client about itself after login.
fn server_parameters() -> DefaultServerParameterProvider {
    let mut params = DefaultServerParameterProvider::default();
    params.server_version = PG_VERSION.to_string();
    params.is_superuser = false;
    params.default_transaction_read_only = true;
    params.time_zone = "UTC".to_string();
    params
}

impl Startup {
    /// Binds the connection's session to `user` in `scope` once the user
    /// is authenticated.
    async fn logged_in<C: ClientInfo>(
        &self,
        client: &mut C,
        user: &str,
        scope: Scope,
    ) -> PgWireResult<()> {
        self.sessions
            .log_in(&self.session, user, scope)
            .await
            .map_err(|err| {
                log::error!("login of {user} in scope {scope} failed: {err}");
                fatal_error(
                    code::INVALID_AUTHORIZATION,
                    format!("the scope of user \"{user}\" cannot be served: {err}"),
                )
            })?;
        client
            .metadata_mut()
            .insert(SCOPE_KEY.to_string(), scope.to_string());
        if let Some(timeout) = self.statement_timeout {
            client.metadata_mut().insert(
                STATEMENT_TIMEOUT_KEY.to_string(),
                timeout.as_millis().to_string(),
            );
        }
        Ok(())
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let PgWireFrontendMessage::Startup(startup) = message else {
            return Ok(());
        };
        protocol_negotiation(client, &startup).await?;
        save_startup_parameters_to_metadata(client, &startup);
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        self.admit(&user)?;
        self.logged_in(client, &user, Scope::Ministry).await?;
        let (pid, secret) = RandomPidSecretKeyGenerator::default().generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        // The handle lets a CancelRequest carrying this pid and key reach
        // the connection's running query; the guard unregisters it when the
        // connection ends.
        let (handle, guard) = self.connections.register(pid, secret);
        client.session_extensions().insert(handle);
        client.session_extensions().insert(guard);
        finish_authentication(client, &server_parameters()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A startup handler over an empty dataset.
    async fn startup(peer: &str) -> Startup {
        let dir = tempfile::tempdir().unwrap();
        let location = crate::storage::DataLocation::local(dir.path()).unwrap();
        let engine = crate::engine::Engine::at(&location, crate::storage::Manifest::new(0, None));
        let memory = crate::engine::MemoryBudget::new(1 << 30, 1 << 30);
        Startup {
            peer: peer.parse().unwrap(),
            session: Arc::new(SessionContext::new()),
            sessions: Arc::new(SessionFactory::new(&engine, memory).await.unwrap()),
            statement_timeout: None,
            connections: Arc::new(ConnectionManager::new()),
            refuse_full: None,
        }
    }

    fn code_of(result: PgWireResult<()>) -> String {
        match result {
            Err(PgWireError::UserError(info)) => info.code.clone(),
            Err(other) => format!("other: {other}"),
            Ok(()) => "ok".to_string(),
        }
    }

    #[tokio::test]
    async fn without_users_file_only_sapa_on_loopback_logs_in() {
        assert_eq!(
            code_of(startup("127.0.0.1:50000").await.admit("sapa")),
            "ok"
        );
        assert_eq!(code_of(startup("[::1]:50000").await.admit("sapa")), "ok");
        assert_eq!(
            code_of(startup("127.0.0.1:50000").await.admit("postgres")),
            "28000"
        );
        assert_eq!(
            code_of(startup("10.1.2.3:50000").await.admit("sapa")),
            "28000"
        );
    }

    #[tokio::test]
    async fn a_full_server_refuses_with_53300() {
        let mut s = startup("127.0.0.1:50000").await;
        s.refuse_full = Some(3);
        assert_eq!(code_of(s.admit("sapa")), "53300");
    }
}
