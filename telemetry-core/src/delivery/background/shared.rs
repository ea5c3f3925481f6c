//! What the client's side and the sender share: the limits and the send
//! function, this process's spool file, the claimed leftovers, and the
//! state under one mutex with its two condition variables.

use super::{Account, Flushed, Limits, Note, NoteFn, SendFn};
use crate::delivery::dropped::{DropCounts, DropReason};
use crate::delivery::spool::{self, LiveSpool, SpoolError, SpoolFile};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Marks a flush point's own sending over when dropped (a panicking send
/// function included), and lets a waiting sender go on.
pub(super) struct SendingHere<'a>(pub(super) &'a Shared);

impl Drop for SendingHere<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.sending_here = false;
        // Woken only when it waits for this (a wake-up costs a short run).
        let waits = state.sender_waits_for_flush;
        drop(state);
        if waits {
            self.0.turn.notify_all();
        }
    }
}

pub(super) struct Shared {
    pub(super) dir: Option<PathBuf>,
    pub(super) send: SendFn,
    pub(super) note: Option<NoteFn>,
    pub(super) limits: Limits,
    pub(super) live: Mutex<Live>,
    /// The claimed leftovers: one merged file.
    pub(super) claimed: Mutex<Claimed>,
    pub(super) state: Mutex<State>,
    pub(super) changed: Condvar,
    /// Wakes a sender waiting for its turn (see "Short runs"), and only
    /// then: a short run's records and acknowledgements leave it asleep.
    pub(super) turn: Condvar,
    pub(super) noted_queue_full: AtomicBool,
    pub(super) drops: Arc<DropCounts>,
    /// When this client was made: the sender's turn comes
    /// [`Limits::short_run`] later.
    pub(super) built: Instant,
    /// The remembered choice was `disabled` when this client started (a
    /// variable turned telemetry on over it): only a change to `disabled`
    /// is an opt-out.
    pub(super) disabled_at_start: bool,
}

/// This process's spool file.
pub(super) struct Live {
    /// None without a config dir.
    pub(super) spool: Option<LiveSpool>,
    /// Creating or writing the file failed: do not retry every record; a
    /// record lost for it is counted by this reason.
    pub(super) unusable: Option<DropReason>,
    /// Dropped records said in the debug log so far.
    pub(super) said_dropped: u64,
}

/// The merged leftovers this process claimed, and how many of their
/// records are not yet settled.
#[derive(Default)]
pub(super) struct Claimed {
    pub(super) file: Option<SpoolFile>,
    pub(super) outstanding: usize,
}

// Independent flags of one state, under one mutex: not a state machine
// that an enum would make clearer (`stopped` and `closing` can both hold,
// `claimed` comes at any time after `started`).
#[allow(clippy::struct_excessive_bools)]
#[derive(Default)]
pub(super) struct State {
    /// This run's records.
    pub(super) queue: VecDeque<Item>,
    /// Leftovers of earlier runs, sent when `queue` is empty.
    pub(super) leftovers: VecDeque<Item>,
    /// This run's records ever queued, and of those settled: acknowledged,
    /// refused, or left for a later run.
    pub(super) queued: u64,
    pub(super) settled: u64,
    /// The same for leftovers.
    pub(super) leftovers_queued: u64,
    pub(super) leftovers_settled: u64,
    /// Leftovers acknowledged by the collector.
    pub(super) leftovers_sent: u64,
    /// The sender has claimed leftovers (or found there is nothing to
    /// claim).
    pub(super) claimed: bool,
    /// A claim is under way (on the sender thread or a flush's).
    pub(super) claiming: bool,
    /// A record was queued.
    pub(super) started: bool,
    /// The sender thread was started: by the first record, unless a flush
    /// point follows it at once (see [`Background::flush_follows`]).
    ///
    /// [`Background::flush_follows`]: super::Background::flush_follows
    pub(super) sender_started: bool,
    /// A flush point follows the records being made: they start no
    /// sender thread.
    pub(super) flush_follows: bool,
    /// The sender's turn came (see "Short runs"): it sends, and a flush
    /// waits for it.
    pub(super) sending: bool,
    /// A flush point sends on its own thread (a short run): the sender,
    /// should its turn come meanwhile, waits until it is done, so that
    /// batches go one at a time.
    pub(super) sending_here: bool,
    /// The sender waits for a flush point's own sending to end.
    pub(super) sender_waits_for_flush: bool,
    /// A flush found leftovers to send: the sender's turn comes now.
    pub(super) wake: bool,
    pub(super) stopped: bool,
    pub(super) closing: bool,
    pub(super) opted_out: bool,
    /// For the account.
    pub(super) files_merged: usize,
    pub(super) files_removed: usize,
    pub(super) claim_time: Duration,
    pub(super) leftover_wait: Duration,
    pub(super) leftover_share: Duration,
    pub(super) flush_wait: Duration,
    pub(super) flush_budget: Duration,
    /// A flush point's share for leftovers ends then: a batch of leftovers
    /// that would not finish by then does not start (the process may exit
    /// right after). Cleared when the process records again.
    pub(super) leftovers_until: Option<Instant>,
    /// How long the last batch of leftovers took.
    pub(super) last_leftover_batch: Duration,
    /// Its records and duration: the pace the next one is sized by.
    pub(super) last_leftover_pace: (usize, Duration),
    /// This run's records left in the spool for a later run because
    /// sending stopped.
    pub(super) left_for_later: u64,
}

