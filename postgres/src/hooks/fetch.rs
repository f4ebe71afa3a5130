//! `FETCH`, `MOVE` and `CLOSE` of cursors — those `DECLARE` opens and the
//! protocol's named portals alike, as in PostgreSQL — answered with
//! PostgreSQL's command tags (`FETCH n`, `MOVE n`, `CLOSE CURSOR`,
//! `CLOSE CURSOR ALL`).
//!
//! sqlparser reads neither `MOVE` nor a `FETCH` without `FROM`/`IN`, which
//! PostgreSQL accepts and clients send (asyncpg's `cursor.forward(n)` is
//! `MOVE FORWARD n portal`): [`cursor_command`] reads both from the
//! statement's tokens into sqlparser's `FETCH`, a `MOVE` marked by an
//! `INTO` no SQL can write (PostgreSQL's `FETCH` has none).
//!
//! Sapa's cursors scan forward only, as PostgreSQL's `NO SCROLL` ones:
//! `BACKWARD`, `PRIOR`, `FIRST`, `LAST` and `ABSOLUTE`/`RELATIVE` are
//! refused with 55000, as PostgreSQL refuses them there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{
    CloseCursor, FetchDirection, FetchPosition, Ident, ObjectName, Statement, Value,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::portal::PortalExecutionState;
use datafusion_postgres::pgwire::api::results::{FieldInfo, QueryResponse, Response, Tag};
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::error::PgWireResult;
use futures::StreamExt;

use super::no_plan;
use crate::sqlstate::{code, user_error};

/// The `INTO` target that marks a `FETCH` as a `MOVE`.
const MOVE_MARKER: &str = "\u{0}sapa move";

/// A `FETCH` or `MOVE` read from `tokens` (whitespace left out): `None`
/// when they are another statement, an error when they are a cursor
/// command PostgreSQL would refuse.
pub fn cursor_command(tokens: &[&Token]) -> Option<PgWireResult<Statement>> {
    let (first, rest) = tokens.split_first()?;
    let is_move = match first {
        Token::Word(w) if w.keyword == Keyword::FETCH => false,
        Token::Word(w) if w.value.eq_ignore_ascii_case("move") && w.quote_style.is_none() => true,
        _ => return None,
    };
    Some(read_command(rest, is_move))
}

fn read_command(tokens: &[&Token], is_move: bool) -> PgWireResult<Statement> {
    let verb = if is_move { "MOVE" } else { "FETCH" };
    let syntax = || {
        user_error(
            code::SYNTAX_ERROR,
            format!(
                "{verb}: expected {verb} [NEXT | ALL | FORWARD [n | ALL] | n] [FROM | IN] cursor"
            ),
        )
    };
    let keyword = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    };
    let count = |t: &Token| match t {
        Token::Number(n, _) => Some(Value::Number(n.clone(), false).with_empty_span()),
        _ => None,
    };
    let mut rest = tokens.iter().copied().peekable();
    let direction = match rest.peek().copied().and_then(keyword) {
        Some(Keyword::NEXT) => {
            rest.next();
            FetchDirection::Next
        }
        Some(Keyword::ALL) => {
            rest.next();
            FetchDirection::All
        }
        Some(Keyword::FORWARD) => {
            rest.next();
            match rest.peek().copied() {
                Some(t) if keyword(t) == Some(Keyword::ALL) => {
                    rest.next();
                    FetchDirection::ForwardAll
                }
                Some(t) if count(t).is_some() => {
                    rest.next();
                    FetchDirection::Forward { limit: count(t) }
                }
                _ => FetchDirection::Forward { limit: None },
            }
        }
        Some(
            Keyword::BACKWARD
            | Keyword::PRIOR
            | Keyword::FIRST
            | Keyword::LAST
            | Keyword::ABSOLUTE
            | Keyword::RELATIVE,
        ) => {
            return Err(user_error(
                code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                "cursor can only scan forward (Sapa's cursors are NO SCROLL)",
            ));
        }
        _ => match rest.peek().copied().and_then(count) {
            Some(limit) => {
                rest.next();
                FetchDirection::Count { limit }
            }
            // No direction: next comes FROM/IN or the cursor's name.
            None => FetchDirection::Next,
        },
    };
    if rest
        .peek()
        .copied()
        .and_then(keyword)
        .is_some_and(|k| matches!(k, Keyword::FROM | Keyword::IN))
    {
        rest.next();
    }
    let name = match rest.next() {
        Some(Token::Word(w)) => Ident {
            value: w.value.clone(),
            quote_style: w.quote_style,
            span: datafusion::sql::sqlparser::tokenizer::Span::empty(),
        },
        _ => return Err(syntax()),
    };
    if rest.next().is_some() {
        return Err(syntax());
    }
    Ok(Statement::Fetch {
        name,
        direction,
        position: FetchPosition::From,
        into: is_move.then(|| ObjectName::from(vec![Ident::new(MOVE_MARKER)])),
    })
}

