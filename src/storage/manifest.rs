//! Versions of a dataset: manifests and the `CURRENT` pointer.
//!
//! A version is one JSON manifest listing, for every stored table, the
//! Parquet files that make it up. Data files are immutable; a version
//! references unchanged files of its parents. `_sapa/CURRENT` names the
//! current manifest and is replaced by a single `put`, which is atomic on
//! the local file system (rename) and on object stores; a version is
//! committed exactly when `CURRENT` names it. A manifest is written only if
//! absent, and in an object store `CURRENT` is replaced only if it is still
//! the one naming the parent version (a conditional put), so two writers
//! that race past the writer lock cannot both commit.

use std::collections::BTreeMap;

use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use super::remote::{classify, explain};
use super::{DataLocation, StorageError, StoredTable};

/// The manifest format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The object naming the current manifest.
pub const CURRENT: &str = "_sapa/CURRENT";

/// The directory of the manifests.
pub const MANIFESTS: &str = "_sapa/manifests";

/// The content of `_sapa/CURRENT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentPointer {
    /// Manifest format.
    pub format: u32,
    /// The current version.
    pub version: u64,
    /// The manifest's path relative to the dataset root.
    pub manifest: String,
}

/// One Parquet file of a stored table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// Path relative to the dataset root.
    pub path: String,
    /// Number of rows.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// The academic year of every row, for partitioned tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub academic_year: Option<i32>,
    /// The period of every row, for partitioned tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

impl DataFile {
    /// Whether the file holds the rows of partition (`year`, `period`).
    pub fn in_partition(&self, year: i32, period: &str) -> bool {
        self.academic_year == Some(year) && self.period.as_deref() == Some(period)
    }
}

/// What an ingest did, kept in the manifest for audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSummary {
    /// Where the data came from (an input directory, or `generate`).
    pub source: String,
    /// Rows read per input table.
    pub rows_read: BTreeMap<String, u64>,
    /// Mark versions added to the history.
    pub marks_new: u64,
    /// Mark versions already in the history (or repeated in the input).
    pub marks_duplicate: u64,
    /// Marks whose spelling was normalised from a look-alike (SPEC §2).
    pub look_alikes: u64,
    /// Warnings raised while reading.
    pub warnings: Vec<String>,
}

/// One committed (or about to be committed) version of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format.
    pub format: u32,
    /// Version number, from 1.
    pub version: u64,
    /// The version this one was built on.
    pub parent: Option<u64>,
    /// When the version was written (RFC 3339, UTC).
    pub created_at: String,
    /// What the ingest did.
    pub summary: CommitSummary,
    /// For every stored table by name, its files.
    pub tables: BTreeMap<String, Vec<DataFile>>,
}

impl Manifest {
    /// An empty manifest for `version`, built on `parent`.
    pub fn new(version: u64, parent: Option<u64>) -> Manifest {
        Manifest {
            format: FORMAT_VERSION,
            version,
            parent,
            created_at: chrono::Utc::now().to_rfc3339(),
            summary: CommitSummary::default(),
            tables: BTreeMap::new(),
        }
    }

    /// The files of a table (none if the table is absent).
    pub fn files(&self, table: StoredTable) -> &[DataFile] {
        self.tables.get(table.name()).map_or(&[], Vec::as_slice)
    }

    /// Rows of a table over all its files.
    pub fn rows(&self, table: StoredTable) -> u64 {
        self.files(table).iter().map(|f| f.rows).sum()
    }

    /// Bytes of a table over all its files.
    pub fn bytes(&self, table: StoredTable) -> u64 {
        self.files(table).iter().map(|f| f.bytes).sum()
    }

    /// Every file path the manifest references.
    pub fn all_paths(&self) -> impl Iterator<Item = &str> {
        self.tables.values().flatten().map(|f| f.path.as_str())
    }

