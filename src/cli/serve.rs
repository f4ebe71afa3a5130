//! `sapa serve`: the dataset over the PostgreSQL protocol (SPEC §12).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use sapa::engine::Engine;
use sapa::server::events::LogStatement;
use sapa::server::{DEFAULT_LISTEN, Server, ServerOptions, TlsFiles, Users};
use sapa::storage::DataLocation;

use super::CliError;
use super::logging::LogArgs;

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
    /// Memory one query may use before it spills, or ends with SQLSTATE 53200 (e.g. 2G, 512M).
    #[arg(long, default_value = "2G", value_parser = parse_size)]
    query_memory: usize,
    /// Memory all queries together may use (e.g. 8G).
    #[arg(long, default_value = "8G", value_parser = parse_size)]
    memory: usize,
    /// The statement_timeout every session starts with (e.g. 30s, 500ms, 5min; 0: none).
    #[arg(long, default_value = "0", value_parser = parse_duration)]
    statement_timeout: std::time::Duration,
    #[command(flatten)]
    log: LogArgs,
    /// How much of each statement is logged: none, its kind, or all its text.
    #[arg(long, default_value = "all", value_parser = |s: &str| s.parse::<LogStatement>())]
    log_statement: LogStatement,
    /// Log statements that take at least this long (e.g. 500ms, 2s; 0:
    /// every statement) once more, with their plan and its metrics.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    log_slow: Option<std::time::Duration>,
    #[cfg(feature = "cluster")]
    #[command(flatten)]
    cluster: super::cluster::ClusterTarget,
}

/// A number and the unit after it: `512M` → (`512`, `M`).
fn number_and_unit(text: &str) -> (&str, &str) {
    let t = text.trim();
    let (digits, unit) = t
        .find(|c: char| !c.is_ascii_digit())
        .map_or((t, ""), |i| t.split_at(i));
    (digits, unit.trim())
}

/// `2G`, `512M`, `64K` or plain bytes.
fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, unit) = number_and_unit(text);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 2G, 512M)"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("{text:?}: unknown unit (use K, M, G or T)")),
    };
    n.checked_mul(1usize << shift)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| format!("{text:?} is not a usable size"))
}

/// `500ms`, `30s`, `5min`, `1h` or plain milliseconds, as PostgreSQL's
/// `statement_timeout`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = number_and_unit(text);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 30s, 500ms)"))?;
    let ms = match unit {
        "" | "ms" => 1,
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("{text:?}: unknown unit (use ms, s, min or h)")),
    };
    Ok(std::time::Duration::from_millis(n.saturating_mul(ms)))
}

pub(crate) async fn run(args: ServeArgs) -> Result<(), CliError> {
    super::logging::init(args.log.log_format, args.log.log_file.as_deref())?;
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
    #[cfg(feature = "cluster")]
    let engine = {
        let options = args.cluster.apply(engine.options().clone())?;
        engine.with_options(options)
    };
    let version = engine.manifest().version;
    let user_count = users.as_ref().map(|u| u.len());
    let encrypted = tls.is_some();
    let options = ServerOptions {
        listen: args.listen,
        max_connections: args.max_connections,
        query_memory: args.query_memory,
        memory: args.memory,
        statement_timeout: (!args.statement_timeout.is_zero()).then_some(args.statement_timeout),
        users,
        tls,
        require_tls: args.require_tls,
        log_statement: args.log_statement,
        log_slow: args.log_slow,
    };
    let server = Server::bind(engine, options).await?;
    let addr = server.local_addr();
    tracing::info!(
        target: sapa::server::events::TARGET,
        event = "start",
        version = env!("CARGO_PKG_VERSION"),
        data = %data,
        dataset_version = version,
        listen = %addr,
        users_file = args.users.as_ref().map(|p| p.display().to_string()),
    );
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_parse_as_documented() {
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("0").is_err());
        assert!(parse_size("2X").unwrap_err().contains("unknown unit"));
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_duration("500ms").unwrap().as_millis(), 500);
        assert_eq!(parse_duration("30s").unwrap().as_secs(), 30);
        assert_eq!(parse_duration("5min").unwrap().as_secs(), 300);
        assert_eq!(parse_duration("250").unwrap().as_millis(), 250);
        assert!(parse_duration("0").unwrap().is_zero());
        assert!(parse_duration("5 parsecs").is_err());
    }
}
