//! Running the `agent` example (`examples/agent.rs`) as a separate process,
//! for the end-to-end tests. Use it from any file in `tests/` with
//! `mod support;`.
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
//! # How the agent binary is found
//!
//! Cargo gives integration tests `CARGO_BIN_EXE_<name>` for `[[bin]]` targets
//! only, not for examples. `cargo test` does build a package's examples
//! before it runs the tests, but not when filtered (`cargo test --test
//! e2e_records`), and a binary left by an earlier build may be stale. So
//! [`agent_binary`] runs `cargo build --example agent` once per test process,
//! with the cargo that runs the tests (`$CARGO`), for the profile and target
//! dir of the test executable itself (`<target-dir>/<profile>/deps/<test>`),
//! and returns `<target-dir>/<profile>/examples/agent`. When the agent is up
//! to date that build is a no-op of a fraction of a second. Cargo has
//! released its build lock by the time it runs test executables, so the
//! nested build does not wait on the outer one.
//!
//! The nested build passes `--workspace` so that its dependencies get the
//! same features as under `cargo test --workspace`, and the workspace gives
//! build dependencies debuginfo (`[profile.dev.build-override]` in the root
//! `Cargo.toml`) so that they get the same profile: the nested build then
//! reuses everything `cargo test --workspace` built, itself included. Under
//! a narrower `cargo test`, the first nested build compiles a few crates
//! once more (features are resolved per command); later runs reuse them.
//!
//! # Time limit
//!
//! A run that has not exited after [`RUN_LIMIT`] is killed and the test
//! fails: a safety net so that a hung agent cannot hang CI, not a timing
//! assertion (the agent's own requests time out after 2 s).

#![allow(dead_code)] // each test file uses a different part of this module

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The longest an agent run may take before it is killed and the test fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The agent's version, as its records carry it.
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The path of the `agent` example's binary, built (or confirmed up to date)
/// once per test process. Panics with cargo's output if the build fails.
pub fn agent_binary() -> &'static Path {
    static AGENT: OnceLock<PathBuf> = OnceLock::new();
    AGENT.get_or_init(build_agent)
}

fn build_agent() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test executable's path");
    // <target-dir>/<profile>/deps/<test>-<hash>
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lives in <target-dir>/<profile>/deps");
    let profile = profile_dir
        .file_name()
        .and_then(|name| name.to_str())
        .expect("a UTF-8 profile dir name");
    let target_dir = profile_dir.parent().expect("a target dir");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from(env!("CARGO")));
    let mut command = Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        if is_set_by_cargo_for_this_crate(&name) {
            command.env_remove(name);
        }
    }
    command
        .args(["build", "--quiet", "--workspace", "--example", "agent"])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.args(["--profile", other]);
        }
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "`cargo build --example agent` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let agent = profile_dir
        .join("examples")
        .join(format!("agent{}", std::env::consts::EXE_SUFFIX));
    assert!(agent.is_file(), "no agent binary at {}", agent.display());
    agent
}

