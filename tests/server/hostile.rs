//! A hostile or careless client against a real socket: raw protocol
//! messages no client library would send, statements built to exhaust the
//! stack, overflow, bad text and sockets that never log in. After each,
//! the server must still answer another client.

use std::net::SocketAddr;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{connect, sqlstate, start, start_with};

/// A connection that speaks the protocol byte by byte.
struct Raw {
    stream: TcpStream,
    /// The BackendKeyData body (pid, secret key), once logged in.
    key: Vec<u8>,
}

/// One backend message: its type and body.
type Message = (u8, Vec<u8>);

fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn cstr(s: &str) -> Vec<u8> {
    let mut out = s.as_bytes().to_vec();
    out.push(0);
    out
}

fn parse(sql: &str) -> Vec<u8> {
    let mut body = cstr("");
    body.extend(cstr(sql));
    body.extend(0i16.to_be_bytes());
    frame(b'P', &body)
}

fn bind() -> Vec<u8> {
    frame(b'B', &[0, 0, 0, 0, 0, 0, 0, 0])
}

fn execute(max_rows: i32) -> Vec<u8> {
    let mut body = cstr("");
    body.extend(max_rows.to_be_bytes());
    frame(b'E', &body)
}

fn sync() -> Vec<u8> {
    frame(b'S', &[])
}

impl Raw {
    /// Connects and sends the startup packet, without reading.
    async fn startup(addr: SocketAddr) -> Raw {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut body = 196_608i32.to_be_bytes().to_vec();
        for part in ["user", "sapa", "database", "sapa", ""] {
            body.extend(cstr(part));
        }
        let mut packet = (body.len() as i32 + 4).to_be_bytes().to_vec();
        packet.extend(body);
        stream.write_all(&packet).await.unwrap();
        Raw {
            stream,
            key: Vec::new(),
        }
    }

    /// Connects and logs in as `sapa`.
    async fn login(addr: SocketAddr) -> Raw {
        let mut raw = Raw::startup(addr).await;
        let messages = raw.until_ready().await;
        assert_eq!(messages.last().map(|m| m.0), Some(b'Z'), "{messages:?}");
        raw.key = messages
            .iter()
            .find(|m| m.0 == b'K')
            .map(|m| m.1.clone())
            .unwrap_or_default();
        raw
    }

