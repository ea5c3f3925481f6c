//! The terminal report for a fixed data set (`fixtures/overview.json`): a
//! text snapshot, its sparklines, its colour rules, and `--json`'s shape.

use crate::snapshot::{assert_snapshot, fixture_json};
use telemetry_collector::overview::{Overview, VIEWS};
use telemetry_collector::report::render;

#[test]
fn the_report_for_the_fixed_data_set_matches_its_snapshot() {
    assert_snapshot(
        "report.txt",
        &render(&Overview::from_json(&fixture_json()), false),
    );
}

#[test]
fn without_colour_there_is_no_escape_sequence_and_with_it_headings_are_bold() {
    let overview = Overview::from_json(&fixture_json());
    let plain = render(&overview, false);
    assert!(!plain.contains('\x1b'), "{plain}");
    let coloured = render(&overview, true);
    assert!(coloured.contains("\x1b[1mCommands\x1b[0m"), "{coloured}");
    assert!(coloured.contains("\x1b[31m"), "failures in red: {coloured}");
    let stripped = strip_escapes(&coloured);
    assert_eq!(stripped, plain, "colour changes nothing but the escapes");
}

#[test]
fn each_daily_series_has_its_sparkline_and_the_tables_the_api_numbers() {
    let plain = render(&Overview::from_json(&fixture_json()), false);
    let line = |start: &str| {
        plain
            .lines()
            .find(|line| line.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("{start}: {plain}"))
            .to_owned()
    };
    // records per day: 40 66 51 80 1203 95 120 (total 1,655).
    assert!(
        line("records").ends_with("total 1,655  ▂▂▂▂█▂▂"),
        "{}",
        line("records")
    );
    // active installs per day: 3 5 4 6 8 7 9 (3/9 of 7 levels is 2.3: ▃).
    assert!(
        line("active installs").ends_with("peak 9  ▃▅▄▆▇▆█"),
        "{}",
        line("active installs")
    );
    let run = line("run");
    for number in ["1,180", "12", "1.0%", "210", "1,890"] {
        assert!(run.contains(number), "{run}");
    }
    assert!(line("web_search").contains("timeout 7"));
    assert!(line("gpt-4o  ").contains("1.86"), "{}", line("gpt-4o  "));
    assert!(
        plain.contains("140 ended, 11 with errors (7.9%)"),
        "{plain}"
    );
    assert!(
        plain.contains("(none) 7 (77.8%), github_actions 2 (22.2%)"),
        "{plain}"
    );
}

#[test]
fn the_json_form_holds_every_view_but_records_under_its_name_unchanged() {
    let fixture = fixture_json();
    let json = Overview::from_json(&fixture).to_json();
    assert_eq!(json, fixture);
    let names: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(names.len(), VIEWS.len());
    assert!(!VIEWS.contains(&"records"));
}

fn strip_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
