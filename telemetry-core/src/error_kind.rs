//! Error kinds: the [`TrackedError`] trait, which gives an error's short,
//! fixed, message-free *kind*, its implementations for the error types of
//! std, `serde_json` and `reqwest`, and [`known_error_kind`] for erased
//! errors (`Box<dyn Error>`).
//!
//! A failed tracked call is sent with its error's kind, never its message:
//! a message may hold a prompt, a path, a host name or a key. The kind is
//! what the app's authors want to count ("not found" against "permission
//! denied" against "timed out"), and it comes from the error's type and
//! variant alone.
//!
//! # How the macros pick the kind
//!
//! For a tracked function returning `Result<T, E>` (aliases included) that
//! returns `Err(e)`:
//!
//! 1. `E: TrackedError` → `e.error_kind()`: `NotFound` for an
//!    [`std::io::Error`] of that kind, `RateLimited` for a derived enum's
//!    variant, the known kind of an erased `Box<dyn Error>` (below);
//! 2. else the error type's name (`std::any::type_name::<E>()`), as before.
//!
//! The choice is made where the function is written, from its declared
//! error type: a generic `E` not bounded by `TrackedError` gets step 2 even
//! when the type it is called with implements the trait. A panic is still
//! `panic`, a dropped future `cancelled`, and a session end lists the kinds
//! of its failed tool calls.
//!
//! ```
//! use telemetry_core::{tracked_tool, MemorySink, Telemetry, TrackedError};
//!
//! #[derive(Debug, TrackedError)]
//! enum AgentError {
//!     RateLimited { retry_after_s: u64 },
//!     #[tracked_error(kind = "refused")]
//!     Refused(String), // the text is never sent
//! }
//!
//! #[tracked_tool]
//! fn ask(prompt: &str) -> Result<String, AgentError> {
//!     Err(AgentError::Refused(format!("will not answer {prompt}")))
//! }
//!
//! #[tracked_tool]
//! fn open(path: &str) -> std::io::Result<String> {
//!     std::fs::read_to_string(path)
//! }
//!
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0").sink(sink.clone()).build();
//! telemetry.scope(|| {
//!     assert!(ask("secret plans").is_err());
//!     assert!(open("/no/such/secret-file").is_err());
//! });
//! let errors: Vec<_> = sink.records().iter()
//!     .map(|r| serde_json::to_value(r).unwrap()["properties"]["error"].clone())
//!     .collect();
//! assert_eq!(errors, ["refused", "NotFound"]);
//! assert_eq!(AgentError::RateLimited { retry_after_s: 3 }.error_kind(), "RateLimited");
//! ```
//!
//! # The kinds the toolkit gives
//!
//! | error type | kind |
//! |---|---|
//! | [`std::io::Error`] | its [`std::io::ErrorKind`]'s name: `NotFound`, `PermissionDenied`, `TimedOut`, ...; `Other` for `io::Error::other(..)` and custom errors |
//! | [`std::fmt::Error`] | `fmt::Error` |
//! | [`ParseIntError`] | its [`std::num::IntErrorKind`]'s name: `Empty`, `InvalidDigit`, `PosOverflow`, `NegOverflow`, `Zero` |
//! | [`ParseFloatError`] | `Empty` or `Invalid` |
//! | [`ParseCharError`] | `EmptyString` or `TooManyChars` |
//! | [`ParseBoolError`], [`Utf8Error`], [`FromUtf8Error`], [`FromUtf16Error`], [`TryFromIntError`], [`CharTryFromError`], [`AddrParseError`], [`SystemTimeError`], [`RecvError`], [`RecvTimeoutError`], [`TryRecvError`] | the type's name, or the variant's for the last two (`Timeout`, `Disconnected`, `Empty`) |
//! | [`serde_json::Error`] | its category: `Io`, `Syntax`, `Data`, `Eof` |
//! | `reqwest::Error` (feature `http`) | `timeout`, `connect`, `status_4xx`, `status_5xx`, `status`, `redirect`, `decode`, `body`, `upgrade`, `request`, `builder`, else `other` (named after reqwest's `is_*` predicates; a timeout is `timeout` even while connecting) |
//! | `Box<dyn Error>` (also `+ Send`, `+ Send + Sync`) | [`known_error_kind`] of the boxed error, else the box's type name |
//! | `Box<E>` for `E: TrackedError` | `E`'s kind |
//! | an enum deriving `TrackedError` | the variant's name (`RateLimited`, not qualified), or its `#[tracked_error(kind = "...")]` |
//!
//! Kinds from a Rust enum are its variant's name as written (`CamelCase`);
//! a type with no kind enum gives its own name as one writes it. None of
//! them reads a message, a `Display` or a `Debug` of the error itself.
//!
//! # The derive
//!
//! `#[derive(TrackedError)]` applies to enums: the kind of a value is its
//! variant's name, unqualified (`AgentError::RateLimited` → `RateLimited`,
//! like `io::ErrorKind::NotFound` → `NotFound`; the event already says
//! which tool or command failed). A field is never read. A variant may give
//! its own kind with `#[tracked_error(kind = "...")]`: non-empty, of the
//! characters `[A-Za-z0-9_.:-]`. A struct or a union is a compile error:
//! implement the trait by hand, with a fixed string.
//!
//! # Erased errors
//!
//! A `Box<dyn Error>` carries no name of the type inside it. The toolkit
//! sees only what `downcast_ref` can reach: the types
//! in the table above. Anything else (a `String` turned into an error, an
//! app's own type) is sent as the box's type name, as before. An error's
//! `source()` chain is not followed: the outer error is the one that
//! failed. With the `anyhow` feature, `anyhow::Error` is a `TrackedError`:
//! the known kind of the first error in its chain (the outer one first,
//! then each `context`'s source), else `anyhow::Error`'s type name. Without
//! the feature it keeps its type name; to send a known kind, call
//! [`known_error_kind`] on `&*error` and record
//! [`Outcome::failure`](crate::Outcome::failure) yourself.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::io;
use std::net::AddrParseError;
use std::num::{IntErrorKind, ParseFloatError, ParseIntError, TryFromIntError};
use std::str::{ParseBoolError, Utf8Error};
use std::string::{FromUtf16Error, FromUtf8Error};
use std::sync::mpsc::{RecvError, RecvTimeoutError, TryRecvError};
use std::time::SystemTimeError;

