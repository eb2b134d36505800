//! The stand-in framework routes, keeps state, records, and injects faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use hoist_testkit::block_on;
use hoist_testkit::{Fault, Response, Router, StandIn};

fn counter() -> StandIn {
    let count = Arc::new(Mutex::new(0));
    let read = Arc::clone(&count);
    StandIn::start(
        Router::new()
            .route("POST", "/repos/{owner}/{repo}/count", move |request| {
                let mut count = count.lock().unwrap();
                *count += 1;
                Response::json(201, &serde_json::json!({"repo": format!("{}/{}", request.param("owner"), request.param("repo")), "count": *count}))
            })
            .route("GET", "/count", move |_| Response::text(200, &read.lock().unwrap().to_string()))
            .route("GET", "/files/{path*}", |request| Response::text(200, request.param("path"))),
    )
}

async fn call(method: reqwest::Method, url: String) -> Result<(u16, String), reqwest::Error> {
    let response = hoist_testkit::raw_client()
        .request(method, url)
        .send()
        .await?;
    Ok((response.status().as_u16(), response.text().await?))
}

#[test]
fn routes_match_parameters_and_keep_state() {
    let server = counter();
    block_on(async {
        let (status, body) = call(
            reqwest::Method::POST,
            format!("{}/repos/acme/shop/count", server.url()),
        )
        .await
        .unwrap();
        assert_eq!(status, 201);
        assert!(body.contains("\"repo\":\"acme/shop\""), "{body}");
        call(
            reqwest::Method::POST,
            format!("{}/repos/acme/shop/count", server.url()),
        )
        .await
        .unwrap();
        assert_eq!(
            call(reqwest::Method::GET, format!("{}/count", server.url()))
                .await
                .unwrap(),
            (200, "2".into())
        );
        assert_eq!(
            call(
                reqwest::Method::GET,
                format!("{}/files/a/b/c.yaml", server.url())
            )
            .await
            .unwrap(),
            (200, "a/b/c.yaml".into())
        );
        let (status, _) = call(reqwest::Method::GET, format!("{}/nowhere", server.url()))
            .await
            .unwrap();
        assert_eq!(status, 404);
        let (status, _) = call(reqwest::Method::DELETE, format!("{}/count", server.url()))
            .await
            .unwrap();
        assert_eq!(status, 404);
    });
    let requests = server.requests();
    assert_eq!(requests.len(), 6);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/repos/acme/shop/count");
}

#[test]
fn faults_apply_to_the_next_matching_requests_in_order() {
    let server = counter();
    server.fault_on("/files", Fault::Status(500));
    server.fault(Fault::RetryAfter {
        status: 429,
        seconds: 3,
    });
    block_on(async {
        let client = hoist_testkit::raw_client();
        let throttled = client
            .get(format!("{}/count", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(throttled.status(), 429);
        assert_eq!(throttled.headers()["retry-after"], "3");
        assert_eq!(
            call(reqwest::Method::GET, format!("{}/count", server.url()))
                .await
                .unwrap()
                .0,
            200
        );
        assert_eq!(
            call(reqwest::Method::GET, format!("{}/files/x", server.url()))
                .await
                .unwrap()
                .0,
            500
        );
        assert_eq!(
            call(reqwest::Method::GET, format!("{}/files/x", server.url()))
                .await
                .unwrap()
                .0,
            200
        );
    });
}

#[test]
fn a_reset_drops_the_connection() {
    let server = counter();
    server.fault(Fault::Reset);
    let result = block_on(call(
        reqwest::Method::GET,
        format!("{}/count", server.url()),
    ));
    assert!(result.is_err(), "{result:?}");
    assert_eq!(server.requests().len(), 1);
}
