//! Background delivery: a record call queues the record and appends it to
//! the spool, then returns; one sender thread posts batches.
//!
//! # The parts
//!
//! - [`Background::record`] (the recording call's part): appends the record
//!   to this process's spool file (see [`crate::delivery::spool`]), then
//!   pushes it on a bounded in-memory queue. No network, no thread hop, no
//!   wait.
//! - The sender (`sender.rs`), a plain `std::thread` started by the first
//!   record (unless a flush point follows that record at once: see "Short
//!   runs" below): when its turn comes (at once, or after a short run's window:
//!   see "Short runs" below), it lets a burst of records gather (until none came for 1 ms,
//!   at most 20 ms), so that it goes in one batch, then takes batches of at
//!   most [`Limits::batch_records`] records and [`Limits::batch_bytes`]
//!   bytes and hands each to the send function, one batch at a time (so an
//!   HTTP send function reuses one keep-alive connection). **This run's own
//!   records go first**: once its queue is empty the first time, the sender
//!   claims the leftovers of earlier runs (bounded in descriptors, bytes,
//!   records and time: see [`spool::claim`](crate::delivery::spool::claim())) and sends them only while it
//!   has none of its own waiting. A sender that cannot send (the collector
//!   is unreachable) still claims, to merge and trim the leftover files.
//! - [`Background::flush`]: waits until every record of this run queued
//!   before the call is settled (acknowledged, or known to wait for a later
//!   run) or the timeout passes; then gives the leftovers at most a quarter
//!   of the timeout. [`Background::finish`] does the same, then tidies the
//!   spool and says in the debug log what was left for a later run (the
//!   client's [`FlushGuard`](crate::FlushGuard) calls it when dropped,
//!   within the exit budget).
//!
//! Works the same in any context, tokio runtimes included: the caller never
//! touches the network, and the sender is not a runtime task.
//!
//! # Short runs
//!
//! Most runs of a CLI record a record or two and exit within milliseconds;
//! for them the sender's wait for a burst, its client and the hand-over at
//! exit cost more than the send. With [`Limits::short_run`] set (the
//! recorder sets [`SHORT_RUN`], 50 ms, with the toolkit's HTTP sink), the
//! sender started by the first record waits until the client is that old
//! (or [`SHORT_RUN_RECORDS`] records wait) before it sends anything.
//! Records are spooled and queued as above meanwhile; a flush point that
//! comes first sends them on its own thread, batch by batch, each request
//! ending by the flush's deadline (the exit budget at exit), removes the
//! emptied spool file, then claims the leftovers of earlier runs and wakes
//! the sender only when there are some. What is not delivered by the
//! deadline stays in the spool, as ever; a killed process leaves its
//! records there too. A run that lives longer has its sender at work from
//! then on (once a record starts it: see below), and keeps all of the
//! above.
//!
//! The records just before a flush point (the end of the outermost
//! command: [`Background::flush_follows`]) start no sender thread at all,
//! since the flush sends them: a run whose records all come at its
//! commands' ends never starts one (a long-lived process that runs
//! command after command sends each command's records at its end). A
//! sender is started for what that flush leaves queued, when the announced
//! flush does not come ([`Background::no_flush_follows`]), by a flush that
//! found leftovers, and by the client's end with records still queued.
//!
//! # Why no record is sent twice in normal operation
//!
//! 1. **Append, then queue.** A record reaches the spool before the sender
//!    can see it, so its acknowledgement is always written after it, never
//!    before (an acknowledgement that came first would leave the record
//!    pending in the file, to be sent again by the next run).
//! 2. **Acknowledge, then settle.** After the collector accepted a batch,
//!    the sender writes the acknowledgement (or empties the file, when every
//!    record in it is acknowledged) before it counts the batch as settled. A
//!    flush returns only after that, so when the process exits after a
//!    flush the spool no longer holds what was delivered.
//! 3. **A live file cannot be claimed.** Each process writes its own spool
//!    file and holds its lock until it exits, so no other process can claim
//!    records that this one has queued or in flight; a compaction keeps
//!    that true (see "Bound and compaction" in [`crate::delivery::spool`]).
//!    Leftovers are claimed (renamed under a lock) by exactly one process,
//!    and acknowledged in their file as they are delivered, so the next
//!    claimer reads only what is still pending.
//! 4. **Acknowledged by sequence number.** A record in this process's file
//!    is acknowledged by its sequence number, which [`LiveSpool`] maps to
//!    its line; a record that a compaction dropped, or that was in a file
//!    already removed, is skipped, so a kept record is never counted as
//!    delivered by another's acknowledgement.
//!
//! What can still be sent twice (at least once, and `event_id` lets the
//! collector drop the duplicate): a batch the collector received but whose
//! answer was lost — it came after the flush budget ran out and the process
//! exited, or never came (a timeout, a connection cut after the request
//! was read), or the process died between the answer and the
//! acknowledgement write. docs/delivery.md lists these.
//!
//! # Failures
//!
//! - A transport failure, an answer that asks to come back later (429,
//!   502, 503, 504), or a back-off in force (an earlier answer asked to
//!   wait: see `delivery::backoff`) stops sending for the rest of
//!   the process: what is queued, and every later record, stays in the
//!   spool for a run after the wait.
//! - Any other 4xx or 5xx answer: the collector will never accept that
//!   batch, so it is acknowledged (dropped) rather than sent again on
//!   every run.
//! - A spool that cannot be written (see [`SpoolError`](crate::delivery::spool::SpoolError)): records are still
//!   queued and sent, just not protected against a crash; one that is lost
//!   for that (sending stopped, the queue full) is counted by the cause
//!   (`descriptor_shortage`, `file_size_limit`).
//! - A full queue ([`Limits::queue_records`]): the record is only in the
//!   spool, and the next run sends it.
//! - A live spool file that would pass [`Limits::spool`] or `RLIMIT_FSIZE`
//!   (the collector has been failing for a long time): the file is
//!   compacted to 3/4 of its bound, its oldest pending records dropped
//!   first and counted (see [`LiveSpool`]). A dropped record still in the
//!   queue is still sent; its acknowledgement then finds nothing to mark.
//! - Another run turned telemetry off (it deleted this process's spool
//!   file, or remembered the choice `disabled` after this process started):
//!   seen before each batch, at each flush and at each compaction. What the
//!   process holds is dropped (not counted: an opt-out is not a loss), and
//!   nothing more is spooled or sent.
//!
//! Each of these is reported once through the [`Note`] callback, for the
//! debug log; records dropped from the live spool are counted, and the
//! total is reported again at a flush point's tidy-up when it grew.

