//! The date in Sweden of an instant: a request received at 00:30 Swedish time on the 1st was
//! received on the 1st, although it was still the 31st in UTC.
//!
//! Sweden keeps Central European Time (UTC+1) and summer time (UTC+2) from 01:00 UTC on the
//! last Sunday of March until 01:00 UTC on the last Sunday of October, the EU's rule
//! (Directive 2000/84/EC); written out here so the domain needs no time-zone database.

use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset, Weekday};

/// The calendar date in Sweden at `instant`.
pub fn stockholm_date(instant: OffsetDateTime) -> Date {
    let utc = instant.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let summer = match (
        last_sunday_at_one(year, Month::March),
        last_sunday_at_one(year, Month::October),
    ) {
        (Some(start), Some(end)) => utc >= start && utc < end,
        _ => false,
    };
    let hours = if summer { 2 } else { 1 };
    (utc + Duration::hours(hours)).date()
}

/// 01:00 UTC on the last Sunday of `month` in `year`.
fn last_sunday_at_one(year: i32, month: Month) -> Option<OffsetDateTime> {
    let mut day = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day()?;
    }
    Some(day.with_time(Time::from_hms(1, 0, 0).ok()?).assume_utc())
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn winter_and_summer_time_give_the_swedish_date() {
        assert_eq!(
            stockholm_date(datetime!(2026-01-31 22:59 UTC)),
            date!(2026 - 01 - 31)
        );
        assert_eq!(
            stockholm_date(datetime!(2026-01-31 23:00 UTC)),
            date!(2026 - 02 - 01)
        );
        assert_eq!(
            stockholm_date(datetime!(2026-07-10 21:59 UTC)),
            date!(2026 - 07 - 10)
        );
        assert_eq!(
            stockholm_date(datetime!(2026-07-10 22:00 UTC)),
            date!(2026 - 07 - 11)
        );
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(
            stockholm_date(datetime!(2026-03-28 23:30 UTC)),
            date!(2026 - 03 - 29)
        );
        assert_eq!(
            stockholm_date(datetime!(2026-10-24 22:30 UTC)),
            date!(2026 - 10 - 25)
        );
        assert_eq!(
            stockholm_date(datetime!(2026-10-25 22:30 UTC)),
            date!(2026 - 10 - 25)
        );
        assert_eq!(
            stockholm_date(datetime!(2026-10-25 23:30 UTC)),
            date!(2026 - 10 - 26)
        );
        // Any offset is read as the instant it is.
        assert_eq!(
            stockholm_date(datetime!(2026-01-31 23:30 +01:00)),
            date!(2026 - 01 - 31)
        );
    }
}
