//! The access and query log: who connected, from where, with which scope,
//! and what they asked.
//!
//! Each event is a `tracing` event of target [`TARGET`] with an `event`
//! field naming it (`connect`, `login`, `login_failed`, `statement`,
//! `disconnect`); whoever runs the server decides where they go (`sapa
//! serve --log-file`, `--log-format`). The server emits them from its
//! connection loop (`server/socket.rs`), so every protocol path is covered
//! the same way. Passwords and SCRAM proofs are never among the fields.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion_postgres::pgwire::api::{ClientInfo, METADATA_USER, PgWireConnectionState};
use datafusion_postgres::pgwire::error::PgWireError;
use datafusion_postgres::pgwire::messages::PgWireFrontendMessage;

use datafusion::physical_plan::ExecutionPlan;

use crate::server::auth::startup::{LOGIN_METHOD_METADATA, SCOPE_METADATA};
use sapa_postgres::wire::plans::{StatementPlans, render};

/// The target of every access-log event.
pub const TARGET: &str = "sapa::access";

/// How much of a statement's text the log keeps (PostgreSQL's
/// `log_statement`, by what is kept rather than by which statements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogStatement {
    /// No statement events.
    None,
    /// The statement's kind (`SELECT`, `SET`, …), not its text.
    Kind,
    /// The kind and the whole text.
    #[default]
    All,
}

impl std::str::FromStr for LogStatement {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(LogStatement::None),
            "kind" => Ok(LogStatement::Kind),
            "all" => Ok(LogStatement::All),
            other => Err(format!("{other:?}: use none, kind or all")),
        }
    }
}

/// What the access log records of each connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// How much of each statement's text is kept.
    pub statement: LogStatement,
    /// Statements at least this slow are logged again with their plan.
    pub slow: Option<Duration>,
}

/// A connection was accepted.
pub(crate) fn connected(conn: u64, peer: SocketAddr) {
    tracing::info!(target: TARGET, event = "connect", conn, peer = %peer);
}

/// A login succeeded.
pub(crate) fn logged_in(
    conn: u64,
    peer: SocketAddr,
    user: &str,
    scope: &str,
    method: &str,
    pid: i32,
) {
    tracing::info!(target: TARGET, event = "login", conn, peer = %peer, user, scope, method, pid);
}

/// A login was refused.
pub(crate) fn login_failed(conn: u64, peer: SocketAddr, user: &str, sqlstate: &str, reason: &str) {
    tracing::warn!(target: TARGET, event = "login_failed", conn, peer = %peer, user, sqlstate, reason);
}

/// What one statement was and how it ended.
pub(crate) struct Statement<'a> {
    pub(crate) conn: u64,
    pub(crate) user: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) protocol: &'static str,
    pub(crate) text: &'a str,
    pub(crate) took: Duration,
    /// Rows it answered (as its CommandComplete tags counted them).
    pub(crate) rows: Option<u64>,
    /// The SQLSTATE it failed with, if it failed.
    pub(crate) sqlstate: Option<&'a str>,
}

