//! Retention arithmetic: until which day a purpose may keep a value.

use time::{Date, Month};

use crate::policy::Retention;

/// The last day a value may be kept under `rule`, counted from `start` (the day of the last
/// relevant activity, or of collection). `None` when the rule has no end date of its own
/// (until consent is withdrawn) or names no period.
pub fn keep_until(rule: &Retention, start: Date, financial_year: FinancialYear) -> Option<Date> {
    match rule {
        Retention::AfterLastActivity { months, .. } | Retention::FixedPeriod { months } => {
            Some(add_months(start, *months))
        }
        Retention::AsRequiredBy {
            months: Some(months),
            ..
        } => Some(add_months(start, *months)),
        Retention::AsRequiredBy { months: None, .. } | Retention::UntilConsentWithdrawn => None,
        Retention::Bokforingslagen => Some(bokforingslagen_until(start, financial_year)),
    }
}

/// A financial year (räkenskapsår): twelve months from the first day of a month
/// (Bokföringslagen 3 kap. 1 §).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FinancialYear {
    start_month: Month,
}

impl FinancialYear {
    /// The calendar year, the default.
    pub const CALENDAR: FinancialYear = FinancialYear {
        start_month: Month::January,
    };

    /// A year from the first of `month` (a broken year unless January).
    pub fn starting_in(month: Month) -> FinancialYear {
        FinancialYear { start_month: month }
    }

    /// The last day of the financial year that `date` falls in.
    pub fn end_of_year_containing(self, date: Date) -> Date {
        let ends_next_calendar_year =
            self.start_month != Month::January && date.month() as u8 >= self.start_month as u8;
        let year = date.year() + i32::from(ends_next_calendar_year);
        let last_month = self.start_month.previous();
        Date::from_calendar_date(year, last_month, last_month.length(year)).unwrap_or(Date::MAX)
    }
}

/// Bokföringslagen (1999:1078) 7 kap. 2 §: records are kept until the end of the seventh year
/// after the calendar year in which the financial year of the transaction ended.
pub fn bokforingslagen_until(transaction: Date, financial_year: FinancialYear) -> Date {
    let year = financial_year.end_of_year_containing(transaction).year() + 7;
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
        let calendar = FinancialYear::CALENDAR;
        assert_eq!(
            bokforingslagen_until(date!(2026 - 03 - 01), calendar),
            date!(2033 - 12 - 31)
        );
        assert_eq!(
            bokforingslagen_until(date!(2026 - 12 - 31), calendar),
            date!(2033 - 12 - 31)
        );
        // The 2022 financial year's invoices: kept through 2029, shredded on 2030-01-01.
        assert_eq!(
            bokforingslagen_until(date!(2022 - 03 - 15), calendar),
            date!(2029 - 12 - 31)
        );
    }

    #[test]
    fn a_broken_financial_year_gives_the_later_date() {
        let july = FinancialYear::starting_in(Month::July);
        // 1 July 2022 – 30 June 2023 ends in 2023: kept through 2030.
        assert_eq!(
            july.end_of_year_containing(date!(2022 - 08 - 01)),
            date!(2023 - 06 - 30)
        );
        assert_eq!(
            bokforingslagen_until(date!(2022 - 08 - 01), july),
            date!(2030 - 12 - 31)
        );
        // 1 July 2021 – 30 June 2022 ends in 2022.
        assert_eq!(
            bokforingslagen_until(date!(2022 - 03 - 15), july),
            date!(2029 - 12 - 31)
        );
        assert_eq!(
            july.end_of_year_containing(date!(2022 - 06 - 30)),
            date!(2022 - 06 - 30)
        );
        let february = FinancialYear::starting_in(Month::February);
        assert_eq!(
            february.end_of_year_containing(date!(2024 - 02 - 01)),
            date!(2025 - 01 - 31)
        );
        // Never earlier than the calendar year's rule.
        for month in 1..=12u8 {
            let year = FinancialYear::starting_in(Month::try_from(month).unwrap());
            let mut day = date!(2020 - 01 - 01);
            while day < date!(2022 - 01 - 01) {
                let fy = year.end_of_year_containing(day);
                assert!(
                    fy >= day && fy - day < time::Duration::days(366),
                    "{month} {day}"
                );
                assert!(
                    bokforingslagen_until(day, year)
                        >= bokforingslagen_until(day, FinancialYear::CALENDAR)
                );
                day = day.next_day().unwrap();
            }
        }
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
                start,
                FinancialYear::CALENDAR
            ),
            Some(date!(2029 - 05 - 10))
        );
        assert_eq!(
            keep_until(
                &Retention::UntilConsentWithdrawn,
                start,
                FinancialYear::CALENDAR
            ),
            None
        );
        assert_eq!(
            keep_until(
                &Retention::AsRequiredBy {
                    law: None,
                    months: None
                },
                start,
                FinancialYear::CALENDAR
            ),
            None
        );
        assert_eq!(
            keep_until(&Retention::Bokforingslagen, start, FinancialYear::CALENDAR),
            Some(date!(2033 - 12 - 31))
        );
    }
}
