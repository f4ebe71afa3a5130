//! What each logged-in connection is doing now, for `pg_stat_activity`
//! ([`crate::functions::pg_stat_activity`]) and `pg_cancel_backend`.
//!
//! A connection joins the registry as its login completes (it has a pid
//! then) and leaves it when it ends: its [`Presence`] lives in the
//! connection's session extensions and removes it when dropped. The
//! connection loop (the server's) reports each statement as it starts
//! and the connection as it goes idle again.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::SystemTime;

use datafusion_postgres::pgwire::messages::response::TransactionStatus;

use crate::wire::cancel_requests::CancelFlag;

/// Who is asking: what of the registry a session may see and cancel. Kept
/// in the session's configuration, set at login.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: String,
    /// The ministry scope sees and may cancel every connection; every
    /// other user only their own, as PostgreSQL lets a role see the
    /// queries of its own sessions only.
    pub sees_all: bool,
}

impl Viewer {
    fn sees(&self, backend: &Backend) -> bool {
        self.sees_all || backend.user == self.user
    }
}

/// One connection, as `pg_stat_activity` shows it.
#[derive(Debug, Clone)]
pub struct Backend {
    pub pid: i32,
    pub user: String,
    pub application_name: String,
    pub peer: SocketAddr,
    pub backend_start: SystemTime,
    pub xact_start: Option<SystemTime>,
    pub query_start: Option<SystemTime>,
    pub state_change: SystemTime,
    /// `active`, `idle`, `idle in transaction` or
    /// `idle in transaction (aborted)`.
    pub state: &'static str,
    /// The last statement's text (the running one while `active`).
    pub query: Arc<str>,
}

/// A backend and the flag that cancels its statement.
struct Entry {
    backend: Mutex<Backend>,
    cancel: Weak<CancelFlag>,
}

impl Entry {
    fn backend(&self) -> MutexGuard<'_, Backend> {
        // A panic elsewhere leaves at worst a stale field, never a torn one.
        self.backend.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every logged-in connection of a server, by backend pid.
#[derive(Default)]
pub struct Activity {
    entries: Mutex<BTreeMap<i32, Arc<Entry>>>,
}

impl std::fmt::Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity")
            .field("connections", &self.entries().len())
            .finish()
    }
}

/// Why a cancel was not sent.
#[derive(Debug, PartialEq, Eq)]
pub enum NotCancelled {
    /// No connection has that pid (PostgreSQL warns and answers false).
    NoSuchBackend,
    /// The connection is another user's and the viewer is not the
    /// ministry's.
    NotAllowed,
}

impl Activity {
    fn entries(&self) -> MutexGuard<'_, BTreeMap<i32, Arc<Entry>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a connection that has just logged in as `backend`, cancelled
    /// through `cancel`; it is removed when the returned presence drops.
    pub fn join(self: &Arc<Self>, backend: Backend, cancel: Option<&Arc<CancelFlag>>) -> Presence {
        let pid = backend.pid;
        let entry = Arc::new(Entry {
            backend: Mutex::new(backend),
            cancel: cancel.map_or_else(Weak::new, Arc::downgrade),
        });
        self.entries().insert(pid, Arc::clone(&entry));
        Presence {
            pid,
            entry,
            activity: Arc::downgrade(self),
        }
    }

    /// The connections `viewer` may see, by pid.
    pub(crate) fn visible_to(&self, viewer: &Viewer) -> Vec<Backend> {
        let entries: Vec<Arc<Entry>> = self.entries().values().cloned().collect();
        entries
            .iter()
            .map(|entry| entry.backend().clone())
            .filter(|backend| viewer.sees(backend))
            .collect()
    }

    /// Cancels the running statement of connection `pid` for `viewer`
    /// (a connection that is idle hears nothing, as in PostgreSQL).
    pub fn cancel(&self, viewer: &Viewer, pid: i32) -> Result<(), NotCancelled> {
        let entry = self
            .entries()
            .get(&pid)
            .cloned()
            .ok_or(NotCancelled::NoSuchBackend)?;
        if !viewer.sees(&entry.backend()) {
            return Err(NotCancelled::NotAllowed);
        }
        match entry.cancel.upgrade() {
            Some(flag) => {
                flag.request();
                Ok(())
            }
            // The connection is ending: nothing runs to cancel.
            None => Err(NotCancelled::NoSuchBackend),
        }
    }
}

/// A connection's place in the [`Activity`], given up when dropped.
pub struct Presence {
    pid: i32,
    entry: Arc<Entry>,
    activity: Weak<Activity>,
}

impl Presence {
    /// A statement with `text` starts.
    pub fn running(&self, text: &Arc<str>) {
        let now = SystemTime::now();
        let mut backend = self.entry.backend();
        backend.state = "active";
        backend.query = Arc::clone(text);
        backend.query_start = Some(now);
        backend.state_change = now;
        backend.xact_start.get_or_insert(now);
    }

    /// The connection waits for its client again, in `transaction`.
    pub fn idle(&self, transaction: TransactionStatus) {
        let now = SystemTime::now();
        let mut backend = self.entry.backend();
        backend.state = match transaction {
            TransactionStatus::Idle => "idle",
            TransactionStatus::Transaction => "idle in transaction",
            TransactionStatus::Error => "idle in transaction (aborted)",
        };
        if matches!(transaction, TransactionStatus::Idle) {
            backend.xact_start = None;
        }
        backend.state_change = now;
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        if let Some(activity) = self.activity.upgrade() {
            activity.entries().remove(&self.pid);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn backend(pid: i32, user: &str) -> Backend {
        Backend {
            pid,
            user: user.to_string(),
            application_name: String::new(),
            peer: SocketAddr::from(([127, 0, 0, 1], 5000)),
            backend_start: SystemTime::now(),
            xact_start: None,
            query_start: None,
            state_change: SystemTime::now(),
            state: "idle",
            query: Arc::from(""),
        }
    }

    fn viewer(user: &str, sees_all: bool) -> Viewer {
        Viewer {
            user: user.to_string(),
            sees_all,
        }
    }

    #[test]
    fn each_user_sees_and_cancels_their_own_the_ministry_all() {
        let activity = Arc::new(Activity::default());
        let flag = Arc::new(CancelFlag::default());
        let a = activity.join(backend(7, "almaty"), Some(&flag));
        let b = activity.join(backend(8, "astana"), None);
        a.running(&Arc::from("SELECT 1"));
        let pids =
            |v: &Viewer| -> Vec<i32> { activity.visible_to(v).iter().map(|b| b.pid).collect() };
        assert_eq!(pids(&viewer("almaty", false)), vec![7]);
        assert_eq!(pids(&viewer("ministry", true)), vec![7, 8]);
        let seen = &activity.visible_to(&viewer("almaty", false))[0];
        assert_eq!((seen.state, &*seen.query), ("active", "SELECT 1"));
        assert!(seen.xact_start.is_some());

        assert_eq!(
            activity.cancel(&viewer("astana", false), 7),
            Err(NotCancelled::NotAllowed)
        );
        assert_eq!(
            activity.cancel(&viewer("ministry", true), 99),
            Err(NotCancelled::NoSuchBackend)
        );
        assert_eq!(activity.cancel(&viewer("ministry", true), 7), Ok(()));

        a.idle(TransactionStatus::Transaction);
        assert_eq!(
            activity.visible_to(&viewer("almaty", false))[0].state,
            "idle in transaction"
        );
        drop(a);
        drop(b);
        assert!(activity.visible_to(&viewer("ministry", true)).is_empty());
    }
}
