//! Registered snapshots (SPEC §6, seed 002 §10): a committed version of the
//! dataset frozen under a name, e.g. the October registration `2024-10`.
//!
//! A snapshot copies no data. It is one small JSON record,
//! `_sapa/snapshots/<schema>.json`, naming a committed manifest; since data
//! files and manifests are immutable and a cleanup never removes what a
//! snapshot's manifest references ([`pinned_paths`], kept by
//! [`super::cleanup::remove_uncommitted`]), later ingests never alter it.
//!
//! Names follow `[A-Za-z0-9_-]{1,40}`; the SQL schema of a snapshot is
//! `snapshot_` followed by the name lower-cased with `-` turned into `_`
//! (`2024-10` → `snapshot_2024_10`). The record is stored under the schema
//! name and created with a create-if-absent `put`, so two names that map to
//! one schema (`2024-10`, `2024_10`) can never both be registered, even by
//! two processes at once.

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload};
use serde::{Deserialize, Serialize};

use super::manifest::{self, FORMAT_VERSION, MANIFESTS, Manifest};
use super::{DataLocation, StorageError};

/// The directory of the snapshot records.
pub const SNAPSHOTS: &str = "_sapa/snapshots";

/// What every snapshot's SQL schema starts with.
pub const SCHEMA_PREFIX: &str = "snapshot_";

/// The longest snapshot name.
pub const MAX_NAME_LEN: usize = 40;

/// What can go wrong registering a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A name outside `[A-Za-z0-9_-]{1,40}`.
    #[error(
        "snapshot name {name:?} is not valid: {reason} (a name is 1 to {MAX_NAME_LEN} of the \
         characters A-Z, a-z, 0-9, '_' and '-', e.g. 2024-10)"
    )]
    BadName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The name, or one mapping to the same schema, is registered already.
    #[error(
        "a snapshot {existing:?} (schema {schema}, version {version}, registered {registered_at}) \
         already exists{same}; registered snapshots are immutable, so {name:?} was not registered \
         and nothing changed",
        same = if existing == name { String::new() } else {
            format!(" and {name:?} would have the same schema")
        }
    )]
    Exists {
        /// The name asked for.
        name: String,
        /// The registered snapshot's name.
        existing: String,
        /// The schema both map to.
        schema: String,
        /// The registered snapshot's version.
        version: u64,
        /// When it was registered.
        registered_at: String,
    },
    /// The location holds no committed dataset.
    #[error("no Sapa dataset at {0} (run `sapa ingest` or `sapa generate` first)")]
    NoDataset(String),
    /// No committed version existed by the end of the `--as-of` date.
    #[error(
        "no version of the dataset was current at the end of {date} (UTC): the first \
         committed version, v{first}, was committed at {first_created_at}"
    )]
    NothingAsOf {
        /// The date asked for.
        date: NaiveDate,
        /// The oldest committed version.
        first: u64,
        /// When it was committed.
        first_created_at: String,
    },
    /// Reading or writing the dataset failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A registered snapshot, as stored in `_sapa/snapshots/<schema>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Record format ([`FORMAT_VERSION`]).
    pub format: u32,
    /// The name it was registered under (`2024-10`).
    pub name: String,
    /// Its SQL schema (`snapshot_2024_10`).
    pub schema: String,
    /// The version it freezes.
    pub version: u64,
    /// That version's manifest, relative to the dataset root.
    pub manifest: String,
    /// When it was registered (RFC 3339, UTC).
    pub registered_at: String,
    /// The `--as-of` date it was registered with, if any (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

