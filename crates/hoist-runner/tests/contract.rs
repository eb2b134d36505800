//! The runner contract, end to end: the `echo` example run as the runner
//! would run it, in a sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::echo_binary;
use hoist_testkit::Sandbox;

#[test]
fn outputs_env_state_and_summary_are_written_with_heredocs() {
    let mut sandbox = Sandbox::new();
    sandbox
        .input("message", "hello")
        .input("tags", "a,b\n\n c \n")
        .input("timeout", "90s");
    let run = sandbox.run(echo_binary(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let outputs = run.outputs();
    assert_eq!(outputs["message"], "hello");
    assert_eq!(outputs["tags"], "a,b,c");
    assert_eq!(outputs["timeout-ms"], "90000");
    assert_eq!(run.exported_env()["ECHO_MESSAGE"], "hello");
    assert_eq!(run.state()["echoed"], "yes");
    assert!(run.file("GITHUB_OUTPUT").contains("message<<ghadelimiter_"));
    assert_eq!(run.file("GITHUB_STEP_SUMMARY"), "### echo\n\nhello\n");
}

#[test]
fn an_empty_input_takes_the_default_as_an_unset_one_does() {
    // A wrapper action forwards `${{ inputs.timeout }}` even when its caller
    // left it unset: the binary sees an empty value and must use its default.
    let mut sandbox = Sandbox::new();
    sandbox.input("message", "m").input("timeout", "");
    let run = sandbox.run(echo_binary(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.outputs()["timeout-ms"], "600000");
}

#[test]
fn a_value_with_newlines_cannot_inject_another_output() {
    let mut sandbox = Sandbox::new();
    sandbox.input("message", "v1\nEVIL=1\nBASH_ENV<<X\n/tmp/x\nX");
    let run = sandbox.run(echo_binary(), &[]);
    assert_eq!(run.code, Some(0));
    let outputs = run.outputs();
    assert_eq!(outputs["message"], "v1\nEVIL=1\nBASH_ENV<<X\n/tmp/x\nX");
    assert!(!outputs.contains_key("EVIL") && !outputs.contains_key("BASH_ENV"));
    assert!(!run.exported_env().contains_key("BASH_ENV"));
}

#[test]
fn secrets_are_masked_before_anything_prints_them() {
    let mut sandbox = Sandbox::new();
    sandbox
        .input("message", "uses hunter2-secret")
        .input("token", "hunter2-secret")
        .input("loud", "true");
    let run = sandbox.run(echo_binary(), &[]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stdout.starts_with("::add-mask::hunter2-secret\n"),
        "{}",
        run.stdout
    );
    run.assert_masked(&["hunter2-secret"]);
    assert!(run.stdout.contains("the token is ***"));
    assert!(
        run.stdout
            .contains("::group::Message\nuses ***\n::endgroup::")
    );
}

#[test]
fn a_secret_in_an_error_is_redacted() {
    let mut sandbox = Sandbox::new();
    sandbox
        .input("message", "m")
        .input("token", "tok-123456")
        .input("fail", "bad tok-123456");
    let run = sandbox.run(echo_binary(), &[]);
    let message =
        run.assert_failed_cleanly(&["asked to fail: bad ***", "Hint: remove the `fail` input"]);
    assert!(!message.contains("tok-123456"));
    run.assert_masked(&["tok-123456"]);
}

/// One row of the bad-input table: the inputs, the command-line arguments,
/// and what the one `::error::` must say.
type BadInput = (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
    &'static [&'static str],
);

#[test]
fn bad_inputs_fail_with_one_error_and_nothing_written() {
    let rows: &[BadInput] = &[
        (
            &[],
            &[],
            &[
                "input `message` is required",
                "Hint: add `message: …` under the step's `with:`",
            ],
        ),
        (
            &[("message", "m"), ("loud", "yes")],
            &[],
            &[
                "input `loud` must be a boolean, got `yes`",
                "write `true` or `false`",
            ],
        ),
        (
            &[("message", "m"), ("timeout", "10 minutes")],
            &[],
            &["must be a duration", "`90s`, `10m`, `1h`"],
        ),
        (
            &[("message", "m")],
            &["--mesage", "x"],
            &["unknown flag `--mesage`", "did you mean `--message`?"],
        ),
        (
            &[("message", "m")],
            &["--token", "x"],
            &["cannot be given on the command line", "INPUT_TOKEN="],
        ),
        (
            &[("message", "m")],
            &["stray"],
            &["unexpected argument `stray`", "--help"],
        ),
        (
            &[("message", "m")],
            &["--tags"],
            &["`--tags` needs a value"],
        ),
    ];
    for (inputs, args, needles) in rows {
        let mut sandbox = Sandbox::new();
        for (name, value) in *inputs {
            sandbox.input(name, value);
        }
        let run = sandbox.run(echo_binary(), args);
        run.assert_failed_cleanly(needles);
        assert!(
            run.errors()[0].starts_with("::error title=echo::"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn debug_lines_appear_only_with_runner_debug() {
    let mut sandbox = Sandbox::new();
    sandbox.input("message", "m");
    assert!(!sandbox.run(echo_binary(), &[]).stdout.contains("::debug::"));
    sandbox.env("RUNNER_DEBUG", "1");
    assert!(
        sandbox
            .run(echo_binary(), &[])
            .stdout
            .contains("::debug::timeout is 600s")
    );
}

#[test]
fn outside_actions_flags_are_inputs_and_outputs_are_printed() {
    let mut sandbox = Sandbox::new();
    for variable in [
        "GITHUB_ACTIONS",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_STATE",
        "GITHUB_PATH",
        "GITHUB_STEP_SUMMARY",
    ] {
        sandbox.unset(variable);
    }
    let run = sandbox.run(
        echo_binary(),
        &["--message", "from a laptop", "--timeout=1h"],
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("message=from a laptop\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("timeout-ms=3600000\n"));

    let failed = sandbox.run(echo_binary(), &[]);
    assert_eq!(failed.code, Some(1));
    assert!(
        failed.stdout.is_empty(),
        "no workflow commands outside Actions: {}",
        failed.stdout
    );
    assert!(
        failed
            .stderr
            .starts_with("error: input `message` is required"),
        "{}",
        failed.stderr
    );
}

#[test]
fn dry_run_writes_nothing() {
    let mut sandbox = Sandbox::new();
    sandbox.input("message", "m");
    let run = sandbox.run(echo_binary(), &["--dry-run"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("dry run: nothing written"));
    assert!(run.outputs().is_empty());
}

#[test]
fn help_and_version() {
    let sandbox = Sandbox::new();
    let help = sandbox.run(echo_binary(), &["--help"]);
    assert_eq!(help.code, Some(0));
    for needle in [
        "Usage: echo",
        "--message VALUE",
        "[required]",
        "--loud",
        "secret: set INPUT_TOKEN",
        "--cleanup",
        "--dry-run",
        "timeout-ms",
    ] {
        assert!(
            help.stdout.contains(needle),
            "{needle} missing:\n{}",
            help.stdout
        );
    }
    let version = sandbox.run(echo_binary(), &["--version"]);
    assert_eq!(
        version.stdout,
        format!("echo {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn the_post_step_reads_state_the_main_step_saved() {
    let mut sandbox = Sandbox::new();
    sandbox.env("STATE_echoed", "yes");
    let run = sandbox.run(echo_binary(), &["--cleanup"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("cleanup: saved state was yes"));
}

#[test]
fn the_sandbox_passes_only_its_own_environment() {
    let sandbox = Sandbox::new();
    let run = sandbox.run("/usr/bin/env", &[]);
    let names: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|line| line.split_once('=').map(|(k, _)| k))
        .collect();
    let expected: Vec<&str> = sandbox.environment().keys().map(String::as_str).collect();
    assert_eq!(names.len(), expected.len(), "{names:?}");
    for name in names {
        assert!(expected.contains(&name), "{name} leaked into the sandbox");
    }
}

#[test]
fn in_data_mode_stdout_carries_only_the_data() {
    let mut sandbox = Sandbox::new();
    sandbox.input("message", "m").input("token", "quiet-secret");
    let run = sandbox.run(echo_binary(), &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "{\"message\":\"m\"}\n");
    assert!(run.stderr.contains("this line goes to stderr in data mode"));

    let failed = sandbox.run(echo_binary(), &["--json", "--loud=maybe"]);
    assert_eq!(failed.code, Some(1));
    assert_eq!(failed.stdout, "");
    assert!(
        failed
            .stderr
            .contains("error: input `loud` must be a boolean"),
        "{}",
        failed.stderr
    );
}
