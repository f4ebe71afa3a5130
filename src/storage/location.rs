//! Where a dataset lives: an object store and a prefix inside it.
//!
//! Nothing in storage, ingest or the engine touches the dataset through
//! `std::fs`; everything goes through the [`ObjectStore`] held here, so a
//! location on S3 needs only a different store. The one exception is
//! [`DataLocation::sync`]: `object_store`'s local file system never calls
//! `fsync`, and the commit protocol needs data on disk before the manifest
//! switch, so for a local location the written files are synced by path.
//!
//! `s3://bucket/prefix` (and `s3a://`) names a dataset in S3 or an
//! S3-compatible store, configured the way every S3 tool reads it:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL` and `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::{Path, PathPart};

use super::StorageError;

/// A dataset root: an object store, the URL it is registered under in
/// DataFusion, and the prefix of the dataset inside it.
#[derive(Debug, Clone)]
pub struct DataLocation {
    store: Arc<dyn ObjectStore>,
    store_url: ObjectStoreUrl,
    root: Path,
    /// The directory on the local file system, when the store is local.
    local_dir: Option<PathBuf>,
    /// Where requests go, for messages (an S3-compatible endpoint).
    endpoint: Option<String>,
}

impl DataLocation {
    /// A dataset in a local directory, created if it does not exist.
    pub fn local(dir: impl AsRef<FsPath>) -> Result<DataLocation, StorageError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| StorageError::LocalDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let dir = std::fs::canonicalize(dir).map_err(|source| StorageError::LocalDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let root = Path::from_absolute_path(&dir).map_err(|source| StorageError::Path {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(DataLocation {
            store: Arc::new(LocalFileSystem::new()),
            store_url: ObjectStoreUrl::local_filesystem(),
            root,
            local_dir: Some(dir),
            endpoint: None,
        })
    }

    /// A dataset named by a command-line argument: `s3://bucket/prefix` (or
    /// `s3a://`) is in S3 or an S3-compatible store (see the module docs for
    /// its settings); a `file://` URL or a plain path is local; other URL
    /// schemes are refused by name.
    pub fn parse(location: &str) -> Result<DataLocation, StorageError> {
        DataLocation::parse_with_env(location, std::env::vars())
    }

    /// [`DataLocation::parse`] with the `AWS_*` settings taken from `env`
    /// rather than the process environment.
    pub fn parse_with_env(
        location: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<DataLocation, StorageError> {
        if let Some(path) = location.strip_prefix("file://") {
            return DataLocation::local(path);
        }
        match location.split_once("://") {
            Some(("s3" | "s3a", rest)) => {
                let s3 = super::remote::s3(location, rest, env)?;
                let url = format!("s3://{}", s3.bucket);
                let mut loc = DataLocation::with_store(s3.store, &url, s3.prefix)?;
                loc.endpoint = Some(s3.endpoint);
                Ok(loc)
            }
            Some((scheme, _)) if !scheme.contains(['/', '\\']) => {
                Err(StorageError::UnsupportedScheme {
                    location: location.to_string(),
                    scheme: scheme.to_string(),
                })
            }
            _ => DataLocation::local(location),
        }
    }

    /// A dataset in any object store: `store_url` is the scheme and authority
    /// the store answers for (`s3://bucket`), `root` the dataset's prefix in it.
    pub fn with_store(
        store: Arc<dyn ObjectStore>,
        store_url: &str,
        root: &str,
    ) -> Result<DataLocation, StorageError> {
        let store_url = ObjectStoreUrl::parse(store_url).map_err(|e| StorageError::Url {
            url: store_url.to_string(),
            message: e.to_string(),
        })?;
        let root = Path::parse(root.trim_matches('/')).map_err(|source| StorageError::Path {
            path: root.to_string(),
            source,
        })?;
        Ok(DataLocation {
            store,
            store_url,
            root,
            local_dir: None,
            endpoint: None,
        })
    }

    /// The dataset's directory, when the store is the local file system.
    pub fn local_dir(&self) -> Option<&FsPath> {
        self.local_dir.as_deref()
    }

    /// The bucket, when the store is S3.
    pub fn bucket(&self) -> Option<&str> {
        self.endpoint.as_ref()?;
        self.store_url
            .as_str()
            .strip_prefix("s3://")?
            .split('/')
            .next()
    }

    /// Where the store's requests go (`http://127.0.0.1:9000`, or AWS's
    /// regional endpoint), when it is not the local file system.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The object store holding the dataset.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The URL the store is registered under in a DataFusion runtime.
    pub fn store_url(&self) -> &ObjectStoreUrl {
        &self.store_url
    }

    /// The object path of `rel` (a `/`-separated path below the root).
    pub fn path(&self, rel: &str) -> Path {
        // `PathPart::from` percent-encodes what `Path::parse` would reject, so
        // a relative path we built ourselves always maps to an object path.
        Path::from_iter(
            self.root
                .parts()
                .chain(rel.split('/').filter(|s| !s.is_empty()).map(PathPart::from)),
        )
    }

    /// The relative path of an object below the root, if it is below it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let parts: Vec<String> = path
            .prefix_match(&self.root)?
            .map(|p| p.as_ref().to_string())
            .collect();
        Some(parts.join("/"))
    }

    /// The URL of `rel` as DataFusion's listing tables address it.
    pub fn url_of(&self, rel: &str) -> String {
        let base = self.store_url.as_str();
        let sep = if base.ends_with('/') { "" } else { "/" };
        format!("{base}{sep}{}", self.path(rel))
    }

    /// A human-readable name of the location for messages.
    pub fn display(&self) -> String {
        match &self.local_dir {
            Some(dir) => dir.display().to_string(),
            None => self.url_of(""),
        }
    }

    /// Removes what an upload killed midway left behind that the object
    /// store cannot see (only the local file system leaves such files).
    pub async fn remove_upload_leftovers(&self) -> Result<usize, StorageError> {
        let Some(dir) = self.local_dir.clone() else {
            return Ok(0);
        };
        let joined = tokio::task::spawn_blocking(move || remove_upload_leftovers(&dir)).await;
        let failed = |source| StorageError::LocalDir {
            path: self.local_dir.clone().unwrap_or_default(),
            source,
        };
        match joined {
            Ok(result) => result.map_err(failed),
            Err(e) => Err(failed(std::io::Error::other(e.to_string()))),
        }
    }

    /// Makes the named objects (and their directories) durable. A no-op for
    /// object stores, where a completed `put` is durable; for the local file
    /// system, `fsync`s each file and each parent directory once.
    pub async fn sync(&self, rels: &[String]) -> Result<(), StorageError> {
        let Some(dir) = &self.local_dir else {
            return Ok(());
        };
        let dir = dir.clone();
        let rels = rels.to_vec();
        let joined = tokio::task::spawn_blocking(move || sync_local(&dir, &rels)).await;
        match joined {
            Ok(result) => result,
            Err(e) => Err(StorageError::Sync {
                path: PathBuf::new(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

/// Removes the temporary files `object_store`'s local file system leaves
/// when a process dies mid-upload (`part-00000.parquet#3`): the store hides
/// them from listings and refuses to delete them, so only the file system
/// can. Returns how many were removed.
fn remove_upload_leftovers(dir: &FsPath) -> std::io::Result<usize> {
    let mut removed = 0;
    let mut pending = vec![dir.join("tables"), dir.join("_sapa")];
    while let Some(d) = pending.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
                continue;
            }
            let name = entry.file_name();
            let leftover =
                name.to_str()
                    .and_then(|n| n.rsplit_once('#'))
                    .is_some_and(|(_, suffix)| {
                        !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit())
                    });
            if leftover {
                std::fs::remove_file(&path)?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

fn sync_local(dir: &FsPath, rels: &[String]) -> Result<(), StorageError> {
    let mut parents = std::collections::BTreeSet::new();
    for rel in rels {
        let path = dir.join(rel);
        sync_path(&path)?;
        let mut parent = path.parent();
        while let Some(p) = parent {
            if !p.starts_with(dir) || !parents.insert(p.to_path_buf()) {
                break;
            }
            parent = p.parent();
        }
    }
    for parent in parents.iter().rev() {
        sync_path(parent)?;
    }
    Ok(())
}

fn sync_path(path: &FsPath) -> Result<(), StorageError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|source| StorageError::Sync {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_and_urls() {
        let dir = tempfile::tempdir().unwrap();
        let loc = DataLocation::local(dir.path()).unwrap();
        let canonical = std::fs::canonicalize(dir.path()).unwrap();
        let p = loc.path("tables/marks/v000001/part-00000.parquet");
        assert_eq!(
            p.as_ref(),
            format!(
                "{}/tables/marks/v000001/part-00000.parquet",
                canonical.display().to_string().trim_start_matches('/')
            )
        );
        assert_eq!(
            loc.relative(&p).as_deref(),
            Some("tables/marks/v000001/part-00000.parquet")
        );
        assert!(loc.url_of("x/y.parquet").starts_with("file:///"));
        assert!(loc.url_of("x/y.parquet").ends_with("/x/y.parquet"));
    }

    #[test]
    fn other_schemes_need_a_store() {
        let err = DataLocation::parse("gs://bucket/prefix").unwrap_err();
        assert!(err.to_string().contains("gs://"), "{err}");
        let err = DataLocation::parse("s3:///prefix").unwrap_err();
        assert!(err.to_string().contains("names no bucket"), "{err}");
        let s3 = DataLocation::parse("s3://marks/kz/national").unwrap();
        assert_eq!(s3.store_url().as_str(), "s3://marks/");
        assert_eq!(
            s3.path("_sapa/CURRENT").as_ref(),
            "kz/national/_sapa/CURRENT"
        );
        assert_eq!(s3.display(), "s3://marks/kz/national");
        assert!(s3.local_dir().is_none());
        let mem = Arc::new(object_store::memory::InMemory::new());
        let loc = DataLocation::with_store(mem, "memory://", "/data/set/").unwrap();
        assert_eq!(loc.path("_sapa/CURRENT").as_ref(), "data/set/_sapa/CURRENT");
        assert_eq!(loc.url_of("a.parquet"), "memory:///data/set/a.parquet");
    }
}
