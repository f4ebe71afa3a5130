//! `sapa bench national`: the national benchmark, Sapa over the wire beside
//! DuckDB on the same Parquet files.
//!
//! The benchmark drives real clients (psycopg) and DuckDB, which live in
//! Python; the scripts are compiled into the binary so that the command works
//! from any directory, and run with this very `sapa` (`SAPA_BIN`).

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, Subcommand};

use super::CliError;

/// The benchmark's driver, its virtualenv and its DuckDB reference queries.
const SCRIPTS: [(&str, &str); 3] = [
    ("national.py", include_str!("../../benches/national.py")),
    ("bench_venv.py", include_str!("../../benches/bench_venv.py")),
    (
        "national_duckdb.py",
        include_str!("../../benches/national_duckdb.py"),
    ),
];

/// Arguments of `sapa bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Every national workload (W1–W10) over the wire beside DuckDB on the same
    /// files; `sapa bench national --help` lists its options (--scale, --only,
    /// --runs, --data, --out).
    #[command(disable_help_flag = true)]
    National {
        /// Passed to the benchmark as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

pub(crate) fn run(args: BenchArgs) -> Result<(), CliError> {
    let BenchCommand::National { args } = args.command;
    let dir = scripts_dir()?;
    for (name, text) in SCRIPTS {
        let path = dir.join(name);
        // Rewritten only when changed, so a running benchmark's files stay.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    let sapa = std::env::current_exe()?;
    let status = Command::new(python())
        .arg(dir.join("national.py"))
        .args(&args)
        .env("SAPA_BIN", &sapa)
        .status()
        .map_err(|e| format!("cannot run python3 (needed for the benchmark's clients): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the benchmark failed ({status})").into())
    }
}

/// Where the scripts are written: `$XDG_CACHE_HOME/sapa/bench` (or
/// `~/.cache/sapa/bench`).
fn scripts_dir() -> Result<PathBuf, CliError> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .ok_or("neither XDG_CACHE_HOME nor HOME is set: nowhere to put the benchmark")?;
    let dir = cache.join("sapa").join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The Python to run the driver with (it makes its own virtualenv).
fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}
