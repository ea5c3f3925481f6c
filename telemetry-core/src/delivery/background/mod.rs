//! Background delivery: a record call queues the record and appends it to
//! the spool, then returns; one sender thread posts batches.
//!
//! # The parts
//!
//! - [`Background::record`] (the recording call's part): appends the record
//!   to this process's spool file (see [`crate::delivery::spool`]), then pushes it on
//!   a bounded in-memory queue. No network, no thread hop, no wait.
//! - The sender, a plain `std::thread` started by the first record: it
//!   first claims the leftovers of earlier processes and queues them ahead
//!   of everything else, lets a burst of records gather (until
//!   none came for 1 ms, at most 20 ms), so that it goes in one batch, then takes batches of at most
//!   [`Limits::batch_records`] records and [`Limits::batch_bytes`] bytes off
//!   the queue and hands each to the send function, one batch at a time (so
//!   an HTTP send function reuses one keep-alive connection).
//! - [`Background::flush`]: waits until every record queued before the call
//!   is settled (acknowledged, or known to wait for a later run) or the
//!   timeout passes. [`Background::finish`] does the same, then tidies the
//!   spool (the client's [`FlushGuard`](crate::FlushGuard) calls it when
//!   dropped, within the exit budget).
//!
//! Works the same in any context, tokio runtimes included: the caller never
//! touches the network, and the sender is not a runtime task.
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
//!    that true (see "Bound and compaction" in [`crate::delivery::spool`]). Leftovers are claimed
//!    (renamed under a lock) by exactly one process, and acknowledged in
//!    their file as they are delivered, so the next claimer reads only what
//!    is still pending.
//!
//! 4. **Acknowledged by sequence number.** A record in this process's file
//!    is acknowledged by its sequence number, which [`LiveSpool`] maps to
//!    its line; a record that a compaction dropped, or that was in a file
//!    already removed, is skipped, so a kept record is never counted as
//!    delivered by another's acknowledgement.
//!
//! What can still be sent twice: a batch the collector received but whose
//! answer never came back (the flush budget ran out while it was in
//! flight, or the process died between the answer and the acknowledgement
//! write). Delivery is at least once there; `event_id` lets the collector
//! drop the duplicate.
//!
//! # Failures
//!
//! - A transport failure, or an answer that asks to come back later (5xx,
//!   408, 429), stops sending for the rest of the process: what is queued,
//!   and every later record, stays in the spool for the next run.
//! - Any other 4xx answer: the collector will never accept that batch, so
//!   it is acknowledged (dropped) rather than sent again on every run.
//! - A spool that cannot be written (see [`SpoolError`]): records are still
//!   queued and sent, just not protected against a crash.
//! - A full queue ([`Limits::queue_records`]): the record is only in the
//!   spool, and the next run sends it.
//! - A live spool file that would pass [`Limits::spool`] (the collector
//!   has been failing for a long time): the file is compacted to 3/4 of
//!   its bound, its oldest pending records dropped first (see
//!   [`LiveSpool`]). A dropped record still in the queue is still sent;
//!   its acknowledgement then finds nothing to mark.
//!
//! Each of these is reported once through the [`Note`] callback, for the
//! debug log; records dropped from the live spool are counted, and the
//! total is reported again at a flush point's tidy-up when it grew.

use crate::delivery::dropped::{DropCounts, DropReason};
use crate::delivery::spool::{self, Bound, Drops, LiveSpool, SpoolError, SpoolFile};
use crate::record::Record;
use crate::sink::SendError;
use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How long a [`FlushGuard`](crate::FlushGuard) waits at exit by default.
pub const DEFAULT_EXIT_BUDGET: Duration = Duration::from_secs(1);

/// Delivers one batch of records, each already its wire JSON; returns once
/// the collector accepted them or the attempt failed. Called from the
/// sender thread only, one batch at a time.
pub type SendFn = Box<dyn Fn(&[String]) -> Result<(), SendError> + Send + Sync>;

/// Receives what the debug log should say.
pub type NoteFn = Box<dyn Fn(&Note) + Send + Sync>;

/// Most records in one batch by default: a burst of a thousand events
/// goes in one round trip.
pub const BATCH_RECORDS: usize = 2_000;

/// Most bytes of records' JSON in one batch by default (2 MiB).
pub const BATCH_BYTES: usize = 2 * 1024 * 1024;

/// Sizes of the queue, batches and live spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most records in one batch (default [`BATCH_RECORDS`]).
    pub batch_records: usize,
    /// Most bytes of records' JSON in one batch (default [`BATCH_BYTES`]);
    /// a single larger record goes alone.
    pub batch_bytes: usize,
    /// Most records waiting in memory (default 10,000).
    pub queue_records: usize,
    /// How large this process's spool file grows (default 10,000 records
    /// / 4 MiB, as the leftovers read by a later run); past it, its oldest
    /// records are dropped first.
    pub spool: Bound,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            batch_records: BATCH_RECORDS,
            batch_bytes: BATCH_BYTES,
            queue_records: 10_000,
            spool: Bound::default(),
        }
    }
}

