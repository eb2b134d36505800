//! The `github-api` backend against the test kit's GitHub stand-in: Git
//! Data API over a real bare repository, refs moved by compare-and-swap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use hoist_testkit::GitRemote;
use hoist_testkit::github::GitHubStandIn;

const TOKEN: &str = "ghs_apiTokenForTheGitopsRepo0123456789";
const KUSTOMIZE_FILE: &str = "apps/payments/overlays/dev/kustomization.yaml";

fn world() -> (GitHubStandIn, hoist_testkit::Sandbox) {
    let github = GitHubStandIn::start(
        "bank-org",
        "gitops-repo",
        GitRemote::with_files(SEED),
        TOKEN,
    );
    let mut sandbox = sandbox();
    sandbox
        .env("GITHUB_API_URL", &github.url())
        .input("repository", "bank-org/gitops-repo")
        .input("backend", "github-api")
        .input("token", TOKEN)
        .input(
            "edits",
            &format!("{KUSTOMIZE_FILE}:images[name=payments-api].newTag=abc1234"),
        );
    (github, sandbox)
}

#[test]
fn a_bump_lands_as_a_commit_github_verifies() {
    let (github, sandbox) = world();
    let before = github.remote().head("main");
    let result = bump(&sandbox);
    let outputs = succeeded(&result);
    let remote = github.remote();
    let head = remote.head("main");
    assert_eq!(outputs["commit-sha"], head);
    let exported = result.exported_env();
    assert_eq!(exported["HOIST_GITOPS_COMMIT"], head);
    assert_eq!(exported["HOIST_GITOPS_REPOSITORY"], "bank-org/gitops-repo");
    assert_eq!(
        remote.read("main", KUSTOMIZE_FILE),
        replaced_once(KUSTOMIZE_DEV, "newTag: latest #", "newTag: abc1234 #")
    );
    assert!(
        github.is_verified(&head),
        "a commit without author is signed by GitHub"
    );
    assert_eq!(remote.commits("main")[0].parents, vec![before]);
    result.assert_masked(&[TOKEN]);
    assert_eq!(
        github.request_count("PATCH", "/repos/bank-org/gitops-repo/git/refs/heads/main"),
        1
    );
}

#[test]
fn a_lost_race_is_re_applied_on_the_new_tip_and_keeps_the_other_change() {
    let (github, sandbox) = world();
    // Another job lands a change to a different file just before our ref
    // update: GitHub answers 422 "Update is not a fast forward".
    github.advance_before_next_patch(
        "charts/myshop-api/values-dev.yaml",
        "image:\n  tag: other-job\n",
    );
    let outputs = succeeded(&bump(&sandbox));
    let remote = github.remote();
    assert_eq!(outputs["commit-sha"], remote.head("main"));
    assert!(
        remote
            .read("main", KUSTOMIZE_FILE)
            .contains("newTag: abc1234 #")
    );
    assert_eq!(
        remote.read("main", "charts/myshop-api/values-dev.yaml"),
        "image:\n  tag: other-job\n"
    );
    let commits = remote.commits("main");
    assert_eq!(
        commits[0].parents,
        vec![commits[1].sha.clone()],
        "ours sits on the other job's commit"
    );
    assert_eq!(
        github.request_count("PATCH", "/repos/bank-org/gitops-repo/git/refs/heads/main"),
        2
    );
}

#[test]
fn a_protected_branch_fails_at_once_without_a_commit() {
    let (github, sandbox) = world();
    github.protect_branch("main");
    let head = github.remote().head("main");
    let result = bump(&sandbox);
    result.assert_failed_cleanly(&["refused to move the branch", "protected"]);
    assert_eq!(github.remote().head("main"), head);
    assert_eq!(
        github.request_count("PATCH", "/repos/bank-org/gitops-repo/git/refs/heads/main"),
        1
    );
}

#[test]
fn a_bad_token_fails_at_once() {
    let (github, mut sandbox) = world();
    sandbox.input("token", "ghs_notTheRightOne");
    let result = bump(&sandbox);
    result.assert_failed_cleanly(&["refused the credentials", "Bad credentials"]);
    assert_eq!(github.request_count("GET", "/repos/"), 1);
}

#[test]
fn a_symbolic_link_is_refused_even_when_github_follows_it() {
    let (github, mut sandbox) = world();
    // GitHub's contents API answers a link to a file with that file.
    commit_symlink(github.remote(), "link.yaml", KUSTOMIZE_FILE);
    let head = github.remote().head("main");
    sandbox.input(
        "edits",
        "link.yaml:images[name=payments-api].newTag=abc1234",
    );
    let result = bump(&sandbox);
    result.assert_failed_cleanly(&["`link.yaml` is a symbolic link"]);
    assert_eq!(github.remote().head("main"), head);
}

#[test]
fn a_server_that_keeps_failing_is_not_called_contention() {
    let (github, mut sandbox) = world();
    sandbox.input("max-attempts", "1");
    // Every try of the ref update (the HTTP client's own retries included)
    // gets a 500.
    for _ in 0..8 {
        github.fault_on(
            "/repos/bank-org/gitops-repo/git/refs/heads/main",
            hoist_testkit::Fault::Status(500),
        );
    }
    let head = github.remote().head("main");
    let result = bump(&sandbox);
    let message = result.assert_failed_cleanly(&["gave up after 1 attempts", "500", "status page"]);
    assert!(!message.contains("concurrency"), "{message}");
    assert_eq!(github.remote().head("main"), head);
}
