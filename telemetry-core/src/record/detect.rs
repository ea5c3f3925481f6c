//! Where the program runs: the CI provider and the AI coding agent, each
//! recognised from an environment variable its vendor documents.
//!
//! Detection looks at a variable's *name*, and at most compares its value
//! with a fixed word from the table below; the value's text never reaches
//! the result, which is always a `&'static str` taken from the table (or
//! empty). So `JENKINS_URL=https://user:token@ci.internal` yields `jenkins`,
//! never the URL.
//!
//! The tables here are the only list; `docs/where-it-runs.md` shows the same
//! rows (a unit test keeps the two equal). Rows are tried in order and the
//! first match wins, so a provider that also sets another's variable comes
//! before it.
//!
//! An agent is listed only when the tool's own documentation names a
//! variable it sets for the commands it runs. Not listed, for want of one:
//! Cursor (its help pages name only `CI=1`, which is CI's variable), the
//! GitHub Copilot coding agent (it runs in GitHub Actions, detected as that
//! CI provider), Devin, Replit and Aider.

use std::ffi::OsString;

/// What a variable must hold for its row to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Set to anything that is not empty or blank.
    Present,
    /// Equal to this word, trimmed and without regard to ASCII case.
    Equals(&'static str),
}

/// One row of a detection table.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code))] // `name` and `source` feed the docs test
pub(crate) struct Marker {
    /// The value sent on the wire (`ci_provider` or `ai_agent`).
    pub(crate) id: &'static str,
    /// The product's name, for the docs.
    pub(crate) name: &'static str,
    /// The environment variable the vendor documents.
    pub(crate) variable: &'static str,
    /// What the variable must hold.
    pub(crate) signal: Signal,
    /// Where the vendor documents the variable.
    pub(crate) source: &'static str,
}

const fn row(
    id: &'static str,
    name: &'static str,
    variable: &'static str,
    signal: Signal,
    source: &'static str,
) -> Marker {
    Marker {
        id,
        name,
        variable,
        signal,
        source,
    }
}

use Signal::{Equals, Present};

/// CI providers, first match wins.
pub(crate) const CI_PROVIDERS: &[Marker] = &[
    row("github_actions", "GitHub Actions", "GITHUB_ACTIONS", Equals("true"),
        "https://docs.github.com/en/actions/reference/workflows-and-actions/variables#default-environment-variables"),
    row("gitlab_ci", "GitLab CI/CD", "GITLAB_CI", Equals("true"),
        "https://docs.gitlab.com/ci/variables/predefined_variables/"),
    row("circleci", "CircleCI", "CIRCLECI", Equals("true"),
        "https://circleci.com/docs/reference/variables/#built-in-environment-variables"),
    row("buildkite", "Buildkite", "BUILDKITE", Equals("true"),
        "https://buildkite.com/docs/pipelines/configure/environment-variables"),
    row("jenkins", "Jenkins", "JENKINS_URL", Present,
        "https://www.jenkins.io/doc/book/pipeline/jenkins-pipeline/#using-environment-variables"),
    row("azure_pipelines", "Azure Pipelines", "TF_BUILD", Equals("true"),
        "https://learn.microsoft.com/en-us/azure/devops/pipelines/build/variables#system-variables"),
    row("travis_ci", "Travis CI", "TRAVIS", Equals("true"),
        "https://docs.travis-ci.com/user/environment-variables/#default-environment-variables"),
    row("bitbucket_pipelines", "Bitbucket Pipelines", "BITBUCKET_BUILD_NUMBER", Present,
        "https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/"),
    row("teamcity", "TeamCity", "TEAMCITY_VERSION", Present,
        "https://www.jetbrains.com/help/teamcity/predefined-build-parameters.html"),
    row("aws_codebuild", "AWS CodeBuild", "CODEBUILD_BUILD_ID", Present,
        "https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html"),
    row("google_cloud_build", "Google Cloud Build", "BUILDER_OUTPUT", Present,
        "https://cloud.google.com/build/docs/api/reference/rest/v1/projects.builds#results"),
    // Woodpecker began as a fork of Drone; its own value of `CI` comes first.
    row("woodpecker", "Woodpecker CI", "CI", Equals("woodpecker"),
        "https://woodpecker-ci.org/docs/usage/environment"),
    row("drone", "Drone", "DRONE", Equals("true"),
        "https://docs.drone.io/pipeline/environment/reference/drone/"),
    row("vercel", "Vercel", "VERCEL", Equals("1"),
        "https://vercel.com/docs/environment-variables/system-environment-variables"),
    row("netlify", "Netlify", "NETLIFY", Equals("true"),
        "https://docs.netlify.com/configure-builds/environment-variables/#build-metadata"),
    row("appveyor", "AppVeyor", "APPVEYOR", Equals("true"),
        "https://www.appveyor.com/docs/environment-variables/"),
    row("bitrise", "Bitrise", "BITRISE_IO", Equals("true"),
        "https://devcenter.bitrise.io/en/references/available-environment-variables.html"),
    row("semaphore", "Semaphore", "SEMAPHORE", Equals("true"),
        "https://docs.semaphoreci.com/reference/env-vars"),
    row("cirrus_ci", "Cirrus CI", "CIRRUS_CI", Equals("true"),
        "https://cirrus-ci.org/guide/writing-tasks/#environment-variables"),
    row("codemagic", "Codemagic", "CM_BUILD_ID", Present,
        "https://docs.codemagic.io/yaml-basic-configuration/environment-variables/"),
    row("heroku_ci", "Heroku CI", "HEROKU_TEST_RUN_ID", Present,
        "https://devcenter.heroku.com/articles/heroku-ci#immutable-environment-variables"),
];

