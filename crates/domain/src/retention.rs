//! Retention arithmetic: until which day a purpose may keep a value.

use time::{Date, Month};

use crate::policy::Retention;

/// The last day a value may be kept under `rule`, counted from `start` (the day of the last
/// relevant activity, or of collection). `None` when the rule has no end date of its own
/// (until consent is withdrawn) or names no period.
pub fn keep_until(rule: &Retention, start: Date) -> Option<Date> {
    match rule {
        Retention::AfterLastActivity { months, .. } | Retention::FixedPeriod { months } => {
            Some(add_months(start, *months))
        }
        Retention::AsRequiredBy {
            months: Some(months),
            ..
        } => Some(add_months(start, *months)),
        Retention::AsRequiredBy { months: None, .. } | Retention::UntilConsentWithdrawn => None,
        Retention::Bokforingslagen => Some(bokforingslagen_until(start)),
    }
}

/// Bokföringslagen (1999:1078) 7 kap. 2 §: records are kept until the end of the seventh year
/// after the calendar year in which the financial year ended. The financial year is taken to be
/// the calendar year (the common case; a broken financial year ends earlier, never later).
pub fn bokforingslagen_until(transaction: Date) -> Date {
    let year = transaction.year() + 7;
    Date::from_calendar_date(year, Month::December, 31).unwrap_or(Date::MAX)
}

/// Adds calendar months, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb).
pub fn add_months(date: Date, months: u32) -> Date {
    let total = date.year() as i64 * 12 + (date.month() as i64 - 1) + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(i32::MAX);
    let month_index = u8::try_from(total.rem_euclid(12) + 1).unwrap_or(12);
    let month = Month::try_from(month_index).unwrap_or(Month::December);
    let last_day = month.length(year);
    Date::from_calendar_date(year, month, date.day().min(last_day)).unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 03 - 15), 36), date!(2029 - 03 - 15));
        assert_eq!(add_months(date!(2026 - 11 - 30), 13), date!(2027 - 12 - 30));
    }

    #[test]
    fn bokforingslagen_keeps_to_the_end_of_the_seventh_year() {
        // A purchase in 2026: the financial year ends 2026-12-31; keep through 2033.
        assert_eq!(
            bokforingslagen_until(date!(2026 - 03 - 01)),
            date!(2033 - 12 - 31)
        );
        assert_eq!(
            bokforingslagen_until(date!(2026 - 12 - 31)),
            date!(2033 - 12 - 31)
        );
    }

    #[test]
    fn rules() {
        let start = date!(2026 - 05 - 10);
        assert_eq!(
            keep_until(
                &Retention::AfterLastActivity {
                    months: 36,
                    activities: vec![]
                },
                start
            ),
            Some(date!(2029 - 05 - 10))
        );
        assert_eq!(keep_until(&Retention::UntilConsentWithdrawn, start), None);
        assert_eq!(
            keep_until(
                &Retention::AsRequiredBy {
                    law: None,
                    months: None
                },
                start
            ),
            None
        );
        assert_eq!(
            keep_until(&Retention::Bokforingslagen, start),
            Some(date!(2033 - 12 - 31))
        );
    }
}
