//! When a data subject's request must be answered: GDPR Art. 12(3), with periods counted as
//! Regulation (EEC, Euratom) No 1182/71 art. 3 counts them.
//!
//! The day of receipt is not counted; a period of months ends on the day of the last month
//! with the same date as the day of receipt, or on that month's last day when it has no such
//! date; a period that would end on a Saturday, a Sunday or a public holiday ends at the end
//! of the next working day.

use time::Date;

use super::calendar::this_or_next_working_day;
use crate::retention::add_months;

/// The first month of Art. 12(3).
pub const FIRST_PERIOD_MONTHS: u32 = 1;
/// The most an extension may add: "by two further months".
pub const MAX_EXTENSION_MONTHS: u32 = 2;

/// The last day of a period of `months` months from a request received on `received`.
pub fn period_end(received: Date, months: u32) -> Date {
    this_or_next_working_day(add_months(received, months))
}

/// The last day to answer a request received on `received`, extended by `extension_months`.
pub fn answer_by(received: Date, extension_months: u32) -> Date {
    period_end(
        received,
        FIRST_PERIOD_MONTHS + extension_months.min(MAX_EXTENSION_MONTHS),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;
    use time::{Duration, Weekday};

    use super::*;
    use crate::request::calendar::is_working_day;

    #[test]
    fn the_dated_cases() {
        // 31 January: February has no 31st, its last day is a Saturday, so Monday 2 March.
        assert_eq!(answer_by(date!(2026 - 01 - 31), 0), date!(2026 - 03 - 02));
        assert_eq!(answer_by(date!(2026 - 03 - 10), 0), date!(2026 - 04 - 10));
        // Easter: 3–6 April 2026 are holidays or a Saturday.
        assert_eq!(answer_by(date!(2026 - 03 - 03), 0), date!(2026 - 04 - 07));
        assert_eq!(answer_by(date!(2026 - 03 - 10), 2), date!(2026 - 06 - 10));
        // A leap year's February has its 29th.
        assert_eq!(answer_by(date!(2028 - 01 - 29), 0), date!(2028 - 02 - 29));
        assert_eq!(answer_by(date!(2026 - 11 - 25), 0), date!(2026 - 12 - 28));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (2000i32..2100, 1u8..=12, 1u8..=31).prop_map(|(y, m, d)| {
            let month = time::Month::try_from(m).unwrap_or(time::Month::January);
            Date::from_calendar_date(y, month, d.min(month.length(y))).unwrap_or(Date::MIN)
        })
    }

    proptest! {
        #[test]
        fn a_deadline_is_a_working_day_about_a_month_on(received in any_date(), ext in 0u32..=2) {
            let due = answer_by(received, ext);
            prop_assert!(is_working_day(due));
            prop_assert!(due.weekday() != Weekday::Saturday && due.weekday() != Weekday::Sunday);
            let months = 1 + ext;
            // Never earlier than the calendar period, and at most a long weekend after it.
            let plain = add_months(received, months);
            prop_assert!(due >= plain);
            prop_assert!(due - plain <= Duration::days(4), "{received} {due}");
            prop_assert!(due - received >= Duration::days(28 * i64::from(months)));
        }

        #[test]
        fn a_later_receipt_is_never_due_earlier(received in any_date(), ext in 0u32..=2) {
            if let Some(next) = received.next_day() {
                prop_assert!(answer_by(next, ext) >= answer_by(received, ext));
            }
            prop_assert!(answer_by(received, ext + 1) > answer_by(received, ext) || ext >= 2);
        }
    }
}
