//! Tool-call roll-ups ([`tool_rollup`](crate::TelemetryBuilder::tool_rollup)):
//! within a session, the first `after` calls of each tool name are sent as
//! `tool` records; later calls of that tool are folded into one
//! `tool_summary` record per tool name, sent when the session ends, or at
//! a flush point (`flush`, the flush guard's drop, the end of the
//! outermost command) for a session still open; calls folded after that
//! go into a later summary. The session's totals (`tool_calls`,
//! `error_count`) still count every call.
//!
//! Only calls counted toward a live session fold: a tool call outside any
//! session, or naming a session id that is not running, is sent as it is.
//! At most [`MAX_ROLLUP_TOOLS`] tool names are followed per session;
//! calls of a name past that are sent as they are.
//!
//! Per call, a fold is a map lookup and a few additions under the
//! session's own lock: cheaper than making a record (see
//! `benches/rollup.rs`).

use crate::record::event::{Event, ToolSummaryEvent};
use crate::record::limits::{millis, truncate_at_char_boundary, MAX_NAME_LEN};
use crate::{MAX_SESSION_ERROR_KINDS, OTHER_NAME};
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Most tool names followed per session.
pub(crate) const MAX_ROLLUP_TOOLS: usize = 256;

/// One session's roll-up state: how many calls of each tool it saw, and
/// the summary of those folded and not yet sent.
#[derive(Default)]
pub(crate) struct Rollup {
    tools: Mutex<HashMap<Cow<'static, str>, ToolCalls>>,
}

#[derive(Default)]
struct ToolCalls {
    seen: u64,
    pending: Option<Summary>,
}

/// Folded calls of one tool, not yet sent.
#[derive(Default, Debug, Clone, PartialEq)]
struct Summary {
    calls: u64,
    errors: u64,
    error_kinds: BTreeMap<String, u64>,
    duration_ms_total: u64,
    duration_ms_max: u64,
}

impl Summary {
    fn add(&mut self, duration: Duration, error_kind: Option<&str>) {
        let ms = millis(duration);
        self.calls = self.calls.saturating_add(1);
        self.duration_ms_total = self.duration_ms_total.saturating_add(ms);
        self.duration_ms_max = self.duration_ms_max.max(ms);
        if let Some(kind) = error_kind {
            self.errors = self.errors.saturating_add(1);
            let kind = truncate_at_char_boundary(kind, MAX_NAME_LEN);
            let known = self.error_kinds.contains_key(kind);
            // Kinds past the bound go to `other`, so the counts still add
            // up to `errors`.
            let key = if known || self.error_kinds.len() < MAX_SESSION_ERROR_KINDS {
                kind
            } else {
                OTHER_NAME
            };
            match self.error_kinds.get_mut(key) {
                Some(count) => *count = count.saturating_add(1),
                None => {
                    self.error_kinds.insert(key.to_owned(), 1);
                }
            }
        }
    }
}

/// What [`Rollup::fold`] did with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fold {
    /// Within the first `after` calls of its tool (or not followed): send
    /// its own record.
    Send,
    /// Folded into the tool's summary: no record of its own.
    Folded,
}

impl Rollup {
    fn lock(&self) -> MutexGuard<'_, HashMap<Cow<'static, str>, ToolCalls>> {
        self.tools.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a call of `tool` (a name already cut to size); past the
    /// first `after` of that tool in this session, folds it.
    // A `&Cow`, not a `&str`: a new tool's key is this `Cow` cloned, which
    // for a static name (every `#[tracked_tool]`) allocates nothing.
    #[allow(clippy::ptr_arg)]
    pub(crate) fn fold(
        &self,
        tool: &Cow<'static, str>,
        after: u32,
        duration: Duration,
        error_kind: Option<&str>,
    ) -> Fold {
        let mut tools = self.lock();
        let followed = tools.len();
        // One lookup; the key is cloned for free when it is a static name.
        let calls = match tools.entry(tool.clone()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) if followed < MAX_ROLLUP_TOOLS => {
                entry.insert(ToolCalls::default())
            }
            Entry::Vacant(_) => return Fold::Send,
        };
        calls.seen = calls.seen.saturating_add(1);
        if calls.seen <= u64::from(after) {
            return Fold::Send;
        }
        calls
            .pending
            .get_or_insert_with(Summary::default)
            .add(duration, error_kind);
        Fold::Folded
    }

