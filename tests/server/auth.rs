//! Logging in to `sapa serve` with a users file (SCRAM-SHA-256) and TLS,
//! over a real socket with real clients: tokio-postgres (an independent
//! SCRAM client), psql, and the `sapa` binary itself.

// Test helpers outside #[test] functions fail the test by panicking.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use crate::support::{log_in as login, sqlstate, start_with};
use sapa::engine::Engine;
use sapa::server::{Server, ServerOptions, TlsFiles, Users, Verifier};
use sapa::storage::DataLocation;

/// Writes a users file of `(name, scope, password)` with verifiers made by
/// our own hashing code.
fn users_file(dir: &Path, users: &[(&str, &str, &str)]) -> PathBuf {
    let mut text = String::new();
    for (name, scope, password) in users {
        let verifier = Verifier::generate(password, 4096).unwrap();
        text += &format!(
            "[[user]]\nname = \"{name}\"\nscope = \"{scope}\"\npassword = \"{verifier}\"\n\n"
        );
    }
    let path = dir.join("users.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn options(users: Option<&Path>, tls: Option<TlsFiles>, require_tls: bool) -> ServerOptions {
    ServerOptions {
        listen: "127.0.0.1:0".to_string(),
        users: users.map(|p| Arc::new(Users::load(p).unwrap())),
        tls,
        require_tls,
        ..ServerOptions::default()
    }
}

async fn current_user(client: &tokio_postgres::Client) -> String {
    client
        .query_one("SELECT current_user", &[])
        .await
        .unwrap()
        .get(0)
}

/// The SQLSTATE and message of a refused login.
fn refusal(result: Result<tokio_postgres::Client, tokio_postgres::Error>) -> (String, String) {
    match result {
        Ok(_) => panic!("the login was accepted"),
        Err(err) => {
            let message = err
                .as_db_error()
                .map(|db| db.message().to_string())
                .unwrap_or_else(|| err.to_string());
            (sqlstate(&err), message)
        }
    }
}

/// Runs the `sapa` binary with `args`, `stdin` on its standard input.
fn sapa(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sapa"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs psql against `addr` with a libpq connection string's extra
/// `options`, `PGPASSWORD` set to `password`; returns (success, stdout, stderr).
async fn psql(
    addr: SocketAddr,
    user: &str,
    password: &str,
    options: &str,
    command: &str,
) -> (bool, String, String) {
    let conninfo = format!(
        "host={} port={} user={user} dbname=sapa connect_timeout=10 {options}",
        addr.ip(),
        addr.port()
    );
    let (password, command) = (password.to_string(), command.to_string());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("psql")
            .args([
                &conninfo,
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                &command,
            ])
            .env("PGPASSWORD", password)
            .env_remove("PGSSLMODE")
            .output()
    })
    .await
    .unwrap()
    .expect("psql must be installed (bash tests/clients/install.sh)");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A self-signed certificate and its key, made with the openssl CLI.
fn self_signed(dir: &Path) -> TlsFiles {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl must be installed (bash tests/clients/install.sh)");
    assert!(status.success(), "openssl could not make a certificate");
    TlsFiles { cert, key }
}

#[tokio::test]
async fn the_right_password_logs_in_and_wrong_ones_or_unknown_users_get_28p01() {
    let dir = tempfile::tempdir().unwrap();
    let file = users_file(
        dir.path(),
        &[
            ("aigerim", "ministry", "correct horse"),
            ("minister", "ministry", "p@ss,w=rd"),
        ],
    );
    let addr = start_with(options(Some(&file), None, false)).await;

    let client = login(addr, "aigerim", "correct horse").await.unwrap();
    assert_eq!(current_user(&client).await, "aigerim");
    // Commas and '=' in a password are only data to SCRAM.
    let client = login(addr, "minister", "p@ss,w=rd").await.unwrap();
    assert_eq!(current_user(&client).await, "minister");

    let (code, message) = refusal(login(addr, "aigerim", "correct hors").await);
    assert_eq!(code, "28P01");
    assert_eq!(
        message,
        "password authentication failed for user \"aigerim\""
    );
    // Another user's password is a wrong password too.
    let (code, _) = refusal(login(addr, "minister", "correct horse").await);
    assert_eq!(code, "28P01");
    // An unknown user reads exactly like a wrong password.
    let (code, message) = refusal(login(addr, "ghost", "correct horse").await);
    assert_eq!(code, "28P01");
    assert_eq!(message, "password authentication failed for user \"ghost\"");
    // The default user of a server without a users file is not a user here.
    let (code, _) = refusal(login(addr, "sapa", "").await);
    assert_eq!(code, "28P01");
}

#[tokio::test]
async fn concurrent_logins_each_get_their_own_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..10).map(|i| format!("user{i}")).collect();
    let passwords: Vec<String> = (0..10).map(|i| format!("secret-{i}")).collect();
    let entries: Vec<(&str, &str, &str)> = names
        .iter()
        .zip(&passwords)
        .map(|(n, p)| (n.as_str(), "researcher", p.as_str()))
        .collect();
    let file = users_file(dir.path(), &entries);
    let addr = start_with(options(Some(&file), None, false)).await;

    // 20 logins at once: each user twice, once right and once wrong,
    // interleaved so right and wrong exchanges overlap.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let user = format!("user{}", i % 10);
            let right = (i / 10 + i % 2) % 2 == 0;
            let password = if right {
                format!("secret-{}", i % 10)
            } else {
                format!("secret-{}", (i + 1) % 10)
            };
            tokio::spawn(async move {
                let outcome = match login(addr, &user, &password).await {
                    Ok(client) => Ok(current_user(&client).await),
                    Err(err) => Err(sqlstate(&err)),
                };
                (user, right, outcome)
            })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        let (user, right, outcome) = task.await.unwrap();
        if right {
            assert_eq!(outcome, Ok(user.clone()), "{user} with the right password");
            accepted += 1;
        } else {
            assert_eq!(outcome, Err("28P01".to_string()), "{user} with a wrong one");
        }
    }
    assert_eq!(accepted, 10);
}

