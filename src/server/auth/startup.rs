//! Who may connect (SPEC §12). With a users file: any client that proves
//! its user's password with SCRAM-SHA-256, logged in with that user's scope.
//! With no users file: only loopback clients logging in as `sapa`, with the
//! ministry's scope. Each connection has its own startup handler, so the
//! state of concurrent logins is never shared.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion_postgres::pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, METADATA_USER, PgWireConnectionState, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::{Authentication, PasswordMessageFamily};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::{Sink, SinkExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use datafusion::prelude::SessionContext;

use super::users::Users;
use crate::engine::Scope;
use crate::server::session::SessionFactory;
use sapa_postgres::activity::Backend;
use sapa_postgres::auth::scram::{self, AwaitingFinal, MECHANISM, ScramError};
use sapa_postgres::functions::pg_stat_activity::backend_pid;
use sapa_postgres::functions::setting_functions;
use sapa_postgres::settings::PG_VERSION;
use sapa_postgres::settings::{self, SessionSettings};
use sapa_postgres::sqlstate::{code, fatal_error};
use sapa_postgres::wire::cancel::STATEMENT_TIMEOUT_KEY;
use sapa_postgres::wire::cancel_requests::{CancelRequests, flag_of};

/// The only user when no users file is given.
pub(crate) const DEFAULT_USER: &str = "sapa";

/// The connection metadata key holding how the user logged in
/// (`scram-sha-256`, or `trust` for loopback without a users file).
pub(crate) const LOGIN_METHOD_METADATA: &str = "sapa.login_method";

/// The connection metadata key holding the logged-in user's scope, as
/// [`Scope`]'s `Display` prints it (`ministry`, `district:301`, …).
pub const SCOPE_METADATA: &str = "sapa.scope";

/// The startup handler of one connection.
pub(crate) struct Startup {
    pub(crate) peer: SocketAddr,
    /// The connection's session, which login binds to the user.
    pub(crate) session: Arc<SessionContext>,
    /// Where the session of a user's scope comes from.
    pub(crate) sessions: Arc<SessionFactory>,
    /// The `statement_timeout` a session starts with.
    pub(crate) statement_timeout: Option<std::time::Duration>,
    pub(crate) cancels: Arc<CancelRequests>,
    /// The server's connection slots; a login takes one as it completes.
    pub(crate) slots: Slots,
    /// The users file; `None`: the loopback-only `sapa` rule.
    pub(crate) users: Option<Arc<Users>>,
    /// Refuse clients that did not negotiate TLS.
    pub(crate) require_tls: bool,
    /// Where this connection's SCRAM exchange stands.
    pub(crate) login: Mutex<Login>,
}

/// Backend pids and secret keys. One generator for the process: a fresh
/// one per login started its pids from the same number, so every session
/// had one pid, and a cancel request found the connection that logged in
/// last instead of its own.
static BACKEND_KEYS: LazyLock<RandomPidSecretKeyGenerator> = LazyLock::new(Default::default);

/// The connection slots of a server (`max_connections`; none: no limit).
#[derive(Clone, Default)]
pub(crate) struct Slots(Option<(Arc<Semaphore>, usize)>);

impl Slots {
    /// `max` slots; 0: no limit.
    pub(crate) fn new(max: usize) -> Slots {
        Slots((max > 0).then(|| (Arc::new(Semaphore::new(max)), max)))
    }

    /// A slot, held until the connection ends, or 53300 when all are taken.
    fn take(&self) -> PgWireResult<Option<OwnedSemaphorePermit>> {
        let Some((slots, max)) = &self.0 else {
            return Ok(None);
        };
        Arc::clone(slots)
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| {
                fatal_error(
                    code::TOO_MANY_CONNECTIONS,
                    format!(
                        "sorry, too many clients already (the server allows {max} connections)"
                    ),
                )
            })
    }
}

/// The steps of a SCRAM login.
#[derive(Debug, Default)]
pub(crate) enum Login {
    /// No SCRAM exchange under way.
    #[default]
    Idle,
    /// SCRAM-SHA-256 was offered; the client-first message is due.
    Offered { user: String },
    /// The server-first message was sent; the client-final message is due.
    /// `scope` is `None` for an unknown user, whose exchange runs against a
    /// mock verifier and fails at the end like a wrong password.
    Challenged {
        user: String,
        scope: Option<Scope>,
        exchange: AwaitingFinal,
    },
}

