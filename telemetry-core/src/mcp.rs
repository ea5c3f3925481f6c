//! MCP servers built with [`rmcp`] (feature `rmcp`): the error kind of a
//! failed tool and one session per client connection.
//!
//! - [`TrackedError`] for rmcp's [`ErrorData`]: a tool that fails with
//!   `ErrorData::invalid_params(..)` is sent with the kind `InvalidParams`,
//!   named after its JSON-RPC code (see [`jsonrpc_kind`]); the message and
//!   the data are never read.
//! - [`TrackedServer`] wraps a server (anything rmcp can serve, such as a
//!   `#[tool_router(server_handler)]` type) so that one client connection is
//!   one session: the session starts with the connection's first request
//!   (`initialize`), every `#[tracked_tool]` called while serving it records
//!   that session's id, and it ends, with its totals, when the connection
//!   closes and rmcp drops the server. The agent name is the client's
//!   `clientInfo.name` when it is in a known set ([`KNOWN_CLIENTS`] or your
//!   own), else `other`: a client's name is chosen by whoever runs it.
//!
//! ```no_run
//! use rmcp::ServiceExt;
//! use telemetry_core::{mcp::TrackedServer, Telemetry};
//! # #[derive(Clone)] struct Calculator;
//! # impl rmcp::ServerHandler for Calculator {}
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let telemetry = Telemetry::builder("calculator-mcp", env!("CARGO_PKG_VERSION"))
//!     .endpoint("https://telemetry.example.com/v1/events")
//!     .build();
//! // rmcp's `transport::stdio()` (feature `transport-io`) is this pair.
//! let stdio = (tokio::io::stdin(), tokio::io::stdout());
//! let running = TrackedServer::new(telemetry, Calculator).serve(stdio).await?;
//! running.waiting().await?; // the client disconnected: the session ends here
//! # Ok(()) }
//! ```
//!
//! `docs/mcp.md` in the repository walks through a complete server.

use crate::{known_or_other, Session, Telemetry, TrackedError, WithTelemetry};
use rmcp::model::{ClientNotification, ClientRequest, ErrorCode, ErrorData, ServerResult};
use rmcp::service::{MaybeSendFuture, NotificationContext, RequestContext, RoleServer, Service};
use std::borrow::Cow;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

/// The kind of a JSON-RPC error code: `ParseError`, `InvalidRequest`,
/// `MethodNotFound`, `InvalidParams`, `InternalError` (the codes of the
/// JSON-RPC 2.0 specification), `ResourceNotFound` (MCP's -32002), else
/// `JsonRpc` followed by the code (`JsonRpc-32000`, `JsonRpc42`).
///
/// ```
/// use rmcp::model::ErrorCode;
/// use telemetry_core::mcp::jsonrpc_kind;
///
/// assert_eq!(jsonrpc_kind(ErrorCode::INVALID_PARAMS), "InvalidParams");
/// assert_eq!(jsonrpc_kind(ErrorCode(-32000)), "JsonRpc-32000");
/// ```
#[must_use]
pub fn jsonrpc_kind(code: ErrorCode) -> Cow<'static, str> {
    let name = match code {
        ErrorCode::PARSE_ERROR => "ParseError",
        ErrorCode::INVALID_REQUEST => "InvalidRequest",
        ErrorCode::METHOD_NOT_FOUND => "MethodNotFound",
        ErrorCode::INVALID_PARAMS => "InvalidParams",
        ErrorCode::INTERNAL_ERROR => "InternalError",
        ErrorCode::RESOURCE_NOT_FOUND => "ResourceNotFound",
        ErrorCode(other) => return Cow::Owned(format!("JsonRpc{other}")),
    };
    Cow::Borrowed(name)
}

impl TrackedError for ErrorData {
    /// The kind of its JSON-RPC code ([`jsonrpc_kind`]); never its message
    /// or data.
    fn error_kind(&self) -> Cow<'static, str> {
        jsonrpc_kind(self.code)
    }
}

