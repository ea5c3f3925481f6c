//! The views' tables, once: which rows each table lists, which columns it
//! has and how each cell shows its value. The dashboard page renders them
//! as HTML (each API value with its JSON pointer), the terminal report as
//! text; both read the cells made here, so that they show the same
//! numbers in the same way.

use super::series::{self, Series, UNNAMED};
use super::{count, figures, list, tally, text, Overview};
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

/// A column of an API string.
const fn text_column(head: &'static str, key: &'static str) -> (&'static str, Column) {
    (head, Column::Text(key))
}

/// A column of an API number.
const fn number_column(head: &'static str, key: &'static str) -> (&'static str, Column) {
    (head, Column::Number(key))
}

const CALLS: [(&str, Column); 6] = [
    text_column("Name", "name"),
    number_column("Calls", "calls"),
    number_column("Failures", "failures"),
    ("Failure rate", Column::Rate("failures", "calls")),
    number_column("p50 ms", "p50_ms"),
    number_column("p95 ms", "p95_ms"),
];

const DAY: (&str, Column) = text_column("Day", "day");

impl Table {
    const fn new(
        view: &'static str,
        rows: &'static str,
        caption: &'static str,
        columns: &'static [(&'static str, Column)],
    ) -> Table {
        Table {
            view,
            rows,
            caption,
            columns,
        }
    }
}

/// `commands`: every command.
pub const COMMANDS: Table = Table::new("commands", "commands", "Commands", &CALLS);

/// `tools`: every tool, with its error kinds.
pub const TOOLS: Table = Table::new(
    "tools",
    "tools",
    "Tools",
    &[
        CALLS[0],
        CALLS[1],
        CALLS[2],
        CALLS[3],
        CALLS[4],
        CALLS[5],
        ("Error kinds", Column::Tally("error_kinds")),
    ],
);

/// A view's `by_day` rows as one daily series per group (an error kind, a
/// model, a version), with the table of those rows.
#[derive(Debug, Clone, Copy)]
pub struct Breakdown {
    /// What the report's block of sparklines is titled.
    pub title: &'static str,
    /// What the page's chart is captioned.
    pub caption: &'static str,
    /// The key whose values are the groups.
    pub group: &'static str,
    /// The keys whose numbers a row adds to its group's day.
    pub value: &'static [&'static str],
    /// True when the chart shows each day's shares rather than its values.
    pub shares: bool,
    /// The `by_day` rows as a table.
    pub table: Table,
}

impl Breakdown {
    /// One series per group over the overview's days, the largest first;
    /// past `keep`, the rest summed into one.
    #[must_use]
    pub fn series(&self, overview: &Overview, keep: usize) -> Vec<Series> {
        series::by_day(
            overview,
            self.table.view,
            self.group,
            |row| self.value.iter().map(|key| count(row, key)).sum(),
            keep,
        )
    }
}

/// A view shown as its list and the breakdowns of its days: errors,
/// tokens, versions.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    /// The heading.
    pub title: &'static str,
    /// What is said when the view has no rows in the range.
    pub none: &'static str,
    /// The view's list over the range.
    pub list: Table,
    /// Its days, broken down.
    pub breakdowns: &'static [Breakdown],
}

/// `errors`: failures by kind over time, then every error with its versions.
pub const ERRORS: Section = Section {
    title: "Errors",
    none: "No failures in this range.",
    list: Table::new(
        "errors",
        "errors",
        "Every failure, by count",
        &[
            text_column("Event", "event"),
            text_column("Name", "name"),
            text_column("Kind", "kind"),
            number_column("Count", "count"),
            number_column("Installs", "installs"),
            text_column("First version", "first_version"),
            text_column("Last version", "last_version"),
        ],
    ),
    breakdowns: &[Breakdown {
        title: "failures per day by kind",
        caption: "Failures per day by error kind",
        group: "kind",
        value: &["count"],
        shares: false,
        table: Table::new(
            "errors",
            "by_day",
            "Failures per day by kind",
            &[
                DAY,
                text_column("Kind", "kind"),
                number_column("Count", "count"),
            ],
        ),
    }],
};

/// `tokens`: tokens and cost per model per day, then the models' totals.
pub const TOKENS: Section = Section {
    title: "Tokens and cost",
    none: "No token use in this range.",
    list: Table::new(
        "tokens",
        "models",
        "Models over the range, by cost",
        &[
            text_column("Model", "model"),
            number_column("Calls", "calls"),
            number_column("Input tokens", "input_tokens"),
            number_column("Output tokens", "output_tokens"),
            number_column("Cost", "cost"),
        ],
    ),
    breakdowns: &[
        Breakdown {
            title: "tokens per day by model",
            caption: "Tokens (input + output) per day by model",
            group: "model",
            value: &["input_tokens", "output_tokens"],
            shares: false,
            table: Table::new(
                "tokens",
                "by_day",
                "Tokens per model per day",
                &[
                    DAY,
                    text_column("Model", "model"),
                    number_column("Input tokens", "input_tokens"),
                    number_column("Output tokens", "output_tokens"),
                    (
                        "Total tokens",
                        Column::Sum(&["input_tokens", "output_tokens"]),
                    ),
                ],
            ),
        },
        Breakdown {
            title: "cost per day by model",
            caption: "Cost per day by model",
            group: "model",
            value: &["cost"],
            shares: false,
            table: Table::new(
                "tokens",
                "by_day",
                "Cost per model per day",
                &[
                    DAY,
                    text_column("Model", "model"),
                    number_column("Cost", "cost"),
                ],
            ),
        },
    ],
};

/// `versions`: each version's share of a day's active installs, then the
/// versions over the range.
pub const VERSIONS: Section = Section {
    title: "Versions",
    none: "No installs in this range.",
    list: Table::new(
        "versions",
        "versions",
        "Versions over the range (share: of the versions’ sum)",
        &[
            text_column("Version", "version"),
            number_column("Active installs", "active_installs"),
            (
                "Share",
                Column::Share {
                    key: "active_installs",
                    within: None,
                },
            ),
        ],
    ),
    breakdowns: &[Breakdown {
        title: "active installs per day by version",
        caption: "Share of active installs per version, by day",
        group: "version",
        value: &["active_installs"],
        shares: true,
        table: Table::new(
            "versions",
            "by_day",
            "Active installs per version per day",
            &[
                DAY,
                text_column("Version", "version"),
                number_column("Active installs", "active_installs"),
                (
                    "Share of the day",
                    Column::Share {
                        key: "active_installs",
                        within: Some("day"),
                    },
                ),
            ],
        ),
    }],
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
