//! How a tracked call ended.

use std::borrow::Cow;

/// How a tracked call ended. Failures carry an error *kind* (by default the
/// error type's name, such as `std::io::error::Error`), never the error's
/// message, which may hold a prompt, a path or a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The call returned normally (or returned `Ok`).
    Success,
    /// The call failed; the string is the error's kind, not its message.
    Failure(Cow<'static, str>),
    /// The call panicked (kind `panic`).
    Panicked,
    /// An async call was dropped before it completed (kind `cancelled`).
    Cancelled,
}

impl Outcome {
    /// A failure of the given kind. Use a type name or a short fixed word,
    /// never text that came from the user or from an error's `Display`.
    #[must_use]
    pub fn failure(kind: impl Into<Cow<'static, str>>) -> Outcome {
        Outcome::Failure(kind.into())
    }

    /// A failure whose kind is the name of the error type `E`.
    #[must_use]
    pub fn failure_of<E: ?Sized>() -> Outcome {
        Outcome::Failure(Cow::Borrowed(std::any::type_name::<E>()))
    }

    /// `true` for [`Outcome::Success`] only.
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }

    /// The error kind as sent on the wire: `None` on success.
    #[must_use]
    pub fn error_kind(&self) -> Option<&str> {
        match self {
            Outcome::Success => None,
            Outcome::Failure(kind) => Some(kind),
            Outcome::Panicked => Some("panic"),
            Outcome::Cancelled => Some("cancelled"),
        }
    }
}

impl<T, E> From<&Result<T, E>> for Outcome {
    /// `Ok` is a success; `Err` a failure whose kind is `E`'s type name.
    fn from(result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::failure_of::<E>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn kinds() {
        assert_eq!(Outcome::Success.error_kind(), None);
        assert_eq!(Outcome::Panicked.error_kind(), Some("panic"));
        assert_eq!(Outcome::Cancelled.error_kind(), Some("cancelled"));
        let failed: Result<(), std::io::Error> = Err(std::io::Error::other("secret"));
        let outcome = Outcome::from(&failed);
        assert!(!outcome.is_success());
        assert_eq!(outcome.error_kind(), Some("std::io::error::Error"));
    }
}