/// Something the debug log should say. `Display` gives the sentence; it
/// never names a path, a record or the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The spool cannot be used; records are sent but not kept on disk.
    SpoolUnusable(SpoolError),
    /// A leftover spool file was skipped or could not be tidied.
    LeftoverProblem(SpoolError),
    /// Leftovers of earlier runs were claimed and queued first.
    LeftoversQueued {
        /// Records queued.
        records: usize,
        /// Files they came from.
        files: usize,
    },
    /// Leftover records were dropped while reading.
    LeftoversDropped(Drops),
    /// Sending stopped for this process; the rest waits in the spool.
    Stopped(SendError),
    /// The collector refused a batch for good (4xx); it was dropped.
    Refused {
        /// The HTTP status.
        status: u16,
        /// Records in the batch.
        records: usize,
    },
    /// The collector accepted a batch but refused some of its records (an
    /// OTLP partial success); the batch is not sent again.
    PartlyRefused {
        /// Records the collector refused.
        rejected: u64,
        /// Records in the batch.
        records: usize,
    },
    /// The queue was full: records are only in the spool, for the next run.
    QueueFull,
    /// The live spool file reached its bound: it was compacted and its
    /// oldest pending records dropped (said once, at the first drop).
    SpoolTrimmed {
        /// Records dropped by this compaction.
        dropped: u64,
        /// The bound.
        bound: Bound,
    },
    /// Records dropped from the live spool file in all, at a flush point's
    /// tidy-up when more were dropped since it was last said.
    SpoolDropped {
        /// Records dropped since the process started.
        total: u64,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::SpoolUnusable(error) => write!(f, "spool: {error}"),
            Note::LeftoverProblem(error) => write!(f, "spool leftovers: {error}"),
            Note::LeftoversQueued { records, files } => write!(
                f,
                "sending {records} records left by earlier runs ({files} spool files)"
            ),
            Note::LeftoversDropped(drops) => write!(f, "{drops}"),
            Note::Stopped(error) => write!(
                f,
                "background delivery stopped ({error}); the rest stays in the spool for the next run"
            ),
            Note::Refused { status, records } => write!(
                f,
                "the collector refused a batch of {records} records (HTTP {status}); it will not be sent again"
            ),
            Note::PartlyRefused { rejected, records } => write!(
                f,
                "the collector refused {rejected} of a batch of {records} records; the batch will not be sent again"
            ),
            Note::QueueFull => f.write_str(
                "the delivery queue is full; further records wait in the spool for the next run",
            ),
            Note::SpoolTrimmed { dropped, bound } => write!(
                f,
                "the spool file reached its bound ({} records / {} bytes); its {dropped} oldest records were dropped from it (those still queued are still sent)",
                bound.records, bound.bytes
            ),
            Note::SpoolDropped { total } => write!(
                f,
                "in all, {total} of the oldest records were dropped from the spool file to keep it within its bound"
            ),
        }
    }
}

/// How a flush ended ([`Telemetry::flush`](crate::Telemetry::flush),
/// [`FlushGuard::flush`](crate::FlushGuard::flush)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flushed {
    /// Everything queued before the flush was acknowledged (or refused for
    /// good).
    Delivered,
    /// Sending had stopped; what was not sent is in the spool.
    Stopped,
    /// The timeout passed with this many records not yet settled; they are
    /// in the spool (unless it is unusable).
    TimedOut {
        /// Records queued before the flush and not yet settled.
        pending: u64,
    },
    /// Deferred delivery: no upload was due (or another process was
    /// uploading); the records wait in the deferred spool for a later run.
    Deferred,
}

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
    }
}

struct Shared {
    dir: Option<PathBuf>,
    send: SendFn,
    note: Option<NoteFn>,
    limits: Limits,
    live: Mutex<Live>,
    state: Mutex<State>,
    changed: Condvar,
    noted_queue_full: AtomicBool,
    /// The client's drop counter, when it has one.
    drops: OnceLock<Arc<DropCounts>>,
}

/// This process's spool file.
struct Live {
    /// None without a config dir.
    spool: Option<LiveSpool>,
    /// Creating or writing the file failed: do not retry every record.
    unusable: bool,
    /// Dropped records said in the debug log so far.
    said_dropped: u64,
}

