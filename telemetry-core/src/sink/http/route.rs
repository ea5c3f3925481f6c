//! Where a request goes: whether an endpoint's host is this machine (every
//! loopback form), whether the API key may travel to it, and which proxy,
//! if any, carries it.
//!
//! # Proxies
//!
//! The proxy variables are read from the client's environment (the
//! builder's [`env`](crate::TelemetryBuilder::env) lookup, the process
//! environment by default), once, when the client is built:
//!
//! - an `https` endpoint: `HTTPS_PROXY`, then `https_proxy`, then
//!   `ALL_PROXY`, then `all_proxy`;
//! - an `http` endpoint: `HTTP_PROXY`, then `http_proxy`, then `ALL_PROXY`,
//!   then `all_proxy`. `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set
//!   (a CGI program, where a request's `Proxy:` header lands in it);
//! - the first one set and not blank names the proxy: `host:port` or an
//!   `http://` or `https://` URL (credentials in it are sent to the proxy).
//!   A proxy of another kind (`socks5://`, ...) turns telemetry off for the
//!   run: records never go around a proxy the user set;
//! - `NO_PROXY`, then `no_proxy`: comma-separated entries; `*` means no
//!   proxy for any host (IP literals too); a domain (`example.com`,
//!   `.example.com` or `*.example.com`) matches itself and its subdomains;
//!   an IP address or a CIDR block (`10.0.0.0/8`) matches IP-literal hosts
//!   in it. Ports are not part of an entry.
//!
//! A loopback endpoint is always reached directly, whatever the variables
//! say: `localhost` and `localhost.` in any case, `127.0.0.0/8`, `[::1]`,
//! and IPv4-mapped loopback such as `[::ffff:127.0.0.1]`.

use super::InvalidSetting;
use crate::env::Env;
use reqwest::Url;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// An endpoint's host: a name, or an IP literal (the URL parser has
/// already normalised `127.1`, `0x7f.0.0.1` and the like).
enum Host<'a> {
    Domain(&'a str),
    Ip(IpAddr),
}

fn host(url: &Url) -> Option<Host<'_>> {
    let host = url.host_str().filter(|host| !host.is_empty())?;
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| Host::Ip(IpAddr::V6(ip)));
    }
    Some(match host.parse::<IpAddr>() {
        Ok(ip) => Host::Ip(ip),
        Err(_) => Host::Domain(host),
    })
}

/// `true` when the endpoint's host is this machine, in any of its forms.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match host(url) {
        Some(Host::Domain(name)) => {
            let name = name.strip_suffix('.').unwrap_or(name);
            name.eq_ignore_ascii_case("localhost")
        }
        Some(Host::Ip(IpAddr::V4(ip))) => ip.is_loopback(),
        Some(Host::Ip(IpAddr::V6(ip))) => is_loopback_v6(ip),
        None => false,
    }
}

fn is_loopback_v6(ip: Ipv6Addr) -> bool {
    ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
}

/// `true` when the API key may be sent to this endpoint: over `https`, or
/// to this machine. Never in clear text across a network.
pub(crate) fn key_may_travel(url: &Url) -> bool {
    url.scheme() == "https" || is_loopback(url)
}

/// Why the app's API key is not sent with the records (they still are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyWithheld {
    /// The endpoint came from the environment, and the app did not allow its
    /// key there.
    EndpointFromEnvironment,
    /// The endpoint is plain `http` to another machine.
    PlainHttp,
}

impl fmt::Display for KeyWithheld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the API key is not sent: ")?;
        f.write_str(match self {
            KeyWithheld::EndpointFromEnvironment => {
                "the endpoint comes from the environment, and the app did not allow its key there"
            }
            KeyWithheld::PlainHttp => "the endpoint is plain http to another machine (use https)",
        })
    }
}

