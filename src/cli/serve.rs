//! `sapa serve`: the dataset over the PostgreSQL protocol (SPEC §12).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use sapa::engine::Engine;
use sapa::server::{DEFAULT_LISTEN, Server, ServerOptions, TlsFiles, Users};
use sapa::storage::DataLocation;

use super::CliError;

/// Arguments of `sapa serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The dataset to serve (default: ./data, else the built-in sample).
    #[arg(long, env = "SAPA_DATA")]
    data: Option<String>,
    /// Where to listen.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: String,
    /// The most concurrent connections (0: no limit).
    #[arg(long, default_value_t = 100)]
    max_connections: usize,
    /// The users file (TOML: [[user]] name, scope, password verifier from
    /// `sapa user hash`). Without it: loopback clients only, as user `sapa`.
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// The server's TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The server's TLS private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Refuse clients that do not use TLS (needs --tls-cert and --tls-key).
    #[arg(long)]
    require_tls: bool,
}

pub(crate) async fn run(args: ServeArgs) -> Result<(), CliError> {
    // The users file and the TLS files are checked before the dataset is
    // opened: a mistake in them is reported at once, not after a long load.
    let users = match &args.users {
        Some(path) => Some(Arc::new(Users::load(path)?)),
        None => None,
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => {
            sapa::server::load_acceptor(&cert, &key)?;
            Some(TlsFiles { cert, key })
        }
        _ => None,
    };
    if args.require_tls && tls.is_none() {
        return Err(sapa::server::ServerError::RequireTlsWithoutCert.into());
    }
    let data = super::resolve_data(args.data).await?;
    let engine = Engine::open(&DataLocation::parse(&data)?).await?;
    let version = engine.manifest().version;
    let user_count = users.as_ref().map(|u| u.len());
    let encrypted = tls.is_some();
    let options = ServerOptions {
        listen: args.listen,
        max_connections: args.max_connections,
        users,
        tls,
        require_tls: args.require_tls,
    };
    let server = Server::bind(engine, options).await?;
    let addr = server.local_addr();
    println!("Sapa is serving {data} (dataset version {version}) on {addr}");
    if encrypted {
        println!(
            "TLS is {}",
            if args.require_tls {
                "required"
            } else {
                "offered"
            }
        );
    }
    match user_count {
        None => println!(
            "connect with: psql -h {} -p {} -U sapa sapa",
            addr.ip(),
            addr.port()
        ),
        Some(n) => println!(
            "connect with: psql -h {} -p {} -U USER sapa (USER: one of the {n} users of the users file)",
            addr.ip(),
            addr.port()
        ),
    }
    println!("(press Ctrl-C to stop)");
    tokio::select! {
        result = server.run() => result?,
        _ = tokio::signal::ctrl_c() => println!("stopping"),
    }
    Ok(())
}