#[tokio::test]
async fn psql_logs_in_with_a_verifier_from_sapa_user_hash() {
    let hashed = sapa(&["user", "hash"], "Qazaqstan 2024!\n");
    let stderr = String::from_utf8_lossy(&hashed.stderr);
    assert!(hashed.status.success(), "sapa user hash failed: {stderr}");
    let verifier = String::from_utf8(hashed.stdout).unwrap();
    let verifier = verifier.trim_end();
    assert!(verifier.starts_with("SCRAM-SHA-256$4096:"), "{verifier}");
    assert!(verifier.parse::<Verifier>().is_ok());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.toml");
    std::fs::write(
        &file,
        format!("[[user]]\nname = \"erlan\"\nscope = \"ministry\"\npassword = \"{verifier}\"\n"),
    )
    .unwrap();
    let addr = start_with(options(Some(&file), None, false)).await;

    let (ok, out, err) = psql(addr, "erlan", "Qazaqstan 2024!", "", "SELECT current_user").await;
    assert!(ok, "psql failed: {err}");
    assert_eq!(out.trim(), "erlan");
    let client = login(addr, "erlan", "Qazaqstan 2024!").await.unwrap();
    assert_eq!(current_user(&client).await, "erlan");

    let (ok, _, err) = psql(addr, "erlan", "qazaqstan 2024!", "", "SELECT 1").await;
    assert!(!ok);
    assert!(
        err.contains("password authentication failed for user \"erlan\""),
        "{err}"
    );
}

#[test]
fn sapa_user_hash_refuses_empty_passwords_and_few_iterations() {
    let empty = sapa(&["user", "hash"], "\n");
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("empty password"));
    let few = sapa(&["user", "hash", "--iterations", "1000"], "pw\n");
    assert!(!few.status.success());
    assert!(String::from_utf8_lossy(&few.stderr).contains("4096"));
    let many = sapa(&["user", "hash", "--iterations", "5000"], "pw");
    assert!(many.status.success());
    assert!(String::from_utf8_lossy(&many.stdout).starts_with("SCRAM-SHA-256$5000:"));
}

