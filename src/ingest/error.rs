//! Errors of an ingest: located input errors, collected up to a limit, and
//! the failures that stop an ingest.

use std::fmt;
use std::path::PathBuf;

use crate::engine::EngineError;
use crate::storage::StorageError;

/// One problem in the input, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedError {
    /// The input file (`marks.csv`).
    pub file: String,
    /// The line (CSV) or row (XLSX), from 1 = the header; `None` for
    /// problems of the whole file.
    pub line: Option<u64>,
    /// The column, when one is at fault.
    pub column: Option<String>,
    /// The offending value, as given.
    pub value: Option<String>,
    /// What is wrong, or what was expected.
    pub message: String,
}

impl LocatedError {
    /// A problem of a whole file.
    pub fn file(file: &str, message: impl Into<String>) -> LocatedError {
        LocatedError {
            file: file.to_string(),
            line: None,
            column: None,
            value: None,
            message: message.into(),
        }
    }

    /// A problem of a line.
    pub fn line(file: &str, line: u64, message: impl Into<String>) -> LocatedError {
        LocatedError {
            line: Some(line),
            ..LocatedError::file(file, message)
        }
    }

    /// A problem of one value.
    pub fn value(
        file: &str,
        line: u64,
        column: &str,
        value: &str,
        message: impl Into<String>,
    ) -> LocatedError {
        LocatedError {
            line: Some(line),
            column: Some(column.to_string()),
            value: Some(value.to_string()),
            ..LocatedError::file(file, message)
        }
    }
}

impl fmt::Display for LocatedError {
    /// `marks.csv line 7, column mark, value "6": expected …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value {value:?}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The located errors of an ingest: the first `limit` kept, all counted.
#[derive(Debug, Clone)]
pub struct ErrorLog {
    limit: usize,
    errors: Vec<LocatedError>,
    total: u64,
}

impl ErrorLog {
    /// A log keeping at most `limit` errors (at least one).
    pub fn new(limit: usize) -> ErrorLog {
        ErrorLog {
            limit: limit.max(1),
            errors: Vec::new(),
            total: 0,
        }
    }

    /// Records an error.
    pub fn push(&mut self, error: LocatedError) {
        self.total += 1;
        if self.errors.len() < self.limit {
            self.errors.push(error);
        }
    }

    /// Whether no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many errors were recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The failure these errors make, or `Ok` if there are none.
    pub fn check(&self) -> Result<(), IngestError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(IngestError::Invalid {
                errors: self.errors.clone(),
                total: self.total,
            })
        }
    }
}

/// Why an ingest did not commit. In every case the previous version of the
/// dataset is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input is invalid; every error found (up to the limit) is listed.
    #[error("{}", invalid_message(errors, *total))]
    Invalid {
        /// The errors kept, in input order.
        errors: Vec<LocatedError>,
        /// How many were found in all.
        total: u64,
    },
    /// An input file or directory cannot be read.
    #[error("reading {path}: {message}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The dataset cannot be read or written.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The query engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A DataFusion or Arrow operation failed.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// The producer of batches (the generator) failed or broke the order.
    #[error("batch producer: {0}")]
    Producer(String),
    /// Stored data that does not have the shape this build writes.
    #[error("stored data is inconsistent: {0}")]
    Inconsistent(String),
}

impl From<datafusion::arrow::error::ArrowError> for IngestError {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        IngestError::DataFusion(e.into())
    }
}

impl IngestError {
    /// The located errors, if the input was rejected.
    pub fn located(&self) -> &[LocatedError] {
        match self {
            IngestError::Invalid { errors, .. } => errors,
            _ => &[],
        }
    }
}

fn invalid_message(errors: &[LocatedError], total: u64) -> String {
    let mut out = format!(
        "input rejected, nothing was changed: {total} error{}",
        if total == 1 { "" } else { "s" }
    );
    for e in errors {
        out.push_str("\n  ");
        out.push_str(&e.to_string());
    }
    let shown = errors.len() as u64;
    if total > shown {
        out.push_str(&format!("\n  …and {} more", total - shown));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn display_names_everything() {
        let e = LocatedError::value("marks.csv", 7, "mark", "6", "expected a mark");
        assert_eq!(
            e.to_string(),
            r#"marks.csv line 7, column mark, value "6": expected a mark"#
        );
        assert_eq!(
            LocatedError::file("regions.csv", "missing").to_string(),
            "regions.csv: missing"
        );
    }

    #[test]
    fn log_keeps_limit_and_counts_all() {
        let mut log = ErrorLog::new(2);
        for i in 0..5 {
            log.push(LocatedError::line("a.csv", i, "bad"));
        }
        let err = log.check().unwrap_err();
        assert_eq!(err.located().len(), 2);
        let text = err.to_string();
        assert!(text.contains("5 errors"), "{text}");
        assert!(text.ends_with("…and 3 more"), "{text}");
        assert!(ErrorLog::new(10).check().is_ok());
    }
}