/// AI coding agents, first match wins.
pub(crate) const AI_AGENTS: &[Marker] = &[
    // "CLAUDECODE: set to 1 in shell environments Claude Code spawns".
    row(
        "claude_code",
        "Claude Code",
        "CLAUDECODE",
        Equals("1"),
        "https://code.claude.com/docs/en/env-vars",
    ),
    // "run_shell_command ... sets the GEMINI_CLI=1 environment variable".
    row(
        "gemini_cli",
        "Gemini CLI",
        "GEMINI_CLI",
        Equals("1"),
        "https://geminicli.com/docs/tools/shell",
    ),
    // Set by the shell tool when Codex runs it in its sandbox (the default).
    row(
        "codex",
        "OpenAI Codex CLI",
        "CODEX_SANDBOX_NETWORK_DISABLED",
        Equals("1"),
        "https://github.com/openai/codex/blob/main/AGENTS.md",
    ),
];

/// The CI provider's id (`github_actions`, ...), or `""` when none is
/// recognised.
pub(crate) fn ci_provider(env: &dyn Fn(&str) -> Option<OsString>) -> &'static str {
    first_match(CI_PROVIDERS, env)
}

/// The AI coding agent's id (`claude_code`, ...), or `""` when none is
/// recognised.
pub(crate) fn ai_agent(env: &dyn Fn(&str) -> Option<OsString>) -> &'static str {
    first_match(AI_AGENTS, env)
}

fn first_match(table: &[Marker], env: &dyn Fn(&str) -> Option<OsString>) -> &'static str {
    table
        .iter()
        .find(|marker| matches(marker.signal, env(marker.variable)))
        .map_or("", |marker| marker.id)
}

fn matches(signal: Signal, value: Option<OsString>) -> bool {
    let Some(value) = value else {
        return false;
    };
    match signal {
        // Non-UTF-8 counts as present: it is not empty.
        Signal::Present => value.to_str().is_none_or(|text| !text.trim().is_empty()),
        Signal::Equals(word) => value
            .to_str()
            .is_some_and(|text| text.trim().eq_ignore_ascii_case(word)),
    }
}

