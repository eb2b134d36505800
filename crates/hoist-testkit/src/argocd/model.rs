//! A small model of an Argo CD `Application`, rendered as the API's JSON
//! (`v1alpha1Application` in argo-cd's `assets/swagger.json`; field meanings
//! in `pkg/apis/application/v1alpha1/types.go`).
//!
//! The fields a timeline changes are typed; lists whose entries vary a lot
//! (resource results, windows, the live Rollout) are plain JSON, and
//! `spec_extra`/`status_extra` add anything else.

use serde_json::{Map, Value, json};

/// A time on the stand-in clock: seconds since the Unix epoch.
pub type Time = i64;

/// One Application, as one state of a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (`argocd`).
    pub namespace: String,
    /// `metadata.generation`.
    pub generation: u64,
    /// `spec.project`.
    pub project: String,
    /// `spec.source`.
    pub source: Source,
    /// `spec.destination`: `(server, namespace)`.
    pub destination: (String, String),
    /// `spec.syncPolicy.automated` (prune and self-heal) when set.
    pub automated: bool,
    /// `status.sync`.
    pub sync: SyncStatus,
    /// `status.health`.
    pub health: Health,
    /// The top-level `operation`: set while one is requested or running.
    pub operation: Option<Operation>,
    /// `status.operationState`.
    pub operation_state: Option<OperationState>,
    /// `status.reconciledAt`.
    pub reconciled_at: Option<Time>,
    /// `status.conditions`.
    pub conditions: Vec<Condition>,
    /// `status.history`, oldest first.
    pub history: Vec<History>,
    /// `status.summary.images`.
    pub images: Vec<String>,
    /// `status.resources`: `{group, version, kind, namespace, name, status,
    /// health}` objects.
    pub resources: Vec<Value>,
    /// The live Rollout that `GET …/resource?kind=Rollout…` answers with.
    pub rollout: Option<Value>,
    /// What `GET …/syncwindows` answers.
    pub windows: SyncWindows,
    /// Merged into `spec`.
    pub spec_extra: Map<String, Value>,
    /// Merged into `status`.
    pub status_extra: Map<String, Value>,
}

/// `spec.source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `repoURL`.
    pub repo_url: String,
    /// `path`.
    pub path: String,
    /// `targetRevision`, such as `main`.
    pub target_revision: String,
}

/// `status.sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    /// `Synced`, `OutOfSync` or `Unknown`.
    pub status: String,
    /// The revision the last comparison resolved.
    pub revision: String,
    /// Multi-source apps: one revision per source (left out when empty).
    pub revisions: Vec<String>,
}

/// `status.health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing`, `Unknown`.
    pub status: String,
    /// Why, for anything but Healthy: "Caused by apps/Deployment:ns/name".
    pub message: Option<String>,
    /// `lastTransitionTime`.
    pub since: Option<Time>,
}

impl Health {
    /// A health status with a message.
    pub fn new(status: &str, message: Option<&str>, since: Time) -> Self {
        Self {
            status: status.to_owned(),
            message: message.map(String::from),
            since: Some(since),
        }
    }
}

/// Who started an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Initiator {
    /// The controller's auto-sync.
    Automated,
    /// A user or token subject.
    User(String),
}

/// A sync operation (`operation` and `operationState.operation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `sync.revision`.
    pub revision: String,
    /// `sync.prune`.
    pub prune: bool,
    /// `initiatedBy`.
    pub initiated_by: Initiator,
    /// `retry.limit`, when the app retries.
    pub retry_limit: Option<u32>,
}

/// `status.operationState`.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationState {
    /// The operation.
    pub operation: Operation,
    /// `Running`, `Terminating`, `Failed`, `Error` or `Succeeded`.
    pub phase: String,
    /// The controller's message.
    pub message: String,
    /// `syncResult`, once there is one.
    pub sync_result: Option<SyncResult>,
    /// `startedAt`.
    pub started_at: Time,
    /// `finishedAt` — set during a retry too, with `phase` still `Running`.
    pub finished_at: Option<Time>,
    /// `retryCount` (left out when zero).
    pub retry_count: u32,
}

