//! ecr-push through faults: connections cut mid-blob, throttling with
//! `Retry-After`, and a registry that refuses to move an immutable tag.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{REPOSITORY, World};
use hoist_testkit::oci::{Layout, layer, sha256};
use hoist_testkit::proxy::CuttingProxy;
use hoist_testkit::{Fault, Response, Router, StandIn};

/// An image with one 3 MiB layer, so a cut lands mid-blob.
fn big_image(world: &World) -> (std::path::PathBuf, String) {
    let dir = world.path("big");
    let layout = Layout::new(&dir);
    let payload: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let root = layout.image("linux/amd64", &[layer("data.bin", &payload)]);
    let digest = layout.finish(&root);
    (dir, digest)
}

/// A front that passes every request to the registry.
fn front(world: &World, extra: impl FnOnce(Router) -> Router) -> StandIn {
    let target = world.registry.url();
    let mut router = Router::new();
    router = extra(router);
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
        let target = target.clone();
        router = router.route(method, "/{path*}", move |request| {
            hoist_testkit::standin::forward(&target, request)
        });
    }
    StandIn::start(router)
}

#[test]
fn a_connection_cut_mid_blob_is_retried_from_the_start() {
    let mut world = World::new();
    let (dir, digest) = big_image(&world);
    let proxy = CuttingProxy::start(&world.registry.host());
    proxy.cut_next(1024 * 1024);
    world
        .sandbox
        .input("registry", &proxy.host())
        .input("source", dir.to_str().unwrap())
        .input("tags", "cut");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(proxy.cuts_made(), 1, "the upload was cut once");
    assert_eq!(run.outputs()["digest"], digest);
    assert_eq!(sha256(&world.inspect("cut").unwrap()), digest);
}

#[test]
fn throttling_with_retry_after_is_waited_out() {
    let mut world = World::new();
    let (dir, digest) = world.simple_image("app", "v1");
    let front = front(&world, |router| router);
    front.fault_on(
        &format!("/v2/{REPOSITORY}/blobs/uploads"),
        Fault::RetryAfter {
            status: 429,
            seconds: 2,
        },
    );
    front.fault_on(
        &format!("/v2/{REPOSITORY}/manifests/sha256:"),
        Fault::Status(503),
    );
    world
        .sandbox
        .input("registry", &front.host())
        .input("source", dir.to_str().unwrap())
        .input("tags", "throttled");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs()["digest"], digest);
    assert_eq!(sha256(&world.inspect("throttled").unwrap()), digest);
    let uploads = front
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("/blobs/uploads"))
        .count();
    assert_eq!(uploads, 4, "three blobs, one POST throttled and repeated");
}

#[test]
fn an_immutable_tag_refusal_is_reported_like_the_guard() {
    let mut world = World::new();
    let (dir, digest) = world.simple_image("app", "v1");
    let front = front(&world, |router| {
        router.route("PUT", &format!("/v2/{REPOSITORY}/manifests/1.2.3"), |_| {
            Response::json(
                400,
                &serde_json::json!({"errors": [{"code": "TAG_INVALID", "message": "The image tag '1.2.3' already exists in the 'myshop/myshop-api' repository and cannot be overwritten because the tag is immutable."}]}),
            )
        })
    });
    world
        .sandbox
        .input("registry", &front.host())
        .input("source", dir.to_str().unwrap())
        .input("tags", "1.2.3");
    let run = world.run();
    run.assert_failed_cleanly(&[
        &format!("the registry refused to move tag `1.2.3` to {digest}"),
        "cannot be overwritten because the tag is immutable",
        "push a new tag",
    ]);
    assert!(world.inspect("1.2.3").is_none());
}

#[test]
fn a_quota_refusal_names_the_quota() {
    let mut world = World::new();
    let (dir, _) = world.simple_image("app", "v1");
    let front = front(&world, |router| {
        router.route("PUT", &format!("/v2/{REPOSITORY}/manifests/{{reference}}"), |_| {
            Response::json(
                403,
                &serde_json::json!({"errors": [{"code": "DENIED", "message": "The repository has reached the limit of 100000 images"}]}),
            )
        })
    });
    world
        .sandbox
        .input("registry", &front.host())
        .input("source", dir.to_str().unwrap())
        .input("tags", "quota");
    let run = world.run();
    run.assert_failed_cleanly(&[
        "HTTP 403 DENIED: The repository has reached the limit",
        "images per repository: 100,000",
    ]);
}