    /// Sends a CancelRequest for this connection from another socket.
    async fn cancel(&self, addr: SocketAddr) {
        let mut other = TcpStream::connect(addr).await.unwrap();
        let mut packet = (8 + self.key.len() as i32).to_be_bytes().to_vec();
        packet.extend(80_877_102i32.to_be_bytes());
        packet.extend(&self.key);
        other.write_all(&packet).await.unwrap();
        // The server closes it once the request is handled.
        let mut buf = [0u8; 16];
        let _ = tokio::time::timeout(Duration::from_secs(10), other.read(&mut buf)).await;
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Messages up to ReadyForQuery, or to the end of the connection.
    async fn until_ready(&mut self) -> Vec<Message> {
        self.within(Duration::from_secs(60))
            .await
            .expect("the server did not answer within 60 s")
    }

    /// [`Raw::until_ready`], or `None` if the server is silent for `wait`.
    async fn within(&mut self, wait: Duration) -> Option<Vec<Message>> {
        let mut out = Vec::new();
        loop {
            let mut header = [0u8; 5];
            let read = tokio::time::timeout(wait, self.stream.read_exact(&mut header))
                .await
                .ok()?;
            if read.is_err() {
                return Some(out);
            }
            let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
            let mut body = vec![0u8; len.saturating_sub(4)];
            if self.stream.read_exact(&mut body).await.is_err() {
                return Some(out);
            }
            let kind = header[0];
            out.push((kind, body));
            if kind == b'Z' {
                return Some(out);
            }
        }
    }

    /// Whether the server closed the connection (reads end).
    async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(30), self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// The SQLSTATE of the first ErrorResponse among `messages`.
fn error_code(messages: &[Message]) -> Option<String> {
    let (_, body) = messages.iter().find(|m| m.0 == b'E')?;
    let mut fields = body.split(|&b| b == 0);
    fields.find_map(|f| {
        f.strip_prefix(b"C")
            .map(|c| String::from_utf8_lossy(c).into_owned())
    })
}

fn count(messages: &[Message], kind: u8) -> usize {
    messages.iter().filter(|m| m.0 == kind).count()
}

fn command_tag(messages: &[Message]) -> Option<String> {
    let (_, body) = messages.iter().find(|m| m.0 == b'C')?;
    Some(String::from_utf8_lossy(body.strip_suffix(&[0]).unwrap_or(body)).into_owned())
}

async fn still_serving(addr: SocketAddr) {
    let client = connect(addr).await;
    let row = client
        .query_one("SELECT count(*) FROM regions", &[])
        .await
        .unwrap();
    assert!(row.get::<_, i64>(0) > 0);
}

#[tokio::test]
async fn row_limits_of_any_size_are_honoured_without_sizing_memory_by_them() {
    let addr = start().await;
    let mut raw = Raw::login(addr).await;
    let sql = "SELECT * FROM generate_series(1, 10000)";
    for (limit, rows) in [(i32::MAX, 10_000), (-1, 10_000), (0, 10_000)] {
        let mut bytes = parse(sql);
        bytes.extend(bind());
        bytes.extend(execute(limit));
        bytes.extend(sync());
        raw.send(&bytes).await;
        let messages = raw.until_ready().await;
        assert_eq!(count(&messages, b'D'), rows, "limit {limit}");
        assert_eq!(command_tag(&messages).as_deref(), Some("SELECT 10000"));
    }
    // A limit above one part's rows: 6,000 then the remaining 4,000, with
    // the portal suspended between, as PostgreSQL answers.
    let mut bytes = parse(sql);
    bytes.extend(bind());
    bytes.extend(execute(6_000));
    bytes.extend(execute(6_000));
    bytes.extend(sync());
    raw.send(&bytes).await;
    let messages = raw.until_ready().await;
    let suspended = messages.iter().position(|m| m.0 == b's').unwrap();
    assert_eq!(count(&messages[..suspended], b'D'), 6_000);
    assert_eq!(count(&messages, b's'), 1);
    assert_eq!(count(&messages[suspended..], b'D'), 4_000);
    assert_eq!(command_tag(&messages).as_deref(), Some("SELECT 4000"));
    still_serving(addr).await;
}

#[tokio::test]
async fn malformed_messages_end_only_their_connection_with_08p01() {
    let addr = start().await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("Bind of length 4", b"B\0\0\0\x04".to_vec()),
        ("Execute of length 4", b"E\0\0\0\x04".to_vec()),
        ("a length near 2 GiB", b"Q\x7f\xff\xff\xf0SELECT 1".to_vec()),
        ("a negative length", b"P\xff\xff\xff\xf0".to_vec()),
        ("an unknown type", b"\x01\0\0\0\x04".to_vec()),
        (
            "a parameter count past the end",
            frame(b'B', &[0, 0, 0, 0, 0x7f, 0xff]),
        ),
        (
            "a parameter longer than its message",
            frame(b'B', &[0, 0, 0, 0, 0, 1, 0x7f, 0, 0, 0, 1, 2]),
        ),
    ];
    for (what, bytes) in cases {
        let mut raw = Raw::login(addr).await;
        raw.send(&bytes).await;
        let messages = raw.until_ready().await;
        assert_eq!(error_code(&messages).as_deref(), Some("08P01"), "{what}");
        assert!(raw.closed().await, "{what}: the connection stayed open");
    }
    still_serving(addr).await;
}

#[tokio::test]
async fn statements_too_deep_or_too_many_are_refused_and_the_rest_run() {
    let addr = start().await;
    let client = connect(addr).await;
    let terms = |n: usize| vec!["1"; n].join("+");
    let refused = [
        (format!("SELECT {}", terms(3_000)), "54001"),
        (
            format!("SELECT 1 WHERE {}", vec!["1 = 1"; 5_000].join(" AND ")),
            "54001",
        ),
        (
            format!("SELECT 1 WHERE {}", vec!["1 = 2"; 10_000].join(" OR ")),
            "54001",
        ),
        (vec!["SELECT 1"; 1_002].join(" UNION ALL "), "54001"),
        (
            format!(
                "SELECT {} 1 {}",
                "CASE WHEN true THEN ".repeat(100),
                "END ".repeat(100)
            ),
            "54001",
        ),
        (
            format!("SELECT {}1{}", "(".repeat(100), ")".repeat(100)),
            "54001",
        ),
        ("SELECT 1;".repeat(1_001), "54000"),
        (format!("SELECT {}", vec!["1"; 2_000].join(", ")), "54011"),
    ];
    for (sql, code) in &refused {
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), *code, "{}…", &sql[..60.min(sql.len())]);
    }
    // Over the extended protocol too: 2,000 parameters summed.
    let params = (1..=2_000)
        .map(|i| format!("${i}::int"))
        .collect::<Vec<_>>()
        .join("+");
    let err = client
        .prepare(&format!("SELECT {params}"))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "54001");
    // Just within the limits, statements plan and run.
    let rows = client
        .query(&format!("SELECT {}", terms(1_000)), &[])
        .await
        .unwrap();
    // Integer literals are int4, as in PostgreSQL.
    assert_eq!(rows[0].get::<_, i32>(0), 1_000);
    let cases = format!(
        "SELECT {} 1 {}",
        "CASE WHEN true THEN ".repeat(20),
        "END ".repeat(20)
    );
    let rows = client.query(&cases, &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, i32>(0), 1);
    let nested = format!("SELECT {}1{}", "(SELECT ".repeat(20), ")".repeat(20));
    let rows = client.query(&nested, &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, i32>(0), 1);
    let union = vec!["SELECT 1 AS one"; 300].join(" UNION ALL ");
    let rows = client
        .query(&format!("SELECT count(*) FROM ({union}) u"), &[])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 300);
    still_serving(addr).await;
}

