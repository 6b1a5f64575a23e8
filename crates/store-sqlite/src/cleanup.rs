//! Index entries left behind when values go, removed while the writer has nothing else to do.
//!
//! The blind index is ordered by token, so the entries of one subject lie on as many random
//! pages as it has entries. Removing them inside each erasure made a million-subject sweep
//! write most of the index once per commit. Instead an erasure (or a removed or replaced
//! value) names the subject in `index_cleanup`, and lookups answer only entries whose value
//! still exists, so a left-over entry finds no one from the moment its value goes. The writer
//! then removes the entries between its commits:
//!
//! - a few subjects waiting: their entries, found through the by-value index;
//! - many: one range of tokens per turn, which writes each index page once however many of
//!   its entries go, and lets waiting writes in between the ranges.
//!
//! Only entries whose value is gone are removed, so a subject that still has values keeps
//! their entries. A crash loses nothing: what was not cleaned is still named and cleaned after
//! the next open.

use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};

use integritet_app::store::StoreError;
use integritet_domain::subject::SubjectId;

use crate::error;
use crate::tx::{self, Begin};

/// Subjects waiting at most this many are cleaned one by one; more by scanning token ranges.
const ONE_BY_ONE_AT_MOST: i64 = 512;
/// Token ranges per kind of index entry in a scan (by the token's first byte).
const RANGES: u16 = 16;
/// How long the writer must have had nothing to do after a commit before a turn: a sweep's or
/// an import's commits come closer together than this, so the cleanup waits for them to end.
const QUIET: Duration = Duration::from_millis(200);
/// Under writes that never pause, a turn is still taken this often.
const AT_LEAST_EVERY: Duration = Duration::from_secs(5);

/// Names a subject whose index may now hold entries without a value. Inside the job's
/// savepoint: undone with the change that left them.
pub(crate) fn leave_entries(conn: &Connection, subject: &SubjectId) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO index_cleanup (subject_id) VALUES (?1)")
        .and_then(|mut stmt| stmt.execute([subject.as_bytes().as_slice()]))
        .map(drop)
        .map_err(|e| error::db("noting index entries to clean up", e))
}

/// Whether any subject waits for its cleanup.
pub(crate) fn waiting(conn: &Connection) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM index_cleanup)")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(|e| error::db("checking for index entries to clean up", e))
}

/// The writer's cleanup, carried from one idle turn to the next.
#[derive(Debug, Default)]
pub(crate) struct Cleanup {
    /// Since when there may be work (or since the last turn): set by a commit, cleared when a
    /// turn finds none.
    due: Option<Instant>,
    /// A commit came since the last turn: wait for `QUIET` before the next.
    wait: bool,
    scan: Option<Scan>,
}

/// A scan under way: the subjects up to `upto` are cleaned range by range.
#[derive(Debug)]
struct Scan {
    upto: i64,
    kinds: Vec<String>,
    /// The next of `kinds.len() * RANGES` ranges.
    next: usize,
}

impl Cleanup {
    /// A cleanup that looks for work first (some may have been left by an earlier process).
    pub(crate) fn new(now: Instant) -> Cleanup {
        Cleanup {
            due: Some(now),
            wait: false,
            scan: None,
        }
    }

    pub(crate) fn due(&self) -> bool {
        self.due.is_some()
    }

    /// How long to wait for other work before the next turn.
    pub(crate) fn wait(&self) -> Duration {
        if self.wait { QUIET } else { Duration::ZERO }
    }

    /// Due and put off so long under writes that a turn is taken between them anyway.
    pub(crate) fn overdue(&self, now: Instant) -> bool {
        self.due
            .is_some_and(|since| now.saturating_duration_since(since) >= AT_LEAST_EVERY)
    }

    /// Something was committed: there may be entries to clean.
    pub(crate) fn after_commit(&mut self, now: Instant) {
        self.due.get_or_insert(now);
        self.wait = true;
    }

    /// One turn of work, in a transaction of its own; afterwards `due` says whether more is
    /// left. A failure stops the cleanup until the next commit, which tries again.
    pub(crate) fn turn(&mut self, conn: &Connection, now: Instant) -> Result<(), StoreError> {
        if self.due.is_some() {
            self.due = Some(now);
        }
        self.wait = false;
        let turned = tx::within(conn, Begin::Immediate, "cleaning up the index", |conn| {
            self.turn_in(conn)
        });
        if turned.is_err() {
            self.due = None;
            self.scan = None;
        }
        turned
    }