mod flushed;
mod limits;
mod note;
mod opt_out;
mod sender;
mod shared;
#[cfg(test)]
mod short_run_tests;
#[cfg(test)]
mod tests;

pub use flushed::Flushed;
pub use limits::{
    Limits, NoteFn, SendFn, BATCH_BYTES, BATCH_RECORDS, DEFAULT_EXIT_BUDGET, SHORT_RUN,
    SHORT_RUN_RECORDS,
};
pub use note::{Account, Note};
pub(crate) use sender::is_refused_for_good;
use shared::{Claimed, Item, Live, Origin, SendingHere, Shared, State};

use crate::delivery::dropped::{DropCounts, DropReason};
use crate::delivery::spool::LiveSpool;
use crate::record::Record;
use crate::sink::SendError;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Background delivery for one client: cheap to clone, shared by threads.
/// The sender thread ends once every clone is dropped and the queue is
/// empty.
#[derive(Clone)]
pub struct Background {
    handle: Arc<Handle>,
}

/// Dropping the last one lets the sender thread end.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.state().closing = true;
        self.shared.changed.notify_all();
        self.shared.turn.notify_all();
        // Records queued with no sender (no flush came): one takes them.
        start_sender_for_queue(&self.shared);
    }
}

impl Background {
    /// Background delivery spooling to `config_dir` (none: memory only) and
    /// sending with `send`. Nothing is opened, claimed or started until the
    /// first record (the remembered choice is read once, to tell a later
    /// opt-out).
    #[must_use]
    pub fn new(
        config_dir: Option<PathBuf>,
        send: SendFn,
        limits: Limits,
        note: Option<NoteFn>,
    ) -> Background {
        let disabled_at_start = config_dir.as_deref().is_some_and(opt_out::choice_says_off);
        Background {
            handle: Arc::new(Handle {
                shared: Arc::new(Shared {
                    live: Mutex::new(Live {
                        spool: config_dir
                            .clone()
                            .map(|dir| LiveSpool::new(dir, limits.spool)),
                        unusable: None,
                        said_dropped: 0,
                    }),
                    claimed: Mutex::new(Claimed::default()),
                    dir: config_dir,
                    send,
                    note,
                    limits,
                    state: Mutex::new(State::default()),
                    changed: Condvar::new(),
                    turn: Condvar::new(),
                    noted_queue_full: AtomicBool::new(false),
                    drops: Arc::new(DropCounts::default()),
                    built: Instant::now(),
                    disabled_at_start,
                }),
            }),
        }
    }

    /// Records dropped by this client, by reason (shared with whoever
    /// reports them: the `client_report` record).
    #[must_use]
    pub(crate) fn drop_counts(&self) -> Arc<DropCounts> {
        Arc::clone(&self.handle.shared.drops)
    }

