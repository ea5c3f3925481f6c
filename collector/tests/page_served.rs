//! `GET /` on the real binary (127.0.0.1): the guidance of an empty store,
//! the page's headers, its numbers against `/api/v1/*`, the stylesheet and
//! the icon, and `--token-file` asking a browser for the token.

mod common;

use common::collector::Running;
use common::seed;
use telemetry_collector::overview::calendar::Day;
use telemetry_collector::overview::VIEWS;
use telemetry_collector::web::CONTENT_SECURITY_POLICY;
use telemetry_test_support::TempDir;

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[test]
fn an_empty_store_shows_how_to_point_an_app_at_it() {
    let dir = TempDir::new("page-empty");
    let collector = Running::start(&dir.join("t.db"));
    let (status, head, body) = collector.get("/", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        header(&head, "content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(
        header(&head, "content-type"),
        Some("text/html; charset=utf-8")
    );
    let url = format!("{}/v1/events", collector.base);
    assert!(
        body.contains(&format!("TELEMETRY_ENDPOINT={url}")),
        "{body}"
    );
    assert!(body.contains(&format!(".endpoint(\"{url}\")")), "{body}");
    assert!(!body.contains("<svg"));
}

#[test]
fn the_page_shows_the_api_numbers_and_serves_its_stylesheet_and_icon() {
    let dir = TempDir::new("page-seeded");
    let collector = Running::start(&dir.join("t.db"));
    let today = Day::today();
    seed::send(&collector.base, today);
    // One app: the page picks it, over the default 30 days.
    let (status, _, html) = collector.get("/", "");
    assert_eq!(status, 200, "{html}");
    let query = format!("app={}&from={}&to={today}", seed::APP, today.plus(-29));
    let cells = common::api_cells(&html);
    for view in VIEWS.iter().filter(|view| **view != "apps") {
        let answer = collector.get_json(&format!("/api/v1/{view}?{query}"));
        for (_, pointer, text) in cells.iter().filter(|(cell_view, _, _)| cell_view == view) {
            common::check_cell(view, &answer, pointer, text);
        }
        for leaf in common::numeric_leaves(&answer) {
            assert!(
                cells
                    .iter()
                    .any(|(cell_view, pointer, _)| cell_view == view && *pointer == leaf),
                "{view}{leaf} is on no table"
            );
        }
    }
    let (status, head, css) = collector.get("/style.css", "");
    assert_eq!(
        (status, header(&head, "content-type")),
        (200, Some("text/css; charset=utf-8"))
    );
    assert!(css.contains("prefers-color-scheme: dark"));
    let (status, head, _) = collector.get("/favicon.ico", "");
    assert_eq!(
        (status, header(&head, "content-type")),
        (200, Some("image/x-icon"))
    );
}

#[test]
fn with_a_token_file_the_page_asks_the_browser_for_the_token() {
    let dir = TempDir::new("page-token");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let collector = Running::start_with(
        &dir.join("t.db"),
        &["--token-file".as_ref(), token_file.as_os_str()],
    );
    for path in ["/", "/style.css", "/favicon.ico"] {
        let (status, head, _) = collector.get(path, "");
        assert_eq!(status, 401, "{path}");
        assert!(
            header(&head, "www-authenticate").is_some_and(|value| value.starts_with("Basic")),
            "{path}: {head}"
        );
    }
    // What a browser sends once the user typed the token as the password:
    // base64("user:s3cret-token").
    let (status, _, body) = collector.get("/", "Authorization: Basic dXNlcjpzM2NyZXQtdG9rZW4=\r\n");
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = collector.get("/", "Authorization: Basic dXNlcjp3cm9uZw==\r\n");
    assert_eq!(status, 401);
}

#[test]
fn several_apps_and_none_chosen_show_the_chooser() {
    let dir = TempDir::new("page-apps");
    let collector = Running::start(&dir.join("t.db"));
    seed::send(&collector.base, Day::today());
    seed::send_other_app(&collector.base, Day::today());
    let (status, _, html) = collector.get("/", "");
    assert_eq!(status, 200);
    assert!(html.contains("<h2>Choose an app</h2>"), "{html}");
    assert!(
        html.contains(&format!(">{}</a>", seed::APP))
            && html.contains(&format!(">{}</a>", seed::OTHER_APP)),
        "{html}"
    );
    let (_, _, html) = collector.get(&format!("/?app={}", seed::OTHER_APP), "");
    assert!(html.contains("<svg"), "{html}");
}

#[test]
fn a_range_without_records_offers_the_last_range_that_has_some() {
    let dir = TempDir::new("page-old");
    let collector = Running::start(&dir.join("t.db"));
    let long_ago = Day::today().plus(-60);
    seed::send_other_app(&collector.base, long_ago);
    // The only app, with no record in the default 30 days.
    let (status, _, html) = collector.get("/", "");
    assert_eq!(status, 200);
    assert!(html.contains("<h2>No data in this range</h2>"), "{html}");
    let offer = format!(
        "/?app={}&amp;range=custom&amp;from={}&amp;to={long_ago}",
        seed::OTHER_APP,
        long_ago.plus(-29)
    );
    assert!(html.contains(&offer), "{offer} in {html}");
    let (_, _, html) = collector.get(&offer.replace("&amp;", "&"), "");
    assert!(html.contains("<svg"), "{html}");
}
