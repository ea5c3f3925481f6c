//! Building and running the `agent` example (`examples/agent.rs`) as a
//! separate process, for the end-to-end tests and the demo.
//!
//! ```ignore
//! let collector = Collector::start().unwrap();
//! let agent = Agent::new(&collector.url()); // fresh XDG_CONFIG_HOME and HOME
//! let first = agent.run(&["version"]);      // first run: notice, sends nothing
//! let second = agent.run(&["version"]);     // sends
//! let opted_out = agent.run_with(&["version"], &[("DO_NOT_TRACK", "1")]);
//! // or, with full control over the environment:
//! let output = run_agent(&["version"], &[("TELEMETRY_ENDPOINT", "http://127.0.0.1:9/")]);
//! ```
//!
//! # The environment
//!
//! The agent starts from an **empty** environment plus the variables given,
//! so nothing in the environment of the test run (`TELEMETRY_*`,
//! `DO_NOT_TRACK`, `CI`, the locale, proxy variables, the real `HOME`) can
//! change what it does or sends: `ci` is `false` and `os_language` empty
//! unless a test sets `CI` or `LANG`. [`Agent`] adds a fresh temporary
//! `XDG_CONFIG_HOME` and `HOME` (so the agent's config dir is
//! `<XDG_CONFIG_HOME>/agent`) and, when given one, `TELEMETRY_ENDPOINT`.
//!
//! # How the agent binary is built
//!
//! Cargo gives integration tests `CARGO_BIN_EXE_<name>` for `[[bin]]` targets
//! only, not for examples; `cargo run --example demo` builds only the demo;
//! `cargo test` builds a package's examples, but not when filtered (`cargo
//! test --test e2e`), and a binary left by an earlier build may be stale. So
//! [`build`] runs `cargo build --quiet --example agent`, with the cargo that
//! runs the caller (`$CARGO`), for the profile and target dir of the
//! caller's own executable (`<target-dir>/<profile>/deps/<test>` or
//! `<target-dir>/<profile>/examples/demo`), and returns
//! `<target-dir>/<profile>/examples/agent`. When the agent is up to date
//! that build is a no-op of a fraction of a second. Cargo has released its
//! build lock by the time it runs test executables or `cargo run`'s program,
//! so the nested build does not wait on the outer one.
//!
//! The nested build resolves features as the command that started its
//! caller did ([`Features`]), so that it reuses everything that command
//! built instead of building some crates again with other features: the
//! tests run under `cargo test --workspace` ([`Features::Workspace`]: the
//! nested build passes `--workspace`, and with the agent, an example, it
//! then turns on every member's dev-dependencies as `cargo test` does); the
//! demo under `cargo run --example demo` ([`Features::RootPackage`]). The
//! workspace also gives build dependencies debuginfo
//! (`[profile.dev.build-override]` in the root `Cargo.toml`) so that they
//! get the same profile. Under a narrower `cargo test`, the first nested
//! build compiles a few crates once more; later runs reuse them.
//!
//! Variables that cargo sets for the crate it runs (`CARGO_MANIFEST_DIR`,
//! `CARGO_PKG_*`, ...) are removed from the nested build's environment:
//! build scripts of dependencies (ring's) watch some of them, and would be
//! rerun and their crates rebuilt every time the variables flip between a
//! plain `cargo build` and the nested one.
//!
//! # Time limit
//!
//! A run that has not exited after [`RUN_LIMIT`] is killed and the test
//! fails: a safety net so that a hung agent cannot hang CI, not a timing
//! assertion (the agent's own requests time out after 2 s).

use crate::TempDir;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The longest an agent run may take before it is killed and the test fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The agent's version, as its records carry it (the workspace's version,
/// which the root package that owns the agent shares).
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which command's feature resolution the nested build mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Features {
    /// `cargo test --workspace`: the end-to-end tests.
    Workspace,
    /// A command on the root package alone, such as `cargo run --example demo`.
    RootPackage,
}

