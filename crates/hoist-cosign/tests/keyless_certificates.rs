//! Fulcio certificates, as the Fulcio stand-in issues them for a GitHub
//! token, checked the way verification checks them: the chain at the
//! signing time, the embedded SCT, the identity and the issuer; and the
//! ways each check fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use hoist_cosign::SigningKey;
use hoist_cosign::certificate::{
    Certificate, CertificateError, verify_chain, verify_embedded_scts,
};
use hoist_cosign::fulcio::{FulcioClient, FulcioError};
use hoist_cosign::identity::Identity;
use hoist_cosign::trust::TrustedRoot;
use hoist_http::{HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_testkit::block_on;
use hoist_testkit::fulcio::{FulcioStandIn, trusted_root};
use hoist_testkit::oidc::OidcIssuer;
use hoist_testkit::rekor::RekorStandIn;

const IDENTITY: &str = "https://github.com/acme/shop/.github/workflows/ci.yaml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

struct Sigstore {
    issuer: OidcIssuer,
    fulcio: FulcioStandIn,
    root: TrustedRoot,
}

fn sigstore() -> Sigstore {
    let issuer = OidcIssuer::start();
    let fulcio = FulcioStandIn::start(&issuer);
    let rekor = RekorStandIn::start();
    let root =
        TrustedRoot::from_json(trusted_root(&fulcio, &rekor).to_string().as_bytes()).unwrap();
    Sigstore {
        issuer,
        fulcio,
        root,
    }
}

/// The chain Fulcio issues for a fresh key and the issuer's token.
fn certify(sigstore: &Sigstore) -> Result<Vec<Certificate>, FulcioError> {
    certify_for(sigstore, "sigstore")
}

/// As [`certify`], with a token for `audience`.
fn certify_for(sigstore: &Sigstore, audience: &str) -> Result<Vec<Certificate>, FulcioError> {
    let http = HttpClient::new(&HttpOptions::new("test", "0"), &Default::default()).unwrap();
    let clock = Arc::new(SystemClock::default());
    block_on(async {
        let token = hoist_http::id_token::request_id_token(
            &http,
            &RetryPolicy::default(),
            clock.as_ref(),
            &sigstore.issuer.request_url(),
            &sigstore.issuer.request_token(),
            audience,
        )
        .await
        .unwrap();
        let client = FulcioClient::new(
            http.clone(),
            url::Url::parse(&sigstore.fulcio.url()).unwrap(),
            RetryPolicy::default(),
            clock,
        );
        let key = SigningKey::generate().unwrap();
        let chain = client.signing_certificate(&token, &key).await?;
        let chain: Vec<Certificate> = chain
            .iter()
            .map(|pem| Certificate::from_pem(pem).unwrap())
            .collect();
        assert_eq!(chain[0].public_key_spki(), key.public_key().spki_der());
        Ok(chain)
    })
}

fn now() -> i64 {
    hoist_runner::values::now_unix()
}

#[test]
fn a_fulcio_certificate_names_the_workflow_and_verifies_at_signing_time() {
    let sigstore = sigstore();
    let chain = certify(&sigstore).unwrap();
    let leaf = &chain[0];
    assert_eq!(leaf.san_uris(), [IDENTITY]);
    assert_eq!(leaf.oidc_issuer().unwrap(), ISSUER);
    assert_eq!(
        leaf.fulcio_extension(1).unwrap(),
        ISSUER,
        "the raw, deprecated form"
    );
    assert_eq!(
        leaf.fulcio_extension(12).unwrap(),
        "https://github.com/acme/shop"
    );
    assert_eq!(leaf.fulcio_extension(20).unwrap(), "push");
    assert!(leaf.is_code_signing() && !leaf.is_ca());
    assert!(leaf.not_after() - leaf.not_before() <= 600);

    let authority = verify_chain(leaf, &sigstore.root, now()).unwrap();
    assert_eq!(authority.uri, sigstore.fulcio.url());
    verify_embedded_scts(leaf, &authority.chain[0], &sigstore.root).unwrap();
    Identity::new(Some(IDENTITY), None, ISSUER)
        .unwrap()
        .check(leaf)
        .unwrap();
}

#[test]
fn outside_its_ten_minutes_the_certificate_does_not_verify() {
    let sigstore = sigstore();
    let leaf = certify(&sigstore).unwrap().remove(0);
    let error = verify_chain(&leaf, &sigstore.root, now() + 3600).unwrap_err();
    assert!(
        matches!(error, CertificateError::NotValidAt { .. }),
        "{error}"
    );
    // Before the root's CA was trusted at all.
    let error = verify_chain(&leaf, &sigstore.root, 1_500_000_000).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no CA of the root is valid then"),
        "{error}"
    );
}

