//! `telemetry-collector serve`, run on a thread of the demo's process.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use telemetry_collector::signal;

/// `telemetry-collector serve` on 127.0.0.1 (a free port), run on a thread
/// of this process.
pub struct InProcessCollector {
    /// Where it listens.
    pub address: SocketAddr,
    thread: JoinHandle<Result<(), String>>,
}

impl InProcessCollector {
    /// Starts it on `db`, and returns once it listens.
    pub fn start(db: &Path) -> Result<InProcessCollector, String> {
        let db = db.to_str().ok_or("the database's path is not UTF-8")?;
        let settings = telemetry_collector::Settings::from_flags(&[
            ("--db", db),
            ("--listen", "127.0.0.1:0"),
        ])?;
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            telemetry_collector::serve(&settings, &signal::STOP, |address| {
                let _ = sender.send(address);
            })
        });
        match receiver.recv() {
            Ok(address) => Ok(InProcessCollector { address, thread }),
            // The thread ended before it listened: its error says why.
            Err(_) => Err(match thread.join() {
                Ok(Err(error)) => format!("cannot start telemetry-collector: {error}"),
                _ => "cannot start telemetry-collector".to_owned(),
            }),
        }
    }

    /// Stops it: no request is in flight once the demo's runs are over.
    pub fn stop(self) {
        signal::STOP.store(true, Ordering::SeqCst);
        self.wait();
    }

    /// Waits until it stops (SIGINT or SIGTERM set the flag it polls).
    pub fn wait(self) {
        if let Ok(Err(error)) = self.thread.join() {
            eprintln!("demo: telemetry-collector: {error}");
        }
    }
}
