//! Naming a failed request by its cause: timed out, DNS, refused, the TLS
//! certificate, the TLS handshake, a reset connection. The name is a fixed
//! sentence: never the URL, a host name or an error's own text, which may
//! carry either.

use std::error::Error;
use std::fmt;
use std::io;

/// Why a request reached no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportFailure {
    /// No answer within the timeout.
    TimedOut,
    /// The collector's host name could not be resolved.
    Dns,
    /// Nothing listens at the collector's address.
    Refused,
    /// The collector's TLS certificate was refused (unknown issuer,
    /// expired, another name...).
    Certificate,
    /// The TLS handshake failed for another reason (not TLS at all, no
    /// common protocol version...).
    Tls,
    /// The connection was closed or reset before the answer.
    Reset,
    /// The connection failed for another reason.
    Connect,
    /// The request failed for another reason.
    Other,
}

impl TransportFailure {
    /// The cause of `error`, found along its chain of sources.
    pub(crate) fn of(error: &reqwest::Error) -> TransportFailure {
        if error.is_timeout() {
            return TransportFailure::TimedOut;
        }
        let mut next: Option<&(dyn Error + 'static)> = Some(error);
        while let Some(cause) = next {
            if let Some(found) = named(cause) {
                return found;
            }
            next = cause.source();
        }
        if error.is_connect() {
            TransportFailure::Connect
        } else {
            TransportFailure::Other
        }
    }
}

/// What one error in the chain says of the cause, if anything.
fn named(cause: &(dyn Error + 'static)) -> Option<TransportFailure> {
    if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
        return Some(match tls {
            rustls::Error::InvalidCertificate(_) => TransportFailure::Certificate,
            _ => TransportFailure::Tls,
        });
    }
    if let Some(io) = cause.downcast_ref::<io::Error>() {
        match io.kind() {
            io::ErrorKind::ConnectionRefused => return Some(TransportFailure::Refused),
            io::ErrorKind::TimedOut => return Some(TransportFailure::TimedOut),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => return Some(TransportFailure::Reset),
            _ => {}
        }
        // `io::Error::source` skips the error it wraps (rustls's, or
        // another `io::Error`): look inside.
        if let Some(found) = io.get_ref().and_then(|inner| named(inner)) {
            return Some(found);
        }
    }
    // hyper-util's connector says "dns error" when resolving failed; its
    // type is not public. Only compared, never printed.
    if cause.to_string().starts_with("dns error") {
        return Some(TransportFailure::Dns);
    }
    None
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportFailure::TimedOut => "the request timed out",
            TransportFailure::Dns => "the collector's host name could not be resolved (DNS)",
            TransportFailure::Refused => "the connection was refused",
            TransportFailure::Certificate => "the collector's TLS certificate was not accepted",
            TransportFailure::Tls => "the TLS handshake failed",
            TransportFailure::Reset => "the connection was closed or reset",
            TransportFailure::Connect => "could not connect",
            TransportFailure::Other => "the request failed",
        })
    }
}
