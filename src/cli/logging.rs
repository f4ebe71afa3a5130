//! Where `sapa serve`'s log goes (`--log-file`, `--log-format`): the
//! server's access and query events ([`sapa::server::events`]) and its
//! other notices, one JSON object or one text line each.
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

use super::CliError;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
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
