//! The dashboard in a real browser: headless Chromium (Debian's
//! `chromium`), driven over the DevTools protocol, loads the page of a
//! collector seeded over HTTP, at 1440 and 375 px wide.
//!
//! Asserted: no console error, no exception, no log error (a CSP violation
//! or a 404 would be one); no request to anything but the collector; every
//! chart's SVG has a non-zero size; no horizontal scroll; every API number
//! in a table equals `/api/v1/VIEW` and every number of every view is on
//! the page. Screenshots go to `target/dashboard-1440.png`,
//! `target/dashboard-375.png` and `target/dashboard-1440-dark.png`, for a
//! person to look at.
//!
//! Ignored in `cargo test --workspace` (it needs the browser); `.ci/run`
//! installs it and runs `cargo test -p telemetry-collector --test collector
//! browser:: -- --ignored`. `CHROMIUM` names another binary.

mod cdp;
mod websocket;

use crate::harness::Collector;
use crate::{page_cells, seed};
use cdp::Browser;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use telemetry_collector::overview::calendar::Day;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

#[test]
#[ignore = "needs chromium: run by .ci/run"]
fn the_dashboard_in_headless_chromium() {
    let collector = Collector::start(&[]);
    let today = Day::today();
    seed::send(&collector, today);

    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let mut browser = Browser::start(&binary, &collector.dir.join("profile"));
    let from = today.plus(-29);
    let api_query = format!("app={}&from={from}&to={today}", seed::APP);
    let answers: Vec<(String, Value)> = telemetry_collector::overview::VIEWS
        .iter()
        .map(|view| {
            (
                (*view).to_owned(),
                collector.get_json(&format!("/api/v1/{view}?{api_query}")),
            )
        })
        .collect();
    let page_url = format!("{}/?app={}&range=30", collector.base(), seed::APP);

    for (width, dark) in [(1440, false), (375, false), (1440, true)] {
        let seen = browser.events.len();
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500}),
        );
        browser.call(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": if dark { "dark" } else { "light" }}]}),
        );
        browser.call("Page.navigate", json!({"url": page_url}));
        browser.wait_for("Page.loadEventFired", seen, Duration::from_secs(30));
        let label = format!("{width} px{}", if dark { ", dark" } else { "" });

        // Every chart drawn, with a size.
        let sizes = browser.evaluate(
            "[...document.querySelectorAll('svg')].map(svg => { const r = svg.getBoundingClientRect(); \
             return [svg.getAttribute('aria-label'), r.width, r.height, svg.getAttribute('role')]; })",
        );
        let sizes = sizes.as_array().expect("a list of charts");
        assert!(
            sizes.len() >= 12,
            "{label}: every view's charts are on the page: {sizes:?}"
        );
        for chart in sizes {
            assert!(
                chart[1].as_f64() > Some(0.0) && chart[2].as_f64() > Some(0.0),
                "{label}: {chart}"
            );
            assert_eq!(chart[3], "img", "{label}: {chart}");
        }
        // No horizontal scroll.
        let overflow =
            browser.evaluate("[document.documentElement.scrollWidth, window.innerWidth]");
        assert!(
            overflow[0].as_f64() <= overflow[1].as_f64(),
            "{label}: the page scrolls sideways: {overflow}"
        );

        // The tables' numbers are the API's.
        let cells = browser.evaluate(
            "[...document.querySelectorAll('[data-api]')].map(cell => \
             [cell.closest('table').dataset.view, cell.dataset.api, cell.textContent])",
        );
        let cells = cells.as_array().expect("the cells");
        for cell in cells {
            let (view, pointer, text) = (
                cell[0].as_str().unwrap(),
                cell[1].as_str().unwrap(),
                cell[2].as_str().unwrap(),
            );
            let answer = &answers
                .iter()
                .find(|(name, _)| name == view)
                .expect("a view")
                .1;
            page_cells::check_cell(view, answer, pointer, text);
        }
        for (view, answer) in answers.iter().filter(|(view, _)| view != "apps") {
            for leaf in page_cells::numeric_leaves(answer) {
                assert!(
                    cells
                        .iter()
                        .any(|cell| cell[0] == view.as_str() && cell[1] == leaf.as_str()),
                    "{label}: {view}{leaf} is on no table"
                );
            }
        }

        let name = format!("dashboard-{width}{}.png", if dark { "-dark" } else { "" });
        screenshot(&mut browser, width, &target_dir().join(&name));
    }

    // Nothing went wrong in the browser, and nothing left for elsewhere.
    for event in &browser.events {
        let method = event["method"].as_str().unwrap_or("");
        let params = &event["params"];
        match method {
            "Runtime.consoleAPICalled" => {
                assert_ne!(params["type"], "error", "console error: {params}")
            }
            "Runtime.exceptionThrown" => panic!("exception: {params}"),
            "Log.entryAdded" => {
                assert_ne!(params["entry"]["level"], "error", "log error: {params}")
            }
            "Network.requestWillBeSent" => {
                let url = params["request"]["url"].as_str().unwrap_or("");
                // `data:` URLs leave nothing (Chromium draws the date
                // input's calendar icon with one).
                assert!(
                    url.starts_with(&format!("{}/", collector.base())) || url.starts_with("data:"),
                    "a request elsewhere: {url}"
                );
            }
            "Network.loadingFailed" => panic!("a request failed: {params}"),
            "Network.responseReceived" => {
                let status = params["response"]["status"].as_i64().unwrap_or(0);
                assert!(
                    status < 400,
                    "{} answered {status}",
                    params["response"]["url"]
                );
            }
            _ => {}
        }
    }
    let requested: Vec<&str> = browser
        .events
        .iter()
        .filter(|event| event["method"] == "Network.requestWillBeSent")
        .filter_map(|event| event["params"]["request"]["url"].as_str())
        .collect();
    assert!(
        requested.iter().any(|url| url.ends_with("/style.css")),
        "{requested:?}"
    );
}

/// A full-page PNG at this width.
fn screenshot(browser: &mut Browser, width: u32, path: &std::path::Path) {
    let metrics = browser.call("Page.getLayoutMetrics", json!({}));
    let height = metrics["cssContentSize"]["height"]
        .as_f64()
        .unwrap_or(900.0)
        .ceil();
    let shot = browser.call(
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true,
               "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
    );
    let png = base64_decode(shot["data"].as_str().expect("PNG data"));
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(path, png)
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
    eprintln!("screenshot: {}", path.display());
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|byte| *byte != b'=') {
        let value = ALPHABET
            .iter()
            .position(|letter| *letter == byte)
            .expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}