    /// The (year, period) partitions a table has files for.
    pub fn partitions(&self, table: StoredTable) -> Vec<(i32, String)> {
        let mut parts: Vec<(i32, String)> = self
            .files(table)
            .iter()
            .filter_map(|f| Some((f.academic_year?, f.period.clone()?)))
            .collect();
        parts.sort();
        parts.dedup();
        parts
    }

    /// The manifest's path relative to the dataset root.
    pub fn rel_path(version: u64) -> String {
        format!("{MANIFESTS}/v{version:06}.json")
    }
}

/// Reads the current manifest, or `None` for a location with no dataset yet.
pub async fn read_current(loc: &DataLocation) -> Result<Option<Manifest>, StorageError> {
    let Some(pointer) = read_pointer(loc).await? else {
        return Ok(None);
    };
    let manifest: Manifest = read_json(loc, &pointer.manifest).await?;
    if manifest.format != FORMAT_VERSION || manifest.version != pointer.version {
        return Err(StorageError::Corrupt {
            path: pointer.manifest,
            message: format!(
                "manifest says format {} version {}, CURRENT says format {} version {}",
                manifest.format, manifest.version, pointer.format, pointer.version
            ),
        });
    }
    Ok(Some(manifest))
}

/// Reads the manifest of a committed `version` (an older one, for "as of"
/// and registered snapshots), checking it is the version it claims to be.
pub async fn read_manifest(loc: &DataLocation, version: u64) -> Result<Manifest, StorageError> {
    let rel = Manifest::rel_path(version);
    let manifest: Manifest = read_json(loc, &rel).await?;
    if manifest.format != FORMAT_VERSION || manifest.version != version {
        return Err(StorageError::Corrupt {
            path: rel,
            message: format!(
                "manifest says format {} version {}, expected format {FORMAT_VERSION} version {version}",
                manifest.format, manifest.version
            ),
        });
    }
    Ok(manifest)
}

/// `CURRENT`'s content, in the format this build reads.
fn parse_pointer(bytes: &[u8]) -> Result<CurrentPointer, StorageError> {
    let pointer: CurrentPointer =
        serde_json::from_slice(bytes).map_err(|e| StorageError::Corrupt {
            path: CURRENT.to_string(),
            message: e.to_string(),
        })?;
    if pointer.format != FORMAT_VERSION {
        return Err(StorageError::Corrupt {
            path: CURRENT.to_string(),
            message: format!(
                "format {} is not the format {FORMAT_VERSION} this build reads",
                pointer.format
            ),
        });
    }
    Ok(pointer)
}