impl State {
    /// Whether the caller is to start the sender thread: when `wanted`
    /// and none was started, which it then counts as started, so that
    /// only one caller ever starts it.
    pub(super) fn take_sender_start(&mut self, wanted: bool) -> bool {
        let start = wanted && !self.sender_started;
        self.sender_started |= start;
        start
    }
}

pub(super) struct Item {
    pub(super) event_id: String,
    pub(super) line: String,
    pub(super) origin: Origin,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// Not on disk; if lost, counted by this reason (`None`: there is no
    /// disk to keep it on, an isolated client).
    Memory(Option<DropReason>),
    /// In this process's spool file, with this sequence number.
    Live(u64),
    /// In the claimed (merged) leftovers.
    Claimed,
}

impl Shared {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// No sender thread, and every record of this run and of the claimed
    /// leftovers delivered: a flush has nothing to do.
    pub(super) fn all_settled_here(&self) -> bool {
        let state = self.state();
        state.started
            && !state.sending
            && !state.stopped
            && state.claimed
            && state.settled == state.queued
            && state.leftovers_settled == state.leftovers_queued
    }

    pub(super) fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn claimed(&self) -> MutexGuard<'_, Claimed> {
        self.claimed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn report(&self, note: &Note) {
        if let Some(report) = &self.note {
            report(note);
        }
    }

    pub(super) fn wait_while<'a>(
        &self,
        state: MutexGuard<'a, State>,
        deadline: Option<Instant>,
        condition: impl FnMut(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        self.wait_on(&self.changed, state, deadline, condition)
    }

    /// [`Shared::wait_while`] on the condition variable `changed`.
    pub(super) fn wait_on<'a>(
        &self,
        changed: &Condvar,
        mut state: MutexGuard<'a, State>,
        deadline: Option<Instant>,
        mut condition: impl FnMut(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        while condition(&state) {
            match deadline {
                None => {
                    state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    state = changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
        state
    }

    /// Appends the record to this process's spool file, creating it on
    /// first use; says where the record now lives.
    pub(super) fn append(&self, record: &mut String) -> Origin {
        let mut live = self.live();
        if let Some(reason) = live.unusable {
            return Origin::Memory(Some(reason));
        }
        let Some(spool) = live.spool.as_mut() else {
            return Origin::Memory(None);
        };
        match spool.append(record) {
            Ok(appended) => {
                self.drops.add(appended.reason, appended.dropped);
                let first_drop = appended.dropped > 0 && live.said_dropped == 0;
                if first_drop {
                    live.said_dropped = appended.dropped;
                    let bound = self.limits.spool;
                    drop(live);
                    self.report(&Note::SpoolTrimmed {
                        dropped: appended.dropped,
                        bound,
                    });
                }
                // Not spooled: already counted by the spool's drop.
                appended.seq.map_or(Origin::Memory(None), Origin::Live)
            }
            Err(SpoolError::Deleted) => {
                drop(live);
                self.opt_out();
                Origin::Memory(None)
            }
            Err(error) => {
                let reason = error.drop_reason();
                live.unusable = Some(reason);
                drop(live);
                self.report(&Note::SpoolUnusable(error));
                Origin::Memory(Some(reason))
            }
        }
    }

    /// Records in this process's file were delivered: (sequence number,
    /// `event_id`).
    pub(super) fn ack_live(&self, records: &[(u64, &str)]) {
        let mut live = self.live();
        let Some(spool) = live.spool.as_mut() else {
            return;
        };
        if let Err(error) = spool.ack(records.iter().copied()) {
            live.unusable = Some(error.drop_reason());
            drop(live);
            self.report(&Note::SpoolUnusable(error));
        }
    }

    /// Says what a flush point left for a later run and what the leftovers
    /// cost, when there is anything to say.
    pub(super) fn report_account(&self, flushed: Flushed) {
        if self.note.is_none() {
            return;
        }
        let state = self.state();
        let own_left = match flushed {
            Flushed::TimedOut { pending } => pending,
            _ => 0,
        } + state.left_for_later;
        let account = Account {
            own_left,
            leftovers_sent: state.leftovers_sent,
            leftovers_left: state.leftovers_queued.saturating_sub(state.leftovers_sent),
            files_merged: state.files_merged,
            files_removed: state.files_removed,
            leftover_wait: state.leftover_wait,
            leftover_share: state.leftover_share,
            claim_time: state.claim_time,
            claim_done: state.claimed,
            flush_wait: state.flush_wait,
            flush_budget: state.flush_budget,
            peak_open_files: spool::peak_open_files(),
            dropped: DropReason::ALL
                .iter()
                .map(|&reason| (reason.as_str(), self.drops.get(reason)))
                .filter(|&(_, n)| n > 0)
                .collect(),
        };
        let quiet = !state.started;
        drop(state);
        if !quiet {
            self.report(&Note::Account(account));
        }
    }
}