/// `true` for the variables cargo sets for the crate it runs (this test
/// crate's `CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ...). They must not reach
/// the nested `cargo build`: build scripts of dependencies (ring's) watch
/// some of them, and would be rerun and their crates rebuilt every time the
/// variables flip between a plain `cargo build` and this nested one.
fn is_set_by_cargo_for_this_crate(name: &std::ffi::OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
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
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

/// Runs the agent with `args`, in an empty environment plus `env`, and
/// returns its exit status, stdout and stderr. Panics if it cannot be started
/// or runs longer than [`RUN_LIMIT`].
pub fn run_agent(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(agent_binary());
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    run_with_limit(command)
}

/// [`run_agent`], with `cwd` as the agent's current directory.
pub fn run_agent_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(agent_binary());
    command
        .current_dir(cwd)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    run_with_limit(command)
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
    root: PathBuf,
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
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "telemetry-e2e-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("config")).expect("temp XDG_CONFIG_HOME");
        std::fs::create_dir_all(root.join("home")).expect("temp HOME");
        Agent {
            root,
            endpoint: endpoint.map(str::to_owned),
        }
    }

    /// An agent whose first run is behind it: it ran `version` once, which
    /// showed the notice (asserted) and so sent nothing. Its next run sends.
    pub fn after_first_run(endpoint: &str) -> Agent {
        let agent = Agent::new(endpoint);
        let first = agent.run(&["version"]);
        assert!(first.status.success(), "{first:?}");
        assert!(
            stderr(&first).contains(NOTICE_START),
            "the first run shows the notice: {first:?}"
        );
        agent.wait_for_a_later_run();
        agent
    }

    /// Waits until the notice marker certainly predates a run started now
    /// (see [`wait_until_older_than_any_later_start`]).
    pub fn wait_for_a_later_run(&self) {
        wait_until_older_than_any_later_start(&self.config_dir().join("telemetry-notice-shown"));
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
        let mut found = Vec::new();
        for dir in [self.xdg_config_home(), self.home()] {
            walk(&dir, &mut found);
        }
        found.sort();
        found
    }

    /// Runs the agent with `args` in this agent's environment.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Runs the agent with `args` in this agent's environment plus `env`.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let xdg = self.xdg_config_home();
        let home = self.home();
        let xdg = xdg.to_str().expect("a UTF-8 temp dir");
        let home = home.to_str().expect("a UTF-8 temp dir");
        let mut vars = vec![("XDG_CONFIG_HOME", xdg), ("HOME", home)];
        if let Some(endpoint) = &self.endpoint {
            vars.push(("TELEMETRY_ENDPOINT", endpoint));
        }
        vars.extend_from_slice(env);
        run_agent(args, &vars)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Waits until `marker` is older than the toolkit's uncertainty about file
/// times and process starts (a run sends only if the marker certainly
/// predates it: 10 ms ticks, whole seconds on some file systems), so that
/// the next run counts as a later run.
pub fn wait_until_older_than_any_later_start(marker: &Path) {
    let modified = std::fs::metadata(marker)
        .and_then(|metadata| metadata.modified())
        .expect("the notice marker exists");
    let whole_seconds = modified
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(true, |since| since.subsec_nanos() == 0);
    let age = if whole_seconds {
        Duration::from_millis(2100)
    } else {
        Duration::from_millis(100)
    };
    while std::time::SystemTime::now() < modified + age {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        found.push(path.clone());
        if path.is_dir() {
            walk(&path, found);
        }
    }
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
    stderr(output)
        .lines()
        .filter_map(|line| line.strip_prefix("[telemetry] "))
        .map(str::to_owned)
        .collect()
}

/// The properties every record carries after its event's own.
pub const COMMON_FIELDS: [&str; 7] = [
    "user_uuid",
    "version",
    "os",
    "os_language",
    "arch",
    "ci",
    "event_id",
];

/// Checks the parts of a record that vary from run to run or are the same
/// for every event, and returns the rest for an exact comparison:
/// `{"event": .., "properties": {..the event's own fields..}}`, with
/// `duration_ms` replaced by `"<ms>"` and `session_id` by `"<session>"`.
///
/// Checked here: the record has exactly `event`, `event_timestamp`, `source`
/// and `properties`; `source` is `agent`; `event_timestamp` is an integer;
/// the common fields are `user_uuid` (= `user_uuid`), `version` (the
/// agent's), `os` and `arch` (this machine's), `os_language` empty and `ci`
/// false (the agent's environment sets neither), and `event_id` a UUID;
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
    ];
    for (key, expected) in common {
        assert_eq!(properties.remove(key), Some(expected), "{key} in {record}");
    }
    let event_id = properties.remove("event_id");
    assert!(
        event_id
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(is_uuid),
        "event_id in {record}"
    );
    if let Some(duration) = properties.get_mut("duration_ms") {
        assert!(duration.is_u64(), "duration_ms in {record}");
        *duration = json!("<ms>");
    }
    if let Some(session) = properties.get_mut("session_id") {
        assert!(
            session.as_str().is_some_and(is_uuid),
            "session_id in {record}"
        );
        *session = json!("<session>");
    }
    json!({ "event": record["event"], "properties": properties })
}

/// `8-4-4-4-12` lowercase hex digits.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}
