//! The views' tables, once: which rows each table lists, which columns it
//! has and how each cell shows its value. The dashboard page renders them
//! as HTML (each API value with its JSON pointer), the terminal report as
//! text; both read the cells made here, so that they show the same
//! numbers in the same way.

use super::series::UNNAMED;
use super::{count, figures, list, tally, text};
use serde_json::Value;
use std::collections::HashMap;

/// What a column shows of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The API string under this key ([`UNNAMED`] when empty).
    Text(&'static str),
    /// The API number under this key, as the API gives it.
    Number(&'static str),
    /// Derived: the first key's number as a share of the second's.
    Rate(&'static str, &'static str),
    /// Derived: this key's number as a share of its sum over the rows, or
    /// over the rows with the same value under `within` (a day).
    Share {
        /// The number's key.
        key: &'static str,
        /// The key whose rows are summed together, if any.
        within: Option<&'static str>,
    },
    /// Derived: the sum of these keys' numbers.
    Sum(&'static [&'static str]),
    /// The `name → N` object under this key, largest first.
    Tally(&'static str),
}

impl Column {
    /// True when the column holds numbers (right-aligned).
    #[must_use]
    pub fn is_numeric(self) -> bool {
        !matches!(self, Column::Text(_) | Column::Tally(_))
    }
}

/// One table of a view's answer: the array it lists and its columns, each
/// with its heading (the page's; the report writes it in lower case).
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// The view whose answer it shows.
    pub view: &'static str,
    /// The array of that answer it lists, a row per entry.
    pub rows: &'static str,
    /// What the page's caption says.
    pub caption: &'static str,
    /// Each column's heading and content.
    pub columns: &'static [(&'static str, Column)],
}

const CALLS: [(&str, Column); 6] = [
    ("Name", Column::Text("name")),
    ("Calls", Column::Number("calls")),
    ("Failures", Column::Number("failures")),
    ("Failure rate", Column::Rate("failures", "calls")),
    ("p50 ms", Column::Number("p50_ms")),
    ("p95 ms", Column::Number("p95_ms")),
];

/// `commands`: every command.
pub const COMMANDS: Table = Table {
    view: "commands",
    rows: "commands",
    caption: "Commands",
    columns: &CALLS,
};

/// `tools`: every tool, with its error kinds.
pub const TOOLS: Table = Table {
    view: "tools",
    rows: "tools",
    caption: "Tools",
    columns: &[
        CALLS[0],
        CALLS[1],
        CALLS[2],
        CALLS[3],
        CALLS[4],
        CALLS[5],
        ("Error kinds", Column::Tally("error_kinds")),
    ],
};

/// `errors`: every failure, by count.
pub const ERRORS: Table = Table {
    view: "errors",
    rows: "errors",
    caption: "Every failure, by count",
    columns: &[
        ("Event", Column::Text("event")),
        ("Name", Column::Text("name")),
        ("Kind", Column::Text("kind")),
        ("Count", Column::Number("count")),
        ("Installs", Column::Number("installs")),
        ("First version", Column::Text("first_version")),
        ("Last version", Column::Text("last_version")),
    ],
};

/// `errors` per day and kind.
pub const ERRORS_BY_DAY: Table = Table {
    view: "errors",
    rows: "by_day",
    caption: "Failures per day by kind",
    columns: &[
        ("Day", Column::Text("day")),
        ("Kind", Column::Text("kind")),
        ("Count", Column::Number("count")),
    ],
};

/// `tokens`: the models over the range.
pub const MODELS: Table = Table {
    view: "tokens",
    rows: "models",
    caption: "Models over the range, by cost",
    columns: &[
        ("Model", Column::Text("model")),
        ("Calls", Column::Number("calls")),
        ("Input tokens", Column::Number("input_tokens")),
        ("Output tokens", Column::Number("output_tokens")),
        ("Cost", Column::Number("cost")),
    ],
};

/// `tokens` per day and model.
pub const TOKENS_BY_DAY: Table = Table {
    view: "tokens",
    rows: "by_day",
    caption: "Tokens per model per day",
    columns: &[
        ("Day", Column::Text("day")),
        ("Model", Column::Text("model")),
        ("Input tokens", Column::Number("input_tokens")),
        ("Output tokens", Column::Number("output_tokens")),
        (
            "Total tokens",
            Column::Sum(&["input_tokens", "output_tokens"]),
        ),
    ],
};

/// `tokens`: cost per day and model.
pub const COST_BY_DAY: Table = Table {
    view: "tokens",
    rows: "by_day",
    caption: "Cost per model per day",
    columns: &[
        ("Day", Column::Text("day")),
        ("Model", Column::Text("model")),
        ("Cost", Column::Number("cost")),
    ],
};

/// `versions` over the range.
pub const VERSIONS: Table = Table {
    view: "versions",
    rows: "versions",
    caption: "Versions over the range (share: of the versions’ sum)",
    columns: &[
        ("Version", Column::Text("version")),
        ("Active installs", Column::Number("active_installs")),
        (
            "Share",
            Column::Share {
                key: "active_installs",
                within: None,
            },
        ),
    ],
};

