//! Daily series out of the views' answers: one value for every day of the
//! range, zeros included, for the page's charts and the report's sparklines.

use super::calendar::Day;
use super::{count, dropped_on, list, text, Overview};
use serde_json::Value;
use std::collections::HashMap;

/// The name the page and the report give to a group with an empty name.
pub const UNNAMED: &str = "(none)";

/// One named series: a value for each day of the range, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// What the series counts, as shown in legends and tooltips.
    pub name: String,
    /// One value a day.
    pub values: Vec<f64>,
}

impl Series {
    /// The sum of the values.
    #[must_use]
    pub fn total(&self) -> f64 {
        self.values.iter().sum()
    }
}

/// The `daily` view as four series: active installs, new installs, records
/// and dropped records, in that order.
#[must_use]
pub fn daily(overview: &Overview) -> [Series; 4] {
    let days = overview.days();
    let rows = list(overview.view("daily"), "days");
    let pick = |name: &str, value: &dyn Fn(&Value) -> f64| Series {
        name: name.to_owned(),
        values: along(&days, rows, value),
    };
    [
        pick("active installs", &|row| count(row, "active_installs")),
        pick("new installs", &|row| count(row, "new_installs")),
        pick("records", &|row| count(row, "records")),
        pick("dropped", &dropped_on),
    ]
}

/// The `by_day` rows of a view's answer grouped by `key`, over the
/// overview's days: [`grouped`].
#[must_use]
pub fn by_day(
    overview: &Overview,
    view: &str,
    key: &str,
    value: impl Fn(&Value) -> f64,
    keep: usize,
) -> Vec<Series> {
    grouped(
        &overview.days(),
        list(overview.view(view), "by_day"),
        key,
        value,
        keep,
    )
}

/// `by_day` rows grouped by the string under `key` (a kind, a model, a
/// version): one series per group, the largest total first (then by name).
/// Past `keep` groups, the smallest are summed into one series named
/// `other`.
#[must_use]
pub fn grouped(
    days: &[Day],
    rows: &[Value],
    key: &str,
    value: impl Fn(&Value) -> f64,
    keep: usize,
) -> Vec<Series> {
    let index = day_index(days);
    let mut groups: Vec<Series> = Vec::new();
    let mut positions: HashMap<&str, usize> = HashMap::new();
    for row in rows {
        let Some(&day) = Day::parse(text(row, "day")).and_then(|day| index.get(&day)) else {
            continue;
        };
        let name = text(row, key);
        let position = *positions.entry(name).or_insert_with(|| {
            groups.push(Series {
                name: if name.is_empty() { UNNAMED } else { name }.to_owned(),
                values: vec![0.0; days.len()],
            });
            groups.len() - 1
        });
        groups[position].values[day] += value(row);
    }
    groups.sort_by(|a, b| {
        b.total()
            .total_cmp(&a.total())
            .then_with(|| a.name.cmp(&b.name))
    });
    if groups.len() > keep.max(1) {
        let rest = groups.split_off(keep.max(1) - 1);
        let mut other = Series {
            name: format!("other ({})", rest.len()),
            values: vec![0.0; days.len()],
        };
        for series in rest {
            for (sum, value) in other.values.iter_mut().zip(series.values) {
                *sum += value;
            }
        }
        groups.push(other);
    }
    groups
}

/// The value of each day's row (`day` field), zero for a day without one.
fn along(days: &[Day], rows: &[Value], value: impl Fn(&Value) -> f64) -> Vec<f64> {
    let index = day_index(days);
    let mut values = vec![0.0; days.len()];
    for row in rows {
        if let Some(&position) = Day::parse(text(row, "day")).and_then(|day| index.get(&day)) {
            values[position] += value(row);
        }
    }
    values
}

fn day_index(days: &[Day]) -> HashMap<Day, usize> {
    days.iter()
        .enumerate()
        .map(|(position, day)| (*day, position))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn days() -> Vec<Day> {
        let from = Day::parse("2026-12-01").unwrap();
        Day::span(from, from.plus(2)).collect()
    }

    #[test]
    fn sparse_rows_become_one_value_a_day_with_zeros() {
        let rows = [
            json!({"day":"2026-12-03","kind":"timeout","count":2}),
            json!({"day":"2026-12-01","kind":"timeout","count":1}),
            json!({"day":"2026-12-01","kind":"","count":5}),
            json!({"day":"2026-11-30","kind":"timeout","count":9}),
        ];
        let series = grouped(&days(), &rows, "kind", |row| count(row, "count"), 8);
        assert_eq!(series.len(), 2);
        assert_eq!(
            (series[0].name.as_str(), series[0].values.as_slice()),
            (UNNAMED, &[5.0, 0.0, 0.0][..])
        );
        assert_eq!(
            (series[1].name.as_str(), series[1].values.as_slice()),
            ("timeout", &[1.0, 0.0, 2.0][..])
        );
    }

    #[test]
    fn groups_past_the_limit_are_summed_into_other() {
        let rows: Vec<Value> = (1..=5)
            .map(|n| json!({"day":"2026-12-02","model":format!("m{n}"),"cost":f64::from(n)}))
            .collect();
        let series = grouped(&days(), &rows, "model", |row| count(row, "cost"), 3);
        let names: Vec<&str> = series.iter().map(|series| series.name.as_str()).collect();
        assert_eq!(names, ["m5", "m4", "other (3)"]);
        assert_eq!(series[2].values, [0.0, 6.0, 0.0]);
    }

    #[test]
    fn daily_reads_dropped_as_a_number_or_as_reasons() {
        let overview = Overview::from_json(&json!({"daily":{
        "app":"a","from":"2026-12-01","to":"2026-12-03",
        "days":[
            {"day":"2026-12-01","active_installs":2,"new_installs":1,"records":7,"dropped":3},
            {"day":"2026-12-02","active_installs":1,"new_installs":0,"records":4,"dropped":{"queue_full":2,"rate_limited":1}}
        ]}}));
        let [active, new, records, dropped] = daily(&overview);
        assert_eq!(active.values, [2.0, 1.0, 0.0]);
        assert_eq!(new.values, [1.0, 0.0, 0.0]);
        assert_eq!(records.values, [7.0, 4.0, 0.0]);
        assert_eq!(dropped.values, [3.0, 3.0, 0.0]);
    }
}
