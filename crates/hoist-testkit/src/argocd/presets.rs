//! Timelines for the scenarios `wait-for-sync` meets. Each starts with the
//! app Synced and Healthy at the old revision `x0` and stale: it moves on
//! at a refresh, or after three reads ([`Timeline::require_refresh`] makes
//! it wait for the refresh). `x` is the revision CI committed.

use serde_json::{Value, json};

use super::model::{Initiator, SyncWindows, Time, kitchen};
use super::steps::{
    DEPLOYMENT, ROLLOUT, WORKLOAD, compared, deployed, reconciled, resource, sync_failed,
    sync_started, sync_succeeded, workload_health,
};
use super::timeline::{Hold, Timeline};

/// The name presets give the app; `add_app` renames it.
const NAME: &str = "payments-api";

/// Reads a stale state survives without a refresh.
const STALE_READS: usize = 3;

/// Deployed at `x0` and stale until a refresh (or three reads).
fn stale(x0: &str) -> Timeline {
    stale_from(|start| deployed(NAME, x0, start))
}

/// `first` (given the start time) until a refresh (or three reads).
fn stale_from(first: impl FnOnce(Time) -> super::model::App) -> Timeline {
    let start = i64::try_from(crate::github::unix_now()).unwrap_or(0);
    Timeline::at(first(start), start).hold(Hold::Refresh {
        or_reads: Some(STALE_READS),
    })
}

/// Stale at `x0`, then the controller compares `x`.
fn noticed(x0: &str, x: &str) -> Timeline {
    stale(x0).then(|app, now| compared(app, x, now))
}

/// Auto-sync of `x` from compare to Healthy: Running, Succeeded with the
/// health still the old one and `reconciledAt` before `finishedAt`, then
/// reconciled Progressing, then Healthy.
pub(super) fn auto_synced(timeline: Timeline, x: &str) -> Timeline {
    timeline
        .then(|app, now| sync_started(app, x, Initiator::Automated, now))
        .then(sync_succeeded)
        .then(rolling)
        .then(healthy)
}

fn rolling(app: &mut super::model::App, now: Time) {
    let message = "Waiting for rollout to finish: 1 old replicas are pending termination...";
    reconciled(
        app,
        "Progressing",
        Some(&format!("Caused by {}", workload_ref(app))),
        now,
    );
    workload_health(app, "Progressing", Some(message));
}

fn healthy(app: &mut super::model::App, now: Time) {
    reconciled(app, "Healthy", None, now);
    workload_health(app, "Healthy", None);
}

/// `apps/Deployment:payments/payments-api` (or the Rollout).
fn workload_ref(app: &super::model::App) -> String {
    let kind = if app.rollout.is_some() {
        "argoproj.io/Rollout"
    } else {
        "apps/Deployment"
    };
    format!("{kind}:{}/{}", WORKLOAD.0, WORKLOAD.1)
}

/// Synced and Healthy at `x0` (stale), then OutOfSync at `x`, the sync
/// Running, Succeeded at `x` (`finishedAt` t1) with `reconciledAt` still
/// before t1 and the old Healthy, then reconciled (≥ t1) Progressing, then
/// Healthy.
pub fn stale_then_auto_sync(x0: &str, x: &str) -> Timeline {
    auto_synced(noticed(x0, x), x)
}

/// No automated policy: OutOfSync at `x` until a sync to `x` is POSTed,
/// then Running, Succeeded, Progressing, Healthy.
pub fn manual_sync(x0: &str, x: &str) -> Timeline {
    stale_from(|start| {
        let mut app = deployed(NAME, x0, start);
        app.automated = false;
        app
    })
    .then(|app, now| compared(app, x, now))
    .hold(Hold::Sync {
        revision: Some(x.to_owned()),
    })
    .then(|app, now| sync_started(app, x, Initiator::User("admin".to_owned()), now))
    .then(sync_succeeded)
    .then(rolling)
    .then(healthy)
}

/// The sync of `x` fails once and is retried: phase still Running with
/// `finishedAt` set, `retryCount` 1 and "Retrying attempt #1 at 3:04PM.",
/// then Succeeded, Progressing, Healthy.
pub fn failed_then_retried(x0: &str, x: &str) -> Timeline {
    noticed(x0, x)
        .then(|app, now| sync_started(app, x, Initiator::Automated, now))
        .then(|app, now| {
            let state = app.operation_state.as_mut().expect("running");
            state.finished_at = Some(now);
            state.retry_count = 1;
            state.message = format!(
                "one or more objects failed to apply. Retrying attempt #1 at {}.",
                kitchen(now + 5)
            );
            let error = "Internal error occurred: failed calling webhook \"validate.kyverno.svc-fail\": context deadline exceeded";
            let mut failed = super::steps::applied(DEPLOYMENT, "configured");
            failed["status"] = json!("SyncFailed");
            failed["message"] = json!(error);
            state.sync_result = Some(super::model::SyncResult {
                revision: x.to_owned(),
                resources: vec![failed],
            });
        })
        .then(|app, now| {
            let state = app.operation_state.as_mut().expect("running");
            state.message = "one or more tasks are running".to_owned();
            state.finished_at = None;
            state.started_at = now;
        })
        .then(sync_succeeded)
        .then(rolling)
        .then(healthy)
}

