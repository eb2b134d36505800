//! The real `actions/open-promotion-pr/action.yml` through `act`, against
//! the GitHub stand-in, and a later step reading its outputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hoist_testkit::GitRemote;
use hoist_testkit::act::{Act, CHECKOUT_STEP};
use hoist_testkit::github::{GitHubStandIn, TokenKind};

const TOKEN: &str = "ghp_actPromoterToken0123456789";

const WORKFLOW: &str = r#"
name: promote
on: push
jobs:
  promote:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: promote
        uses: ./actions/open-promotion-pr
        with:
          repository: bank-org/gitops-repo
          github-api-url: ${{ env.GITHUB_STANDIN }}
          token: ${{ env.PROMOTER_TOKEN }}
          from-env: dev
          to-env: staging
          apps: payments
      - name: later step
        shell: bash
        env:
          OPERATION: ${{ steps.promote.outputs.pull-request-operation }}
          BRANCH: ${{ steps.promote.outputs.branch }}
          NUMBER: ${{ steps.promote.outputs.pull-request-number }}
        run: |
          test "$OPERATION" = created
          test "$BRANCH" = promote/payments-staging
          echo "opened-pr-$NUMBER"
"#;

#[test]
fn the_action_opens_the_promotion_pr_and_a_later_step_reads_it() {
    let overlay = |tag: &str| format!("images:\n  - name: payments\n    newTag: {tag}\n");
    let (dev, staging) = (overlay("v1.1.0"), overlay("v1.0.0"));
    let remote = GitRemote::with_files(&[
        ("apps/payments/overlays/dev/kustomization.yaml", &dev),
        (
            "apps/payments/overlays/staging/kustomization.yaml",
            &staging,
        ),
    ]);
    let github = GitHubStandIn::start("bank-org", "gitops-repo", remote, "ghs_unused");
    github.add_token(TOKEN, TokenKind::Pat);
    let act = Act::new();
    act.copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/open-promotion-pr"),
        "actions/open-promotion-pr",
    );
    act.file(
        ".github/workflows/promote.yml",
        &WORKFLOW.replace("@CHECKOUT@", CHECKOUT_STEP),
    );
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_open-promotion-pr"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let result = act.run(
        ".github/workflows/promote.yml",
        &[
            ("HOIST_BIN_DIR", &bin_dir),
            ("GITHUB_STANDIN", &github.url()),
            ("PROMOTER_TOKEN", TOKEN),
        ],
    );
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    assert!(result.log.contains("opened-pr-1"), "{}", result.log);
    assert!(!result.log.contains(TOKEN), "the token reached the log");
    assert_eq!(github.pull_created_by(1), Some(TokenKind::Pat));
}

#[test]
fn action_yml_and_readme_match_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/open-promotion-pr");
    hoist_testkit::action_yml::assert_action_matches_spec(&open_promotion_pr::SPEC, &dir);
}
