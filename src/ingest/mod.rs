//! Validated, atomic ingest of the SPEC §10 interchange format.
//!
//! [`ingest_dir`] reads a directory of CSV (or XLSX) files, checks every
//! value, key and reference, and either commits one new version of the
//! dataset or leaves the current one exactly as it was and returns every
//! problem found (file, line, column, value). A directory may hold only
//! some files (a weekly delta): its tables are merged into the stored ones
//! by key and its marks appended to the history; ingesting the same files
//! twice adds nothing.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sapa::ingest::{IngestOptions, ingest_dir};
//! use sapa::storage::DataLocation;
//!
//! let data = DataLocation::local("data")?;
//! let report = ingest_dir("input".as_ref(), &data, &IngestOptions::default()).await?;
//! println!("version {}: {} new mark versions", report.version, report.marks_new);
//! # Ok(()) }
//! ```

mod calendar;
pub mod error;
mod fields;
mod input;
mod input_table;
mod marks;
mod merge;
mod parser;
mod pipeline;
mod reference;
mod sink;
mod source;
mod units;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use error::{IngestError, LocatedError};
pub use sink::ingest_batches;
pub use units::UNIT_STUDENTS;

use crate::engine::EngineOptions;
use crate::storage::DataLocation;

/// Something an ingest reports while it runs, for a progress display.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Reading an input file: bytes and rows so far.
    Reading {
        /// The file's name.
        file: String,
        /// Bytes read so far.
        bytes_read: u64,
        /// The file's size.
        bytes_total: u64,
        /// Rows accepted so far.
        rows: u64,
    },
    /// An input file has been read.
    Read {
        /// The file's name.
        file: String,
        /// Rows accepted.
        rows: u64,
    },
    /// Merging the marks of one academic year × period into the history.
    Merging {
        /// Academic year.
        academic_year: i32,
        /// Period.
        period: String,
        /// Partitions done before this one.
        done: usize,
        /// Partitions to merge.
        total: usize,
    },
    /// Computing `student_status` for one academic year × period.
    Materialising {
        /// Academic year.
        academic_year: i32,
        /// Period.
        period: String,
        /// Partitions done before this one.
        done: usize,
        /// Partitions to compute.
        total: usize,
    },
    /// Syncing files and switching the current version.
    Committing {
        /// The version being committed.
        version: u64,
    },
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How an ingest runs.
#[derive(Clone)]
pub struct IngestOptions {
    /// How many located errors to keep (all are counted).
    pub error_limit: usize,
    /// Memory limit and spill directory of the merge and materialisation.
    pub engine: EngineOptions,
    /// Rows parsed per batch.
    pub batch_rows: usize,
    /// Students (per academic year) of a merge unit: a partition of marks
    /// is merged and sorted one run of districts of about this size at a
    /// time, which bounds the memory of the sort.
    pub unit_students: u64,
    /// Called with progress events.
    pub progress: Option<ProgressFn>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            error_limit: 100,
            engine: EngineOptions::default(),
            batch_rows: 64 * 1024,
            unit_students: units::UNIT_STUDENTS,
            progress: None,
        }
    }
}

impl fmt::Debug for IngestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IngestOptions")
            .field("error_limit", &self.error_limit)
            .field("engine", &self.engine)
            .field("batch_rows", &self.batch_rows)
            .field("unit_students", &self.unit_students)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Rows, files and bytes of one stored table in a version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableSize {
    /// Rows.
    pub rows: u64,
    /// Parquet files.
    pub files: u64,
    /// Bytes on storage.
    pub bytes: u64,
}

/// What an ingest did.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestReport {
    /// The current version after the ingest.
    pub version: u64,
    /// Whether a new version was committed (`false` when the input changed
    /// nothing).
    pub committed: bool,
    /// Rows read per input file.
    pub rows_read: BTreeMap<String, u64>,
    /// Mark versions added to the history.
    pub marks_new: u64,
    /// Input marks that repeated a version already known.
    pub marks_duplicate: u64,
    /// Marks whose look-alike spelling was normalised (SPEC §2).
    pub look_alikes: u64,
    /// Warnings (unknown columns, files not part of the format).
    pub warnings: Vec<String>,
    /// Every stored table of the current version.
    pub tables: BTreeMap<String, TableSize>,
    /// Wall-clock time of the ingest.
    pub elapsed: Duration,
}

/// Ingests the interchange files in `input` (`regions.csv` … `marks.csv`,
/// `modo.csv`, each also accepted as `.xlsx`) into the dataset at `data`.
///
/// The first ingest into an empty location needs every non-optional file;
/// later ones may bring any subset. On any error nothing is committed and
/// the files written so far are removed.
pub async fn ingest_dir(
    input: &Path,
    data: &DataLocation,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let mut tx = pipeline::Transaction::begin(data, opts, &input.display().to_string()).await?;
    let outcome = input::read_dir(&mut tx, input).await;
    let outcome = match outcome {
        Ok(staged) => tx.complete(staged).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(report) => Ok(report),
        Err(e) => {
            tx.rollback().await;
            Err(e)
        }
    }
}
