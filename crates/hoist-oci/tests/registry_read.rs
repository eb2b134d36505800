//! The registry client's read side and small-blob pushes, against the real
//! `docker-registry` (distribution 2.8) and, for what distribution 2.8
//! cannot do (the Referrers API, a hostile registry, redirects to storage),
//! stand-ins.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_oci::Digest;
use hoist_oci::media;
use hoist_oci::registry::{Credentials, MANIFEST_LIMIT, Registry, RegistryError};
use hoist_testkit::standin::{Chunk, forward};
use hoist_testkit::{RegistryAuth, Response, Router, StandIn, block_on};
use serde_json::{Value, json};

const REPOSITORY: &str = "team/app";
const USER: &str = "verifier";
const PASSWORD: &str = "pull-only-secret";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

fn client(host: &str, credentials: Option<Credentials>) -> Registry {
    let http = HttpClient::new(&HttpOptions::new("hoist-oci-test", "0"), &BTreeMap::new())
        .expect("HTTP client");
    let policy = RetryPolicy {
        max_attempts: 3,
        deadline: None,
        backoff: Backoff {
            scale: 0.0,
            ..Backoff::default()
        },
    };
    Registry::new(
        http,
        hoist_http::registry_base(host, true).unwrap(),
        REPOSITORY,
        credentials,
        policy,
        Arc::new(SystemClock::default()),
    )
}

fn credentials() -> Option<Credentials> {
    Some(Credentials {
        username: USER.into(),
        password: PASSWORD.into(),
    })
}

/// A front that records every request and passes it to the registry.
fn recording_front(peer: &hoist_testkit::Registry) -> StandIn {
    let mut router = Router::new();
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH"] {
        let target = peer.url();
        router = router.route(method, "/v2/{path*}", move |request| {
            forward(&target, request)
        });
    }
    StandIn::start(router)
}

/// An image manifest with an empty config and one layer (both pushed),
/// plus `extra` fields.
async fn manifest(registry: &Registry, layer: &[u8], extra: Value) -> Vec<u8> {
    let config = registry.push_blob(b"{}").await.unwrap();
    let layer_digest = registry.push_blob(layer).await.unwrap();
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
        "layers": [{"mediaType": BUNDLE, "digest": layer_digest.as_str(), "size": layer.len()}],
    });
    if let (Some(manifest), Value::Object(extra)) = (manifest.as_object_mut(), extra) {
        manifest.extend(extra);
    }
    serde_json::to_vec(&manifest).unwrap()
}

#[test]
fn a_blob_pushed_is_read_back() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let registry = client(&peer.host(), None);
    block_on(async {
        registry.login(&[]).await.unwrap();
        let payload = br#"{"critical":{"identity":{"docker-reference":"x"}}}"#;
        let digest = registry.push_blob(payload).await.unwrap();
        assert_eq!(digest, Digest::of(payload));
        assert!(registry.blob_exists(&digest).await.unwrap());
        assert_eq!(
            registry.get_blob(&digest, 1024).await.unwrap(),
            payload.to_vec()
        );
        assert_eq!(
            registry
                .get_blob(&digest, payload.len() as u64)
                .await
                .unwrap(),
            payload.to_vec(),
            "a blob exactly at the limit is read"
        );
        let missing = registry
            .get_blob(&Digest::of(b"never pushed"), 1024)
            .await
            .unwrap_err();
        assert!(
            matches!(&missing, RegistryError::Api { status: 404, code: Some(code), .. } if code == "BLOB_UNKNOWN"),
            "{missing}"
        );
    });
}

#[test]
fn pushing_a_blob_twice_only_heads_the_second_time() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let front = recording_front(&peer);
    let registry = client(&front.host(), None);
    block_on(async {
        let first = registry.push_blob(b"bundle bytes").await.unwrap();
        let methods: Vec<String> = front.requests().into_iter().map(|r| r.method).collect();
        assert_eq!(methods, ["HEAD", "POST", "PUT"]);
        let before = front.requests().len();
        let second = registry.push_blob(b"bundle bytes").await.unwrap();
        assert_eq!(first, second);
        let after: Vec<(String, String)> = front.requests()[before..]
            .iter()
            .map(|r| (r.method.clone(), r.path.clone()))
            .collect();
        assert_eq!(
            after,
            [("HEAD".to_owned(), format!("/v2/{REPOSITORY}/blobs/{first}"))]
        );
    });
}

