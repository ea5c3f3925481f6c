//! What an app holds: the client handle and its builder, sessions, the
//! current client of a thread or the process, and the future adapter that
//! carries them across `.await`.

pub(crate) mod builder;
pub(crate) mod context;
pub(crate) mod future;
pub(crate) mod session;
pub(crate) mod telemetry;