/// The statements of `sql` when one or more is a `FETCH`/`MOVE`
/// sqlparser cannot read, each other one read by `parse`; `None` when
/// there is none (or the text does not tokenize): then `sql` is parsed
/// whole, as any.
pub(crate) fn with_cursor_commands(
    sql: &str,
    parse: impl Fn(&str) -> PgWireResult<Vec<Statement>>,
) -> Option<PgWireResult<Vec<Statement>>> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("move") && !lower.contains("fetch") {
        return None;
    }
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let lines: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // The byte offset of a location (1-based line, 1-based column in chars).
    let offset = |line: u64, column: u64| -> Option<usize> {
        let start = *lines.get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let skip = usize::try_from(column).ok()?.checked_sub(1)?;
        let within = sql[start..]
            .char_indices()
            .nth(skip)
            .map_or(sql.len() - start, |(i, _)| i);
        Some(start + within)
    };
    let mut pieces: Vec<(usize, usize, Vec<&Token>)> = Vec::new();
    let mut begin = 0;
    let mut words: Vec<&Token> = Vec::new();
    for token in &tokens {
        match &token.token {
            Token::SemiColon => {
                let end = offset(token.span.start.line, token.span.start.column)?;
                pieces.push((begin, end, std::mem::take(&mut words)));
                begin = end + 1;
            }
            Token::Whitespace(_) => {}
            other => words.push(other),
        }
    }
    pieces.push((begin, sql.len(), words));
    let commands: Vec<Option<PgWireResult<Statement>>> = pieces
        .iter()
        .map(|(_, _, words)| cursor_command(words))
        .collect();
    if commands.iter().all(Option::is_none) {
        return None;
    }
    let mut statements = Vec::new();
    for ((begin, end, _), command) in pieces.iter().zip(commands) {
        match command {
            Some(Ok(statement)) => statements.push(statement),
            Some(Err(err)) => return Some(Err(err)),
            None => match parse(&sql[*begin..*end]) {
                Ok(parsed) => statements.extend(parsed),
                Err(err) => return Some(Err(err)),
            },
        }
    }
    Some(Ok(statements))
}

/// The columns of each cursor of a connection, kept from its first fetch:
/// a cursor at its end still answers `FETCH` with them (and no rows), as
/// PostgreSQL does, where the portal alone has forgotten them.
#[derive(Default)]
struct Shapes(Mutex<HashMap<String, Arc<Vec<FieldInfo>>>>);

impl Shapes {
    fn of(client: &dyn HookClient) -> Arc<Shapes> {
        client
            .session_extensions()
            .get_or_insert_with(Shapes::default)
    }

    fn get(&self, name: &str) -> Option<Arc<Vec<FieldInfo>>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    fn keep(&self, name: &str, fields: Arc<Vec<FieldInfo>>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), fields);
    }

    fn forget(&self, name: Option<&str>) {
        let mut shapes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match name {
            Some(name) => {
                shapes.remove(name);
            }
            None => shapes.clear(),
        }
    }
}

/// How many rows a direction asks for (`None`: all).
fn rows_asked(direction: &FetchDirection) -> PgWireResult<Option<usize>> {
    let number = |v: &datafusion::sql::sqlparser::ast::ValueWithSpan| match &v.value {
        Value::Number(n, _) => n.parse::<i64>().ok(),
        _ => None,
    };
    let n = match direction {
        FetchDirection::Next | FetchDirection::Forward { limit: None } => 1,
        FetchDirection::All | FetchDirection::ForwardAll => return Ok(None),
        FetchDirection::Count { limit } | FetchDirection::Forward { limit: Some(limit) } => {
            number(limit)
                .ok_or_else(|| user_error(code::SYNTAX_ERROR, format!("bad row count {limit}")))?
        }
        _ => {
            return Err(user_error(
                code::OBJECT_NOT_IN_PREREQUISITE_STATE,
                "cursor can only scan forward (Sapa's cursors are NO SCROLL)",
            ));
        }
    };
    if n < 0 {
        return Err(user_error(
            code::OBJECT_NOT_IN_PREREQUISITE_STATE,
            "cursor can only scan forward (Sapa's cursors are NO SCROLL)",
        ));
    }
    Ok(Some(usize::try_from(n).unwrap_or(usize::MAX)))
}

