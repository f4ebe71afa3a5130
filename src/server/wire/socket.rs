//! One connection's message loop, from TLS negotiation to its end.
//!
//! pgwire's own loop (`process_socket`) gives an unauthenticated socket 60 s
//! and a connection slot, reads frames as their headers say, ends a
//! connection on a malformed message without a word, and sizes a buffer by
//! an Execute's row limit. This loop runs pgwire's message handlers with
//! those closed: a login has [`STARTUP_DEADLINE`] and waits in the pool of
//! logins, not in the connections' ([`crate::server::auth::startup::Slots`]); frames are
//! checked whole first ([`super::frames`]) and a bad one ends the
//! connection with 08P01; query text that is not UTF-8 is refused (22021);
//! and a negative row limit means all rows, as in PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use datafusion_postgres::pgwire::api::ErrorHandler;
use datafusion_postgres::pgwire::api::{ClientInfo, PgWireConnectionState, PgWireServerHandlers};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use datafusion_postgres::pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::{Framed, FramedParts};

use crate::server::events::ConnectionLog;
use sapa_postgres::activity::Presence;
use sapa_postgres::settings::SessionSettings;
use sapa_postgres::sqlstate::{code, user_error};
use sapa_postgres::wire::cancel_requests::flag_of;
use sapa_postgres::wire::frames::{Guarded, Seen, violation_of};

/// How long a client has from connecting to being logged in.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(10);

/// Serves one connection with `handlers` until it ends. `login` is its
/// place in the pool of logins, given back once it is logged in.
pub(crate) async fn serve<H: PgWireServerHandlers>(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: H,
    login: OwnedSemaphorePermit,
    mut log: ConnectionLog,
) -> std::io::Result<()> {
    let peer = tcp.peer_addr()?;
    let deadline = tokio::time::sleep(STARTUP_DEADLINE);
    tokio::pin!(deadline);
    let negotiated = tokio::select! {
        _ = &mut deadline => return Ok(()),
        socket = negotiate_tls(tcp, tls) => socket?,
    };
    // A direct TLS handshake to a server without TLS: nothing to answer.
    let Some(negotiated) = negotiated else {
        return Ok(());
    };
    let parts = negotiated.into_parts();
    let seen = Arc::new(Seen::default());
    let mut guarded = FramedParts::new(
        Guarded::new(parts.io, parts.read_buf, Arc::clone(&seen)),
        parts.codec,
    );
    guarded.write_buf = parts.write_buf;
    let mut socket = Framed::from_parts(guarded);

    let startup = handlers.startup_handler();
    let simple = handlers.simple_query_handler();
    let extended = handlers.extended_query_handler();
    let copy = handlers.copy_handler();
    let cancel = handlers.cancel_handler();
    let errors = handlers.error_handler();

    let mut login = Some(login);
    let mut index = 0u64;
    // Between cycles: the next message starts one (a simple Query is one
    // cycle; an extended query's messages are one up to their Sync).
    let mut idle = true;
    // The connection's row in `pg_stat_activity`, once it has logged in.
    let mut presence: Option<Arc<Presence>> = None;
    // What `set_config` changed waits here for the connection to apply it.
    let mut settings: Option<Arc<SessionSettings>> = None;
    loop {
        let logging_in = matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        if !logging_in {
            login = None;
        }
        let next = if login.is_some() {
            tokio::select! {
                _ = &mut deadline => {
                    log::info!("{peer} did not log in within {STARTUP_DEADLINE:?}");
                    break;
                }
                next = socket.next() => next,
            }
        } else {
            socket.next().await
        };
        let mut message = match next {
            None => break,
            Some(Ok(message)) => message,
            Some(Err(err)) => {
                let reason = match &err {
                    PgWireError::IoError(io) => match violation_of(io) {
                        Some(violation) => violation,
                        // The socket failed: no one is left to tell.
                        None => break,
                    },
                    other => other.to_string(),
                };
                log::info!("closing the connection from {peer}: {reason}");
                let info = ErrorInfo::new("FATAL".into(), code::PROTOCOL_VIOLATION.into(), reason);
                let _ = socket
                    .send(PgWireBackendMessage::ErrorResponse(info.into()))
                    .await;
                break;
            }
        };
        let this = index;
        index += 1;
        // The client disconnects; some (asyncpg) wait for the socket to close.
        if matches!(message, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let extended_query = match socket.state() {
            PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => message.is_extended_query(),
        };
        if let PgWireFrontendMessage::Execute(execute) = &mut message
            && execute.max_rows < 0
        {
            execute.max_rows = 0;
        }
        let ends_cycle = matches!(
            message,
            PgWireFrontendMessage::Query(_) | PgWireFrontendMessage::Sync(_)
        );
        if idle && let Some(flag) = flag_of(&socket) {
            flag.statement_starts();
        }
        idle = ends_cycle;
        let noted = log.before(&message, logging_in);
        if presence.is_none() && !logging_in {
            presence = socket.session_extensions().get::<Presence>();
            settings = socket
                .session_extensions()
                .get::<Arc<SessionSettings>>()
                .map(|s| Arc::clone(s.as_ref()));
        }
        if let (Some(presence), Some(text)) = (&presence, noted.text()) {
            presence.running(text);
        }
        let result = if seen.not_utf8(this) {
            Err(user_error(
                code::CHARACTER_NOT_IN_REPERTOIRE,
                "invalid byte sequence for encoding \"UTF8\" in the statement's text",
            ))
        } else {
            process_message(
                message,
                &mut socket,
                Arc::clone(&startup),
                Arc::clone(&simple),
                Arc::clone(&extended),
                Arc::clone(&copy),
                Arc::clone(&cancel),
            )
            .await
        };
        match result {
            Ok(()) => log.after(&socket, noted, None, seen.take_rows()),
            Err(mut err) => {
                errors.on_error(&socket, &mut err);
                log.after(&socket, noted, Some(&err), seen.take_rows());
                process_error(&mut socket, err, extended_query).await?;
            }
        }
        if let Some(settings) = &settings {
            settings.sync(&mut socket);
        }
        if ends_cycle && let Some(presence) = &presence {
            presence.idle(socket.transaction_status());
        }
    }
    log.end(&socket);
    drop(socket);
    give_back_freed_memory();
    Ok(())
}

/// Returns the heap's free pages to the system. glibc keeps what a
/// statement freed in its per-thread arenas, so a burst of big statements
/// left the server gigabytes above its baseline after their clients had
/// gone; trimmed as each connection ends, it comes back down.
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases memory the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}