#[test]
fn a_blob_over_max_size_is_refused() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let registry = client(&peer.host(), None);
    block_on(async {
        let blob = vec![7u8; 10_000];
        let digest = registry.push_blob(&blob).await.unwrap();
        let error = registry.get_blob(&digest, 9_999).await.unwrap_err();
        assert!(
            matches!(&error, RegistryError::TooLarge { limit: 9_999, .. }),
            "{error}"
        );
    });
}

#[test]
fn a_missing_manifest_is_none() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let registry = client(&peer.host(), None);
    block_on(async {
        assert_eq!(registry.get_manifest("sha256-abc.sig").await.unwrap(), None);
        let digest = Digest::of(b"no such manifest");
        assert_eq!(registry.get_manifest(digest.as_str()).await.unwrap(), None);
        let error = registry.get_manifest("../blobs/x").await.unwrap_err();
        assert!(
            matches!(error, RegistryError::BadReference { .. }),
            "{error}"
        );
    });
}

#[test]
fn a_manifest_put_by_tag_reads_back_byte_for_byte() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let registry = client(&peer.host(), None);
    block_on(async {
        let bytes = manifest(&registry, b"layer", json!({})).await;
        registry
            .put_manifest("v1", media::OCI_MANIFEST, &bytes)
            .await
            .unwrap();
        let stored = registry.get_manifest("v1").await.unwrap().unwrap();
        assert_eq!(stored.bytes, bytes);
        assert_eq!(stored.digest, Digest::of(&bytes));
        assert_eq!(stored.media_type, media::OCI_MANIFEST);
        assert_eq!(
            registry.manifest_digest("v1").await.unwrap(),
            Some(stored.digest.clone())
        );
        let by_digest = registry
            .get_manifest(stored.digest.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_digest, stored);
    });
}

#[test]
fn a_manifest_with_subject_and_artifact_type_is_accepted_by_digest() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let registry = client(&peer.host(), None);
    block_on(async {
        let image = manifest(&registry, b"image layer", json!({})).await;
        let image_digest = Digest::of(&image);
        registry
            .put_manifest(image_digest.as_str(), media::OCI_MANIFEST, &image)
            .await
            .unwrap();
        let referrer = manifest(
            &registry,
            br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
            json!({
                "artifactType": BUNDLE,
                "subject": {"mediaType": media::OCI_MANIFEST, "digest": image_digest.as_str(), "size": image.len()},
                "annotations": {"dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"},
            }),
        )
        .await;
        let referrer_digest = Digest::of(&referrer);
        registry
            .put_manifest(referrer_digest.as_str(), media::OCI_MANIFEST, &referrer)
            .await
            .unwrap();
        let stored = registry
            .get_manifest(referrer_digest.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.bytes, referrer, "unknown fields are kept as pushed");
        assert_eq!(stored.media_type, media::OCI_MANIFEST);
        // distribution 2.8 stores the subject field but indexes nothing.
        assert_eq!(registry.referrers(&image_digest).await.unwrap(), None);
    });
}

#[test]
fn distribution_2_8_has_no_referrers_api() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let front = recording_front(&peer);
    let registry = client(&front.host(), None);
    block_on(async {
        let subject = Digest::of(b"any subject");
        assert_eq!(registry.referrers(&subject).await.unwrap(), None);
    });
    let requests = front.requests();
    let last = requests.last().unwrap();
    assert_eq!(last.header("accept"), Some(media::OCI_INDEX));
    assert_eq!(requests.len(), 1, "a 404 is an answer, not retried");
}

#[test]
fn a_read_only_login_reads_with_basic_credentials() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    let writer = client(&peer.host(), credentials());
    let reader = client(&peer.host(), credentials()).read_only();
    block_on(async {
        writer.login(&[]).await.unwrap();
        let bytes = manifest(&writer, b"layer", json!({})).await;
        writer
            .put_manifest("sha256-abc.sig", media::OCI_MANIFEST, &bytes)
            .await
            .unwrap();

        reader.login(&[]).await.unwrap();
        let stored = reader
            .get_manifest("sha256-abc.sig")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.bytes, bytes);
        let layer = Digest::of(b"layer");
        assert_eq!(reader.get_blob(&layer, 64).await.unwrap(), b"layer");

        let anonymous = client(&peer.host(), None).read_only();
        let refused = anonymous.login(&[]).await.unwrap_err();
        assert!(
            matches!(
                refused,
                RegistryError::Unauthorized {
                    anonymous: true,
                    ..
                }
            ),
            "{refused}"
        );
    });
}

