//! Bearer-token auth, as Docker Hub, GHCR and distribution's token auth
//! speak it: a front that demands a token for the repository's scope, a
//! token endpoint that checks Basic credentials, and the real registry
//! behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{PASSWORD, REPOSITORY, USER, binary};
use hoist_testkit::{Registry, RegistryAuth, Response, Router, Sandbox, StandIn};

const TOKEN: &str = "registry-token-7d1e";

fn token_front(registry: &Registry, scopes: Arc<Mutex<Vec<String>>>) -> StandIn {
    let target = registry.url();
    let realm = Arc::new(Mutex::new(String::new()));
    let realm_for_routes = Arc::clone(&realm);
    let mut router = Router::new().route("GET", "/token", move |request| {
        use base64::Engine as _;
        let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}")));
        if request.header("authorization") != Some(expected.as_str()) {
            return Response::json(401, &serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}));
        }
        if request.query_param("service").as_deref() != Some("hoist-test") {
            return Response::json(400, &serde_json::json!({"errors": [{"code": "UNSUPPORTED", "message": "unknown service"}]}));
        }
        scopes.lock().unwrap().extend(request.query_param("scope"));
        Response::json(200, &serde_json::json!({"token": TOKEN, "expires_in": 300}))
    });
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH"] {
        let (target, realm) = (target.clone(), Arc::clone(&realm_for_routes));
        router = router.route(method, "/v2/{path*}", move |request| {
            if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                let challenge = format!("Bearer realm=\"{}\",service=\"hoist-test\"", realm.lock().unwrap());
                return Response::json(401, &serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}))
                    .header("www-authenticate", &challenge);
            }
            hoist_testkit::standin::forward(&target, request)
        });
    }
    let front = StandIn::start(router);
    *realm.lock().unwrap() = format!("{}/token", front.url());
    front
}

#[test]
fn a_bearer_challenge_is_answered_with_a_scoped_token() {
    let registry = Registry::start(RegistryAuth::Anonymous);
    let scopes = Arc::new(Mutex::new(Vec::new()));
    let front = token_front(&registry, Arc::clone(&scopes));
    let images = tempfile::tempdir().unwrap();
    let layout = hoist_testkit::oci::Layout::new(&images.path().join("app"));
    let root = layout.image(
        "linux/amd64",
        &[hoist_testkit::oci::layer("a", b"token auth")],
    );
    let digest = layout.finish(&root);

    let mut sandbox = Sandbox::new();
    sandbox
        .env("HOIST_BACKOFF_SCALE", "0")
        .input("source", layout.dir().to_str().unwrap())
        .input("registry", &front.host())
        .input("repository", REPOSITORY)
        .input("insecure-registry", "true")
        .input("registry-username", USER)
        .input("registry-password", PASSWORD)
        .input("tags", "bearer");
    let run = sandbox.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs()["digest"], digest);
    assert_eq!(
        scopes.lock().unwrap().as_slice(),
        [format!("repository:{REPOSITORY}:pull,push")]
    );
    assert!(
        !run.stdout.contains(TOKEN),
        "the registry token never reaches the log"
    );

    sandbox.input("registry-password", "wrong");
    let denied = sandbox.run(binary(), &[]);
    denied.assert_failed_cleanly(&["refused the credentials"]);
}
