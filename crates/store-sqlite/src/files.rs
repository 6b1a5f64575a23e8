//! The database file and its backups: created readable by their owner only, and a backup is a
//! consistent copy written while the store stays in use.

use std::path::{Path, PathBuf};

use integritet_app::store::StoreError;
use rusqlite::{Connection, OpenFlags};

use crate::error;

/// Creates the directory and an empty database file readable by its owner only, so that the
/// WAL and shared-memory files SQLite creates beside it get the same permissions.
pub(crate) fn prepare(path: &Path) -> Result<(), StoreError> {
    let unavailable = |what: &str, e: std::io::Error| {
        StoreError::Unavailable(format!(
            "{what} {} failed ({e}); check the path and its permissions",
            path.display()
        ))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir).map_err(|e| unavailable("creating the directory of", e))?;
    }
    match create_private_file(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(unavailable("creating", e)),
    }
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Creates `path`, failing if it exists, with owner-only permissions where there are any.
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes a consistent copy of the database at `source` to `dest` (`VACUUM INTO` on a
/// connection of its own, so readers and the writer carry on), flushed to disk. Never
/// overwrites; a failed backup leaves no file behind.
pub(crate) fn backup(source: &Path, dest: &Path) -> Result<(), StoreError> {
    // Absolute, so SQLite never reads the name as a `file:` URI.
    let dest: PathBuf = std::path::absolute(dest).map_err(|e| {
        StoreError::Unavailable(format!(
            "the backup path {} cannot be resolved ({e}); give an absolute path",
            dest.display()
        ))
    })?;
    let Some(text) = dest.to_str() else {
        return Err(StoreError::Unavailable(format!(
            "the backup path {} is not valid UTF-8, which SQLite needs; choose another path",
            dest.display()
        )));
    };
    // Claim the name first: refuses an existing file, and gives the copy owner-only
    // permissions (VACUUM INTO accepts an empty file).
    let claimed = dest
        .parent()
        .map_or(Ok(()), create_dir)
        .and_then(|()| create_private_file(&dest).map(drop));
    if let Err(e) = claimed {
        return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
            StoreError::Unsupported(format!(
                "the backup destination {} already exists; choose a new path (a backup never \
                 overwrites)",
                dest.display()
            ))
        } else {
            StoreError::Unavailable(format!(
                "creating the backup {} failed ({e}); check the path and its permissions",
                dest.display()
            ))
        });
    }
    let copied = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|conn| conn.execute("VACUUM INTO ?1", [text]))
    .map_err(|e| error::db("writing the backup", e))
    .and_then(|_| {
        sync(&dest).map_err(|e| {
            StoreError::Unavailable(format!(
                "flushing the backup to disk failed ({e}); check the disk and retry"
            ))
        })
    });
    if copied.is_err() {
        // No half-written backup left behind to be mistaken for a good one.
        let _ = std::fs::remove_file(&dest);
    }
    copied
}

/// Makes a finished backup durable: its content, then its name in the directory.
fn sync(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
