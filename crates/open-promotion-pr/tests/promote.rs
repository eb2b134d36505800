//! open-promotion-pr against the GitHub stand-in (pulls, labels, reviewers,
//! GraphQL auto-merge, App installation tokens, rate limits) over a real
//! bare GitOps repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hoist_testkit::github::GitHubStandIn;
use hoist_testkit::{GitRemote, RunResult, Sandbox};
use serde_json::Value;

const TOKEN: &str = "ghp_promoterPersonalToken0123456789";
const DIGEST: &str = "sha256:4451cf6ab99167f804810ada01d1fc77c2b0639cb53c5be6a375f93df9917666";

fn overlay(app: &str, tag: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: {app}\n    newName: 111111111111.dkr.ecr.me-south-1.amazonaws.com/{app}\n    newTag: {tag} # set by CI\n"
    )
}

fn path(app: &str, env: &str) -> String {
    format!("apps/{app}/overlays/{env}/kustomization.yaml")
}

/// A GitOps repository with three apps in dev and staging; `payments` was
/// just bumped in dev by bump-manifest (with its trailers).
fn world() -> (GitHubStandIn, Sandbox) {
    let mut files = Vec::new();
    for app in ["payments", "orders", "ledger"] {
        files.push((path(app, "dev"), overlay(app, "v1.0.0")));
        files.push((path(app, "staging"), overlay(app, "v1.0.0")));
    }
    let seed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let remote = GitRemote::with_files(&seed);
    remote.commit_file(
        "main",
        &path("payments", "dev"),
        &overlay("payments", "v1.1.0"),
        &format!("chore(dev): update payments to v1.1.0\n\nHoist-Image: 111111111111.dkr.ecr.me-south-1.amazonaws.com/payments@{DIGEST}\nHoist-Run: https://github.com/bank-org/payments/actions/runs/77\n"),
    );
    let github = GitHubStandIn::start("bank-org", "gitops-repo", remote, TOKEN);
    // TOKEN is the workflow's: this repository lets it open pull requests
    // (a new one does not; bad_inputs has that refusal).
    github.forbid_actions_pull_requests(false);
    let mut sandbox = Sandbox::new();
    sandbox
        .env("HOIST_BACKOFF_SCALE", "0")
        .env("GITHUB_API_URL", &github.url())
        .input("repository", "bank-org/gitops-repo")
        .input("token", TOKEN)
        .input("from-env", "dev")
        .input("to-env", "staging")
        .input("apps", "payments");
    (github, sandbox)
}

fn run(sandbox: &Sandbox) -> RunResult {
    let result = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(
        result.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        result.stdout,
        result.stderr
    );
    result.assert_masked(&[TOKEN]);
    result
}

