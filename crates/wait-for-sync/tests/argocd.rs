//! wait-for-sync against the Argo CD stand-in's scripted timelines: each
//! asserts the verdict, and that it came from the right evidence. Backoff
//! and polls are scaled to (almost) nothing, so nothing sleeps for long.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hoist_testkit::argocd::{ArgoCdStandIn, Dex, Timeline, presets};
use hoist_testkit::oidc::OidcIssuer;
use hoist_testkit::{Fault, RunResult, Sandbox};

const TOKEN: &str = "argocd-project-token-0123456789abcdef";
const X0: &str = "3b9d0e2f7a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d";
const X: &str = "8c2f4b1e9d0a7c3b5e6f1a2d4c8b9e0f1a2b3c4d";
const APP: &str = "payments-dev";

fn world(timeline: Timeline) -> (ArgoCdStandIn, Sandbox) {
    let argocd = ArgoCdStandIn::start(TOKEN);
    argocd.add_app(APP, timeline);
    let mut sandbox = Sandbox::new();
    sandbox
        .env("HOIST_BACKOFF_SCALE", "0.005")
        .env("HOIST_GITOPS_COMMIT", X)
        .input("argocd-server", &argocd.url())
        .input("argocd-token", TOKEN)
        .input("application", APP)
        .input("timeout", "60s");
    (argocd, sandbox)
}

fn run(sandbox: &Sandbox) -> RunResult {
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    result.assert_masked(&[TOKEN]);
    result
}

fn passed(result: &RunResult, status: &str) {
    assert_eq!(
        result.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        result.stdout,
        result.stderr
    );
    assert_eq!(result.outputs()["status"], status, "{}", result.stdout);
}

/// A failed wait: exit 1, one error saying `needles`, and the outputs set.
fn failed(result: &RunResult, status: &str, needles: &[&str]) {
    assert_eq!(result.code, Some(1), "stdout:\n{}", result.stdout);
    let errors = result.errors();
    assert_eq!(errors.len(), 1, "{}", result.stdout);
    let message = hoist_testkit::sandbox::unescape(errors[0]);
    for needle in needles {
        assert!(
            message.contains(needle),
            "error lacks {needle:?}:\n{message}"
        );
    }
    assert_eq!(result.outputs()["status"], status);
}

