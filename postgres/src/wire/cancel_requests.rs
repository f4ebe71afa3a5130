//! Cancel requests that reach the statement however its phases fall.
//!
//! pgwire hands a cancel to a one-shot channel made when `do_query` starts
//! and dropped when it returns; our row streams made a second one on their
//! first poll. A cancel that came between the two — planning done, rows
//! not yet asked for — fired a channel no one listened to any more and was
//! lost: under a 16-client soak, 10 of 131 cancels did nothing. Here a
//! cancel is a flag of the connection, set by the request and cleared only
//! when the next cycle starts (a simple Query, or the first extended-query
//! message after a Sync: see [`flag_of`], which the message loop calls), so whatever part of the
//! statement runs when it comes, or comes next, hears it: a cancel during
//! a Parse cancels the Execute that follows. A cancel that finds the
//! connection idle is dropped, as PostgreSQL drops it. pgwire's own channel is
//! still fired, so a `do_query` under way is abandoned at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use bytes::Bytes;
use datafusion_postgres::pgwire::api::cancel::CancelHandler;
use datafusion_postgres::pgwire::api::{ClientInfo, ConnectionManager};
use datafusion_postgres::pgwire::messages::cancel::CancelRequest;
use datafusion_postgres::pgwire::messages::startup::SecretKey;
use tokio::sync::Notify;

/// The cancel flag of one connection.
#[derive(Debug, Default)]
pub struct CancelFlag {
    requested: AtomicBool,
    notify: Notify,
}

impl CancelFlag {
    /// A cycle starts: earlier requests are forgotten.
    pub fn statement_starts(&self) {
        self.requested.store(false, Ordering::SeqCst);
    }

    /// Resolves when a cancel has been requested for the running statement.
    pub(crate) async fn requested(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.requested.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
}

/// The connection's flag, once it has logged in.
pub fn flag_of<C: ClientInfo>(client: &C) -> Option<Arc<CancelFlag>> {
    client
        .session_extensions()
        .get::<Arc<CancelFlag>>()
        .map(|flag| Arc::clone(flag.as_ref()))
}

/// Flags by pid and the key's bytes (a 3.0 client's key arrives as an
/// integer, a 3.2 client's as bytes: compared as bytes, as pgwire does).
type Registry = Mutex<HashMap<(i32, Bytes), Weak<CancelFlag>>>;

/// Every logged-in connection's flag, by backend pid and secret key.
#[derive(Debug)]
pub struct CancelRequests {
    flags: Arc<Registry>,
    /// pgwire's registry, whose channels interrupt a `do_query`.
    manager: Arc<ConnectionManager>,
}

/// A connection's place in [`CancelRequests`], given up when dropped.
pub struct Registered {
    key: (i32, Bytes),
    flags: Weak<Registry>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(flags) = self.flags.upgrade() {
            flags
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&self.key);
        }
    }
}

impl Default for CancelRequests {
    fn default() -> CancelRequests {
        CancelRequests::new()
    }
}

impl CancelRequests {
    pub fn new() -> CancelRequests {
        CancelRequests {
            flags: Arc::default(),
            manager: Arc::new(ConnectionManager::new()),
        }
    }

    /// Registers a logged-in connection under `pid` and `secret`: its flag
    /// and pgwire's handle go into its session extensions, with the guards
    /// that unregister them when it ends.
    pub fn register<C: ClientInfo>(&self, client: &C, pid: i32, secret: SecretKey) {
        let flag = Arc::new(CancelFlag::default());
        let key = (pid, secret.to_bytes());
        self.flags
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), Arc::downgrade(&flag));
        let (handle, guard) = self.manager.register(pid, secret);
        let extensions = client.session_extensions();
        extensions.insert(flag);
        extensions.insert(Registered {
            key,
            flags: Arc::downgrade(&self.flags),
        });
        extensions.insert(handle);
        extensions.insert(guard);
    }
}

#[async_trait]
impl CancelHandler for CancelRequests {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let key = (request.pid, request.secret_key.to_bytes());
        let flag = {
            let flags = self.flags.lock().unwrap_or_else(|e| e.into_inner());
            flags.get(&key).and_then(Weak::upgrade)
        };
        // A wrong key is ignored without a word, as PostgreSQL does.
        if let Some(flag) = flag {
            flag.request();
            self.manager.cancel(request.pid, &request.secret_key).await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_request_finds_its_connection_by_pid_and_the_keys_bytes() {
        let requests = CancelRequests::new();
        let client = datafusion_postgres::pgwire::api::DefaultClient::<()>::new(
            "127.0.0.1:5000".parse().unwrap(),
            false,
        );
        requests.register(&client, 41, SecretKey::I32(7));
        let flag = flag_of(&client).unwrap();
        flag.statement_starts();
        let wrong = CancelRequest::new(41, SecretKey::I32(8));
        requests.on_cancel_request(wrong).await;
        assert!(!flag.requested.load(Ordering::SeqCst));
        // A 3.2 client sends the key as bytes.
        let right = CancelRequest::new(41, SecretKey::Bytes(Bytes::from_static(&[0, 0, 0, 7])));
        requests.on_cancel_request(right).await;
        assert!(flag.requested.load(Ordering::SeqCst));
        drop(client);
        assert!(requests.flags.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_request_waits_for_whoever_listens_until_the_next_statement() {
        let flag = CancelFlag::default();
        flag.statement_starts();
        flag.request();
        // Heard though no one listened when it came.
        tokio::time::timeout(Duration::from_secs(1), flag.requested())
            .await
            .unwrap();
        flag.statement_starts();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), flag.requested())
                .await
                .is_err()
        );
    }
}
