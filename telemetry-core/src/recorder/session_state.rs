//! A session's shared state: its id, agent and running totals; the
//! registry of a client's live sessions; and the sessions current on this
//! thread.
//!
//! Plain data: it sends nothing. The recorder builds and sends the events
//! (see [`Recorder::record`](crate::recorder::Recorder::record)).

use crate::record::limits::{millis, sane_cost, truncate_at_char_boundary, MAX_NAME_LEN};
use crate::record::random;
use crate::recorder::rollup::Rollup;
use crate::MAX_LIVE_SESSIONS;
use crate::MAX_SESSION_ERROR_KINDS;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
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
    /// Tool calls folded into summaries (when roll-ups are on).
    pub(crate) rollup: Rollup,
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
            rollup: Rollup::default(),
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

/// The sessions of one client that have started and not yet ended, found
/// by id, so that a tool call recorded with a session's id counts toward
/// that session even where it is not current.
///
/// A map by id and an index by start order: start, end and lookup cost
/// O(log n) at most, whatever the number of live sessions. Entries are weak:
/// the registry never keeps a session's state alive. At most `bound`
/// entries are kept, so that sessions whose guards were leaked
/// (`mem::forget`) cannot grow it without limit. The lock is held only to
/// look up or update the map, never while sending.
pub(crate) struct LiveSessions {
    bound: usize,
    registry: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    /// Each live session by id, with its place in `order`.
    by_id: HashMap<Arc<str>, (u64, Weak<SessionState>)>,
    /// The ids in start order (the key grows with each start).
    order: BTreeMap<u64, Arc<str>>,
    next: u64,
}

impl Default for LiveSessions {
    fn default() -> LiveSessions {
        LiveSessions::with_bound(MAX_LIVE_SESSIONS)
    }
}

impl LiveSessions {
    /// A registry that keeps at most `bound` sessions (at least one).
    pub(crate) fn with_bound(bound: usize) -> LiveSessions {
        LiveSessions {
            bound: bound.max(1),
            registry: Mutex::new(Registry::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a session that has just started. When the registry is
    /// full, the oldest registration is forgotten first: that session goes
    /// on (its guard, its own methods and its scopes still count and end
    /// it), but a tool call naming its id no longer counts toward it.
    pub(crate) fn register(&self, state: &Arc<SessionState>) {
        let mut registry = self.lock();
        while registry.by_id.len() >= self.bound {
            let Some((_, oldest)) = registry.order.pop_first() else {
                break;
            };
            registry.by_id.remove(&oldest);
        }
        let place = registry.next;
        registry.next += 1;
        let id = Arc::clone(&state.id);
        // Ids are random; a repeated one names the newer session.
        if let Some((replaced, _)) = registry
            .by_id
            .insert(Arc::clone(&id), (place, Arc::downgrade(state)))
        {
            registry.order.remove(&replaced);
        }
        registry.order.insert(place, id);
    }

    /// Forgets a session that has ended.
    pub(crate) fn unregister(&self, state: &SessionState) {
        let mut registry = self.lock();
        let place = match registry.by_id.get(&*state.id) {
            Some((place, weak)) if std::ptr::eq(weak.as_ptr(), state) => *place,
            _ => return,
        };
        registry.by_id.remove(&*state.id);
        registry.order.remove(&place);
    }

    /// The live session with this id.
    pub(crate) fn find(&self, id: &str) -> Option<Arc<SessionState>> {
        if id.is_empty() {
            return None;
        }
        self.lock()
            .by_id
            .get(id)
            .and_then(|(_, weak)| weak.upgrade())
    }

    /// Every registered session still alive, in start order.
    pub(crate) fn live(&self) -> Vec<Arc<SessionState>> {
        let registry = self.lock();
        registry
            .order
            .values()
            .filter_map(|id| registry.by_id.get(id).and_then(|(_, weak)| weak.upgrade()))
            .collect()
    }

    /// How many sessions are registered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().by_id.len()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Arc<SessionState> {
        Arc::new(SessionState::new(Owner::unique(), Arc::from("agent")))
    }

    #[test]
    fn sessions_are_found_by_id_until_they_end() {
        let live = LiveSessions::default();
        let (a, b) = (session(), session());
        live.register(&a);
        live.register(&b);
        assert!(live
            .find(&a.id)
            .is_some_and(|found| Arc::ptr_eq(&found, &a)));
        live.unregister(&a);
        assert!(live.find(&a.id).is_none());
        assert!(live
            .find(&b.id)
            .is_some_and(|found| Arc::ptr_eq(&found, &b)));
        assert!(live.find("").is_none());
        assert_eq!(live.len(), 1);
    }

    #[test]
    fn past_the_bound_the_oldest_registration_is_forgotten() {
        let live = LiveSessions::with_bound(3);
        let sessions: Vec<_> = (0..5).map(|_| session()).collect();
        for state in &sessions {
            live.register(state);
        }
        assert_eq!(live.len(), 3);
        assert!(live.find(&sessions[0].id).is_none());
        assert!(live.find(&sessions[1].id).is_none());
        for kept in &sessions[2..] {
            assert!(live.find(&kept.id).is_some());
        }
        // Ending a forgotten session is harmless and forgets nothing else.
        live.unregister(&sessions[0]);
        assert_eq!(live.len(), 3);
    }

    #[test]
    fn the_registry_keeps_no_session_alive() {
        let live = LiveSessions::default();
        let state = session();
        let id = Arc::clone(&state.id);
        live.register(&state);
        drop(state);
        assert!(live.find(&id).is_none());
    }
}
