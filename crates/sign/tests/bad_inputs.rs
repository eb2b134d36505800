//! The table of bad inputs: each fails with exit 1 and exactly one
//! `::error::` that says what is wrong and what to change; no signature
//! manifest, index or log entry is written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{KEY_PASSWORD, REPOSITORY, World};
use hoist_cosign::SigningKey;
use hoist_testkit::standin::{Response, Router, StandIn};

/// One row: inputs to set (`@tag`, `@missing`, `@encrypted`, `@pkcs8`,
/// `@public`, `@corrupt`, `@sec1`, `@rsa-public` stand for prepared
/// values), and what the error must say.
struct Row {
    set: &'static [(&'static str, &'static str)],
    says: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        set: &[("image", "")],
        says: &["input `image` is required"],
    },
    Row {
        set: &[("image", "@tag"), ("require-digest", "true")],
        says: &["is a tag, and require-digest is on", "pass the digest"],
    },
    Row {
        set: &[("image", "order-service@sha256:0000")],
        says: &["image", "sha256"],
    },
    Row {
        set: &[("image", "myshop/order-service:v1")],
        says: &["names no registry", "write the full reference"],
    },
    Row {
        set: &[("image", "@missing")],
        says: &["is not in the registry", "push the image first"],
    },
    Row {
        set: &[("image", "@missing-tag")],
        says: &["is not in the registry"],
    },
    Row {
        // No key means keyless, and this job has no OIDC token.
        set: &[("key", "")],
        says: &["ACTIONS_ID_TOKEN_REQUEST_URL", "id-token: write"],
    },
    Row {
        set: &[("key-password", "not-the-password")],
        says: &["input `key`", "password"],
    },
    Row {
        set: &[("key", "@corrupt")],
        says: &["input `key`"],
    },
    Row {
        set: &[("key", "@sec1")],
        says: &["openssl pkcs8 -topk8 -nocrypt"],
    },
    Row {
        set: &[("key", "@public")],
        says: &["input `key`", "PUBLIC KEY"],
    },
    Row {
        set: &[("key", "no/such/cosign.key")],
        // `key` is a secret input, so even a path is masked in the log.
        says: &["input `key`", "cannot read the key file"],
    },
    Row {
        set: &[("key", "env://HOIST_TEST_UNSET_KEY")],
        says: &["HOIST_TEST_UNSET_KEY"],
    },
    Row {
        set: &[("key", "awskms:///alias/cosign")],
        says: &["awskms"],
    },
    Row {
        set: &[("format", "sigstore")],
        says: &["`sigstore` is not a format", "`legacy`, `bundle` or `both`"],
    },
    Row {
        set: &[("mode", "attest")],
        says: &["mode", "attest"],
    },
    Row {
        set: &[("annotations", "git-sha")],
        says: &["has no `=`", "key=value"],
    },
    Row {
        set: &[("rekor-url", "http://rekor.example.com")],
        says: &["rekor-url", "loopback"],
    },
    Row {
        set: &[("rekor-url", "not a url")],
        says: &["rekor-url"],
    },
    Row {
        set: &[("rekor-public-key", "@rsa-public")],
        says: &["rekor-public-key", "RSA"],
    },
    Row {
        set: &[("tlog-upload", "yes")],
        says: &["tlog-upload"],
    },
    Row {
        set: &[("registry-password", "")],
        says: &["registry-username and registry-password go together"],
    },
    Row {
        set: &[("registry-password", "wrong-password")],
        says: &["refused the credentials", "registry-username"],
    },
    Row {
        set: &[("rekor-timeout", "soon")],
        says: &["rekor-timeout"],
    },
    Row {
        set: &[
            ("mode", "verify"),
            ("key", ""),
            ("certificate-identity", SHIP),
            ("certificate-github-workflow-repository", "payments-api"),
        ],
        says: &[
            "input `certificate-github-workflow-repository`",
            "`payments-api` is not a source repository",
            "owner/name",
            "bank-org/payments-api",
        ],
    },
    Row {
        set: &[
            ("mode", "verify"),
            ("key", ""),
            ("certificate-identity", SHIP),
            (
                "certificate-github-workflow-repository",
                "https://github.com/bank-org/payments-api/tree/main",
            ),
        ],
        says: &[
            "certificate-github-workflow-repository",
            "exactly one repository",
        ],
    },
    Row {
        set: &[
            ("mode", "verify"),
            ("key", ""),
            ("certificate-identity", SHIP),
            (
                "certificate-github-workflow-repository",
                "http://github.com/bank-org/payments-api",
            ),
        ],
        says: &["certificate-github-workflow-repository", "https://"],
    },
    Row {
        set: &[
            ("mode", "verify"),
            ("key", ""),
            ("certificate-identity", SHIP),
            ("certificate-github-workflow-repository", "bank-org/*"),
        ],
        says: &[
            "certificate-github-workflow-repository",
            "without wildcards",
        ],
    },
    Row {
        set: &[
            ("mode", "verify"),
            ("key", ""),
            ("certificate-identity", SHIP),
            ("certificate-github-workflow-ref", "main"),
        ],
        says: &["certificate-github-workflow-ref", "refs/heads/main"],
    },
    Row {
        // A pin means nothing to a key-made signature.
        set: &[(
            "certificate-github-workflow-repository",
            "bank-org/payments-api",
        )],
        says: &[
            "certificate-github-workflow-repository",
            "only apply when verifying keyless signatures",
        ],
    },
];