#[test]
fn a_stale_synced_app_is_not_done_until_our_revision_is_synced_reconciled_and_healthy() {
    let (argocd, mut sandbox) = world(presets::stale_then_auto_sync(X0, X));
    // No refresh: Argo CD notices the commit only at its next reconcile.
    sandbox.input("refresh", "none");
    let result = run(&sandbox);
    passed(&result, "healthy");
    let outputs = result.outputs();
    assert_eq!(outputs["revision"], X);
    let apps: serde_json::Value = serde_json::from_str(&outputs["applications"]).unwrap();
    assert_eq!(apps[0]["health"], "Healthy");
    assert_eq!(apps[0]["sync"], "Synced");
    assert_eq!(argocd.refreshes(APP), 0);
    // The stale Healthy at the old revision, and the stale health right
    // after the sync, were both seen and not trusted.
    assert!(
        result
            .stdout
            .contains("Argo CD runs 3b9d0e2, not 8c2f4b1 yet"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("waiting for Argo CD to reconcile after the sync"),
        "{}",
        result.stdout
    );
    let summary = result.file("GITHUB_STEP_SUMMARY");
    assert!(summary.contains("**payments-dev** — healthy"), "{summary}");
    assert!(summary.contains("| Synced and Healthy |"), "{summary}");
}

#[test]
fn a_manual_app_is_synced_at_our_revision_when_asked() {
    let (argocd, mut sandbox) = world(presets::manual_sync(X0, X));
    sandbox.input("sync", "true");
    let result = run(&sandbox);
    passed(&result, "healthy");
    let syncs = argocd.sync_requests();
    assert_eq!(syncs.len(), 1, "{syncs:?}");
    assert_eq!(syncs[0]["revision"], X);
}

#[test]
fn a_manual_app_without_sync_true_times_out_saying_it_waits_for_a_sync() {
    let (argocd, mut sandbox) = world(presets::manual_sync(X0, X));
    sandbox.input("timeout", "2s");
    let result = run(&sandbox);
    failed(
        &result,
        "timeout",
        &["timed out", "waiting for someone to sync it", "sync: true"],
    );
    assert!(argocd.sync_requests().is_empty());
}

#[test]
fn argo_cd_s_own_retry_is_waited_through() {
    let (_argocd, sandbox) = world(presets::failed_then_retried(X0, X));
    let result = run(&sandbox);
    passed(&result, "healthy");
    assert!(
        result.stdout.contains("Retrying attempt #1"),
        "{}",
        result.stdout
    );
}

#[test]
fn an_older_revision_s_failure_does_not_fail_our_wait() {
    let (_argocd, sandbox) = world(presets::old_failure_then_ours(X0, X));
    passed(&run(&sandbox), "healthy");
}

#[test]
fn a_failed_sync_of_our_revision_fails_with_the_hook_that_failed() {
    let (_argocd, sandbox) = world(presets::fails(X0, X));
    let result = run(&sandbox);
    failed(
        &result,
        "failed",
        &[
            "payments-dev",
            "completed unsuccessfully",
            "Job",
            "db-migrate",
            "backoff limit",
        ],
    );
}

#[test]
fn degraded_after_the_sync_fails_with_the_unhealthy_resource() {
    let (_argocd, sandbox) = world(presets::degraded_after_sync(X0, X));
    let result = run(&sandbox);
    failed(&result, "degraded", &["Degraded", "Deployment"]);
}

#[test]
fn a_paused_canary_is_reported_then_waited_through_to_healthy() {
    let (_argocd, sandbox) = world(presets::rollout_canary(X0, X));
    let result = run(&sandbox);
    passed(&result, "healthy");
    assert!(
        result
            .stdout
            .contains("at canary step 1/5, weight 20%, analysis Running"),
        "{}",
        result.stdout
    );
}

#[test]
fn suspended_fail_and_succeed_end_the_wait_at_the_pause() {
    let (_argocd, mut sandbox) = world(presets::rollout_canary(X0, X));
    sandbox.input("suspended", "fail");
    failed(&run(&sandbox), "failed", &["Suspended", "canary step 1/5"]);

    let (_argocd, mut sandbox) = world(presets::rollout_canary(X0, X));
    sandbox.input("suspended", "succeed");
    passed(&run(&sandbox), "suspended");
}

#[test]
fn an_aborted_rollout_fails_with_its_abort_message() {
    let (_argocd, sandbox) = world(presets::rollout_aborted(X0, X));
    failed(&run(&sandbox), "degraded", &["aborted", "RolloutAborted"]);
}

#[test]
fn a_closed_sync_window_is_given_as_the_reason_while_waiting() {
    let (argocd, mut sandbox) = world(presets::sync_window(X0, X));
    // Polling, so each read sees the next state (the stream would run
    // ahead of the sync-window checks in between).
    argocd.set_stream_refused(true);
    sandbox.input("sync", "true");
    let result = run(&sandbox);
    passed(&result, "healthy");
    assert!(
        result.stdout.contains("blocked by a sync window"),
        "{}",
        result.stdout
    );
}

#[test]
fn a_stream_that_breaks_mid_wait_is_caught_up_by_a_poll_and_reopened() {
    let (argocd, sandbox) = world(presets::stale_then_auto_sync(X0, X));
    argocd.drop_stream_after(2);
    passed(&run(&sandbox), "healthy");
    let paths: Vec<String> = argocd.requests().iter().map(|r| r.path.clone()).collect();
    let stream = paths
        .iter()
        .position(|p| p == "/api/v1/stream/applications")
        .expect("a stream was opened");
    let polls = paths[stream..]
        .iter()
        .filter(|p| **p == format!("/api/v1/applications/{APP}"))
        .count();
    assert!(polls >= 1, "no poll after the stream broke: {paths:#?}");
    let streams = paths
        .iter()
        .filter(|p| *p == "/api/v1/stream/applications")
        .count();
    assert_eq!(streams, 2, "the stream was opened again: {paths:#?}");
    assert_eq!(argocd.refreshes(APP), 1, "one refresh at the start");
}

#[test]
fn a_refused_stream_and_a_run_of_502s_are_survived() {
    let (argocd, sandbox) = world(presets::stale_then_auto_sync(X0, X));
    argocd.set_stream_refused(true);
    argocd.faults(3, Fault::Status(502));
    passed(&run(&sandbox), "healthy");
}

#[test]
fn a_wrong_token_fails_at_once_with_a_hint_about_the_token() {
    let (argocd, mut sandbox) = world(presets::stale_then_auto_sync(X0, X));
    sandbox.input("argocd-token", "not-the-token");
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    result.assert_failed_cleanly(&["refused the token", "argocd-token"]);
    assert_eq!(argocd.requests().len(), 1, "a 401 is not retried");
}

#[test]
fn an_unknown_application_fails_at_once() {
    let (_argocd, mut sandbox) = world(presets::stale_then_auto_sync(X0, X));
    sandbox
        .input("application", "no-such-app")
        .input("project", "payments");
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    result.assert_failed_cleanly(&["no application `no-such-app`", "check `application`"]);
}

#[test]
fn several_applications_are_waited_on_at_once() {
    let (argocd, mut sandbox) = world(presets::stale_then_auto_sync(X0, X));
    argocd.add_app("payments-worker", presets::failed_then_retried(X0, X));
    sandbox.input("application", "payments-dev, payments-worker");
    let result = run(&sandbox);
    passed(&result, "healthy");
    let apps: serde_json::Value = serde_json::from_str(&result.outputs()["applications"]).unwrap();
    assert_eq!(apps.as_array().unwrap().len(), 2);
    assert_eq!(apps[1]["name"], "payments-worker");
}

#[test]
fn argocd_oidc_exchanges_the_job_s_token_at_dex_and_masks_both() {
    let issuer = OidcIssuer::start();
    let (argocd, mut sandbox) = world(presets::stale_then_auto_sync(X0, X));
    let mut dex = Dex::trusting(&issuer, &argocd.url());
    dex.connector_id = "github-actions".into();
    argocd.enable_dex(dex);
    sandbox
        .input("argocd-token", "")
        .input("argocd-oidc", "true")
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &issuer.request_url())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &issuer.request_token());
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    passed(&result, "healthy");
    let issued = argocd.issued_tokens();
    assert_eq!(issued.len(), 1);
    let id_tokens = issuer.issued();
    result.assert_masked(&[&issued[0], &id_tokens[0], &issuer.request_token()]);
}
