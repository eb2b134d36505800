//! What an Application's state means for the revision being waited for.
//!
//! The order matters (see the crate docs): a revision counts as deployed
//! only when Argo CD compared it, synced it and reconciled after the sync;
//! only then does health count. Failures of older revisions are ignored.

use hoist_argocd::Application;

/// The verdict on one state of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not there yet; says what is being waited for.
    Waiting(String),
    /// Argo CD compared the revision and it is out of sync, and no sync
    /// runs: automated sync has yet to start it (or a sync window holds
    /// it), or a manual-sync app waits for someone (or `sync: true`).
    OutOfSync {
        /// Whether the app syncs by itself.
        automated: bool,
    },
    /// Synced and done at another revision, which may contain ours.
    AtOther(String),
    /// Deployed, reconciled and Healthy.
    Healthy,
    /// Deployed and Suspended (a paused canary, usually).
    Suspended(String),
    /// The sync of this revision failed.
    SyncFailed(String),
    /// Deployed, and Degraded or Missing.
    Unhealthy(String),
}

impl State {
    /// One line for the log and the timeline.
    pub fn describe(&self) -> String {
        match self {
            Self::Waiting(reason) => reason.clone(),
            Self::OutOfSync { automated: true } => {
                "OutOfSync; waiting for the automated sync".into()
            }
            Self::OutOfSync { automated: false } => {
                "OutOfSync; waiting for a sync (the app has no automated sync)".into()
            }
            Self::AtOther(revision) => format!("Synced at {}", short(revision)),
            Self::Healthy => "Synced and Healthy".into(),
            Self::Suspended(message) => format!("Suspended: {message}"),
            Self::SyncFailed(message) => format!("sync failed: {message}"),
            Self::Unhealthy(message) => message.clone(),
        }
    }
}

/// The first seven characters of a commit.
pub fn short(revision: &str) -> &str {
    &revision[..revision.len().min(7)]
}

/// Decides what `app`'s state means for `revision`.
pub fn decide(app: &Application, revision: &str) -> State {
    let ours = |revisions: Vec<&str>| revisions.iter().any(|r| r.eq_ignore_ascii_case(revision));
    let operation_is_ours = ours(app.operation_revisions());

    // Failures of this revision.
    if operation_is_ours
        && matches!(app.operation_phase(), Some("Failed" | "Error"))
        && !app.operation_in_flight()
    {
        return State::SyncFailed(with_details(
            app.operation_message(),
            app.failed_resources().iter().map(|r| r.describe()),
        ));
    }
    if let Some((_, message)) = app
        .conditions()
        .into_iter()
        .find(|(kind, message)| *kind == "SyncError" && message.contains(revision))
    {
        return State::SyncFailed(with_details(
            message,
            app.failed_resources().iter().map(|r| r.describe()),
        ));
    }

    // In flight.
    if app.operation_in_flight() {
        let of = app
            .operation_revisions()
            .first()
            .map_or("", |r| short(r))
            .to_owned();
        let message = app.operation_message();
        return State::Waiting(if message.is_empty() {
            format!("sync of {of} running")
        } else {
            format!("sync of {of} running: {message}")
        });
    }

    // Deployed, not just compared.
    let compared = ours(app.compared_revisions());
    let synced = app.sync_status() == "Synced";
    let succeeded = app.operation_phase() == Some("Succeeded");
    // In a monorepo the compared revision is often a later commit that
    // changed only other apps: Argo CD moves `sync.revision` on, stays
    // Synced and starts no operation, so the last sync (ours) still stands.
    let ours_then_unchanged = synced && succeeded && operation_is_ours;
    if !compared && !ours_then_unchanged {
        return match (synced, app.compared_revisions().first(), succeeded) {
            // Synced and done at another commit: it may contain ours.
            (true, Some(other), true) => State::AtOther((*other).to_owned()),
            (_, Some(other), _) => State::Waiting(format!(
                "Argo CD has not compared {} yet (it is at {})",
                short(revision),
                short(other)
            )),
            (_, None, _) => {
                State::Waiting(format!("Argo CD has not compared {} yet", short(revision)))
            }
        };
    }
    if !synced {
        return State::OutOfSync {
            automated: app.automated(),
        };
    }
    if !(operation_is_ours && succeeded) {
        return State::Waiting(format!(
            "Synced at {} but no sync of it has finished yet",
            short(revision)
        ));
    }

    // Fresh: a reconcile after the sync, before health counts.
    match (app.reconciled_at(), app.operation_finished_at()) {
        (Some(reconciled), Some(finished)) if reconciled >= finished => {}
        _ => {
            return State::Waiting(
                "synced; waiting for Argo CD to reconcile after the sync".into(),
            );
        }
    }

    // Health.
    match app.health() {
        "Healthy" => State::Healthy,
        "Suspended" => State::Suspended(app.health_message().to_owned()),
        "Degraded" | "Missing" => State::Unhealthy(with_details(
            &format!("{}: {}", app.health(), app.health_message()),
            app.unhealthy_resources().iter().map(|r| r.describe()),
        )),
        other => {
            let message = app.health_message();
            State::Waiting(if message.is_empty() {
                other.to_owned()
            } else {
                format!("{other}: {message}")
            })
        }
    }
}

