//! The HTTP policy against stand-in servers on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hoist_http::{Environment, HttpClient, HttpError, HttpOptions, ManualClock, RetryPolicy};
use hoist_runner::Diagnostic;
use hoist_testkit::block_on;
use hoist_testkit::tls::TestCa;
use hoist_testkit::{Fault, Response, Router, StandIn};

fn hello() -> Router {
    Router::new()
        .route("GET", "/hello", |_| Response::text(200, "hi"))
        .route("GET", "/denied", |_| Response::text(403, "no"))
        .route("GET", "/away", |_| {
            Response::new(302).header("location", "http://example.invalid/")
        })
}

fn client(options: HttpOptions, env: &Environment) -> HttpClient {
    HttpClient::new(&options, env).expect("client")
}

fn options() -> HttpOptions {
    HttpOptions {
        request_timeout: Duration::from_millis(500),
        ..HttpOptions::new("test", "0")
    }
}

fn policy(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        ..RetryPolicy::default()
    }
}

fn get(
    client: &HttpClient,
    clock: &ManualClock,
    attempts: u32,
    url: String,
) -> Result<reqwest::Response, HttpError> {
    block_on(client.send(&policy(attempts), clock, |c| c.get(&url)))
}

#[test]
fn https_is_verified_against_the_extra_ca_bundle() {
    let ca = TestCa::new();
    let server = StandIn::start_tls(hello(), &ca);
    let clock = ManualClock::default();
    let url = format!(
        "https://localhost:{}/hello",
        server.host().rsplit(':').next().unwrap()
    );

    let untrusting = client(options(), &Environment::new());
    let error = get(&untrusting, &clock, 1, url.clone()).unwrap_err();
    assert!(matches!(error, HttpError::Send { .. }), "{error:?}");
    assert!(
        error
            .hint()
            .unwrap()
            .contains("add its CA with `ca-bundle` or SSL_CERT_FILE"),
        "{:?}",
        error.hint()
    );

    let trusting = client(
        HttpOptions {
            ca_bundle: Some(ca.ca_file()),
            ..options()
        },
        &Environment::new(),
    );
    assert_eq!(
        get(&trusting, &clock, 1, url.clone()).unwrap().status(),
        200
    );

    let env = Environment::from([(
        "SSL_CERT_FILE".to_owned(),
        ca.ca_file().display().to_string(),
    )]);
    assert_eq!(
        get(&client(options(), &env), &clock, 1, url)
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn plain_http_reaches_loopback_and_nothing_else() {
    let server = StandIn::start(hello());
    let clock = ManualClock::default();
    let client = client(options(), &Environment::new());
    assert_eq!(
        get(&client, &clock, 1, format!("{}/hello", server.url()))
            .unwrap()
            .status(),
        200
    );

    let error = get(&client, &clock, 3, "http://example.invalid/x".into()).unwrap_err();
    assert!(matches!(error, HttpError::InsecureUrl { .. }), "{error:?}");

    let error = get(&client, &clock, 3, format!("{}/away", server.url())).unwrap_err();
    assert!(error.to_string().contains("GET"), "{error}");
    let chain = hoist_runner::render(&error);
    assert!(
        chain.contains("refusing a redirect to http://example.invalid/"),
        "{chain}"
    );
    assert_eq!(
        server.requests().len(),
        2,
        "a refused redirect is not retried"
    );
}

#[test]
fn throttling_and_server_errors_are_retried_then_succeed() {
    let server = StandIn::start(hello());
    server.fault(Fault::Status(503));
    server.fault(Fault::RetryAfter {
        status: 429,
        seconds: 7,
    });
    server.fault(Fault::Reset);
    let clock = ManualClock::default();
    let response = get(
        &client(options(), &Environment::new()),
        &clock,
        4,
        format!("{}/hello", server.url()),
    )
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.requests().len(), 4);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 3);
    assert_eq!(sleeps[1], Duration::from_secs(7), "Retry-After is honoured");
}

#[test]
fn a_stalled_server_times_out_and_is_retried() {
    let server = StandIn::start(hello());
    server.fault(Fault::Stall);
    let clock = ManualClock::default();
    let options = HttpOptions {
        request_timeout: Duration::from_millis(200),
        ..options()
    };
    let response = get(
        &client(options, &Environment::new()),
        &clock,
        2,
        format!("{}/hello", server.url()),
    )
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn client_errors_are_returned_at_once() {
    let server = StandIn::start(hello());
    let clock = ManualClock::default();
    let response = get(
        &client(options(), &Environment::new()),
        &clock,
        5,
        format!("{}/denied", server.url()),
    )
    .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(server.requests().len(), 1);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn exhausted_retries_say_how_many_and_redact_the_url() {
    let server = StandIn::start(hello());
    server.faults(3, Fault::Status(502));
    let clock = ManualClock::default();
    let url = format!("{}/hello?X-Amz-Signature=sekrit&part=1", server.url());
    let error = get(&client(options(), &Environment::new()), &clock, 3, url).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(
            error,
            HttpError::Status {
                status: 502,
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        text.contains("X-Amz-Signature=***") && !text.contains("sekrit"),
        "{text}"
    );
}

#[test]
fn connection_refused_is_retried_and_explained() {
    let port = hoist_testkit::peers::free_port();
    let clock = ManualClock::default();
    let error = get(
        &client(options(), &Environment::new()),
        &clock,
        2,
        format!("http://127.0.0.1:{port}/"),
    )
    .unwrap_err();
    assert!(
        matches!(error, HttpError::Send { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(error.hint().unwrap().contains("HTTPS_PROXY/NO_PROXY"));
}

#[test]
fn proxies_come_from_the_environment_and_no_proxy_is_honoured() {
    let proxy = StandIn::start(
        Router::new().route("GET", "/via-proxy", |_| Response::text(200, "proxied")),
    );
    let target = "http://127.0.0.2:9/via-proxy".to_owned();
    let clock = ManualClock::default();

    let env = Environment::from([("HTTP_PROXY".to_owned(), proxy.url())]);
    let response = get(&client(options(), &env), &clock, 1, target.clone()).unwrap();
    assert_eq!(response.status(), 200);
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("host"), Some("127.0.0.2:9"));

    let env = Environment::from([
        ("http_proxy".to_owned(), proxy.url()),
        ("NO_PROXY".to_owned(), "127.0.0.2".to_owned()),
    ]);
    assert!(
        get(&client(options(), &env), &clock, 1, target).is_err(),
        "NO_PROXY goes direct, and nothing listens there"
    );
    assert_eq!(proxy.requests().len(), 1);

    let env = Environment::from([("HTTPS_PROXY".to_owned(), "::not a url::".to_owned())]);
    assert!(matches!(
        HttpClient::new(&options(), &env),
        Err(HttpError::Proxy {
            variable: "HTTPS_PROXY",
            ..
        })
    ));
}

#[test]
fn a_bad_ca_bundle_is_an_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate").unwrap();
    let error = HttpClient::new(
        &HttpOptions {
            ca_bundle: Some(empty),
            ..options()
        },
        &Environment::new(),
    )
    .unwrap_err();
    assert!(
        matches!(error, HttpError::CaBundleEmpty { .. }),
        "{error:?}"
    );
    let missing = HttpOptions {
        ca_bundle: Some(dir.join("missing.pem")),
        ..options()
    };
    let error = HttpClient::new(&missing, &Environment::new()).unwrap_err();
    assert!(matches!(error, HttpError::CaBundle { .. }), "{error:?}");
    assert!(error.hint().unwrap().contains("ca-bundle"));
}