#[tokio::test]
async fn overflow_bad_text_and_bad_patterns_get_their_sqlstates() {
    let addr = start().await;
    let client = connect(addr).await;
    for (sql, code) in [
        ("SELECT 9223372036854775807::bigint + 1", "22003"),
        ("SELECT -9223372036854775807::bigint - 2", "22003"),
        ("SELECT 3037000500::bigint * 3037000500", "22003"),
        ("SELECT 2147483647::int + 1::int", "22003"),
        ("SELECT 1e400::float8", "22003"),
        ("SELECT 1e308::float8 * 10", "22003"),
        ("SELECT 40000::smallint", "22003"),
        ("SELECT 'abc' ~ '('", "2201B"),
        ("SELECT regexp_like('abc', 'a{1000}{1000}{1000}')", "2201B"),
    ] {
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "{sql}: {err:?}");
    }
    // The overflow is also caught over marks, not only over literals.
    let err = client
        .simple_query(
            "SELECT sum(x) FROM (SELECT student_id * 9223372036854775807 AS x FROM marks) m",
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22003");
    // Invalid UTF-8 in the text, over both protocols: refused, and the
    // connection goes on.
    let mut raw = Raw::login(addr).await;
    raw.send(&frame(b'Q', b"SELECT '\xff\xfe'\0")).await;
    let messages = raw.until_ready().await;
    assert_eq!(error_code(&messages).as_deref(), Some("22021"));
    let mut bytes = parse("SELECT '\u{fffd}' AS ok");
    bytes.extend(bind());
    bytes.extend(execute(0));
    bytes.extend(sync());
    raw.send(&bytes).await;
    let messages = raw.until_ready().await;
    assert_eq!(
        error_code(&messages),
        None,
        "a real U+FFFD is text like any other"
    );
    let mut bad = cstr("");
    bad.extend(b"SELECT '\xc3'\0");
    bad.extend(0i16.to_be_bytes());
    let mut bytes = frame(b'P', &bad);
    bytes.extend(sync());
    raw.send(&bytes).await;
    let messages = raw.until_ready().await;
    assert_eq!(error_code(&messages).as_deref(), Some("22021"));
    raw.send(&frame(b'Q', b"SELECT 1\0")).await;
    let messages = raw.until_ready().await;
    assert_eq!(count(&messages, b'D'), 1);
}

#[tokio::test]
async fn sockets_that_never_log_in_do_not_take_the_users_slots() {
    let addr = start_with(sapa::server::ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        max_connections: 4,
        ..sapa::server::ServerOptions::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Half-way ones too: an SSL request (answered "no"), then nothing.
    for _ in 0..8 {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
            .await
            .unwrap();
        let mut answer = [0u8; 1];
        socket.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"N");
        idle.push(socket);
    }
    let mut users = Vec::new();
    for _ in 0..4 {
        users.push(connect(addr).await);
    }
    for user in &users {
        user.simple_query("SELECT 1").await.unwrap();
    }
    drop(idle);
}

