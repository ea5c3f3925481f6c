//! `set_global`: the client `current()` returns wherever no scope says
//! otherwise, on every thread. The global client is per process, and the
//! other modules rely on there being none: so each test here runs alone in
//! a process of its own (and, should two ever share one, they take turns
//! through a lock).

use crate::common::{properties_of, wire};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use telemetry_core::{current, set_global, MemorySink, Outcome, Telemetry, WithTelemetry};
use telemetry_test_support::memory_client;
use telemetry_test_support::process::run_alone;

static GLOBAL_STATE: Mutex<()> = Mutex::new(());

/// Holds the lock for the whole test and leaves no global client behind.
struct Turn {
    _guard: MutexGuard<'static, ()>,
}

impl Turn {
    fn take() -> Turn {
        let guard = GLOBAL_STATE.lock().unwrap_or_else(PoisonError::into_inner);
        set_global(Telemetry::disabled());
        Turn { _guard: guard }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        set_global(Telemetry::disabled());
    }
}

fn client() -> (Telemetry, MemorySink) {
    memory_client("global-test")
}

fn actions(sink: &MemorySink) -> Vec<String> {
    properties_of(&wire(sink), "action")
}

/// Runs `test` alone in a process of its own (see the module docs; `name`
/// is the test's own), holding the turn, with two new clients on memory
/// sinks.
fn alone_with_two_clients(name: &str, test: impl FnOnce([(Telemetry, MemorySink); 2])) {
    run_alone(&format!("global_client::{name}"), || {
        let _turn = Turn::take();
        test([client(), client()]);
    });
}

#[test]
fn free_functions_reach_the_global_client_from_any_thread() {
    alone_with_two_clients(
        "free_functions_reach_the_global_client_from_any_thread",
        |[(global, sink), _]| {
            set_global(global);
            assert!(current().is_some_and(|t| t.is_enabled()));
            telemetry_core::track_command("main-thread", Vec::<String>::new());
            std::thread::spawn(|| {
                telemetry_core::track_command("other-thread", Vec::<String>::new());
                telemetry_core::record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
                telemetry_core::record_token_usage("m", 1, 1, 0.1);
                telemetry_core::start_session("s").end();
            })
            .join()
            .unwrap();
            let expected = [
                "main-thread",
                "other-thread",
                "call",
                "usage",
                "start",
                "end",
            ];
            assert_eq!(actions(&sink), expected);
        },
    );
}

#[test]
fn a_scope_overrides_the_global_client_and_gives_it_back() {
    alone_with_two_clients(
        "a_scope_overrides_the_global_client_and_gives_it_back",
        |[(global, global_sink), (scoped, scoped_sink)]| {
            set_global(global);
            scoped.scope(|| telemetry_core::track_command("scoped", Vec::<String>::new()));
            telemetry_core::track_command("global", Vec::<String>::new());
            // A scoped disabled client hides the global one.
            Telemetry::disabled()
                .scope(|| telemetry_core::track_command("hidden", Vec::<String>::new()));
            let got = [actions(&scoped_sink), actions(&global_sink)];
            assert_eq!(got, [["scoped"], ["global"]]);
        },
    );
}

#[test]
fn set_global_replaces_the_earlier_client() {
    alone_with_two_clients(
        "set_global_replaces_the_earlier_client",
        |[(first, first_sink), (second, second_sink)]| {
            set_global(first);
            telemetry_core::track_command("one", Vec::<String>::new());
            set_global(second);
            telemetry_core::track_command("two", Vec::<String>::new());
            let got = [actions(&first_sink), actions(&second_sink)];
            assert_eq!(got, [["one"], ["two"]]);
        },
    );
}

#[test]
fn tasks_without_an_adapter_see_the_global_client_and_with_telemetry_wins() {
    alone_with_two_clients(
        "tasks_without_an_adapter_see_the_global_client_and_with_telemetry_wins",
        |[(global, global_sink), (task_client, task_sink)]| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            set_global(global);
            runtime.block_on(async {
                tokio::spawn(async {
                    telemetry_core::track_command("plain-task", Vec::<String>::new())
                })
                .await
                .unwrap();
                let adapted = async {
                    tokio::task::yield_now().await;
                    telemetry_core::track_command("adapted-task", Vec::<String>::new());
                };
                tokio::spawn(adapted.with_telemetry(task_client))
                    .await
                    .unwrap();
            });
            let got = [actions(&global_sink), actions(&task_sink)];
            assert_eq!(got, [["plain-task"], ["adapted-task"]]);
        },
    );
}
