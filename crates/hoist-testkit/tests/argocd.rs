//! The Argo CD stand-in answers as Argo CD does and plays its timelines
//! per read, per refresh, per sync, and over its stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};

use hoist_testkit::argocd::{ArgoCdStandIn, Dex, Follow, Hold, Timeline, model::App, presets};
use hoist_testkit::oidc::OidcIssuer;
use hoist_testkit::{Fault, block_on, raw_client};

const TOKEN: &str = "argocd-token";
const X0: &str = "3b9d0e2f4c1a8b7d6e5f4a3b2c1d0e9f8a7b6c5d";
const X: &str = "8c2f4b1e9d0a7c3b5e6f1a2d4c8b9e0f1a2b3c4d";
const Y: &str = "f00dfeed9d0a7c3b5e6f1a2d4c8b9e0f1a2b3c4d";
const APP: &str = "payments-api";

fn argocd(timeline: Timeline) -> ArgoCdStandIn {
    let argocd = ArgoCdStandIn::start(TOKEN);
    argocd.add_app(APP, timeline);
    argocd
}

struct Answer {
    status: u16,
    body: Value,
}

fn call_as(
    argocd: &ArgoCdStandIn,
    auth: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Answer {
    block_on(call_async(argocd, auth, method, path, body))
}

async fn call_async(
    argocd: &ArgoCdStandIn,
    auth: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Answer {
    {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = raw_client().request(method, format!("{}{path}", argocd.url()));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        Answer { status, body }
    }
}

fn call(argocd: &ArgoCdStandIn, method: &str, path: &str, body: Option<Value>) -> Answer {
    call_as(argocd, Some(&format!("Bearer {TOKEN}")), method, path, body)
}

fn get_app(argocd: &ArgoCdStandIn, query: &str) -> Value {
    let answer = call(
        argocd,
        "GET",
        &format!("/api/v1/applications/{APP}{query}"),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// `(sync status, sync revision, operation phase, health)`, the revision
/// shortened.
fn summary(app: &Value) -> (String, String, String, String) {
    let status = &app["status"];
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    (
        text(&status["sync"]["status"]),
        text(&status["sync"]["revision"]).chars().take(4).collect(),
        text(&status["operationState"]["phase"]),
        text(&status["health"]["status"]),
    )
}

fn s(sync: &str, rev: &str, phase: &str, health: &str) -> (String, String, String, String) {
    (sync.into(), rev.into(), phase.into(), health.into())
}

/// Reads SSE events from a stream until `done` says so or the stream ends
/// (an error ends it too: `Err` carries the events read before).
async fn read_events(
    response: reqwest::Response,
    mut done: impl FnMut(&Value) -> bool,
) -> Result<Vec<Value>, Vec<Value>> {
    let mut response = response;
    let mut buffer = String::new();
    let mut events = Vec::new();
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let data = frame
                .trim_end()
                .strip_prefix("data: ")
                .expect("a data line");
            let event: Value = serde_json::from_str(data).unwrap();
            let stop = done(&event);
            events.push(event);
            if stop {
                return Ok(events);
            }
        }
        match response.chunk().await {
            Ok(Some(bytes)) => buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
            Ok(None) => return Ok(events),
            Err(_) => return Err(events),
        }
    }
}

async fn open_stream(argocd: &ArgoCdStandIn) -> reqwest::Response {
    raw_client()
        .get(format!(
            "{}/api/v1/stream/applications?name={APP}&appNamespace=argocd",
            argocd.url()
        ))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap()
}

fn healthy_at(revision: &str) -> impl FnMut(&Value) -> bool {
    move |event| {
        let status = &event["result"]["application"]["status"];
        status["sync"]["revision"] == revision
            && status["health"]["status"] == "Healthy"
            && status["sync"]["status"] == "Synced"
            && status["reconciledAt"].as_str() >= status["operationState"]["finishedAt"].as_str()
    }
}

#[test]
fn the_stream_plays_the_whole_stale_then_auto_sync_timeline() {
    let argocd = argocd(presets::stale_then_auto_sync(X0, X));
    let events = block_on(async {
        let response = open_stream(&argocd).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let read = read_events(response, healthy_at(X));
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap()
            .unwrap()
    });
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["result"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "ADDED");
    assert!(kinds[1..].iter().all(|k| *k == "MODIFIED"), "{kinds:?}");
    let apps: Vec<&Value> = events.iter().map(|e| &e["result"]["application"]).collect();
    let seen: Vec<_> = apps.iter().map(|app| summary(app)).collect();
    assert_eq!(
        seen,
        vec![
            s("Synced", "3b9d", "Succeeded", "Healthy"),
            s("OutOfSync", "8c2f", "Succeeded", "Healthy"),
            s("OutOfSync", "8c2f", "Running", "Healthy"),
            s("Synced", "8c2f", "Succeeded", "Healthy"),
            s("Synced", "8c2f", "Succeeded", "Progressing"),
            s("Synced", "8c2f", "Succeeded", "Healthy"),
        ]
    );
    // Running: the operation is set; Succeeded but stale: reconciledAt is
    // before finishedAt and the health is the old one.
    assert_eq!(apps[2]["operation"]["sync"]["revision"], X);
    assert_eq!(
        apps[2]["status"]["operationState"]["message"],
        "one or more tasks are running"
    );
    let stale = &apps[3]["status"];
    assert!(apps[3].get("operation").is_none());
    assert_eq!(stale["operationState"]["syncResult"]["revision"], X);
    assert!(stale["reconciledAt"].as_str() < stale["operationState"]["finishedAt"].as_str());
    assert_eq!(
        stale["summary"]["images"][0],
        apps[0]["status"]["summary"]["images"][0]
    );
    assert!(
        apps[4]["status"]["reconciledAt"].as_str()
            >= stale["operationState"]["finishedAt"].as_str()
    );
    // Every change moves the resource version; nothing is sent twice.
    let versions: Vec<u64> = apps
        .iter()
        .map(|app| {
            app["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert_eq!(argocd.position(APP), 5);
}

#[test]
fn a_get_reads_one_step_and_a_refresh_notices_the_commit() {
    let argocd = argocd(presets::stale_then_auto_sync(X0, X));
    assert_eq!(
        summary(&get_app(&argocd, "")),
        s("Synced", "3b9d", "Succeeded", "Healthy")
    );
    assert_eq!(
        summary(&get_app(&argocd, "?appNamespace=argocd")),
        s("Synced", "3b9d", "Succeeded", "Healthy")
    );
    assert_eq!(argocd.refreshes(APP), 0);
    // The refresh answers with the app as compared after it.
    let refreshed = get_app(&argocd, "?refresh=normal");
    assert_eq!(
        summary(&refreshed),
        s("OutOfSync", "8c2f", "Succeeded", "Healthy")
    );
    assert_eq!(argocd.refreshes(APP), 1);
    assert_eq!(
        summary(&get_app(&argocd, "")),
        s("OutOfSync", "8c2f", "Running", "Healthy")
    );
    assert_eq!(
        summary(&get_app(&argocd, "")),
        s("Synced", "8c2f", "Succeeded", "Healthy")
    );
    argocd.advance(APP);
    assert_eq!(
        summary(&get_app(&argocd, "")),
        s("Synced", "8c2f", "Succeeded", "Healthy")
    );
    assert_eq!(
        get_app(&argocd, ""),
        argocd.app_json(APP),
        "the last state stays"
    );
}

#[test]
fn without_a_refresh_the_stale_app_moves_after_reads_or_not_at_all() {
    let argocd = argocd(presets::stale_then_auto_sync(X0, X));
    for _ in 0..3 {
        assert_eq!(summary(&get_app(&argocd, "")).1, "3b9d");
    }
    assert_eq!(summary(&get_app(&argocd, "")).1, "8c2f");

    let strict = ArgoCdStandIn::start(TOKEN);
    strict.add_app(APP, presets::stale_then_auto_sync(X0, X).require_refresh());
    for _ in 0..10 {
        assert_eq!(summary(&get_app(&strict, "")).1, "3b9d");
    }
}

#[test]
fn reads_per_step_and_holds_shape_a_hand_built_timeline() {
    let timeline = Timeline::at(App::new(APP, X0), 1_786_000_000)
        .reads_per_step(2)
        .then(|app, now| {
            app.health.status = "Progressing".into();
            app.reconciled_at = Some(now);
        })
        .hold(Hold::Manual)
        .then(|app, _| app.health.status = "Healthy".into());
    let argocd = argocd(timeline);
    let health = |argocd: &ArgoCdStandIn| get_app(argocd, "")["status"]["health"]["status"].clone();
    assert_eq!(health(&argocd), "Healthy");
    assert_eq!(health(&argocd), "Healthy");
    let app = get_app(&argocd, "");
    assert_eq!(app["status"]["health"]["status"], "Progressing");
    assert_eq!(app["status"]["reconciledAt"], "2026-08-06T07:06:45Z");
    assert_eq!(app["metadata"]["namespace"], "argocd");
    assert_eq!(health(&argocd), "Progressing", "held until advanced");
    assert!(argocd.advance(APP));
    assert_eq!(health(&argocd), "Healthy");
    assert!(!argocd.advance(APP), "no state after the last");
}

#[test]
fn a_manual_app_waits_for_the_sync_post() {
    let argocd = argocd(presets::manual_sync(X0, X));
    let app = get_app(&argocd, "?refresh=hard");
    assert_eq!(
        summary(&app),
        s("OutOfSync", "8c2f", "Succeeded", "Healthy")
    );
    assert!(app["spec"].get("syncPolicy").is_none());
    for _ in 0..5 {
        assert_eq!(
            summary(&get_app(&argocd, "")),
            s("OutOfSync", "8c2f", "Succeeded", "Healthy")
        );
    }
    let path = format!("/api/v1/applications/{APP}/sync");
    let request = json!({"name": APP, "appNamespace": "argocd", "revision": X, "prune": true});
    let synced = call(&argocd, "POST", &path, Some(request.clone()));
    assert_eq!(synced.status, 200, "{}", synced.body);
    assert_eq!(synced.body["operation"]["sync"]["revision"], X);
    assert_eq!(summary(&synced.body).2, "Running");
    assert_eq!(argocd.sync_requests(), vec![request.clone()]);

    let again = call(&argocd, "POST", &path, Some(request));
    assert_eq!(again.status, 400);
    assert_eq!(
        again.body,
        json!({"error": "another operation is already in progress", "code": 9,
               "message": "another operation is already in progress", "details": []})
    );
    assert_eq!(argocd.sync_requests().len(), 1);
    let mut healths = Vec::new();
    for _ in 0..4 {
        healths.push(summary(&get_app(&argocd, "")));
    }
    assert_eq!(healths[1], s("Synced", "8c2f", "Succeeded", "Healthy"));
    assert_eq!(healths[2].3, "Progressing");
    assert_eq!(healths[3], s("Synced", "8c2f", "Succeeded", "Healthy"));
}

#[test]
fn an_auto_synced_app_refuses_a_sync_to_a_pinned_revision() {
    let argocd = argocd(presets::stale_then_auto_sync(X0, X));
    let path = format!("/api/v1/applications/{APP}/sync");
    let answer = call(
        &argocd,
        "POST",
        &path,
        Some(json!({"name": APP, "revision": X})),
    );
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["message"],
        format!("Cannot sync to {X}: auto-sync currently set to main")
    );
    assert!(argocd.sync_requests().is_empty());
}

#[test]
fn errors_are_grpc_gateway_bodies_with_argo_cds_words() {
    let argocd = argocd(presets::stale_then_auto_sync(X0, X));
    argocd.add_token("payments-ci", "payments");
    argocd.add_token("web-ci", "web");
    let app_path = format!("/api/v1/applications/{APP}");
    let body = |code: u16, message: &str| json!({"error": message, "code": code, "message": message, "details": []});

    let none = call_as(&argocd, None, "GET", &app_path, None);
    assert_eq!(
        (none.status, none.body),
        (401, body(16, "no session information"))
    );
    let expired = call_as(&argocd, Some("Bearer nope"), "GET", &app_path, None);
    assert_eq!(
        (expired.status, expired.body),
        (401, body(16, "invalid session: token is expired"))
    );

    let missing = call(&argocd, "GET", "/api/v1/applications/x", None);
    assert_eq!(
        (missing.status, missing.body),
        (403, body(7, "permission denied"))
    );
    let named = call(
        &argocd,
        "GET",
        "/api/v1/applications/x?project=payments",
        None,
    );
    assert_eq!(
        (named.status, named.body),
        (404, body(5, "applications.argoproj.io \"x\" not found"))
    );
    let elsewhere = call(
        &argocd,
        "GET",
        &format!("{app_path}?appNamespace=team-a&project=payments"),
        None,
    );
    assert_eq!(elsewhere.status, 404);

    let own = call_as(&argocd, Some("Bearer payments-ci"), "GET", &app_path, None);
    assert_eq!(own.status, 200);
    let other = call_as(&argocd, Some("Bearer web-ci"), "GET", &app_path, None);
    assert_eq!(
        (other.status, other.body),
        (403, body(7, "permission denied"))
    );
    let other_named = call_as(
        &argocd,
        Some("Bearer web-ci"),
        "GET",
        &format!("{app_path}?project=web"),
        None,
    );
    assert_eq!(other_named.status, 404);
    let wrong_project = call(&argocd, "GET", &format!("{app_path}?project=web"), None);
    assert_eq!(wrong_project.status, 404);
    assert_eq!(argocd.position(APP), 0, "refused reads do not count");

    let resource = call(
        &argocd,
        "GET",
        &format!(
            "{app_path}/resource?kind=Rollout&group=argoproj.io&version=v1alpha1&namespace=payments&resourceName=payments-api"
        ),
        None,
    );
    assert_eq!(
        (resource.status, resource.body),
        (
            400,
            body(
                3,
                "Rollout argoproj.io payments-api not found as part of application payments-api"
            )
        )
    );
    let unknown = call(&argocd, "GET", "/api/v1/clusters", None);
    assert_eq!(unknown.status, 404);
}

#[test]
fn the_stream_ends_breaks_and_is_refused_as_scripted() {
    let argocd = argocd(presets::stale_then_auto_sync(X0, X));
    argocd.drop_stream_after(2);
    argocd.end_stream_after(1);
    block_on(async {
        let read = read_events(open_stream(&argocd).await, |_| false);
        let broken = tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap();
        let events = broken.expect_err("the connection breaks mid-body");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["result"]["type"], "ADDED");

        // A reconnect starts again from the app as it is now.
        let read = read_events(open_stream(&argocd).await, |_| false);
        let ended = tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap();
        let events = ended.expect("a clean end");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["result"]["type"], "ADDED");
        assert_eq!(summary(&events[0]["result"]["application"]).0, "OutOfSync");

        // Without SSE: one JSON object a line.
        let response = raw_client()
            .get(format!(
                "{}/api/v1/stream/applications?name={APP}",
                argocd.url()
            ))
            .header("authorization", format!("Bearer {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-type"], "application/json");
        let mut response = response;
        let chunk = response.chunk().await.unwrap().unwrap();
        let line: Value = serde_json::from_slice(chunk.strip_suffix(b"\n").unwrap()).unwrap();
        assert_eq!(line["result"]["type"], "ADDED");

        argocd.set_stream_refused(true);
        let refused = open_stream(&argocd).await;
        assert_eq!(refused.status(), 502);
        argocd.set_stream_refused(false);
        argocd.fault_on("/api/v1/stream", Fault::Status(404));
        assert_eq!(open_stream(&argocd).await.status(), 404);
        let unauthorised = raw_client()
            .get(format!(
                "{}/api/v1/stream/applications?name={APP}",
                argocd.url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(unauthorised.status(), 401);
    });
}

#[test]
fn a_paused_canary_waits_on_the_stream_until_its_rollout_is_read() {
    let argocd = argocd(presets::rollout_canary(X0, X));
    block_on(async {
        let suspended = |event: &Value| {
            event["result"]["application"]["status"]["health"]["status"] == "Suspended"
        };
        let response = open_stream(&argocd).await;
        let read = read_events(response, suspended);
        let events = tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap()
            .unwrap();
        let app = &events.last().unwrap()["result"]["application"];
        assert_eq!(
            app["status"]["health"]["message"],
            "Caused by argoproj.io/Rollout:payments/payments-api"
        );

        // A stream has nothing more until the Rollout is read.
        let response = open_stream(&argocd).await;
        assert_eq!(argocd.position(APP), 5);
        let path = format!(
            "/api/v1/applications/{APP}/resource?kind=Rollout&group=argoproj.io&version=v1alpha1&namespace=payments&resourceName=payments-api"
        );
        let answer = call_async(
            &argocd,
            Some(&format!("Bearer {TOKEN}")),
            "GET",
            &path,
            None,
        )
        .await;
        assert_eq!(answer.status, 200);
        let rollout: Value =
            serde_json::from_str(answer.body["manifest"].as_str().unwrap()).unwrap();
        let status = &rollout["status"];
        assert_eq!(status["phase"], "Paused");
        assert_eq!(status["pauseConditions"][0]["reason"], "CanaryPauseStep");
        assert_eq!(status["currentStepIndex"], 1);
        assert_eq!(
            rollout["spec"]["strategy"]["canary"]["steps"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert_eq!(status["canary"]["weights"]["canary"]["weight"], 20);
        assert_eq!(
            status["canary"]["currentStepAnalysisRunStatus"]["status"],
            "Running"
        );

        let read = read_events(response, healthy_at(X));
        let events = tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap()
            .unwrap();
        let healths: Vec<_> = events
            .iter()
            .map(|e| summary(&e["result"]["application"]).3)
            .collect();
        assert_eq!(healths, ["Suspended", "Progressing", "Healthy"]);
        let answer = call_async(
            &argocd,
            Some(&format!("Bearer {TOKEN}")),
            "GET",
            &path,
            None,
        )
        .await;
        let rollout: Value =
            serde_json::from_str(answer.body["manifest"].as_str().unwrap()).unwrap();
        assert_eq!(
            (
                rollout["status"]["phase"].as_str(),
                rollout["status"]["currentStepIndex"].as_u64()
            ),
            (Some("Healthy"), Some(5))
        );
    });
}

#[test]
fn a_deny_window_blocks_the_sync_for_some_reads() {
    let argocd = argocd(presets::sync_window(X0, X));
    let windows_path = format!("/api/v1/applications/{APP}/syncwindows");
    assert_eq!(summary(&get_app(&argocd, "?refresh=normal")).0, "OutOfSync");
    let windows = call(&argocd, "GET", &windows_path, None).body;
    assert_eq!(windows["canSync"], false);
    assert_eq!(
        windows["activeWindows"][0],
        json!({"kind": "deny", "schedule": "0 9 * * *", "duration": "2h", "applications": ["*"], "manualSync": false, "timeZone": "UTC"})
    );
    let blocked = call(
        &argocd,
        "POST",
        &format!("/api/v1/applications/{APP}/sync"),
        Some(json!({"name": APP})),
    );
    assert_eq!(blocked.status, 403);
    assert_eq!(
        blocked.body["message"],
        "cannot sync: blocked by sync window"
    );
    let mut reads = 0;
    while call(&argocd, "GET", &windows_path, None).body["canSync"] == false {
        get_app(&argocd, "");
        reads += 1;
        assert!(reads < 10);
    }
    let mut last = get_app(&argocd, "");
    while summary(&last) != s("Synced", "8c2f", "Succeeded", "Healthy")
        || last["status"]["reconciledAt"].as_str()
            < last["status"]["operationState"]["finishedAt"].as_str()
    {
        last = get_app(&argocd, "");
        reads += 1;
        assert!(reads < 20);
    }
}

#[test]
fn dex_exchanges_a_ci_id_token_for_an_argo_cd_token() {
    let issuer = OidcIssuer::start();
    let argocd = argocd(presets::stale_then_auto_sync(X0, X));
    argocd.enable_dex(Dex::trusting(&issuer, &argocd.url()));
    let id_token = |audience: &str| -> String {
        block_on(async {
            let response = raw_client()
                .get(format!("{}&audience={audience}", issuer.request_url()))
                .header(
                    "authorization",
                    format!("Bearer {}", issuer.request_token()),
                )
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()["value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    };
    let exchange = |subject: &str, connector: &str| -> (u16, Value) {
        block_on(async {
            let form = [
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("subject_token", subject),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("connector_id", connector),
            ];
            let body: String = form
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A")))
                .collect::<Vec<_>>()
                .join("&");
            let response = raw_client()
                .post(format!("{}/api/dex/token", argocd.url()))
                .basic_auth("argo-cd-cli", Some(""))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json().await.unwrap())
        })
    };

    let (status, answer) = exchange(&id_token(&argocd.url()), "github");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(answer["token_type"], "bearer");
    assert!(answer["expires_in"].as_u64().unwrap() > 3600);
    let access = answer["access_token"].as_str().unwrap();
    let claims = hoist_testkit::oidc::claims_of(access);
    assert_eq!(
        claims["federated_claims"]["user_id"],
        "repo:acme/shop:ref:refs/heads/main"
    );
    assert_eq!(argocd.issued_tokens(), [access]);
    let app = call_as(
        &argocd,
        Some(&format!("Bearer {access}")),
        "GET",
        &format!("/api/v1/applications/{APP}"),
        None,
    );
    assert_eq!(app.status, 200);

    let (status, answer) = exchange(&id_token("https://elsewhere.example"), "github");
    assert_eq!((status, answer), (401, json!({"error": "access_denied"})));
    let token = id_token(&argocd.url());
    let tampered = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(exchange(&tampered, "github").0, 401);
    let (status, answer) = exchange(&token, "gitlab");
    assert_eq!(status, 400);
    assert_eq!(
        answer["error_description"],
        "Requested connector does not exist."
    );
    issuer.set_lifetime(-10);
    assert_eq!(
        exchange(&id_token(&argocd.url()), "github").0,
        401,
        "expired"
    );
}

/// Each state of `timeline` as the API renders it.
fn rendered(timeline: &Timeline) -> Vec<Value> {
    timeline.states().iter().map(|app| app.to_json(1)).collect()
}

#[test]
fn the_presets_script_what_wait_for_sync_meets() {
    // The retry quirk: phase Running with finishedAt set, then Succeeded.
    let states = rendered(&presets::failed_then_retried(X0, X));
    let retrying = states
        .iter()
        .map(|app| &app["status"]["operationState"])
        .find(|op| op["retryCount"] == 1 && op["phase"] == "Running")
        .expect("a retrying state");
    assert!(retrying["finishedAt"].is_string());
    let message = retrying["message"].as_str().unwrap();
    assert!(
        message.starts_with("one or more objects failed to apply. Retrying attempt #1 at "),
        "{message}"
    );
    assert!(message.ends_with("M."), "{message}");
    assert_eq!(
        summary(states.last().unwrap()),
        s("Synced", "8c2f", "Succeeded", "Healthy")
    );

    // An old failure names x0; ours succeeds and clears it.
    let states = rendered(&presets::old_failure_then_ours(X0, X));
    let first = &states[0]["status"];
    assert_eq!(first["operationState"]["phase"], "Failed");
    assert_eq!(first["operationState"]["syncResult"]["revision"], X0);
    assert!(
        first["conditions"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("[{X0}]"))
    );
    let last = &states.last().unwrap()["status"];
    assert_eq!(
        summary(states.last().unwrap()),
        s("Synced", "8c2f", "Succeeded", "Healthy")
    );
    assert!(last.get("conditions").is_none());

    // Fails for good, with the hook and the SyncError naming x.
    let states = rendered(&presets::fails(X0, X));
    let last = &states.last().unwrap()["status"];
    assert_eq!(last["operationState"]["phase"], "Failed");
    assert_eq!(
        last["operationState"]["message"],
        "one or more synchronization tasks completed unsuccessfully (retried 2 times)."
    );
    let hook = &last["operationState"]["syncResult"]["resources"][0];
    assert_eq!(
        (
            hook["kind"].as_str(),
            hook["name"].as_str(),
            hook["hookType"].as_str(),
            hook["hookPhase"].as_str()
        ),
        (
            Some("Job"),
            Some("db-migrate"),
            Some("PreSync"),
            Some("Failed")
        )
    );
    assert_eq!(
        hook["message"],
        "Job has reached the specified backoff limit"
    );
    assert_eq!(last["conditions"][0]["type"], "SyncError");
    assert!(
        last["conditions"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Failed last sync attempt to [{X}]: "))
    );

    // Degraded after the sync, with the Deployment's reason.
    let states = rendered(&presets::degraded_after_sync(X0, X));
    let last = &states.last().unwrap()["status"];
    assert_eq!(
        last["health"],
        json!({"status": "Degraded", "message": "Caused by apps/Deployment:payments/payments-api", "lastTransitionTime": last["health"]["lastTransitionTime"]})
    );
    assert_eq!(last["resources"][0]["health"]["status"], "Degraded");
    assert_eq!(last["sync"]["status"], "Synced");

    // An aborted canary: Degraded, still Synced at x.
    let timeline = presets::rollout_aborted(X0, X);
    let last = timeline.last();
    assert_eq!(
        (last.health.status.as_str(), last.sync.status.as_str()),
        ("Degraded", "Synced")
    );
    let rollout = last.rollout.as_ref().unwrap();
    assert_eq!(rollout["status"]["abort"], true);
    assert_eq!(rollout["status"]["phase"], "Degraded");
    assert_eq!(rollout["status"]["message"], presets::ABORTED);

    // Superseded: straight from x0 to Synced and Healthy at y.
    let states = rendered(&presets::superseded(X0, X, Y));
    assert_eq!(states.len(), 2);
    assert_eq!(
        summary(&states[1]),
        s("Synced", "f00d", "Succeeded", "Healthy")
    );
    assert_eq!(
        states[1]["status"]["operationState"]["syncResult"]["revision"],
        Y
    );
    assert!(
        states
            .iter()
            .all(|app| app["status"]["sync"]["revision"] != X)
    );
}

/// A GitOps repository of two apps, `apps/a` and `apps/b`.
fn monorepo() -> hoist_testkit::GitRemote {
    hoist_testkit::GitRemote::with_files(&[
        ("apps/a/values.yaml", "image:\n  tag: a1\n"),
        ("apps/b/values.yaml", "image:\n  tag: b1\n"),
    ])
}

fn get_named(argocd: &ArgoCdStandIn, name: &str, query: &str) -> Value {
    let answer = call(
        argocd,
        "GET",
        &format!("/api/v1/applications/{name}{query}"),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

#[test]
fn a_followed_app_compares_a_commit_of_other_apps_without_a_sync() {
    let remote = monorepo();
    let argocd = ArgoCdStandIn::start(TOKEN);
    let follow = Follow {
        path: Some("apps/a/".into()),
        poll_every: None,
    };
    argocd.follow_with("a", &remote.path(), "main", follow);
    let before = argocd.app_json("a");
    let other = remote.commit_file("main", "apps/b/values.yaml", "image:\n  tag: b2\n", "b2");

    // No poll yet: Argo CD has not looked at the branch.
    let app = get_named(&argocd, "a", "");
    assert_eq!(app["status"]["sync"], before["status"]["sync"]);

    argocd.poll();
    let app = argocd.app_json("a");
    let status = &app["status"];
    assert_eq!(status["sync"]["status"], "Synced");
    assert_eq!(status["sync"]["revision"], other.as_str());
    assert_eq!(app["spec"]["source"]["path"], "apps/a");
    assert_eq!(app["spec"]["source"]["targetRevision"], "main");
    // The last sync's state stays, untouched: no operation started.
    assert_eq!(status["operationState"], before["status"]["operationState"]);
    assert!(app["operation"].is_null());
    assert_eq!(status["health"]["status"], "Healthy");
    assert!(
        status["reconciledAt"].as_str().unwrap()
            >= status["operationState"]["finishedAt"].as_str().unwrap()
    );
    assert_ne!(
        app["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    assert_eq!(argocd.syncs_started("a"), 0);
}

#[test]
fn a_followed_app_syncs_the_tip_at_its_poll_and_never_the_commits_between() {
    let remote = monorepo();
    let first = remote.head("main");
    let argocd = ArgoCdStandIn::start(TOKEN);
    argocd.follow_with("a", &remote.path(), "main", Follow::path("apps/a", 3));
    let ours = remote.commit_file("main", "apps/a/values.yaml", "image:\n  tag: a2\n", "a2");
    let tip = remote.commit_file("main", "apps/b/values.yaml", "image:\n  tag: b2\n", "b2");

    // The third request is the poll: Argo CD compares the tip, not ours.
    let mut states = Vec::new();
    for _ in 0..3 {
        states.push(summary(&get_named(&argocd, "a", "")));
    }
    let short = |r: &str| r[..4].to_owned();
    assert_eq!(
        states[0],
        s("Synced", &short(&first), "Succeeded", "Healthy")
    );
    assert_eq!(states[1], states[0]);
    assert_eq!(
        states[2],
        s("OutOfSync", &short(&tip), "Succeeded", "Healthy")
    );
    assert_eq!(argocd.compared("a"), vec![first.clone(), tip.clone()]);
    assert!(!argocd.compared("a").contains(&ours));

    // A commit landing mid-sync waits for the next poll after the sync.
    let later = remote.commit_file("main", "apps/b/values.yaml", "image:\n  tag: b3\n", "b3");
    argocd.poll();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(summary(&get_named(&argocd, "a", "")));
    }
    assert_eq!(
        seen,
        [
            s("OutOfSync", &short(&tip), "Running", "Healthy"),
            s("Synced", &short(&tip), "Succeeded", "Healthy"),
            s("Synced", &short(&tip), "Succeeded", "Progressing"),
            s("Synced", &short(&tip), "Succeeded", "Healthy"),
        ]
    );
    let app = argocd.app_json("a");
    let state = &app["status"]["operationState"];
    assert_eq!(state["syncResult"]["revision"], tip.as_str());
    assert_eq!(state["operation"]["initiatedBy"]["automated"], true);
    assert!(app["status"]["reconciledAt"].as_str() >= state["finishedAt"].as_str());
    assert!(state["startedAt"].as_str() <= state["finishedAt"].as_str());

    // At rest, the next poll compares `later` (only b changed): no sync.
    argocd.poll();
    let app = argocd.app_json("a");
    assert_eq!(app["status"]["sync"]["revision"], later.as_str());
    assert_eq!(app["status"]["sync"]["status"], "Synced");
    assert_eq!(
        app["status"]["operationState"]["syncResult"]["revision"],
        tip.as_str()
    );
    assert_eq!(argocd.syncs_started("a"), 1);
}

#[test]
fn a_refresh_of_a_followed_app_compares_the_tip_at_once() {
    let remote = monorepo();
    let argocd = ArgoCdStandIn::start(TOKEN);
    let follow = Follow {
        path: Some("apps/a".into()),
        poll_every: None,
    };
    argocd.follow_with("a", &remote.path(), "main", follow.clone());
    argocd.follow_with("b", &remote.path(), "main", follow);
    let ours = remote.commit_file("main", "apps/a/values.yaml", "image:\n  tag: a2\n", "a2");
    let app = get_named(&argocd, "a", "?refresh=normal");
    assert_eq!(app["status"]["sync"]["status"], "OutOfSync");
    assert_eq!(app["status"]["sync"]["revision"], ours.as_str());
    // Only the refreshed app looked.
    assert_eq!(argocd.compared("b").len(), 1);
}
