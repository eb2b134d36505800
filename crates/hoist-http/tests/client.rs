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

/// A policy of `attempts` attempts and no waits, ending 10 s after the
/// clock started.
fn ten_second_deadline(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        deadline: Some(Duration::from_secs(10)),
        backoff: hoist_http::Backoff {
            scale: 0.0,
            ..hoist_http::Backoff::default()
        },
    }
}

fn patient() -> HttpOptions {
    HttpOptions {
        request_timeout: Duration::from_secs(60),
        ..options()
    }
}

#[test]
fn a_body_that_stops_coming_is_cut_at_the_deadline_and_reported_as_a_timeout() {
    let server = StandIn::start(Router::new().route("GET", "/slow", |_| {
        let mut sent = false;
        Response::new(200)
            .header("content-type", "application/json")
            .stream(move || {
                if sent {
                    hoist_testkit::standin::Chunk::Wait
                } else {
                    sent = true;
                    hoist_testkit::standin::Chunk::Data(b"{\"phase\":".to_vec())
                }
            })
    }));
    let clock = ManualClock::default();
    clock.advance(Duration::from_millis(9_700));
    let client = client(patient(), &Environment::new());
    let url = format!("{}/slow", server.url());
    let started = std::time::Instant::now();
    let error = block_on(async {
        let response = client
            .send(&ten_second_deadline(1), &clock, |c| c.get(&url))
            .await
            .unwrap();
        let exchange = hoist_http::client::Exchange::of(&response).unwrap();
        assert_eq!(exchange.within, Duration::from_millis(300));
        exchange.body_error(response.bytes().await.unwrap_err())
    });
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the 60 s request timeout was not cut to the 300 ms left: {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            error,
            HttpError::Timeout {
                attempts: 1,
                within,
                ..
            } if within == Duration::from_millis(300)
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("did not answer within 300ms"), "{text}");
    assert!(!text.contains("decoding"), "{text}");
    assert!(error.hint().unwrap().contains("longer `timeout`"));
}

#[test]
fn a_stalled_server_is_given_only_the_time_left_and_reported_as_a_timeout() {
    let server = StandIn::start(hello());
    server.fault(Fault::Stall);
    let clock = ManualClock::default();
    clock.advance(Duration::from_millis(9_800));
    let client = client(patient(), &Environment::new());
    let url = format!("{}/hello", server.url());
    let started = std::time::Instant::now();
    let error =
        block_on(client.send(&ten_second_deadline(1), &clock, |c| c.get(&url))).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        matches!(
            error,
            HttpError::Timeout { attempts: 1, within, .. } if within == Duration::from_millis(200)
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("did not answer within 200ms after 1 attempt(s)"),
        "{error}"
    );
}

#[test]
fn no_attempt_starts_once_the_deadline_has_passed() {
    let server = StandIn::start(hello());
    let clock = ManualClock::default();
    clock.advance(Duration::from_secs(10));
    let client = client(patient(), &Environment::new());
    let url = format!("{}/hello", server.url());
    let error =
        block_on(client.send(&ten_second_deadline(3), &clock, |c| c.get(&url))).unwrap_err();
    assert!(
        matches!(error, HttpError::Timeout { attempts: 0, .. }),
        "{error:?}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn a_server_error_answered_n_times_is_reported_after_n_attempts() {
    let server = StandIn::start(hello());
    server.faults(5, Fault::Status(500));
    let clock = ManualClock::default();
    let error = get(
        &client(options(), &Environment::new()),
        &clock,
        5,
        format!("{}/hello", server.url()),
    )
    .unwrap_err();
    assert_eq!(server.requests().len(), 5);
    assert!(
        error
            .to_string()
            .contains("answered 500 after 5 attempt(s)"),
        "{error}"
    );
}

#[test]
fn an_operation_retried_whole_counts_its_own_attempts() {
    let server = StandIn::start(hello());
    server.fault(Fault::Status(500));
    let clock = ManualClock::default();
    let error = get(
        &client(options(), &Environment::new()),
        &clock,
        1,
        format!("{}/hello", server.url()),
    )
    .unwrap_err()
    .with_attempts(4);
    assert!(error.to_string().contains("after 4 attempt(s)"), "{error}");
}