/// The profile dir (`<target-dir>/<profile>`) of an executable cargo built
/// into `<target-dir>/<profile>/deps/` (tests) or `.../examples/`.
pub fn profile_dir_of(exe: &Path) -> Option<&Path> {
    exe.parent()?.parent()
}

/// Where the agent's binary is in a profile dir.
pub fn binary_in(profile_dir: &Path) -> PathBuf {
    example_in(profile_dir, "agent")
}

/// Where the example `name`'s binary is in a profile dir.
pub fn example_in(profile_dir: &Path, name: &str) -> PathBuf {
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Runs `cargo build --quiet --example agent` with `cargo` for the profile
/// and target dir of `profile_dir`, resolving features like `features`'s
/// command, and returns the agent's path. The error says what failed, with
/// cargo's output.
pub fn build(cargo: &OsStr, profile_dir: &Path, features: Features) -> Result<PathBuf, String> {
    build_example(cargo, profile_dir, features, "agent")
}

/// [`build`] for the example `name` of the root package.
pub fn build_example(
    cargo: &OsStr,
    profile_dir: &Path,
    features: Features,
    name: &str,
) -> Result<PathBuf, String> {
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the support crate lives in the workspace root")?;
    let mut command = Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        if is_set_by_cargo_for_the_caller(&name) {
            command.env_remove(name);
        }
    }
    command.args(["build", "--quiet", "--example", name]);
    if features == Features::Workspace {
        command.arg("--workspace");
    }
    command
        .arg("--manifest-path")
        .arg(workspace_root.join("Cargo.toml"));
    match profile_dir.file_name().and_then(OsStr::to_str) {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(profile) => {
            command.args(["--profile", profile]);
        }
    }
    if let Some(target_dir) = profile_dir.parent() {
        command.arg("--target-dir").arg(target_dir);
    }
    let output = command
        .output()
        .map_err(|error| format!("cannot run cargo to build the agent: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo build --example {name}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let binary = example_in(profile_dir, name);
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!("no {name} binary at {}", binary.display()))
    }
}

/// `true` for the variables cargo sets for the crate it runs.
fn is_set_by_cargo_for_the_caller(name: &OsStr) -> bool {
    const EXACT: [&str; 9] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    let Some(name) = name.to_str() else {
        return false;
    };
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

/// The path of the `agent` example's binary for the running test
/// executable, built (or confirmed up to date) once per test process with
/// [`Features::Workspace`]. Panics with cargo's output if the build fails.
pub fn agent_binary() -> &'static Path {
    static AGENT: OnceLock<PathBuf> = OnceLock::new();
    AGENT.get_or_init(|| {
        let test_exe = std::env::current_exe().expect("the test executable's path");
        let profile_dir = profile_dir_of(&test_exe)
            .expect("the test executable lives in <target-dir>/<profile>/deps");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from(env!("CARGO")));
        build(&cargo, profile_dir, Features::Workspace).unwrap_or_else(|error| panic!("{error}"))
    })
}
/// The path of the example `name`'s binary for the running test
/// executable, built (or confirmed up to date) as [`agent_binary`] builds
/// the agent; once per name and test process.
pub fn example_binary(name: &str) -> PathBuf {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Mutex::default);
    let mut built = built
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let test_exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = profile_dir_of(&test_exe)
        .expect("the test executable lives in <target-dir>/<profile>/deps");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from(env!("CARGO")));
    let path = build_example(&cargo, profile_dir, Features::Workspace, name)
        .unwrap_or_else(|error| panic!("{error}"));
    built.insert(name.to_owned(), path.clone());
    path
}

/// Runs the agent with `args`, in an empty environment plus `env`, and
/// returns its exit status, stdout and stderr. Panics if it cannot be started
/// or runs longer than [`RUN_LIMIT`].
pub fn run_agent(args: &[&str], env: &[(&str, &str)]) -> Output {
    run_with_limit(piped(command(agent_binary(), args, env)))
}

/// [`run_agent`], with `cwd` as the agent's current directory.
pub fn run_agent_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = piped(command(agent_binary(), args, env));
    command.current_dir(cwd);
    run_with_limit(command)
}

