//! UTC calendar days, written `YYYY-MM-DD` as the views write them.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// One UTC day, counted from 1970-01-01 (day 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// The first day that can be written with four year digits.
    const MIN: i64 = -719_162; // 0001-01-01
    /// The last one: 9999-12-31.
    const MAX: i64 = 2_932_896;

    /// Parses `YYYY-MM-DD` (a real date in years 1 to 9999); `None` for
    /// anything else.
    #[must_use]
    pub fn parse(text: &str) -> Option<Day> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            if part.bytes().all(|byte| byte.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Some(Day(days_from_civil(year, month, day)))
    }

    /// The day holding this many seconds since the Unix epoch.
    #[must_use]
    pub fn from_unix_seconds(seconds: i64) -> Day {
        Day(seconds.div_euclid(86_400).clamp(Self::MIN, Self::MAX))
    }

    /// Today, in UTC, by this machine's clock.
    #[must_use]
    pub fn today() -> Day {
        let seconds = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
        };
        Day::from_unix_seconds(seconds)
    }

    /// This day moved by `days` (negative: earlier), kept within years 1 to 9999.
    #[must_use]
    pub fn plus(self, days: i64) -> Day {
        Day(self.0.saturating_add(days).clamp(Self::MIN, Self::MAX))
    }

    /// The day this many days after 1970-01-01 (kept within years 1 to 9999).
    #[must_use]
    pub fn from_days_since_epoch(days: i64) -> Day {
        Day(days.clamp(Self::MIN, Self::MAX))
    }

    /// Days since 1970-01-01 (negative before).
    #[must_use]
    pub fn days_since_epoch(self) -> i64 {
        self.0
    }

    /// How many days from `self` to `later` (negative when `later` is earlier).
    #[must_use]
    pub fn days_until(self, later: Day) -> i64 {
        later.0 - self.0
    }

    /// Every day from `from` to `to`, both included (empty when `to` is earlier).
    pub fn span(from: Day, to: Day) -> impl Iterator<Item = Day> {
        (from.0..=to.0).map(Day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.0);
        write!(formatter, "{year:04}-{month:02}-{day:02}")
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's `days_from_civil` and `civil_from_days`
// (http://howardhinnant.github.io/date_algorithms.html).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::Day;

    #[test]
    fn parse_and_display_round_trip_across_leap_days_and_years() {
        for text in [
            "1970-01-01",
            "2000-02-29",
            "2024-12-31",
            "2026-03-01",
            "0001-01-01",
            "9999-12-31",
        ] {
            let day = Day::parse(text).expect(text);
            assert_eq!(day.to_string(), text);
        }
        assert_eq!(Day::parse("1970-01-01"), Some(Day(0)));
        assert_eq!(
            Day::parse("2000-03-01")
                .map(|day| day.plus(-1).to_string())
                .as_deref(),
            Some("2000-02-29")
        );
        assert_eq!(
            Day::parse("2026-12-31")
                .map(|day| day.plus(1).to_string())
                .as_deref(),
            Some("2027-01-01")
        );
    }

    #[test]
    fn parse_refuses_what_is_not_a_date() {
        for text in [
            "",
            "2026-2-01",
            "2026-02-30",
            "2025-02-29",
            "1900-02-29",
            "2026-13-01",
            "0000-01-01",
            "2026/01/01",
            "+026-01-01",
            "2026-01-1x",
            "२०२६-01-01",
        ] {
            assert_eq!(Day::parse(text), None, "{text}");
        }
    }

    #[test]
    fn unix_seconds_fall_on_their_utc_day() {
        assert_eq!(Day::from_unix_seconds(86_399).to_string(), "1970-01-01");
        assert_eq!(Day::from_unix_seconds(86_400).to_string(), "1970-01-02");
        assert_eq!(Day::from_unix_seconds(-1).to_string(), "1969-12-31");
        assert_eq!(
            Day::from_unix_seconds(1_795_620_628).to_string(),
            "2026-11-25"
        );
    }

    #[test]
    fn span_includes_both_ends_and_is_empty_backwards() {
        let from = Day::parse("2026-02-27").unwrap();
        let to = Day::parse("2026-03-02").unwrap();
        let days: Vec<String> = Day::span(from, to).map(|day| day.to_string()).collect();
        assert_eq!(
            days,
            ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
        );
        assert_eq!(Day::span(to, from).count(), 0);
        assert_eq!(from.days_until(to), 3);
    }
}
