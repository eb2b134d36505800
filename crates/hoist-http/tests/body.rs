//! `read_capped` against a stand-in: bodies over the cap end with the cap
//! error, whether the server says their length or streams without end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hoist_http::body::read_capped;
use hoist_http::{Environment, HttpClient, HttpError, HttpOptions, ManualClock, RetryPolicy};
use hoist_runner::Diagnostic;
use hoist_testkit::standin::Chunk;
use hoist_testkit::{Response, Router, StandIn, block_on};

const CAP: u64 = 64 * 1024;
const CHUNK: usize = 8 * 1024;

fn read(server: &StandIn, path: &str) -> Result<Vec<u8>, HttpError> {
    let client = HttpClient::new(&HttpOptions::new("test", "0"), &Environment::new()).unwrap();
    let url = format!("{}{path}", server.url());
    block_on(async {
        let response = client
            .send(&RetryPolicy::default(), &ManualClock::default(), |c| {
                c.get(&url)
            })
            .await?;
        read_capped(response, CAP, "the test answer").await
    })
}

#[test]
fn a_body_up_to_the_cap_is_read_whole() {
    let body = vec![b'x'; CAP as usize];
    let expected = body.clone();
    let server = StandIn::start(Router::new().route("GET", "/exact", move |_| {
        Response::new(200).body(body.clone())
    }));
    assert_eq!(read(&server, "/exact").unwrap(), expected);
}

#[test]
fn a_declared_length_over_the_cap_fails_before_reading() {
    let server = StandIn::start(Router::new().route("GET", "/big", |_| {
        Response::new(200).body(vec![b'x'; CAP as usize + 1])
    }));
    let error = read(&server, "/big").unwrap_err();
    let HttpError::BodyTooLarge { what, url, cap } = &error else {
        panic!("expected BodyTooLarge, got {error:?}");
    };
    assert_eq!(what, "the test answer");
    assert!(url.ends_with("/big"), "{url}");
    assert_eq!(*cap, CAP);
    assert!(error.hint().is_some());
}

#[test]
fn an_endless_chunked_body_stops_just_past_the_cap() {
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let server = StandIn::start(Router::new().route("GET", "/endless", move |_| {
        let counter = counter.clone();
        Response::new(200).stream(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Chunk::Data(vec![b'x'; CHUNK])
        })
    }));
    let error = read(&server, "/endless").unwrap_err();
    assert!(
        matches!(error, HttpError::BodyTooLarge { cap: CAP, .. }),
        "{error:?}"
    );
    // The stand-in is asked for a chunk only once the last one went out;
    // what the connection buffers ahead is bounded, the body is not read on.
    let chunks = asked.load(Ordering::SeqCst);
    assert!(
        chunks < 64 * (CAP as usize / CHUNK),
        "asked for {chunks} chunks"
    );
}

#[test]
fn a_body_that_breaks_off_is_a_body_error() {
    let server = StandIn::start(Router::new().route("GET", "/broken", |_| {
        let mut sent = false;
        Response::new(200).stream(move || {
            if sent {
                Chunk::Break
            } else {
                sent = true;
                Chunk::Data(b"{\"partial\":".to_vec())
            }
        })
    }));
    let error = read(&server, "/broken").unwrap_err();
    assert!(matches!(error, HttpError::Body { .. }), "{error:?}");
}
