//! A registry operation retried whole reports how many times it was tried.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use hoist_http::{Backoff, HttpClient, HttpOptions, ManualClock, RetryPolicy};
use hoist_oci::registry::Registry;
use hoist_testkit::{Fault, Response, Router, StandIn, block_on};

#[test]
fn a_registry_answering_500_five_times_is_reported_after_five_attempts() {
    let server = StandIn::start(Router::new().route("GET", "/v2/", |_| Response::text(200, "{}")));
    server.faults(5, Fault::Status(500));
    let http = HttpClient::new(&HttpOptions::new("hoist-oci-test", "0"), &BTreeMap::new())
        .expect("HTTP client");
    let policy = RetryPolicy {
        max_attempts: 5,
        deadline: None,
        backoff: Backoff {
            scale: 0.0,
            ..Backoff::default()
        },
    };
    let registry = Registry::new(
        http,
        hoist_http::registry_base(&server.host(), true).unwrap(),
        "team/app",
        None,
        policy,
        Arc::new(ManualClock::default()),
    );
    let error = block_on(registry.login(&[])).unwrap_err();
    assert_eq!(server.requests().len(), 5);
    assert!(
        error
            .to_string()
            .contains("answered 500 after 5 attempt(s)"),
        "{error}"
    );
}
