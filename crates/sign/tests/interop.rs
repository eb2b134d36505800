//! What hoist writes, checked by verifiers hoist did not write.
//!
//! - The bundle: sigstore-rust's `sigstore-verify` 0.15.1 with a trusted
//!   root whose only log is the Rekor stand-in, transparency-log checks on
//!   (inclusion proof, signed checkpoint, SET), managed-key policy.
//! - The legacy `.sig` tag: sigstore-rs (`sigstore` 0.15.0) reading the
//!   registry itself, with the stand-in's key as its Rekor trust root, so
//!   the SET in `dev.sigstore.cosign/bundle` is checked offline.
//!
//!   sigstore-rs 0.15.0 also reads bundle referrers (through the
//!   `sha256-<hex>` fallback tag), but only keyless ones: its
//!   `SignatureLayer::from_sigstore_bundle` requires a Fulcio certificate
//!   in `verificationMaterial` and drops a `publicKey` bundle with
//!   "Sigstore Bundle v0.3: expected Certificate in verificationMaterial".
//!   The test asserts exactly that refusal (captured from its `tracing`
//!   warning), which also shows that every check before it passed: the
//!   fallback index was found, the DSSE payload type, the in-toto
//!   statement (cosign/sign/v1) and its subject digest were accepted.
//!
//! Not here: containers/image (skopeo, podman), the verifier podman and
//! CRI-O enforce cosign signatures with. Debian 12's build (skopeo 1.9.3,
//! podman 4.3.1, both on golang-github-containers-image 5.23.1-4) has its
//! sigstore support patched out: a `sigstoreSigned` policy with `keyPath`
//! and `use-sigstore-attachments: true` rejects every image, signed by the
//! key or not, with "Source image rejected: Debian-local change: sigstore
//! disabled". The GitHub workflow `cosign-interop.yml` runs real cosign
//! against hoist's output instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::{PASSWORD, REPOSITORY, USER, World, push_image};
use hoist_cosign::SigningKey;
use serde_json::{Value, json};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The DER inside a `PUBLIC KEY` PEM, decoded here rather than by hoist.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// A world whose image hoist has signed in both formats, logged in Rekor,
/// with `team=payments` signed into the payload.
fn signed_world() -> World {
    let mut world = World::new();
    world.sandbox.input("annotations", "team=payments");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    world
}

/// The bundle hoist pushed for the world's image, found as any reader finds
/// it: the fallback index, then the referrer manifest, then its layer.
fn bundle_json(world: &World) -> String {
    let index = world
        .inspect(&format!("sha256-{}", world.hex()))
        .expect("the referrers fallback index");
    let referrer = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest = world.inspect(referrer).expect("the referrer manifest");
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    String::from_utf8(world.blob(layer)).unwrap()
}

// ---------------------------------------------------------------------------
// sigstore-verify (sigstore-rust): the bundle

/// A trusted root (protobuf-specs `TrustedRoot` JSON) whose only
/// transparency log is the one signed by `log_key_pem`.
fn trusted_root(url: &str, log_key_pem: &str) -> sigstore_verify::trust_root::TrustedRoot {
    let spki = pem_der(log_key_pem);
    let log_id = sha256(&spki);
    let root = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(&spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": "2021-01-01T00:00:00Z"},
            },
            "logId": {"keyId": b64(&log_id)},
        }],
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": [],
    });
    sigstore_verify::trust_root::TrustedRoot::from_json(&root.to_string()).unwrap()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    sigstore_verify::crypto::sha256(bytes).as_bytes().to_vec()
}

fn verify_bundle(
    bundle: &str,
    digest_hex: &str,
    key: &SigningKey,
    root: &sigstore_verify::trust_root::TrustedRoot,
) -> Result<sigstore_verify::VerificationResult, sigstore_verify::Error> {
    use sigstore_verify::types::{Bundle, DerPublicKey, Sha256Hash};
    use sigstore_verify::{PublicKeyVerificationPolicy, Verifier};
    let bundle = Bundle::from_json(bundle).expect("sigstore-types parses the bundle");
    let public_key = DerPublicKey::from_pem(&key.public_key().to_pem()).unwrap();
    let policy = PublicKeyVerificationPolicy::new(public_key);
    assert!(policy.verifies_tlog());
    Verifier::new(root)?.verify(Sha256Hash::from_hex(digest_hex).unwrap(), &bundle, &policy)
}