const PULL_TOKEN: &str = "token-pull-5e1";
const PUSH_TOKEN: &str = "token-push-9a4";

/// Token auth in front of the registry: the token service grants what the
/// scope asks for, and writes need a push token (`insufficient_scope`
/// otherwise, as distribution's token auth answers).
fn token_front(peer: &hoist_testkit::Registry, scopes: Arc<Mutex<Vec<String>>>) -> StandIn {
    let realm = Arc::new(Mutex::new(String::new()));
    let mut router = Router::new().route("GET", "/token", move |request| {
        use base64::Engine as _;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        if request.header("authorization") != Some(expected.as_str()) {
            return Response::json(401, &json!({"errors": [{"code": "UNAUTHORIZED"}]}));
        }
        let scope = request.query_param("scope").unwrap_or_default();
        scopes.lock().unwrap().push(scope.clone());
        let token = if scope.ends_with(":pull,push") {
            PUSH_TOKEN
        } else {
            PULL_TOKEN
        };
        Response::json(200, &json!({"token": token, "expires_in": 300}))
    });
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH"] {
        let (target, realm) = (peer.url(), Arc::clone(&realm));
        router = router.route(method, "/v2/{path*}", move |request| {
            let token = request.header("authorization").unwrap_or_default();
            let allowed = match request.method.as_str() {
                "GET" | "HEAD" => [PULL_TOKEN, PUSH_TOKEN].iter().any(|t| token == format!("Bearer {t}")),
                _ => token == format!("Bearer {PUSH_TOKEN}"),
            };
            if !allowed {
                let scope = if matches!(request.method.as_str(), "GET" | "HEAD") { "pull" } else { "pull,push" };
                let challenge = format!(
                    "Bearer realm=\"{}\",service=\"hoist-test\",scope=\"repository:{REPOSITORY}:{scope}\"{}",
                    realm.lock().unwrap(),
                    if token.is_empty() { "" } else { ",error=\"insufficient_scope\"" },
                );
                return Response::json(401, &json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}))
                    .header("www-authenticate", &challenge);
            }
            forward(&target, request)
        });
    }
    let front = StandIn::start(router);
    *realm.lock().unwrap() = format!("{}/token", front.url());
    front
}

#[test]
fn a_read_only_login_asks_the_token_service_for_pull_only() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let scopes = Arc::new(Mutex::new(Vec::new()));
    let front = token_front(&peer, Arc::clone(&scopes));
    let writer = client(&front.host(), credentials());
    let reader = client(&front.host(), credentials()).read_only();
    block_on(async {
        writer.login(&[]).await.unwrap();
        let bytes = manifest(&writer, b"signed layer", json!({})).await;
        writer
            .put_manifest("v1", media::OCI_MANIFEST, &bytes)
            .await
            .unwrap();

        reader.login(&[]).await.unwrap();
        let stored = reader.get_manifest("v1").await.unwrap().unwrap();
        assert_eq!(stored.bytes, bytes);
        let layer = Digest::of(b"signed layer");
        assert_eq!(reader.get_blob(&layer, 64).await.unwrap(), b"signed layer");
        let denied = reader
            .push_blob(b"not with a pull token")
            .await
            .unwrap_err();
        assert!(
            matches!(denied, RegistryError::Api { status: 401, .. }),
            "{denied}"
        );
    });
    assert_eq!(
        scopes.lock().unwrap().as_slice(),
        [
            format!("repository:{REPOSITORY}:pull,push"),
            format!("repository:{REPOSITORY}:pull")
        ]
    );
}

