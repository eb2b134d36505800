//! The changes timelines are made of, as the controller makes them: compare
//! a revision, start a sync, finish it, reconcile health. Presets use them;
//! tests composing their own timelines can too.
//!
//! Wordings are gitops-engine's and the controller's (`sync_context.go`,
//! `appcontroller.go`): "one or more tasks are running", "successfully
//! synced (all tasks run)", "Failed last sync attempt to [<rev>]: <msg>".

use serde_json::{Value, json};

use super::model::{
    App, Condition, Health, History, Initiator, Operation, OperationState, SyncResult, Time,
};

/// The workload every preset deploys: `payments/payments-api`.
pub const WORKLOAD: (&str, &str) = ("payments", "payments-api");

/// The image the workload runs, without a tag.
pub const IMAGE: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments-api";

/// The image tag a revision deploys: the first seven hex digits.
pub fn image_for(revision: &str) -> String {
    format!("{IMAGE}:{}", &revision[..revision.len().min(7)])
}

/// A `status.resources` entry in the workload's namespace.
pub fn resource(
    kind: (&str, &str, &str),
    name: &str,
    health: &str,
    message: Option<&str>,
) -> Value {
    let (group, version, kind) = kind;
    let mut health = json!({"status": health});
    if let Some(message) = message {
        health["message"] = json!(message);
    }
    json!({
        "group": group, "version": version, "kind": kind,
        "namespace": WORKLOAD.0, "name": name,
        "status": "Synced", "health": health,
    })
}

/// `apps/v1 Deployment`.
pub const DEPLOYMENT: (&str, &str, &str) = ("apps", "v1", "Deployment");
/// `argoproj.io/v1alpha1 Rollout`.
pub const ROLLOUT: (&str, &str, &str) = ("argoproj.io", "v1alpha1", "Rollout");

/// The app `name` in project `payments`, auto-synced, Synced and Healthy at
/// `revision`, deployed by an automated sync an hour before `start`,
/// running the workload as a Deployment.
pub fn deployed(name: &str, revision: &str, start: Time) -> App {
    let mut app = App::new(name, revision);
    app.project = WORKLOAD.0.to_owned();
    app.source.path = format!("apps/{}/overlays/prod", WORKLOAD.1);
    app.destination.1 = WORKLOAD.0.to_owned();
    app.generation = 412;
    let (began, ended) = (start - 3600, start - 3598);
    app.operation_state = Some(OperationState {
        operation: operation(revision, Initiator::Automated),
        phase: "Succeeded".to_owned(),
        message: "successfully synced (all tasks run)".to_owned(),
        sync_result: Some(SyncResult {
            revision: revision.to_owned(),
            resources: vec![applied(DEPLOYMENT, "configured")],
        }),
        started_at: began,
        finished_at: Some(ended),
        retry_count: 0,
    });
    app.history = vec![History {
        id: 57,
        revision: revision.to_owned(),
        started_at: began,
        deployed_at: ended,
        initiated_by: Initiator::Automated,
    }];
    app.reconciled_at = Some(start - 60);
    app.health = Health::new("Healthy", None, ended);
    app.images = vec![image_for(revision)];
    app.resources = vec![
        resource(DEPLOYMENT, WORKLOAD.1, "Healthy", None),
        resource(("", "v1", "Service"), WORKLOAD.1, "Healthy", None),
    ];
    app
}

/// A sync operation to `revision` that prunes and retries twice.
pub fn operation(revision: &str, initiated_by: Initiator) -> Operation {
    Operation {
        revision: revision.to_owned(),
        prune: true,
        initiated_by,
        retry_limit: Some(2),
    }
}

