//! require-image against the Debian `docker-registry` (htpasswd): an image
//! that is there lets the promotion open; one that is not fails before any
//! branch or pull request exists. The image is pushed with skopeo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use hoist_cosign::signer::Signer;
use hoist_testkit::fulcio::{FulcioStandIn, trusted_root};
use hoist_testkit::github::{GitHubStandIn, TokenKind};
use hoist_testkit::oci::{Layout, layer};
use hoist_testkit::oidc::{OidcIssuer, SHIP_WORKFLOW_REF};
use hoist_testkit::peers::require;
use hoist_testkit::rekor::RekorStandIn;
use hoist_testkit::{GitRemote, Moto, Registry, RegistryAuth, Sandbox};

const TOKEN: &str = "ghp_promoterPersonalToken0123456789";
const USER: &str = "ci";
const PASSWORD: &str = "registry-password-0123456789";

/// Pushes a one-layer image to `host/payments:tag` and gives its digest.
fn push(host: &str, tag: &str) -> String {
    push_as(host, tag, USER, PASSWORD)
}

/// As [`push`], logged in as `user`.
fn push_as(host: &str, tag: &str, user: &str, password: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(&dir.path().join("image"));
    let root = layout.image("linux/amd64", &[layer("app/server", b"payments build")]);
    layout.finish(&root);
    let digest_file = dir.path().join("digest");
    let status = Command::new(require("skopeo", "the Debian package `skopeo`"))
        .args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            &format!("{user}:{password}"),
        ])
        .arg("--digestfile")
        .arg(&digest_file)
        .arg(format!("oci:{}", layout.dir().display()))
        .arg(format!("docker://{host}/payments:{tag}"))
        .status()
        .unwrap();
    assert!(status.success(), "skopeo copy failed");
    std::fs::read_to_string(digest_file)
        .unwrap()
        .trim()
        .to_owned()
}

fn world(registry: &Registry, digest: &str) -> (GitHubStandIn, Sandbox) {
    let overlay = |tag: &str, digest: Option<&str>| {
        let mut text = format!(
            "images:\n  - name: payments\n    newName: {}/payments\n    newTag: {tag}\n",
            registry.host()
        );
        if let Some(digest) = digest {
            text.push_str(&format!("    digest: {digest}\n"));
        }
        text
    };
    let remote = GitRemote::with_files(&[
        (
            "apps/payments/overlays/dev/kustomization.yaml",
            &overlay("v1.1.0", Some(digest)),
        ),
        (
            "apps/payments/overlays/staging/kustomization.yaml",
            &overlay("v1.0.0", None),
        ),
    ]);
    let github = GitHubStandIn::start("bank-org", "gitops-repo", remote, "ghs_unused");
    github.add_token(TOKEN, TokenKind::Pat);
    let mut sandbox = Sandbox::new();
    sandbox
        .env("HOIST_BACKOFF_SCALE", "0")
        .env("GITHUB_API_URL", &github.url())
        .input("repository", "bank-org/gitops-repo")
        .input("token", TOKEN)
        .input("from-env", "dev")
        .input("to-env", "staging")
        .input("apps", "payments")
        .input("require-image", "true")
        .input("insecure-registry", "true")
        .input("registry-username", USER)
        .input("registry-password", PASSWORD);
    (github, sandbox)
}

#[test]
fn an_image_in_the_registry_lets_the_promotion_open() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    let digest = push(&registry.host(), "v1.1.0");
    let (_github, sandbox) = world(&registry, &digest);
    let result = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert_eq!(result.outputs()["pull-request-operation"], "created");
    result.assert_masked(&[TOKEN, PASSWORD]);
}

#[test]
fn a_missing_image_fails_before_any_branch_is_pushed() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    push(&registry.host(), "v1.1.0");
    let missing = format!("sha256:{}", "0".repeat(64));
    let (github, sandbox) = world(&registry, &missing);
    let result = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    result.assert_failed_cleanly(&["is not in its registry", &missing, "push the image first"]);
    assert_eq!(
        github.request_count("POST", "/repos/bank-org/gitops-repo/git/refs"),
        0
    );
    assert_eq!(
        github.request_count("POST", "/repos/bank-org/gitops-repo/pulls"),
        0
    );
}

/// Signs `host/payments@digest` with `signer` in both formats, in-process
/// through the same library the sign action uses, logged in the Rekor at
/// `rekor_url` when given.
fn sign(host: &str, digest: &str, signer: &Signer, rekor_url: Option<&str>) {
    sign_as(host, digest, signer, rekor_url, (USER, PASSWORD));
}

