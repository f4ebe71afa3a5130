//! The statements real clients send (pgjdbc replaying Metabase, psql's `\d`
//! commands, psycopg with SQLAlchemy, asyncpg, node-postgres, ODBC),
//! replayed in-process over tokio-postgres: a catalog regression shows here
//! without a JDK, a Node.js or an ODBC driver.
//!
//! `tests/data/client_queries/CLIENT.sql` holds each client's statements as
//! `tests/clients/capture_client_queries.sh` captured them from the server's
//! statement log, each with the protocol the client sent it by. Each is
//! replayed in order on one connection of a server of its own, by the same
//! protocol: a simple query; or Parse and Describe, then (when it takes no
//! parameters) Bind and Execute. What each answers — its columns (with
//! their types where the protocol says them), its row count, or its
//! SQLSTATE — is a snapshot
//! (`tests/server/snapshots/server__client_queries__CLIENT.snap`), so a
//! relation, column or type that changes under a client is a diff to
//! review.

use std::fmt::Write as _;
use std::path::Path;

use tokio_postgres::SimpleQueryMessage;

use crate::support::{connect, start};

/// How a client sent a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Simple,
    Extended,
}

/// The statements of a captured file, in order, with their protocols.
fn statements(client: &str) -> Vec<(Protocol, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/client_queries")
        .join(format!("{client}.sql"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut protocol = None;
    let mut current = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("-- protocol: ") {
            protocol = Some(match name {
                "simple" => Protocol::Simple,
                "extended" => Protocol::Extended,
                other => panic!("{}: unknown protocol {other}", path.display()),
            });
        } else if line == ";;" {
            let protocol = protocol
                .take()
                .unwrap_or_else(|| panic!("{}: no protocol line", path.display()));
            out.push((protocol, std::mem::take(&mut current).trim().to_string()));
        } else if protocol.is_some() {
            current.push_str(line);
            current.push('\n');
        }
    }
    assert!(
        current.trim().is_empty(),
        "{}: text after the last ;;",
        path.display()
    );
    assert!(!out.is_empty(), "{}: no statements", path.display());
    out
}

/// The first line of `sql`, shortened, as the snapshot names it.
fn head(sql: &str) -> String {
    let line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

fn failure(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("ERROR {}: {}", db.code().code(), db.message()),
        None => format!("ERROR (no SQLSTATE): {err}"),
    }
}

/// What one statement answers, as a line of the snapshot.
async fn answer(client: &tokio_postgres::Client, protocol: Protocol, sql: &str) -> String {
    match protocol {
        Protocol::Extended => extended(client, sql).await,
        Protocol::Simple => simple(client, sql).await,
    }
}

async fn extended(client: &tokio_postgres::Client, sql: &str) -> String {
    let statement = match client.prepare(sql).await {
        Ok(statement) => statement,
        Err(err) => return failure(&err),
    };
    let params: Vec<String> = statement.params().iter().map(|t| t.to_string()).collect();
    let columns: Vec<String> = statement
        .columns()
        .iter()
        .map(|c| format!("{} {}", c.name(), c.type_()))
        .collect();
    let described = format!(
        "parameters ({}); columns ({})",
        params.join(", "),
        columns.join(", ")
    );
    if !params.is_empty() {
        return format!("parsed; {described}");
    }
    match client.query(&statement, &[]).await {
        Ok(rows) => format!("{} rows; {described}", rows.len()),
        Err(err) => format!("parsed; {described}; {}", failure(&err)),
    }
}

async fn simple(client: &tokio_postgres::Client, sql: &str) -> String {
    if sql
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case("COPY "))
    {
        return copy_out(client, sql).await;
    }
    match client.simple_query(sql).await {
        Ok(messages) => {
            let mut columns = Vec::new();
            let mut rows = 0;
            let mut commands = 0;
            for message in messages {
                match message {
                    SimpleQueryMessage::RowDescription(description) => {
                        columns = description.iter().map(|c| c.name().to_string()).collect();
                    }
                    SimpleQueryMessage::Row(_) => rows += 1,
                    SimpleQueryMessage::CommandComplete(_) => commands += 1,
                    _ => {}
                }
            }
            if columns.is_empty() {
                format!("ok ({commands} commands)")
            } else {
                format!("{rows} rows ({})", columns.join(", "))
            }
        }
        Err(err) => failure(&err),
    }
}

/// `COPY … TO STDOUT`: its lines.
async fn copy_out(client: &tokio_postgres::Client, sql: &str) -> String {
    use futures::TryStreamExt;
    let stream = match client.copy_out(sql).await {
        Ok(stream) => stream,
        Err(err) => return failure(&err),
    };
    match stream.try_collect::<Vec<_>>().await {
        Ok(chunks) => {
            let bytes: Vec<u8> = chunks.concat();
            let lines = bytes.iter().filter(|b| **b == b'\n').count();
            format!("copied {lines} lines")
        }
        Err(err) => failure(&err),
    }
}

/// Replays a client's statements and snapshots their answers.
async fn replay(client_name: &str) {
    let addr = start().await;
    let client = connect(addr).await;
    let mut text = String::new();
    for (i, (protocol, sql)) in statements(client_name).iter().enumerate() {
        let answer = answer(&client, *protocol, sql).await;
        writeln!(text, "[{i}] {}\n    -> {answer}", head(sql)).unwrap();
    }
    insta::assert_snapshot!(client_name, text);
}

#[tokio::test]
async fn pgjdbc_metabase_statements_answer_as_captured() {
    replay("pgjdbc").await;
}

#[tokio::test]
async fn psql_describe_statements_answer_as_captured() {
    replay("psql").await;
}

#[tokio::test]
async fn psycopg_sqlalchemy_statements_answer_as_captured() {
    replay("psycopg").await;
}

#[tokio::test]
async fn asyncpg_statements_answer_as_captured() {
    replay("asyncpg").await;
}

#[tokio::test]
async fn node_postgres_statements_answer_as_captured() {
    replay("node-postgres").await;
}

#[tokio::test]
async fn odbc_statements_answer_as_captured() {
    replay("odbc").await;
}