#[test]
fn sigstore_verify_accepts_the_bundle_with_its_log_entry() {
    let world = signed_world();
    let bundle = bundle_json(&world);
    let root = trusted_root(&world.rekor.url(), &world.rekor.public_key_pem());
    assert_eq!(
        hex(&sha256(&pem_der(&world.rekor.public_key_pem()))),
        world.rekor.log_id(),
        "the trusted root's log ID is the stand-in's"
    );

    // The verifier checks the entries the bundle carries: make sure there
    // is one, with its promise (SET) and its proof, so that "verified"
    // below covers both.
    let parsed: Value = serde_json::from_str(&bundle).unwrap();
    let entries = parsed["verificationMaterial"]["tlogEntries"]
        .as_array()
        .unwrap();
    assert_eq!(entries.len(), 1, "{bundle}");
    assert!(entries[0]["inclusionPromise"]["signedEntryTimestamp"].is_string());
    assert!(entries[0]["inclusionProof"]["checkpoint"]["envelope"].is_string());

    let result = verify_bundle(&bundle, world.hex(), &world.key, &root)
        .unwrap_or_else(|e| panic!("sigstore-verify refused hoist's bundle: {e}\n{bundle}"));
    assert!(result.tlog_verified(), "inclusion proof and checkpoint");
    let integrated = result
        .integrated_time()
        .expect("an integrated time vouched for by the SET");
    let logged = world.rekor.entries()[1].integrated_time;
    assert_eq!(integrated.as_second(), i64::try_from(logged).unwrap());

    // Another key, another image, another log: each refused.
    let stranger = SigningKey::generate().unwrap();
    let error = verify_bundle(&bundle, world.hex(), &stranger, &root)
        .expect_err("another public key must not verify");
    assert!(
        error
            .to_string()
            .contains("DSSE signature verification failed"),
        "{error}"
    );
    let other_image = push_image(
        &world.registry.host(),
        world.dir.path(),
        "v2",
        "order-service v2",
    );
    let error = verify_bundle(&bundle, &other_image["sha256:".len()..], &world.key, &root)
        .expect_err("another image digest must not verify");
    assert!(
        error.to_string().contains("does not match any subject"),
        "{error}"
    );
    let other_log = SigningKey::generate().unwrap();
    let foreign_root = trusted_root(&world.rekor.url(), &other_log.public_key().to_pem());
    let error = verify_bundle(&bundle, world.hex(), &world.key, &foreign_root)
        .expect_err("a log signed by another key must not be trusted");
    assert!(error.to_string().contains("checkpoint"), "{error}");
}

#[test]
fn sigstore_verify_refuses_a_tampered_log_entry() {
    let world = signed_world();
    let root = trusted_root(&world.rekor.url(), &world.rekor.public_key_pem());
    let mut bundle: Value = serde_json::from_str(&bundle_json(&world)).unwrap();
    let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
    let time: i64 = entry["integratedTime"].as_str().unwrap().parse().unwrap();
    entry["integratedTime"] = json!((time - 3600).to_string());
    let error = verify_bundle(&bundle.to_string(), world.hex(), &world.key, &root)
        .expect_err("a moved integrated time breaks the SET");
    assert!(error.to_string().contains("SET"), "{error}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------
// sigstore-rs: the legacy tag (and the bundle referrer) from the registry

/// The sigstore-rs warnings and notes of one call, captured: it logs why it
/// dropped a signature layer instead of returning an error.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl tracing::Subscriber for Captured {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target().starts_with("sigstore") && *metadata.level() <= tracing::Level::INFO
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                let _ = write!(self.0, " {}={value:?}", field.name());
            }
        }
        let metadata = event.metadata();
        let mut fields = Fields(format!("{} {}:", metadata.level(), metadata.target()));
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// sigstore-rs's trusted signature layers of the world's image, with
/// `rekor_key_pem` as the Rekor trust root, and what it logged meanwhile.
fn sigstore_rs_layers(
    world: &World,
    rekor_key_pem: &str,
) -> (Vec<sigstore::cosign::SignatureLayer>, Vec<String>) {
    use sigstore::cosign::{ClientBuilder, CosignCapabilities as _};
    use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};
    use sigstore::trust::ManualTrustRoot;

    let spki = pem_der(rekor_key_pem);
    let trust_root = ManualTrustRoot {
        rekor_keys: BTreeMap::from([(hex(&sha256(&spki)), spki)]),
        ..Default::default()
    };
    let captured = Captured::default();
    let layers = tracing::subscriber::with_default(captured.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut client = ClientBuilder::default()
                .with_oci_client_config(ClientConfig {
                    protocol: ClientProtocol::Http,
                    ..Default::default()
                })
                .with_trust_repository(&trust_root)
                .unwrap()
                .build()
                .unwrap();
            let image: OciReference = world.image().parse().unwrap();
            client
                .trusted_signature_layers(&Auth::Basic(USER.into(), PASSWORD.into()), &image)
                .await
                .expect("sigstore-rs reads the signatures")
        })
    });
    (layers, captured.lines())
}

