//! Sapa's versioned Parquet store.
//!
//! Layout under a dataset root (any object store; a local directory by
//! default):
//!
//! ```text
//! _sapa/CURRENT                    {"format":1,"version":7,"manifest":"_sapa/manifests/v000007.json"}
//! _sapa/manifests/v000007.json     version, parent, created_at, ingest summary, every table's files
//! _sapa/staging/<id>/...           an ingest's scratch files (never read by queries)
//! _sapa/snapshots/snapshot_2024_10.json   a registered snapshot: a name for one committed manifest
//! tables/<table>/v000007/part-00000.parquet                                  reference tables
//! tables/<table>/v000007/academic_year=2024/period=Q1/part-00000.parquet     marks, marks_history, student_status
//! ```
//!
//! A version is committed by switching `CURRENT` (one `put`); files are
//! immutable and a version may reference files of older versions. See
//! [`manifest`] for the protocol and [`tables`] for what is stored.

pub mod cleanup;
pub mod location;
pub mod lock;
pub mod manifest;
pub mod remote;
pub mod snapshot;
pub mod stores;
pub mod tables;
pub mod writer;

use std::path::PathBuf;

pub use location::DataLocation;
pub use lock::WriterLock;
pub use manifest::{CommitSummary, DataFile, Manifest};
pub use snapshot::{Snapshot, SnapshotError};
pub use tables::StoredTable;

/// What can go wrong reading or writing a dataset.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Another ingest or snapshot registration is writing the dataset.
    #[error(
        "the dataset at {dataset} is being written by another command: {holder}; \
         run this one when it has finished"
    )]
    Locked {
        /// The dataset.
        dataset: String,
        /// Who holds the writer lock, as it wrote itself down.
        holder: String,
    },
    /// A remote store refused or could not be reached.
    #[error("{}", problem.describe(dataset, bucket, endpoint))]
    Remote {
        /// The dataset's URL.
        dataset: String,
        /// Its bucket.
        bucket: String,
        /// The endpoint requests went to.
        endpoint: String,
        /// What went wrong.
        problem: remote::RemoteProblem,
        /// The store's own message, for logs.
        detail: String,
    },
    /// This writer's object-store lock expired before its commit.
    #[error(
        "the writer lock of {dataset} could not be renewed in time, so another writer may \
         hold it now; nothing of this command was committed, run it again"
    )]
    LockLost {
        /// The dataset.
        dataset: String,
    },
    /// Another writer committed a version while this one was writing.
    #[error(
        "another writer committed version {theirs} of {dataset} while this command was \
         writing version {ours}; nothing of this command is visible, run it again"
    )]
    Conflict {
        /// The dataset.
        dataset: String,
        /// The version this command meant to commit.
        ours: u64,
        /// What `CURRENT` names now (0: nothing could be read).
        theirs: u64,
    },
    /// A local dataset directory cannot be created or resolved.
    #[error("data directory {path}: {source}")]
    LocalDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A location uses a scheme this build has no object store for.
    #[error(
        "data location {location}: the {scheme}:// object store is not built into this binary \
         (use a local directory or a file:// URL)"
    )]
    UnsupportedScheme {
        /// The location as given.
        location: String,
        /// Its scheme.
        scheme: String,
    },
    /// A store URL that is not `scheme://authority`.
    #[error("object store URL {url}: {message}")]
    Url {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        message: String,
    },
    /// A path that is not a valid object path.
    #[error("object path {path}: {source}")]
    Path {
        /// The path as given.
        path: String,
        /// Why it was rejected.
        source: object_store::path::Error,
    },
    /// The object store failed.
    #[error("{path}: {source}")]
    Store {
        /// The object, relative to the root.
        path: String,
        /// The store's error.
        source: object_store::Error,
    },
    /// Writing or reading Parquet failed.
    #[error("{path}: {source}")]
    Parquet {
        /// The file, relative to the root.
        path: String,
        /// The Parquet error.
        source: datafusion::parquet::errors::ParquetError,
    },
    /// `fsync` of a written file failed.
    #[error("syncing {path}: {source}")]
    Sync {
        /// The local file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A manifest or `CURRENT` that cannot be read.
    #[error("dataset metadata {path} is unreadable: {message}")]
    Corrupt {
        /// The object, relative to the root.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// Batches that do not fit a table's schema.
    #[error("batch for {table} does not fit its schema: {message}")]
    Schema {
        /// The table (or directory) written.
        table: String,
        /// The Arrow error.
        message: String,
    },
}

/// As PostgreSQL classes such failures: another writer's lock or commit
/// is a conflict to retry (55006, 40001); a malformed location is a bad
/// parameter (22023); the store, the files and their metadata failing is
/// an I/O error of the system (58030), not of the query.
impl sapa_sqlstate::SqlState for StorageError {
    fn sqlstate(&self) -> &'static str {
        use sapa_sqlstate::code;
        match self {
            StorageError::Locked { .. } => code::OBJECT_IN_USE,
            StorageError::LockLost { .. } | StorageError::Conflict { .. } => {
                code::SERIALIZATION_FAILURE
            }
            StorageError::UnsupportedScheme { .. }
            | StorageError::Url { .. }
            | StorageError::Path { .. } => code::INVALID_PARAMETER_VALUE,
            StorageError::Remote { .. }
            | StorageError::LocalDir { .. }
            | StorageError::Store { .. }
            | StorageError::Parquet { .. }
            | StorageError::Sync { .. }
            | StorageError::Corrupt { .. }
            | StorageError::Schema { .. } => code::IO_ERROR,
        }
    }
}

impl StorageError {
    /// Wraps an object-store error about `path`.
    pub fn store(path: &str) -> impl FnOnce(object_store::Error) -> StorageError + '_ {
        move |source| StorageError::Store {
            path: path.to_string(),
            source,
        }
    }

    /// Wraps a Parquet error about `path`.
    pub fn parquet(
        path: &str,
    ) -> impl FnOnce(datafusion::parquet::errors::ParquetError) -> StorageError + '_ {
        move |source| StorageError::Parquet {
            path: path.to_string(),
            source,
        }
    }
}
