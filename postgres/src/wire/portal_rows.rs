//! An Execute's row limit, honoured without sizing memory by it.
//!
//! pgwire gathers a portal's next rows in a vector made with room for the
//! Execute's whole row limit: a legal limit of 2,147,483,647 asks for
//! ~86 GB at once and aborts the process. (Upstream should cap that
//! capacity; until it does, this is our side of it.) A limit above
//! [`CHUNK_ROWS`] is run as several Executes of at most that many rows each,
//! and the client sees one: the PortalSuspended between the parts is held
//! back, and the closing CommandComplete counts the rows of them all.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, PgWireConnectionState, SessionExtensions,
};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::ProtocolVersion;
use datafusion_postgres::pgwire::messages::response::TransactionStatus;
use datafusion_postgres::pgwire::messages::startup::SecretKey;
use futures::Sink;
use tokio_rustls::rustls::pki_types::CertificateDer;

/// The most rows one part of an Execute gathers.
pub const CHUNK_ROWS: usize = 4096;

/// The client as one part of a chunked Execute sees it.
pub(crate) struct Part<'a, C> {
    client: &'a mut C,
    /// Whether more parts may follow: then a PortalSuspended is held back.
    more: bool,
    /// Rows the earlier parts sent.
    before: usize,
    /// Rows this part sent.
    pub rows: usize,
    /// This part ended on PortalSuspended (held back).
    pub suspended: bool,
}

impl<'a, C> Part<'a, C> {
    /// The next part over `client`; `before` rows were sent by the earlier.
    pub(crate) fn new(client: &'a mut C, more: bool, before: usize) -> Part<'a, C> {
        Part {
            client,
            more,
            before,
            rows: 0,
            suspended: false,
        }
    }
}

/// `SELECT 5` with `before` more rows: `SELECT 5+before`.
fn with_earlier_rows(tag: &str, before: usize) -> String {
    match tag.rsplit_once(' ') {
        Some((verb, n)) if before > 0 => match n.parse::<usize>() {
            Ok(n) => format!("{verb} {}", n + before),
            Err(_) => tag.to_string(),
        },
        _ => tag.to_string(),
    }
}

impl<C> Sink<PgWireBackendMessage> for Part<'_, C>
where
    C: Sink<PgWireBackendMessage> + Unpin,
{
    type Error = C::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut *self.client).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: PgWireBackendMessage) -> Result<(), Self::Error> {
        let item = match item {
            PgWireBackendMessage::PortalSuspended(_) if self.more => {
                self.suspended = true;
                return Ok(());
            }
            PgWireBackendMessage::DataRow(row) => {
                self.rows += 1;
                PgWireBackendMessage::DataRow(row)
            }
            PgWireBackendMessage::CommandComplete(mut complete) => {
                complete.tag = with_earlier_rows(&complete.tag, self.before);
                PgWireBackendMessage::CommandComplete(complete)
            }
            other => other,
        };
        Pin::new(&mut *self.client).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut *self.client).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut *self.client).poll_close(cx)
    }
}

impl<C: ClientPortalStore> ClientPortalStore for Part<'_, C> {
    type PortalStore = C::PortalStore;

    fn portal_store(&self) -> &Self::PortalStore {
        self.client.portal_store()
    }
}

impl<C: ClientInfo> ClientInfo for Part<'_, C> {
    fn socket_addr(&self) -> SocketAddr {
        self.client.socket_addr()
    }

    fn is_secure(&self) -> bool {
        self.client.is_secure()
    }

    fn protocol_version(&self) -> ProtocolVersion {
        self.client.protocol_version()
    }

    fn set_protocol_version(&mut self, version: ProtocolVersion) {
        self.client.set_protocol_version(version)
    }

    fn pid_and_secret_key(&self) -> (i32, SecretKey) {
        self.client.pid_and_secret_key()
    }

    fn set_pid_and_secret_key(&mut self, pid: i32, secret_key: SecretKey) {
        self.client.set_pid_and_secret_key(pid, secret_key)
    }

    fn state(&self) -> PgWireConnectionState {
        self.client.state()
    }

    fn set_state(&mut self, new_state: PgWireConnectionState) {
        self.client.set_state(new_state)
    }

    fn transaction_status(&self) -> TransactionStatus {
        self.client.transaction_status()
    }

    fn set_transaction_status(&mut self, new_status: TransactionStatus) {
        self.client.set_transaction_status(new_status)
    }

    fn metadata(&self) -> &std::collections::HashMap<String, String> {
        self.client.metadata()
    }

    fn metadata_mut(&mut self) -> &mut std::collections::HashMap<String, String> {
        self.client.metadata_mut()
    }

    fn session_extensions(&self) -> &SessionExtensions {
        self.client.session_extensions()
    }

    fn sni_server_name(&self) -> Option<&str> {
        self.client.sni_server_name()
    }

    fn client_certificates<'b>(&self) -> Option<&[CertificateDer<'b>]> {
        self.client.client_certificates()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closing_tag_counts_every_part() {
        assert_eq!(with_earlier_rows("SELECT 5", 8192), "SELECT 8197");
        assert_eq!(with_earlier_rows("SELECT 5", 0), "SELECT 5");
        assert_eq!(with_earlier_rows("FETCH 0", 4096), "FETCH 4096");
        assert_eq!(with_earlier_rows("SET", 4096), "SET");
    }
}
