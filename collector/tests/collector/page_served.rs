//! `GET /` on the real binary (127.0.0.1): the guidance of an empty store,
//! the page's headers, its numbers against `/api/v1/*`, the stylesheet and
//! the icon, and `--token-file` asking a browser for the token.

use crate::harness::Collector;
use crate::{page_cells, seed};
use telemetry_collector::overview::calendar::Day;
use telemetry_collector::overview::VIEWS;
use telemetry_collector::web::CONTENT_SECURITY_POLICY;

#[test]
fn an_empty_store_shows_how_to_point_an_app_at_it() {
    let collector = Collector::start(&[]);
    let answer = collector.get("/", &[]);
    let body = answer.text();
    assert_eq!(answer.status, 200, "{body}");
    assert_eq!(
        answer.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let url = format!("{}/v1/events", collector.base());
    assert!(
        body.contains(&format!("TELEMETRY_ENDPOINT={url}")),
        "{body}"
    );
    assert!(body.contains(&format!(".endpoint(\"{url}\")")), "{body}");
    assert!(!body.contains("<svg"));
}

#[test]
fn the_page_shows_the_api_numbers_and_serves_its_stylesheet_and_icon() {
    let collector = Collector::start(&[]);
    let today = Day::today();
    seed::send(&collector, today);
    // One app: the page picks it, over the default 30 days.
    let page = collector.get("/", &[]);
    let html = page.text();
    assert_eq!(page.status, 200, "{html}");
    let query = format!("app={}&from={}&to={today}", seed::APP, today.plus(-29));
    let cells = page_cells::api_cells(&html);
    for view in VIEWS.iter().filter(|view| **view != "apps") {
        let answer = collector.get_json(&format!("/api/v1/{view}?{query}"));
        for (_, pointer, text) in cells.iter().filter(|(cell_view, _, _)| cell_view == view) {
            page_cells::check_cell(view, &answer, pointer, text);
        }
        for leaf in page_cells::numeric_leaves(&answer) {
            assert!(
                cells
                    .iter()
                    .any(|(cell_view, pointer, _)| cell_view == view && *pointer == leaf),
                "{view}{leaf} is on no table"
            );
        }
    }
    let css = collector.get("/style.css", &[]);
    assert_eq!(
        (css.status, css.header("content-type")),
        (200, Some("text/css; charset=utf-8"))
    );
    assert!(css.text().contains("prefers-color-scheme: dark"));
    let icon = collector.get("/favicon.ico", &[]);
    assert_eq!(
        (icon.status, icon.header("content-type")),
        (200, Some("image/x-icon"))
    );
}

#[test]
fn with_a_token_file_the_page_asks_the_browser_for_the_token() {
    let collector = Collector::with_file("--token-file", "s3cret-token\n");
    for path in ["/", "/style.css", "/favicon.ico"] {
        let answer = collector.get(path, &[]);
        assert_eq!(answer.status, 401, "{path}");
        assert!(answer.asks_for_basic_auth(), "{path}: {}", answer.head);
    }
    // What a browser sends once the user typed the token as the password:
    // base64("user:s3cret-token").
    let answer = collector.get("/", &[("Authorization", "Basic dXNlcjpzM2NyZXQtdG9rZW4=")]);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = collector.get("/", &[("Authorization", "Basic dXNlcjp3cm9uZw==")]);
    assert_eq!(answer.status, 401);
}

#[test]
fn several_apps_and_none_chosen_show_the_chooser() {
    let collector = Collector::start(&[]);
    seed::send(&collector, Day::today());
    seed::send_other_app(&collector, Day::today());
    let page = collector.get("/", &[]);
    let html = page.text();
    assert_eq!(page.status, 200);
    assert!(html.contains("<h2>Choose an app</h2>"), "{html}");
    assert!(
        html.contains(&format!(">{}</a>", seed::APP))
            && html.contains(&format!(">{}</a>", seed::OTHER_APP)),
        "{html}"
    );
    let html = collector
        .get(&format!("/?app={}", seed::OTHER_APP), &[])
        .text();
    assert!(html.contains("<svg"), "{html}");
}

#[test]
fn a_range_without_records_offers_the_last_range_that_has_some() {
    let collector = Collector::start(&[]);
    let long_ago = Day::today().plus(-60);
    seed::send_other_app(&collector, long_ago);
    // The only app, with no record in the default 30 days.
    let page = collector.get("/", &[]);
    let html = page.text();
    assert_eq!(page.status, 200);
    assert!(html.contains("<h2>No data in this range</h2>"), "{html}");
    let offer = format!(
        "/?app={}&amp;range=custom&amp;from={}&amp;to={long_ago}",
        seed::OTHER_APP,
        long_ago.plus(-29)
    );
    assert!(html.contains(&offer), "{offer} in {html}");
    let html = collector.get(&offer.replace("&amp;", "&"), &[]).text();
    assert!(html.contains("<svg"), "{html}");
}