/// The first word of a statement, upper-cased (`SELECT`, `SET`, `WITH`).
fn kind_of(text: &str) -> String {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    trimmed
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// A statement ran (a simple Query, or an extended Parse that failed or
/// Execute).
pub(crate) fn statement(log: LogStatement, s: &Statement<'_>) {
    if log == LogStatement::None {
        return;
    }
    let kind = kind_of(s.text);
    let text = (log == LogStatement::All).then_some(s.text);
    let duration_ms = s.took.as_secs_f64() * 1000.0;
    // 57014 is a cancel or a timeout; 42501 a refusal by the read-only
    // policy: both are named, beside the SQLSTATE.
    let outcome = match s.sqlstate {
        None => "ok",
        Some("57014") => "cancelled",
        Some("42501") => "refused",
        Some(_) => "error",
    };
    tracing::info!(
        target: TARGET,
        event = "statement",
        conn = s.conn,
        user = s.user,
        scope = s.scope,
        protocol = s.protocol,
        kind,
        text,
        duration_ms,
        rows = s.rows,
        outcome,
        sqlstate = s.sqlstate,
    );
}

/// A statement ran for at least `--log-slow`: its plans, each operator
/// with the metrics it gathered. The plans name the statement's literals,
/// so they are logged only where its text is (`--log-statement all`).
fn slow_statement(log: LogStatement, s: &Statement<'_>, plans: &[Arc<dyn ExecutionPlan>]) {
    let text = (log == LogStatement::All).then_some(s.text);
    let plan = (log == LogStatement::All && !plans.is_empty()).then(|| render(plans));
    tracing::warn!(
        target: TARGET,
        event = "slow_statement",
        conn = s.conn,
        user = s.user,
        scope = s.scope,
        kind = kind_of(s.text),
        text,
        duration_ms = s.took.as_secs_f64() * 1000.0,
        rows = s.rows,
        sqlstate = s.sqlstate,
        plan,
    );
}

/// A connection ended.
pub(crate) fn disconnected(
    conn: u64,
    peer: SocketAddr,
    user: Option<&str>,
    took: Duration,
    statements: u64,
) {
    tracing::info!(
        target: TARGET,
        event = "disconnect",
        conn,
        peer = %peer,
        user,
        duration_s = took.as_secs_f64(),
        statements,
    );
}

/// The log of one connection: what it prepared, so that an Execute is
/// logged with its statement's text, and what it ran.
pub(crate) struct ConnectionLog {
    conn: u64,
    peer: SocketAddr,
    options: LogOptions,
    started: Instant,
    statements: u64,
    /// Prepared statements' texts, by name ("" the unnamed one): kept
    /// whatever is logged, as `pg_stat_activity` shows them.
    prepared: HashMap<String, Arc<str>>,
    /// Portals' statement names.
    portals: HashMap<String, String>,
}

/// A message about to be handled, as the log needs it afterwards.
pub(crate) struct Pending {
    started: Instant,
    logging_in: bool,
    /// Protocol, text, and whether only a failure is logged (a Parse).
    statement: Option<(&'static str, Arc<str>, bool)>,
}

impl Pending {
    /// The text of the statement the message runs, if it runs one.
    pub(crate) fn text(&self) -> Option<&Arc<str>> {
        self.statement.as_ref().map(|(_, text, _)| text)
    }
}

impl ConnectionLog {
    /// The log of connection `conn` from `peer`, just accepted.
    pub(crate) fn new(conn: u64, peer: SocketAddr, options: LogOptions) -> ConnectionLog {
        connected(conn, peer);
        ConnectionLog {
            conn,
            peer,
            options,
            started: Instant::now(),
            statements: 0,
            prepared: HashMap::new(),
            portals: HashMap::new(),
        }
    }

    /// Notes `message` before it is handled.
    pub(crate) fn before(&mut self, message: &PgWireFrontendMessage, logging_in: bool) -> Pending {
        let name = |n: &Option<String>| n.clone().unwrap_or_default();
        let statement = match message {
            PgWireFrontendMessage::Query(query) => {
                Some(("simple", Arc::from(query.query.as_str()), false))
            }
            PgWireFrontendMessage::Parse(parse) => {
                let text: Arc<str> = Arc::from(parse.query.as_str());
                self.prepared.insert(name(&parse.name), Arc::clone(&text));
                Some(("extended", text, true))
            }
            PgWireFrontendMessage::Bind(bind) => {
                self.portals
                    .insert(name(&bind.portal_name), name(&bind.statement_name));
                None
            }
            PgWireFrontendMessage::Close(close) => {
                if close.target_type == b'S' {
                    self.prepared.remove(&name(&close.name));
                } else {
                    self.portals.remove(&name(&close.name));
                }
                None
            }
            PgWireFrontendMessage::Execute(execute) => self
                .portals
                .get(&name(&execute.name))
                .and_then(|statement| self.prepared.get(statement))
                .map(|text| ("extended", Arc::clone(text), false)),
            _ => None,
        };
        Pending {
            started: Instant::now(),
            logging_in,
            statement,
        }
    }

    /// Logs what `pending` turned into on `client`: a login, a failed one,
    /// or a statement; `failed` is the error it ended with, `rows` the rows
    /// it answered.
    pub(crate) fn after<C: ClientInfo>(
        &mut self,
        client: &C,
        pending: Pending,
        failed: Option<&PgWireError>,
        rows: Option<u64>,
    ) {
        let code = failed.map(|err| match err {
            PgWireError::UserError(info) => info.code.clone(),
            _ => "XX000".to_string(),
        });
        let meta = |key: &str| client.metadata().get(key).cloned().unwrap_or_default();
        if pending.logging_in {
            if let Some(err) = failed {
                let reason = match err {
                    PgWireError::UserError(info) => info.message.clone(),
                    other => other.to_string(),
                };
                let code = code.as_deref().unwrap_or_default();
                login_failed(self.conn, self.peer, &meta(METADATA_USER), code, &reason);
            } else if matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
                logged_in(
                    self.conn,
                    self.peer,
                    &meta(METADATA_USER),
                    &meta(SCOPE_METADATA),
                    &meta(LOGIN_METHOD_METADATA),
                    client.pid_and_secret_key().0,
                );
            }
            return;
        }
        // Taken after every message, logged or not: a plan kept would
        // keep what its operators hold (a join's hash table) alive.
        let plans = client
            .session_extensions()
            .get::<Arc<StatementPlans>>()
            .map(|plans| plans.take())
            .unwrap_or_default();
        let Some((protocol, text, only_failures)) = pending.statement else {
            return;
        };
        if only_failures && failed.is_none() {
            return;
        }
        self.statements += 1;
        let done = Statement {
            conn: self.conn,
            user: &meta(METADATA_USER),
            scope: &meta(SCOPE_METADATA),
            protocol,
            text: &text,
            took: pending.started.elapsed(),
            rows,
            sqlstate: code.as_deref(),
        };
        statement(self.options.statement, &done);
        if self.options.slow.is_some_and(|slow| done.took >= slow) {
            slow_statement(self.options.statement, &done, &plans);
        }
    }

    /// Logs the end of the connection.
    pub(crate) fn end<C: ClientInfo>(&self, client: &C) {
        let user = client.metadata().get(METADATA_USER).map(String::as_str);
        disconnected(
            self.conn,
            self.peer,
            user,
            self.started.elapsed(),
            self.statements,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_the_first_word() {
        assert_eq!(kind_of("  select 1"), "SELECT");
        assert_eq!(kind_of("(SELECT 1) UNION (SELECT 2)"), "SELECT");
        assert_eq!(kind_of("SET statement_timeout = 5"), "SET");
        assert_eq!(kind_of(""), "");
        assert_eq!("kind".parse::<LogStatement>(), Ok(LogStatement::Kind));
        assert!("some".parse::<LogStatement>().is_err());
    }
}
