//! Many live sessions: a tool call named by id still counts toward the
//! right one, and sessions leaked with `mem::forget` cannot grow the
//! registry without limit (`MAX_LIVE_SESSIONS`); a session whose id was
//! forgotten still counts its own calls and sends its end event.
//!
//! The cost per operation, flat from 1,000 to 100,000 live sessions, is
//! measured by `cargo bench -p telemetry-core --bench sessions`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use telemetry_core::{Event, Outcome, Record, SendError, Sink, Telemetry, MAX_LIVE_SESSIONS};

/// Keeps each session end's tool call count by session id; drops the rest,
/// so that a test can start a hundred thousand sessions in little memory.
#[derive(Clone, Default)]
struct SessionEnds(Arc<Mutex<HashMap<String, u64>>>);

impl Sink for SessionEnds {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        for record in records {
            if let Event::SessionEnd(end) = record.event() {
                self.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(end.session_id.to_string(), end.tool_calls);
            }
        }
        Ok(())
    }
}

impl SessionEnds {
    fn tool_calls(&self, id: &str) -> Option<u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .copied()
    }
}

fn client(sink: &SessionEnds) -> Telemetry {
    // Hundreds of thousands of records: past the default per-process cap.
    Telemetry::isolated("many-sessions", "1")
        .sink(sink.clone())
        .max_records(u64::MAX)
        .build()
}

fn call_by_id(telemetry: &Telemetry, id: &str) {
    telemetry.record_tool_call("t", id, "agent", Duration::ZERO, Outcome::Success);
}

#[test]
fn a_tool_call_by_id_counts_toward_its_session_among_thousands() {
    let sink = SessionEnds::default();
    let telemetry = client(&sink);
    let sessions: Vec<_> = (0..5_000)
        .map(|_| telemetry.start_session("agent"))
        .collect();
    // Every seventh session gets as many calls as its index modulo 5.
    for (index, session) in sessions.iter().enumerate().step_by(7) {
        for _ in 0..index % 5 {
            call_by_id(&telemetry, session.id());
        }
    }
    let expected: Vec<(String, u64)> = sessions
        .iter()
        .enumerate()
        .map(|(index, session)| {
            let calls = if index % 7 == 0 { index % 5 } else { 0 };
            (session.id().to_owned(), calls as u64)
        })
        .collect();
    // Ended in reverse order: ending one never disturbs another's lookup.
    for session in sessions.into_iter().rev() {
        session.end();
    }
    for (id, calls) in expected {
        assert_eq!(sink.tool_calls(&id), Some(calls), "session {id}");
    }
}

#[test]
fn leaked_sessions_are_bounded_and_a_live_guard_still_counts() {
    let sink = SessionEnds::default();
    let telemetry = client(&sink);
    let oldest = telemetry.start_session("agent");
    for _ in 1..MAX_LIVE_SESSIONS {
        std::mem::forget(telemetry.start_session("leaked"));
    }
    // The registry is full: this start forgets the oldest registration.
    let newest = telemetry.start_session("agent");
    let (oldest_id, newest_id) = (oldest.id().to_owned(), newest.id().to_owned());

    call_by_id(&telemetry, &oldest_id); // no longer found by id
    call_by_id(&telemetry, &newest_id);
    // The oldest session's guard still works: its own calls count.
    oldest.record_tool_call("t", Duration::ZERO, Outcome::Success);
    oldest.end();
    newest.end();

    assert_eq!(sink.tool_calls(&newest_id), Some(1));
    assert_eq!(sink.tool_calls(&oldest_id), Some(1));
}