// Four independent flags of one state, under one mutex: not a state
// machine that an enum would make clearer (`stopped` and `closing` can
// both hold, `loaded` comes at any time after `started`).
#[allow(clippy::struct_excessive_bools)]
#[derive(Default)]
struct State {
    queue: VecDeque<Item>,
    /// Records ever queued (leftovers included).
    queued: u64,
    /// Of those, settled: acknowledged, refused, or left for a later run.
    settled: u64,
    /// The sender has claimed leftovers and queued them first.
    loaded: bool,
    started: bool,
    stopped: bool,
    closing: bool,
}

struct Item {
    event_id: String,
    line: String,
    origin: Origin,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Not on disk (the spool is unusable, or the record is larger than
    /// its bound).
    Memory,
    /// In this process's spool file, with this sequence number.
    Live(u64),
    /// In the claimed file of this index.
    Claimed(usize),
}

impl Background {
    /// Background delivery spooling to `config_dir` (none: memory only) and
    /// sending with `send`. Nothing is opened, claimed or started until the
    /// first record.
    #[must_use]
    pub fn new(
        config_dir: Option<PathBuf>,
        send: SendFn,
        limits: Limits,
        note: Option<NoteFn>,
    ) -> Background {
        Background {
            handle: Arc::new(Handle {
                shared: Arc::new(Shared {
                    live: Mutex::new(Live {
                        spool: config_dir
                            .clone()
                            .map(|dir| LiveSpool::new(dir, limits.spool)),
                        unusable: false,
                        said_dropped: 0,
                    }),
                    dir: config_dir,
                    send,
                    note,
                    limits,
                    state: Mutex::new(State::default()),
                    changed: Condvar::new(),
                    noted_queue_full: AtomicBool::new(false),
                    drops: OnceLock::new(),
                }),
            }),
        }
    }

    /// Counts the records this delivery drops (refused for good, or a full
    /// queue with no spool to wait in) in `drops`, for the client's
    /// `client_report`. Set once; later calls are ignored.
    pub(crate) fn count_drops_in(&self, drops: Arc<DropCounts>) {
        let _ = self.handle.shared.drops.set(drops);
    }

    /// Spools and queues one record, then returns. The first call starts
    /// the sender thread.
    pub fn record(&self, record: &Record) {
        self.record_line(record.event_id(), record.to_json());
    }

    /// [`record`](Background::record) for a record already serialised:
    /// `line` is its wire JSON (one line) and `event_id` its
    /// `properties.event_id`.
    pub fn record_line(&self, event_id: String, mut line: String) {
        let shared = &self.handle.shared;
        let origin = shared.append(&mut line);
        let mut state = shared.state();
        if state.stopped {
            return;
        }
        if state.queue.len() >= shared.limits.queue_records {
            drop(state);
            if origin == Origin::Memory {
                shared.count_dropped(DropReason::QueueFull, 1);
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
        let start = !state.started;
        state.started = true;
        drop(state);
        if start {
            self.start_sender();
        } else {
            shared.changed.notify_all();
        }
    }

    /// Waits until every record queued before this call is settled
    /// (acknowledged, refused for good, or left for a later run because
    /// sending stopped) or `timeout` passes. What is not delivered stays
    /// in the spool. Returns at once when nothing was ever recorded.
    // Called for its effect (it waits for delivery); the outcome is for
    // callers that care, and ignoring it is fine, so no `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn flush(&self, timeout: Duration) -> Flushed {
        let shared = &self.handle.shared;
        let deadline = Instant::now().checked_add(timeout);
        let mut state = shared.state();
        if !state.started {
            return Flushed::Delivered;
        }
        // Leftovers count as queued before this call.
        state = shared.wait_while(state, deadline, |state| !state.loaded && !state.stopped);
        let target = state.queued;
        state = shared.wait_while(state, deadline, |state| state.settled < target);
        if state.settled >= target {
            if state.stopped {
                Flushed::Stopped
            } else {
                Flushed::Delivered
            }
        } else {
            Flushed::TimedOut {
                pending: target - state.settled,
            }
        }
    }

    /// Flushes within `budget`, then tidies this process's spool file: it
    /// is removed when everything in it was delivered, else synced to disk
    /// for the next run. Records made after this start a new file.
    // Called for its effect (it waits for delivery); the outcome is for
    // callers that care, and ignoring it is fine, so no `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn finish(&self, budget: Duration) -> Flushed {
        let flushed = self.flush(budget);
        let shared = &self.handle.shared;
        let mut live = shared.live();
        let Some(spool) = live.spool.as_mut() else {
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
        flushed
    }

    fn start_sender(&self) {
        let shared = Arc::clone(&self.handle.shared);
        let spawned = std::thread::Builder::new()
            .name("telemetry-sender".into())
            .spawn(move || run_sender(&shared));
        if spawned.is_err() {
            // No thread: nothing will be sent by this process; the records
            // are in the spool for the next run.
            let shared = &self.handle.shared;
            let mut state = shared.state();
            state.stopped = true;
            state.loaded = true;
            state.settled = state.queued;
            state.queue.clear();
            drop(state);
            shared.changed.notify_all();
            shared.report(&Note::Stopped(SendError::Transport(
                "the sender thread could not be started".into(),
            )));
        }
    }
}

impl fmt::Debug for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Background")
            .field("limits", &self.handle.shared.limits)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count_dropped(&self, reason: DropReason, n: u64) {
        if let Some(drops) = self.drops.get() {
            drops.add(reason, n);
        }
    }

