//! Swedish working days: what is not a Saturday, a Sunday or an allmän helgdag under lagen
//! (1989:253) om allmänna helgdagar.

use time::{Date, Duration, Month, Weekday};

/// Whether `date` is an allmän helgdag: every Sunday, nyårsdagen, trettondedag jul,
/// långfredagen, påskdagen, annandag påsk, första maj, Kristi himmelsfärds dag, pingstdagen,
/// nationaldagen, midsommardagen, alla helgons dag, juldagen and annandag jul.
pub fn is_public_holiday(date: Date) -> bool {
    if date.weekday() == Weekday::Sunday {
        return true;
    }
    let (month, day) = (date.month(), date.day());
    let fixed = matches!(
        (month, day),
        (Month::January, 1 | 6) | (Month::May, 1) | (Month::June, 6) | (Month::December, 25 | 26)
    );
    // Midsommardagen: the Saturday of 20–26 June; alla helgons dag: the Saturday of
    // 31 October–6 November.
    let saturday = date.weekday() == Weekday::Saturday;
    let midsummer = saturday && month == Month::June && (20..=26).contains(&day);
    let all_saints = saturday
        && ((month == Month::October && day == 31) || (month == Month::November && day <= 6));
    fixed || midsummer || all_saints || is_easter_holiday(date)
}

/// Whether work is done on `date`: neither a Saturday nor a public holiday.
pub fn is_working_day(date: Date) -> bool {
    date.weekday() != Weekday::Saturday && !is_public_holiday(date)
}

/// `date` itself when it is a working day, else the next one.
pub fn this_or_next_working_day(date: Date) -> Date {
    let mut day = date;
    // At most a few days: a long weekend around Easter or Christmas.
    while !is_working_day(day) {
        match day.next_day() {
            Some(next) => day = next,
            None => return day,
        }
    }
    day
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous algorithm of 1876).
pub fn easter_sunday(year: i32) -> Option<Date> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// Långfredagen, påskdagen, annandag påsk, Kristi himmelsfärds dag and pingstdagen.
fn is_easter_holiday(date: Date) -> bool {
    let Some(easter) = easter_sunday(date.year()) else {
        return false;
    };
    [-2, 0, 1, 39, 49]
        .into_iter()
        .any(|offset| easter.checked_add(Duration::days(offset)) == Some(date))
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn easter_falls_on_its_known_sundays() {
        for (year, easter) in [
            (2024, date!(2024 - 03 - 31)),
            (2025, date!(2025 - 04 - 20)),
            (2026, date!(2026 - 04 - 05)),
            (2027, date!(2027 - 03 - 28)),
            (2038, date!(2038 - 04 - 25)),
            (2285, date!(2285 - 03 - 22)),
        ] {
            assert_eq!(easter_sunday(year), Some(easter), "{year}");
        }
    }

    #[test]
    fn the_holidays_of_2026_are_the_ones_of_the_act() {
        let holidays = [
            date!(2026 - 01 - 01),
            date!(2026 - 01 - 06),
            date!(2026 - 04 - 03),
            date!(2026 - 04 - 05),
            date!(2026 - 04 - 06),
            date!(2026 - 05 - 01),
            date!(2026 - 05 - 14),
            date!(2026 - 05 - 24),
            date!(2026 - 06 - 06),
            date!(2026 - 06 - 20),
            date!(2026 - 10 - 31),
            date!(2026 - 12 - 25),
            date!(2026 - 12 - 26),
        ];
        for day in holidays {
            assert!(is_public_holiday(day), "{day}");
            assert!(!is_working_day(day), "{day}");
        }
        // Eves are working days in law; an ordinary Saturday is not a holiday but no working day.
        for day in [
            date!(2026 - 06 - 19),
            date!(2026 - 12 - 24),
            date!(2026 - 12 - 31),
        ] {
            assert!(is_working_day(day), "{day}");
        }
        assert!(!is_public_holiday(date!(2026 - 02 - 28)));
        assert!(!is_working_day(date!(2026 - 02 - 28)));
        assert_eq!(
            this_or_next_working_day(date!(2026 - 04 - 03)),
            date!(2026 - 04 - 07)
        );
        assert_eq!(
            this_or_next_working_day(date!(2026 - 12 - 25)),
            date!(2026 - 12 - 28)
        );
    }
}