/// `operationState.syncResult`.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncResult {
    /// The revision synced.
    pub revision: String,
    /// `ResourceResult` objects: `{group, version, kind, namespace, name,
    /// status, message, hookType, hookPhase, syncPhase}`.
    pub resources: Vec<Value>,
}

/// One of `status.conditions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// `type`: `SyncError`, `ComparisonError`, …
    pub kind: String,
    /// `message`.
    pub message: String,
    /// `lastTransitionTime`.
    pub at: Time,
}

/// One of `status.history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// `id`.
    pub id: u64,
    /// `revision`.
    pub revision: String,
    /// `deployStartedAt`.
    pub started_at: Time,
    /// `deployedAt`.
    pub deployed_at: Time,
    /// `initiatedBy`.
    pub initiated_by: Initiator,
}

/// `GET …/syncwindows`: `{activeWindows, assignedWindows, canSync}`.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncWindows {
    /// Windows in effect now (`{kind, schedule, duration, …}`).
    pub active: Vec<Value>,
    /// Windows that apply to the app.
    pub assigned: Vec<Value>,
    /// Whether a sync may run now; a sync POSTed while false gets a 403.
    pub can_sync: bool,
}

impl Default for SyncWindows {
    fn default() -> Self {
        Self {
            active: Vec::new(),
            assigned: Vec::new(),
            can_sync: true,
        }
    }
}

impl SyncWindows {
    /// The answer's JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "activeWindows": self.active,
            "assignedWindows": self.assigned,
            "canSync": self.can_sync,
        })
    }
}

impl App {
    /// An app named `name` in project `default`, Synced and Healthy at
    /// `revision`, with nothing else: the start of a hand-built timeline.
    pub fn new(name: &str, revision: &str) -> Self {
        Self {
            name: name.to_owned(),
            namespace: "argocd".to_owned(),
            generation: 1,
            project: "default".to_owned(),
            source: Source {
                repo_url: "https://github.com/acme/gitops.git".to_owned(),
                path: format!("apps/{name}"),
                target_revision: "main".to_owned(),
            },
            destination: ("https://kubernetes.default.svc".to_owned(), name.to_owned()),
            automated: true,
            sync: SyncStatus {
                status: "Synced".to_owned(),
                revision: revision.to_owned(),
                revisions: Vec::new(),
            },
            health: Health {
                status: "Healthy".to_owned(),
                message: None,
                since: None,
            },
            operation: None,
            operation_state: None,
            reconciled_at: None,
            conditions: Vec::new(),
            history: Vec::new(),
            images: Vec::new(),
            resources: Vec::new(),
            rollout: None,
            windows: SyncWindows::default(),
            spec_extra: Map::new(),
            status_extra: Map::new(),
        }
    }