    fn report(&self, note: &Note) {
        if let Some(report) = &self.note {
            report(note);
        }
    }

    fn wait_while<'a>(
        &self,
        mut state: MutexGuard<'a, State>,
        deadline: Option<Instant>,
        mut condition: impl FnMut(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        while condition(&state) {
            match deadline {
                None => {
                    state = self
                        .changed
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    state = self
                        .changed
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
    fn append(&self, record: &mut String) -> Origin {
        let mut live = self.live();
        if live.unusable {
            return Origin::Memory;
        }
        let Some(spool) = live.spool.as_mut() else {
            return Origin::Memory;
        };
        match spool.append(record) {
            Ok(appended) => {
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
                appended.seq.map_or(Origin::Memory, Origin::Live)
            }
            Err(error) => {
                live.unusable = true;
                drop(live);
                self.report(&Note::SpoolUnusable(error));
                Origin::Memory
            }
        }
    }

    /// Records in this process's file were delivered: (sequence number,
    /// `event_id`).
    fn ack_live(&self, records: &[(u64, &str)]) {
        let mut live = self.live();
        let Some(spool) = live.spool.as_mut() else {
            return;
        };
        if let Err(error) = spool.ack(records.iter().copied()) {
            live.unusable = true;
            drop(live);
            self.report(&Note::SpoolUnusable(error));
        }
    }
}

/// Claimed files and how many of their records are not yet settled.
struct ClaimedFiles {
    files: Vec<Option<SpoolFile>>,
    outstanding: Vec<usize>,
}

impl ClaimedFiles {
    fn ack(&mut self, shared: &Shared, index: usize, ids: &[&str]) {
        let Some(slot) = self.files.get_mut(index) else {
            return;
        };
        let Some(file) = slot.as_mut() else { return };
        self.outstanding[index] = self.outstanding[index].saturating_sub(ids.len());
        let result = if self.outstanding[index] == 0 {
            slot.take().map_or(Ok(()), SpoolFile::remove)
        } else {
            file.append_ack(ids.iter().copied()).map(|_| ())
        };
        if let Err(error) = result {
            shared.report(&Note::LeftoverProblem(error));
        }
    }
}

/// How long at most the sender lets records gather before its first
/// batch: the records a process makes in a burst (a command, a loop of
/// tool calls) then go in one round trip, not in two (the first record
/// alone, then the rest). Later batches gather while the one before is in
/// flight.
const FIRST_BATCH_LINGER: Duration = Duration::from_millis(20);
/// The gather ends earlier once no record came for this long.
const BURST_GAP: Duration = Duration::from_millis(1);

fn run_sender(shared: &Shared) {
    let mut claimed = claim_leftovers(shared);
    linger(shared);
    loop {
        let batch = {
            let mut state = shared.state();
            while state.queue.is_empty() && !state.closing {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.queue.is_empty() {
                return;
            }
            take_batch(&mut state.queue, &shared.limits)
        };
        let lines: Vec<String> = batch.iter().map(|item| item.line.clone()).collect();
        let settled = batch.len() as u64;
        match (shared.send)(&lines) {
            Ok(()) => acknowledge(shared, &mut claimed, &batch),
            Err(SendError::Rejected(status)) if is_refused_for_good(status) => {
                acknowledge(shared, &mut claimed, &batch);
                shared.count_dropped(DropReason::Rejected, settled);
                shared.report(&Note::Refused {
                    status,
                    records: batch.len(),
                });
            }
            // The collector took the batch and refused some of its records
            // (an OTLP partial success): sending the batch again would
            // duplicate the accepted ones, and the refused would be refused
            // again. Acknowledged, and the count said.
            Err(SendError::PartlyRejected { rejected }) => {
                acknowledge(shared, &mut claimed, &batch);
                shared.count_dropped(DropReason::Rejected, rejected);
                shared.report(&Note::PartlyRefused {
                    rejected,
                    records: batch.len(),
                });
            }
            Err(error) => {
                // Said before a flush can return, so that the debug log has
                // it when the program goes on to exit.
                shared.report(&Note::Stopped(error));
                let mut state = shared.state();
                state.stopped = true;
                let dropped = state.queue.len() as u64;
                state.queue.clear();
                state.settled += settled + dropped;
                drop(state);
                shared.changed.notify_all();
                // The claimed files keep their locks until this thread
                // ends, so that no other process of this moment sends them.
                wait_for_close(shared);
                return;
            }
        }
        shared.state().settled += settled;
        shared.changed.notify_all();
    }
}

/// Lets a burst of records gather: returns once none came for
/// [`BURST_GAP`], a full batch is queued, the client is closing, or
/// [`FIRST_BATCH_LINGER`] passed.
fn linger(shared: &Shared) {
    let deadline = Instant::now() + FIRST_BATCH_LINGER;
    let mut state = shared.state();
    loop {
        let queued = state.queued;
        let now = Instant::now();
        if now >= deadline || state.closing || state.queue.len() >= shared.limits.batch_records {
            return;
        }
        let gap = (now + BURST_GAP).min(deadline);
        state = shared.wait_while(state, Some(gap), |state| {
            state.queued == queued && !state.closing
        });
        if state.queued == queued {
            return;
        }
    }
}

fn wait_for_close(shared: &Shared) {
    let mut state = shared.state();
    while !state.closing {
        state = shared
            .changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// 4xx other than 408 (timeout) and 429 (too many requests): sending the
/// same batch again cannot succeed.
pub(crate) fn is_refused_for_good(status: u16) -> bool {
    (400..500).contains(&status) && status != 408 && status != 429
}

fn take_batch(queue: &mut VecDeque<Item>, limits: &Limits) -> Vec<Item> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    while let Some(next) = queue.front() {
        let full = batch.len() >= limits.batch_records.max(1)
            || (!batch.is_empty() && bytes + next.line.len() > limits.batch_bytes);
        if full {
            break;
        }
        bytes += next.line.len();
        if let Some(item) = queue.pop_front() {
            batch.push(item);
        }
    }
    batch
}

fn acknowledge(shared: &Shared, claimed: &mut ClaimedFiles, batch: &[Item]) {
    // This process's records, in one acknowledgement.
    let live: Vec<(u64, &str)> = batch
        .iter()
        .filter_map(|item| match item.origin {
            Origin::Live(seq) => Some((seq, item.event_id.as_str())),
            _ => None,
        })
        .collect();
    if !live.is_empty() {
        shared.ack_live(&live);
    }
    // Leftovers, grouped by the file they are in; a batch spans few files.
    let mut files: Vec<usize> = Vec::new();
    for item in batch {
        if let Origin::Claimed(index) = item.origin {
            if !files.contains(&index) {
                files.push(index);
            }
        }
    }
    for index in files {
        let ids: Vec<&str> = batch
            .iter()
            .filter(|item| item.origin == Origin::Claimed(index))
            .map(|item| item.event_id.as_str())
            .collect();
        claimed.ack(shared, index, &ids);
    }
}

/// Claims the leftovers of earlier runs and queues them ahead of this
/// run's records.
fn claim_leftovers(shared: &Shared) -> ClaimedFiles {
    let mut claimed = ClaimedFiles {
        files: Vec::new(),
        outstanding: Vec::new(),
    };
    let Some(dir) = &shared.dir else {
        shared.state().loaded = true;
        shared.changed.notify_all();
        return claimed;
    };
    let claim = spool::claim(dir, spool::now_ms());
    for problem in &claim.problems {
        shared.report(&Note::LeftoverProblem(*problem));
    }
    if !claim.drops.is_empty() {
        shared.report(&Note::LeftoversDropped(claim.drops));
    }
    claimed.outstanding = vec![0; claim.files.len()];
    for record in &claim.records {
        claimed.outstanding[record.file] += 1;
    }
    let files = claim.files.len();
    claimed.files = claim.files.into_iter().map(Some).collect();
    let count = claim.records.len();
    let mut state = shared.state();
    for record in claim.records.into_iter().rev() {
        state.queue.push_front(Item {
            event_id: record.event_id,
            line: record.line,
            origin: Origin::Claimed(record.file),
        });
    }
    state.queued += count as u64;
    state.loaded = true;
    drop(state);
    shared.changed.notify_all();
    if count > 0 {
        shared.report(&Note::LeftoversQueued {
            records: count,
            files,
        });
    }
    claimed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::spool::tests::{line, temp_dir};
    use crate::record::batch_body;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use telemetry_test_support::collector::{Behaviour, Collector};

    /// A keep-alive HTTP/1.1 poster over one `TcpStream`: the send function
    /// the tests give the sender.
    struct Poster {
        addr: SocketAddr,
        timeout: Duration,
        connection: Mutex<Option<BufReader<TcpStream>>>,
    }

    impl Poster {
        fn send_fn(addr: SocketAddr, timeout: Duration) -> SendFn {
            let poster = Poster {
                addr,
                timeout,
                connection: Mutex::new(None),
            };
            Box::new(move |records: &[String]| poster.post(records))
        }

        fn post(&self, records: &[String]) -> Result<(), SendError> {
            let mut slot = self
                .connection
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let result = self.exchange(&mut slot, &batch_body(records));
            if result.is_err() {
                *slot = None;
            }
            match result {
                Ok(200..=299) => Ok(()),
                Ok(status) => Err(SendError::Rejected(status)),
                Err(error) => Err(SendError::Transport(format!("{:?}", error.kind()))),
            }
        }

        fn exchange(
            &self,
            slot: &mut Option<BufReader<TcpStream>>,
            body: &[u8],
        ) -> std::io::Result<u16> {
            if slot.is_none() {
                let stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
                stream.set_read_timeout(Some(self.timeout))?;
                stream.set_nodelay(true)?;
                *slot = Some(BufReader::new(stream));
            }
            let Some(reader) = slot.as_mut() else {
                return Err(std::io::ErrorKind::NotConnected.into());
            };
            let head = format!(
                "POST /v1/events HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                self.addr,
                body.len()
            );
            let stream = reader.get_mut();
            stream.write_all(head.as_bytes())?;
            stream.write_all(body)?;
            let mut status_line = String::new();
            reader.read_line(&mut status_line)?;
            let status = status_line
                .split_whitespace()
                .nth(1)
                .and_then(|code| code.parse().ok())
                .ok_or(std::io::ErrorKind::InvalidData)?;
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header)?;
                if header.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut answer = vec![0; length];
            reader.read_exact(&mut answer)?;
            Ok(status)
        }
    }

    const LONG: Duration = Duration::from_secs(30);

    fn notes() -> (Arc<Mutex<Vec<Note>>>, Option<NoteFn>) {
        let notes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&notes);
        let note: NoteFn = Box::new(move |note: &Note| sink.lock().unwrap().push(note.clone()));
        (notes, Some(note))
    }

    fn record_n(background: &Background, prefix: &str, count: usize) -> Vec<String> {
        (0..count)
            .map(|n| {
                let id = format!("{prefix}-{n}");
                background.record_line(id.clone(), line(&id, spool::now_ms()));
                id
            })
            .collect()
    }

    fn received_ids(collector: &Collector) -> Vec<String> {
        collector
            .records()
            .iter()
            .map(|record| {
                record["properties"]["event_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    fn records_per_request(collector: &Collector) -> Vec<usize> {
        collector
            .requests()
            .iter()
            .map(|request| {
                telemetry_test_support::collector::check_body(&request.body)
                    .unwrap()
                    .len()
            })
            .collect()
    }

    #[test]
    fn records_go_in_batches_over_one_connection() {
        let dir = temp_dir("batches");
        let collector =
            Collector::start_with(Behaviour::HoldIfBodyContains("first".into())).unwrap();
        let limits = Limits {
            batch_records: 100,
            ..Limits::default()
        };
        let background = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            limits,
            None,
        );
        let mut sent = record_n(&background, "first", 1);
        // The first batch is held by the collector while the rest queue up.
        assert_eq!(collector.wait_for_held(1, LONG), 1);
        sent.extend(record_n(&background, "later", 249));
        collector.release_held();
        assert_eq!(background.flush(LONG), Flushed::Delivered);
        assert_eq!(received_ids(&collector), sent, "each once, in order");
        let sizes = records_per_request(&collector);
        assert!(sizes.iter().all(|&size| size <= 100), "{sizes:?}");
        assert!(sizes.len() <= 4, "batched: {sizes:?}");
        assert_eq!(collector.connections(), 1);
        // Acknowledged records left the spool, and the file goes at exit.
        assert!(spool::peek(&dir).is_empty());
        assert_eq!(background.finish(LONG), Flushed::Delivered);
        assert_eq!(fs_entries(&dir), 0);
    }

    fn fs_entries(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, Iterator::count)
    }

    #[test]
    fn batches_are_capped_in_bytes() {
        let collector =
            Collector::start_with(Behaviour::HoldIfBodyContains("first".into())).unwrap();
        let limits = Limits {
            batch_bytes: 2_000,
            ..Limits::default()
        };
        let background =
            Background::new(None, Poster::send_fn(collector.addr(), LONG), limits, None);
        record_n(&background, "first", 1);
        assert_eq!(collector.wait_for_held(1, LONG), 1);
        record_n(&background, "later", 40);
        collector.release_held();
        assert_eq!(background.flush(LONG), Flushed::Delivered);
        for request in collector.requests() {
            let records = telemetry_test_support::collector::check_body(&request.body).unwrap();
            let bytes: usize = records.iter().map(|r| r.to_string().len()).sum();
            assert!(records.len() == 1 || bytes <= 2_000, "{bytes}");
        }
        assert_eq!(collector.records().len(), 41);
    }

    #[test]
    fn flush_waits_for_the_acknowledgement() {
        let dir = temp_dir("flush");
        let collector =
            Collector::start_with(Behaviour::HoldIfBodyContains("held".into())).unwrap();
        let background = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            None,
        );
        record_n(&background, "held", 2);
        let flusher = {
            let background = background.clone();
            std::thread::spawn(move || background.flush(LONG))
        };
        assert_eq!(collector.wait_for_held(1, LONG), 1);
        assert!(!flusher.is_finished(), "flush returned before the answer");
        assert_eq!(spool::peek(&dir).len(), 2, "still pending while in flight");
        collector.release_held();
        assert_eq!(flusher.join().unwrap(), Flushed::Delivered);
        assert_eq!(collector.records().len(), 2);
        assert!(spool::peek(&dir).is_empty());
    }

    #[test]
    fn flush_returns_after_its_budget_on_a_blackhole_and_keeps_the_records() {
        let dir = temp_dir("blackhole");
        let collector = Collector::start_with(Behaviour::Blackhole).unwrap();
        let background = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            None,
        );
        let sent = record_n(&background, "r", 3);
        let budget = Duration::from_millis(100);
        assert!(matches!(
            background.flush(budget),
            Flushed::TimedOut { pending: 1..=3 }
        ));
        background.finish(budget); // returns too: the exit path
        let spooled: Vec<String> = spool::peek(&dir);
        let expected: Vec<String> = sent.iter().map(|id| line(id, 0)).collect();
        assert_eq!(spooled.len(), 3);
        for (spooled, id) in spooled.iter().zip(&sent) {
            assert!(spooled.contains(id), "{spooled}");
        }
        assert_eq!(expected.len(), 3);
    }

    #[test]
    fn a_collector_that_asks_to_retry_later_stops_sending_and_keeps_the_records() {
        let dir = temp_dir("503");
        let collector = Collector::start_with(Behaviour::Status(503)).unwrap();
        let (notes, note) = notes();
        let background = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            note,
        );
        record_n(&background, "r", 3);
        assert_eq!(background.flush(LONG), Flushed::Stopped);
        record_n(&background, "after", 1);
        assert_eq!(background.flush(LONG), Flushed::Stopped);
        assert_eq!(spool::peek(&dir).len(), 4);
        assert_eq!(collector.requests().len(), 1);
        assert_eq!(
            *notes.lock().unwrap(),
            [Note::Stopped(SendError::Rejected(503))]
        );
    }

    #[test]
    fn a_batch_refused_for_good_is_not_kept() {
        let dir = temp_dir("400");
        let collector = Collector::start_with(Behaviour::Status(400)).unwrap();
        let (notes, note) = notes();
        let background = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            note,
        );
        record_n(&background, "r", 2);
        assert_eq!(background.flush(LONG), Flushed::Delivered);
        assert!(spool::peek(&dir).is_empty());
        // One note per refused batch (the first record may go alone).
        let refused: usize = notes
            .lock()
            .unwrap()
            .iter()
            .map(|note| match note {
                Note::Refused {
                    status: 400,
                    records,
                } => *records,
                other => panic!("{other:?}"),
            })
            .sum();
        assert_eq!(refused, 2);
        // Not sent again by the next run.
        let next = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            None,
        );
        let requests = collector.requests().len();
        record_n(&next, "next", 1);
        assert_eq!(next.flush(LONG), Flushed::Delivered);
        assert_eq!(collector.requests().len(), requests + 1);
    }

