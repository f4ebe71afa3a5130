//! Object stores by URL, for processes that are handed plans rather than a
//! `--data` argument: a cluster's scheduler and executors.
//!
//! A plan names its files by URL (`file:///srv/sapa/…`, `s3://bucket/…`).
//! [`store_for`] turns the scheme and authority of such a URL into a store,
//! the same way `--data` does ([`DataLocation::parse`]), so a store kind the
//! front end can read, an executor can read too.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use url::Url;

use super::{DataLocation, StorageError};

/// The store that serves `url`'s scheme and authority.
pub fn store_for(url: &Url) -> Result<Arc<dyn ObjectStore>, StorageError> {
    if url.scheme() == "file" {
        return Ok(Arc::new(LocalFileSystem::new()));
    }
    let root = format!("{}://{}", url.scheme(), url.authority());
    DataLocation::parse(&root).map(|location| Arc::clone(location.store()))
}

/// A registry that builds a store the first time a URL of its kind is
/// asked for, with [`store_for`].
#[derive(Debug, Default)]
pub struct StoresByUrl {
    stores: RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
}

/// The map, even if a thread panicked holding it: entries are whole
/// stores, never half-written.
fn write(
    stores: &RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<dyn ObjectStore>>> {
    stores
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn key(url: &Url) -> String {
    format!("{}://{}", url.scheme(), url.authority())
}

impl ObjectStoreRegistry for StoresByUrl {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        write(&self.stores).insert(key(url), store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        write(&self.stores)
            .remove(&key(url))
            .ok_or_else(|| DataFusionError::Execution(format!("no object store for {url}")))
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        let key = key(url);
        let known = self
            .stores
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
            .cloned();
        if let Some(store) = known {
            return Ok(store);
        }
        let store = store_for(url).map_err(sapa_sqlstate::SqlState::into_datafusion)?;
        write(&self.stores).insert(key, Arc::clone(&store));
        Ok(store)
    }
}

/// A runtime whose object stores come from [`StoresByUrl`]; spill files go
/// to `spill_dir` (the OS temporary directory if `None`).
pub fn runtime_env(spill_dir: Option<std::path::PathBuf>) -> Result<Arc<RuntimeEnv>> {
    let mut builder =
        RuntimeEnvBuilder::new().with_object_store_registry(Arc::new(StoresByUrl::default()));
    if let Some(dir) = spill_dir {
        builder = builder.with_temp_file_path(dir);
    }
    builder.build_arc()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_get_the_local_file_system_and_unknown_schemes_say_so() {
        let registry = StoresByUrl::default();
        let url = Url::parse("file:///").unwrap();
        let store = registry.get_store(&url).unwrap();
        assert!(Arc::ptr_eq(&store, &registry.get_store(&url).unwrap()));
        let err = registry
            .get_store(&Url::parse("gopher://host/x").unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("gopher"), "{err}");
    }
}