/// "one or more synchronization tasks completed unsuccessfully (retried 2
/// times)." — how the `x0` and `x` syncs of the failure presets end.
const TASKS_FAILED: &str =
    "one or more synchronization tasks completed unsuccessfully (retried 2 times).";

/// The PreSync hook Job that fails.
fn failed_hook() -> Value {
    json!({
        "group": "batch", "version": "v1", "kind": "Job",
        "namespace": WORKLOAD.0, "name": "db-migrate",
        "status": "Synced", "hookType": "PreSync", "hookPhase": "Failed", "syncPhase": "PreSync",
        "message": "Job has reached the specified backoff limit",
    })
}

/// The last sync, of `x0`, Failed (with its SyncError condition), the app
/// OutOfSync at `x0`; then our sync of `x` runs and succeeds → Healthy.
pub fn old_failure_then_ours(x0: &str, x: &str) -> Timeline {
    let timeline = stale_from(|start| {
        // What is deployed is older still: the commit before x0.
        let older: String = x0.chars().rev().collect();
        let mut app = deployed(NAME, &older, start);
        compared(&mut app, x0, start - 1805);
        sync_started(&mut app, x0, Initiator::Automated, start - 1800);
        app.operation_state.as_mut().expect("started").retry_count = 2;
        sync_failed(&mut app, TASKS_FAILED, vec![failed_hook()], start - 1700);
        app
    })
    .then(|app, now| compared(app, x, now));
    auto_synced(timeline, x)
}

/// The sync of `x` fails for good: a PreSync hook Job hits its backoff
/// limit; phase Failed, the SyncError condition, OutOfSync at `x`.
pub fn fails(x0: &str, x: &str) -> Timeline {
    noticed(x0, x)
        .then(|app, now| {
            sync_started(app, x, Initiator::Automated, now);
            let mut hook = failed_hook();
            hook["hookPhase"] = json!("Running");
            hook["message"] = json!("job.batch/db-migrate created");
            let state = app.operation_state.as_mut().expect("started");
            state.sync_result = Some(super::model::SyncResult {
                revision: x.to_owned(),
                resources: vec![hook],
            });
        })
        .then(|app, now| {
            app.operation_state.as_mut().expect("running").retry_count = 2;
            sync_failed(app, TASKS_FAILED, vec![failed_hook()], now);
        })
}

/// `x` syncs, then the Deployment goes Degraded (progress deadline).
pub fn degraded_after_sync(x0: &str, x: &str) -> Timeline {
    noticed(x0, x)
        .then(|app, now| sync_started(app, x, Initiator::Automated, now))
        .then(sync_succeeded)
        .then(rolling)
        .then(|app, now| {
            let message = format!("Caused by {}", workload_ref(app));
            reconciled(app, "Degraded", Some(&message), now);
            let why = "Deployment \"payments-api\" exceeded its progress deadline";
            workload_health(app, "Degraded", Some(why));
        })
}

/// The canary's steps: weight 20, pause, weight 60, pause 10m, weight 100.
fn canary_steps() -> Value {
    json!([
        {"setWeight": 20}, {"pause": {}}, {"setWeight": 60},
        {"pause": {"duration": "10m"}}, {"setWeight": 100},
    ])
}

/// The workload as an Argo Rollout (generation 7) with `status`.
pub fn rollout(status: Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": WORKLOAD.1, "namespace": WORKLOAD.0, "generation": 7},
        "spec": {
            "replicas": 5,
            "strategy": {"canary": {"steps": canary_steps()}},
        },
        "status": status,
    })
}

/// A Rollout status at canary step `step`.
fn canary_status(phase: &str, message: &str, step: usize, weight: u32, analysis: &str) -> Value {
    json!({
        "observedGeneration": "7",
        "phase": phase,
        "message": message,
        "currentStepIndex": step,
        "currentPodHash": "6b7f9c8d4",
        "stableRS": "5d8c7b6f9",
        "replicas": 5, "updatedReplicas": (weight as usize * 5).div_ceil(100),
        "readyReplicas": 5, "availableReplicas": 5,
        "canary": {
            "weights": {
                "canary": {"weight": weight, "podTemplateHash": "6b7f9c8d4"},
                "stable": {"weight": 100 - weight, "podTemplateHash": "5d8c7b6f9"},
            },
            "currentStepAnalysisRunStatus": {"name": "payments-api-6b7f9c8d4-7-1", "status": analysis},
        },
    })
}

