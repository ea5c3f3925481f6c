//! Headless Chromium driven over the DevTools protocol: start the system
//! binary, open one page, send commands, keep the events (console messages,
//! log entries, network requests) for the test to read.

use super::websocket::WebSocket;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running headless Chromium with one page attached.
pub struct Browser {
    child: Child,
    socket: WebSocket,
    session: String,
    next_id: u64,
    /// Every event received so far, in order (`{"method","params"}`).
    pub events: Vec<Value>,
}

impl Browser {
    /// Starts `binary` (Debian's `chromium`) headless with a fresh profile
    /// in `profile`, and opens a blank page.
    pub fn start(binary: &str, profile: &Path) -> Browser {
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {binary} (apt-get install -y chromium): {error}")
            });
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("chromium exited before it printed its DevTools address")
                .expect("chromium's stderr");
            if let Some(url) = line.strip_prefix("DevTools listening on ") {
                break url.trim().to_owned();
            }
        };
        // Keep draining stderr so that the browser never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        let socket = WebSocket::connect(&url).expect("the DevTools WebSocket");
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let target = browser.call_browser("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = browser.call_browser(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            browser.call(domain, json!({}));
        }
        browser
    }

    /// Sends a command to the page and returns its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(&message.to_string())
            .expect("send to the browser");
        loop {
            let text = self.socket.receive().expect("an answer from the browser");
            let reply: Value = serde_json::from_str(&text).expect("the browser sends JSON");
            if reply["id"] == json!(id) {
                if let Some(error) = reply.get("error") {
                    panic!("{method} failed: {error}");
                }
                return reply["result"].clone();
            }
            if reply.get("method").is_some() {
                self.events.push(reply);
            }
        }
    }

    /// Waits for an event named `method` that arrives after `seen` events.
    pub fn wait_for(&mut self, method: &str, seen: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.events[seen.min(self.events.len())..]
            .iter()
            .any(|event| event["method"] == method)
        {
            assert!(Instant::now() < deadline, "no {method} within {timeout:?}");
            let text = self.socket.receive().expect("an event from the browser");
            let event: Value = serde_json::from_str(&text).expect("the browser sends JSON");
            if event.get("method").is_some() {
                self.events.push(event);
            }
        }
    }

    /// Evaluates a JavaScript expression in the page; its value as JSON.
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
