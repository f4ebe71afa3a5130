//! Clearing what a failed or killed ingest left behind: objects of no
//! committed version. Only files that neither the current manifest nor a
//! registered snapshot references are removed.

use futures::TryStreamExt;
use object_store::ObjectStoreExt;

use super::manifest::{CURRENT, MANIFESTS, Manifest};
use super::{DataLocation, StorageError};

/// Removes what a failed or killed ingest may have left: files under
/// `tables/` and `_sapa/` that the current manifest does not reference and
/// that belong to the current version or a newer one (only manifest N ever
/// references the files of version N's directories), and the staging area.
/// Files of older versions stay for their manifests, and whatever a
/// registered snapshot references (its manifest and files) stays always,
/// even should `CURRENT` have been set back below the snapshot's version.
/// Returns the number of objects removed.
pub async fn remove_uncommitted(
    loc: &DataLocation,
    current: Option<&Manifest>,
) -> Result<usize, StorageError> {
    let current_version = current.map_or(0, |m| m.version);
    let pinned = super::snapshot::pinned_paths(loc).await?;
    let mut referenced: std::collections::HashSet<&str> =
        current.map(|m| m.all_paths().collect()).unwrap_or_default();
    referenced.extend(pinned.iter().map(String::as_str));
    let mut doomed = Vec::new();
    for prefix in ["tables", "_sapa"] {
        let listed: Vec<object_store::ObjectMeta> = loc
            .store()
            .list(Some(&loc.path(prefix)))
            .try_collect()
            .await
            .map_err(StorageError::store(prefix))?;
        for meta in listed {
            let Some(rel) = loc.relative(&meta.location) else {
                continue;
            };
            if uncommitted(&rel, current_version, &referenced) {
                doomed.push(meta.location);
            }
        }
    }
    for path in &doomed {
        match loc.store().delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(StorageError::store(path.as_ref())(e)),
        }
    }
    Ok(doomed.len() + loc.remove_upload_leftovers().await?)
}

/// Whether a stored object belongs to no committed version.
fn uncommitted(
    rel: &str,
    current_version: u64,
    referenced: &std::collections::HashSet<&str>,
) -> bool {
    if rel == CURRENT || referenced.contains(rel) {
        return false;
    }
    if rel.starts_with("_sapa/staging/") {
        return true;
    }
    if let Some(name) = rel.strip_prefix(&format!("{MANIFESTS}/")) {
        // The current manifest is not among the referenced data files.
        return parse_version(name.trim_end_matches(".json")).is_some_and(|v| v > current_version);
    }
    if rel.starts_with("tables/") {
        return rel
            .split('/')
            .nth(2)
            .and_then(parse_version)
            .is_some_and(|v| v >= current_version);
    }
    false
}

fn parse_version(segment: &str) -> Option<u64> {
    segment.strip_prefix('v')?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn only_newer_unreferenced_objects_are_uncommitted() {
        let referenced: std::collections::HashSet<&str> =
            ["tables/marks/v000002/academic_year=2024/period=Q1/part-00000.parquet"].into();
        let check = |rel: &str| uncommitted(rel, 3, &referenced);
        assert!(!check(
            "tables/marks/v000002/academic_year=2024/period=Q1/part-00000.parquet"
        ));
        // An older, unreferenced file still belongs to its own version.
        assert!(!check(
            "tables/marks/v000001/academic_year=2024/period=Q1/part-00000.parquet"
        ));
        // A file of the current version that its manifest does not name is garbage.
        assert!(check(
            "tables/marks/v000003/academic_year=2024/period=Q2/part-00000.parquet"
        ));
        assert!(check(
            "tables/marks/v000004/academic_year=2024/period=Q1/part-00000.parquet"
        ));
        assert!(check("_sapa/manifests/v000004.json"));
        assert!(!check("_sapa/manifests/v000003.json"));
        assert!(!check("_sapa/manifests/v000002.json"));
        assert!(check("_sapa/staging/abc/marks-2024-Q1-00000.parquet"));
        assert!(!check(CURRENT));
    }
}
