//! Every view's answer for one app, range and filter: what the dashboard
//! page (`web`) and the terminal report (`report`) show.
//!
//! Both read the views' JSON answers, in the shapes of the JSON API
//! (`/api/v1/VIEW`), never the store: the page, the report and the API show
//! one set of numbers because they read one answer. What each shows of an
//! answer is said once too: `tables` holds every table's columns and each
//! cell's formatting, `series` the daily series, `figures` the numbers.

pub mod calendar;
pub mod figures;
pub mod series;
pub mod tables;

use calendar::Day;
use serde_json::{Map, Value};

/// The views the page and the report show, in the order they show them
/// (every view of the API but `records`).
pub const VIEWS: [&str; 9] = [
    "apps",
    "daily",
    "commands",
    "tools",
    "errors",
    "tokens",
    "sessions",
    "versions",
    "environments",
];

/// The answers of every view in [`VIEWS`] for one query, as the API gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    answers: Map<String, Value>,
}

impl Overview {
    /// Asks `answer` for each view in [`VIEWS`], in order; the first error
    /// stops it.
    ///
    /// # Errors
    /// The first error `answer` returns.
    pub fn gather<E>(mut answer: impl FnMut(&str) -> Result<Value, E>) -> Result<Overview, E> {
        let mut answers = Map::new();
        for view in VIEWS {
            answers.insert(view.to_owned(), answer(view)?);
        }
        Ok(Overview { answers })
    }

    /// The overview that `to_json` wrote (`{"apps":…,"daily":…,…}`); a view
    /// missing there reads as `null`, which shows as no data.
    #[must_use]
    pub fn from_json(value: &Value) -> Overview {
        let answers = VIEWS
            .iter()
            .map(|view| {
                (
                    (*view).to_owned(),
                    value.get(*view).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        Overview { answers }
    }

    /// One object with every view's answer under its name: what
    /// `telemetry-collector report --json` prints.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Value::Object(self.answers.clone())
    }

    /// One view's answer (`null` for a view not in [`VIEWS`]).
    #[must_use]
    pub fn view(&self, name: &str) -> &Value {
        self.answers.get(name).unwrap_or(&Value::Null)
    }

    /// The app the answers are about (the `daily` answer's `app`).
    #[must_use]
    pub fn app(&self) -> &str {
        text(self.view("daily"), "app")
    }

    /// The first and last day of the range, both included (the `daily`
    /// answer's `from` and `to`), when they are days.
    #[must_use]
    pub fn range(&self) -> Option<(Day, Day)> {
        let daily = self.view("daily");
        let from = Day::parse(text(daily, "from"))?;
        let to = Day::parse(text(daily, "to"))?;
        (from <= to).then_some((from, to))
    }

    /// Every day of the range, in order (none when the range is unknown).
    #[must_use]
    pub fn days(&self) -> Vec<Day> {
        self.range()
            .map(|(from, to)| Day::span(from, to).collect())
            .unwrap_or_default()
    }

    /// True when the range holds no record at all (no data to chart).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        list(self.view("daily"), "days")
            .iter()
            .all(|day| count(day, "records") == 0.0)
    }
}

/// The array under `key`, or none.
#[must_use]
pub fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The string under `key`, or `""`.
#[must_use]
pub fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The number under `key` as a float; 0 when absent or not a number.
#[must_use]
pub fn count(value: &Value, key: &str) -> f64 {
    value.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The `name → number` object under `key`, in descending order of number,
/// then by name; entries that are not numbers are left out.
#[must_use]
pub fn tally<'a>(value: &'a Value, key: &str) -> Vec<(&'a str, &'a Value)> {
    let mut entries: Vec<(&str, &Value)> = value
        .get(key)
        .and_then(Value::as_object)
        .map(|object| {
            object
                .iter()
                .filter(|(_, number)| number.is_number())
                .map(|(name, number)| (name.as_str(), number))
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by(|(a_name, a), (b_name, b)| {
        let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
        b.total_cmp(&a).then_with(|| a_name.cmp(b_name))
    });
    entries
}

/// A day's `dropped` figure: a number, or the sum of a `reason → N` object.
#[must_use]
pub fn dropped_on(day: &Value) -> f64 {
    match day.get("dropped") {
        Some(Value::Object(reasons)) => reasons.values().filter_map(Value::as_f64).sum(),
        Some(other) => other.as_f64().unwrap_or(0.0),
        None => 0.0,
    }
}
