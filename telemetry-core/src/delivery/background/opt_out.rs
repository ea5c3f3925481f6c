//! An opt-out by another run, seen by a live process: its spool file
//! deleted, or the remembered choice turned to `disabled`. What the
//! process holds is then dropped, and nothing more is spooled or sent.

use super::{Note, Shared};
use crate::delivery::spool::LiveSpool;
use crate::files::choice::{self, Choice, ChoiceNote};
use std::path::Path;

impl Shared {
    /// Whether another run turned telemetry off since this client started:
    /// this process's spool file (or its claimed leftovers) was deleted, or
    /// the remembered choice is now `disabled`. If so, drops everything
    /// held (once) and says so.
    pub(super) fn check_opt_out(&self) -> bool {
        if self.state().opted_out {
            return true;
        }
        let deleted = self.live().spool.as_ref().is_some_and(LiveSpool::deleted)
            || self
                .claimed()
                .file
                .as_ref()
                .is_some_and(|file| !file.still_named());
        let disabled = !self.disabled_at_start && self.dir.as_deref().is_some_and(choice_says_off);
        if deleted || disabled {
            self.opt_out();
            return true;
        }
        false
    }

    /// Telemetry was turned off elsewhere: nothing held is kept or sent.
    pub(super) fn opt_out(&self) {
        {
            let mut state = self.state();
            if state.opted_out {
                return;
            }
            state.opted_out = true;
            state.stopped = true;
            state.queue.clear();
            state.leftovers.clear();
            state.settled = state.queued;
            state.leftovers_settled = state.leftovers_queued;
            state.claimed = true;
        }
        self.changed.notify_all();
        if let Some(spool) = self.live().spool.as_mut() {
            spool.abandon();
        }
        let mut claimed = self.claimed();
        if let Some(file) = claimed.file.take() {
            if file.still_named() {
                let _ = file.remove();
            }
        }
        claimed.outstanding = 0;
        drop(claimed);
        self.report(&Note::OptedOut);
    }
}

/// Whether the remembered choice in `dir` turns telemetry off: `disabled`,
/// or a file that cannot be trusted (a veto). A file that could not be
/// read for want of a descriptor is not an opt-out.
pub(super) fn choice_says_off(dir: &Path) -> bool {
    match choice::read(dir) {
        Ok(choice) => choice == Choice::Disabled,
        Err(note) => note != ChoiceNote::Unreadable,
    }
}
