//! Keyless signatures and attestations checked by verifiers hoist did not
//! write, offline, against the trusted root of the test Sigstore (the
//! Fulcio stand-in's CA and CT log, the Rekor stand-in's log):
//!
//! - sigstore-python (PyPI `sigstore`), `verify identity --offline` on
//!   each attestation bundle, with the image digest as the artifact. The
//!   signature bundle's statement is cosign's exactly — a subject with a
//!   digest and annotations but no `name` (in-toto makes `name` optional) —
//!   and sigstore-python 4.5's statement model requires `name`, so it
//!   refuses cosign's own signature bundles; the test asserts that refusal
//!   and only that one (the certificate chain, SCT and log checks before it
//!   passed);
//! - sigstore-rust's `sigstore-verify` with an identity policy (chain,
//!   SCT, transparency log all on).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{IDENTITY, ISSUER, Sigstore, World, binary};
use hoist_testkit::fulcio::client_trust_config;
use hoist_testkit::peers::require;
use serde_json::{Value, json};

/// The world's image signed keyless with an SBOM and provenance; returns
/// each bundle (from the fallback index) with its predicate type.
fn signed(world: &World, sigstore: &Sigstore) -> Vec<(String, String)> {
    let mut job = world.keyless_job(sigstore);
    let sbom =
        json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []});
    std::fs::write(job.workspace().join("bom.json"), sbom.to_string()).unwrap();
    job.input("sbom", "bom.json")
        .input("provenance", "true")
        .input("format", "bundle");
    let run = job.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let index = world.inspect(&format!("sha256-{}", world.hex())).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|descriptor| {
            let manifest = world
                .inspect(descriptor["digest"].as_str().unwrap())
                .unwrap();
            let layer = manifest["layers"][0]["digest"].as_str().unwrap();
            (
                descriptor["annotations"]["dev.sigstore.bundle.predicateType"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                String::from_utf8(world.blob(layer)).unwrap(),
            )
        })
        .collect()
}

/// Runs `python3 -m sigstore` (the PyPI package) offline against the
/// test Sigstore's client trust config.
fn sigstore_python(
    world: &World,
    sigstore: &Sigstore,
    bundle: &str,
    identity: &str,
) -> (bool, String) {
    let python = require("python3", "the Debian package `python3`");
    let probe = Command::new(&python)
        .args(["-c", "import sigstore"])
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "sigstore-python is missing: install the PyPI package `sigstore` (scripts/setup does)"
    );
    let dir = world.dir.path();
    let config = dir.join("client_trust_config.json");
    let root: Value = serde_json::from_slice(&std::fs::read(&sigstore.root).unwrap()).unwrap();
    let mut trust = client_trust_config(&sigstore.fulcio, &world.rekor);
    assert_eq!(trust["trustedRoot"], root, "the same root hoist was given");
    trust["trustedRoot"] = root;
    std::fs::write(&config, trust.to_string()).unwrap();
    let bundle_path = dir.join("bundle.sigstore.json");
    std::fs::write(&bundle_path, bundle).unwrap();
    let output = Command::new(&python)
        .args(["-m", "sigstore", "--trust-config"])
        .arg(&config)
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(&bundle_path)
        .args(["--cert-identity", identity, "--cert-oidc-issuer", ISSUER])
        .arg(&world.digest)
        .env("HOME", dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn sigstore_python_verifies_the_keyless_bundles_offline() {
    let world = World::new();
    let sigstore = world.sigstore();
    let bundles = signed(&world, &sigstore);
    let mut types: Vec<&str> = bundles.iter().map(|(t, _)| t.as_str()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "https://cyclonedx.org/bom",
            "https://sigstore.dev/cosign/sign/v1",
            "https://slsa.dev/provenance/v1"
        ]
    );
    for (predicate_type, bundle) in &bundles {
        let (ok, text) = sigstore_python(&world, &sigstore, bundle, IDENTITY);
        if predicate_type == "https://sigstore.dev/cosign/sign/v1" {
            assert!(!ok, "{text}");
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                flat.contains("malformed in-toto statement") && flat.contains("subject.0.name"),
                "refused for another reason than the missing subject name: {text}"
            );
            continue;
        }
        assert!(ok, "{predicate_type}: {text}");
        assert!(text.contains("OK"), "{predicate_type}: {text}");
        // And it refuses another identity: the check is real.
        let other = IDENTITY.replace("main", "dev");
        let (ok, text) = sigstore_python(&world, &sigstore, bundle, &other);
        assert!(!ok, "{text}");
    }
}

#[test]
fn sigstore_verify_accepts_the_keyless_bundle_by_identity_only() {
    use sigstore_verify::trust_root::TrustedRoot;
    use sigstore_verify::types::{Bundle, Sha256Hash};
    use sigstore_verify::{VerificationPolicy, Verifier};

    let world = World::new();
    let sigstore = world.sigstore();
    let bundles = signed(&world, &sigstore);
    let root = TrustedRoot::from_json(&std::fs::read_to_string(&sigstore.root).unwrap()).unwrap();
    let verifier = Verifier::new(&root).unwrap();
    let digest = Sha256Hash::from_hex(world.hex()).unwrap();
    for (predicate_type, bundle) in &bundles {
        let bundle = Bundle::from_json(bundle).unwrap();
        let policy = VerificationPolicy::new(IDENTITY, ISSUER);
        verifier
            .verify(digest, &bundle, &policy)
            .unwrap_or_else(|e| panic!("{predicate_type}: {e}"));
        let stranger = VerificationPolicy::new(IDENTITY.replace("main", "dev"), ISSUER);
        assert!(verifier.verify(digest, &bundle, &stranger).is_err());
    }
}