use std::char::{CharTryFromError, ParseCharError};

/// An error's *kind*: a short, fixed string that says which failure this
/// was, and that never holds text from a message, a path or an argument.
///
/// Implemented for the error types of std, `serde_json` and `reqwest` (see
/// the [module docs](crate::error_kind)); derive it for an enum with
/// `#[derive(TrackedError)]` (the variant's name), or implement it by hand
/// with fixed strings. When a tracked function's error type implements it,
/// `#[tracked_command]` and `#[tracked_tool]` send this kind instead of the
/// type's name.
pub trait TrackedError {
    /// This error's kind: a fixed word such as `NotFound` or `RateLimited`,
    /// never derived from the error's message.
    fn error_kind(&self) -> Cow<'static, str>;
}

/// The kind of an erased error when it is one of the types whose kind the
/// toolkit knows (see the [module docs](crate::error_kind)), found by
/// `downcast_ref`; `None` for any other type. Reads no message.
///
/// ```
/// use std::error::Error;
/// use telemetry_core::known_error_kind;
///
/// let boxed: Box<dyn Error + Send + Sync> =
///     Box::new(std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer from 10.0.0.7"));
/// assert_eq!(known_error_kind(&*boxed).as_deref(), Some("TimedOut"));
///
/// let text: Box<dyn Error + Send + Sync> = "my secret".into();
/// assert_eq!(known_error_kind(&*text), None);
/// ```
pub fn known_error_kind(error: &(dyn Error + 'static)) -> Option<Cow<'static, str>> {
    fn kind<E: TrackedError + Error + 'static>(
        error: &(dyn Error + 'static),
    ) -> Option<Cow<'static, str>> {
        error.downcast_ref::<E>().map(TrackedError::error_kind)
    }
    let known = [
        kind::<io::Error>,
        kind::<fmt::Error>,
        kind::<ParseIntError>,
        kind::<ParseFloatError>,
        kind::<ParseBoolError>,
        kind::<ParseCharError>,
        kind::<Utf8Error>,
        kind::<FromUtf8Error>,
        kind::<FromUtf16Error>,
        kind::<TryFromIntError>,
        kind::<CharTryFromError>,
        kind::<AddrParseError>,
        kind::<SystemTimeError>,
        kind::<RecvError>,
        kind::<RecvTimeoutError>,
        kind::<TryRecvError>,
        kind::<serde_json::Error>,
        #[cfg(feature = "rmcp")]
        kind::<rmcp::ErrorData>,
        #[cfg(feature = "http")]
        kind::<reqwest::Error>,
    ];
    known.iter().find_map(|kind| kind(error))
}

impl TrackedError for io::Error {
    /// The name of its [`io::ErrorKind`] (`Debug` of a fieldless enum, so
    /// free of any message): `Other` for `io::Error::other(..)`.
    fn error_kind(&self) -> Cow<'static, str> {
        Cow::Owned(format!("{:?}", self.kind()))
    }
}