    fn turn_in(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let db = |e| error::db("cleaning up the index", e);
        let Some(scan) = &mut self.scan else {
            let (first, last): (Option<i64>, Option<i64>) = conn
                .prepare_cached("SELECT min(seq), max(seq) FROM index_cleanup")
                .and_then(|mut stmt| stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?))))
                .map_err(db)?;
            let (Some(first), Some(last)) = (first, last) else {
                self.due = None;
                return Ok(());
            };
            // Seqs only grow, so their spread bounds the subjects waiting.
            if last - first < ONE_BY_ONE_AT_MOST {
                one_by_one(conn, last)?;
                return Ok(());
            }
            self.scan = Some(Scan {
                upto: last,
                kinds: kinds(conn)?,
                next: 0,
            });
            return Ok(());
        };
        let ranges = scan.kinds.len() * usize::from(RANGES);
        if let Some(kind) = scan.kinds.get(scan.next / usize::from(RANGES))
            && scan.next < ranges
        {
            let range = u16::try_from(scan.next % usize::from(RANGES)).unwrap_or(0);
            clean_range(conn, kind, range, scan.upto)?;
            scan.next += 1;
            return Ok(());
        }
        conn.prepare_cached("DELETE FROM index_cleanup WHERE seq <= ?1")
            .and_then(|mut stmt| stmt.execute([scan.upto]))
            .map_err(db)?;
        self.scan = None;
        Ok(())
    }
}

/// Cleans the waiting subjects up to `upto` through the by-value index.
fn one_by_one(conn: &Connection, upto: i64) -> Result<(), StoreError> {
    let db = |e| error::db("cleaning up the index", e);
    let subjects: Vec<Vec<u8>> = conn
        .prepare_cached("SELECT DISTINCT subject_id FROM index_cleanup WHERE seq <= ?1")
        .and_then(|mut stmt| {
            stmt.query_map([upto], |row| row.get(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(db)?;
    let mut stmt = conn
        .prepare_cached(
            "DELETE FROM blind_index
             WHERE subject_id = ?1
               AND NOT EXISTS (SELECT 1 FROM subject_values AS value
                               WHERE value.subject_id = ?1 AND value.id = blind_index.value_id)",
        )
        .map_err(db)?;
    for subject in &subjects {
        stmt.execute([subject.as_slice()]).map_err(db)?;
    }
    conn.prepare_cached("DELETE FROM index_cleanup WHERE seq <= ?1")
        .and_then(|mut stmt| stmt.execute([upto]))
        .map(drop)
        .map_err(db)
}

/// The kinds of entry in the index, each found by one step down its primary key.
fn kinds(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let db = |e| error::db("cleaning up the index", e);
    let mut stmt = conn
        .prepare_cached("SELECT min(kind) FROM blind_index WHERE kind > ?1")
        .map_err(db)?;
    let mut kinds = Vec::new();
    let mut after = String::new();
    while let Some(kind) = stmt
        .query_row([&after], |row| row.get::<_, Option<String>>(0))
        .optional()
        .map_err(db)?
        .flatten()
    {
        kinds.push(kind.clone());
        after = kind;
    }
    Ok(kinds)
}

/// Removes, among the entries of `kind` whose token starts in `range`, those of a waiting
/// subject (up to `upto`) whose value is gone.
fn clean_range(conn: &Connection, kind: &str, range: u16, upto: i64) -> Result<(), StoreError> {
    let db = |e| error::db("cleaning up the index", e);
    let step = 256 / RANGES;
    let low = vec![u8::try_from(range * step).unwrap_or(u8::MAX)];
    // The last range has no upper end: a token of 0xFF… sorts after any one-byte bound.
    let high = u8::try_from((range + 1) * step)
        .map(|b| vec![b])
        .unwrap_or_else(|_| vec![u8::MAX; 33]);
    conn.prepare_cached(
        "DELETE FROM blind_index
         WHERE kind = ?1 AND token >= ?2 AND token < ?3
           AND EXISTS (SELECT 1 FROM index_cleanup AS waiting
                       WHERE waiting.subject_id = blind_index.subject_id AND waiting.seq <= ?4)
           AND NOT EXISTS (SELECT 1 FROM subject_values AS value
                           WHERE value.subject_id = blind_index.subject_id
                             AND value.id = blind_index.value_id)",
    )
    .and_then(|mut stmt| stmt.execute((kind, low.as_slice(), high.as_slice(), upto)))
    .map(drop)
    .map_err(db)
}
