//! Civil (proleptic Gregorian, UTC) dates and days since 1970-01-01, for
//! the few dates the crate reads and writes itself: a `Retry-After`
//! HTTP-date, the back-off's and the history's timestamps.

/// Days since 1970-01-01 of a date on or after it (Howard Hinnant's
/// algorithm).
pub(crate) fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01 (the inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = u32::try_from(day_of_year - (153 * month_index + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    })
    .unwrap_or(1);
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // A leap day, the turn of a century that is not leap, and one that is.
        for (year, month, day) in [(2024, 2, 29), (2100, 3, 1), (2000, 2, 29), (2026, 12, 6)] {
            let days = days_from_civil(year, month, day);
            let (y, m, d) = civil_from_days(i64::try_from(days).unwrap());
            assert_eq!(
                (y, u64::from(m), u64::from(d)),
                (i64::try_from(year).unwrap(), month, day)
            );
        }
        assert_eq!(civil_from_days(20_428), (2025, 12, 6));
    }
}