impl TrackedError for io::ErrorKind {
    /// The variant's name, as for an [`io::Error`] of this kind.
    fn error_kind(&self) -> Cow<'static, str> {
        Cow::Owned(format!("{self:?}"))
    }
}

impl TrackedError for ParseIntError {
    /// The name of its [`IntErrorKind`] (`InvalidDigit`, `Empty`, ...).
    fn error_kind(&self) -> Cow<'static, str> {
        match self.kind() {
            IntErrorKind::Empty => Cow::Borrowed("Empty"),
            IntErrorKind::InvalidDigit => Cow::Borrowed("InvalidDigit"),
            IntErrorKind::PosOverflow => Cow::Borrowed("PosOverflow"),
            IntErrorKind::NegOverflow => Cow::Borrowed("NegOverflow"),
            IntErrorKind::Zero => Cow::Borrowed("Zero"),
            other => Cow::Owned(format!("{other:?}")),
        }
    }
}

impl TrackedError for ParseFloatError {
    /// `Empty` or `Invalid`: std keeps the kind private, so the error is
    /// compared with the one an empty input gives.
    fn error_kind(&self) -> Cow<'static, str> {
        by_empty_input(self, "".parse::<f64>(), ["Empty", "Invalid"])
    }
}

impl TrackedError for ParseCharError {
    /// `EmptyString` or `TooManyChars`, by comparison as for
    /// [`ParseFloatError`].
    fn error_kind(&self) -> Cow<'static, str> {
        by_empty_input(self, "".parse::<char>(), ["EmptyString", "TooManyChars"])
    }
}

/// For a parse error whose kind std keeps private: `names[0]` when `error`
/// is the one parsing an empty input gives (`empty`), else `names[1]`.
fn by_empty_input<T, E: PartialEq>(
    error: &E,
    empty: Result<T, E>,
    names: [&'static str; 2],
) -> Cow<'static, str> {
    Cow::Borrowed(if empty.err().as_ref() == Some(error) {
        names[0]
    } else {
        names[1]
    })
}

impl TrackedError for RecvTimeoutError {
    /// `Timeout` or `Disconnected`.
    fn error_kind(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            RecvTimeoutError::Timeout => "Timeout",
            RecvTimeoutError::Disconnected => "Disconnected",
        })
    }
}

impl TrackedError for TryRecvError {
    /// `Empty` or `Disconnected`.
    fn error_kind(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            TryRecvError::Empty => "Empty",
            TryRecvError::Disconnected => "Disconnected",
        })
    }
}

/// Implements [`TrackedError`] with one fixed kind for types that have no
/// kind of their own.
macro_rules! fixed_kind {
    ($($ty:ty => $kind:literal,)*) => {$(
        impl TrackedError for $ty {
            #[doc = concat!("Always `", $kind, "`.")]
            fn error_kind(&self) -> Cow<'static, str> {
                Cow::Borrowed($kind)
            }
        }
    )*};
}

fixed_kind! {
    fmt::Error => "fmt::Error",
    ParseBoolError => "ParseBoolError",
    Utf8Error => "Utf8Error",
    FromUtf8Error => "FromUtf8Error",
    FromUtf16Error => "FromUtf16Error",
    TryFromIntError => "TryFromIntError",
    CharTryFromError => "CharTryFromError",
    AddrParseError => "AddrParseError",
    SystemTimeError => "SystemTimeError",
    RecvError => "RecvError",
}

impl TrackedError for serde_json::Error {
    /// Its category: `Io`, `Syntax`, `Data` or `Eof`.
    fn error_kind(&self) -> Cow<'static, str> {
        use serde_json::error::Category;
        Cow::Borrowed(match self.classify() {
            Category::Io => "Io",
            Category::Syntax => "Syntax",
            Category::Data => "Data",
            Category::Eof => "Eof",
        })
    }
}

