//! Argo CD and GitHub answers that never end: the clients stop at their
//! caps with the cap error instead of growing until the runner kills them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use hoist_argocd::client::{MAX_ANSWER, MAX_EVENT};
use hoist_argocd::{AppRef, ArgoCd, ArgoError};
use hoist_github::{GitHubApi, RepoName};
use hoist_http::{Environment, HttpClient, HttpError, HttpOptions, ManualClock, RetryPolicy};
use hoist_testkit::standin::Chunk;
use hoist_testkit::{Response, Router, StandIn, block_on};

const CHUNK: usize = 256 * 1024;

/// An endless body, `prefix` first.
fn endless(prefix: &'static [u8]) -> Response {
    Response::new(200)
        .body(prefix)
        .stream(|| Chunk::Data(vec![b' '; CHUNK]))
}

fn http() -> HttpClient {
    HttpClient::new(&HttpOptions::new("test", "0"), &Environment::new()).unwrap()
}

fn argocd(server: &StandIn) -> ArgoCd {
    ArgoCd::new(
        http(),
        RetryPolicy::default(),
        Arc::new(ManualClock::default()),
        server.url().parse().unwrap(),
        "token",
    )
}

fn app() -> AppRef {
    AppRef {
        name: "payments-dev".into(),
        namespace: None,
        project: None,
    }
}

#[test]
fn an_endless_application_answer_ends_with_the_cap_error() {
    let server = StandIn::start(
        Router::new().route("GET", "/api/v1/applications/{name}", |_| {
            endless(b"{\"metadata\":")
        }),
    );
    let error = block_on(argocd(&server).application(&app(), None)).unwrap_err();
    let ArgoError::Http(HttpError::BodyTooLarge { what, cap, .. }) = &error else {
        panic!("expected the cap error, got {error:?}");
    };
    assert_eq!(*cap, MAX_ANSWER);
    assert_eq!(what, "Argo CD's answer to reading the application");
    assert!(error.to_string().contains("larger than 16 MiB"), "{error}");
}

#[test]
fn an_endless_stream_event_ends_with_the_per_event_cap_error() {
    let server = StandIn::start(
        Router::new().route("GET", "/api/v1/stream/applications", |_| {
            endless(b"data: {\"result\":")
        }),
    );
    let client = argocd(&server);
    let error = block_on(async {
        let mut events = client.watch(&app()).await.unwrap();
        events.next().await.expect("an event or an error")
    })
    .unwrap_err();
    assert!(
        matches!(
            error,
            ArgoError::Http(HttpError::BodyTooLarge { cap, .. }) if cap == MAX_EVENT
        ),
        "{error:?}"
    );
}

#[test]
fn an_endless_github_answer_ends_with_the_cap_error() {
    let server = StandIn::start(Router::new().route(
        "GET",
        "/repos/acme/deploy/compare/{range}",
        |_| endless(b"{\"status\":"),
    ));
    let api = GitHubApi::new(
        http(),
        RetryPolicy::default(),
        Arc::new(ManualClock::default()),
        server.url().parse().unwrap(),
        RepoName::parse("acme/deploy").unwrap(),
        "token",
    );
    let error = block_on(api.get(&["compare", "a...b"])).unwrap_err();
    assert!(
        matches!(error, HttpError::BodyTooLarge { cap, .. } if cap == 32 * 1024 * 1024),
        "{error:?}"
    );
}