/// Seeded mutations of a valid conversation: whatever arrives, the server
/// answers or closes that connection, and goes on serving.
#[tokio::test]
async fn mutated_messages_never_take_the_server_down() {
    let addr = start().await;
    let mut valid = parse("SELECT $1::int + 1 AS n");
    // One text parameter, '7'.
    valid.extend(frame(b'B', &[0, 0, 0, 0, 0, 1, 0, 0, 0, 1, b'7', 0, 0]));
    valid.extend(frame(b'D', &[b'P', 0]));
    valid.extend(execute(0));
    valid.extend(sync());
    valid.extend(frame(b'Q', b"SELECT 1\0"));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(25);
    let started = std::time::Instant::now();
    let mut tried = 0;
    while tried < 300 && started.elapsed() < Duration::from_secs(30) {
        tried += 1;
        let mut bytes = valid.clone();
        for _ in 0..rng.random_range(1..4) {
            let at = rng.random_range(0..bytes.len());
            bytes[at] = match rng.random_range(0..3) {
                0 => rng.random(),
                1 => 0xff,
                _ => 0,
            };
        }
        let mut raw = Raw::login(addr).await;
        raw.send(&bytes).await;
        // Two answers at most (the extended run and the simple query); a
        // closed connection ends it sooner, and a length made longer
        // leaves the server waiting for the rest, as PostgreSQL would.
        for _ in 0..2 {
            let answered = raw.within(Duration::from_secs(2)).await;
            let ready = answered.is_some_and(|m| m.last().is_some_and(|m| m.0 == b'Z'));
            if !ready {
                break;
            }
        }
    }
    still_serving(addr).await;
}

#[tokio::test]
async fn a_socket_that_does_not_log_in_is_closed_at_the_startup_deadline() {
    let addr = start().await;
    let started = std::time::Instant::now();
    let mut silent = Raw {
        stream: TcpStream::connect(addr).await.unwrap(),
        key: Vec::new(),
    };
    assert!(silent.closed().await, "still open after 30 s");
    let waited = started.elapsed();
    assert!(
        waited >= sapa::server::STARTUP_DEADLINE - Duration::from_millis(100),
        "closed after {waited:?}"
    );
    assert!(waited < sapa::server::STARTUP_DEADLINE + Duration::from_secs(5));
    still_serving(addr).await;
}

/// A cancel belongs to the cycle it comes in: one that arrives after the
/// Parse, before the Execute (pgwire listened only while a statement's
/// `do_query` ran, and the rows then listened afresh), stops the Execute.
#[tokio::test]
async fn a_cancel_between_parse_and_execute_stops_the_execute() {
    let addr = start().await;
    let mut raw = Raw::login(addr).await;
    assert_eq!(raw.key.len(), 8);
    // Another session logged in after it: each has its own pid, and the
    // cancel finds the one it names (all had one pid, and the last to log
    // in took every cancel).
    let other = Raw::login(addr).await;
    assert_ne!(raw.key[..4], other.key[..4]);
    let long = "SELECT count(*) FROM marks a CROSS JOIN marks b \
                WHERE a.student_id + b.student_id = 7";
    let mut bytes = parse(long);
    bytes.extend(bind());
    bytes.extend(frame(b'H', &[]));
    raw.send(&bytes).await;
    let mut header = [0u8; 5];
    // ParseComplete, BindComplete.
    for _ in 0..2 {
        raw.stream.read_exact(&mut header).await.unwrap();
        assert!(matches!(header[0], b'1' | b'2'), "{header:?}");
    }
    raw.cancel(addr).await;
    let mut bytes = execute(0);
    bytes.extend(sync());
    raw.send(&bytes).await;
    let messages = raw.until_ready().await;
    assert_eq!(
        error_code(&messages).as_deref(),
        Some("57014"),
        "{messages:?}"
    );
    // The next cycle starts clean.
    raw.send(&frame(b'Q', b"SELECT 1\0")).await;
    let messages = raw.until_ready().await;
    assert_eq!(count(&messages, b'D'), 1);
}
