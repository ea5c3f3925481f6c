//! UTC days: the views' unit of time. A day is a count of days since
//! 1970-01-01 (`i64`), written `YYYY-MM-DD`.

/// Milliseconds in one day.
pub const MS_PER_DAY: i64 = 86_400_000;

/// The UTC day of an epoch-milliseconds timestamp.
pub fn of_millis(millis: i64) -> i64 {
    millis.div_euclid(MS_PER_DAY)
}

/// Today's UTC day.
pub fn today() -> i64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    of_millis(millis)
}

/// `YYYY-MM-DD` for a day (proleptic Gregorian calendar).
pub fn format(day: i64) -> String {
    let (year, month, dom) = civil_from_days(day);
    format!("{year:04}-{month:02}-{dom:02}")
}

/// The day a `YYYY-MM-DD` string names, or `None` when it is not one.
pub fn parse(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, dom) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1..=12).contains(&month) || dom < 1 || dom > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, dom))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: i64, month: i64, dom: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dom - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(day: i64) -> (i64, i64, i64) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let dom = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, dom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_their_text() {
        assert_eq!(format(0), "1970-01-01");
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(format(of_millis(1_795_620_628_495)), "2026-11-25");
        for day in (-700_000..2_900_000).step_by(997) {
            assert_eq!(parse(&format(day)), Some(day), "{}", format(day));
        }
        assert_eq!(of_millis(-1), -1);
    }

    #[test]
    fn malformed_days_are_refused() {
        for text in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "yesterday",
            "2026/01/01",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert_eq!(parse("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
    }
}