    /// The `tool_summary` events of the calls folded since the last call,
    /// by tool name; what they count is then sent, and later calls start
    /// new summaries.
    pub(crate) fn take_summaries(&self, session_id: &Arc<str>, agent: &Arc<str>) -> Vec<Event> {
        let mut tools = self.lock();
        let mut events: Vec<Event> = tools
            .iter_mut()
            .filter_map(|(name, calls)| {
                let summary = calls.pending.take()?;
                Some(Event::ToolSummary(ToolSummaryEvent {
                    tool_name: name.clone(),
                    session_id: Arc::clone(session_id),
                    agent_name: Arc::clone(agent),
                    calls: summary.calls,
                    errors: summary.errors,
                    error_kinds: summary.error_kinds,
                    duration_ms_total: summary.duration_ms_total,
                    duration_ms_max: summary.duration_ms_max,
                }))
            })
            .collect();
        drop(tools);
        // A stable order, by tool name, whatever the map's.
        events.sort_by(|a, b| tool_name(a).cmp(tool_name(b)));
        events
    }

    /// `true` when calls were folded and not yet sent.
    pub(crate) fn has_pending(&self) -> bool {
        self.lock().values().any(|calls| calls.pending.is_some())
    }
}

fn tool_name(event: &Event) -> &str {
    match event {
        Event::ToolSummary(summary) => &summary.tool_name,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summaries(rollup: &Rollup) -> Vec<ToolSummaryEvent> {
        let id: Arc<str> = Arc::from("s");
        let agent: Arc<str> = Arc::from("a");
        rollup
            .take_summaries(&id, &agent)
            .into_iter()
            .map(|event| match event {
                Event::ToolSummary(summary) => summary,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_first_calls_of_each_tool_are_sent_and_the_rest_folded() {
        let rollup = Rollup::default();
        let read = Cow::Borrowed("read_file");
        let search = Cow::Borrowed("search_web");
        let ms = Duration::from_millis;
        let mut sent = 0;
        for n in 0..10_u64 {
            if rollup.fold(&read, 3, ms(n), None) == Fold::Send {
                sent += 1;
            }
        }
        for n in 0..5_u64 {
            let kind = if n == 4 { "TimedOut" } else { "NotFound" };
            if rollup.fold(&search, 3, ms(10 * n), Some(kind)) == Fold::Send {
                sent += 1;
            }
        }
        assert_eq!(sent, 6);
        assert!(rollup.has_pending());
        let got = summaries(&rollup);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].tool_name, "read_file");
        assert_eq!(
            (
                got[0].calls,
                got[0].errors,
                got[0].duration_ms_total,
                got[0].duration_ms_max
            ),
            (7, 0, 3 + 4 + 5 + 6 + 7 + 8 + 9, 9)
        );
        assert!(got[0].error_kinds.is_empty());
        assert_eq!(got[1].tool_name, "search_web");
        assert_eq!((got[1].calls, got[1].errors), (2, 2));
        assert_eq!(
            got[1].error_kinds,
            BTreeMap::from([("NotFound".to_owned(), 1), ("TimedOut".to_owned(), 1)])
        );
        assert_eq!((got[1].duration_ms_total, got[1].duration_ms_max), (70, 40));
        // Sent: nothing pending; the next call folds into a new summary.
        assert!(!rollup.has_pending());
        assert!(summaries(&rollup).is_empty());
        assert_eq!(rollup.fold(&read, 3, ms(1), None), Fold::Folded);
        assert_eq!(summaries(&rollup)[0].calls, 1);
    }

    #[test]
    fn zero_folds_every_call() {
        let rollup = Rollup::default();
        let tool = Cow::Borrowed("t");
        assert_eq!(rollup.fold(&tool, 0, Duration::ZERO, None), Fold::Folded);
    }

    #[test]
    fn error_kinds_past_the_bound_are_counted_as_other() {
        let rollup = Rollup::default();
        let tool = Cow::Borrowed("t");
        let total = MAX_SESSION_ERROR_KINDS + 5;
        for n in 0..total {
            rollup.fold(&tool, 0, Duration::ZERO, Some(&format!("Kind{n}")));
        }
        let summary = &summaries(&rollup)[0];
        assert_eq!(summary.errors, total as u64);
        assert_eq!(summary.error_kinds.len(), MAX_SESSION_ERROR_KINDS + 1);
        assert_eq!(summary.error_kinds[OTHER_NAME], 5);
        assert_eq!(summary.error_kinds.values().sum::<u64>(), total as u64);
    }

    #[test]
    fn tool_names_past_the_bound_are_sent_as_they_are() {
        let rollup = Rollup::default();
        for n in 0..MAX_ROLLUP_TOOLS {
            let tool = Cow::Owned(format!("tool{n}"));
            assert_eq!(rollup.fold(&tool, 0, Duration::ZERO, None), Fold::Folded);
        }
        let extra = Cow::Borrowed("one-too-many");
        assert_eq!(rollup.fold(&extra, 0, Duration::ZERO, None), Fold::Send);
        assert_eq!(summaries(&rollup).len(), MAX_ROLLUP_TOOLS);
    }
}
