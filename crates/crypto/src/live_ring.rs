//! A key ring that follows its file. A server loads the ring at start, but an operator may
//! rotate it while servers run (`integritet keys rotate`), and several servers may share one
//! key directory. So the ring is looked at again before every new wrap (a `stat`, and a reload
//! when the file changed) — a server never wraps under a key that a rotation has moved on from
//! — and when a wrapped key names a key the ring does not hold (re-wrapped under a newer one).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::error::CryptoError;
use crate::keyfile::{io_err, load_ring};
use crate::keyring::KeyRing;

/// What identifies one version of the file: a save writes a new file and renames it over the
/// old one, so the inode changes; the times and length catch an edit in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    fn of(path: &Path) -> Result<FileStamp, CryptoError> {
        let meta = fs::metadata(path).map_err(io_err("inspect", path))?;
        Ok(FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

struct Loaded {
    stamp: Option<FileStamp>,
    ring: Arc<KeyRing>,
}

/// The key ring as it is now: either fixed (tests, benchmarks) or following its file.
pub struct LiveKeyRing {
    file: Option<PathBuf>,
    loaded: RwLock<Loaded>,
}

impl std::fmt::Debug for LiveKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKeyRing")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl From<KeyRing> for LiveKeyRing {
    /// A ring that never changes.
    fn from(ring: KeyRing) -> LiveKeyRing {
        LiveKeyRing {
            file: None,
            loaded: RwLock::new(Loaded {
                stamp: None,
                ring: Arc::new(ring),
            }),
        }
    }
}

impl LiveKeyRing {
    /// Loads the ring in `file` and follows it from then on.
    pub fn follow(file: impl Into<PathBuf>) -> Result<LiveKeyRing, CryptoError> {
        let file = file.into();
        let loaded = load(&file)?;
        Ok(LiveKeyRing {
            file: Some(file),
            loaded: RwLock::new(loaded),
        })
    }

    /// The ring as the file holds it now: reloaded if the file changed since it was last read.
    /// A file that cannot be read is an error, not a reason to go on with the old ring: the
    /// old ring may hold a key that is being retired.
    pub fn current(&self) -> Result<Arc<KeyRing>, CryptoError> {
        let Some(file) = &self.file else {
            return Ok(self.held());
        };
        let stamp = FileStamp::of(file)?;
        {
            let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
            if loaded.stamp == Some(stamp) {
                return Ok(loaded.ring.clone());
            }
        }
        self.reload()
    }

    /// Reads the file again, whether or not it looks changed.
    pub fn reload(&self) -> Result<Arc<KeyRing>, CryptoError> {
        let Some(file) = &self.file else {
            return Ok(self.held());
        };
        let fresh = load(file)?;
        let ring = fresh.ring.clone();
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(ring)
    }

    /// The ring last read, without looking at the file.
    pub fn held(&self) -> Arc<KeyRing> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .ring
            .clone()
    }
}

/// The stamp is taken before reading: a save between the two leaves a stamp older than the
/// ring, so the next look reloads (the safe side).
fn load(file: &Path) -> Result<Loaded, CryptoError> {
    let stamp = FileStamp::of(file)?;
    let ring = load_ring(file)?;
    Ok(Loaded {
        stamp: Some(stamp),
        ring: Arc::new(ring),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyFiles;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    #[test]
    fn a_rotation_on_disk_is_seen_at_the_next_look() {
        let dir = tempfile::tempdir().unwrap();
        let files = KeyFiles::in_dir(dir.path());
        let (ring, _) = files.load_or_create(&mut rng(1)).unwrap();
        let live = LiveKeyRing::follow(files.key_ring_path()).unwrap();
        assert_eq!(live.current().unwrap().active_id(), ring.active_id());
        let rotated = ring.rotate(&mut rng(2));
        files.save_key_ring(&rotated).unwrap();
        assert_eq!(live.current().unwrap().active_id(), rotated.active_id());
        assert_eq!(live.held().active_id(), rotated.active_id());
    }

    #[test]
    fn a_missing_file_is_an_error_not_the_old_ring() {
        let dir = tempfile::tempdir().unwrap();
        let files = KeyFiles::in_dir(dir.path());
        files.load_or_create(&mut rng(1)).unwrap();
        let live = LiveKeyRing::follow(files.key_ring_path()).unwrap();
        fs::remove_file(files.key_ring_path()).unwrap();
        assert!(live.current().is_err());
    }

    #[test]
    fn a_fixed_ring_never_looks_at_a_file() {
        let ring = KeyRing::generate(&mut rng(1));
        let id = ring.active_id().clone();
        let live = LiveKeyRing::from(ring);
        assert_eq!(*live.current().unwrap().active_id(), id);
        assert_eq!(*live.reload().unwrap().active_id(), id);
    }
}
