//! Loopback ports for the network tests: one that refuses connections, and
//! one that counts them.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A loopback port with nothing listening: connecting to it is refused.
pub fn refused_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
}

/// An endpoint URL on a [`refused_addr`].
pub fn refused_endpoint() -> String {
    format!("http://{}/v1/events", refused_addr())
}

/// Listens on a port and counts the connections made to it, without
/// answering: proof that a sender did, or did not, open a socket.
pub struct PortWatch {
    listener: TcpListener,
    seen: AtomicUsize,
}

impl PortWatch {
    /// Listens on `addr` (a port that was refusing connections until now).
    pub fn bind(addr: SocketAddr) -> PortWatch {
        let listener = TcpListener::bind(addr).expect("listen on the refusing port again");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        PortWatch {
            listener,
            seen: AtomicUsize::new(0),
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        while self.listener.accept().is_ok() {
            self.seen.fetch_add(1, Ordering::Relaxed);
        }
        self.seen.load(Ordering::Relaxed)
    }
}
