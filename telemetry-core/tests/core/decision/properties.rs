//! The property test: over generated settings, config dirs, markers and
//! policies, `status` and the built client agree.

use super::*;

/// One setting of the generated cases.
#[derive(Debug, Clone)]
struct Case {
    app_ok: bool,
    endpoint: Option<&'static str>,
    env_endpoint: Option<&'static str>,
    sink: bool,
    dnt: Option<&'static str>,
    enabled: Option<&'static str>,
    dir: DirCase,
    choice: Option<&'static str>,
    choice_mode: u32,
    id_mode: Option<u32>,
    marker: MarkerCase,
    notice: bool,
    hide_banner: bool,
    /// The machine policy file's text and mode, if any.
    policy: Option<(&'static str, u32)>,
    /// In CI, with this policy.
    ci: Option<CiPolicy>,
    /// The builder's level.
    level: Level,
    /// The builder's notice version (the marker keeps 1).
    notice_version: u32,
}

#[derive(Debug, Clone, Copy)]
enum DirCase {
    Ours,
    Missing,
    WritableByOthers,
    Symlink,
    AFile,
    Unset,
}

#[derive(Debug, Clone, Copy)]
enum MarkerCase {
    None,
    Old,
    Future,
    WritableByOthers,
}

fn cases() -> impl Strategy<Value = Case> {
    let words = || {
        prop::sample::select(vec![
            None,
            Some("1"),
            Some("0"),
            Some("log"),
            Some("fasle"),
            Some(" "),
            Some("errors"),
        ])
    };
    let endpoints = || {
        prop::sample::select(vec![
            None,
            Some(ENDPOINT),
            Some("not a url"),
            Some("ftp://x"),
            Some("https://u:p@h/"),
        ])
    };
    (
        (
            any::<bool>(),
            endpoints(),
            endpoints(),
            any::<bool>(),
            words(),
            words(),
        ),
        (
            prop::sample::select(vec![
                DirCase::Ours,
                DirCase::Missing,
                DirCase::WritableByOthers,
                DirCase::Symlink,
                DirCase::AFile,
                DirCase::Unset,
            ]),
            prop::sample::select(vec![
                None,
                Some("enabled"),
                Some("Disabled\r\n"),
                Some("errors-only"),
                Some("perhaps"),
                Some(""),
            ]),
            prop::sample::select(vec![0o600, 0o666]),
            prop::sample::select(vec![None, Some(0o600), Some(0o666)]),
            prop::sample::select(vec![
                MarkerCase::None,
                MarkerCase::Old,
                MarkerCase::Future,
                MarkerCase::WritableByOthers,
            ]),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            prop::sample::select(vec![
                None,
                Some(("level = off\n", 0o644)),
                Some(("level = errors\n", 0o644)),
                Some(("level = local\n", 0o644)),
                Some(("level = all\n", 0o644)),
                Some(("level = all\n", 0o666)),
                Some(("level\n", 0o644)),
            ]),
            prop::sample::select(vec![
                None,
                Some(CiPolicy::Anonymous),
                Some(CiPolicy::Skip),
                Some(CiPolicy::AsUser),
            ]),
            prop::sample::select(vec![Level::All, Level::Errors, Level::Local, Level::Off]),
            prop::sample::select(vec![1, 2]),
        ),
    )
        .prop_map(
            |(
                (app_ok, endpoint, env_endpoint, sink, dnt, enabled),
                (dir, choice, choice_mode, id_mode, marker, notice, hide_banner),
                (policy, ci, level, notice_version),
            )| Case {
                app_ok,
                endpoint,
                env_endpoint,
                sink,
                dnt,
                enabled,
                dir,
                choice,
                choice_mode,
                id_mode,
                marker,
                notice,
                hide_banner,
                policy,
                ci,
                level,
                notice_version,
            },
        )
}

/// Lays out the config dir of `case` under `root`; its path, if any.
fn lay_out(case: &Case, root: &Path) -> Option<PathBuf> {
    let real = root.join("real");
    let dir = match case.dir {
        DirCase::Unset => return None,
        DirCase::Missing => return Some(root.join("missing").join("config")),
        DirCase::AFile => {
            fs::write(&real, "x").unwrap();
            return Some(real);
        }
        DirCase::Symlink => root.join("link"),
        DirCase::Ours | DirCase::WritableByOthers => real.clone(),
    };
    fs::create_dir(&real).unwrap();
    chmod(
        &real,
        if matches!(case.dir, DirCase::WritableByOthers) {
            0o777
        } else {
            0o700
        },
    );
    if matches!(case.dir, DirCase::Symlink) {
        symlink(&real, &dir).unwrap();
    }
    if let Some(word) = case.choice {
        fs::write(real.join(CHOICE_FILE), word).unwrap();
        chmod(&real.join(CHOICE_FILE), case.choice_mode);
    }
    if let Some(mode) = case.id_mode {
        fs::write(real.join(USER_UUID_FILE), "").unwrap();
        chmod(&real.join(USER_UUID_FILE), mode);
    }
    let hour = Duration::from_secs(3600);
    match case.marker {
        MarkerCase::None => {}
        MarkerCase::Old => marker(&real, SystemTime::now() - hour),
        MarkerCase::Future => marker(&real, SystemTime::now() + hour),
        MarkerCase::WritableByOthers => {
            marker(&real, SystemTime::now() - hour);
            chmod(&real.join(NOTICE_MARKER_FILE), 0o666);
        }
    }
    Some(dir)
}

fn make(case: &Case, dir: Option<&Path>, policy_dir: &Path) -> TelemetryBuilder {
    let app = if case.app_ok { APP } else { "bad name" };
    let mut vars: Vec<(&str, &str)> = vec![("LANG", "C")];
    vars.extend(case.env_endpoint.map(|url| ("TELEMETRY_ENDPOINT", url)));
    vars.extend(case.dnt.map(|value| ("DO_NOT_TRACK", value)));
    vars.extend(case.enabled.map(|value| ("TELEMETRY_ENABLED", value)));
    if case.hide_banner {
        vars.push(("TELEMETRY_HIDE_BANNER", "1"));
    }
    if case.ci.is_some() {
        vars.push(("CI", "true"));
    }
    let vars: Vec<(String, String)> = vars
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let mut builder = Telemetry::builder(app, "1.0.0")
        .notice(case.notice)
        .notice_writer(std::io::sink())
        .env_vars(vars)
        .policy_dir(policy_dir)
        .level(case.level)
        .notice_version(case.notice_version)
        .in_ci(case.ci.unwrap_or_default());
    if let Some(url) = case.endpoint {
        builder = builder.endpoint(url);
    }
    if case.sink {
        builder = builder.sink(MemorySink::new());
    }
    if let Some(dir) = dir {
        builder = builder.config_dir(dir);
    }
    builder
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whatever the settings and the config dir, `status` and the built
    /// client agree.
    #[test]
    fn status_and_the_built_client_agree(case in cases()) {
        let root = TempDir::new("decision-prop");
        let dir = lay_out(&case, root.path());
        let policy_dir = root.join("policy");
        if let Some((text, mode)) = case.policy {
            policy(&policy_dir, text, mode);
        }
        agree(|| make(&case, dir.as_deref(), &policy_dir));
    }
}