/// The proxy that carries requests to `url`, or `None` to connect directly.
///
/// # Errors
///
/// [`InvalidSetting`] when the variable that applies names no usable
/// `http` or `https` proxy.
pub(crate) fn proxy_for(url: &Url, env: &Env) -> Result<Option<Url>, InvalidSetting> {
    if is_loopback(url) {
        return Ok(None);
    }
    let cgi = env.var("REQUEST_METHOD").is_some();
    let names: [&str; 4] = if url.scheme() == "https" {
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let Some((name, value)) = names
        .into_iter()
        .filter(|name| !(cgi && *name == "HTTP_PROXY"))
        .find_map(|name| {
            env.var(name)
                .filter(|v| !v.to_string_lossy().trim().is_empty())
                .map(|v| (name, v))
        })
    else {
        return Ok(None);
    };
    if bypasses_proxy(url, env) {
        return Ok(None);
    }
    let unusable = || {
        InvalidSetting(format!(
            "{name} does not name an http or https proxy (host:port or http://host:port); \
             records never go around the proxy"
        ))
    };
    let value = value.to_str().ok_or_else(unusable)?.trim();
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let proxy = Url::parse(&with_scheme).map_err(|_| unusable())?;
    if !matches!(proxy.scheme(), "http" | "https") || proxy.host_str().is_none_or(str::is_empty) {
        return Err(unusable());
    }
    Ok(Some(proxy))
}

/// `NO_PROXY` (then `no_proxy`) names this endpoint's host.
fn bypasses_proxy(url: &Url, env: &Env) -> bool {
    let Some(list) = ["NO_PROXY", "no_proxy"]
        .into_iter()
        .filter_map(|name| env.var(name))
        .find_map(|value| {
            value
                .to_str()
                .map(str::to_owned)
                .filter(|v| !v.trim().is_empty())
        })
    else {
        return false;
    };
    let Some(host) = host(url) else {
        return false;
    };
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| entry_matches(entry, &host))
}

fn entry_matches(entry: &str, host: &Host<'_>) -> bool {
    if entry == "*" {
        return true;
    }
    let ip = match host {
        Host::Domain(name) => return domain_matches(entry, name),
        Host::Ip(ip) => *ip,
    };
    let entry = entry.trim_start_matches('[');
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, prefix.parse::<u8>().ok()),
        None => (entry, None),
    };
    let Ok(network) = address.trim_end_matches(']').parse::<IpAddr>() else {
        return false;
    };
    match (network, ip) {
        (IpAddr::V4(network), IpAddr::V4(ip)) => same_prefix(
            u32::from(network).into(),
            u32::from(ip).into(),
            prefix.unwrap_or(32),
            32,
        ),
        (IpAddr::V6(network), IpAddr::V6(ip)) => same_prefix(
            u128::from(network),
            u128::from(ip),
            prefix.unwrap_or(128),
            128,
        ),
        _ => false,
    }
}

/// The first `prefix` of `width` bits of `a` and `b` are equal.
fn same_prefix(a: u128, b: u128, prefix: u8, width: u8) -> bool {
    if prefix > width {
        return false;
    }
    let shift = u32::from(width - prefix);
    shift >= 128 || (a >> shift) == (b >> shift)
}