/// A `syncResult` entry for the workload (`kind`), "`<kind>/<name> <verb>`".
pub fn applied(kind: (&str, &str, &str), verb: &str) -> Value {
    let (group, version, kind_name) = kind;
    json!({
        "group": group, "version": version, "kind": kind_name,
        "namespace": WORKLOAD.0, "name": WORKLOAD.1,
        "status": "Synced",
        "message": format!("{}/{} {verb}", kind_name.to_ascii_lowercase(), WORKLOAD.1),
        "hookPhase": "Running", "syncPhase": "Sync",
    })
}

/// The controller compared `revision`: OutOfSync at it, reconciled `now`.
pub fn compared(app: &mut App, revision: &str, now: Time) {
    app.sync.status = "OutOfSync".to_owned();
    revision.clone_into(&mut app.sync.revision);
    app.reconciled_at = Some(now);
}

/// A sync to `revision` started `now`: `operation` set, phase Running.
pub fn sync_started(app: &mut App, revision: &str, initiated_by: Initiator, now: Time) {
    let operation = operation(revision, initiated_by);
    app.operation = Some(operation.clone());
    app.operation_state = Some(OperationState {
        operation,
        phase: "Running".to_owned(),
        message: "one or more tasks are running".to_owned(),
        sync_result: None,
        started_at: now,
        finished_at: None,
        retry_count: 0,
    });
}

/// The running sync succeeded `now`: Synced at its revision, history
/// appended, `operation` cleared; health and `reconciledAt` are left as
/// they were (stale) until [`reconciled`].
pub fn sync_succeeded(app: &mut App, now: Time) {
    let state = app.operation_state.as_mut().expect("a sync is running");
    let revision = state.operation.revision.clone();
    state.phase = "Succeeded".to_owned();
    state.message = "successfully synced (all tasks run)".to_owned();
    state.finished_at = Some(now);
    let kind = if app.rollout.is_some() {
        ROLLOUT
    } else {
        DEPLOYMENT
    };
    state.sync_result = Some(SyncResult {
        revision: revision.clone(),
        resources: vec![applied(kind, "configured")],
    });
    let history = History {
        id: app.history.last().map_or(1, |h| h.id + 1),
        revision: revision.clone(),
        started_at: state.started_at,
        deployed_at: now,
        initiated_by: state.operation.initiated_by.clone(),
    };
    app.history.push(history);
    app.operation = None;
    app.sync.status = "Synced".to_owned();
    app.sync.revision = revision;
    app.conditions.retain(|c| c.kind != "SyncError");
}

/// The running sync failed `now` with `message` and these results: phase
/// Failed, `operation` cleared, the `SyncError` condition auto-sync leaves.
pub fn sync_failed(app: &mut App, message: &str, resources: Vec<Value>, now: Time) {
    let state = app.operation_state.as_mut().expect("a sync is running");
    let revision = state.operation.revision.clone();
    state.phase = "Failed".to_owned();
    message.clone_into(&mut state.message);
    state.finished_at = Some(now);
    state.sync_result = Some(SyncResult {
        revision: revision.clone(),
        resources,
    });
    app.operation = None;
    app.conditions.retain(|c| c.kind != "SyncError");
    app.conditions.push(Condition {
        kind: "SyncError".to_owned(),
        message: format!("Failed last sync attempt to [{revision}]: {message}"),
        at: now + 1,
    });
}

/// The controller reconciled `now`: `reconciledAt` moves, health is
/// `health` (with `message`), and the images are the synced revision's.
pub fn reconciled(app: &mut App, health: &str, message: Option<&str>, now: Time) {
    app.reconciled_at = Some(now);
    if app.health.status != health || app.health.message.as_deref() != message {
        app.health = Health::new(health, message, now);
    }
    app.images = vec![image_for(&app.sync.revision)];
}

/// Sets the workload's health in `status.resources` (the first resource).
pub fn workload_health(app: &mut App, health: &str, message: Option<&str>) {
    let kind = if app.rollout.is_some() {
        ROLLOUT
    } else {
        DEPLOYMENT
    };
    app.resources[0] = resource(kind, WORKLOAD.1, health, message);
}