    /// Spools and queues one record, then returns. The first call starts
    /// the sender thread, unless a flush point follows at once (see "Short
    /// runs").
    pub fn record(&self, record: &Record) {
        self.record_line(record.event_id(), record.to_json());
    }

    /// [`record`](Background::record) for a record already serialised:
    /// `line` is its wire JSON (one line) and `event_id` its
    /// `properties.event_id`.
    pub fn record_line(&self, event_id: String, mut line: String) {
        let shared = &self.handle.shared;
        if shared.state().opted_out {
            return;
        }
        let origin = shared.append(&mut line);
        let mut state = shared.state();
        if state.stopped {
            if let Origin::Live(_) = origin {
                state.left_for_later += 1;
            }
            drop(state);
            if let Origin::Memory(Some(reason)) = origin {
                shared.drops.add(reason, 1);
            }
            return;
        }
        if state.queue.len() >= shared.limits.queue_records {
            drop(state);
            match origin {
                Origin::Memory(Some(reason)) => shared.drops.add(reason, 1),
                // Neither queued nor on disk: this record is lost.
                Origin::Memory(None) => shared.drops.add(DropReason::QueueFull, 1),
                _ => {}
            }
            if !shared.noted_queue_full.swap(true, Ordering::Relaxed) {
                shared.report(&Note::QueueFull);
            }
            return;
        }
        state.queue.push_back(Item {
            event_id,
            line,
            origin,
        });
        state.queued += 1;
        // The process goes on: leftovers may use the time until its next
        // flush point.
        state.leftovers_until = None;
        state.started = true;
        // Just before a flush point (a short run's end), the flush sends:
        // no thread for that.
        let flush_sends = state.flush_follows;
        let start = state.take_sender_start(!flush_sends);
        let turn = state.queue.len() == SHORT_RUN_RECORDS;
        drop(state);
        if turn {
            shared.turn.notify_all();
        }
        if start {
            start_sender(shared);
        } else {
            shared.changed.notify_all();
        }
    }

    /// The records that come next are followed at once by a flush point
    /// (the end of the outermost command): they start no sender thread, as
    /// the flush sends them (see "Short runs"). Only with a short-run
    /// window: without one a flush waits for the sender, which the first
    /// record starts as ever. Whatever the flush leaves, or
    /// [`no_flush_follows`] if none comes, starts one.
    ///
    /// [`no_flush_follows`]: Background::no_flush_follows
    pub(crate) fn flush_follows(&self) {
        let shared = &self.handle.shared;
        // Without a short-run window a flush waits for the sender.
        if !shared.limits.short_run.is_zero() {
            shared.state().flush_follows = true;
        }
    }

    /// Whether the sender thread was started (for tests).
    #[cfg(test)]
    pub(crate) fn sender_started(&self) -> bool {
        self.handle.shared.state().sender_started
    }

    /// Takes back a flush point announced by [`flush_follows`] (none came:
    /// another command is still open): a sender thread takes what is
    /// queued, if none was started. After the flush, a no-op.
    ///
    /// [`flush_follows`]: Background::flush_follows
    pub(crate) fn no_flush_follows(&self) {
        start_sender_for_queue(&self.handle.shared);
    }