/// A registry that serves whatever it likes.
fn hostile_registry(signed: &Digest, served: Vec<u8>) -> StandIn {
    let signed = signed.clone();
    let manifests = format!("/v2/{REPOSITORY}/manifests/{{reference}}");
    let blobs = format!("/v2/{REPOSITORY}/blobs/{{digest}}");
    let blob_bytes = served.clone();
    StandIn::start(
        Router::new()
            .route("GET", &manifests, move |request| {
                match request.param("reference") {
                    "untyped" => Response::new(200).body(
                        json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": []})
                            .to_string(),
                    ),
                    "endless" => Response::new(200)
                        .header("content-type", media::OCI_MANIFEST)
                        .stream(|| Chunk::Data(vec![b' '; 64 * 1024])),
                    reference if reference == signed.as_str() || reference == "v1" => {
                        Response::new(200)
                            .header("content-type", media::OCI_MANIFEST)
                            .header("docker-content-digest", signed.as_str())
                            .body(served.clone())
                    }
                    _ => Response::json(404, &json!({"errors": [{"code": "MANIFEST_UNKNOWN"}]})),
                }
            })
            .route("GET", &blobs, move |_| {
                Response::new(200)
                    .header("content-type", "application/octet-stream")
                    .body(blob_bytes.clone())
            }),
    )
}

#[test]
fn a_manifest_that_does_not_hash_to_its_digest_is_refused() {
    let signed = Digest::of(br#"{"schemaVersion":2,"what":"was signed"}"#);
    let substitute = br#"{"schemaVersion":2,"what":"the registry swapped in"}"#.to_vec();
    let stand_in = hostile_registry(&signed, substitute.clone());
    let registry = client(&stand_in.host(), None);
    block_on(async {
        let error = registry.get_manifest(signed.as_str()).await.unwrap_err();
        assert!(
            matches!(&error, RegistryError::DigestMismatch { expected, actual, .. }
                if *expected == signed && *actual == Digest::of(&substitute)),
            "{error}"
        );
        // By tag there is nothing to check against: the digest is what the
        // bytes hash to, whatever Docker-Content-Digest claims.
        let by_tag = registry.get_manifest("v1").await.unwrap().unwrap();
        assert_eq!(by_tag.digest, Digest::of(&substitute));

        let error = registry.get_blob(&signed, 1024).await.unwrap_err();
        assert!(
            matches!(error, RegistryError::DigestMismatch { .. }),
            "{error}"
        );
    });
    let gets = stand_in
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(signed.as_str()))
        .count();
    assert_eq!(gets, 2, "a mismatch is not retried");
}

#[test]
fn a_manifest_without_a_content_type_takes_the_body_media_type() {
    let stand_in = hostile_registry(&Digest::of(b"x"), Vec::new());
    let registry = client(&stand_in.host(), None);
    let stored = block_on(registry.get_manifest("untyped")).unwrap().unwrap();
    assert_eq!(stored.media_type, media::OCI_INDEX);
}