    #[test]
    fn a_live_spool_past_its_bound_drops_its_oldest_and_says_so_once() {
        let dir = temp_dir("bound");
        let collector = Collector::start_with(Behaviour::Status(503)).unwrap();
        let (notes, note) = notes();
        let limits = Limits {
            spool: Bound {
                records: 40,
                bytes: u64::MAX / 2,
            },
            ..Limits::default()
        };
        let background = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            limits,
            note,
        );
        let sent = record_n(&background, "r", 1);
        assert_eq!(background.flush(LONG), Flushed::Stopped);
        // Sending stopped: every later record only goes to the spool.
        let later = record_n(&background, "later", 100);
        let spooled = spool::peek(&dir);
        assert!(spooled.len() <= 40, "{}", spooled.len());
        assert!(
            spooled.last().unwrap().contains(&later[99]),
            "the newest kept"
        );
        assert!(!spooled.iter().any(|line| line.contains(&sent[0])));
        let dropped = 101 - spooled.len() as u64;
        assert_eq!(background.finish(LONG), Flushed::Stopped);
        let notes = notes.lock().unwrap();
        let trimmed: Vec<&Note> = notes
            .iter()
            .filter(|note| matches!(note, Note::SpoolTrimmed { .. }))
            .collect();
        assert_eq!(trimmed.len(), 1, "said once: {notes:?}");
        assert_eq!(notes.last(), Some(&Note::SpoolDropped { total: dropped }));
        assert!(notes
            .last()
            .unwrap()
            .to_string()
            .contains(&dropped.to_string()));
    }