/// As [`sign`], logged in to the registry as `(user, password)`.
fn sign_as(
    host: &str,
    digest: &str,
    signer: &Signer,
    rekor_url: Option<&str>,
    (user, password): (&str, &str),
) {
    use std::sync::Arc;

    use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
    use hoist_oci::registry::{Credentials, Registry as Client};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = HttpClient::new(&HttpOptions::new("test", "0"), &Default::default()).unwrap();
    let client = Client::new(
        http,
        hoist_http::registry_base(host, true).unwrap(),
        "payments",
        Some(Credentials {
            username: user.into(),
            password: password.into(),
        }),
        RetryPolicy {
            backoff: Backoff {
                scale: 0.0,
                ..Backoff::default()
            },
            ..RetryPolicy::default()
        },
        Arc::new(SystemClock::default()),
    );
    runtime.block_on(async {
        client.login(&[]).await.unwrap();
        let digest = hoist_oci::Digest::parse(digest).unwrap();
        let manifest = client.get_manifest(digest.as_str()).await.unwrap().unwrap();
        let request = hoist_cosign::SignRequest {
            subject: hoist_cosign::Subject {
                media_type: manifest.media_type,
                size: manifest.bytes.len() as u64,
                digest,
            },
            docker_reference: format!("{host}/payments"),
            annotations: Default::default(),
            formats: hoist_cosign::Formats::Both,
            created: "2026-11-22T00:00:00Z".into(),
            attestations: Vec::new(),
        };
        let rekor = rekor_url.map(|url| {
            hoist_cosign::rekor::RekorClient::new(
                HttpClient::new(&HttpOptions::new("test", "0"), &Default::default()).unwrap(),
                url::Url::parse(url).unwrap(),
                RetryPolicy::default(),
                Arc::new(SystemClock::default()),
            )
        });
        hoist_cosign::sign(&client, rekor.as_ref(), signer, &request)
            .await
            .unwrap();
    });
}

#[test]
fn an_unsigned_image_blocks_the_promotion_and_a_signed_one_passes() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    let digest = push(&registry.host(), "v1.1.0");
    let key = hoist_cosign::SigningKey::generate().unwrap();
    let (github, mut sandbox) = world(&registry, &digest);
    sandbox
        .input("require-image", "false")
        .input("require-signature", "true")
        .env("COSIGN_PUB", &key.public_key().to_pem())
        .input("signature-key", "env://COSIGN_PUB");

    let unsigned = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    unsigned.assert_failed_cleanly(&[
        "has no signature that verifies with `signature-key`",
        "it has no signatures",
        &digest,
        "sign the image",
    ]);
    assert_eq!(
        github.request_count("POST", "/repos/bank-org/gitops-repo/pulls"),
        0
    );

    // Signed by another key: still blocked, and the reason says so.
    sign(
        &registry.host(),
        &digest,
        &Signer::Key(hoist_cosign::SigningKey::generate().unwrap()),
        None,
    );
    let stranger = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    stranger.assert_failed_cleanly(&["does not verify with the public key"]);

    sign(&registry.host(), &digest, &Signer::Key(key), None);
    let signed = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(signed.code, Some(0), "{}", signed.stdout);
    assert_eq!(signed.outputs()["pull-request-operation"], "created");
}

/// A keyless signer: the issuer's token for `sigstore`, an ephemeral key,
/// and the Fulcio stand-in's certificate for it.
fn keyless_signer(issuer: &OidcIssuer, fulcio: &FulcioStandIn) -> Signer {
    use std::sync::Arc;

    use hoist_cosign::certificate::Certificate;
    use hoist_cosign::fulcio::FulcioClient;
    use hoist_cosign::signer::Certified;
    use hoist_http::{HttpClient, HttpOptions, RetryPolicy, SystemClock};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = HttpClient::new(&HttpOptions::new("test", "0"), &Default::default()).unwrap();
    let clock = Arc::new(SystemClock::default());
    let policy = RetryPolicy::default();
    runtime.block_on(async {
        let token = hoist_http::id_token::request_id_token(
            &http,
            &policy,
            clock.as_ref(),
            &issuer.request_url(),
            &issuer.request_token(),
            "sigstore",
        )
        .await
        .unwrap();
        let key = hoist_cosign::SigningKey::generate().unwrap();
        let client = FulcioClient::new(
            http.clone(),
            url::Url::parse(&fulcio.url()).unwrap(),
            policy,
            clock,
        );
        let chain = client.signing_certificate(&token, &key).await.unwrap();
        let chain = chain
            .iter()
            .map(|pem| Certificate::from_pem(pem).unwrap())
            .collect();
        Signer::Keyless(Certified::new(key, chain).unwrap())
    })
}

#[test]
fn a_keyless_signature_passes_only_for_the_expected_workflow() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    let digest = push(&registry.host(), "v1.1.0");
    let issuer = OidcIssuer::start();
    let fulcio = FulcioStandIn::start(&issuer);
    let rekor = RekorStandIn::start();
    let (github, mut sandbox) = world(&registry, &digest);
    let root = sandbox.workspace().join("trusted_root.json");
    std::fs::write(&root, trusted_root(&fulcio, &rekor).to_string()).unwrap();
    sign(
        &registry.host(),
        &digest,
        &keyless_signer(&issuer, &fulcio),
        Some(&rekor.url()),
    );
    let signer = "https://github.com/acme/shop/.github/workflows/ci.yaml@refs/heads/main";
    let release = signer.replace("refs/heads/main", "refs/tags/v1.1.0");
    sandbox
        .input("require-image", "false")
        .input("require-signature", "true")
        .input("signature-trusted-root", "trusted_root.json")
        .input("signature-certificate-identity", &release);
    sandbox
        .run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[])
        .assert_failed_cleanly(&[&release, signer, "nothing was opened"]);
    assert_eq!(
        github.request_count("POST", "/repos/bank-org/gitops-repo/pulls"),
        0
    );

    sandbox.input("signature-certificate-identity", signer);
    let passed = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(passed.code, Some(0), "{}", passed.stdout);
    assert_eq!(passed.outputs()["pull-request-operation"], "created");
}