/// ship.yml's identity, which every caller of it signs as.
const SHIP: &str = "https://github.com/hoist-actions/hoist/.github/workflows/ship.yml@refs/tags/v1";

/// An RSA `PUBLIC KEY` (SPKI with rsaEncryption; the modulus is filler).
fn rsa_public_pem() -> String {
    let mut der = vec![
        0x30, 0x81, 0x9f, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
        0x01, 0x05, 0x00, 0x03, 0x81, 0x8d, 0x00, 0x30, 0x81, 0x89, 0x02, 0x81, 0x81, 0x00,
    ];
    der.extend(std::iter::repeat_n(0xab, 128));
    der.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
    hoist_cosign::pem::encode("PUBLIC KEY", &der)
}

#[test]
fn each_bad_input_fails_cleanly_and_writes_nothing() {
    let world = World::new();
    let host = world.registry.host();
    let key = &world.key;
    for row in ROWS {
        let mut sandbox = world.job();
        for (name, value) in row.set {
            let value = match *value {
                "@tag" => format!("{host}/{REPOSITORY}:v1"),
                "@missing" => format!("{host}/{REPOSITORY}@sha256:{}", "1".repeat(64)),
                "@missing-tag" => format!("{host}/{REPOSITORY}:v9"),
                "@corrupt" => "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n".to_owned(),
                "@sec1" => "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n".to_owned(),
                "@public" => key.public_key().to_pem(),
                "@rsa-public" => rsa_public_pem(),
                other => other.to_owned(),
            };
            sandbox.input(name, &value);
        }
        let run = sandbox.run(common::binary(), &[]);
        let message = run.assert_failed_cleanly(row.says);
        assert!(
            message.contains("Hint:") || message.contains('\n'),
            "{message}"
        );
        run.assert_masked(&[KEY_PASSWORD]);
    }
    assert!(
        world.rekor.entries().is_empty(),
        "no bad row reached the log"
    );
    assert!(
        world
            .inspect(&format!("sha256-{}.sig", world.hex()))
            .is_none()
    );
    assert!(world.inspect(&format!("sha256-{}", world.hex())).is_none());
}

/// An ECR-like front: a tag that exists cannot be written again
/// (`IMMUTABLE` without exclusions), answered as ECR answers.
fn immutable_front(world: &World) -> StandIn {
    let target = world.registry.url();
    let mut router = Router::new();
    let check = target.clone();
    router = router.route(
        "PUT",
        &format!("/v2/{REPOSITORY}/manifests/{{reference}}"),
        move |request| {
            let reference = request.param("reference").to_owned();
            if !reference.starts_with("sha256:") {
                let mut head = request.clone();
                head.method = "HEAD".to_owned();
                head.body.clear();
                head.headers.retain(|(name, _)| name == "host" || name == "authorization");
                head.headers.push((
                    "accept".to_owned(),
                    "application/vnd.oci.image.manifest.v1+json".to_owned(),
                ));
                let exists = hoist_testkit::standin::forward(&check, &head).status == 200;
                if exists {
                    return Response::json(
                        400,
                        &serde_json::json!({"errors": [{"code": "TAG_INVALID", "message": format!("The image tag '{reference}' already exists in the '{REPOSITORY}' repository and cannot be overwritten because the tag is immutable.")}]}),
                    );
                }
            }
            hoist_testkit::standin::forward(&check, request)
        },
    );
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
        let target = target.clone();
        router = router.route(method, "/{path*}", move |request| {
            hoist_testkit::standin::forward(&target, request)
        });
    }
    StandIn::start(router)
}

#[test]
fn an_immutable_sig_tag_takes_one_signature_then_says_what_to_change() {
    let world = World::new();
    let front = immutable_front(&world);
    let image = format!("{}/{REPOSITORY}@{}", front.host(), world.digest);
    let mut first = world.job();
    first.input("image", &image).input("format", "legacy");
    let run = first.run(common::binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);

    let other = SigningKey::generate().unwrap();
    let mut second = world.job();
    second
        .input("image", &image)
        .input("key", &other.to_pkcs8_pem());
    let run = second.run(common::binary(), &[]);
    run.assert_failed_cleanly(&[
        "cannot be overwritten because the tag is immutable",
        "IMMUTABLE_WITH_EXCLUSION",
        "`sha256-*`",
        "format: bundle",
    ]);
    let manifest = world
        .inspect(&format!("sha256-{}.sig", world.hex()))
        .unwrap();
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        1,
        "the first signature stands"
    );
    assert!(
        world.inspect(&format!("sha256-{}", world.hex())).is_none(),
        "the bundle was not written after the legacy refusal"
    );
}
