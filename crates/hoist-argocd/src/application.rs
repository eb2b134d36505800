//! An Application's status, read field by field (see Argo CD's
//! `pkg/apis/application/v1alpha1/types.go` for the shapes).

use serde_json::Value;

/// An Argo CD Application as the API returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Application(pub Value);

/// One resource the application manages, from `status.resources` or
/// `operationState.syncResult.resources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// API group (`argoproj.io`, empty for the core group).
    pub group: String,
    /// API version (`v1alpha1`).
    pub version: String,
    /// Kind (`Deployment`, `Rollout`).
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Sync or health status, whichever the list holds.
    pub status: String,
    /// Argo CD's message for it, if any.
    pub message: String,
}

impl Resource {
    fn from(value: &Value, status: &str) -> Self {
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        Self {
            group: text("group"),
            version: text("version"),
            kind: text("kind"),
            namespace: text("namespace"),
            name: text("name"),
            status: status.to_owned(),
            message: text("message"),
        }
    }

    /// `Kind namespace/name: status (message)`.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{} {}/{}: {}",
            self.kind, self.namespace, self.name, self.status
        );
        if !self.message.is_empty() {
            text.push_str(&format!(" ({})", self.message));
        }
        text
    }
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl Application {
    /// `metadata.resourceVersion`, which grows with every change.
    pub fn resource_version(&self) -> Option<&str> {
        str_at(&self.0, "/metadata/resourceVersion")
    }

    /// `status.sync.status`: `Synced`, `OutOfSync` or `Unknown`.
    pub fn sync_status(&self) -> &str {
        str_at(&self.0, "/status/sync/status").unwrap_or("Unknown")
    }

    /// The revisions Argo CD last compared against: `status.sync.revisions`
    /// for multi-source applications, else `[status.sync.revision]`.
    pub fn compared_revisions(&self) -> Vec<&str> {
        revisions(&self.0, "/status/sync")
    }

    /// `status.health.status`.
    pub fn health(&self) -> &str {
        str_at(&self.0, "/status/health/status").unwrap_or("Unknown")
    }

    /// `status.health.message`.
    pub fn health_message(&self) -> &str {
        str_at(&self.0, "/status/health/message").unwrap_or_default()
    }

    /// Whether an operation is requested and not yet picked up, or still
    /// running (Argo CD keeps `phase: Running` while it retries).
    pub fn operation_in_flight(&self) -> bool {
        !self.0["operation"].is_null()
            || matches!(self.operation_phase(), Some("Running" | "Terminating"))
    }

    /// `status.operationState.phase`.
    pub fn operation_phase(&self) -> Option<&str> {
        str_at(&self.0, "/status/operationState/phase")
    }

    /// `status.operationState.message`.
    pub fn operation_message(&self) -> &str {
        str_at(&self.0, "/status/operationState/message").unwrap_or_default()
    }

    /// The revisions the last operation synced (its result), or was asked
    /// to sync while it has no result yet.
    pub fn operation_revisions(&self) -> Vec<&str> {
        let result = revisions(&self.0, "/status/operationState/syncResult");
        if result.is_empty() {
            revisions(&self.0, "/status/operationState/operation/sync")
        } else {
            result
        }
    }

    /// `status.operationState.finishedAt` (RFC 3339).
    pub fn operation_finished_at(&self) -> Option<&str> {
        str_at(&self.0, "/status/operationState/finishedAt")
    }

    /// `status.reconciledAt` (RFC 3339).
    pub fn reconciled_at(&self) -> Option<&str> {
        str_at(&self.0, "/status/reconciledAt")
    }

    /// `status.conditions` as `(type, message)`.
    pub fn conditions(&self) -> Vec<(&str, &str)> {
        self.0["status"]["conditions"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| {
                        (
                            c["type"].as_str().unwrap_or_default(),
                            c["message"].as_str().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Resources and hooks of the last operation that failed.
    pub fn failed_resources(&self) -> Vec<Resource> {
        list(&self.0, "/status/operationState/syncResult/resources")
            .filter_map(|r| {
                let hook = r["hookPhase"].as_str().unwrap_or_default();
                let status = r["status"].as_str().unwrap_or_default();
                (status == "SyncFailed" || matches!(hook, "Failed" | "Error"))
                    .then(|| Resource::from(r, if status == "SyncFailed" { status } else { hook }))
            })
            .collect()
    }

    /// Resources whose health is not Healthy (or absent).
    pub fn unhealthy_resources(&self) -> Vec<Resource> {
        list(&self.0, "/status/resources")
            .filter_map(|r| {
                let health = r["health"]["status"].as_str()?;
                (health != "Healthy").then(|| {
                    let mut resource = Resource::from(r, health);
                    resource.message = r["health"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    resource
                })
            })
            .collect()
    }

    /// Whether `spec.syncPolicy.automated` is set.
    pub fn automated(&self) -> bool {
        self.0
            .pointer("/spec/syncPolicy/automated")
            .is_some_and(|a| !a.is_null())
    }

    /// `status.summary.images`.
    pub fn images(&self) -> Vec<&str> {
        list(&self.0, "/status/summary/images")
            .filter_map(Value::as_str)
            .collect()
    }
}

fn revisions<'a>(value: &'a Value, at: &str) -> Vec<&'a str> {
    let many: Vec<&str> = value
        .pointer(&format!("{at}/revisions"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !many.is_empty() {
        return many;
    }
    str_at(value, &format!("{at}/revision"))
        .into_iter()
        .collect()
}

fn list<'a>(value: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_fields_a_wait_decides_on() {
        let app = Application(json!({
            "operation": null,
            "spec": {"syncPolicy": {"automated": {"prune": true}}},
            "status": {
                "sync": {"status": "Synced", "revision": "abc"},
                "health": {"status": "Degraded", "message": "Caused by apps/Deployment:pay/api"},
                "operationState": {"phase": "Failed", "message": "one or more objects failed to apply",
                    "syncResult": {"revision": "abc", "resources": [
                        {"kind": "Job", "namespace": "pay", "name": "db-migrate", "hookType": "PreSync", "hookPhase": "Failed", "message": "backoff limit"},
                        {"kind": "Service", "namespace": "pay", "name": "api", "status": "Synced"}]},
                    "finishedAt": "2026-08-20T10:19:41Z"},
                "resources": [{"kind": "Deployment", "namespace": "pay", "name": "api", "health": {"status": "Degraded", "message": "crash loop"}}],
                "summary": {"images": ["repo/api:1.2.3"]}
            }
        }));
        assert_eq!(app.compared_revisions(), ["abc"]);
        assert_eq!(app.operation_revisions(), ["abc"]);
        assert!(!app.operation_in_flight());
        assert!(app.automated());
        assert_eq!(
            app.failed_resources()[0].describe(),
            "Job pay/db-migrate: Failed (backoff limit)"
        );
        assert_eq!(
            app.unhealthy_resources()[0].describe(),
            "Deployment pay/api: Degraded (crash loop)"
        );
        assert_eq!(app.images(), ["repo/api:1.2.3"]);
    }

    #[test]
    fn multi_source_revisions_win_over_the_single_one() {
        let app =
            Application(json!({"status": {"sync": {"revision": "a", "revisions": ["b", "c"]}}}));
        assert_eq!(app.compared_revisions(), ["b", "c"]);
    }
}
