//! The terminal report (`telemetry-collector report`): every view of one
//! app over a range, as text tables with a one-line sparkline
//! (`▁▂▃▄▅▆▇█`) for each daily series, for SSH sessions and CI logs.
//!
//! [`render`] is a pure function of the views' answers (an [`Overview`]),
//! the same ones the API and the page show; `--json` prints
//! [`Overview::to_json`] instead. Colour (bold headings, failures in red) is
//! used only when [`use_colour`] says so: on a terminal and never under
//! `NO_COLOR`; without it the text holds no escape sequence at all.

use crate::overview::calendar::Day;
use crate::overview::series::{self, Series};
use crate::overview::tables::{self, Column};
use crate::overview::{count, figures, list, tally, text, Overview};
use crate::store::Store;
use crate::views::{Query, ViewError};
use crate::web::html::encode;
use serde_json::Value;
use std::ffi::OsStr;
use std::fmt::{self, Write as _};
use std::path::PathBuf;

/// The eight levels of a sparkline, lowest first.
pub const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// How many series a per-day block shows before summing the rest.
const SERIES_SHOWN: usize = 6;

/// What `telemetry-collector report` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The database (`--db`, default `telemetry.db`).
    pub db: PathBuf,
    /// The app (`--app`); may be left out when the store holds one.
    pub app: Option<String>,
    /// The first day, `YYYY-MM-DD` (`--from`; default 29 days before `to`).
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD` (`--to`; default today, UTC).
    pub to: Option<String>,
    /// `--json`: every view's answer instead of text.
    pub json: bool,
}

/// Why the report could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The database file does not exist (exit 1).
    Missing(PathBuf),
    /// The store has several apps and none was chosen (exit 2).
    ChooseApp(Vec<String>),
    /// Anything else: a bad day, a file that is not a database (exit 1).
    Other(String),
}

impl Failure {
    /// The exit code: 2 when an app must be chosen, else 1.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::ChooseApp(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Missing(path) => write!(
                formatter,
                "no database at {} (give its path with --db PATH)",
                path.display()
            ),
            Failure::ChooseApp(apps) => write!(
                formatter,
                "the store holds several apps; choose one with --app:\n  {}",
                apps.join("\n  ")
            ),
            Failure::Other(message) => formatter.write_str(message),
        }
    }
}

impl From<ViewError> for Failure {
    fn from(error: ViewError) -> Self {
        match error {
            ViewError::AppRequired(apps) => Failure::ChooseApp(apps),
            other => Failure::Other(other.to_string()),
        }
    }
}

/// Makes the report: opens the database read-only (it is never changed),
/// asks every view for the range, and renders text (`colour` as
/// [`use_colour`] decides) or, with `--json`, one object with every view's
/// answer under its name, as the API gives them.
///
/// # Errors
/// A missing database, several apps and no `--app`, a bad day, a file that
/// is not a collector's database.
pub fn run(request: &Request, today: i64, colour: bool) -> Result<String, Failure> {
    if !request.db.exists() {
        return Err(Failure::Missing(request.db.clone()));
    }
    // The same query, with the same rules and defaults, as the API's.
    let mut query = Vec::new();
    if let Some(app) = &request.app {
        query.push(format!("app={}", encode(app)));
    }
    if let Some(from) = &request.from {
        query.push(format!("from={}", encode(from)));
    }
    if let Some(to) = &request.to {
        query.push(format!("to={}", encode(to)));
    }
    let mut query = Query::parse(&query.join("&"), today)?;
    let store =
        Store::open_read_only(&request.db).map_err(|error| Failure::Other(error.to_string()))?;
    if query.app.is_none() {
        let apps = store
            .apps()
            .map_err(|error| Failure::Other(error.to_string()))?;
        match apps.as_slice() {
            [] => return Ok(format!("{} holds no records yet.\n", request.db.display())),
            [only] => query.app = Some(only.clone()),
            _ => return Err(Failure::ChooseApp(apps)),
        }
    }
    let overview = crate::web::gather(&store, &query)?;
    if overview.is_empty() && !request.json {
        // Where this app's records are, to try instead.
        let apps = crate::web::all_apps(&store, Day::from_days_since_epoch(today))?;
        let last = list(&apps, "apps")
            .iter()
            .find(|entry| Some(text(entry, "app")) == query.app.as_deref())
            .map(|entry| text(entry, "last_day").to_owned())
            .filter(|last| !last.is_empty());
        let mut text = render(&overview, colour);
        if let Some(last) = last {
            let _ = writeln!(
                text,
                "Its last day with records is {last}: try --to {last}."
            );
        }
        return Ok(text);
    }
    if request.json {
        let mut text = serde_json::to_string_pretty(&overview.to_json())
            .map_err(|error| Failure::Other(error.to_string()))?;
        text.push('\n');
        Ok(text)
    } else {
        Ok(render(&overview, colour))
    }
}

/// True when the report may use colour: stdout is a terminal and
/// `NO_COLOR` is unset or empty (<https://no-color.org>).
#[must_use]
pub fn use_colour(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// One character per value, its height relative to the largest value: a
/// zero is `▁`, any value above zero at least `▂`, the largest `█`.
#[must_use]
pub fn sparkline(values: &[f64]) -> String {
    let max = values
        .iter()
        .copied()
        .filter(|value| value.is_finite())
        .fold(0.0, f64::max);
    values
        .iter()
        .map(|value| {
            if max <= 0.0 || !value.is_finite() || *value <= 0.0 {
                SPARKS[0]
            } else {
                // In 1..=7: the ratio is in (0, 1].
                let level = ((value / max) * 7.0).round().clamp(1.0, 7.0);
                SPARKS[level as usize]
            }
        })
        .collect()
}

/// What a piece of text looks like on a colour terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paint {
    Plain,
    Bold,
    Red,
    Dim,
}

impl Paint {
    fn apply(self, text: &str, colour: bool) -> String {
        let code = match self {
            _ if !colour => return text.to_owned(),
            Paint::Plain => return text.to_owned(),
            Paint::Bold => "1",
            Paint::Red => "31",
            Paint::Dim => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// The report as text; with `colour`, headings are bold and failures red.
#[must_use]
pub fn render(overview: &Overview, colour: bool) -> String {
    let mut out = String::new();
    let app = overview.app();
    let (from, to) = match overview.range() {
        Some((from, to)) => (from.to_string(), to.to_string()),
        None => (
            text(overview.view("daily"), "from").to_owned(),
            text(overview.view("daily"), "to").to_owned(),
        ),
    };
    let days = overview.days().len();
    let _ = writeln!(
        out,
        "{}",
        Paint::Bold.apply(&format!("{app}: {from} to {to} ({days} days)"), colour)
    );
    if overview.is_empty() {
        let _ = writeln!(out, "\nNo records of {app} in this range.");
        return out;
    }
    daily(&mut out, overview, colour);
    calls(&mut out, overview, &tables::COMMANDS, colour);
    calls(&mut out, overview, &tables::TOOLS, colour);
    section(&mut out, overview, &tables::ERRORS, colour);
    section(&mut out, overview, &tables::TOKENS, colour);
    sessions(&mut out, overview, colour);
    section(&mut out, overview, &tables::VERSIONS, colour);
    environments(&mut out, overview, colour);
    out
}

fn heading(out: &mut String, title: &str, colour: bool) {
    let _ = writeln!(out, "\n{}", Paint::Bold.apply(title, colour));
}

fn daily(out: &mut String, overview: &Overview, colour: bool) {
    let view = overview.view("daily");
    let [active, new, records, dropped] = series::daily(overview);
    heading(out, "Use per day", colour);
    let mut table = Table::new(&[("", false), ("", true), ("", false)]);
    let peak = active.values.iter().copied().fold(0.0, f64::max);
    table.row(vec![
        Cell::plain("active installs"),
        Cell::plain(&format!("peak {}", figures::rounded(peak))),
        spark(&active),
    ]);
    for series in [&new, &records] {
        table.row(vec![
            Cell::plain(&series.name),
            Cell::plain(&format!("total {}", figures::rounded(series.total()))),
            spark(series),
        ]);
    }
    let dropped_total = dropped.total();
    table.row(vec![
        Cell::plain("dropped"),
        Cell::painted(
            &format!("total {}", figures::rounded(dropped_total)),
            if dropped_total > 0.0 {
                Paint::Red
            } else {
                Paint::Plain
            },
        ),
        spark(&dropped),
    ]);
    out.push_str(&table.render(colour, false));
    let reasons: Vec<String> = tally(view, "dropped")
        .iter()
        .map(|(reason, number)| format!("{reason} {}", figures::number(number)))
        .collect();
    if !reasons.is_empty() {
        let _ = writeln!(out, "  dropped by reason: {}", reasons.join(", "));
    }
    if let Some(requests) = view.get("deletion_requests") {
        let _ = writeln!(out, "  deletion requests: {}", figures::number(requests));
    }
}

/// A view's table (`overview::tables`), failures in red; or `none` when it
/// has no rows (then false).
fn listed(
    out: &mut String,
    overview: &Overview,
    spec: &tables::Table,
    none: &str,
    colour: bool,
) -> bool {
    let answer = overview.view(spec.view);
    let entries = spec.entries(answer);
    if entries.is_empty() {
        let _ = writeln!(out, "  {none}");
        return false;
    }
    let head: Vec<(String, bool)> = spec
        .columns
        .iter()
        .map(|(name, column)| (name.to_lowercase(), column.is_numeric()))
        .collect();
    let head: Vec<(&str, bool)> = head
        .iter()
        .map(|(name, numeric)| (name.as_str(), *numeric))
        .collect();
    let mut table = Table::new(&head);
    for (entry, cells) in entries.iter().zip(spec.cells(answer)) {
        table.row(
            cells
                .iter()
                .zip(spec.columns)
                .map(|(cell, (_, column))| Cell::painted(&cell.text, paint(*column, entry)))
                .collect(),
        );
    }
    out.push_str(&table.render(colour, true));
    true
}

/// Failures are red: a failure count or rate above zero, an error kind.
fn paint(column: Column, entry: &Value) -> Paint {
    match column {
        Column::Number("failures") | Column::Rate("failures", _)
            if count(entry, "failures") > 0.0 =>
        {
            Paint::Red
        }
        Column::Text("kind") => Paint::Red,
        _ => Paint::Plain,
    }
}

fn calls(out: &mut String, overview: &Overview, spec: &tables::Table, colour: bool) {
    heading(out, spec.caption, colour);
    listed(out, overview, spec, "none in this range", colour);
}

/// A view's list, then a block of sparklines for each breakdown of its
/// days.
fn section(out: &mut String, overview: &Overview, section: &tables::Section, colour: bool) {
    heading(out, section.title, colour);
    // "No failures in this range." → "no failures in this range"
    let none = section.none.trim_end_matches('.');
    let none =
        none.get(..1).map_or_else(String::new, str::to_lowercase) + none.get(1..).unwrap_or("");
    if !listed(out, overview, &section.list, &none, colour) {
        return;
    }
    for breakdown in section.breakdowns {
        let series = breakdown.series(overview, SERIES_SHOWN);
        per_day(out, breakdown.title, &series, colour);
    }
}

fn sessions(out: &mut String, overview: &Overview, colour: bool) {
    heading(out, "Sessions", colour);
    let sessions = overview
        .view("sessions")
        .get("sessions")
        .unwrap_or(&Value::Null);
    let shown = |field: &str| figures::number(sessions.get(field).unwrap_or(&Value::Null));
    let with_errors = count(sessions, "with_errors");
    let _ = writeln!(
        out,
        "  {} ended, {} with errors ({})",
        shown("count"),
        Paint::apply(
            if with_errors > 0.0 {
                Paint::Red
            } else {
                Paint::Plain
            },
            &shown("with_errors"),
            colour
        ),
        figures::percent(with_errors, count(sessions, "count"))
    );
    let _ = writeln!(
        out,
        "  tool calls a session: p50 {}, p95 {}",
        shown("tool_calls_p50"),
        shown("tool_calls_p95")
    );
    let _ = writeln!(
        out,
        "  duration: p50 {} ms, p95 {} ms",
        shown("duration_p50_ms"),
        shown("duration_p95_ms")
    );
}

fn environments(out: &mut String, overview: &Overview, colour: bool) {
    heading(out, "Where it runs (installs)", colour);
    let view = overview.view("environments");
    for (key, title) in [
        ("os", "os"),
        ("arch", "arch"),
        ("ci_provider", "CI provider"),
        ("ai_agent", "AI agent"),
    ] {
        let shown: Vec<String> = tables::shares(view, key)
            .iter()
            .map(|(name, number, share)| {
                format!(
                    "{} {} ({share})",
                    tables::shown_name(name),
                    figures::number(number)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  {title:<12} {}",
            if shown.is_empty() {
                "none".to_owned()
            } else {
                shown.join(", ")
            }
        );
    }
}

/// A block of sparklines, one per series, each with its total.
fn per_day(out: &mut String, title: &str, series: &[Series], colour: bool) {
    if series.is_empty() {
        return;
    }
    let _ = writeln!(out, "  {}", Paint::Dim.apply(title, colour));
    let mut table = Table::new(&[("", false), ("", true), ("", false)]);
    for one in series {
        table.row(vec![
            Cell::plain(&one.name),
            Cell::plain(&format!("total {}", figures::rounded(one.total()))),
            spark(one),
        ]);
    }
    out.push_str(&table.render(colour, false));
}

fn spark(series: &Series) -> Cell {
    Cell::plain(&sparkline(&series.values))
}

/// One cell of a text table.
struct Cell {
    text: String,
    paint: Paint,
}

impl Cell {
    fn plain(text: &str) -> Cell {
        Cell::painted(text, Paint::Plain)
    }

    fn painted(text: &str, paint: Paint) -> Cell {
        // A name from the network must not move the cursor or colour the
        // terminal: control characters are shown as U+FFFD.
        let text = text
            .chars()
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect();
        Cell { text, paint }
    }
}

/// A text table: columns padded to their widest cell, numbers to the right.
struct Table {
    head: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(head: &[(&str, bool)]) -> Table {
        Table {
            head: head.iter().map(|(name, _)| (*name).to_owned()).collect(),
            right: head.iter().map(|(_, right)| *right).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    fn render(&self, colour: bool, with_head: bool) -> String {
        let mut widths: Vec<usize> = self
            .head
            .iter()
            .map(|name| if with_head { name.chars().count() } else { 0 })
            .collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.text.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<(String, Paint)>| {
            let mut text = String::from(" ");
            for (index, (cell, paint)) in cells.into_iter().enumerate() {
                // The padding stays outside the colour, so that a line
                // ends the same with colour and without.
                let pad = " ".repeat(widths[index].saturating_sub(cell.chars().count()));
                let cell = paint.apply(&cell, colour);
                text.push(' ');
                if self.right[index] {
                    text.push_str(&pad);
                    text.push_str(&cell);
                } else {
                    text.push_str(&cell);
                    text.push_str(&pad);
                }
                text.push(' ');
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        if with_head {
            line(
                self.head
                    .iter()
                    .map(|name| (name.clone(), Paint::Dim))
                    .collect(),
            );
        }
        for row in &self.rows {
            line(
                row.iter()
                    .map(|cell| (cell.text.clone(), cell.paint))
                    .collect(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_largest_value_and_keep_zero_apart() {
        assert_eq!(
            sparkline(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]),
            "▁▂▃▄▅▆▇█"
        );
        assert_eq!(sparkline(&[0.0, 0.0]), "▁▁");
        assert_eq!(sparkline(&[0.0, 1.0, 1000.0]), "▁▂█");
        assert_eq!(sparkline(&[5.0]), "█");
        assert_eq!(sparkline(&[]), "");
        assert_eq!(sparkline(&[f64::NAN, 2.0]), "▁█");
    }

    #[test]
    fn colour_only_on_a_terminal_and_never_under_no_color() {
        assert!(use_colour(true, None));
        assert!(
            use_colour(true, Some(OsStr::new(""))),
            "an empty NO_COLOR does not count"
        );
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(!use_colour(false, None));
        assert!(!use_colour(false, Some(OsStr::new("1"))));
    }

    #[test]
    fn names_from_the_network_cannot_reach_the_terminal_as_escapes() {
        let cell = Cell::plain("evil\x1b[2Jname\r\n");
        assert_eq!(cell.text, "evil\u{FFFD}[2Jname\u{FFFD}\u{FFFD}");
    }
}