#[test]
fn another_instances_root_does_not_vouch_for_the_certificate() {
    let ours = sigstore();
    let theirs = sigstore();
    let leaf = certify(&ours).unwrap().remove(0);
    let error = verify_chain(&leaf, &theirs.root, now()).unwrap_err();
    assert!(
        matches!(error, CertificateError::Untrusted { .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&theirs.fulcio.url()), "{error}");
    let issuer = &ours.root.certificate_authorities[0].chain[0];
    let error = verify_embedded_scts(&leaf, issuer, &theirs.root).unwrap_err();
    assert!(error.to_string().contains("does not list"), "{error}");
}

#[test]
fn a_certificate_changed_after_logging_fails_its_sct_and_its_chain() {
    let sigstore = sigstore();
    let leaf = certify(&sigstore).unwrap().remove(0);
    // The same length, so the DER still parses: `acme/shop` → `acme/shoq`.
    let mut der = leaf.der().to_vec();
    let at = der
        .windows(9)
        .position(|w| w == b"acme/shop")
        .expect("the SAN is in the DER");
    der[at + 8] = b'q';
    let forged = Certificate::from_der(der).unwrap();
    let issuer = &sigstore.root.certificate_authorities[0].chain[0];
    let error = verify_embedded_scts(&forged, issuer, &sigstore.root).unwrap_err();
    assert!(error.to_string().contains("does not verify"), "{error}");
    assert!(verify_chain(&forged, &sigstore.root, now()).is_err());
}

#[test]
fn identity_and_issuer_mismatches_name_what_was_expected_and_found() {
    let sigstore = sigstore();
    let leaf = certify(&sigstore).unwrap().remove(0);
    let tag = IDENTITY.replace("refs/heads/main", "refs/tags/v1.0.0");
    let error = Identity::new(Some(&tag), None, ISSUER)
        .unwrap()
        .check(&leaf)
        .unwrap_err()
        .to_string();
    assert!(error.contains(&tag) && error.contains(IDENTITY), "{error}");
    let error = Identity::new(Some(IDENTITY), None, "https://accounts.google.com")
        .unwrap()
        .check(&leaf)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("https://accounts.google.com") && error.contains(ISSUER),
        "{error}"
    );
    Identity::new(
        None,
        Some(r"https://github\.com/acme/.+@refs/heads/main"),
        ISSUER,
    )
    .unwrap()
    .check(&leaf)
    .unwrap();
}

#[test]
fn fulcio_refuses_an_expired_token_and_a_token_for_another_audience() {
    let sigstore = sigstore();
    sigstore.issuer.set_lifetime(-60);
    let error = certify(&sigstore).unwrap_err();
    assert!(
        matches!(error, FulcioError::TokenRejected { .. }),
        "{error}"
    );
    assert!(error.hint().contains("id-token: write"));
    sigstore.issuer.set_lifetime(300);
    let error = certify_for(&sigstore, "sts.amazonaws.com").unwrap_err();
    assert!(
        matches!(error, FulcioError::TokenRejected { .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("error processing the identity token"),
        "{error}"
    );
    assert!(sigstore.fulcio.issued().is_empty());
    certify(&sigstore).unwrap();
    assert_eq!(sigstore.fulcio.issued().len(), 1);
}

#[test]
fn fulcio_refuses_a_proof_of_possession_over_another_subject() {
    use base64::Engine as _;
    let sigstore = sigstore();
    let http = HttpClient::new(&HttpOptions::new("test", "0"), &Default::default()).unwrap();
    let clock = SystemClock::default();
    let key = SigningKey::generate().unwrap();
    let (status, answer) = block_on(async {
        let token = hoist_http::id_token::request_id_token(
            &http,
            &RetryPolicy::default(),
            &clock,
            &sigstore.issuer.request_url(),
            &sigstore.issuer.request_token(),
            "sigstore",
        )
        .await
        .unwrap();
        let proof = key.sign(b"repo:evil/fork:ref:refs/heads/main").unwrap();
        let body = serde_json::json!({"publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": base64::engine::general_purpose::STANDARD.encode(proof),
        }});
        let response = http
            .inner()
            .post(format!("{}/api/v2/signingCert", sigstore.fulcio.url()))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<serde_json::Value>().await.unwrap())
    });
    assert_eq!(status, 400);
    assert_eq!(answer["code"], 3);
    assert!(sigstore.fulcio.issued().is_empty());
}