/// The table's rows as they appear in `docs/where-it-runs.md`.
#[cfg(test)]
fn doc_rows(table: &[Marker]) -> Vec<String> {
    table
        .iter()
        .map(|marker| {
            let when = match marker.signal {
                Signal::Present => "set, not empty".to_owned(),
                Signal::Equals(word) => format!("`{word}`"),
            };
            format!(
                "| {} | `{}` | {} | `{}` | <{}> |",
                marker.name, marker.variable, when, marker.id, marker.source
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::env_of;

    #[test]
    fn nothing_set_is_empty() {
        let env = env_of(&[("CI", "true"), ("HOME", "/home/u")]);
        assert_eq!(ci_provider(&env), "");
        assert_eq!(ai_agent(&env), "");
    }

    #[test]
    fn each_ci_row_is_recognised_by_its_own_variable() {
        for marker in CI_PROVIDERS {
            let value = match marker.signal {
                Signal::Present => "some-value",
                Signal::Equals(word) => word,
            };
            let env = env_of(&[(marker.variable, value)]);
            assert_eq!(ci_provider(&env), marker.id, "{}", marker.variable);
            assert_eq!(ai_agent(&env), "", "{}", marker.variable);
        }
    }

    #[test]
    fn each_agent_row_is_recognised_by_its_own_variable() {
        for marker in AI_AGENTS {
            let Signal::Equals(word) = marker.signal else {
                panic!("agents match fixed values");
            };
            let env = env_of(&[(marker.variable, word)]);
            assert_eq!(ai_agent(&env), marker.id);
            assert_eq!(ci_provider(&env), "");
        }
    }

    #[test]
    fn fixed_values_are_compared_trimmed_and_without_case() {
        assert_eq!(
            ci_provider(&env_of(&[("TF_BUILD", "True")])),
            "azure_pipelines"
        );
        assert_eq!(
            ci_provider(&env_of(&[("GITHUB_ACTIONS", " TRUE ")])),
            "github_actions"
        );
        assert_eq!(ci_provider(&env_of(&[("GITHUB_ACTIONS", "false")])), "");
        assert_eq!(ci_provider(&env_of(&[("GITHUB_ACTIONS", "")])), "");
        assert_eq!(ai_agent(&env_of(&[("CLAUDECODE", "0")])), "");
        assert_eq!(ci_provider(&env_of(&[("JENKINS_URL", "  ")])), "");
    }

    #[test]
    fn the_first_row_wins() {
        // A GitHub Actions job that also has a (self-hosted) Jenkins variable.
        let env = env_of(&[("JENKINS_URL", "http://j"), ("GITHUB_ACTIONS", "true")]);
        assert_eq!(ci_provider(&env), "github_actions");
        let env = env_of(&[("CI", "woodpecker"), ("DRONE", "true")]);
        assert_eq!(ci_provider(&env), "woodpecker");
        let env = env_of(&[("GEMINI_CLI", "1"), ("CLAUDECODE", "1")]);
        assert_eq!(ai_agent(&env), "claude_code");
    }

    #[test]
    fn a_value_full_of_secrets_never_reaches_the_result() {
        let secret = "https://admin:hunter2@ci.internal.example/token?key=sk-live-123";
        let env = |_: &str| Some(OsString::from(secret));
        let found = [ci_provider(&env), ai_agent(&env)];
        // Every variable holds the secret: only rows that need mere presence match.
        assert_eq!(found, ["jenkins", ""]);
        for text in found {
            for fragment in ["hunter2", "admin", "internal", "sk-live", "key="] {
                assert!(!text.contains(fragment), "{text}");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_values_count_as_present_and_never_equal() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x74, 0xff, 0x72]);
        let env =
            |name: &str| (name == "TEAMCITY_VERSION" || name == "CLAUDECODE").then(|| bad.clone());
        assert_eq!(ci_provider(&env), "teamcity");
        assert_eq!(ai_agent(&env), "");
    }

    #[test]
    fn ids_are_unique_snake_case() {
        let mut ids: Vec<&str> = CI_PROVIDERS.iter().chain(AI_AGENTS).map(|m| m.id).collect();
        for id in &ids {
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{id}"
            );
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CI_PROVIDERS.len() + AI_AGENTS.len());
    }

    #[test]
    fn the_docs_table_matches_the_code() {
        let doc = include_str!("../../../docs/where-it-runs.md");
        for line in doc_rows(CI_PROVIDERS).iter().chain(&doc_rows(AI_AGENTS)) {
            assert!(
                doc.contains(line.as_str()),
                "docs/where-it-runs.md lacks:\n{line}"
            );
        }
        let rows_in_doc = doc
            .lines()
            .filter(|line| line.starts_with("| ") && line.ends_with("> |"))
            .count();
        assert_eq!(rows_in_doc, CI_PROVIDERS.len() + AI_AGENTS.len());
    }

    /// Prints the docs table: `cargo test -p telemetry-core --lib print_doc_rows -- --ignored --nocapture`.
    #[test]
    #[ignore = "a helper to regenerate docs/where-it-runs.md"]
    fn print_doc_rows() {
        for line in doc_rows(CI_PROVIDERS) {
            println!("{line}");
        }
        println!();
        for line in doc_rows(AI_AGENTS) {
            println!("{line}");
        }
    }
}