    /// The Application as the API sends it.
    pub fn to_json(&self, resource_version: u64) -> Value {
        let source = json!({
            "repoURL": self.source.repo_url,
            "path": self.source.path,
            "targetRevision": self.source.target_revision,
        });
        let destination = json!({"server": self.destination.0, "namespace": self.destination.1});
        let mut spec = json!({
            "project": self.project,
            "source": source,
            "destination": destination,
        });
        if self.automated {
            spec["syncPolicy"] = json!({"automated": {"prune": true, "selfHeal": true}});
        }
        merge(&mut spec, &self.spec_extra);
        let mut sync = json!({
            "status": self.sync.status,
            "revision": self.sync.revision,
            "comparedTo": {"source": source, "destination": destination},
        });
        if !self.sync.revisions.is_empty() {
            sync["revisions"] = json!(self.sync.revisions);
        }
        let mut health = json!({"status": self.health.status});
        set(
            &mut health,
            "message",
            self.health.message.as_deref().map(Value::from),
        );
        set(
            &mut health,
            "lastTransitionTime",
            self.health.since.map(rfc3339).map(Value::from),
        );
        let mut status = json!({
            "sync": sync,
            "health": health,
            "resources": self.resources,
            "summary": {"images": self.images},
            "sourceType": "Kustomize",
            "controllerNamespace": "argocd",
        });
        set(
            &mut status,
            "operationState",
            self.operation_state.as_ref().map(OperationState::to_json),
        );
        set(
            &mut status,
            "reconciledAt",
            self.reconciled_at.map(rfc3339).map(Value::from),
        );
        if !self.conditions.is_empty() {
            status["conditions"] = self.conditions.iter().map(Condition::to_json).collect();
        }
        if !self.history.is_empty() {
            status["history"] = self.history.iter().map(History::to_json).collect();
        }
        merge(&mut status, &self.status_extra);
        let mut app = json!({
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "resourceVersion": resource_version.to_string(),
                "generation": self.generation,
            },
            "spec": spec,
            "status": status,
        });
        set(
            &mut app,
            "operation",
            self.operation.as_ref().map(Operation::to_json),
        );
        app
    }

    /// Whether an operation is requested or running: a sync POSTed now gets
    /// "another operation is already in progress".
    pub fn operation_in_progress(&self) -> bool {
        self.operation.is_some()
            || self
                .operation_state
                .as_ref()
                .is_some_and(|state| matches!(state.phase.as_str(), "Running" | "Terminating"))
    }
}

impl Initiator {
    fn to_json(&self) -> Value {
        match self {
            Self::Automated => json!({"automated": true}),
            Self::User(name) => json!({"username": name}),
        }
    }
}

impl Operation {
    fn to_json(&self) -> Value {
        let mut operation = json!({
            "sync": {"revision": self.revision, "prune": self.prune, "syncOptions": ["CreateNamespace=true"]},
            "initiatedBy": self.initiated_by.to_json(),
        });
        set(
            &mut operation,
            "retry",
            self.retry_limit.map(|limit| json!({"limit": limit})),
        );
        operation
    }
}

impl OperationState {
    fn to_json(&self) -> Value {
        let mut state = json!({
            "operation": self.operation.to_json(),
            "phase": self.phase,
            "message": self.message,
            "startedAt": rfc3339(self.started_at),
        });
        set(
            &mut state,
            "finishedAt",
            self.finished_at.map(rfc3339).map(Value::from),
        );
        if self.retry_count > 0 {
            state["retryCount"] = json!(self.retry_count);
        }
        set(
            &mut state,
            "syncResult",
            self.sync_result
                .as_ref()
                .map(|result| json!({"revision": result.revision, "resources": result.resources})),
        );
        state
    }
}

impl Condition {
    fn to_json(&self) -> Value {
        json!({"type": self.kind, "message": self.message, "lastTransitionTime": rfc3339(self.at)})
    }
}

impl History {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "revision": self.revision,
            "deployStartedAt": rfc3339(self.started_at),
            "deployedAt": rfc3339(self.deployed_at),
            "initiatedBy": self.initiated_by.to_json(),
        })
    }
}

/// Sets `key` when there is a value.
fn set(object: &mut Value, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        object[key] = value;
    }
}

fn merge(object: &mut Value, extra: &Map<String, Value>) {
    for (key, value) in extra {
        object[key.as_str()] = value.clone();
    }
}

/// `2026-08-20T10:12:03Z`, as Kubernetes writes times.
pub fn rfc3339(time: Time) -> String {
    crate::github::iso8601(time)
}

/// Go's `time.Kitchen` (`3:04PM`), in UTC: how the retry message names the
/// next attempt.
pub fn kitchen(time: Time) -> String {
    let seconds = time.rem_euclid(86_400);
    let (hour, minute) = (seconds / 3600, seconds % 3600 / 60);
    let (hour12, half) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!("{hour12}:{minute:02}{half}")
}