/// Runs a `FETCH` or `MOVE` of `name`.
async fn fetch(
    client: &mut dyn HookClient,
    name: &Ident,
    direction: &FetchDirection,
    is_move: bool,
) -> PgWireResult<Response> {
    let asked = rows_asked(direction)?;
    let Some(portal) = client
        .portal_store()
        .get_portal(&name.value)
        .and_then(|e| e.value().cloned())
    else {
        return Err(user_error(
            code::INVALID_CURSOR_NAME,
            format!("cursor \"{}\" does not exist", name.value),
        ));
    };
    let shapes = Shapes::of(client);
    if let PortalExecutionState::Suspended(rows) = &*portal.state().lock().await
        && shapes.get(&name.value).is_none()
    {
        shapes.keep(&name.value, rows.row_schema());
    }
    let fields = shapes.get(&name.value).unwrap_or_default();
    let mut rows = Vec::new();
    // `FETCH 0` asks for the current row, which a forward-only cursor
    // past its start has already given: none (pgwire's 0 would be all).
    if asked != Some(0) {
        let fetched = portal.fetch(asked.unwrap_or(0)).await?;
        let mut data = fetched.response.data_rows;
        while let Some(row) = data.next().await {
            rows.push(row?);
        }
    }
    if is_move {
        return Ok(Response::Execution(Tag::new("MOVE").with_rows(rows.len())));
    }
    let mut response = QueryResponse::new(fields, futures::stream::iter(rows.into_iter().map(Ok)));
    response.command_tag = "FETCH".to_string();
    Ok(Response::Query(response))
}

/// Closes the cursor `name` if it is open: its portal and its kept shape
/// (the end of the block it was declared in).
pub(crate) fn drop_cursor(client: &mut dyn HookClient, name: &str) {
    client.portal_store().rm_portal(name);
    Shapes::of(client).forget(Some(name));
}

/// Runs a `CLOSE`.
fn close(client: &mut dyn HookClient, cursor: &CloseCursor) -> PgWireResult<Response> {
    let shapes = Shapes::of(client);
    let store = client.portal_store();
    match cursor {
        CloseCursor::All => {
            store.clear_portals();
            shapes.forget(None);
            Ok(Response::Execution(Tag::new("CLOSE CURSOR ALL")))
        }
        CloseCursor::Specific { name } => {
            if store.get_portal(&name.value).is_none() {
                return Err(user_error(
                    code::INVALID_CURSOR_NAME,
                    format!("cursor \"{}\" does not exist", name.value),
                ));
            }
            store.rm_portal(&name.value);
            shapes.forget(Some(&name.value));
            Ok(Response::Execution(Tag::new("CLOSE CURSOR")))
        }
    }
}

/// Answers `FETCH`, `MOVE` and `CLOSE` (before `datafusion-postgres`'s
/// cursor hook, which would answer `FETCH` tagged `SELECT`).
#[derive(Debug)]
pub struct Fetches;

impl Fetches {
    async fn run(
        &self,
        statement: &Statement,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        match statement {
            Statement::Fetch {
                name,
                direction,
                into,
                ..
            } => {
                let is_move = match into {
                    None => false,
                    Some(target) if target.to_string() == MOVE_MARKER => true,
                    Some(_) => {
                        return Some(Err(user_error(
                            code::SYNTAX_ERROR,
                            "FETCH has no INTO in SQL (it belongs to PL/pgSQL)",
                        )));
                    }
                };
                Some(fetch(client, name, direction, is_move).await)
            }
            Statement::Close { cursor } => Some(close(client, cursor)),
            _ => None,
        }
    }
}

#[async_trait]
impl QueryHook for Fetches {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.run(statement, client).await
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        matches!(statement, Statement::Fetch { .. } | Statement::Close { .. })
            .then(|| Ok(no_plan()))
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.run(statement, client).await
    }
}
