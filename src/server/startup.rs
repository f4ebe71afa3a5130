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
use super::session::SessionFactory;
use super::sqlstate::{code, fatal_error};

/// The only user when no users file is given.
pub(crate) const DEFAULT_USER: &str = "sapa";

/// The startup handler of one connection.
pub(crate) struct Startup {
    pub(crate) peer: SocketAddr,
    /// The connection's session, which login binds to the user.
    pub(crate) session: Arc<SessionContext>,
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
        SessionFactory::log_in(&self.session, &user);
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

    fn startup(peer: &str) -> Startup {
        Startup {
            peer: peer.parse().unwrap(),
            session: Arc::new(SessionContext::new()),
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

    #[test]
    fn without_users_file_only_sapa_on_loopback_logs_in() {
        assert_eq!(code_of(startup("127.0.0.1:50000").admit("sapa")), "ok");
        assert_eq!(code_of(startup("[::1]:50000").admit("sapa")), "ok");
        assert_eq!(
            code_of(startup("127.0.0.1:50000").admit("postgres")),
            "28000"
        );
        assert_eq!(code_of(startup("10.1.2.3:50000").admit("sapa")), "28000");
    }

    #[test]
    fn a_full_server_refuses_with_53300() {
        let mut s = startup("127.0.0.1:50000");
        s.refuse_full = Some(3);
        assert_eq!(code_of(s.admit("sapa")), "53300");
    }
}
