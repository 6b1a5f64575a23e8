//! Conversions between the records' types and the columns'.

use integritet_app::store::StoreError;
use integritet_domain::audit::ChainHash;
use integritet_domain::subject::{ArchiveRef, Provenance, SubjectKind};
use time::OffsetDateTime;

use crate::error::corrupt;

/// An instant as stored: nanoseconds since the Unix epoch, so that it reads back exactly.
pub(crate) fn to_ns(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos()).map_err(|_| {
        StoreError::Unsupported(format!(
            "the time {at} is outside what the PostgreSQL store holds (years 1677 to 2262)"
        ))
    })
}

/// Reads back an instant, in UTC (instants compare equal whatever their offset).
pub(crate) fn from_ns(ns: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .map_err(|e| corrupt(format!("a stored time ({ns} ns) is out of range: {e}")))
}

pub(crate) fn seq_to_db(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| {
        StoreError::Unsupported(format!("audit sequence number {seq} is too large to store"))
    })
}

pub(crate) fn seq_from_db(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| corrupt(format!("audit entry has a negative seq ({seq})")))
}

pub(crate) fn hash_from_db(bytes: &[u8], what: &str) -> Result<ChainHash, StoreError> {
    ChainHash::from_slice(bytes).ok_or_else(|| {
        corrupt(format!(
            "{what} is {} bytes long instead of 32",
            bytes.len()
        ))
    })
}

pub(crate) fn kind_from_db(text: &str) -> Result<SubjectKind, StoreError> {
    SubjectKind::parse(text).ok_or_else(|| corrupt(format!("unknown subject kind {text:?}")))
}

pub(crate) fn provenance_from_db(text: &str) -> Result<Provenance, StoreError> {
    Provenance::parse(text).ok_or_else(|| corrupt(format!("unknown provenance {text:?}")))
}

pub(crate) fn archive_ref_from_db(text: &str) -> Result<ArchiveRef, StoreError> {
    ArchiveRef::parse(text).ok_or_else(|| corrupt(format!("malformed archive reference {text:?}")))
}

/// Array positions for one row's slice of a flattened `text[]`: PostgreSQL cannot bind a
/// ragged array of arrays, so a batch sends every list end to end in one array, and each row
/// takes `flat[from:to]` (1-based, inclusive; `from > to` is the empty list).
#[derive(Debug, Default)]
pub(crate) struct Flattened {
    pub(crate) items: Vec<String>,
    pub(crate) from: Vec<i32>,
    pub(crate) to: Vec<i32>,
}

impl Flattened {
    pub(crate) fn push(&mut self, list: Vec<String>) -> Result<(), StoreError> {
        let too_many = |_| StoreError::Unsupported("too many list items in one batch".into());
        let from = i32::try_from(self.items.len() + 1).map_err(too_many)?;
        self.items.extend(list);
        let to = i32::try_from(self.items.len()).map_err(too_many)?;
        self.from.push(from);
        self.to.push(to);
        Ok(())
    }
}

/// A row's MAC. Anything but 32 bytes (a row from before MACs, a column someone edited) reads
/// as zeros, which no row's MAC is: the row is refused by its check, not by a read error.
pub(crate) fn mac(stored: &[u8]) -> [u8; 32] {
    <[u8; 32]>::try_from(stored).unwrap_or([0; 32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn nanoseconds_round_trip() {
        let at = datetime!(2026-03-01 10:00:00.123456789 +02:00);
        assert_eq!(from_ns(to_ns(at).unwrap()).unwrap(), at);
        assert!(to_ns(datetime!(2300-01-01 0:00 UTC)).is_err());
    }

    #[test]
    fn flattened_lists_mark_their_slices() {
        let mut flat = Flattened::default();
        flat.push(vec!["a".into(), "b".into()]).unwrap();
        flat.push(vec![]).unwrap();
        flat.push(vec!["c".into()]).unwrap();
        assert_eq!(flat.items, ["a", "b", "c"]);
        assert_eq!(flat.from, [1, 3, 3]);
        assert_eq!(flat.to, [2, 2, 3]);
    }
}
