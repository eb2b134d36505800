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

#[test]
fn a_streamed_body_waits_for_the_bell_and_may_break() {
    use hoist_testkit::standin::Chunk;
    let count = Arc::new(Mutex::new(0_u32));
    let (ticks, tick) = (Arc::clone(&count), Arc::clone(&count));
    let server = StandIn::start(
        Router::new()
            .route("GET", "/chunks", |_| {
                Response::new(200)
                    .body("<")
                    .chunked([b"a".to_vec(), b"b".to_vec()])
            })
            .route("GET", "/ticks", move |_| {
                let ticks = Arc::clone(&ticks);
                let mut sent = None;
                Response::new(200).stream(move || {
                    let now = *ticks.lock().unwrap();
                    match sent {
                        Some(2) => Chunk::End,
                        Some(last) if last == now => Chunk::Wait,
                        _ => {
                            sent = Some(now);
                            Chunk::Data(now.to_string().into_bytes())
                        }
                    }
                })
            })
            .route("POST", "/tick", move |_| {
                *tick.lock().unwrap() += 1;
                Response::new(204)
            })
            .route("GET", "/broken", |_| {
                let mut once = Some(b"x".to_vec());
                Response::new(200).stream(move || once.take().map_or(Chunk::Break, Chunk::Data))
            }),
    );
    block_on(async {
        let client = hoist_testkit::raw_client();
        let whole = client
            .get(format!("{}/chunks", server.url()))
            .send()
            .await
            .unwrap();
        assert!(whole.headers().get("content-length").is_none());
        assert_eq!(whole.text().await.unwrap(), "<ab");

        let mut ticks = client
            .get(format!("{}/ticks", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(ticks.chunk().await.unwrap().unwrap(), "0");
        // The source waits: nothing changed, a ring alone sends nothing.
        server.bell().ring();
        let tick = || async {
            client
                .post(format!("{}/tick", server.url()))
                .send()
                .await
                .unwrap()
        };
        tick().await;
        assert_eq!(ticks.chunk().await.unwrap().unwrap(), "1");
        tick().await;
        assert_eq!(ticks.chunk().await.unwrap().unwrap(), "2");
        assert!(ticks.chunk().await.unwrap().is_none(), "ended");

        let broken = client
            .get(format!("{}/broken", server.url()))
            .send()
            .await
            .unwrap();
        assert!(broken.text().await.is_err());
    });
}