fn with_details(message: &str, details: impl Iterator<Item = String>) -> String {
    let details: Vec<String> = details.collect();
    if details.is_empty() {
        message.to_owned()
    } else {
        format!("{message}\n  {}", details.join("\n  "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const X: &str = "8c2f4b1e9d0a7c3b5e6f1a2d4c8b9e0f1a2b3c4d";
    const OLD: &str = "3b9d0e2f00000000000000000000000000000000";

    fn app(
        sync: &str,
        compared: &str,
        phase: &str,
        op_rev: &str,
        reconciled: &str,
        health: &str,
    ) -> Application {
        Application(json!({
            "spec": {"syncPolicy": {"automated": {}}},
            "status": {
                "sync": {"status": sync, "revision": compared},
                "health": {"status": health},
                "operationState": {"phase": phase, "syncResult": {"revision": op_rev}, "finishedAt": "2026-08-20T10:12:05Z", "message": "msg"},
                "reconciledAt": reconciled,
            }
        }))
    }

    #[test]
    fn stale_synced_at_the_old_revision_is_not_done() {
        let state = decide(
            &app(
                "Synced",
                OLD,
                "Succeeded",
                OLD,
                "2026-08-20T10:15:00Z",
                "Healthy",
            ),
            X,
        );
        assert_eq!(state, State::AtOther(OLD.into()));
    }

    #[test]
    fn synced_and_healthy_but_not_reconciled_after_the_sync_waits() {
        let state = decide(
            &app(
                "Synced",
                X,
                "Succeeded",
                X,
                "2026-08-20T10:12:00Z",
                "Healthy",
            ),
            X,
        );
        assert!(
            matches!(state, State::Waiting(ref r) if r.contains("reconcile")),
            "{state:?}"
        );
        let state = decide(
            &app(
                "Synced",
                X,
                "Succeeded",
                X,
                "2026-08-20T10:12:06Z",
                "Healthy",
            ),
            X,
        );
        assert_eq!(state, State::Healthy);
    }

    #[test]
    fn an_old_revision_s_failure_is_ignored_and_ours_fails() {
        let state = decide(
            &app(
                "OutOfSync",
                X,
                "Failed",
                OLD,
                "2026-08-20T10:15:00Z",
                "Degraded",
            ),
            X,
        );
        assert!(matches!(state, State::OutOfSync { .. }), "{state:?}");
        let state = decide(
            &app(
                "OutOfSync",
                X,
                "Failed",
                X,
                "2026-08-20T10:15:00Z",
                "Degraded",
            ),
            X,
        );
        assert!(matches!(state, State::SyncFailed(_)), "{state:?}");
    }

    #[test]
    fn a_retrying_operation_is_in_flight_even_with_finished_at() {
        let state = decide(
            &app(
                "OutOfSync",
                X,
                "Running",
                X,
                "2026-08-20T10:15:00Z",
                "Healthy",
            ),
            X,
        );
        assert!(
            matches!(state, State::Waiting(ref r) if r.contains("running")),
            "{state:?}"
        );
    }

    #[test]
    fn manual_apps_out_of_sync_need_a_sync() {
        let mut manual = app(
            "OutOfSync",
            X,
            "Succeeded",
            OLD,
            "2026-08-20T10:15:00Z",
            "Healthy",
        );
        manual.0["spec"] = Value::Null;
        assert_eq!(decide(&manual, X), State::OutOfSync { automated: false });
    }

    /// A later commit that changed only other apps.
    const NEWER: &str = "f00dfeed00000000000000000000000000000000";

    #[test]
    fn compared_at_a_newer_commit_after_our_sync_decides_on_freshness_and_health() {
        // Our sync Succeeded; then Argo CD compared a later commit that
        // touched only other apps: still Synced, no new operation.
        let fresh = app(
            "Synced",
            NEWER,
            "Succeeded",
            X,
            "2026-08-20T10:15:00Z",
            "Healthy",
        );
        assert_eq!(decide(&fresh, X), State::Healthy);
        let stale = app(
            "Synced",
            NEWER,
            "Succeeded",
            X,
            "2026-08-20T10:12:00Z",
            "Healthy",
        );
        assert!(
            matches!(decide(&stale, X), State::Waiting(ref r) if r.contains("reconcile")),
            "{:?}",
            decide(&stale, X)
        );
        let progressing = app(
            "Synced",
            NEWER,
            "Succeeded",
            X,
            "2026-08-20T10:15:00Z",
            "Progressing",
        );
        assert!(matches!(decide(&progressing, X), State::Waiting(_)));
        let degraded = app(
            "Synced",
            NEWER,
            "Succeeded",
            X,
            "2026-08-20T10:15:00Z",
            "Degraded",
        );
        assert!(matches!(decide(&degraded, X), State::Unhealthy(_)));
    }

    #[test]
    fn compared_at_a_newer_commit_is_not_ours_deployed_when_our_sync_failed() {
        let failed = app(
            "Synced",
            NEWER,
            "Failed",
            X,
            "2026-08-20T10:15:00Z",
            "Healthy",
        );
        assert!(
            matches!(decide(&failed, X), State::SyncFailed(_)),
            "{:?}",
            decide(&failed, X)
        );
    }

    #[test]
    fn compared_at_a_newer_commit_after_an_older_sync_is_another_revision() {
        // The last sync was of an older commit: ours was never synced by
        // it, so this is Argo CD at another revision (superseded only if
        // that one contains ours), never Healthy for ours.
        let older = app(
            "Synced",
            NEWER,
            "Succeeded",
            OLD,
            "2026-08-20T10:15:00Z",
            "Healthy",
        );
        assert_eq!(decide(&older, X), State::AtOther(NEWER.into()));
        // Out of sync at the newer commit, the older sync is not ours either.
        let out = app(
            "OutOfSync",
            NEWER,
            "Succeeded",
            OLD,
            "2026-08-20T10:15:00Z",
            "Healthy",
        );
        assert!(matches!(decide(&out, X), State::Waiting(ref r) if r.contains("not compared")));
    }

    #[test]
    fn compared_at_a_newer_commit_with_a_newer_operation_in_flight_waits() {
        let mut running = app(
            "OutOfSync",
            NEWER,
            "Running",
            NEWER,
            "2026-08-20T10:15:00Z",
            "Healthy",
        );
        running.0["operation"] = json!({"sync": {"revision": NEWER}});
        running.0["status"]["operationState"]["syncResult"] = Value::Null;
        running.0["status"]["operationState"]["operation"] = json!({"sync": {"revision": NEWER}});
        let state = decide(&running, X);
        assert!(
            matches!(state, State::Waiting(ref r) if r.contains("sync of f00dfee running")),
            "{state:?}"
        );
        // Even if the last result still names ours, a sync in flight is
        // not a deployed state.
        running.0["status"]["operationState"]["syncResult"] = json!({"revision": X});
        running.0["status"]["sync"]["status"] = json!("Synced");
        assert!(matches!(decide(&running, X), State::Waiting(_)));
    }

    #[test]
    fn degraded_after_our_sync_fails_and_suspended_is_reported() {
        let state = decide(
            &app(
                "Synced",
                X,
                "Succeeded",
                X,
                "2026-08-20T10:15:00Z",
                "Degraded",
            ),
            X,
        );
        assert!(matches!(state, State::Unhealthy(_)));
        let state = decide(
            &app(
                "Synced",
                X,
                "Succeeded",
                X,
                "2026-08-20T10:15:00Z",
                "Suspended",
            ),
            X,
        );
        assert!(matches!(state, State::Suspended(_)));
    }
}
