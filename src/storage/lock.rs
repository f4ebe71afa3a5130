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

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::{DataLocation, StorageError};

/// The lock file, relative to a dataset's root.
pub const LOCK_FILE: &str = "_sapa/writer.lock";

/// A held writer lock; dropping it releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    held: Option<(File, PathBuf)>,
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // Removed while still locked, then unlocked by closing.
        if let Some((file, path)) = self.held.take() {
            let _ = std::fs::remove_file(&path);
            drop(file);
        }
    }
}

impl WriterLock {
    /// Takes the writer lock of `loc` for `what` (e.g. "ingest of
    /// input/"), or fails at once naming the writer that holds it.
    ///
    /// A location that is not a local directory has no lock yet: object
    /// stores get theirs (a conditional put) with their support.
    pub fn acquire(loc: &DataLocation, what: &str) -> Result<WriterLock, StorageError> {
        let Some(dir) = loc.local_dir() else {
            return Ok(WriterLock { held: None });
        };
        let path = dir.join(LOCK_FILE);
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
        let holder = format!(
            "{what} (process {}, since {})",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        file.set_len(0).map_err(failed)?;
        file.rewind().map_err(failed)?;
        file.write_all(holder.as_bytes()).map_err(failed)?;
        Ok(WriterLock {
            held: Some((file, path)),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_naming_the_first_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let loc = DataLocation::local(dir.path()).unwrap();
        let first = WriterLock::acquire(&loc, "ingest of week-49/").unwrap();
        let err = WriterLock::acquire(&loc, "snapshot registration").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ingest of week-49/"), "{text}");
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        drop(first);
        let again = WriterLock::acquire(&loc, "snapshot registration").unwrap();
        assert!(dir.path().join(LOCK_FILE).exists());
        drop(again);
        // A dataset at rest holds no lock file.
        assert!(!dir.path().join(LOCK_FILE).exists());
    }
}
