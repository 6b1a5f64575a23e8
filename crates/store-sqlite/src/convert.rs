//! How domain values are laid out in SQLite columns, and back.

use integritet_app::store::StoreError;
use time::{Date, Month, OffsetDateTime};

use crate::error::corrupt;

/// An instant as Unix nanoseconds: exact, and ordered as instants are. The offset is not kept
/// (everything is UTC once stored).
pub(crate) fn nanos(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos()).map_err(|_| {
        StoreError::Unavailable(format!(
            "the time {at} cannot be stored: SQLite keeps instants between the years 1677 and \
             2262; this is a bug in the caller"
        ))
    })
}

/// The instant stored in `table.column` of the row `key`.
pub(crate) fn instant(
    nanos: i64,
    table: &str,
    column: &str,
    key: impl std::fmt::Display,
) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|_| corrupt(table, column, key))
}

/// A day as `YYYY-MM-DD`, which sorts as days do (for the years 0 to 9999 that matter here).
pub(crate) fn day_text(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

pub(crate) fn day(
    text: &str,
    table: &str,
    column: &str,
    key: impl std::fmt::Display,
) -> Result<Date, StoreError> {
    let parse = || -> Option<Date> {
        let mut parts = text.splitn(3, '-');
        let year = parts.next()?.parse::<i32>().ok()?;
        let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
        let day = parts.next()?.parse::<u8>().ok()?;
        Date::from_calendar_date(year, month, day).ok()
    };
    parse().ok_or_else(|| corrupt(table, column, key))
}

/// A list of names (purposes, categories) as a JSON array.
pub(crate) fn names_json(names: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(names)
        .map_err(|e| StoreError::Unavailable(format!("encoding a list of names failed: {e}")))
}

pub(crate) fn names(
    json: &str,
    table: &str,
    column: &str,
    key: impl std::fmt::Display,
) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt(table, column, key))
}

/// A 16-byte id column.
pub(crate) fn uuid(
    bytes: &[u8],
    table: &str,
    column: &str,
    key: impl std::fmt::Display,
) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::from_slice(bytes).map_err(|_| corrupt(table, column, key))
}

/// A row's MAC. Anything but 32 bytes (a row from before MACs, a column someone edited) reads
/// as zeros, which no row's MAC is: the row is refused by the check above, not by a read error.
pub(crate) fn mac(row: &rusqlite::Row<'_>, index: usize) -> Result<[u8; 32], rusqlite::Error> {
    let value = row.get_ref(index)?;
    Ok(value
        .as_blob()
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .unwrap_or([0; 32]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn instants_round_trip_to_the_nanosecond() {
        let at = datetime!(2026-03-01 10:00:00.123456789 +02:00);
        let back = instant(nanos(at).unwrap(), "t", "c", 1).unwrap();
        assert_eq!(back, at);
        assert_eq!(back.offset(), time::UtcOffset::UTC);
        assert!(nanos(datetime!(2300-01-01 0:00 UTC)).is_err());
    }

    #[test]
    fn days_round_trip_and_sort() {
        for d in [
            date!(2026 - 01 - 09),
            date!(0999 - 12 - 31),
            date!(9999 - 12 - 31),
        ] {
            assert_eq!(day(&day_text(d), "t", "c", 1).unwrap(), d);
        }
        assert!(day_text(date!(2026 - 12 - 31)) < day_text(date!(2027 - 01 - 01)));
        assert!(day("2026-13-01", "t", "c", 1).is_err());
    }
}