#[cfg(feature = "http")]
impl TrackedError for reqwest::Error {
    /// What failed, after reqwest's `is_*` predicates: `timeout`, `connect`,
    /// `status_4xx`, `status_5xx` (`status` for another class), `redirect`,
    /// `decode`, `body`, `upgrade`, `request`, `builder`, else `other`. The
    /// URL the error carries is never read.
    fn error_kind(&self) -> Cow<'static, str> {
        let kind = if self.is_timeout() {
            "timeout"
        } else if self.is_connect() {
            "connect"
        } else if let Some(status) = self.status() {
            if status.is_client_error() {
                "status_4xx"
            } else if status.is_server_error() {
                "status_5xx"
            } else {
                "status"
            }
        } else if self.is_redirect() {
            "redirect"
        } else if self.is_decode() {
            "decode"
        } else if self.is_body() {
            "body"
        } else if self.is_upgrade() {
            "upgrade"
        } else if self.is_request() {
            "request"
        } else if self.is_builder() {
            "builder"
        } else {
            "other"
        };
        Cow::Borrowed(kind)
    }
}

impl<E: TrackedError + ?Sized> TrackedError for Box<E> {
    /// The boxed error's kind.
    fn error_kind(&self) -> Cow<'static, str> {
        (**self).error_kind()
    }
}

/// Implements [`TrackedError`] for the boxed `dyn Error`s: the known kind
/// of the boxed error, else the box's type name (what the macros sent
/// before the trait existed).
macro_rules! boxed_dyn_error {
    ($($dyn:ty,)*) => {$(
        impl TrackedError for Box<$dyn> {
            /// [`known_error_kind`] of the boxed error, else the type name
            /// of this box.
            fn error_kind(&self) -> Cow<'static, str> {
                known_error_kind(&**self)
                    .unwrap_or(Cow::Borrowed(std::any::type_name::<Self>()))
            }
        }
    )*};
}

boxed_dyn_error! {
    dyn Error,
    dyn Error + Send,
    dyn Error + Send + Sync,
}

#[cfg(feature = "anyhow")]
impl TrackedError for anyhow::Error {
    /// The known kind of the first error in the chain whose type the
    /// toolkit knows ([`known_error_kind`]), else this type's name. An
    /// error made from a message (`anyhow!("...")`) has no known type: its
    /// text is never read.
    fn error_kind(&self) -> Cow<'static, str> {
        self.chain()
            .find_map(known_error_kind)
            .unwrap_or(Cow::Borrowed(std::any::type_name::<Self>()))
    }
}

#[cfg(test)]
mod tests {
    use super::{known_error_kind, TrackedError};
    use std::error::Error;
    use std::io;

    #[test]
    fn io_errors_give_their_kind_never_their_message() {
        let not_found = io::Error::new(io::ErrorKind::NotFound, "/home/someone/secret.txt");
        assert_eq!(not_found.error_kind(), "NotFound");
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(denied.error_kind(), "PermissionDenied");
        assert_eq!(io::ErrorKind::TimedOut.error_kind(), "TimedOut");
        let other = io::Error::other("token sk_live_SECRET");
        assert_eq!(other.error_kind(), "Other");
        let wrapped = io::Error::other(io::Error::new(io::ErrorKind::NotFound, "SECRET"));
        assert_eq!(wrapped.error_kind(), "Other");
    }

    #[test]
    fn an_os_error_gives_its_kind() {
        let error = std::fs::read("/nonexistent-dir-for-telemetry-tests/file").unwrap_err();
        assert_eq!(error.error_kind(), "NotFound");
    }

    #[test]
    fn parse_errors_give_their_kind() {
        let kind = |text: &str| text.parse::<u8>().unwrap_err().error_kind();
        assert_eq!(kind(""), "Empty");
        assert_eq!(kind("x1"), "InvalidDigit");
        assert_eq!(kind("300"), "PosOverflow");
        assert_eq!(
            "-300".parse::<i8>().unwrap_err().error_kind(),
            "NegOverflow"
        );
        assert_eq!("".parse::<f64>().unwrap_err().error_kind(), "Empty");
        assert_eq!("1.2.3".parse::<f64>().unwrap_err().error_kind(), "Invalid");
        assert_eq!("".parse::<char>().unwrap_err().error_kind(), "EmptyString");
        assert_eq!(
            "ab".parse::<char>().unwrap_err().error_kind(),
            "TooManyChars"
        );
        assert_eq!(
            "yes".parse::<bool>().unwrap_err().error_kind(),
            "ParseBoolError"
        );
        let invalid = String::from_utf8(vec![0xff, b'a']).unwrap_err();
        assert_eq!(invalid.utf8_error().error_kind(), "Utf8Error");
        assert_eq!(invalid.error_kind(), "FromUtf8Error");
        assert_eq!(
            u8::try_from(300u32).unwrap_err().error_kind(),
            "TryFromIntError"
        );
        assert_eq!(
            "host".parse::<std::net::IpAddr>().unwrap_err().error_kind(),
            "AddrParseError"
        );
        assert_eq!(std::fmt::Error.error_kind(), "fmt::Error");
    }

