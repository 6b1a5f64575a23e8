//! Daily jobs on SQLite: a lock file beside the database, held while a job runs, that also
//! keeps the last day the job was done. Several processes on one database file (a server and
//! a CLI sweep, two servers) then run a job once a day, one at a time; the lock is the
//! operating system's, so a process that dies lets it go.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use async_trait::async_trait;
use integritet_app::store::{DailyJob, StoreError};
use time::Date;

pub(crate) fn take(
    database: &Path,
    name: &str,
    day: Date,
) -> Result<Option<Box<dyn DailyJob>>, StoreError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(StoreError::Unsupported(format!(
            "{name:?} is no job name: lower-case letters and _ only"
        )));
    }
    let mut path = database.as_os_str().to_owned();
    path.push(format!(".{name}.job"));
    let io = |e: std::io::Error| {
        StoreError::Unavailable(format!(
            "cannot use the job file {}: {e}",
            Path::new(&path).display()
        ))
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    let mut last = String::new();
    file.read_to_string(&mut last).map_err(io)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if Date::parse(last.trim(), format).is_ok_and(|last| last >= day) {
        return Ok(None);
    }
    Ok(Some(Box::new(SqliteDailyJob { file, day })))
}

struct SqliteDailyJob {
    /// Locked; unlocked when dropped.
    file: File,
    day: Date,
}

#[async_trait]
impl DailyJob for SqliteDailyJob {
    async fn done(mut self: Box<Self>) -> Result<(), StoreError> {
        let io =
            |e: std::io::Error| StoreError::Unavailable(format!("cannot record a daily job: {e}"));
        self.file.set_len(0).map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(self.file, "{}", self.day).map_err(io)?;
        self.file.sync_all().map_err(io)
    }
}