#[tokio::test]
async fn psql_connects_over_tls_and_require_tls_refuses_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let tls = self_signed(dir.path());
    let file = users_file(dir.path(), &[("aigerim", "researcher", "s3cret")]);

    // Offered: a client asking for TLS gets it.
    let addr = start_with(options(Some(&file), Some(tls.clone()), false)).await;
    let (ok, out, err) = psql(addr, "aigerim", "s3cret", "sslmode=require", "\\conninfo").await;
    assert!(ok, "psql over TLS failed: {err}");
    assert!(out.contains("SSL connection"), "{out}");
    let (ok, out, err) = psql(addr, "aigerim", "s3cret", "sslmode=disable", "\\conninfo").await;
    assert!(ok, "plaintext psql failed: {err}");
    assert!(!out.contains("SSL connection"), "{out}");

    // Required: TLS logs in; plaintext is refused before any password.
    let addr = start_with(options(Some(&file), Some(tls), true)).await;
    let (ok, out, err) = psql(
        addr,
        "aigerim",
        "s3cret",
        "sslmode=require",
        "SELECT current_user",
    )
    .await;
    assert!(ok, "psql over TLS failed: {err}");
    assert_eq!(out.trim(), "aigerim");
    let (code, message) = refusal(login(addr, "aigerim", "s3cret").await);
    assert_eq!(code, "28000");
    assert!(message.contains("TLS is required"), "{message}");
    let (ok, _, err) = psql(addr, "aigerim", "s3cret", "sslmode=disable", "SELECT 1").await;
    assert!(!ok);
    assert!(err.contains("TLS is required"), "{err}");
}

#[tokio::test]
async fn require_tls_works_without_a_users_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let tls = self_signed(dir.path());
    let addr = start_with(options(None, Some(tls), true)).await;
    let (ok, out, err) = psql(addr, "sapa", "", "sslmode=require", "SELECT current_user").await;
    assert!(ok, "psql over TLS failed: {err}");
    assert_eq!(out.trim(), "sapa");
    let (code, _) = refusal(login(addr, "sapa", "").await);
    assert_eq!(code, "28000");
}

/// What `Server::bind` says about `options` (it must fail).
async fn bind_error(options: ServerOptions) -> String {
    let data = crate::support::dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).unwrap())
        .await
        .unwrap();
    match Server::bind(engine, options).await {
        Ok(_) => panic!("the server started"),
        Err(err) => err.to_string(),
    }
}

#[tokio::test]
async fn tls_files_that_do_not_load_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let good = self_signed(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let other = self_signed(&{
        let d = dir.path().join("other");
        std::fs::create_dir(&d).unwrap();
        d
    });
    for (cert, key, wanted) in [
        (&missing, &good.key, "missing.pem"),
        (&garbage, &good.key, "garbage.pem"),
        (&good.cert, &missing, "missing.pem"),
        (&good.cert, &good.cert, "cert.pem: no PEM private key"),
        // A key that is not the certificate's.
        (&good.cert, &other.key, "other/key.pem"),
    ] {
        let tls = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        };
        let err = bind_error(options(None, Some(tls), false)).await;
        assert!(err.contains(wanted), "wanted {wanted:?} in: {err}");
    }
    let err = bind_error(options(None, None, true)).await;
    assert!(err.contains("--require-tls"), "{err}");
}

#[test]
fn sapa_serve_refuses_bad_users_and_tls_files_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let good = Verifier::generate("pw", 4096).unwrap().to_string();
    let entry = |name: &str, scope: &str, password: &str| {
        format!("[[user]]\nname = \"{name}\"\nscope = \"{scope}\"\npassword = \"{password}\"\n")
    };
    let cases = [
        ("bad-toml", "[[user]\nname = \"a\"\n".to_string(), vec![]),
        (
            "bad-scope",
            entry("dana", "oblast:3", &good),
            vec!["user #1 (\"dana\")", "unknown scope \"oblast:3\""],
        ),
        (
            "bad-verifier",
            entry("dana", "ministry", "md5a3556571e93b0d20722ba62be61e8c2d"),
            vec!["user #1 (\"dana\")", "malformed SCRAM-SHA-256 verifier"],
        ),
        (
            "duplicate",
            entry("dana", "ministry", &good) + &entry("dana", "school:2", &good),
            vec!["user #2 (\"dana\")", "duplicate user"],
        ),
    ];
    for (name, text, wanted) in cases {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = sapa(
            &[
                "serve",
                "--data",
                "/nonexistent",
                "--listen",
                "127.0.0.1:0",
                "--users",
                file.to_str().unwrap(),
            ],
            "",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: the server started");
        assert!(stderr.contains(&format!("{name}.toml")), "{name}: {stderr}");
        for w in wanted {
            assert!(stderr.contains(w), "{name}: wanted {w:?} in: {stderr}");
        }
    }
    let missing = dir.path().join("missing.pem");
    let out = sapa(
        &[
            "serve",
            "--data",
            "/nonexistent",
            "--tls-cert",
            missing.to_str().unwrap(),
            "--tls-key",
            missing.to_str().unwrap(),
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pem"));
    let out = sapa(&["serve", "--data", "/nonexistent", "--require-tls"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--require-tls"));
}
