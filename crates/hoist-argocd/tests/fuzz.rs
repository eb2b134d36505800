//! Property tests over untrusted input: every `Application` accessor answers for any JSON
//! value, never panicking. (The event stream's framing is tested in `client.rs`'s unit tests,
//! where `Events` can be fed chunks.)

use hoist_argocd::Application;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..Config::default()
    }
}

/// An Application as Argo CD 2.x answers it, trimmed: the fields the accessors read.
fn seed() -> Value {
    json!({
        "metadata": {"name": "api", "namespace": "argocd", "resourceVersion": "12345"},
        "spec": {"syncPolicy": {"automated": {"prune": true}}},
        "operation": null,
        "status": {
            "sync": {"status": "Synced", "revision": "abc", "revisions": ["abc", "def"]},
            "health": {"status": "Degraded", "message": "rollout stuck"},
            "reconciledAt": "2024-01-01T00:00:00Z",
            "conditions": [{"type": "SyncError", "message": "boom"}],
            "summary": {"images": ["registry.example/api:1"]},
            "resources": [
                {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "prod", "name": "api",
                 "health": {"status": "Progressing", "message": "waiting"}},
                {"kind": "Service", "name": "api", "health": {"status": "Healthy"}}
            ],
            "operationState": {
                "phase": "Failed", "message": "hook failed", "finishedAt": "2024-01-01T00:01:00Z",
                "operation": {"sync": {"revision": "abc"}},
                "syncResult": {"revision": "abc", "resources": [
                    {"kind": "Job", "name": "migrate", "status": "Synced", "hookPhase": "Failed", "message": "exit 1"},
                    {"kind": "Deployment", "name": "api", "status": "SyncFailed"}
                ]}
            }
        }
    })
}

/// The keys the accessors look at, and a few others.
const KEYS: &[&str] = &[
    "metadata",
    "resourceVersion",
    "spec",
    "syncPolicy",
    "automated",
    "operation",
    "status",
    "sync",
    "revision",
    "revisions",
    "health",
    "message",
    "reconciledAt",
    "conditions",
    "type",
    "summary",
    "images",
    "resources",
    "operationState",
    "phase",
    "finishedAt",
    "syncResult",
    "hookPhase",
    "kind",
    "name",
    "namespace",
    "group",
    "version",
    "",
    "~1",
    "/",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(KEYS).prop_map(String::from), 1 => any::<String>()]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            prop::sample::select(
                &[
                    "Synced",
                    "Healthy",
                    "Running",
                    "Terminating",
                    "SyncFailed",
                    "Failed",
                    "Error",
                    ""
                ][..]
            )
            .prop_map(String::from),
            key(),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// The seed with values replaced at some of its paths (a path given as keys and indexes into
/// what is there), or a value generated from scratch.
fn application() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(
            (
                prop::collection::vec(any::<prop::sample::Index>(), 0..7),
                json_value()
            ),
            1..4
        )
        .prop_map(|replacements| {
            let mut value = seed();
            for (path, replacement) in replacements {
                // Walk down by the indexes, writing a JSON pointer to where the walk ends.
                let mut pointer = String::new();
                let mut at = &value;
                for step in path {
                    match at {
                        Value::Object(map) if !map.is_empty() => {
                            let key = step.get(&map.keys().collect::<Vec<_>>()).as_str();
                            pointer.push('/');
                            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                            at = &map[key];
                        }
                        Value::Array(list) if !list.is_empty() => {
                            let i = step.index(list.len());
                            pointer.push_str(&format!("/{i}"));
                            at = &list[i];
                        }
                        _ => break,
                    }
                }
                if let Some(at) = value.pointer_mut(&pointer) {
                    *at = replacement;
                }
            }
            value
        }),
        json_value(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Every accessor answers; what they answer is consistent with the fields they read.
    #[test]
    fn accessors_answer_any_value(value in application()) {
        let app = Application(value.clone());
        let _ = app.resource_version();
        prop_assert!(!app.sync_status().is_empty());
        prop_assert!(!app.health().is_empty());
        let _ = (app.health_message(), app.operation_message());
        let _ = (app.compared_revisions(), app.operation_revisions());
        let _ = (app.operation_finished_at(), app.reconciled_at(), app.conditions());
        let _ = (app.automated(), app.images());
        if let Some(phase) = app.operation_phase() {
            prop_assert!(!phase.is_empty());
            if matches!(phase, "Running" | "Terminating") {
                prop_assert!(app.operation_in_flight());
            }
        }
        if !value["operation"].is_null() {
            prop_assert!(app.operation_in_flight());
        }
        for resource in app.failed_resources() {
            prop_assert!(matches!(resource.status.as_str(), "SyncFailed" | "Failed" | "Error"));
            prop_assert!(resource.describe().contains(&resource.status));
        }
        for resource in app.unhealthy_resources() {
            prop_assert_ne!(resource.status.as_str(), "Healthy");
            let _ = resource.describe();
        }
        // An application round-trips through its JSON text as the stream carries it.
        let text = serde_json::to_string(&app.0).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again = Application(again);
        prop_assert_eq!(again.sync_status(), app.sync_status());
    }
}

#[test]
fn the_seed_reads_as_written() {
    let app = Application(seed());
    assert_eq!(app.resource_version(), Some("12345"));
    assert_eq!(app.compared_revisions(), ["abc", "def"]);
    assert_eq!(app.failed_resources().len(), 2);
    assert_eq!(app.unhealthy_resources().len(), 1);
}