/// `binary` with `args`, in an empty environment plus `env`, its stdin,
/// stdout and stderr null (see [`piped`]).
fn command(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// `command` with its stdout and stderr piped, for [`run_with_limit`].
fn piped(mut command: Command) -> Command {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn run_with_limit(mut command: Command) -> Output {
    let mut child = command.spawn().expect("the agent starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the agent") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the agent did not exit within {RUN_LIMIT:?}: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// An agent with its own fresh, temporary `XDG_CONFIG_HOME` and `HOME`
/// (removed on drop), pointed at `endpoint` when there is one.
pub struct Agent {
    root: TempDir,
    endpoint: Option<String>,
}

impl Agent {
    /// An agent that sends to `endpoint` (such as `collector.url()`).
    pub fn new(endpoint: &str) -> Agent {
        Agent::with_endpoint(Some(endpoint))
    }

    /// An agent with no `TELEMETRY_ENDPOINT`: its telemetry has nothing to
    /// send to.
    pub fn without_endpoint() -> Agent {
        Agent::with_endpoint(None)
    }

    fn with_endpoint(endpoint: Option<&str>) -> Agent {
        let root = TempDir::new("e2e");
        std::fs::create_dir(root.join("config")).expect("temp XDG_CONFIG_HOME");
        std::fs::create_dir(root.join("home")).expect("temp HOME");
        Agent {
            root,
            endpoint: endpoint.map(str::to_owned),
        }
    }
    /// An agent whose first run is behind it: it ran `version` once, which
    /// showed the notice (asserted) and so sent nothing. Its next run sends:
    /// the notice marker is dated an hour back, as a run on a later day
    /// finds it, instead of waiting for the clock (the wait itself is
    /// exercised by the tests that call [`Agent::wait_for_a_later_run`]).
    pub fn after_first_run(endpoint: &str) -> Agent {
        let agent = Agent::new(endpoint);
        let first = agent.run(&["version"]);
        assert!(first.status.success(), "{first:?}");
        assert!(
            stderr(&first).contains(NOTICE_START),
            "the first run shows the notice: {first:?}"
        );
        crate::marker::date_back_marker(&agent.config_dir());
        agent
    }

    /// Waits until the notice marker certainly predates a run started now
    /// (see [`crate::marker::wait_until_older_than_any_later_start`]).
    pub fn wait_for_a_later_run(&self) {
        crate::marker::wait_until_older_than_any_later_start(
            &self.config_dir().join(telemetry_core::NOTICE_MARKER_FILE),
        );
    }

    /// `XDG_CONFIG_HOME` for this agent (empty until telemetry writes).
    pub fn xdg_config_home(&self) -> PathBuf {
        self.root.join("config")
    }

    /// `HOME` for this agent.
    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    /// The agent's config dir: `<XDG_CONFIG_HOME>/agent`.
    pub fn config_dir(&self) -> PathBuf {
        self.xdg_config_home().join("agent")
    }

    /// Every file and dir under this agent's `XDG_CONFIG_HOME` and `HOME`.
    pub fn written_paths(&self) -> Vec<PathBuf> {
        let mut found = crate::fs::tree(&self.xdg_config_home());
        found.extend(crate::fs::tree(&self.home()));
        found.sort();
        found
    }
    /// Runs the agent with `args` in this agent's environment.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Runs the agent with `args` in this agent's environment plus `env`.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_binary_with(agent_binary(), args, env)
    }

    /// Runs the agent with `args` in this agent's environment plus `env`,
    /// and panics unless it succeeded.
    pub fn run_ok(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let output = self.run_with(args, env);
        assert!(output.status.success(), "{args:?}: {output:?}");
        output
    }

    /// `agent telemetry status --json` in this agent's environment plus
    /// `env` (which must succeed), parsed.
    pub fn status_json(&self, env: &[(&str, &str)]) -> serde_json::Value {
        let output = self.run_ok(&["telemetry", "status", "--json"], env);
        serde_json::from_slice(&output.stdout).expect("the status is JSON")
    }

    /// Runs another program of the app `agent` (an example built with
    /// [`example_binary`]) with `args` in this agent's environment plus
    /// `env`.
    pub fn run_binary_with(&self, binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        run_with_limit(piped(self.command_of(binary, args, env)))
    }

    /// The agent with `args` in this agent's environment plus `env`, not
    /// started, its stdin, stdout and stderr null: for a test that starts
    /// several at once or kills one.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        self.command_of(agent_binary(), args, env)
    }

    fn command_of(&self, binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
        let xdg = self.xdg_config_home();
        let home = self.home();
        let xdg = xdg.to_str().expect("a UTF-8 temp dir");
        let home = home.to_str().expect("a UTF-8 temp dir");
        let mut vars = vec![("XDG_CONFIG_HOME", xdg), ("HOME", home)];
        if let Some(endpoint) = &self.endpoint {
            vars.push(("TELEMETRY_ENDPOINT", endpoint));
        }
        vars.extend_from_slice(env);
        command(binary, args, &vars)
    }
}

/// A fresh loopback collector, and an agent that sends to it with its
/// first run (the notice) behind it ([`Agent::after_first_run`]).
pub fn past_notice() -> (crate::collector::Collector, Agent) {
    let collector = crate::collector::Collector::start().expect("a loopback collector");
    let agent = Agent::after_first_run(&collector.url());
    (collector, agent)
}

/// The first words of the first-run notice (for agent `agent`).
pub const NOTICE_START: &str = "agent collects anonymous usage data";

/// The agent's stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The agent's stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `[telemetry] ` lines of the agent's stderr (its `--debug` output),
/// without the prefix.
pub fn debug_lines(output: &Output) -> Vec<String> {
    crate::debug_log::debug_lines(&stderr(output))
}
/// Checks the parts of a record that vary from run to run or are the same
/// for every event, and returns the rest for an exact comparison:
/// `{"event": .., "properties": {..the event's own fields..}}`, with
/// `duration_ms` replaced by `"<ms>"` and `session_id` by `"<session>"`.
///
/// Checked here: the record has exactly `event`, `event_timestamp`, `source`
/// and `properties`; `source` is `agent`; `event_timestamp` is an integer;
/// the common fields are `user_uuid` (= `user_uuid`), `version` (the
/// agent's), `os` and `arch` (this machine's), `os_language` empty and `ci`
/// false, `ci_provider` and `ai_agent` empty (the agent's environment sets
/// none of their variables), `schema_version` 1, and `event_id` a UUID;
/// `duration_ms` is an integer; `session_id` a UUID.
pub fn event_part(record: &serde_json::Value, user_uuid: &str) -> serde_json::Value {
    use serde_json::{json, Value};
    let object = record.as_object().expect("a record is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["event", "event_timestamp", "properties", "source"],
        "{record}"
    );
    assert_eq!(record["source"], "agent", "{record}");
    assert!(record["event_timestamp"].is_u64(), "{record}");
    let mut properties = record["properties"]
        .as_object()
        .expect("properties is an object")
        .clone();
    let common = [
        ("user_uuid", json!(user_uuid)),
        ("version", json!(AGENT_VERSION)),
        ("os", json!(std::env::consts::OS)),
        ("os_language", json!("")),
        ("arch", json!(std::env::consts::ARCH)),
        ("ci", json!(false)),
        ("ci_provider", json!("")),
        ("ai_agent", json!("")),
        ("schema_version", json!(1)),
    ];
    for (key, expected) in common {
        assert_eq!(properties.remove(key), Some(expected), "{key} in {record}");
    }
    let event_id = properties.remove("event_id");
    assert!(
        event_id
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(crate::is_uuid),
        "event_id in {record}"
    );
    if let Some(duration) = properties.get_mut("duration_ms") {
        assert!(duration.is_u64(), "duration_ms in {record}");
        *duration = json!("<ms>");
    }
    if let Some(session) = properties.get_mut("session_id") {
        assert!(
            session.as_str().is_some_and(crate::is_uuid),
            "session_id in {record}"
        );
        *session = json!("<session>");
    }
    json!({ "event": record["event"], "properties": properties })
}