#[test]
fn a_reusable_workflow_signature_passes_only_for_the_pinned_calling_repository() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    let digest = push(&registry.host(), "v1.1.0");
    let issuer = OidcIssuer::start();
    let fulcio = FulcioStandIn::start(&issuer);
    let rekor = RekorStandIn::start();
    let (github, mut sandbox) = world(&registry, &digest);
    let root = sandbox.workspace().join("trusted_root.json");
    std::fs::write(&root, trusted_root(&fulcio, &rekor).to_string()).unwrap();
    let ship = format!("https://github.com/{SHIP_WORKFLOW_REF}");
    sandbox
        .input("require-image", "false")
        .input("require-signature", "true")
        .input("signature-trusted-root", "trusted_root.json")
        .input("signature-certificate-identity", &ship)
        .input(
            "signature-certificate-github-workflow-repository",
            "bank-org/payments-api",
        );

    // Signed through the same ship.yml, but called by another organisation.
    issuer.call_reusable_workflow("other-org/app", SHIP_WORKFLOW_REF);
    sign(
        &registry.host(),
        &digest,
        &keyless_signer(&issuer, &fulcio),
        Some(&rekor.url()),
    );
    sandbox
        .run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[])
        .assert_failed_cleanly(&[
            "the certificate's source repository is `https://github.com/other-org/app`, but \
             `bank-org/payments-api` was expected",
            "nothing was opened",
        ]);
    assert_eq!(
        github.request_count("POST", "/repos/bank-org/gitops-repo/pulls"),
        0
    );

    // Signed by ship.yml called from bank-org/payments-api: it passes.
    issuer.call_reusable_workflow("bank-org/payments-api", SHIP_WORKFLOW_REF);
    sign(
        &registry.host(),
        &digest,
        &keyless_signer(&issuer, &fulcio),
        Some(&rekor.url()),
    );
    sandbox
        .input(
            "signature-certificate-github-workflow-ref",
            "refs/heads/main",
        )
        .input("signature-certificate-github-workflow-trigger", "push")
        .input(
            "signature-certificate-build-config-uri",
            "https://github.com/bank-org/payments-api/.github/workflows/ci.yaml@refs/heads/main",
        );
    let passed = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(passed.code, Some(0), "{}", passed.stdout);
    assert_eq!(passed.outputs()["pull-request-operation"], "created");
}

#[test]
fn an_ecr_image_is_read_with_the_jobs_aws_credentials() {
    // moto's GetAuthorizationToken hands out `AWS` and this password for its
    // default account; the registry takes exactly that.
    const MOTO_PASSWORD: &str = "123456789012-auth-token";
    let moto = Moto::start();
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: "AWS".into(),
        password: MOTO_PASSWORD.into(),
    });
    let digest = push_as(&registry.host(), "v1.1.0", "AWS", MOTO_PASSWORD);
    let key = hoist_cosign::SigningKey::generate().unwrap();
    let (github, mut sandbox) = world(&registry, &digest);
    sandbox
        .unset("INPUT_REGISTRY-USERNAME")
        .unset("INPUT_REGISTRY-PASSWORD")
        .input("require-signature", "true")
        .env("COSIGN_PUB", &key.public_key().to_pem())
        .input("signature-key", "env://COSIGN_PUB");

    // Without AWS credentials the registry refuses: nothing is opened.
    sandbox
        .run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[])
        .assert_failed_cleanly(&["could not check", "registry-username"]);
    assert_eq!(
        github.request_count("POST", "/repos/bank-org/gitops-repo/pulls"),
        0
    );

    // With the job's AWS credentials: ECR's token opens the registry, and
    // the signature is read and verified through it.
    sandbox
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &moto.url());
    sandbox
        .run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[])
        .assert_failed_cleanly(&["it has no signatures", "sign the image"]);
    sign_as(
        &registry.host(),
        &digest,
        &Signer::Key(key),
        None,
        ("AWS", MOTO_PASSWORD),
    );
    let passed = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(passed.code, Some(0), "{}", passed.stdout);
    assert_eq!(passed.outputs()["pull-request-operation"], "created");
}

#[test]
fn require_signature_needs_a_usable_key() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    let digest = push(&registry.host(), "v1.1.0");
    let (_github, mut sandbox) = world(&registry, &digest);
    sandbox.input("require-signature", "true");
    sandbox
        .run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[])
        .assert_failed_cleanly(&["signature-key", "cosign.pub"]);
    sandbox.input(
        "signature-key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
    sandbox
        .run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[])
        .assert_failed_cleanly(&["signature-key"]);
}
