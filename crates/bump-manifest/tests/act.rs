//! The real `actions/bump-manifest/action.yml` through `act`, bumping a
//! real bare repository, and a later step reading its outputs and the
//! exported `HOIST_GITOPS_COMMIT` and `HOIST_GITOPS_REPOSITORY`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use hoist_testkit::GitRemote;
use hoist_testkit::act::{Act, CHECKOUT_STEP};

const WORKFLOW: &str = r#"
name: deploy
on: push
jobs:
  bump:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: bump
        uses: ./actions/bump-manifest
        with:
          repository: ${{ env.GITOPS_URL }}
          app: payments
          env: dev
          image-name: payments-api
          tag: abc1234
      - name: later step
        shell: bash
        env:
          CHANGED: ${{ steps.bump.outputs.changed }}
          COMMIT: ${{ steps.bump.outputs.commit-sha }}
          FILES: ${{ steps.bump.outputs.files }}
        run: |
          test "$CHANGED" = true
          test "$FILES" = apps/payments/overlays/dev/kustomization.yaml
          test "$COMMIT" = "$HOIST_GITOPS_COMMIT"
          test "$HOIST_GITOPS_REPOSITORY" = "$GITOPS_URL"
          echo "landed-$COMMIT"
"#;

#[test]
fn the_action_bumps_and_a_later_step_reads_the_commit() {
    let remote = GitRemote::with_files(SEED);
    let act = Act::new();
    act.copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/bump-manifest"),
        "actions/bump-manifest",
    );
    act.file(
        ".github/workflows/deploy.yml",
        &WORKFLOW.replace("@CHECKOUT@", CHECKOUT_STEP),
    );
    let bin_dir = Path::new(binary()).parent().unwrap().display().to_string();
    let result = act.run(
        ".github/workflows/deploy.yml",
        &[("HOIST_BIN_DIR", &bin_dir), ("GITOPS_URL", &remote.url())],
    );
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    let head = remote.head("main");
    assert!(
        result.log.contains(&format!("landed-{head}")),
        "{}",
        result.log
    );
    assert!(
        remote
            .read("main", "apps/payments/overlays/dev/kustomization.yaml")
            .contains("newTag: abc1234 #")
    );
    assert_eq!(
        remote.commits("main")[0].subject,
        "chore(dev): update payments to abc1234"
    );
}

#[test]
fn action_yml_and_readme_match_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/bump-manifest");
    hoist_testkit::action_yml::assert_action_matches_spec(&bump_manifest::SPEC, &dir);
}