fn public_key_verifier(
    key: &SigningKey,
) -> Box<dyn sigstore::cosign::verification_constraint::VerificationConstraint> {
    use sigstore::cosign::verification_constraint::PublicKeyVerifier;
    use sigstore::crypto::SigningScheme;
    Box::new(
        PublicKeyVerifier::new(
            key.public_key().to_pem().as_bytes(),
            &SigningScheme::ECDSA_P256_SHA256_ASN1,
        )
        .unwrap(),
    )
}

fn annotation_verifier(
    key: &str,
    value: &str,
) -> Box<dyn sigstore::cosign::verification_constraint::VerificationConstraint> {
    use sigstore::cosign::verification_constraint::AnnotationVerifier;
    Box::new(AnnotationVerifier {
        annotations: BTreeMap::from([(key.to_owned(), value.to_owned())]),
    })
}

#[test]
fn sigstore_rs_verifies_the_legacy_signature_and_its_set() {
    use sigstore::cosign::bundle_content::BundleContent;
    use sigstore::cosign::verify_constraints;

    let world = signed_world();
    let (layers, log) = sigstore_rs_layers(&world, &world.rekor.public_key_pem());
    let log = log.join("\n");
    assert_eq!(layers.len(), 1, "only the legacy layer is trusted:\n{log}");
    let layer = &layers[0];

    // The layer came from the .sig tag, its Rekor bundle's SET verified
    // against the stand-in's key (a layer whose SET fails is dropped).
    let Some(BundleContent::RekorBundle(rekor)) = &layer.bundle else {
        panic!("no verified Rekor bundle on the layer: {layer}\n{log}");
    };
    assert_eq!(rekor.payload.log_id, world.rekor.log_id());
    assert_eq!(
        u64::try_from(rekor.payload.integrated_time).unwrap(),
        world.rekor.entries()[0].integrated_time
    );
    assert_eq!(
        layer.simple_signing.critical.image.docker_manifest_digest,
        world.digest
    );
    assert_eq!(
        layer.simple_signing.critical.identity.docker_reference,
        format!("{}/{REPOSITORY}", world.registry.host())
    );

    // hoist's key and the signed annotation pass, on this very layer;
    // another key or another annotation value does not.
    for constraint in [
        public_key_verifier(&world.key),
        annotation_verifier("team", "payments"),
    ] {
        assert!(constraint.verify(layer).unwrap(), "{layer}");
    }
    let stranger = SigningKey::generate().unwrap();
    assert!(!public_key_verifier(&stranger).verify(layer).unwrap());
    assert!(
        !annotation_verifier("team", "billing")
            .verify(layer)
            .unwrap()
    );
    let constraints = [
        public_key_verifier(&world.key),
        annotation_verifier("team", "payments"),
    ];
    assert!(verify_constraints(&layers, constraints.iter()).is_ok());
    let constraints = [public_key_verifier(&stranger)];
    assert!(verify_constraints(&layers, constraints.iter()).is_err());

    // The bundle referrer was found through the fallback tag and passed
    // every check up to the one sigstore-rs 0.15.0 cannot do: it reads
    // keyless bundles only (see the top of this file).
    assert!(
        log.contains("Sigstore Bundle v0.3: expected Certificate in verificationMaterial"),
        "sigstore-rs dropped the bundle for another reason:\n{log}"
    );
}

#[test]
fn sigstore_rs_drops_the_legacy_signature_under_another_rekor_key() {
    let world = signed_world();
    let other_log = SigningKey::generate().unwrap();
    let (layers, log) = sigstore_rs_layers(&world, &other_log.public_key().to_pem());
    assert!(
        layers.is_empty(),
        "a SET from an unknown log must not be trusted: {layers:?}"
    );
    let log = log.join("\n");
    assert!(log.contains("RekorPublicKeyNotFound"), "{log}");
}