/// `x` syncs as a Rollout; health Suspended at the canary's pause (step
/// 1/5, weight 20, analysis Running) until the Rollout is read (or three
/// reads), then promoted (step 3/5, weight 60, Progressing), then Healthy
/// (step 5/5).
pub fn rollout_canary(x0: &str, x: &str) -> Timeline {
    canary_start(x0, x)
        .then(|app, now| {
            let message = format!("Caused by {}", workload_ref(app));
            reconciled(app, "Suspended", Some(&message), now);
            let mut status = canary_status("Paused", "CanaryPauseStep", 1, 20, "Running");
            status["pauseConditions"] =
                json!([{"reason": "CanaryPauseStep", "startTime": super::model::rfc3339(now)}]);
            status["controllerPause"] = json!(true);
            app.rollout = Some(rollout(status));
            workload_health(app, "Suspended", Some("CanaryPauseStep"));
        })
        .hold(Hold::RolloutRead {
            or_reads: Some(STALE_READS),
        })
        .then(|app, now| {
            let message = format!("Caused by {}", workload_ref(app));
            reconciled(app, "Progressing", Some(&message), now);
            let waiting = "more replicas need to be updated";
            let status = canary_status("Progressing", waiting, 3, 60, "Successful");
            app.rollout = Some(rollout(status));
            workload_health(app, "Progressing", Some(waiting));
        })
        .then(|app, now| {
            app.rollout = Some(rollout(promoted()));
            healthy(app, now);
        })
}

/// A Rollout status fully promoted: step 5/5, stable is the canary.
fn promoted() -> Value {
    let mut status = canary_status("Healthy", "", 5, 0, "Successful");
    status["stableRS"] = json!("6b7f9c8d4");
    status["canary"]["weights"]["stable"] = json!({"weight": 100, "podTemplateHash": "6b7f9c8d4"});
    status.as_object_mut().expect("object").remove("message");
    status
}

/// `x0` runs as a Rollout; `x` is compared, synced, reconciled Progressing.
fn canary_start(x0: &str, x: &str) -> Timeline {
    stale_from(|start| {
        let mut app = deployed(NAME, x0, start);
        app.rollout = Some(rollout(promoted()));
        app.resources[0] = resource(ROLLOUT, WORKLOAD.1, "Healthy", None);
        app
    })
    .then(|app, now| compared(app, x, now))
    .then(|app, now| sync_started(app, x, Initiator::Automated, now))
    .then(sync_succeeded)
    .then(|app, now| {
        let waiting = "more replicas need to be updated";
        let message = format!("Caused by {}", workload_ref(app));
        reconciled(app, "Progressing", Some(&message), now);
        app.rollout = Some(rollout(canary_status(
            "Progressing",
            waiting,
            0,
            0,
            "Running",
        )));
        workload_health(app, "Progressing", Some(waiting));
    })
}

/// The abort message of a failed canary analysis.
pub const ABORTED: &str = "RolloutAborted: Rollout aborted update to revision 7: metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)";

/// `x` syncs as a Rollout and the canary's analysis fails: the Rollout
/// aborts (`abort: true`, phase Degraded), the app is Degraded, still
/// Synced at `x`.
pub fn rollout_aborted(x0: &str, x: &str) -> Timeline {
    canary_start(x0, x).then(|app, now| {
        let message = format!("Caused by {}", workload_ref(app));
        reconciled(app, "Degraded", Some(&message), now);
        let mut status = canary_status("Degraded", ABORTED, 1, 0, "Failed");
        status["abort"] = json!(true);
        status["abortedAt"] = json!(super::model::rfc3339(now));
        status["canary"]["currentStepAnalysisRunStatus"]["message"] =
            json!("metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)");
        app.rollout = Some(rollout(status));
        workload_health(app, "Degraded", Some(ABORTED));
    })
}

/// The deny window of [`sync_window`].
fn deny_window() -> Value {
    json!({
        "kind": "deny", "schedule": "0 9 * * *", "duration": "2h",
        "applications": ["*"], "manualSync": false, "timeZone": "UTC",
    })
}

/// OutOfSync at `x` while a deny window is active (`canSync` false, a
/// sync POST gets 403) for three reads, then the window closes and the
/// auto-sync runs through to Healthy.
pub fn sync_window(x0: &str, x: &str) -> Timeline {
    let timeline = noticed(x0, x)
        .then(|app, _| {
            app.windows = SyncWindows {
                active: vec![deny_window()],
                assigned: vec![deny_window()],
                can_sync: false,
            };
        })
        .hold(Hold::Reads(STALE_READS))
        .then(|app, _| {
            app.windows.active.clear();
            app.windows.can_sync = true;
        });
    auto_synced(timeline, x)
}

/// The app goes from `x0` straight to Synced and Healthy at `y`, a commit
/// after `x`: the sync of `y` Succeeded.
pub fn superseded(x0: &str, _x: &str, y: &str) -> Timeline {
    stale(x0).then(|app, now| {
        compared(app, y, now - 6);
        sync_started(app, y, Initiator::Automated, now - 4);
        sync_succeeded(app, now - 2);
        healthy(app, now);
    })
}
