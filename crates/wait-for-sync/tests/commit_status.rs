//! The commit-status backend against the GitHub stand-in (statuses and
//! compare over a real bare repository), and Argo CD's superseded check,
//! which asks the same compare API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hoist_testkit::argocd::{ArgoCdStandIn, presets};
use hoist_testkit::github::GitHubStandIn;
use hoist_testkit::{GitRemote, RunResult, Sandbox};

const GITHUB_TOKEN: &str = "ghs_statusReaderToken0123456789";
const CONTEXT: &str = "kustomization/apps/0c9c2e41";

/// The GitOps repository with two bumps on main: `x` and then `y`.
struct World {
    github: GitHubStandIn,
    x: String,
    y: String,
}

fn world() -> World {
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "image:\n  tag: v1\n")]);
    let x = remote.commit_file(
        "main",
        "apps/pay/values.yaml",
        "image:\n  tag: v2\n",
        "bump to v2",
    );
    let y = remote.commit_file(
        "main",
        "apps/pay/values.yaml",
        "image:\n  tag: v3\n",
        "bump to v3",
    );
    let github = GitHubStandIn::start("bank-org", "gitops-repo", remote, GITHUB_TOKEN);
    World { github, x, y }
}

fn sandbox(world: &World, revision: &str) -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox
        .env("HOIST_BACKOFF_SCALE", "0.005")
        .env("GITHUB_API_URL", &world.github.url())
        .input("backend", "commit-status")
        .input("github-token", GITHUB_TOKEN)
        .input("repository", "bank-org/gitops-repo")
        .input("revision", revision)
        .input("timeout", "30s");
    sandbox
}

fn run(sandbox: &Sandbox) -> RunResult {
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    result.assert_masked(&[GITHUB_TOKEN]);
    result
}

#[test]
fn flux_s_success_status_on_the_commit_is_done_after_pending_and_absence() {
    let world = world();
    world.github.add_status_after_reads(
        &world.x,
        2,
        "pending",
        "continuous-delivery/pay",
        "another controller, not matched",
    );
    world.github.add_status_after_reads(
        &world.x,
        3,
        "success",
        CONTEXT,
        "reconciliation succeeded",
    );
    let result = run(&sandbox(&world, &world.x));
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert_eq!(result.outputs()["status"], "healthy");
    assert!(
        result.stdout.contains("no `kustomization/*` status"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("reconciliation succeeded"),
        "{}",
        result.stdout
    );
}

#[test]
fn a_failure_status_fails_with_its_description() {
    let world = world();
    world
        .github
        .add_status_after_reads(&world.x, 1, "failure", CONTEXT, "health check failed");
    let result = run(&sandbox(&world, &world.x));
    assert_eq!(result.code, Some(1), "{}", result.stdout);
    assert_eq!(result.outputs()["status"], "failed");
    let error = hoist_testkit::sandbox::unescape(result.errors()[0]);
    assert!(error.contains("health check failed"), "{error}");
}

#[test]
fn a_later_commit_applied_instead_is_superseded() {
    let world = world();
    // Flux fetched y before it ever applied x: the status lands on y only.
    world.github.add_status_after_reads(
        &world.y,
        1,
        "success",
        CONTEXT,
        "reconciliation succeeded",
    );
    let result = run(&sandbox(&world, &world.x));
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert_eq!(result.outputs()["status"], "superseded");
}

#[test]
fn argo_cd_at_a_newer_commit_that_contains_ours_is_superseded_or_fails_by_policy() {
    let world = world();
    let (x, y) = (world.x.clone(), world.y.clone());
    let base = "3b9d0e2f7a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d";
    for (policy, code, status) in [("succeed", 0, "superseded"), ("fail", 1, "superseded")] {
        let argocd = ArgoCdStandIn::start("argocd-token-superseded");
        argocd.add_app("payments-dev", presets::superseded(base, &x, &y));
        let mut sandbox = sandbox(&world, &x);
        sandbox
            .input("backend", "argocd")
            .input("argocd-server", &argocd.url())
            .input("argocd-token", "argocd-token-superseded")
            .input("application", "payments-dev")
            .input("superseded", policy);
        let result = run(&sandbox);
        assert_eq!(result.code, Some(code), "{policy}: {}", result.stdout);
        assert_eq!(result.outputs()["status"], status);
    }
}

#[test]
fn every_matching_context_must_succeed() {
    let world = world();
    world
        .github
        .add_status(&world.x, "success", CONTEXT, "reconciliation succeeded");
    world.github.add_status(
        &world.x,
        "pending",
        "kustomization/infra/9f8e7d6c",
        "progressing",
    );
    world.github.add_status_after_reads(
        &world.x,
        2,
        "success",
        "kustomization/infra/9f8e7d6c",
        "reconciliation succeeded",
    );
    let result = run(&sandbox(&world, &world.x));
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("kustomization/infra/9f8e7d6c pending"),
        "{}",
        result.stdout
    );
}
