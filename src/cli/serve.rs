//! `sapa serve`: the dataset over the PostgreSQL protocol (SPEC §12).

use clap::Args;
use sapa::engine::Engine;
use sapa::server::{DEFAULT_LISTEN, Server, ServerOptions};
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
}

pub(crate) async fn run(args: ServeArgs) -> Result<(), CliError> {
    let data = super::resolve_data(args.data).await?;
    let engine = Engine::open(&DataLocation::parse(&data)?).await?;
    let version = engine.manifest().version;
    let options = ServerOptions {
        listen: args.listen,
        max_connections: args.max_connections,
    };
    let server = Server::bind(engine, options).await?;
    let addr = server.local_addr();
    println!("Sapa is serving {data} (dataset version {version}) on {addr}");
    println!(
        "connect with: psql -h {} -p {} -U sapa sapa",
        addr.ip(),
        addr.port()
    );
    println!("(press Ctrl-C to stop)");
    tokio::select! {
        result = server.run() => result?,
        _ = tokio::signal::ctrl_c() => println!("stopping"),
    }
    Ok(())
}