/// Reads `_sapa/CURRENT`, or `None` when it does not exist.
pub async fn read_pointer(loc: &DataLocation) -> Result<Option<CurrentPointer>, StorageError> {
    match loc.store().get(&loc.path(CURRENT)).await {
        Ok(got) => {
            let bytes = got.bytes().await.map_err(StorageError::store(CURRENT))?;
            parse_pointer(&bytes).map(Some)
        }
        // A remote store says the same for a missing bucket: look.
        Err(object_store::Error::NotFound { .. }) if loc.endpoint().is_none() => Ok(None),
        Err(e @ object_store::Error::NotFound { .. }) => {
            if classify(loc, &e).is_some() {
                return Err(explain(loc, CURRENT, e));
            }
            match loc.store().list_with_delimiter(Some(&loc.path(""))).await {
                Ok(_) => Ok(None),
                Err(e) => Err(explain(loc, "", e)),
            }
        }
        Err(e) => Err(explain(loc, CURRENT, e)),
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    loc: &DataLocation,
    rel: &str,
) -> Result<T, StorageError> {
    let got = loc
        .store()
        .get(&loc.path(rel))
        .await
        .map_err(StorageError::store(rel))?;
    let bytes = got.bytes().await.map_err(StorageError::store(rel))?;
    serde_json::from_slice(&bytes).map_err(|e| StorageError::Corrupt {
        path: rel.to_string(),
        message: e.to_string(),
    })
}

/// Commits `manifest`: syncs its new data files, writes and syncs the
/// manifest, then switches `CURRENT` to it. Until the last step the
/// previous version stays current; after it, the new one is.
pub async fn commit(
    loc: &DataLocation,
    manifest: &Manifest,
    new_files: &[String],
) -> Result<(), StorageError> {
    loc.sync(new_files).await?;
    let rel = Manifest::rel_path(manifest.version);
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| StorageError::Corrupt {
        path: rel.clone(),
        message: e.to_string(),
    })?;
    let conflict = |theirs| StorageError::Conflict {
        dataset: loc.display(),
        ours: manifest.version,
        theirs,
    };
    match put_opts(loc, &rel, json, PutMode::Create).await {
        Err(object_store::Error::AlreadyExists { .. }) => return Err(conflict(manifest.version)),
        other => other.map_err(StorageError::store(&rel))?,
    };
    loc.sync(std::slice::from_ref(&rel)).await?;
    let pointer = CurrentPointer {
        format: FORMAT_VERSION,
        version: manifest.version,
        manifest: rel,
    };
    let json = serde_json::to_vec_pretty(&pointer).map_err(|e| StorageError::Corrupt {
        path: CURRENT.to_string(),
        message: e.to_string(),
    })?;
    // Locally the writer lock (a kernel lock) is the guard and the file
    // system has no conditional replace; elsewhere the switch is conditional.
    let mode = if loc.local_dir().is_some() {
        PutMode::Overwrite
    } else {
        match current_version_tag(loc).await? {
            Some((version, _)) if Some(version) != manifest.parent => {
                return Err(conflict(version));
            }
            Some((_, tag)) => PutMode::Update(tag),
            None if manifest.parent.is_some() => return Err(conflict(0)),
            None => PutMode::Create,
        }
    };
    let switched = match put_opts(loc, CURRENT, json.clone(), mode).await {
        // A store with no conditional replace (the local file system
        // behind `DataLocation::with_store`): the writer lock guards alone.
        Err(object_store::Error::NotImplemented { .. }) => {
            put_opts(loc, CURRENT, json, PutMode::Overwrite).await
        }
        other => other,
    };
    match switched {
        Err(
            object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. },
        ) => {
            let theirs = read_pointer(loc)
                .await
                .ok()
                .flatten()
                .map_or(0, |p| p.version);
            return Err(conflict(theirs));
        }
        other => other.map_err(StorageError::store(CURRENT))?,
    };
    loc.sync(&[CURRENT.to_string()]).await
}

/// The version `CURRENT` names and the object version to replace it over.
async fn current_version_tag(
    loc: &DataLocation,
) -> Result<Option<(u64, UpdateVersion)>, StorageError> {
    match loc.store().get(&loc.path(CURRENT)).await {
        Ok(got) => {
            let tag = UpdateVersion {
                e_tag: got.meta.e_tag.clone(),
                version: got.meta.version.clone(),
            };
            let bytes = got.bytes().await.map_err(StorageError::store(CURRENT))?;
            Ok(Some((parse_pointer(&bytes)?.version, tag)))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(StorageError::store(CURRENT)(e)),
    }
}

async fn put_opts(
    loc: &DataLocation,
    rel: &str,
    bytes: Vec<u8>,
    mode: PutMode,
) -> Result<(), object_store::Error> {
    let opts = PutOptions {
        mode,
        ..PutOptions::default()
    };
    loc.store()
        .put_opts(&loc.path(rel), PutPayload::from(bytes), opts)
        .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips() {
        let mut m = Manifest::new(2, Some(1));
        m.tables.insert(
            "marks".into(),
            vec![DataFile {
                path: "tables/marks/v000002/academic_year=2024/period=Q1/part-00000.parquet".into(),
                rows: 10,
                bytes: 100,
                academic_year: Some(2024),
                period: Some("Q1".into()),
            }],
        );
        let json = serde_json::to_string(&m).unwrap();
        let back: Manifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.rows(StoredTable::Marks), 10);
        assert_eq!(
            back.partitions(StoredTable::Marks),
            vec![(2024, "Q1".to_string())]
        );
        assert!(back.files(StoredTable::Regions).is_empty());
    }
}
