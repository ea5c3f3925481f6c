//! The sender thread: this run's records first, in batches; the leftovers
//! of earlier runs claimed once its own queue is empty, and sent while it
//! has nothing of its own waiting.

use super::{Item, Note, Origin, Shared, State, SHORT_RUN_RECORDS};
use crate::delivery::dropped::DropReason;
use crate::delivery::spool::{self, ClaimLimits};
use crate::sink::SendError;
use std::collections::VecDeque;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

/// How long at most the sender lets records gather before its first
/// batch: the records a process makes in a burst (a command, a loop of
/// tool calls) then go in one round trip, not in two (the first record
/// alone, then the rest). Later batches gather while the one before is in
/// flight.
const FIRST_BATCH_LINGER: Duration = Duration::from_millis(20);
/// The gather ends earlier once no record came for this long.
const BURST_GAP: Duration = Duration::from_millis(1);

/// Batches of leftovers are sized to take about this long (from the last
/// one's pace), so that they finish well within the leftovers' share of a
/// flush and none is left in flight at exit: a batch in flight at exit may
/// have reached the collector, and the next run would send it again.
const LEFTOVER_BATCH_TIME: Duration = Duration::from_millis(40);
/// The first batch of leftovers, before the pace is known.
const FIRST_LEFTOVER_BATCH: usize = 50;
/// Most records in one batch of leftovers.
const LEFTOVER_BATCH_RECORDS: usize = 1_000;
/// A batch of leftovers starts during a flush's share only when at least
/// this many times the last one's duration is left of the share.
const LEFTOVER_BATCH_MARGIN: u32 = 3;

/// What the sender does next.
enum Next {
    Send(Vec<Item>),
    Claim,
    End,
}

pub(super) fn run(shared: &Shared) {
    wait_for_turn(shared);
    // Woken for leftovers alone (by a flush), there is no burst to wait for.
    if !shared.state().queue.is_empty() {
        linger(shared);
    }
    loop {
        if shared.check_opt_out() {
            return;
        }
        let batch = match next(shared) {
            Next::End => return,
            Next::Claim => {
                claim_leftovers(shared, true);
                continue;
            }
            Next::Send(batch) => batch,
        };
        match send_batch(shared, batch, None, true) {
            Sent::Settled => {}
            Sent::Stopped => {
                // The claimed file keeps its lock until the client goes,
                // so that no other process of this moment sends it.
                wait_for_close(shared);
                return;
            }
            // Only a flush's own thread has a deadline.
            Sent::OptedOut | Sent::OutOfTime(_) => return,
        }
    }
}

/// Waits for the sender's turn: [`Limits::short_run`] after the client's
/// start, or once [`SHORT_RUN_RECORDS`] records wait, a flush wakes it for
/// leftovers, or the client closes. Until then a flush point sends on its
/// own thread (a short run ends before the turn comes); one doing so when
/// the turn comes finishes first.
///
/// [`Limits::short_run`]: super::Limits::short_run
fn wait_for_turn(shared: &Shared) {
    let due = shared.built.checked_add(shared.limits.short_run);
    let state = shared.state();
    let mut state = shared.wait_on(&shared.turn, state, due, |state: &State| {
        !state.wake && !state.closing && !state.opted_out && state.queue.len() < SHORT_RUN_RECORDS
    });
    // A flush point sending on its own thread finishes first (bounded by
    // its deadline): batches go one at a time.
    if state.sending_here {
        state.sender_waits_for_flush = true;
        state = shared.wait_on(&shared.turn, state, None, |state: &State| {
            state.sending_here
        });
        state.sender_waits_for_flush = false;
    }
    state.sending = true;
}

/// What a flush's own sending ([`send_here`]) leaves to the flush.
pub(super) struct SentHere {
    /// When this run's own records were all settled.
    pub(super) own_done: Instant,
    /// The end of the leftovers' share of the flush's budget, counted from
    /// `own_done`.
    pub(super) share_end: Option<Instant>,
    /// Leftovers of earlier runs wait to be sent (by the sender thread,
    /// within the share).
    pub(super) leftovers: bool,
}