    /// Waits until every record of this run queued before this call is
    /// settled (acknowledged, refused for good, or left for a later run
    /// because sending stopped) or `timeout` passes; then waits for the
    /// leftovers of earlier runs (their claim and their batches) at most a
    /// quarter of `timeout`, within it. What is not delivered stays in the
    /// spool. Returns at once when nothing was ever recorded.
    // Called for its effect (it waits for delivery); the outcome is for
    // callers that care, and ignoring it is fine, so no `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn flush(&self, timeout: Duration) -> Flushed {
        // The announced flush point has come: records made from now on (by
        // other threads) start a sender as any record does.
        self.handle.shared.state().flush_follows = false;
        let flushed = self.flush_within(timeout);
        // What this flush left queued goes with a sender thread, as if no
        // flush had been announced.
        start_sender_for_queue(&self.handle.shared);
        flushed
    }

    fn flush_within(&self, timeout: Duration) -> Flushed {
        let shared = &self.handle.shared;
        if shared.all_settled_here() {
            // A second flush point of a short run (the command's end, then
            // the guard's drop): nothing held, nothing to look at again.
            return Flushed::Delivered;
        }
        if shared.check_opt_out() {
            return Flushed::OptedOut;
        }
        let start = Instant::now();
        let deadline = start.checked_add(timeout);
        let mut state = shared.state();
        if !state.started {
            return Flushed::Delivered;
        }
        // When this run's own records were settled here, and the end of
        // the leftovers' share counted from then.
        let mut sent_here = None;
        if !state.sending && !shared.limits.short_run.is_zero() {
            // The sender still waits (a short run): this thread sends what
            // is queued, and wakes the sender only for leftovers of
            // earlier runs, within their share of the budget.
            state.sending_here = true;
            drop(state);
            let here = {
                let _done = SendingHere(shared);
                sender::send_here(shared, deadline, timeout)
            };
            if let Some(here) = here {
                if here.leftovers {
                    let mut state = shared.state();
                    state.leftovers_until = here.share_end;
                    state.wake = true;
                    let start = state.take_sender_start(true);
                    drop(state);
                    shared.turn.notify_all();
                    if start {
                        start_sender(shared);
                    }
                }
                sent_here = Some((here.own_done, here.share_end));
            }
            state = shared.state();
        }
        let target = state.queued;
        state = shared.wait_while(state, deadline, |state| {
            state.settled < target && !state.opted_out
        });
        let flushed = if state.opted_out {
            Flushed::OptedOut
        } else if state.settled < target {
            Flushed::TimedOut {
                pending: target - state.settled,
            }
        } else {
            // The leftovers' share: a quarter of the budget, within it.
            let share = timeout / 4;
            let (own_done, share_end) = sent_here
                .unwrap_or_else(|| (Instant::now(), leftover_share_end(timeout, deadline)));
            state.leftovers_until = share_end;
            shared.changed.notify_all();
            state = shared.wait_while(state, share_end, |state| {
                !state.opted_out
                    && (!state.claimed
                        || (!state.stopped && state.leftovers_settled < state.leftovers_queued))
            });
            state.leftover_wait += own_done.elapsed();
            state.leftover_share += share;
            if state.opted_out {
                Flushed::OptedOut
            } else if state.stopped {
                Flushed::Stopped
            } else {
                Flushed::Delivered
            }
        };
        state.flush_wait += start.elapsed();
        state.flush_budget += timeout;
        flushed
    }

    /// Flushes within `budget`, then tidies this process's spool file: it
    /// is removed when everything in it was delivered, else synced to disk
    /// for the next run. Says in the debug log what was left for a later
    /// run and what the leftovers of earlier runs cost. Records made after
    /// this start a new file.
    // Called for its effect (it waits for delivery); the outcome is for
    // callers that care, and ignoring it is fine, so no `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn finish(&self, budget: Duration) -> Flushed {
        let flushed = self.flush(budget);
        let shared = &self.handle.shared;
        if flushed == Flushed::OptedOut {
            return flushed;
        }
        let mut live = shared.live();
        let Some(spool) = live.spool.as_mut() else {
            drop(live);
            shared.report_account(flushed);
            return flushed;
        };
        let _ = spool.finish();
        let total = spool.dropped();
        let say = total > live.said_dropped;
        live.said_dropped = total;
        drop(live);
        if say {
            shared.report(&Note::SpoolDropped { total });
        }
        shared.report_account(flushed);
        flushed
    }
}

/// Starts the sender thread. Without one, nothing more is sent by this
/// process: what is queued stays in the spool for the next run.
fn start_sender(shared: &Arc<Shared>) {
    let for_sender = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("telemetry-sender".into())
        .spawn(move || sender::run(&for_sender));
    if spawned.is_err() {
        let mut state = shared.state();
        state.stopped = true;
        state.claimed = true;
        state.settled = state.queued;
        state.queue.clear();
        drop(state);
        shared.changed.notify_all();
        shared.report(&Note::Stopped(SendError::Transport(
            "the sender thread could not be started".into(),
        )));
    }
}

/// Ends an announced flush point ([`Background::flush_follows`]), and
/// starts the sender thread when records wait and none was started.
fn start_sender_for_queue(shared: &Arc<Shared>) {
    let mut state = shared.state();
    state.flush_follows = false;
    let waiting = !state.queue.is_empty() && !state.stopped && !state.opted_out;
    let start = state.take_sender_start(waiting);
    drop(state);
    if start {
        start_sender(shared);
    }
}

/// When the leftovers' share of a flush of `timeout` ends, from now: a
/// quarter of the timeout, within its `deadline`.
fn leftover_share_end(timeout: Duration, deadline: Option<Instant>) -> Option<Instant> {
    Instant::now()
        .checked_add(timeout / 4)
        .map(|end| deadline.map_or(end, |deadline| end.min(deadline)))
}

impl fmt::Debug for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Background")
            .field("limits", &self.handle.shared.limits)
            .finish_non_exhaustive()
    }
}
