//! A served tiny dataset for the server tests: generated once per test
//! process, each test starting its own server on a free port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use sapa::engine::Engine;
use sapa::server::{Running, Server, ServerOptions};
use sapa::storage::DataLocation;
use sapa_datasets::csv_sink::CsvDirSink;
use sapa_datasets::generate::{GenerateOptions, Scale, generate};
use tokio::sync::OnceCell;

static DATA: OnceCell<PathBuf> = OnceCell::const_new();
static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();

/// The tiny dataset every server test serves (2023–2024, seed 7).
pub(crate) async fn dataset() -> PathBuf {
    DATA.get_or_init(|| async {
        let root = ROOT.get_or_init(|| tempfile::tempdir().expect("tempdir"));
        let csv = root.path().join("csv");
        let data = root.path().join("data");
        let mut sink = CsvDirSink::create(&csv).expect("csv sink");
        let options = GenerateOptions {
            scale: Scale::Tiny,
            years: 2023..=2024,
            seed: 7,
        };
        generate(&options, &mut sink, &mut |_| {}).expect("generate");
        sink.finish().expect("finish");
        let location = DataLocation::local(&data).expect("location");
        sapa::ingest::ingest_dir(&csv, &location, &sapa::ingest::IngestOptions::default())
            .await
            .expect("ingest");
        data
    })
    .await
    .clone()
}

/// Starts a server over the tiny dataset on a free loopback port.
pub(crate) async fn start_with(options: ServerOptions) -> SocketAddr {
    start_counted(options).await.0
}

/// [`start_with`], with the count of the server's running statements.
pub(crate) async fn start_counted(options: ServerOptions) -> (SocketAddr, Running) {
    let data = dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).expect("location"))
        .await
        .expect("open");
    let server = Server::bind(engine, options).await.expect("bind");
    let addr = server.local_addr();
    let running = server.running();
    tokio::spawn(server.run());
    (addr, running)
}

/// Starts a server with the default options on a free port.
pub(crate) async fn start() -> SocketAddr {
    start_with(ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        ..ServerOptions::default()
    })
    .await
}

/// A connected tokio-postgres client as `user` (no password: the server
/// has no users file).
pub(crate) async fn connect_as(
    addr: SocketAddr,
    user: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    connect_with(addr, &format!("user={user}")).await
}

/// A tokio-postgres client logged in as `user` with `password`, in plaintext.
pub(crate) async fn log_in(
    addr: SocketAddr,
    user: &str,
    password: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    connect_with(
        addr,
        &format!("user={user} password='{password}' sslmode=disable"),
    )
    .await
}

/// A client connected to database `sapa` with the extra `settings`.
async fn connect_with(
    addr: SocketAddr,
    settings: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let config = format!(
        "host={} port={} dbname=sapa {settings}",
        addr.ip(),
        addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A connected tokio-postgres client as `sapa`.
pub(crate) async fn connect(addr: SocketAddr) -> tokio_postgres::Client {
    connect_as(addr, "sapa").await.expect("connect")
}

/// The SQLSTATE of a failed statement.
pub(crate) fn sqlstate(err: &tokio_postgres::Error) -> String {
    err.code()
        .map(|c| c.code().to_string())
        .unwrap_or_else(|| format!("no SQLSTATE: {err}"))
}

/// What the engine answers directly (no wire), as text rows.
pub(crate) async fn engine_rows(sql: &str) -> Vec<Vec<String>> {
    let data = dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).expect("location"))
        .await
        .expect("open");
    let ctx = engine.sql_session().await.expect("session");
    rows_of(&ctx, sql).await
}

/// What `ctx` answers, as text rows.
pub(crate) async fn rows_of(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
) -> Vec<Vec<String>> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let batches = ctx
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for r in 0..batch.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    rows
}

/// Starts a server with a users file of `users` (name, scope), each with
/// `password`.
pub(crate) async fn start_with_users(users: &[(&str, String)], password: &str) -> SocketAddr {
    start_with(ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        users: Some(std::sync::Arc::new(users_of(users, password))),
        ..ServerOptions::default()
    })
    .await
}

/// A users file's users: `users` (name, scope), each with `password`.
pub(crate) fn users_of(users: &[(&str, String)], password: &str) -> sapa::server::Users {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("users.toml");
    let mut text = String::new();
    for (name, scope) in users {
        let verifier = sapa::server::Verifier::generate(password, 4096).expect("verifier");
        text += &format!(
            "[[user]]\nname = \"{name}\"\nscope = \"{scope}\"\npassword = \"{verifier}\"\n\n"
        );
    }
    std::fs::write(&file, text).expect("users file");
    // Read now: the file goes with `dir`.
    sapa::server::Users::load(&file).expect("users")
}

/// The ministry's user `minister` and the first district's `aigul`, with
/// that district's id.
pub(crate) async fn ministry_and_district() -> (Vec<(&'static str, String)>, String) {
    let district = engine_rows("SELECT min(district_id) FROM districts").await[0][0].clone();
    let users = vec![
        ("minister", "ministry".to_string()),
        ("aigul", format!("district:{district}")),
    ];
    (users, district)
}

/// What a client `script` (run by `program`, with `env`) printed as JSON,
/// logging in to `addr` as `user` with `password`.
pub(crate) async fn client_json(
    program: PathBuf,
    script: &str,
    env: &[(&str, PathBuf)],
    addr: SocketAddr,
    user: &str,
    password: &str,
) -> serde_json::Value {
    assert!(
        !program.is_absolute() || program.exists(),
        "{} is missing: run tests/clients/install.sh (the README's test command does)",
        program.display()
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = std::process::Command::new(&program);
    command.arg(root.join(script)).args([
        addr.ip().to_string(),
        addr.port().to_string(),
        user.to_string(),
        password.to_string(),
    ]);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output().expect("run client"))
        .await
        .expect("client task");
    assert!(
        output.status.success(),
        "{script} as {user} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).expect("client JSON")
}

/// The Python of the clients' virtualenv.
pub(crate) fn clients_python() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/clients-venv/bin/python")
}