/// Sends this run's queued records on the calling thread: a flush point
/// before the sender's turn (a short run). Batch by batch, none started
/// after `deadline`, each request ending by it; what is not sent by then
/// stays queued and in the spool (`None`). Then claims the leftovers of
/// earlier runs, as the sender would, within their share of the flush's
/// `budget` (a quarter, within the deadline): with no time left, they stay
/// on disk for a later run.
pub(super) fn send_here(
    shared: &Shared,
    deadline: Option<Instant>,
    budget: Duration,
) -> Option<SentHere> {
    // The flush looked for an opt-out just before: the first batch goes
    // without looking again.
    let mut first = true;
    loop {
        if !first && shared.check_opt_out() {
            return None;
        }
        let mut state = shared.state();
        if state.stopped || state.queue.is_empty() {
            break;
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return None;
        }
        let batch = take_batch(
            &mut state.queue,
            shared.limits.batch_records,
            shared.limits.batch_bytes,
        );
        drop(state);
        let look = !first;
        first = false;
        match send_batch(shared, batch, deadline, look) {
            Sent::Settled => {}
            Sent::Stopped | Sent::OptedOut => return None,
            Sent::OutOfTime(batch) => {
                // Not delivered: first in line again, for a later flush or
                // the sender (the spool has it for a later run).
                let mut state = shared.state();
                for item in batch.into_iter().rev() {
                    state.queue.push_front(item);
                }
                return None;
            }
        }
    }
    let own_done = Instant::now();
    let share_end = super::leftover_share_end(budget, deadline);
    // Everything of this run delivered: its file goes now, so that the
    // claim does not look at it.
    if let Some(spool) = shared.live().spool.as_mut() {
        if spool.pending() == 0 {
            let _ = spool.finish();
        }
    }
    if take_claim(shared) {
        let room = share_end.map(|end| end.saturating_duration_since(Instant::now()));
        if room.is_some_and(|room| room.is_zero()) {
            // No time left for leftovers: they stay on disk, unclaimed.
            let mut state = shared.state();
            state.claiming = false;
            state.claimed = true;
            drop(state);
            shared.changed.notify_all();
        } else {
            let mut limits = shared.limits.claim;
            if let Some(room) = room {
                limits.time = limits.time.min(room);
            }
            claim_leftovers_within(shared, true, &limits);
        }
    }
    let state = shared.state();
    Some(SentHere {
        own_done,
        share_end,
        leftovers: !state.stopped && !state.leftovers.is_empty(),
    })
}

/// What became of one batch.
enum Sent {
    /// Acknowledged, or refused for good (dropped and counted).
    Settled,
    /// Sending stopped for this process: the batch and the queue stay in
    /// the spool.
    Stopped,
    /// Another run turned telemetry off: nothing was sent.
    OptedOut,
    /// The caller's deadline came first: the batch, not delivered.
    OutOfTime(Vec<Item>),
}

/// Sends one batch (on the sender thread, or a flush's own within
/// `deadline`) and settles it by the answer; first looks for an opt-out
/// when asked (`look`).
fn send_batch(shared: &Shared, batch: Vec<Item>, deadline: Option<Instant>, look: bool) -> Sent {
    let lines: Vec<String> = batch.iter().map(|item| item.line.clone()).collect();
    // An opt-out elsewhere while the batch was taken: not sent.
    if look && shared.check_opt_out() {
        return Sent::OptedOut;
    }
    let started = Instant::now();
    let result = within(deadline, || (shared.send)(&lines));
    if batch
        .first()
        .is_some_and(|item| item.origin == Origin::Claimed)
    {
        shared.state().last_leftover_batch = started.elapsed();
    }
    drop(lines);
    match result {
        Ok(()) => acknowledge(shared, &batch),
        Err(SendError::Rejected(status)) if is_refused_for_good(status) => {
            acknowledge(shared, &batch);
            shared.drops.add(DropReason::Rejected, batch.len() as u64);
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
            acknowledge(shared, &batch);
            shared.drops.add(DropReason::Rejected, rejected);
            shared.report(&Note::PartlyRefused {
                rejected,
                records: batch.len(),
            });
        }
        Err(SendError::Transport(_))
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) =>
        {
            return Sent::OutOfTime(batch);
        }
        Err(error) => {
            stop(shared, error, &batch);
            // A sender that cannot send still merges and trims the
            // leftover files, so that offline runs do not pile them up.
            if take_claim(shared) {
                claim_leftovers(shared, false);
            }
            return Sent::Stopped;
        }
    }
    settle(shared, &batch);
    Sent::Settled
}