impl TrackedError for ErrorCode {
    /// The kind of this JSON-RPC code ([`jsonrpc_kind`]).
    fn error_kind(&self) -> Cow<'static, str> {
        jsonrpc_kind(*self)
    }
}

/// MCP clients whose `clientInfo.name` [`TrackedServer`] sends as the
/// session's agent name by default, spelled as the clients send it. Any
/// other name is sent as `other`; give your own list with
/// [`TrackedServer::known_clients`].
pub const KNOWN_CLIENTS: &[&str] = &[
    "claude-ai",
    "claude-code",
    "codex-mcp-client",
    "cursor-vscode",
    "gemini-cli-mcp-client",
    "goose",
    "mcp-inspector",
    "rmcp",
    "Visual Studio Code",
    "Zed",
];

/// The agent name for a client that introduced itself as `client_name`
/// (`None` when it did not): the name itself when it is in `known`, else
/// `other`.
#[must_use]
pub fn agent_name(client_name: Option<&str>, known: &[&'static str]) -> Cow<'static, str> {
    known_or_other(client_name.unwrap_or_default(), known)
}

/// An MCP server whose client connection is one telemetry session. Wrap
/// the server you would serve: `TrackedServer::new(telemetry, server)`,
/// then `.serve(transport)` as before (it implements rmcp's [`Service`]).
///
/// - The session starts with the first request (`initialize`), with the
///   agent name [`agent_name`] of the client's `clientInfo.name`.
/// - Every request and notification of the connection is served with that
///   session (and `telemetry`) current: a `#[tracked_tool]` method records
///   its id and agent and counts toward its totals, whichever thread the
///   runtime polls it on.
/// - The session ends when the server is dropped, which rmcp does once the
///   connection has closed and its last request finished (for a stdio
///   server, when `RunningService::waiting` returns), or earlier with
///   [`TrackedServer::end_session`].
///
/// A server for several connections (rmcp's streamable HTTP service) makes
/// one `TrackedServer` per connection in its factory closure.
pub struct TrackedServer<S> {
    inner: S,
    telemetry: Telemetry,
    known_clients: &'static [&'static str],
    session: Mutex<Connection>,
}

/// Where the connection's session is.
enum Connection {
    /// No request yet.
    NotStarted,
    /// Started by the first request.
    Live(Session),
    /// Ended by [`TrackedServer::end_session`].
    Ended,
}

impl<S> TrackedServer<S> {
    /// Wraps `server`: its connection's session is a session of `telemetry`.
    pub fn new(telemetry: Telemetry, server: S) -> Self {
        TrackedServer {
            inner: server,
            telemetry,
            known_clients: KNOWN_CLIENTS,
            session: Mutex::new(Connection::NotStarted),
        }
    }

    /// The client names sent as they are; any other is sent as `other`.
    /// Replaces [`KNOWN_CLIENTS`].
    #[must_use]
    pub fn known_clients(mut self, known: &'static [&'static str]) -> Self {
        self.known_clients = known;
        self
    }

    /// The wrapped server.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The session's id: empty before the first request, after the session
    /// ended, and when telemetry is off.
    pub fn session_id(&self) -> String {
        match &*self.lock() {
            Connection::Live(session) => session.id().to_owned(),
            Connection::NotStarted | Connection::Ended => String::new(),
        }
    }

    /// Ends the session now and sends its end event; later requests are
    /// served with the client current but no session. Dropping the server
    /// does the same.
    pub fn end_session(&self) {
        let ended = std::mem::replace(&mut *self.lock(), Connection::Ended);
        drop(ended);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // The state is a plain enum: a panic elsewhere leaves it whole.
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the connection's session if this is its first request, for
    /// the client that introduced itself as `client_name`.
    ///
    /// The lock is held while the start event is sent: a request arriving
    /// meanwhile needs the session, so it waits for it either way (and
    /// clients send nothing but `initialize` until it is answered).
    fn start_if_first(&self, client_name: Option<&str>) {
        let mut connection = self.lock();
        if let Connection::NotStarted = *connection {
            let agent = agent_name(client_name, self.known_clients);
            *connection = Connection::Live(self.telemetry.start_session(agent));
        }
    }

    /// `work`, run with the connection's session (else the client) current
    /// on every poll.
    fn scoped<F: Future>(&self, work: F) -> crate::Scoped<F> {
        match &*self.lock() {
            Connection::Live(session) => work.with_session(session),
            Connection::NotStarted | Connection::Ended => {
                work.with_telemetry(self.telemetry.clone())
            }
        }
    }
}

impl<S: Service<RoleServer>> Service<RoleServer> for TrackedServer<S> {
    fn handle_request(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ServerResult, ErrorData>> + MaybeSendFuture + '_ {
        let client = context.client_info();
        self.start_if_first(client.as_ref().map(|client| client.name.as_str()));
        self.scoped(self.inner.handle_request(request, context))
    }

    fn handle_notification(
        &self,
        notification: ClientNotification,
        context: NotificationContext<RoleServer>,
    ) -> impl Future<Output = Result<(), ErrorData>> + MaybeSendFuture + '_ {
        self.scoped(self.inner.handle_notification(notification, context))
    }

    fn get_info(&self) -> <RoleServer as rmcp::service::ServiceRole>::Info {
        self.inner.get_info()
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [rmcp::model::ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }
}

impl<S> std::fmt::Debug for TrackedServer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedServer")
            .field("telemetry", &self.telemetry)
            .field("session_id", &self.session_id())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::{agent_name, jsonrpc_kind, KNOWN_CLIENTS};
    use crate::TrackedError;
    use rmcp::model::{ErrorCode, ErrorData};
    use serde_json::json;

    #[test]
    fn every_named_jsonrpc_code_has_its_kind_and_others_carry_the_number() {
        let cases = [
            (ErrorData::parse_error("x", None), "ParseError"),
            (ErrorData::invalid_request("x", None), "InvalidRequest"),
            (
                ErrorData::method_not_found::<rmcp::model::CallToolRequestMethod>(),
                "MethodNotFound",
            ),
            (ErrorData::invalid_params("x", None), "InvalidParams"),
            (ErrorData::internal_error("x", None), "InternalError"),
            (ErrorData::resource_not_found("x", None), "ResourceNotFound"),
            (
                ErrorData::new(ErrorCode(-32000), "x", None),
                "JsonRpc-32000",
            ),
            (ErrorData::new(ErrorCode(7), "x", None), "JsonRpc7"),
        ];
        for (error, kind) in cases {
            assert_eq!(error.error_kind(), kind);
            assert_eq!(error.code.error_kind(), kind);
        }
        assert_eq!(jsonrpc_kind(ErrorCode(i32::MIN)), "JsonRpc-2147483648");
    }

    #[test]
    fn the_message_and_data_of_an_error_never_reach_its_kind() {
        let error = ErrorData::invalid_params(
            "no such file /home/alice/SECRET-plans.txt",
            Some(json!({ "path": "/home/alice/SECRET-plans.txt" })),
        );
        let kind = error.error_kind();
        assert_eq!(kind, "InvalidParams");
        assert!(!kind.contains("SECRET"));
        let boxed: Box<dyn std::error::Error> = Box::new(error);
        assert_eq!(
            crate::known_error_kind(&*boxed).as_deref(),
            Some("InvalidParams")
        );
    }

    #[test]
    fn a_client_name_outside_the_known_set_is_other() {
        assert_eq!(
            agent_name(Some("claude-code"), KNOWN_CLIENTS),
            "claude-code"
        );
        assert_eq!(
            agent_name(Some("Visual Studio Code"), KNOWN_CLIENTS),
            "Visual Studio Code"
        );
        assert_eq!(
            agent_name(Some("alice's private client"), KNOWN_CLIENTS),
            "other"
        );
        assert_eq!(agent_name(Some("Claude-Code"), KNOWN_CLIENTS), "other");
        assert_eq!(agent_name(None, KNOWN_CLIENTS), "other");
        assert_eq!(agent_name(Some("my-client"), &["my-client"]), "my-client");
    }
}