impl Startup {
    /// Whether `user` may begin to log in from this connection's peer
    /// (`secure`: over TLS). With a users file, the password is checked
    /// next; without one, this is the whole check.
    fn admit(&self, user: &str, secure: bool) -> PgWireResult<()> {
        if self.require_tls && !secure {
            return Err(fatal_error(
                code::INVALID_AUTHORIZATION,
                "TLS is required: this server refuses unencrypted connections \
                 (connect with sslmode=require)",
            ));
        }
        if self.users.is_some() {
            return Ok(());
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

    /// The one place a login takes effect: the session becomes a session
    /// of `scope` answering `current_user` with `user`, the connection
    /// carries `scope`, and the server's `statement_timeout` applies unless
    /// the client's startup settings say otherwise.
    async fn logged_in<C: ClientInfo>(
        &self,
        client: &mut C,
        user: &str,
        scope: Scope,
    ) -> PgWireResult<()> {
        let plans = self
            .sessions
            .log_in(&self.session, user, scope)
            .await
            .map_err(|err| {
                log::error!("login of {user} in scope {scope} failed: {err}");
                fatal_error(
                    code::INVALID_AUTHORIZATION,
                    format!("the scope of user \"{user}\" cannot be served: {err}"),
                )
            })?;
        // The connection loop takes each statement's plans from here.
        client.session_extensions().insert(plans);
        client
            .metadata_mut()
            .insert(SCOPE_METADATA.to_string(), scope.to_string());
        let method = if self.users.is_some() {
            MECHANISM
        } else {
            "trust"
        };
        client.metadata_mut().insert(
            LOGIN_METHOD_METADATA.to_string(),
            method.to_ascii_lowercase(),
        );
        if let Some(timeout) = self.statement_timeout {
            client.metadata_mut().insert(
                STATEMENT_TIMEOUT_KEY.to_string(),
                timeout.as_millis().to_string(),
            );
        }
        // What the client asked for at startup overrides the server's.
        settings::apply_startup(client);
        Ok(())
    }

    /// Ends a successful login: the cancel key, then AuthenticationOk, the
    /// server parameters and ReadyForQuery.
    async fn complete<C>(&self, client: &mut C) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // Only a logged-in client holds a slot: sockets that never log in
        // cannot lock users out (they wait in the smaller pool of logins,
        // with a short deadline; see `crate::server::wire::socket`).
        if let Some(slot) = self.slots.take()? {
            client.session_extensions().insert(slot);
        }
        let (pid, secret) = BACKEND_KEYS.generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        // A CancelRequest carrying this pid and key reaches the
        // connection's running statement; it is unregistered as it ends.
        self.cancels.register(client, pid, secret);
        self.session.register_udf(backend_pid(pid));
        let settings = Arc::new(SessionSettings::at_login(&*client));
        for udf in setting_functions::udfs(&settings) {
            self.session.deregister_udf(udf.name());
            self.session.register_udf(udf);
        }
        client.session_extensions().insert(settings);
        self.join_activity(client, pid);
        finish_authentication(client, &server_parameters()).await
    }

    /// Shows the connection in `pg_stat_activity` until it ends.
    fn join_activity<C: ClientInfo>(&self, client: &C, pid: i32) {
        let meta = |key: &str| client.metadata().get(key).cloned().unwrap_or_default();
        let now = SystemTime::now();
        let presence = self.sessions.activity().join(
            Backend {
                pid,
                user: meta(METADATA_USER),
                application_name: meta("application_name"),
                peer: self.peer,
                backend_start: now,
                xact_start: None,
                query_start: None,
                state_change: now,
                state: "idle",
                query: Arc::from(""),
            },
            flag_of(client).as_ref(),
        );
        client.session_extensions().insert(presence);
    }

    fn login(&self) -> MutexGuard<'_, Login> {
        // A panic elsewhere cannot leave a half-written `Login`: each step
        // replaces it whole.
        self.login.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One SASL message of the SCRAM exchange.
    async fn on_password<C>(
        &self,
        client: &mut C,
        message: PasswordMessageFamily,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let state = std::mem::take(&mut *self.login());
        match state {
            Login::Offered { user } => {
                let initial = message.into_sasl_initial_response()?;
                if initial.auth_method != MECHANISM {
                    return Err(fatal_error(
                        code::PROTOCOL_VIOLATION,
                        format!(
                            "client selected an invalid SASL authentication mechanism {:?} \
                             (the server offers {MECHANISM} only)",
                            initial.auth_method
                        ),
                    ));
                }
                let (verifier, scope) = match &self.users {
                    Some(users) => users.verifier_for(&user),
                    None => {
                        return Err(fatal_error(
                            code::PROTOCOL_VIOLATION,
                            "unexpected SASL message",
                        ));
                    }
                };
                let nonce = scram::server_nonce()
                    .map_err(|_| fatal_error(code::INTERNAL, "no randomness for a SCRAM nonce"))?;
                let data = initial.data.unwrap_or_default();
                let (exchange, first) = scram::server_first(&verifier, &data, &nonce)
                    .map_err(|err| scram_failed(&user, self.peer, err))?;
                *self.login() = Login::Challenged {
                    user,
                    scope,
                    exchange,
                };
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::SASLContinue(Bytes::from(first)),
                    ))
                    .await?;
                Ok(())
            }
            Login::Challenged {
                user,
                scope,
                exchange,
            } => {
                let response = message.into_sasl_response()?;
                let last = exchange
                    .finish(&response.data)
                    .map_err(|err| scram_failed(&user, self.peer, err))?;
                // An unknown user cannot get here with a proof that matched a
                // mock verifier, but must never log in if one did.
                let scope =
                    scope.ok_or_else(|| scram_failed(&user, self.peer, ScramError::WrongProof))?;
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::SASLFinal(Bytes::from(last)),
                    ))
                    .await?;
                log::info!("{user} logged in from {} with scope {scope}", self.peer);
                self.logged_in(client, &user, scope).await?;
                self.complete(client).await
            }
            Login::Idle => Err(fatal_error(
                code::PROTOCOL_VIOLATION,
                "unexpected password message: no authentication is under way",
            )),
        }
    }
}

