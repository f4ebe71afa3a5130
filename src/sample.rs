//! The built-in sample dataset `sapa serve` and `sapa query` fall back to
//! when no data is given (SPEC §12): the generator's tiny scale, made once
//! into a cache directory on first use, so a fresh checkout works with one
//! command.

use std::path::{Path, PathBuf};

use sapa_datasets::csv_sink::CsvDirSink;
use sapa_datasets::generate::{GenerateOptions, Scale, generate};

use crate::ingest::{IngestOptions, ingest_dir};
use crate::storage::DataLocation;

/// The academic years of the sample (by start year).
pub const SAMPLE_YEARS: std::ops::RangeInclusive<i32> = 2023..=2024;
/// The generator seed of the sample.
pub const SAMPLE_SEED: u64 = 42;

/// What can go wrong making the sample.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The cache directory could not be written.
    #[error("cannot prepare the sample dataset in {dir}: {source}")]
    Io {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Generating the interchange files failed.
    #[error("generating the sample dataset failed: {0}")]
    Generate(String),
    /// Ingesting them failed.
    #[error("ingesting the sample dataset failed: {0}")]
    Ingest(#[from] crate::ingest::IngestError),
    /// The directory is not a usable location.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

/// Where the sample lives: `$SAPA_CACHE_DIR`, else `$XDG_CACHE_HOME/sapa`,
/// else `~/.cache/sapa`, else the temporary directory; one subdirectory per
/// Sapa version so an upgrade never serves a stale layout.
pub fn sample_dir() -> PathBuf {
    let base = std::env::var_os("SAPA_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("sapa")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sapa")))
        .unwrap_or_else(|| std::env::temp_dir().join("sapa-cache"));
    base.join(format!(
        "sample-{}-seed{SAMPLE_SEED}",
        env!("CARGO_PKG_VERSION")
    ))
}

/// The sample dataset, made first if it is not there yet. Returns its
/// directory and whether it was just made.
pub async fn ensure_sample() -> Result<(PathBuf, bool), SampleError> {
    let dir = sample_dir();
    if dir.join("_sapa").join("CURRENT").is_file() {
        return Ok((dir, false));
    }
    let io = |dir: &Path| {
        let dir = dir.to_path_buf();
        move |source| SampleError::Io { dir, source }
    };
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    // Made beside its final place and renamed into it, so a second server
    // starting at the same time never sees half a dataset.
    let building = parent.join(format!(
        ".building-{}-{}",
        std::process::id(),
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("sample")
    ));
    let _ = std::fs::remove_dir_all(&building);
    let staging = building.join("_sapa_generate_csv");
    let options = GenerateOptions {
        scale: Scale::Tiny,
        years: SAMPLE_YEARS,
        seed: SAMPLE_SEED,
    };
    let mut sink =
        CsvDirSink::create(&staging).map_err(|e| SampleError::Generate(e.to_string()))?;
    generate(&options, &mut sink, &mut |_| {}).map_err(|e| SampleError::Generate(e.to_string()))?;
    sink.finish()
        .map_err(|e| SampleError::Generate(e.to_string()))?;
    let location = DataLocation::local(&building)?;
    ingest_dir(&staging, &location, &IngestOptions::default()).await?;
    std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    match std::fs::rename(&building, &dir) {
        Ok(()) => Ok((dir, true)),
        // Another process finished first: use its copy.
        Err(_) if dir.join("_sapa").join("CURRENT").is_file() => {
            let _ = std::fs::remove_dir_all(&building);
            Ok((dir, false))
        }
        Err(source) => Err(SampleError::Io { dir, source }),
    }
}
