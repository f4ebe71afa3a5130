//! One writer at a time: ingest and snapshot registration hold the
//! dataset's writer lock from their first step to their commit.
//!
//! Without it, two ingests into one dataset both failed: the second one's
//! start-up clean-up removed the first one's uncommitted files. For a local
//! directory the lock is an advisory `flock` on `_sapa/writer.lock`, which
//! the kernel releases when its holder ends, however it ends (a `kill -9`
//! leaves nothing to clear by hand); the file says who holds it, so the
//! writer that is refused can name them. A holder removes the file as it
//! lets go, so a dataset at rest holds none; a writer that locked a file
//! just removed (opened before the removal) sees it is no longer the one at
//! the path and tries again.
//!
//! An object store has no `flock`, and a process killed there leaves its
//! lock object behind. There the lock is a lease: `_sapa/writer.lock` is
//! created only if absent (a conditional put), and its holder rewrites it
//! every [`LEASE_REFRESH`], each time only if it is still the version it
//! wrote. A lock not rewritten for [`LEASE_TTL`] belongs to a writer that
//! is gone, and the next writer takes it over, again conditionally, so two
//! writers that both find it stale cannot both win. A holder that fails to
//! renew knows it has lost the lock ([`WriterLock::check`]); the commit's
//! own conditional switch of `CURRENT` is the last guard.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};

use super::{DataLocation, StorageError};

/// The lock file, relative to a dataset's root.
pub const LOCK_FILE: &str = "_sapa/writer.lock";

/// How long an object-store lock stays valid without being renewed.
pub const LEASE_TTL: Duration = Duration::from_secs(60);

/// How often a holder renews its object-store lock.
pub const LEASE_REFRESH: Duration = Duration::from_secs(15);

/// A held writer lock; dropping it releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    held: Held,
}

#[derive(Debug)]
enum Held {
    /// Released.
    Nothing,
    /// A locked file in a local dataset.
    Local(File, PathBuf),
    /// A lease in an object store, renewed by a task.
    Lease(Lease),
}

#[derive(Debug)]
struct Lease {
    store: Arc<dyn ObjectStore>,
    path: Path,
    dataset: String,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            // Removed while still locked, then unlocked by closing.
            Held::Local(file, path) => {
                let _ = std::fs::remove_file(&path);
                drop(file);
            }
            // Without `release`, the delete runs if the runtime lives on;
            // if not, the lease expires after LEASE_TTL.
            Held::Lease(lease) => {
                lease.renewer.abort();
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        let _ = lease.store.delete(&lease.path).await;
                    });
                }
            }
        }
    }
}

