//! A session's shared state: its id, agent and running totals; the
//! registry of a client's live sessions; and the sessions current on this
//! thread.
//!
//! Plain data: it sends nothing. The recorder builds and sends the events
//! (see [`Recorder::record`](crate::recorder::Recorder::record)).

use crate::limits::{millis, sane_cost, truncate_at_char_boundary, MAX_NAME_LEN};
use crate::{random, MAX_SESSION_ERROR_KINDS};
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Instant;

/// Which client a session belongs to: a number unique in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owner(u64);

impl Owner {
    /// A number no other client of this process has.
    pub(crate) fn unique() -> Owner {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Owner(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// What a session shares with its guard, the scopes and futures it is
/// current in, and its client's registry of live sessions.
pub(crate) struct SessionState {
    pub(crate) owner: Owner,
    pub(crate) id: Arc<str>,
    pub(crate) agent: Arc<str>,
    started: Instant,
    totals: Mutex<Totals>,
}

/// A session's totals as its end event reports them.
#[derive(Default)]
pub(crate) struct Totals {
    ended: bool,
    pub(crate) tool_calls: u64,
    pub(crate) input_tokens: u64,
    pub(crate) output_tokens: u64,
    pub(crate) cost: f64,
    pub(crate) error_count: u64,
    pub(crate) errors: Vec<Cow<'static, str>>,
    /// Whole milliseconds from start to end.
    pub(crate) duration_ms: u64,
}

impl Totals {
    fn add_error(&mut self, kind: &str) {
        self.error_count = self.error_count.saturating_add(1);
        // Compared as listed (cut to a name's length), so that a long kind
        // seen twice is listed once.
        let kind = truncate_at_char_boundary(kind, MAX_NAME_LEN);
        let known = self.errors.iter().any(|seen| seen == kind);
        if !known && self.errors.len() < MAX_SESSION_ERROR_KINDS {
            self.errors.push(Cow::Owned(kind.to_owned()));
        }
    }
}

impl SessionState {
    /// A new session of `owner` for `agent` (already cut to size), with a
    /// fresh random id.
    pub(crate) fn new(owner: Owner, agent: Arc<str>) -> SessionState {
        SessionState {
            owner,
            id: Arc::from(random::format_uuid(random::uuid_v4())),
            agent,
            started: Instant::now(),
            totals: Mutex::new(Totals::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Totals> {
        self.totals.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one tool call, and its error kind if it failed.
    pub(crate) fn count_tool_call(&self, error_kind: Option<&str>) {
        let mut totals = self.lock();
        totals.tool_calls = totals.tool_calls.saturating_add(1);
        if let Some(kind) = error_kind {
            totals.add_error(kind);
        }
    }

    /// Counts one model call's tokens and cost.
    pub(crate) fn count_tokens(&self, input: u64, output: u64, cost: f64) {
        let mut totals = self.lock();
        totals.input_tokens = totals.input_tokens.saturating_add(input);
        totals.output_tokens = totals.output_tokens.saturating_add(output);
        totals.cost += sane_cost(cost);
    }

    /// Counts an error of this kind.
    pub(crate) fn count_error(&self, kind: &str) {
        self.lock().add_error(kind);
    }

    /// Ends the session: its final totals the first time, `None` after.
    pub(crate) fn finish(&self) -> Option<Totals> {
        let mut totals = self.lock();
        if totals.ended {
            return None;
        }
        let mut final_totals = std::mem::take(&mut *totals);
        totals.ended = true;
        final_totals.duration_ms = millis(self.started.elapsed());
        final_totals.cost = sane_cost(final_totals.cost);
        Some(final_totals)
    }
}

/// The sessions of one client that have started and not yet ended, so that
/// a tool call recorded with a session's id counts toward that session even
/// where it is not current. The lock is held only to look up or update the
/// list, never while sending.
#[derive(Default)]
pub(crate) struct LiveSessions {
    sessions: Mutex<Vec<Weak<SessionState>>>,
}

impl LiveSessions {
    fn lock(&self) -> MutexGuard<'_, Vec<Weak<SessionState>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn register(&self, state: &Arc<SessionState>) {
        let mut sessions = self.lock();
        // A session whose guard was leaked and whose state is gone.
        sessions.retain(|weak| weak.strong_count() > 0);
        sessions.push(Arc::downgrade(state));
    }

    pub(crate) fn unregister(&self, state: &SessionState) {
        self.lock()
            .retain(|weak| weak.strong_count() > 0 && !std::ptr::eq(weak.as_ptr(), state));
    }

    /// The live session with this id, the most recently started first.
    pub(crate) fn find(&self, id: &str) -> Option<Arc<SessionState>> {
        if id.is_empty() {
            return None;
        }
        self.lock()
            .iter()
            .rev()
            .filter_map(Weak::upgrade)
            .find(|state| &*state.id == id)
    }
}

thread_local! {
    static CURRENT: RefCell<Vec<Arc<SessionState>>> = const { RefCell::new(Vec::new()) };
}

/// The innermost current session on this thread, of any client.
pub(crate) fn current() -> Option<Arc<SessionState>> {
    CURRENT
        .try_with(|sessions| sessions.try_borrow().ok()?.last().cloned())
        .ok()
        .flatten()
}

/// Makes `state` the innermost current session on this thread; `false`
/// when it could not (the thread is exiting). Undo with [`pop_current`].
pub(crate) fn push_current(state: Arc<SessionState>) -> bool {
    CURRENT
        .try_with(|sessions| sessions.try_borrow_mut().map(|mut s| s.push(state)).is_ok())
        .unwrap_or(false)
}

/// Undoes a successful [`push_current`].
pub(crate) fn pop_current() {
    let _ = CURRENT.try_with(|sessions| sessions.try_borrow_mut().map(|mut s| s.pop()));
}
