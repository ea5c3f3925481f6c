//! How the page and the report write numbers: the API's numbers as the API
//! gives them (with thousands separators), derived ones (a failure rate, a
//! share) rounded to one decimal.

use serde_json::Value;

/// What stands in for a number that is absent (a percentile with no calls).
pub const NONE: &str = "–";

/// An API number as given: an integer with thousands separators
/// (`1,234,567`), a fraction in its shortest exact form (`0.0125`), and
/// [`NONE`] for `null` or anything that is not a number.
#[must_use]
pub fn number(value: &Value) -> String {
    match value {
        Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                integer(int)
            } else if let Some(int) = number.as_u64() {
                group(&int.to_string())
            } else {
                number.as_f64().map_or_else(|| NONE.to_owned(), fraction)
            }
        }
        _ => NONE.to_owned(),
    }
}

/// An integer with thousands separators: `-1,234`.
#[must_use]
pub fn integer(value: i64) -> String {
    let digits = group(&value.unsigned_abs().to_string());
    if value < 0 {
        format!("-{digits}")
    } else {
        digits
    }
}

/// A float in its shortest exact form, the integer part grouped: `1,234.5`.
#[must_use]
pub fn fraction(value: f64) -> String {
    if !value.is_finite() {
        return NONE.to_owned();
    }
    let text = value.to_string();
    let (sign, unsigned) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |rest| ("-", rest));
    match unsigned.split_once('.') {
        Some((whole, decimals)) => format!("{sign}{}.{decimals}", group(whole)),
        None => format!("{sign}{}", group(unsigned)),
    }
}

/// A derived float (a sum of floats) without the noise of binary
/// arithmetic: rounded to 6 decimals, then as [`fraction`] (`1.86`, not
/// `1.8599999999999999`).
#[must_use]
pub fn rounded(value: f64) -> String {
    fraction((value * 1e6).round() / 1e6)
}

/// `part` as a percentage of `whole`, rounded to one decimal (`12.5%`);
/// [`NONE`] when `whole` is zero.
#[must_use]
pub fn percent(part: f64, whole: f64) -> String {
    if whole == 0.0 || !part.is_finite() || !whole.is_finite() {
        return NONE.to_owned();
    }
    format!("{:.1}%", part / whole * 100.0)
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_get_thousands_separators() {
        assert_eq!(integer(0), "0");
        assert_eq!(integer(999), "999");
        assert_eq!(integer(1000), "1,000");
        assert_eq!(integer(-1_234_567), "-1,234,567");
        assert_eq!(
            number(&json!(18_446_744_073_709_551_615_u64)),
            "18,446,744,073,709,551,615"
        );
    }

    #[test]
    fn fractions_keep_every_digit_the_api_gave() {
        assert_eq!(number(&json!(0.0125)), "0.0125");
        assert_eq!(number(&json!(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(number(&json!(1234.5)), "1,234.5");
        assert_eq!(number(&json!(-0.5)), "-0.5");
        assert_eq!(number(&json!(2.0)), "2");
    }

    #[test]
    fn derived_sums_lose_the_float_noise() {
        assert_eq!(rounded(0.2 + 0.6 + 0.5 + 0.3 + 0.26), "1.86");
        assert_eq!(rounded(1_234_567.0), "1,234,567");
        assert_eq!(rounded(0.0225), "0.0225");
    }

    #[test]
    fn what_is_not_a_number_shows_as_a_dash() {
        assert_eq!(number(&Value::Null), NONE);
        assert_eq!(number(&json!("12")), NONE);
    }

    #[test]
    fn percentages_have_one_decimal_and_no_division_by_zero() {
        assert_eq!(percent(1.0, 3.0), "33.3%");
        assert_eq!(percent(2.0, 3.0), "66.7%");
        assert_eq!(percent(0.0, 5.0), "0.0%");
        assert_eq!(percent(3.0, 0.0), NONE);
    }
}