    #[test]
    fn an_unusable_spool_still_sends_and_says_why() {
        let dir = temp_dir("unusable");
        let not_a_dir = dir.join("plain-file");
        std::fs::write(&not_a_dir, "x").unwrap();
        let collector = Collector::start().unwrap();
        let (notes, note) = notes();
        let background = Background::new(
            Some(not_a_dir),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            note,
        );
        record_n(&background, "r", 3);
        assert_eq!(background.flush(LONG), Flushed::Delivered);
        assert_eq!(collector.records().len(), 3);
        let notes = notes.lock().unwrap();
        assert!(
            matches!(notes[..], [Note::SpoolUnusable(SpoolError::Unwritable(_))]),
            "{notes:?}"
        );
        assert!(!notes[0].to_string().contains("plain-file"));
    }

    #[test]
    fn opting_out_deletes_what_was_not_sent() {
        let dir = temp_dir("opt-out");
        let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
        let background = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(blackhole.addr(), LONG),
            Limits::default(),
            None,
        );
        record_n(&background, "unsent", 2);
        assert!(matches!(
            background.flush(Duration::from_millis(50)),
            Flushed::TimedOut { .. }
        ));
        // A process starts with telemetry off: it deletes the spool.
        let (removed, problems) = spool::delete_all(&dir);
        assert_eq!((removed, problems), (1, vec![]));
        // Telemetry on again later: only the new record is ever sent.
        let collector = Collector::start().unwrap();
        let next = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            None,
        );
        let sent = record_n(&next, "new", 1);
        assert_eq!(next.flush(LONG), Flushed::Delivered);
        assert_eq!(received_ids(&collector), sent);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn works_the_same_inside_a_tokio_runtime() {
        let dir = temp_dir("tokio");
        let collector = Collector::start().unwrap();
        let background = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            None,
        );
        let sent = record_n(&background, "r", 5);
        tokio::task::yield_now().await;
        assert_eq!(background.flush(LONG), Flushed::Delivered);
        assert_eq!(received_ids(&collector), sent);
    }

    const CHILD_DIR: &str = "TELEMETRY_BACKGROUND_TEST_CHILD_DIR";
    const CHILD_COLLECTOR: &str = "TELEMETRY_BACKGROUND_TEST_CHILD_COLLECTOR";

    /// Run by `leftovers_of_a_killed_process_are_sent_first_by_the_next`
    /// in a child process: records against a collector that never answers,
    /// says "ready", then waits to be killed.
    #[test]
    #[ignore = "a child process of another test"]
    fn child_records_then_waits_to_be_killed() {
        let (Some(dir), Some(addr)) = (
            std::env::var_os(CHILD_DIR),
            std::env::var(CHILD_COLLECTOR).ok(),
        ) else {
            return;
        };
        let addr: SocketAddr = addr.parse().unwrap();
        let background = Background::new(
            Some(PathBuf::from(dir)),
            Poster::send_fn(addr, LONG),
            Limits::default(),
            None,
        );
        record_n(&background, "killed", 5);
        println!("ready");
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_secs(600));
    }

    #[test]
    fn leftovers_of_a_killed_process_are_sent_first_by_the_next() {
        let dir = temp_dir("killed");
        let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "delivery::background::tests::child_records_then_waits_to_be_killed",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_DIR, &dir.0)
            .env(CHILD_COLLECTOR, blackhole.addr().to_string())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert!(lines.any(|line| line.unwrap().trim() == "ready"));
        child.kill().unwrap(); // SIGKILL: no flush, no destructor
        child.wait().unwrap();

        let collector = Collector::start().unwrap();
        let (notes, note) = notes();
        let next = Background::new(
            Some(dir.0.clone()),
            Poster::send_fn(collector.addr(), LONG),
            Limits::default(),
            note,
        );
        let own = record_n(&next, "next", 2);
        assert_eq!(next.finish(LONG), Flushed::Delivered);
        let mut expected: Vec<String> = (0..5).map(|n| format!("killed-{n}")).collect();
        expected.extend(own);
        assert_eq!(
            received_ids(&collector),
            expected,
            "leftovers first, each once"
        );
        assert!(notes.lock().unwrap().contains(&Note::LeftoversQueued {
            records: 5,
            files: 1
        }));
        assert_eq!(fs_entries(&dir), 0, "nothing left in the spool");
    }
}