/// `GET` on the stand-in's API, as a test reads state back.
fn api(github: &GitHubStandIn, path: &str) -> Value {
    let url = format!("{}/repos/bank-org/gitops-repo/{path}", github.url());
    hoist_testkit::block_on(async {
        hoist_testkit::raw_client()
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

#[test]
fn the_first_run_opens_the_pr_and_a_second_changes_nothing() {
    let (github, mut sandbox) = world();
    sandbox.input("reviewers", "team-lead");
    github.add_collaborator("team-lead");
    let first = run(&sandbox);
    let outputs = first.outputs();
    assert_eq!(outputs["pull-request-operation"], "created");
    assert_eq!(outputs["branch"], "promote/payments-staging");
    let number = &outputs["pull-request-number"];
    let remote = github.remote();
    assert_eq!(remote.head("promote/payments-staging"), outputs["head-sha"]);
    assert_eq!(
        remote.read("promote/payments-staging", &path("payments", "staging")),
        overlay("payments", "v1.1.0"),
        "only the tag's bytes changed"
    );
    let pull = api(&github, &format!("pulls/{number}"));
    assert_eq!(pull["title"], "Promote payments to staging");
    let body = pull["body"].as_str().unwrap();
    assert!(body.contains(&format!("| payments | `v1.0.0` | `v1.1.0` | `{DIGEST}` | | [run](https://github.com/bank-org/payments/actions/runs/77) |")), "{body}");
    assert!(body.contains("- [ ] Verified in dev"), "{body}");
    let labels: Vec<&str> = pull["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["promotion", "staging"]);
    assert_eq!(pull["requested_reviewers"][0]["login"], "team-lead");
    let promoted: Value = serde_json::from_str(&outputs["promoted"]).unwrap();
    assert_eq!(promoted["payments"]["to"], "v1.1.0");

    let second = run(&sandbox);
    assert_eq!(second.outputs()["pull-request-operation"], "unchanged");
    assert_eq!(second.outputs()["pull-request-number"], *number);
    assert_eq!(
        remote.head("promote/payments-staging"),
        outputs["head-sha"],
        "no new commit"
    );
    let open = api(&github, "pulls?state=all");
    assert_eq!(open.as_array().unwrap().len(), 1, "never a duplicate");
}

#[test]
fn a_newer_image_in_dev_updates_the_branch_and_the_body() {
    let (github, sandbox) = world();
    let first = run(&sandbox);
    github.remote().commit_file(
        "main",
        &path("payments", "dev"),
        &overlay("payments", "v1.2.0"),
        "chore(dev): update payments to v1.2.0",
    );
    let second = run(&sandbox);
    assert_eq!(second.outputs()["pull-request-operation"], "updated");
    assert_eq!(
        second.outputs()["pull-request-number"],
        first.outputs()["pull-request-number"]
    );
    let remote = github.remote();
    assert_eq!(
        remote.read("promote/payments-staging", &path("payments", "staging")),
        overlay("payments", "v1.2.0")
    );
    let pull = api(
        &github,
        &format!("pulls/{}", second.outputs()["pull-request-number"]),
    );
    assert!(pull["body"].as_str().unwrap().contains("`v1.2.0`"));
}

#[test]
fn all_promotes_only_the_apps_that_differ_and_per_app_opens_one_pr_each() {
    let (github, mut sandbox) = world();
    github.remote().commit_file(
        "main",
        &path("ledger", "dev"),
        &overlay("ledger", "v2.0.0"),
        "chore(dev): update ledger",
    );
    sandbox.input("apps", "all").input("grouping", "per-app");
    let result = run(&sandbox);
    let outputs = result.outputs();
    let branches: Vec<&str> = outputs["branch"].lines().collect();
    let operations: Vec<&str> = outputs["pull-request-operation"].lines().collect();
    assert_eq!(
        branches,
        [
            "promote/ledger-staging",
            "promote/orders-staging",
            "promote/payments-staging"
        ]
    );
    assert_eq!(operations, ["created", "none", "created"]);
    let promoted: Value = serde_json::from_str(&outputs["promoted"]).unwrap();
    assert_eq!(promoted.as_object().unwrap().len(), 2);
}

#[test]
fn a_promotion_that_is_no_longer_needed_is_closed_when_asked() {
    let (github, mut sandbox) = world();
    let first = run(&sandbox);
    let number = first.outputs()["pull-request-number"].clone();
    // Someone promoted by hand: staging already runs what dev runs.
    github.remote().commit_file(
        "main",
        &path("payments", "staging"),
        &overlay("payments", "v1.1.0"),
        "hand promotion",
    );
    let without = run(&sandbox);
    assert_eq!(without.outputs()["pull-request-operation"], "none");
    sandbox.input("close-stale", "true");
    let closed = run(&sandbox);
    assert_eq!(closed.outputs()["pull-request-operation"], "closed");
    assert_eq!(api(&github, &format!("pulls/{number}"))["state"], "closed");
}

#[test]
fn auto_merge_is_requested_with_the_merge_method() {
    let (github, mut sandbox) = world();
    github.allow_auto_merge(true);
    sandbox
        .input("auto-merge", "true")
        .input("merge-method", "squash");
    run(&sandbox);
    let requests = github.auto_merge_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].merge_method, "SQUASH");
    assert!(requests[0].number.is_some(), "the PR's node id was named");
}

#[test]
fn a_secondary_rate_limit_is_waited_out() {
    let (github, sandbox) = world();
    github.secondary_rate_limit_next(2, 1);
    let result = run(&sandbox);
    assert_eq!(result.outputs()["pull-request-operation"], "created");
}

#[test]
fn a_github_app_s_installation_token_opens_the_pr_so_its_checks_run() {
    use hoist_testkit::github::{APP_PRIVATE_KEY_PEM, APP_PUBLIC_KEY_PEM, TokenKind};
    let (github, mut sandbox) = world();
    github.enable_app(424242, APP_PUBLIC_KEY_PEM);
    sandbox
        .input("token", "")
        .input("app-id", "424242")
        .input("app-private-key", APP_PRIVATE_KEY_PEM);
    let result = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    let number: u64 = result.outputs()["pull-request-number"].parse().unwrap();
    assert_eq!(github.pull_created_by(number), Some(TokenKind::App));
    assert!(github.pull_triggers_workflows(number));
    let minted = github.minted_tokens();
    assert_eq!(minted.len(), 1);
    result.assert_masked(&[&minted[0]]);
    assert!(
        !result.stdout.contains("do not start workflows"),
        "no GITHUB_TOKEN warning with an App"
    );
}

#[test]
fn the_workflow_token_gets_a_warning_that_checks_will_not_run() {
    let (github, mut sandbox) = world();
    let workflow_token = "ghs_workflowToken0123456789abcdef";
    github.add_token(
        workflow_token,
        hoist_testkit::github::TokenKind::GitHubActions,
    );
    sandbox.input("token", workflow_token);
    let result = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert!(result.stdout.contains("::warning::Pull requests opened with the workflow's GITHUB_TOKEN do not start workflows"), "{}", result.stdout);
}