/// `versions` per day.
pub const VERSIONS_BY_DAY: Table = Table {
    view: "versions",
    rows: "by_day",
    caption: "Active installs per version per day",
    columns: &[
        ("Day", Column::Text("day")),
        ("Version", Column::Text("version")),
        ("Active installs", Column::Number("active_installs")),
        (
            "Share of the day",
            Column::Share {
                key: "active_installs",
                within: Some("day"),
            },
        ),
    ],
};

/// One cell as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// What it shows, as plain text (escaping is the renderer's).
    pub text: String,
    /// The JSON pointer, in its view's answer, of the API value it shows;
    /// `None` for a derived figure.
    pub pointer: Option<String>,
    /// True for a number (right-aligned).
    pub numeric: bool,
    /// A tally's entries: name, the pointer of its number, the number.
    pub parts: Vec<(String, String, String)>,
}

impl Cell {
    /// An API value at `pointer`: a string, or a number as the API gives it.
    #[must_use]
    pub fn api(pointer: String, value: Option<&Value>, numeric: bool) -> Cell {
        let text = if numeric {
            figures::number(value.unwrap_or(&Value::Null))
        } else {
            shown_name(value.and_then(Value::as_str).unwrap_or(""))
        };
        Cell {
            text,
            pointer: Some(pointer),
            numeric,
            parts: Vec::new(),
        }
    }

    /// A derived number: a rate, a share, a sum.
    #[must_use]
    pub fn derived(text: String) -> Cell {
        Cell {
            text,
            pointer: None,
            numeric: true,
            parts: Vec::new(),
        }
    }

    /// The `name → N` object at `pointer`, largest first.
    #[must_use]
    pub fn tally(pointer: &str, entries: &[(&str, &Value)]) -> Cell {
        let parts: Vec<(String, String, String)> = entries
            .iter()
            .map(|(name, number)| {
                (
                    (*name).to_owned(),
                    format!("{pointer}{}", json_pointer(&[name])),
                    figures::number(number),
                )
            })
            .collect();
        let text = parts
            .iter()
            .map(|(name, _, number)| format!("{name} {number}"))
            .collect::<Vec<_>>()
            .join(", ");
        Cell {
            text,
            pointer: None,
            numeric: false,
            parts,
        }
    }
}

impl Table {
    /// The table's entries in a view's answer.
    #[must_use]
    pub fn entries<'a>(&self, answer: &'a Value) -> &'a [Value] {
        list(answer, self.rows)
    }

    /// The cells of every row of the table, from the view's answer.
    #[must_use]
    pub fn cells(&self, answer: &Value) -> Vec<Vec<Cell>> {
        let entries = self.entries(answer);
        let sums = self.sums(entries);
        entries
            .iter()
            .enumerate()
            .map(|(index, row)| {
                let index = index.to_string();
                let at = |key: &str| json_pointer(&[self.rows, &index, key]);
                self.columns
                    .iter()
                    .map(|(_, column)| match *column {
                        Column::Text(key) => Cell::api(at(key), row.get(key), false),
                        Column::Number(key) => Cell::api(at(key), row.get(key), true),
                        Column::Rate(part, whole) => {
                            Cell::derived(figures::percent(count(row, part), count(row, whole)))
                        }
                        Column::Share { key, within } => {
                            let group = within.map_or("", |within| text(row, within));
                            let total = sums.get(&(key, group)).copied().unwrap_or(0.0);
                            Cell::derived(figures::percent(count(row, key), total))
                        }
                        Column::Sum(keys) => Cell::derived(figures::fraction(
                            keys.iter().map(|key| count(row, key)).sum(),
                        )),
                        Column::Tally(key) => Cell::tally(&at(key), &tally(row, key)),
                    })
                    .collect()
            })
            .collect()
    }

    /// The sums the `Share` columns divide by: (key, group) → sum.
    fn sums<'a>(&self, entries: &'a [Value]) -> HashMap<(&'static str, &'a str), f64> {
        let mut sums = HashMap::new();
        for (_, column) in self.columns {
            if let Column::Share { key, within } = *column {
                for row in entries {
                    let group = within.map_or("", |within| text(row, within));
                    *sums.entry((key, group)).or_insert(0.0) += count(row, key);
                }
            }
        }
        sums
    }
}

/// A `name → installs` object of `environments` (an OS, an arch, …): each
/// name as shown, its number and its share of the object's sum.
#[must_use]
pub fn shares<'a>(view: &'a Value, key: &str) -> Vec<(&'a str, &'a Value, String)> {
    let entries = tally(view, key);
    let total: f64 = entries
        .iter()
        .filter_map(|(_, number)| number.as_f64())
        .sum();
    entries
        .into_iter()
        .map(|(name, number)| {
            let share = figures::percent(number.as_f64().unwrap_or(0.0), total);
            (name, number, share)
        })
        .collect()
}

/// A name as shown: [`UNNAMED`] for the empty one.
#[must_use]
pub fn shown_name(name: &str) -> String {
    if name.is_empty() { UNNAMED } else { name }.to_owned()
}

/// An RFC 6901 JSON pointer to `parts` (`~` and `/` escaped).
#[must_use]
pub fn json_pointer(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|part| format!("/{}", part.replace('~', "~0").replace('/', "~1")))
        .collect()
}
