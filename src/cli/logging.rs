//! Where the log goes (`--log-file`, `--log-format`): the server's access
//! and query events ([`sapa::server::events`]) and its other notices, and
//! the commits of `sapa ingest` and `sapa snapshot register`, one JSON
//! object or one text line each.
//!
//! A log file that cannot be written (a full disk) never stops the
//! server: the failure is reported once on stderr and lines are dropped
//! until writing works again.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tracing::Level;

use sapa::server::events::TARGET;

use super::CliError;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// Where the log goes: the flags `serve`, `cluster scheduler|executor`,
/// `ingest` and `snapshot register` share (their environment variables let an operator set them once).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LogArgs {
    /// Append the log to this file (serve, cluster: instead of stderr; ingest and
    /// snapshot register: their commits, else not logged).
    #[arg(long, value_name = "PATH", env = "SAPA_LOG_FILE")]
    pub(crate) log_file: Option<PathBuf>,
    /// One JSON object per line, or text.
    #[arg(long, value_enum, default_value = "json", env = "SAPA_LOG_FORMAT")]
    pub(crate) log_format: LogFormat,
}

/// Who ran a command: the operating-system user.
fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| {
            // SAFETY: `getuid` cannot fail and touches no memory.
            let uid = unsafe { libc::getuid() };
            format!("uid {uid}")
        })
}

/// A commit of new data: `sapa ingest` added `rows` mark versions to
/// `data` as `version` (read from `input`).
pub(crate) fn ingest_committed(data: &str, input: &Path, version: u64, rows: u64, took_s: f64) {
    tracing::info!(
        target: TARGET,
        event = "commit",
        command = "ingest",
        os_user = os_user(),
        data,
        input = %input.display(),
        version,
        rows,
        duration_s = took_s,
    );
}

/// An ingest that committed nothing: its error, or that nothing was new.
pub(crate) fn ingest_not_committed(data: &str, input: &Path, reason: &str) {
    tracing::warn!(
        target: TARGET,
        event = "commit_refused",
        command = "ingest",
        os_user = os_user(),
        data,
        input = %input.display(),
        reason,
    );
}

/// A snapshot registered: `name` freezes `version` of `data`.
pub(crate) fn snapshot_registered(data: &str, name: &str, version: u64, rows: u64) {
    tracing::info!(
        target: TARGET,
        event = "commit",
        command = "snapshot register",
        os_user = os_user(),
        data,
        snapshot = name,
        version,
        rows,
    );
}

/// A log file that drops lines rather than fail.
#[derive(Debug)]
struct LogFile {
    path: PathBuf,
    file: Mutex<File>,
    failing: AtomicBool,
}

impl Write for &LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        match file.write_all(buf) {
            Ok(()) => {
                if self.failing.swap(false, Ordering::SeqCst) {
                    eprintln!("log file {}: writing again", self.path.display());
                }
            }
            Err(err) => {
                if !self.failing.swap(true, Ordering::SeqCst) {
                    eprintln!(
                        "log file {}: {err}; log lines are dropped until it can be written again",
                        self.path.display()
                    );
                }
            }
        }
        // Whatever happened, the caller goes on.
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends the process's log to `file` (appended; else stderr) in `format`.
pub(crate) fn init(format: LogFormat, file: Option<&Path>) -> Result<(), CliError> {
    let builder = tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_ansi(false);
    let installed = match file {
        Some(path) => {
            let opened = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|err| format!("log file {}: {err}", path.display()))?;
            let writer = Arc::new(LogFile {
                path: path.to_path_buf(),
                file: Mutex::new(opened),
                failing: AtomicBool::new(false),
            });
            match format {
                LogFormat::Json => builder
                    .json()
                    .flatten_event(true)
                    .with_writer(writer)
                    .try_init(),
                LogFormat::Text => builder.with_writer(writer).try_init(),
            }
        }
        None => match format {
            LogFormat::Json => builder
                .json()
                .flatten_event(true)
                .with_writer(std::io::stderr)
                .try_init(),
            LogFormat::Text => builder.with_writer(std::io::stderr).try_init(),
        },
    };
    // Already set (a second `run` in one process): keep the first.
    let _ = installed;
    Ok(())
}
