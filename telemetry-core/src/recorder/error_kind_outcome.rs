//! How the macros' outcome picks an error's [`TrackedError`] kind: an
//! inherent `outcome` method on [`Returned`] for a `Result` whose error type
//! implements the trait.
//!
//! The expansion calls `(&Returned(&ret)).outcome()` with the traits
//! `ResultOutcome` and `PlainOutcome` in scope. Method lookup tries inherent
//! methods before trait methods at each step, and skips an inherent method
//! whose `where` clause does not hold: so a `Result<T, E>` with
//! `E: TrackedError` gets this method (the error's kind), any other
//! `Result` gets `ResultOutcome` (the error type's name), and every other
//! type `PlainOutcome` (success). The expansion needs no change, and a
//! generic `E` resolves at the function's definition, as before.

use crate::__private::Returned;
use crate::{Outcome, TrackedError};

impl<T, E: TrackedError> Returned<'_, Result<T, E>> {
    /// `Ok` → success; `Err` → failure whose kind is the error's
    /// [`TrackedError::error_kind`].
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::Failure(error.error_kind()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::needless_borrow)] // the expansion's exact form: the borrow picks the level
mod tests {
    use crate::__private::{PlainOutcome as _, ResultOutcome as _, Returned};
    use crate::{Outcome, TrackedError};
    use std::borrow::Cow;
    use std::io;

    #[derive(Debug)]
    struct Untracked;

    struct Tracked;

    impl TrackedError for Tracked {
        fn error_kind(&self) -> Cow<'static, str> {
            Cow::Borrowed("tracked")
        }
    }

    #[test]
    fn a_tracked_error_gives_its_kind_others_their_type_name() {
        let io: io::Result<()> = Err(io::Error::other("SECRET"));
        assert_eq!((&Returned(&io)).outcome(), Outcome::failure("Other"));
        let tracked: Result<u8, Tracked> = Err(Tracked);
        assert_eq!((&Returned(&tracked)).outcome(), Outcome::failure("tracked"));
        let ok: Result<u8, Tracked> = Ok(1);
        assert_eq!((&Returned(&ok)).outcome(), Outcome::Success);
        let untracked: Result<u8, Untracked> = Err(Untracked);
        assert_eq!(
            (&Returned(&untracked)).outcome(),
            Outcome::failure_of::<Untracked>()
        );
        assert_eq!((&Returned(&5u8)).outcome(), Outcome::Success);
    }

    #[test]
    fn a_generic_error_resolves_where_it_is_written() {
        fn unbounded<E>(result: &Result<(), E>) -> Outcome {
            (&Returned(result)).outcome()
        }
        fn bounded<E: TrackedError>(result: &Result<(), E>) -> Outcome {
            (&Returned(result)).outcome()
        }
        let failed: Result<(), io::Error> = Err(io::ErrorKind::NotFound.into());
        assert_eq!(unbounded(&failed), Outcome::failure_of::<io::Error>());
        assert_eq!(bounded(&failed), Outcome::failure("NotFound"));
    }
}