impl WriterLock {
    /// Takes the writer lock of `loc` for `what` (e.g. "ingest of
    /// input/"), or fails at once naming the writer that holds it.
    ///
    /// In an object store the lock is a lease (see the module docs).
    pub async fn acquire(loc: &DataLocation, what: &str) -> Result<WriterLock, StorageError> {
        let holder = format!(
            "{what} (process {} on {}, since {})",
            std::process::id(),
            host_name(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        match loc.local_dir() {
            Some(dir) => Self::acquire_local(loc, dir.join(LOCK_FILE), &holder),
            None => Self::acquire_lease(loc, holder).await,
        }
    }

    /// Fails if this process no longer holds the lock: its lease could not
    /// be renewed in time, so another writer may have taken it over.
    pub fn check(&self) -> Result<(), StorageError> {
        match &self.held {
            Held::Lease(lease) if lease.lost.load(Ordering::SeqCst) => {
                Err(StorageError::LockLost {
                    dataset: lease.dataset.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Lets go of the lock, waiting for an object-store lock to be deleted
    /// (dropping it deletes it in the background, which a process about to
    /// exit may never run).
    pub async fn release(mut self) {
        // A local lock is let go by `Drop`, as `self` goes here.
        if matches!(self.held, Held::Lease(_))
            && let Held::Lease(lease) = std::mem::replace(&mut self.held, Held::Nothing)
        {
            lease.renewer.abort();
            let _ = lease.store.delete(&lease.path).await;
        }
    }

    fn acquire_local(
        loc: &DataLocation,
        path: PathBuf,
        holder: &str,
    ) -> Result<WriterLock, StorageError> {
        let failed = |source: std::io::Error| StorageError::LocalDir {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        let mut file = loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(failed)?;
            // SAFETY: `flock` on a descriptor this function owns; no memory
            // is passed.
            let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if taken != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                    return Err(failed(err));
                }
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(StorageError::Locked {
                    dataset: loc.display(),
                    holder: holder.trim().to_string(),
                });
            }
            let locked = file.metadata().map_err(failed)?;
            match std::fs::metadata(&path) {
                Ok(now) if now.ino() == locked.ino() && now.dev() == locked.dev() => break file,
                // Removed by the holder before us as it let go: again.
                Ok(_) => continue,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(failed(err)),
            }
        };
        file.set_len(0).map_err(failed)?;
        file.rewind().map_err(failed)?;
        file.write_all(holder.as_bytes()).map_err(failed)?;
        Ok(WriterLock {
            held: Held::Local(file, path),
        })
    }

    async fn acquire_lease(loc: &DataLocation, holder: String) -> Result<WriterLock, StorageError> {
        let store = Arc::clone(loc.store());
        let path = loc.path(LOCK_FILE);
        let failed = |e| super::remote::explain(loc, LOCK_FILE, e);
        // A few rounds: the lock may be released or taken between our steps.
        let mut version = None;
        for _ in 0..3 {
            let create = put_lock(&store, &path, &holder, PutMode::Create).await;
            match create {
                Ok(v) => {
                    version = Some(v);
                    break;
                }
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(failed(e)),
            }
            let existing = match store.get(&path).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(failed(e)),
            };
            let meta = existing.meta.clone();
            let text = existing
                .bytes()
                .await
                .map_err(StorageError::store(LOCK_FILE))?;
            let age = chrono::Utc::now() - meta.last_modified;
            let age_std = age.to_std().unwrap_or_default();
            if age_std < LEASE_TTL {
                let left = (LEASE_TTL - age_std).as_secs() + 1;
                return Err(StorageError::Locked {
                    dataset: loc.display(),
                    holder: format!(
                        "{}; should that writer be gone, its lock expires within {left} s",
                        String::from_utf8_lossy(&text).trim()
                    ),
                });
            }
            let stale = UpdateVersion {
                e_tag: meta.e_tag,
                version: meta.version,
            };
            match put_lock(&store, &path, &holder, PutMode::Update(stale)).await {
                Ok(v) => {
                    log::warn!(
                        "{}: took over the writer lock of a writer gone for {} s: {}",
                        loc.display(),
                        age.num_seconds(),
                        String::from_utf8_lossy(&text).trim()
                    );
                    version = Some(v);
                    break;
                }
                // Another writer took it over first: look again.
                Err(object_store::Error::Precondition { .. }) => {}
                Err(e) => return Err(failed(e)),
            }
        }
        let Some(version) = version else {
            return Err(StorageError::Locked {
                dataset: loc.display(),
                holder: "another writer (the lock changed hands while this one waited)".into(),
            });
        };
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew(
            Arc::clone(&store),
            path.clone(),
            holder,
            version,
            Arc::clone(&lost),
        ));
        Ok(WriterLock {
            held: Held::Lease(Lease {
                store,
                path,
                dataset: loc.display(),
                lost,
                renewer,
            }),
        })
    }
}

/// Rewrites the lease every [`LEASE_REFRESH`], each time only over the
/// version written last; on the first failure the lock counts as lost.
async fn renew(
    store: Arc<dyn ObjectStore>,
    path: Path,
    holder: String,
    mut version: UpdateVersion,
    lost: Arc<AtomicBool>,
) {
    loop {
        tokio::time::sleep(LEASE_REFRESH).await;
        match put_lock(&store, &path, &holder, PutMode::Update(version.clone())).await {
            Ok(v) => version = v,
            Err(e) => {
                log::warn!("{path}: the writer lock could not be renewed: {e}");
                lost.store(true, Ordering::SeqCst);
                return;
            }
        }
    }
}

async fn put_lock(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    holder: &str,
    mode: PutMode,
) -> Result<UpdateVersion, object_store::Error> {
    let replace = matches!(mode, PutMode::Update(_));
    let opts = PutOptions {
        mode,
        ..PutOptions::default()
    };
    let payload = PutPayload::from(holder.as_bytes().to_vec());
    let put = match store.put_opts(path, payload.clone(), opts).await {
        // A store with no conditional replace (the local file system behind
        // `DataLocation::with_store`) renews by a plain put: its lock was
        // still taken by a create-if-absent.
        Err(object_store::Error::NotImplemented { .. }) if replace => {
            store.put(path, payload).await?
        }
        other => other?,
    };
    Ok(UpdateVersion {
        e_tag: put.e_tag,
        version: put.version,
    })
}

/// This machine's name, for the lock's holder line.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this machine".into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_writer_is_refused_naming_the_first_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let loc = DataLocation::local(dir.path()).unwrap();
        let first = WriterLock::acquire(&loc, "ingest of week-49/")
            .await
            .unwrap();
        let err = WriterLock::acquire(&loc, "snapshot registration")
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ingest of week-49/"), "{text}");
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        drop(first);
        let again = WriterLock::acquire(&loc, "snapshot registration")
            .await
            .unwrap();
        assert!(dir.path().join(LOCK_FILE).exists());
        drop(again);
        // A dataset at rest holds no lock file, whether the lock was
        // dropped or released.
        assert!(!dir.path().join(LOCK_FILE).exists());
        let released = WriterLock::acquire(&loc, "ingest of week-50/")
            .await
            .unwrap();
        released.release().await;
        assert!(!dir.path().join(LOCK_FILE).exists());
    }
}
