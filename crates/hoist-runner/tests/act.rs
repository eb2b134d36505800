//! The runner contract through a real runner: `act` runs a composite
//! `action.yml` that maps its inputs into `env:` and calls the `echo`
//! example, then later steps read its outputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::echo_binary;
use hoist_testkit::act::{Act, CHECKOUT_STEP};

const WORKFLOW: &str = r#"
name: contract
on: push
jobs:
  echo:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: echo
        uses: ./echo-action
        with:
          message: ${{ env.MESSAGE }}
          tags: |
            v1.2.3
            sha-abc1234
          token: ${{ env.TOKEN }}
      - name: check outputs
        shell: bash
        env:
          GOT_MESSAGE: ${{ steps.echo.outputs.message }}
          GOT_TAGS: ${{ steps.echo.outputs.tags }}
        run: |
          test "$GOT_MESSAGE" = "$MESSAGE"
          test "$GOT_TAGS" = "v1.2.3,sha-abc1234"
          test "$ECHO_MESSAGE" = "$MESSAGE"
          echo "outputs-checked-ok"
"#;

fn act_with_echo_action() -> Act {
    let act = Act::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/echo-action");
    act.copy_dir(&fixture, "echo-action").file(
        ".github/workflows/contract.yml",
        &WORKFLOW.replace("@CHECKOUT@", CHECKOUT_STEP),
    );
    act
}

#[test]
fn a_composite_action_passes_inputs_and_outputs_through_act() {
    let act = act_with_echo_action();
    let bin_dir = echo_binary().parent().unwrap().display().to_string();
    let result = act.run(
        ".github/workflows/contract.yml",
        &[
            ("HOIST_BIN_DIR", &bin_dir),
            ("MESSAGE", "hello from act"),
            ("TOKEN", "act-secret-42"),
        ],
    );
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    assert!(result.log.contains("outputs-checked-ok"), "{}", result.log);
    assert!(
        !result.log.contains("act-secret-42"),
        "the token leaked into the log:\n{}",
        result.log
    );
}

#[test]
fn a_failing_step_fails_the_job_with_its_error() {
    let act = act_with_echo_action();
    let result = act.run(
        ".github/workflows/contract.yml",
        &[("MESSAGE", "x"), ("TOKEN", "t")],
    );
    assert_ne!(
        result.code,
        Some(0),
        "the job should fail without HOIST_BIN_DIR:\n{}",
        result.log
    );
    assert!(
        result.log.contains("HOIST_BIN_DIR is not set"),
        "{}",
        result.log
    );
}
