//! Each failure to deliver names its real cause in the debug log, and
//! never the URL: refused, DNS, timed out, a TLS certificate that is not
//! accepted, a TLS handshake that fails. (A missing config dir, named
//! "no config dir" and not "not writable": `config_files.rs`.)
//!
//! The TLS server is a loopback rustls server with a self-signed
//! certificate for `localhost` and 127.0.0.1, committed in `tests/data`
//! (made with `openssl req -x509 -newkey ec -pkeyopt
//! ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=localhost
//! -addext subjectAltName=DNS:localhost,IP:127.0.0.1`, then converted to
//! DER).
#![cfg(feature = "http")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use telemetry_core::{Outcome, Telemetry};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::net::refused_addr;
use telemetry_test_support::MemoryWriter;

/// Records one call to `endpoint` and returns the debug log.
fn log_of_one_send(endpoint: &str, timeout: Duration) -> String {
    let log = MemoryWriter::new();
    let telemetry = Telemetry::isolated("cause-test", "1")
        .endpoint(endpoint)
        .api_key("sk-cause-key")
        .timeout(timeout)
        .debug_writer(log.clone())
        .build();
    assert!(telemetry.is_enabled());
    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    let text = log.text();
    assert!(!text.contains("sk-cause-key"), "{text}");
    text
}

/// The one line saying why delivery stopped, checked to hold no address.
fn stop_line(log: &str, addr: Option<SocketAddr>) -> String {
    let line = log
        .lines()
        .find(|line| line.contains("delivery stopped"))
        .unwrap_or_else(|| panic!("no stop line in {log}"))
        .to_owned();
    assert!(
        !line.contains("invalid") && !line.contains("127.0.0.1"),
        "{line}"
    );
    if let Some(addr) = addr {
        assert!(!line.contains(&addr.port().to_string()), "{line}");
    }
    line
}

/// Accepts connections on a free loopback port and hands each to `serve`.
fn loopback_server(serve: impl Fn(std::net::TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            serve(stream);
        }
    });
    addr
}

#[test]
fn a_refused_connection_is_named_refused() {
    let addr = refused_addr();
    let log = log_of_one_send(&format!("http://{addr}/v1/events"), Duration::from_secs(5));
    let line = stop_line(&log, Some(addr));
    assert!(line.ends_with("the connection was refused"), "{line}");
}

#[test]
fn a_name_that_does_not_resolve_is_named_dns() {
    let log = log_of_one_send(
        "https://collector.invalid/v1/events",
        Duration::from_secs(10),
    );
    let line = stop_line(&log, None);
    assert!(
        line.ends_with("the collector's host name could not be resolved (DNS)"),
        "{line}"
    );
}

#[test]
fn a_silent_collector_is_named_timed_out() {
    let collector = Collector::start_with(Behaviour::Blackhole).unwrap();
    let log = log_of_one_send(&collector.url(), Duration::from_millis(300));
    let line = stop_line(&log, Some(collector.addr()));
    assert!(line.ends_with("the request timed out"), "{line}");
}

#[test]
fn a_certificate_that_is_not_trusted_is_named_a_certificate_failure() {
    let cert = rustls::pki_types::CertificateDer::from(
        include_bytes!("data/self-signed-cert.der").to_vec(),
    );
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
        include_bytes!("data/self-signed-key.der").to_vec().into(),
    );
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let config = Arc::new(config);
    let addr = loopback_server(move |mut stream| {
        let Ok(mut tls) = rustls::ServerConnection::new(Arc::clone(&config)) else {
            return;
        };
        // Runs the handshake until the client gives up on the certificate.
        while tls.is_handshaking() {
            if tls.complete_io(&mut stream).is_err() {
                return;
            }
        }
    });
    let log = log_of_one_send(
        &format!("https://localhost:{}/v1/events", addr.port()),
        Duration::from_secs(5),
    );
    let line = stop_line(&log, Some(addr));
    assert!(
        line.ends_with("the collector's TLS certificate was not accepted"),
        "{line}"
    );
}

#[test]
fn a_server_that_does_not_speak_tls_is_named_a_tls_failure() {
    let addr = loopback_server(|mut stream| {
        let mut hello = [0u8; 512];
        let _ = stream.read(&mut hello);
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let log = log_of_one_send(
        &format!("https://127.0.0.1:{}/v1/events", addr.port()),
        Duration::from_secs(5),
    );
    let line = stop_line(&log, Some(addr));
    assert!(line.ends_with("the TLS handshake failed"), "{line}");
}
