//! The relay in front of the collector: it counts connections and keeps a
//! copy of what is sent, so that the demo can show what a run sent.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A loopback relay in front of the collector: it counts the connections
/// made to it and keeps a copy of every byte sent through it.
pub struct Relay {
    /// Where it listens.
    pub address: SocketAddr,
    connections: Arc<AtomicUsize>,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Relay {
    /// Starts it on a free loopback port, relaying to `target`.
    pub fn start(target: SocketAddr) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let relay = Relay {
            address: listener.local_addr()?,
            connections: Arc::default(),
            sent: Arc::default(),
        };
        let (connections, sent) = (Arc::clone(&relay.connections), Arc::clone(&relay.sent));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                connections.fetch_add(1, Ordering::SeqCst);
                let sent = Arc::clone(&sent);
                std::thread::spawn(move || {
                    let _ = pipe(client, target, &sent);
                });
            }
        });
        Ok(relay)
    }

    /// How many connections were made to it so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Every byte sent through it so far.
    pub fn sent(&self) -> Vec<u8> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Copies the client's bytes to the collector (keeping a copy) and the
/// answers back, until either side closes.
fn pipe(client: TcpStream, target: SocketAddr, sent: &Mutex<Vec<u8>>) -> std::io::Result<()> {
    let server = TcpStream::connect(target)?;
    let (mut from_server, mut to_client) = (server.try_clone()?, client.try_clone()?);
    let answers = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let (mut from_client, mut to_server) = (client, server);
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = from_client.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        sent.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(&buffer[..read]);
        to_server.write_all(&buffer[..read])?;
    }
    let _ = to_server.shutdown(Shutdown::Write);
    let _ = answers.join();
    Ok(())
}
