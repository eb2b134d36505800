//! The real `actions/oidc-assume/action.yml` through `act`, with the binary
//! from this build, against the stand-in issuer and moto.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{ROLE, World, binary};
use hoist_testkit::act::{Act, CHECKOUT_STEP};

const WORKFLOW: &str = r#"
name: deploy
on: push
permissions:
  id-token: write
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: aws
        uses: ./actions/oidc-assume
        with:
          aws-region: eu-west-1
          role-to-assume: ${{ env.ROLE }}
          sts-endpoint: ${{ env.STS_ENDPOINT }}
      - name: later step
        shell: bash
        env:
          ACCOUNT: ${{ steps.aws.outputs.aws-account-id }}
          ARN: ${{ steps.aws.outputs.authenticated-arn }}
        run: |
          test "$ACCOUNT" = 123456789012
          case "$ARN" in arn:aws:sts::123456789012:assumed-role/github-deploy/*) ;; *) exit 1 ;; esac
          test -n "$AWS_ACCESS_KEY_ID" && test -n "$AWS_SESSION_TOKEN"
          test "$AWS_REGION" = eu-west-1
          echo "credentials-reached-the-next-step"
"#;

fn act() -> Act {
    let mut act = Act::new();
    let action = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/oidc-assume");
    act.copy_dir(&action, "actions/oidc-assume");
    act.file(
        ".github/workflows/deploy.yml",
        &WORKFLOW.replace("@CHECKOUT@", CHECKOUT_STEP),
    );
    act.serve_as("hoist-actions/hoist@main");
    act
}

#[test]
fn the_action_assumes_the_role_and_the_post_step_blanks_it() {
    let world = World::new();
    let bin_dir = Path::new(binary()).parent().unwrap().display().to_string();
    let result = act().run(
        ".github/workflows/deploy.yml",
        &[
            ("HOIST_BIN_DIR", &bin_dir),
            ("HOIST_BACKOFF_SCALE", "0"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &world.issuer.request_url()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                &world.issuer.request_token(),
            ),
            ("ROLE", ROLE),
            ("STS_ENDPOINT", &world.sts.url()),
        ],
    );
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    assert!(
        result.log.contains("credentials-reached-the-next-step"),
        "{}",
        result.log
    );
    assert!(
        result.log.contains(
            "oidc-assume cleanup: blanked AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID"
        ),
        "{}",
        result.log
    );
    for token in world.issuer.issued() {
        assert!(
            !result.log.contains(&token),
            "an OIDC token reached the log"
        );
    }
    assert_eq!(world.sts.actions(), vec!["AssumeRoleWithWebIdentity"]);
}

#[test]
fn without_the_binary_the_action_says_how_to_provide_it() {
    let result = act().run(
        ".github/workflows/deploy.yml",
        &[("ROLE", ROLE), ("STS_ENDPOINT", "http://127.0.0.1:9")],
    );
    assert_ne!(result.code, Some(0));
    // No HOIST_BIN_DIR, and this checkout is no release: the installer
    // says how to pin one.
    assert!(
        result.log.contains("no release manifest") && result.log.contains("pin a release"),
        "{}",
        result.log
    );
}