/// The error a failed exchange ends the connection with: a wrong password
/// and an unknown user read the same (28P01), so the answer does not tell
/// which users exist.
fn scram_failed(user: &str, peer: SocketAddr, err: ScramError) -> PgWireError {
    log::info!("login as {user:?} from {peer} failed: {err}");
    match err {
        ScramError::Protocol(_) => fatal_error(code::PROTOCOL_VIOLATION, err.to_string()),
        ScramError::WrongProof => fatal_error(
            code::INVALID_PASSWORD,
            format!("password authentication failed for user \"{user}\""),
        ),
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
        let startup = match message {
            PgWireFrontendMessage::Startup(startup) => startup,
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                return self.on_password(client, message).await;
            }
            _ => return Ok(()),
        };
        protocol_negotiation(client, &startup).await?;
        save_startup_parameters_to_metadata(client, &startup);
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        self.admit(&user, client.is_secure())?;
        if self.users.is_none() {
            self.logged_in(client, &user, Scope::Ministry).await?;
            return self.complete(client).await;
        }
        *self.login() = Login::Offered { user };
        client.set_state(PgWireConnectionState::AuthenticationInProgress);
        client
            .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                vec![MECHANISM.to_string()],
            )))
            .await?;
        Ok(())
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
            cancels: Arc::new(CancelRequests::new()),
            slots: Slots::default(),
            users: None,
            require_tls: false,
            login: Mutex::default(),
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
            code_of(startup("127.0.0.1:50000").await.admit("sapa", false)),
            "ok"
        );
        assert_eq!(
            code_of(startup("[::1]:50000").await.admit("sapa", false)),
            "ok"
        );
        assert_eq!(
            code_of(startup("127.0.0.1:50000").await.admit("postgres", false)),
            "28000"
        );
        assert_eq!(
            code_of(startup("10.1.2.3:50000").await.admit("sapa", false)),
            "28000"
        );
    }

    #[tokio::test]
    async fn logging_in_records_the_scope_in_the_connection() {
        let s = startup("127.0.0.1:50000").await;
        let mut client = datafusion_postgres::pgwire::api::DefaultClient::<()>::new(s.peer, false);
        s.logged_in(&mut client, "ann", Scope::Ministry)
            .await
            .unwrap();
        assert_eq!(
            client.metadata().get(SCOPE_METADATA).map(String::as_str),
            Some("ministry")
        );
    }

    #[tokio::test]
    async fn a_full_server_refuses_the_login_with_53300() {
        let mut s = startup("127.0.0.1:50000").await;
        s.slots = Slots::new(1);
        let first = s.slots.take().unwrap();
        assert!(first.is_some());
        assert_eq!(code_of(s.slots.take().map(|_| ())), "53300");
        drop(first);
        assert!(s.slots.take().unwrap().is_some());
    }

    #[tokio::test]
    async fn with_a_users_file_any_peer_may_try_and_tls_can_be_required() {
        let verifier = scram::Verifier::new("pw", b"0123456789abcdef", 4096);
        let text =
            format!("[[user]]\nname = \"ann\"\nscope = \"school:1\"\npassword = \"{verifier}\"\n");
        let users = Users::parse(&text, std::path::Path::new("users.toml")).unwrap();
        let mut s = startup("10.1.2.3:50000").await;
        s.users = Some(Arc::new(users));
        // The password decides, later; unknown names are not refused here.
        assert_eq!(code_of(s.admit("ann", false)), "ok");
        assert_eq!(code_of(s.admit("nobody", false)), "ok");
        s.require_tls = true;
        assert_eq!(code_of(s.admit("ann", true)), "ok");
        let refused = s.admit("ann", false);
        assert_eq!(code_of(refused), "28000");
        let Err(PgWireError::UserError(info)) = s.admit("ann", false) else {
            panic!("plaintext admitted");
        };
        assert!(info.message.contains("TLS is required"), "{}", info.message);
    }
}
