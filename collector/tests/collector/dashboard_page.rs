//! The dashboard page for a fixed data set (`fixtures/overview.json`, in the
//! views' API shapes): a text snapshot of the HTML, and what must hold on
//! every page — every API number in a table equals the API's, every chart
//! is a labelled image with a table under it, nothing loads from elsewhere.

use crate::page_cells;
use crate::snapshot::{assert_snapshot, fixture};
use serde_json::json;
use telemetry_collector::overview::calendar::Day;
use telemetry_collector::overview::{Overview, VIEWS};
use telemetry_collector::web::filter::Filter;
use telemetry_collector::web::page::{render, Page};

const INGEST: &str = "http://127.0.0.1:4318/v1/events";

fn today() -> Day {
    Day::parse("2026-12-06").unwrap()
}

fn filter(query: &str) -> Filter {
    let (filter, notes) = Filter::parse(query, today());
    assert!(notes.is_empty(), "{notes:?}");
    filter
}

fn page_for(overview: &Overview, query: &str) -> String {
    let filter = filter(query);
    let versions = ["1.0.0".to_owned(), "0.9.0".to_owned()];
    render(&Page {
        filter: &filter,
        apps: overview.view("apps"),
        overview: Some(overview),
        versions: &versions,
        ingest_url: INGEST,
        notes: &[],
    })
}

#[test]
fn the_page_for_the_fixed_data_set_matches_its_snapshot() {
    assert_snapshot("dashboard.html", &page_for(&fixture(), "app=agent&range=7"));
}

#[test]
fn every_api_number_appears_in_a_table_as_the_api_gives_it() {
    let overview = fixture();
    let html = page_for(&overview, "app=agent&range=7");
    let cells = page_cells::api_cells(&html);
    assert!(cells.len() > 100, "{}", cells.len());
    for (view, pointer, shown) in &cells {
        page_cells::check_cell(view, overview.view(view), pointer, shown);
    }
    for view in VIEWS.iter().filter(|view| **view != "apps") {
        for leaf in page_cells::numeric_leaves(overview.view(view)) {
            assert!(
                cells
                    .iter()
                    .any(|(cell_view, pointer, _)| cell_view == view && *pointer == leaf),
                "{view}{leaf} is on no table of the page"
            );
        }
    }
}

#[test]
fn every_chart_is_a_labelled_image_with_tooltips_a_legend_or_names_and_a_table_under_it() {
    let html = page_for(&fixture(), "app=agent&range=7");
    let figures: Vec<&str> = html
        .split("<figure>")
        .skip(1)
        .map(|rest| &rest[..rest.find("</figure>").unwrap()])
        .collect();
    assert_eq!(
        figures.len(),
        12,
        "two daily, commands, tools, errors, two tokens, versions, four environments"
    );
    for figure in &figures {
        let svg = &figure[figure.find("<svg").expect("a chart")..];
        assert!(svg.starts_with("<svg class=\"chart\" viewBox="), "{svg}");
        assert!(
            svg[..svg.find('>').unwrap()].contains("role=\"img\" aria-label=\""),
            "{svg}"
        );
        assert!(svg.contains("<title>"), "tooltips: {svg}");
        let after = &svg[svg.find("</svg>").unwrap()..];
        assert!(
            after.contains("<table data-view="),
            "a table under the chart: {figure}"
        );
        let series = svg.matches(" class=\"c").count()
            + svg.matches("class=\"line c").count()
            + svg.matches("class=\"area c").count();
        assert!(series > 0);
    }
    assert_eq!(
        html.matches("<svg").count(),
        figures.len(),
        "every chart is in a figure"
    );
}