    #[test]
    fn serde_json_errors_give_their_category() {
        let kind = |text: &str| {
            serde_json::from_str::<Vec<u8>>(text)
                .unwrap_err()
                .error_kind()
        };
        assert_eq!(kind("[1, SECRET]"), "Syntax");
        assert_eq!(kind("[1, 300]"), "Data");
        assert_eq!(kind("[1, 2"), "Eof");
        let failing_reader = FailingReader;
        let io = serde_json::from_reader::<_, Vec<u8>>(failing_reader).unwrap_err();
        assert_eq!(io.error_kind(), "Io");
    }

    struct FailingReader;

    impl io::Read for FailingReader {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("SECRET"))
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn reqwest_errors_give_what_failed() {
        use std::time::Duration;
        use telemetry_test_support::collector::{Behaviour, Collector};

        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let post = |url: &str| client.post(url).body("{}").send();
        let status = |code: u16| {
            let collector = Collector::start_with(Behaviour::Status(code)).unwrap();
            let response = post(&collector.url()).unwrap();
            response.error_for_status().unwrap_err().error_kind()
        };
        assert_eq!(status(404), "status_4xx");
        assert_eq!(status(503), "status_5xx");

        let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
        assert_eq!(post(&blackhole.url()).unwrap_err().error_kind(), "timeout");

        // A port that was just free: nothing listens there any more.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/SECRET", closed.local_addr().unwrap());
        drop(closed);
        assert_eq!(post(&url).unwrap_err().error_kind(), "connect");

        // A URL that does not parse fails in the builder, before any I/O.
        let error = client.get("not a url").build().unwrap_err();
        assert_eq!(error.error_kind(), "builder");
    }

    #[test]
    fn boxed_errors_give_the_known_kind_else_the_box_type() {
        let boxed: Box<dyn Error + Send + Sync> =
            Box::new(io::Error::new(io::ErrorKind::TimedOut, "SECRET"));
        assert_eq!(boxed.error_kind(), "TimedOut");
        let parse: Box<dyn Error> = Box::new("x".parse::<u32>().unwrap_err());
        assert_eq!(parse.error_kind(), "InvalidDigit");
        let text: Box<dyn Error + Send + Sync> = "SECRET".into();
        assert_eq!(
            text.error_kind(),
            std::any::type_name::<Box<dyn Error + Send + Sync>>()
        );
        let send: Box<dyn Error + Send> = Box::new(std::fmt::Error);
        assert_eq!(send.error_kind(), "fmt::Error");
        let typed: Box<io::Error> = Box::new(io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(typed.error_kind(), "NotFound");
        assert_eq!(known_error_kind(&*text), None);
    }

    #[test]
    fn json_errors_boxed_are_known() {
        let error = serde_json::from_str::<u8>("SECRET").unwrap_err();
        let boxed: Box<dyn Error + Send + Sync> = Box::new(error);
        assert_eq!(boxed.error_kind(), "Syntax");
    }
}

#[cfg(all(test, feature = "anyhow"))]
#[allow(clippy::needless_borrow)] // the expansion's exact form: the borrow picks the level
mod anyhow_tests {
    use crate::__private::Returned;
    use crate::{Outcome, TrackedError};
    use anyhow::Context as _;
    use std::io;

    #[test]
    fn anyhow_errors_give_the_first_known_kind_in_their_chain_and_no_text() {
        let plain = anyhow::Error::from(io::Error::new(io::ErrorKind::NotFound, "/home/SECRET"));
        assert_eq!(plain.error_kind(), "NotFound");
        let with_context: anyhow::Result<()> =
            Err(io::Error::new(io::ErrorKind::PermissionDenied, "SECRET"))
                .context("reading /home/alice/SECRET");
        let error = with_context.as_ref().unwrap_err();
        assert_eq!(error.error_kind(), "PermissionDenied");
        // What the macros' expansion calls.
        assert_eq!(
            (&Returned(&with_context)).outcome(),
            Outcome::failure("PermissionDenied")
        );
        let message = anyhow::anyhow!("a prompt: SECRET");
        assert_eq!(message.error_kind(), std::any::type_name::<anyhow::Error>());
        assert!(!message.error_kind().contains("SECRET"));
    }
}