fn domain_matches(entry: &str, host: &str) -> bool {
    let entry = entry.strip_prefix("*.").unwrap_or(entry);
    let entry = entry.trim_start_matches('.').trim_end_matches('.');
    let host = host.strip_suffix('.').unwrap_or(host);
    if entry.is_empty() {
        return false;
    }
    host.eq_ignore_ascii_case(entry)
        || (host.len() > entry.len()
            && host.as_bytes()[host.len() - entry.len() - 1] == b'.'
            && host[host.len() - entry.len()..].eq_ignore_ascii_case(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn env(vars: &[(&'static str, &'static str)]) -> Env {
        let vars = vars.to_vec();
        Env::from_fn(move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).into())
        })
    }

    fn proxy(endpoint: &str, vars: &[(&'static str, &'static str)]) -> Option<String> {
        proxy_for(&url(endpoint), &env(vars))
            .unwrap()
            .map(|proxy| proxy.to_string())
    }

    #[test]
    fn every_loopback_form_is_loopback() {
        for endpoint in [
            "http://127.0.0.1:8080/",
            "http://127.1.2.3/",
            "http://localhost/",
            "http://LOCALHOST/",
            "http://localhost./",
            "http://LocalHost.:9/",
            "http://[::1]:9/",
            "http://[::ffff:127.0.0.1]:9/",
            "http://[::ffff:127.9.9.9]/",
            "http://2130706433/",
        ] {
            assert!(is_loopback(&url(endpoint)), "{endpoint}");
        }
        for endpoint in [
            "https://collector.example/",
            "http://localhost.example/",
            "http://mylocalhost/",
            "http://10.0.0.1/",
            "http://[::ffff:10.0.0.1]/",
            "http://0.0.0.0/",
        ] {
            assert!(!is_loopback(&url(endpoint)), "{endpoint}");
        }
    }

    #[test]
    fn the_key_travels_over_https_or_to_this_machine_only() {
        assert!(key_may_travel(&url("https://collector.example/")));
        assert!(key_may_travel(&url("http://127.0.0.1:9/")));
        assert!(key_may_travel(&url("http://[::ffff:127.0.0.1]:9/")));
        assert!(!key_may_travel(&url("http://collector.example/")));
        assert!(!key_may_travel(&url("http://192.0.2.1/")));
    }

    #[test]
    fn loopback_is_direct_whatever_the_variables_say() {
        let vars = [
            ("HTTP_PROXY", "http://proxy.test:3128"),
            ("ALL_PROXY", "proxy.test:1"),
        ];
        for endpoint in [
            "http://[::ffff:127.0.0.1]:9/",
            "http://localhost.:9/",
            "http://127.4.5.6:9/",
            "http://[::1]:9/",
            "http://LOCALHOST:9/",
        ] {
            assert_eq!(proxy(endpoint, &vars), None, "{endpoint}");
        }
    }

    #[test]
    fn the_scheme_picks_the_variable_then_all_proxy() {
        let vars = [
            ("HTTP_PROXY", "http://plain.test:1"),
            ("HTTPS_PROXY", "secure.test:2"),
            ("ALL_PROXY", "http://all.test:3"),
        ];
        assert_eq!(
            proxy("http://c.test/", &vars).as_deref(),
            Some("http://plain.test:1/")
        );
        assert_eq!(
            proxy("https://c.test/", &vars).as_deref(),
            Some("http://secure.test:2/")
        );
        let lower = [
            ("https_proxy", "http://lower.test:4"),
            ("all_proxy", "http://all.test:3"),
        ];
        assert_eq!(
            proxy("https://c.test/", &lower).as_deref(),
            Some("http://lower.test:4/")
        );
        assert_eq!(
            proxy("http://c.test/", &lower).as_deref(),
            Some("http://all.test:3/")
        );
        assert_eq!(proxy("http://c.test/", &[("HTTP_PROXY", "  ")]), None);
        assert_eq!(proxy("http://c.test/", &[]), None);
    }

    #[test]
    fn http_proxy_is_ignored_in_a_cgi_program() {
        let vars = [
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://attacker.test:1"),
        ];
        assert_eq!(proxy("http://c.test/", &vars), None);
        let lower = [
            ("REQUEST_METHOD", "GET"),
            ("http_proxy", "http://admin.test:1"),
        ];
        assert_eq!(
            proxy("http://c.test/", &lower).as_deref(),
            Some("http://admin.test:1/")
        );
    }

    #[test]
    fn no_proxy_star_means_every_host_ip_literals_included() {
        for endpoint in [
            "https://c.test/",
            "http://192.0.2.1/",
            "http://[2001:db8::1]/",
        ] {
            let vars = [
                ("HTTP_PROXY", "http://p.test:1"),
                ("HTTPS_PROXY", "http://p.test:1"),
                ("NO_PROXY", "example.org, *"),
            ];
            assert_eq!(proxy(endpoint, &vars), None, "{endpoint}");
        }
    }

    #[test]
    fn no_proxy_entries() {
        let through = |endpoint: &str, list: &'static str| {
            proxy(
                endpoint,
                &[("ALL_PROXY", "http://p.test:1"), ("no_proxy", list)],
            )
            .is_some()
        };
        assert!(!through("http://example.com/", "example.com"));
        assert!(!through("http://a.b.EXAMPLE.com./", ".example.com"));
        assert!(!through("http://a.example.com/", "*.example.com"));
        assert!(through("http://notexample.com/", "example.com"));
        assert!(!through("http://10.1.2.3/", "10.0.0.0/8"));
        assert!(through("http://11.1.2.3/", "10.0.0.0/8"));
        assert!(!through("http://192.0.2.7/", "192.0.2.7"));
        assert!(!through("http://[2001:db8::5]/", "2001:db8::/32"));
        assert!(!through("http://[2001:db8::5]/", "[2001:db8::5]"));
        assert!(through("http://192.0.2.7/", "example.com, 10.0.0.0/8"));
        assert!(through("http://c.test/", " , "));
    }

    #[test]
    fn a_proxy_that_cannot_carry_the_request_is_refused() {
        for value in ["socks5://127.0.0.1:1080", "ftp://p.test", "http://"] {
            let error =
                proxy_for(&url("https://c.test/"), &env(&[("HTTPS_PROXY", value)])).unwrap_err();
            assert!(
                error.to_string().starts_with("HTTPS_PROXY does not name"),
                "{value}"
            );
        }
        // ... unless the host does not use it.
        let exempt = [("HTTPS_PROXY", "socks5://p.test:1"), ("NO_PROXY", "c.test")];
        assert_eq!(proxy("https://c.test/", &exempt), None);
    }

    #[test]
    fn withheld_key_lines_name_no_value() {
        for reason in [KeyWithheld::EndpointFromEnvironment, KeyWithheld::PlainHttp] {
            assert!(reason.to_string().starts_with("the API key is not sent: "));
        }
    }
}