#[test]
fn the_page_loads_nothing_from_elsewhere_and_needs_no_script() {
    let html = page_for(&fixture(), "app=agent&range=7");
    assert!(
        !html.contains("<script") && !html.contains(" on"),
        "no script"
    );
    assert!(
        !html.contains("style="),
        "no inline style (the CSP forbids it)"
    );
    assert!(!html.contains(" src="));
    for link in html.split("href=\"").skip(1) {
        assert!(
            link.starts_with('/') || link.starts_with('#'),
            "same origin only: {}",
            &link[..40.min(link.len())]
        );
    }
    assert_eq!(
        html.matches("http").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
}

#[test]
fn an_empty_store_says_how_to_send_it_records() {
    let filter = filter("");
    let html = render(&Page {
        filter: &filter,
        apps: &json!({"apps": []}),
        overview: None,
        versions: &[],
        ingest_url: INGEST,
        notes: &[],
    });
    assert!(
        html.contains("TELEMETRY_ENDPOINT=http://127.0.0.1:4318/v1/events"),
        "{html}"
    );
    assert!(
        html.contains("Telemetry::builder(\"your-app\", env!(\"CARGO_PKG_VERSION\"))"),
        "{html}"
    );
    assert!(
        html.contains(".endpoint(\"http://127.0.0.1:4318/v1/events\")"),
        "{html}"
    );
    assert!(!html.contains("<svg") && !html.contains("<form"), "{html}");
}

#[test]
fn several_apps_and_none_chosen_show_a_chooser() {
    let overview = fixture();
    for query in ["", "app=nope"] {
        let filter = filter(query);
        let html = render(&Page {
            filter: &filter,
            apps: overview.view("apps"),
            overview: None,
            versions: &[],
            ingest_url: INGEST,
            notes: &[],
        });
        assert!(html.contains("<h2>Choose an app</h2>"), "{html}");
        assert!(
            html.contains("<a href=\"/?app=agent&amp;range=30\">agent</a>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"/?app=other-tool&amp;range=30\">other-tool</a>"),
            "{html}"
        );
        assert!(
            html.contains("<option value=\"other-tool\">other-tool</option>"),
            "{html}"
        );
        assert!(!html.contains("<svg"));
        assert_eq!(html.contains("No app named “nope”"), query == "app=nope");
    }
}

#[test]
fn a_range_without_records_says_so_and_offers_the_last_range_with_some() {
    let overview = fixture();
    let empty_daily = json!({"app":"other-tool","from":"2026-11-07","to":"2026-12-06","days":[{"day":"2026-12-06","active_installs":0,"new_installs":0,"records":0,"dropped":0}]});
    let mut answers = overview.to_json();
    answers["daily"] = empty_daily;
    let empty = Overview::from_json(&answers);
    let html = page_for(&empty, "app=other-tool&range=30&ci=true");
    assert!(html.contains("<h2>No data in this range</h2>"), "{html}");
    // other-tool's last day is 2026-10-20: the 30 days ending there.
    assert!(html.contains("<a href=\"/?app=other-tool&amp;range=custom&amp;from=2026-09-21&amp;to=2026-10-20&amp;ci=true\">Show 2026-09-21 to 2026-10-20</a>"), "{html}");
    assert!(html.contains("<a href=\"/?app=other-tool&amp;range=30\">Show this range for every version, in CI and outside it.</a>"), "{html}");
    assert!(!html.contains("<svg"));
}

#[test]
fn names_from_the_network_are_escaped_everywhere() {
    let mut answers = fixture().to_json();
    let evil = "<img src=x onerror=alert(1)>";
    answers["commands"]["commands"][0]["name"] = json!(evil);
    answers["environments"]["os"] = json!({ evil: 3 });
    answers["apps"]["apps"][0]["app"] = json!(evil);
    answers["daily"]["app"] = json!(evil);
    let overview = Overview::from_json(&answers);
    let html = page_for(
        &overview,
        &format!(
            "app={}&range=7",
            telemetry_collector::web::html::encode(evil)
        ),
    );
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn the_form_keeps_the_chosen_filters() {
    let html = page_for(
        &fixture(),
        "app=agent&range=custom&from=2026-11-30&to=2026-12-06&version=0.9.0&ci=false",
    );
    for expected in [
        "<option value=\"agent\" selected>agent</option>",
        "<option value=\"custom\" selected>From–to</option>",
        "<input type=\"date\" name=\"from\" value=\"2026-11-30\">",
        "<input type=\"date\" name=\"to\" value=\"2026-12-06\">",
        "<option value=\"0.9.0\" selected>0.9.0</option>",
        "<option value=\"false\" selected>No</option>",
        "<form class=\"filters\" method=\"get\" action=\"/\">",
    ] {
        assert!(html.contains(expected), "{expected}");
    }
}