#[test]
fn a_manifest_body_over_the_limit_is_not_read_to_its_end() {
    let stand_in = hostile_registry(&Digest::of(b"x"), Vec::new());
    let registry = client(&stand_in.host(), None);
    let error = block_on(registry.get_manifest("endless")).unwrap_err();
    assert!(
        matches!(
            error,
            RegistryError::TooLarge {
                limit: MANIFEST_LIMIT,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_blob_redirected_to_another_host_is_fetched_without_the_credentials() {
    let blob = b"signature payload in object storage".to_vec();
    let digest = Digest::of(&blob);
    let served = blob.clone();
    let storage = StandIn::start(Router::new().route("GET", "/bucket/{key}", move |_| {
        Response::new(200)
            .header("content-type", "application/octet-stream")
            .body(served.clone())
    }));
    let storage_url = storage.url();
    let blobs = format!("/v2/{REPOSITORY}/blobs/{{digest}}");
    let registry_stand_in = StandIn::start(
        Router::new()
            .route("GET", "/v2/", |request| {
                if request.header("authorization").is_some() {
                    Response::json(200, &json!({}))
                } else {
                    Response::json(401, &json!({"errors": [{"code": "UNAUTHORIZED"}]}))
                        .header("www-authenticate", "Basic realm=\"stand-in\"")
                }
            })
            .route("GET", &blobs, move |request| {
                if request.header("authorization").is_none() {
                    return Response::json(401, &json!({"errors": [{"code": "UNAUTHORIZED"}]}));
                }
                let key = request.param("digest").replace(':', "-");
                Response::new(307).header("location", &format!("{storage_url}/bucket/{key}"))
            }),
    );
    let registry = client(&registry_stand_in.host(), credentials());
    block_on(async {
        registry.login(&[]).await.unwrap();
        assert_eq!(registry.get_blob(&digest, 1024).await.unwrap(), blob);
    });
    let fetched = storage.requests();
    assert_eq!(fetched.len(), 1);
    assert_eq!(
        fetched[0].header("authorization"),
        None,
        "the registry's credentials stay with the registry"
    );
    let asked = registry_stand_in.requests();
    assert!(asked.last().unwrap().header("authorization").is_some());
}

/// A registry with the OCI 1.1 Referrers API, answering as the
/// distribution spec says: an image index, `Content-Type` included, an
/// empty list for a subject with no referrers, pages linked by `Link`.
fn referrers_registry(signed: &Digest, bare: &Digest, paged: &Digest, untyped: &Digest) -> StandIn {
    let (signed, bare, paged, untyped) =
        (signed.clone(), bare.clone(), paged.clone(), untyped.clone());
    let index = |manifests: Value| {
        Response::new(200)
            .header("content-type", media::OCI_INDEX)
            .body(
                json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": manifests})
                    .to_string(),
            )
    };
    let descriptor = |n: u8| {
        json!({
            "mediaType": media::OCI_MANIFEST,
            "digest": Digest::of(&[n]).as_str(),
            "size": 512 + u32::from(n),
            "artifactType": BUNDLE,
            "annotations": {"dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1", "org.opencontainers.image.created": "2026-11-22T08:00:00Z"},
        })
    };
    let route = format!("/v2/{REPOSITORY}/referrers/{{digest}}");
    StandIn::start(Router::new().route("GET", &route, move |request| {
        let digest = request.param("digest");
        if digest == signed.as_str() {
            index(json!([descriptor(1)]))
        } else if digest == bare.as_str() {
            index(json!([]))
        } else if digest == paged.as_str() {
            match request.query_param("last") {
                None => index(json!([descriptor(2)])).header(
                    "link",
                    &format!("</v2/{REPOSITORY}/referrers/{paged}?n=1&last=2>; rel=\"next\""),
                ),
                Some(_) => index(json!([descriptor(3)])),
            }
        } else if digest == untyped.as_str() {
            Response::json(200, &json!({"manifests": [descriptor(4)]}))
        } else {
            Response::json(
                404,
                &json!({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]}),
            )
        }
    }))
}

#[test]
fn referrers_come_from_the_referrers_api_when_the_registry_has_one() {
    let [signed, bare, paged, untyped, unknown] =
        [b"signed", b"bare..", b"paged.", b"untypd", b"other."].map(|s| Digest::of(s));
    let stand_in = referrers_registry(&signed, &bare, &paged, &untyped);
    let registry = client(&stand_in.host(), None);
    block_on(async {
        let index = registry.referrers(&signed).await.unwrap().unwrap();
        assert_eq!(index["mediaType"], media::OCI_INDEX);
        let manifests = index["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 1);
        assert_eq!(manifests[0]["artifactType"], BUNDLE);
        assert_eq!(
            manifests[0]["annotations"]["dev.sigstore.bundle.predicateType"],
            "https://sigstore.dev/cosign/sign/v1"
        );

        let none_yet = registry.referrers(&bare).await.unwrap().unwrap();
        assert_eq!(none_yet["manifests"], json!([]), "the API is there, empty");

        let joined = registry.referrers(&paged).await.unwrap().unwrap();
        let digests: Vec<&str> = joined["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["digest"].as_str().unwrap())
            .collect();
        assert_eq!(
            digests,
            [Digest::of(&[2]).as_str(), Digest::of(&[3]).as_str()]
        );

        assert_eq!(
            registry.referrers(&untyped).await.unwrap(),
            None,
            "a 200 that is not an image index is no Referrers API"
        );
        assert_eq!(registry.referrers(&unknown).await.unwrap(), None);
    });
    assert!(
        stand_in
            .requests()
            .iter()
            .all(|r| r.header("accept") == Some(media::OCI_INDEX))
    );
}
