//! UTC calendar days as a type, for the page and the report: the views'
//! days (`crate::day`, a count of days since 1970-01-01) with their
//! `YYYY-MM-DD` text as `Display`.

use crate::day;
use std::fmt;

/// One UTC day, counted from 1970-01-01 (day 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// Parses `YYYY-MM-DD` ([`crate::day::parse`]); `None` for anything else.
    #[must_use]
    pub fn parse(text: &str) -> Option<Day> {
        day::parse(text).map(Day)
    }

    /// Today, in UTC, by this machine's clock.
    #[must_use]
    pub fn today() -> Day {
        Day(day::today())
    }

    /// The day this many days after 1970-01-01.
    #[must_use]
    pub fn from_days_since_epoch(days: i64) -> Day {
        Day(days)
    }

    /// Days since 1970-01-01 (negative before): the views' own unit.
    #[must_use]
    pub fn days_since_epoch(self) -> i64 {
        self.0
    }

    /// This day moved by `days` (negative: earlier).
    #[must_use]
    pub fn plus(self, days: i64) -> Day {
        Day(self.0.saturating_add(days))
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
        formatter.write_str(&day::format(self.0))
    }
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