/// Checks `name` against `[A-Za-z0-9_-]{1,40}`.
pub fn validate_name(name: &str) -> Result<(), SnapshotError> {
    let bad = |reason: String| SnapshotError::BadName {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(bad(format!(
            "it has {} characters, more than {MAX_NAME_LEN}",
            name.chars().count()
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(bad(format!("it contains {c:?}")));
    }
    Ok(())
}

/// The SQL schema of snapshot `name`: `snapshot_` + the name lower-cased,
/// `-` turned into `_` (a plain identifier: no quoting needed in SQL).
pub fn schema_name(name: &str) -> Result<String, SnapshotError> {
    validate_name(name)?;
    Ok(format!(
        "{SCHEMA_PREFIX}{}",
        name.to_ascii_lowercase().replace('-', "_")
    ))
}

/// The record's path, relative to the root.
fn record_path(schema: &str) -> String {
    format!("{SNAPSHOTS}/{schema}.json")
}

/// Registers the current version of the dataset at `loc` as snapshot
/// `name` — or, with `as_of`, the version that was current at the end of
/// that day (UTC; see [`version_as_of`]). Refused, changing nothing, if
/// the name or one with the same schema is registered already.
pub async fn register(
    loc: &DataLocation,
    name: &str,
    as_of: Option<NaiveDate>,
) -> Result<Snapshot, SnapshotError> {
    let schema = schema_name(name)?;
    let writer =
        super::WriterLock::acquire(loc, &format!("registration of snapshot {name}")).await?;
    let registered = register_locked(loc, name, schema, as_of).await;
    writer.release().await;
    registered
}

async fn register_locked(
    loc: &DataLocation,
    name: &str,
    schema: String,
    as_of: Option<NaiveDate>,
) -> Result<Snapshot, SnapshotError> {
    let rel = record_path(&schema);
    // Checked first for the clear message; the create-if-absent put below
    // is what makes it hold against a concurrent registration.
    if let Some(existing) = read_record(loc, &rel).await? {
        return Err(exists(name, existing));
    }
    let manifest = match as_of {
        Some(date) => version_as_of(loc, date).await?,
        None => manifest::read_current(loc)
            .await?
            .ok_or_else(|| SnapshotError::NoDataset(loc.display()))?,
    };
    let snapshot = Snapshot {
        format: FORMAT_VERSION,
        name: name.to_string(),
        schema,
        version: manifest.version,
        manifest: Manifest::rel_path(manifest.version),
        registered_at: Utc::now().to_rfc3339(),
        as_of: as_of.map(|d| d.to_string()),
    };
    let json = serde_json::to_vec_pretty(&snapshot).map_err(|e| StorageError::Corrupt {
        path: rel.clone(),
        message: e.to_string(),
    })?;
    let created = loc
        .store()
        .put_opts(
            &loc.path(&rel),
            PutPayload::from(json),
            PutMode::Create.into(),
        )
        .await;
    match created {
        Ok(_) => {}
        Err(object_store::Error::AlreadyExists { .. }) => {
            return match read_record(loc, &rel).await? {
                Some(existing) => Err(exists(name, existing)),
                None => Err(StorageError::Corrupt {
                    path: rel,
                    message: "exists but cannot be read".into(),
                }
                .into()),
            };
        }
        Err(e) => return Err(StorageError::store(&rel)(e).into()),
    }
    loc.sync(std::slice::from_ref(&rel)).await?;
    Ok(snapshot)
}

fn exists(name: &str, existing: Snapshot) -> SnapshotError {
    SnapshotError::Exists {
        name: name.to_string(),
        existing: existing.name,
        schema: existing.schema,
        version: existing.version,
        registered_at: existing.registered_at,
    }
}

/// The end of `date` in UTC: the first instant of the next day.
fn end_of(date: NaiveDate) -> Option<DateTime<Utc>> {
    date.succ_opt()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// The version that was current at the end of `date` (UTC): the newest
/// committed version whose manifest's `created_at` is before the next day
/// began (≤ `date` 23:59:59.999…). The manifests of every committed version
/// stay under `_sapa/manifests/`; those newer than `CURRENT` belong to no
/// committed version and are not considered.
pub async fn version_as_of(loc: &DataLocation, date: NaiveDate) -> Result<Manifest, SnapshotError> {
    let current = manifest::read_pointer(loc)
        .await?
        .ok_or_else(|| SnapshotError::NoDataset(loc.display()))?;
    let listed: Vec<object_store::ObjectMeta> = loc
        .store()
        .list(Some(&loc.path(MANIFESTS)))
        .try_collect()
        .await
        .map_err(StorageError::store(MANIFESTS))?;
    let mut versions: Vec<u64> = listed
        .iter()
        .filter_map(|meta| {
            let rel = loc.relative(&meta.location)?;
            let name = rel.strip_prefix(&format!("{MANIFESTS}/"))?;
            name.strip_suffix(".json")?.strip_prefix('v')?.parse().ok()
        })
        .filter(|v| *v <= current.version)
        .collect();
    versions.sort_unstable();
    let end = end_of(date);
    let mut first: Option<Manifest> = None;
    // Newest first: the answer is usually among the latest few.
    for version in versions.iter().rev() {
        let m = manifest::read_manifest(loc, *version).await?;
        let created =
            DateTime::parse_from_rfc3339(&m.created_at).map_err(|e| StorageError::Corrupt {
                path: Manifest::rel_path(*version),
                message: format!("created_at {:?}: {e}", m.created_at),
            })?;
        if end.is_none_or(|end| created.with_timezone(&Utc) < end) {
            return Ok(m);
        }
        first = Some(m);
    }
    match first {
        Some(m) => Err(SnapshotError::NothingAsOf {
            date,
            first: m.version,
            first_created_at: m.created_at,
        }),
        None => Err(SnapshotError::NoDataset(loc.display())),
    }
}

/// Reads a snapshot record, or `None` if there is none at `rel`.
async fn read_record(loc: &DataLocation, rel: &str) -> Result<Option<Snapshot>, StorageError> {
    let got = match loc.store().get(&loc.path(rel)).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(StorageError::store(rel)(e)),
    };
    let bytes = got.bytes().await.map_err(StorageError::store(rel))?;
    let corrupt = |message: String| StorageError::Corrupt {
        path: rel.to_string(),
        message,
    };
    let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let expected = schema_name(&snapshot.name).map_err(|e| corrupt(e.to_string()))?;
    if snapshot.format != FORMAT_VERSION || record_path(&expected) != rel {
        return Err(corrupt(format!(
            "format {} and name {:?} do not fit the record's path",
            snapshot.format, snapshot.name
        )));
    }
    Ok(Some(snapshot))
}

/// Every registered snapshot, by schema name.
pub async fn list(loc: &DataLocation) -> Result<Vec<Snapshot>, StorageError> {
    let listed: Vec<object_store::ObjectMeta> = loc
        .store()
        .list(Some(&loc.path(SNAPSHOTS)))
        .try_collect()
        .await
        .map_err(StorageError::store(SNAPSHOTS))?;
    let mut rels: Vec<String> = listed
        .iter()
        .filter_map(|meta| loc.relative(&meta.location))
        .filter(|rel| rel.ends_with(".json"))
        .collect();
    rels.sort();
    let mut out = Vec::with_capacity(rels.len());
    for rel in rels {
        if let Some(snapshot) = read_record(loc, &rel).await? {
            out.push(snapshot);
        }
    }
    Ok(out)
}

/// Every registered snapshot with its version's manifest.
pub async fn list_with_manifests(
    loc: &DataLocation,
) -> Result<Vec<(Snapshot, Manifest)>, StorageError> {
    let mut out = Vec::new();
    for snapshot in list(loc).await? {
        let m = manifest::read_manifest(loc, snapshot.version).await?;
        out.push((snapshot, m));
    }
    Ok(out)
}

/// What the registered snapshots need kept: their manifests and every
/// file those reference. A cleanup must never remove any of these.
pub async fn pinned_paths(
    loc: &DataLocation,
) -> Result<std::collections::HashSet<String>, StorageError> {
    let mut out = std::collections::HashSet::new();
    for (snapshot, m) in list_with_manifests(loc).await? {
        out.insert(snapshot.manifest);
        out.extend(m.all_paths().map(String::from));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_schemas() {
        assert_eq!(schema_name("2024-10").unwrap(), "snapshot_2024_10");
        assert_eq!(schema_name("Oct_2024").unwrap(), "snapshot_oct_2024");
        assert_eq!(schema_name(&"a".repeat(40)).unwrap().len(), 49);
        for bad in [
            "",
            "2024 10",
            "2024.10",
            "октябрь",
            "a;drop",
            &"a".repeat(41),
        ] {
            let err = schema_name(bad).unwrap_err();
            assert!(matches!(err, SnapshotError::BadName { .. }), "{bad}: {err}");
            assert!(err.to_string().contains("is not valid"), "{err}");
        }
    }

    #[test]
    fn the_end_of_a_day_is_the_next_midnight() {
        let d = NaiveDate::from_ymd_opt(2024, 10, 31).unwrap();
        assert_eq!(end_of(d).unwrap().to_rfc3339(), "2024-11-01T00:00:00+00:00");
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod store_tests;