/// Sends on this thread with every request ending by `deadline`.
#[cfg(feature = "http")]
fn within<T>(deadline: Option<Instant>, send: impl FnOnce() -> T) -> T {
    crate::sink::http::deadline::within(deadline, send)
}

/// Without the HTTP sink, an app's own sink keeps its own time.
#[cfg(not(feature = "http"))]
fn within<T>(_deadline: Option<Instant>, send: impl FnOnce() -> T) -> T {
    send()
}

/// Whether this caller is the one to claim the leftovers: none has, and
/// none is at it.
fn take_claim(shared: &Shared) -> bool {
    let mut state = shared.state();
    let take = !state.claimed && !state.claiming;
    state.claiming |= take;
    take
}

/// The next batch: this run's records first; the claim once they are
/// gone the first time; then leftovers. Waits while there is nothing.
fn next(shared: &Shared) -> Next {
    let mut state = shared.state();
    loop {
        if !state.queue.is_empty() {
            let most = shared.limits.batch_records;
            return Next::Send(take_batch(
                &mut state.queue,
                most,
                shared.limits.batch_bytes,
            ));
        }
        if !state.claimed && !state.claiming {
            state.claiming = true;
            return Next::Claim;
        }
        if !state.leftovers.is_empty() && leftover_batch_fits(&state) {
            let most = shared.limits.batch_records.min(leftover_batch_size(&state));
            return Next::Send(take_batch(
                &mut state.leftovers,
                most,
                shared.limits.batch_bytes,
            ));
        }
        if state.closing || state.opted_out {
            return Next::End;
        }
        state = shared
            .changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// Whether a batch of leftovers may start now: always, unless a flush
/// point's share of the budget is running out (see
/// [`LEFTOVER_BATCH_MARGIN`]).
fn leftover_batch_fits(state: &State) -> bool {
    let Some(until) = state.leftovers_until else {
        return true;
    };
    let need = (state.last_leftover_batch * LEFTOVER_BATCH_MARGIN).max(Duration::from_millis(10));
    Instant::now()
        .checked_add(need)
        .is_some_and(|done| done <= until)
}

/// Records in the next batch of leftovers: as many as the last batch's
/// pace sends in [`LEFTOVER_BATCH_TIME`].
fn leftover_batch_size(state: &State) -> usize {
    let (records, took) = state.last_leftover_pace;
    if records == 0 {
        return FIRST_LEFTOVER_BATCH;
    }
    let per_ms = records as f64 / took.as_secs_f64().max(0.001) / 1_000.0;
    let size = per_ms * LEFTOVER_BATCH_TIME.as_secs_f64() * 1_000.0;
    // A float of a small, positive range: the cast is exact enough.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = size as usize;
    size.clamp(10, LEFTOVER_BATCH_RECORDS)
}

/// Counts a delivered (or dropped-for-good) batch as settled.
fn settle(shared: &Shared, batch: &[Item]) {
    let (own, leftovers) = split_count(batch);
    let mut state = shared.state();
    state.settled += own;
    state.leftovers_settled += leftovers;
    drop(state);
    shared.changed.notify_all();
}

fn split_count(batch: &[Item]) -> (u64, u64) {
    let leftovers = batch
        .iter()
        .filter(|item| item.origin == Origin::Claimed)
        .count() as u64;
    (batch.len() as u64 - leftovers, leftovers)
}

/// Sending stopped for this process: what is queued stays in the spool
/// (records only in memory are lost, and counted).
fn stop(shared: &Shared, error: SendError, batch: &[Item]) {
    // Said before a flush can return, so that the debug log has it when
    // the program goes on to exit.
    shared.report(&Note::Stopped(error));
    let mut state = shared.state();
    state.stopped = true;
    let mut lost = Vec::new();
    let mut left = 0;
    for item in batch.iter().chain(state.queue.iter()) {
        match item.origin {
            Origin::Memory(Some(reason)) => lost.push(reason),
            Origin::Live(_) => left += 1,
            _ => {}
        }
    }
    state.left_for_later += left;
    state.queue.clear();
    state.leftovers.clear();
    state.settled = state.queued;
    state.leftovers_settled = state.leftovers_queued;
    drop(state);
    for reason in lost {
        shared.drops.add(reason, 1);
    }
    shared.changed.notify_all();
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
        state = shared.wait_while(state, Some(gap), |state: &State| {
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

/// A status the back-off rules call refused for good (any 4xx or 5xx but
/// 429, 502, 503 and 504): sending the same batch again cannot succeed.
pub(crate) fn is_refused_for_good(status: u16) -> bool {
    crate::delivery::backoff::refused_for_good(status)
}

fn take_batch(queue: &mut VecDeque<Item>, most: usize, most_bytes: usize) -> Vec<Item> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    while let Some(next) = queue.front() {
        let full = batch.len() >= most.max(1)
            || (!batch.is_empty() && bytes + next.line.len() > most_bytes);
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

fn acknowledge(shared: &Shared, batch: &[Item]) {
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
    let leftovers: Vec<&str> = batch
        .iter()
        .filter(|item| item.origin == Origin::Claimed)
        .map(|item| item.event_id.as_str())
        .collect();
    if leftovers.is_empty() {
        return;
    }
    shared.state().leftovers_sent += leftovers.len() as u64;
    let mut claimed = shared.claimed();
    claimed.outstanding = claimed.outstanding.saturating_sub(leftovers.len());
    let result = if claimed.outstanding == 0 {
        claimed.file.take().map_or(Ok(()), spool::SpoolFile::remove)
    } else if let Some(file) = claimed.file.as_mut() {
        file.append_ack(leftovers.iter().copied()).map(|_| ())
    } else {
        Ok(())
    };
    drop(claimed);
    if let Err(error) = result {
        shared.report(&Note::LeftoverProblem(error));
    }
}

/// Claims the leftovers of earlier runs: merged, trimmed and, when this
/// process can send (`read`), queued behind its own records.
fn claim_leftovers(shared: &Shared, read: bool) {
    claim_leftovers_within(shared, read, &shared.limits.claim);
}

/// [`claim_leftovers`] within `limits` (a flush's own claim gets at most
/// what is left of the leftovers' share).
fn claim_leftovers_within(shared: &Shared, read: bool, limits: &ClaimLimits) {
    let Some(dir) = &shared.dir else {
        shared.state().claimed = true;
        shared.changed.notify_all();
        return;
    };
    let started = Instant::now();
    let claim = spool::claim(dir, spool::now_ms(), limits, read);
    let took = started.elapsed();
    for problem in &claim.problems {
        shared.report(&Note::LeftoverProblem(*problem));
    }
    claim.drops.count_into(&shared.drops);
    if !claim.drops.is_empty() {
        shared.report(&Note::LeftoversDropped(claim.drops));
    }
    let count = claim.records.len();
    {
        let mut claimed = shared.claimed();
        claimed.outstanding = count;
        claimed.file = claim.file;
    }
    let mut state = shared.state();
    state.files_merged += claim.merged;
    state.files_removed += claim.removed;
    state.claim_time += took;
    if !state.stopped {
        for record in claim.records {
            state.leftovers.push_back(Item {
                event_id: record.event_id,
                line: record.line,
                origin: Origin::Claimed,
            });
        }
        state.leftovers_queued += count as u64;
    }
    state.claimed = true;
    drop(state);
    shared.changed.notify_all();
    if count > 0 {
        shared.report(&Note::LeftoversQueued {
            records: count,
            files: claim.merged,
        });
    }
}
