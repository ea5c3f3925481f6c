//! Where records and the API key may go: the key only to the endpoint set
//! in code (unless the app allows an override), never over plain `http` to
//! another machine; no credentials in the endpoint URL; proxies taken from
//! the client's environment, never for a loopback endpoint.
//!
//! The "proxy" here is a loopback collector: it records the requests that
//! reach it (a proxied `http` request names the full URL as its target, an
//! `https` one opens with `CONNECT host:443`). Hosts under `.invalid` never
//! resolve, so a request that reached one went through the proxy.
#![cfg(feature = "http")]

use std::time::Duration;
use telemetry_core::{OffReason, Outcome, Telemetry, TelemetryBuilder};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::MemoryWriter;

const KEY: &str = "sk-app-key-1234";
const WAIT: Duration = Duration::from_secs(5);

fn client(endpoint: &str, env: Vec<(&'static str, String)>) -> TelemetryBuilder {
    Telemetry::isolated("where-test", "1")
        .endpoint(endpoint)
        .api_key(KEY)
        .timeout(Duration::from_secs(5))
        .env_vars(env)
}

fn record_one(telemetry: &Telemetry) {
    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
}

/// One record made with `telemetry` reaches `collector` in one request,
/// with the key.
fn assert_one_request_carries_the_key(telemetry: &Telemetry, collector: &Collector) {
    record_one(telemetry);
    let requests = collector.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("x-api-key"), Some(KEY));
}

/// A client of a plain-http endpoint on a host that never resolves, whose
/// environment names `proxy` as its `HTTP_PROXY` (with `more` variables),
/// and its debug log.
fn through_http_proxy(
    proxy: &Collector,
    more: &[(&'static str, &str)],
) -> (Telemetry, MemoryWriter) {
    let mut env = vec![("HTTP_PROXY", format!("http://{}", proxy.addr()))];
    env.extend(
        more.iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
    let log = MemoryWriter::new();
    let telemetry = client("http://collector.invalid/v1/events", env)
        .debug_writer(log.clone())
        .build();
    (telemetry, log)
}

#[test]
fn the_key_goes_to_the_endpoint_set_in_code() {
    let collector = Collector::start().unwrap();
    let telemetry = client(&collector.url(), vec![]).build();
    assert_one_request_carries_the_key(&telemetry, &collector);
}

#[test]
fn an_endpoint_from_the_environment_gets_the_records_but_not_the_key() {
    let in_code = Collector::start().unwrap();
    let from_env = Collector::start().unwrap();
    let log = MemoryWriter::new();
    let telemetry = client(&in_code.url(), vec![("TELEMETRY_ENDPOINT", from_env.url())])
        .debug_writer(log.clone())
        .build();
    record_one(&telemetry);
    assert!(in_code.requests().is_empty());
    let requests = from_env.requests();
    assert_eq!(requests.len(), 1, "the records still go there");
    assert_eq!(requests[0].header("x-api-key"), None);
    let text = log.text();
    assert!(
        text.contains("the API key is not sent: the endpoint comes from the environment"),
        "{text}"
    );
    assert!(!text.contains(KEY));
}

#[test]
fn the_app_can_allow_its_key_for_an_endpoint_override() {
    let from_env = Collector::start().unwrap();
    let telemetry = client(
        "https://collector.invalid/v1/events",
        vec![("TELEMETRY_ENDPOINT", from_env.url())],
    )
    .api_key_for_endpoint_override(true)
    .build();
    assert_one_request_carries_the_key(&telemetry, &from_env);
}

#[test]
fn the_key_never_goes_over_plain_http_to_another_machine() {
    // The proxy lets the request reach a loopback server although the
    // endpoint is plain http on another host.
    let proxy = Collector::start().unwrap();
    let (telemetry, log) = through_http_proxy(&proxy, &[]);
    record_one(&telemetry);
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1, "the builder's HTTP_PROXY carries it");
    assert_eq!(requests[0].path, "http://collector.invalid/v1/events");
    assert_eq!(requests[0].header("x-api-key"), None);
    assert_eq!(proxy.records().len(), 1, "the record goes, without the key");
    let text = log.text();
    assert!(
        text.contains("the API key is not sent: the endpoint is plain http to another machine"),
        "{text}"
    );
}

#[test]
fn an_https_endpoint_is_tunnelled_and_the_proxy_never_sees_the_key() {
    let proxy = Collector::start().unwrap();
    let telemetry = client(
        "https://collector.invalid/v1/events",
        vec![("https_proxy", proxy.addr().to_string())],
    )
    .build();
    record_one(&telemetry);
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "collector.invalid:443");
    assert_eq!(requests[0].header("x-api-key"), None);
    assert!(!String::from_utf8_lossy(&requests[0].body).contains(KEY));
}

#[test]
fn credentials_in_the_endpoint_url_are_refused() {
    let collector = Collector::start().unwrap();
    let endpoint = format!("http://user:pw-secret@{}/v1/events", collector.addr());
    let log = MemoryWriter::new();
    let telemetry = client(&endpoint, vec![]).debug_writer(log.clone()).build();
    record_one(&telemetry);
    assert!(!telemetry.is_enabled());
    let Some(OffReason::InvalidSetting(reason)) = telemetry.off_reason() else {
        panic!("off for another reason: {:?}", telemetry.off_reason());
    };
    assert!(
        reason.to_string().contains("user name or password"),
        "{reason}"
    );
    assert!(
        collector.requests().is_empty(),
        "no Authorization: Basic went out"
    );
    let text = log.text();
    assert!(
        text.contains("user name or password") && !text.contains("pw-secret"),
        "{text}"
    );
}

#[test]
fn every_loopback_form_is_reached_directly_whatever_the_proxy_variables() {
    let proxy = Collector::start().unwrap();
    let collector = Collector::start().unwrap();
    let port = collector.addr().port();
    let endpoints = [
        format!("http://[::ffff:127.0.0.1]:{port}/v1/events"),
        format!("http://127.0.0.1:{port}/v1/events"),
        format!("http://LOCALHOST:{port}/v1/events"),
    ];
    for endpoint in &endpoints {
        let proxied = format!("http://{}", proxy.addr());
        let telemetry = client(
            endpoint,
            vec![("HTTP_PROXY", proxied.clone()), ("ALL_PROXY", proxied)],
        )
        .build();
        assert!(telemetry.is_enabled(), "{endpoint}");
        record_one(&telemetry);
    }
    assert_eq!(
        collector.wait_for_records(endpoints.len(), WAIT).len(),
        endpoints.len()
    );
    assert!(proxy.requests().is_empty());
    // Loopback may have the key over plain http.
    assert!(collector
        .requests()
        .iter()
        .all(|r| r.header("x-api-key") == Some(KEY)));
}

#[test]
fn no_proxy_star_means_no_proxy_for_any_host() {
    let proxy = Collector::start().unwrap();
    let (telemetry, log) = through_http_proxy(&proxy, &[("NO_PROXY", "*")]);
    record_one(&telemetry);
    assert!(proxy.requests().is_empty());
    let text = log.text();
    assert!(text.contains("could not be resolved (DNS)"), "{text}");
}

#[test]
fn a_proxy_the_client_cannot_use_turns_telemetry_off_rather_than_going_around_it() {
    let telemetry = client(
        "https://collector.invalid/v1/events",
        vec![("ALL_PROXY", "socks5://127.0.0.1:9".to_owned())],
    )
    .build();
    assert!(matches!(
        telemetry.off_reason(),
        Some(OffReason::InvalidSetting(reason)) if reason.to_string().starts_with("ALL_PROXY")
    ));
}
