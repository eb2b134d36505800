//! Keyless signing and attestations against a private Sigstore: GitHub's
//! OIDC issuer, Fulcio and Rekor stand-ins, a trusted_root.json describing
//! them, and the real Debian `docker-registry` (no Referrers API, so
//! bundles go through the fallback index); manifests read back by skopeo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::{IDENTITY, ISSUER, REPOSITORY, World, binary, push_image};
use hoist_testkit::oidc::{SHIP_WORKFLOW_REF, claims_of};
use hoist_testkit::standin::Fault;
use serde_json::{Value, json};

fn b64d(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    b64d(&body)
}

#[test]
fn keyless_signatures_carry_the_certificate_in_both_formats_and_verify() {
    let world = World::new();
    let sigstore = world.sigstore();
    let run = world.keyless_job(&sigstore).run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let outputs = run.outputs();
    assert_eq!(outputs["certificate-identity"], IDENTITY);
    assert!(outputs["rekor-log-index"].parse::<u64>().is_ok());
    // The summary's cosign command and Kyverno attestor name the identity.
    let summary = run.file("GITHUB_STEP_SUMMARY");
    assert!(
        summary.contains(&format!(
            "cosign verify --certificate-identity '{IDENTITY}' --certificate-oidc-issuer '{ISSUER}' --trusted-root trusted_root.json"
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "keyless:\n          subject: '{IDENTITY}'\n          issuer: '{ISSUER}'"
        )),
        "{summary}"
    );

    // One token, audience sigstore, masked; one certificate request with it.
    let tokens = sigstore.issuer.issued();
    assert_eq!(tokens.len(), 1);
    assert_eq!(claims_of(&tokens[0])["aud"], "sigstore");
    run.assert_masked(&[&tokens[0]]);
    let requests: Vec<_> = sigstore
        .fulcio
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v2/signingCert")
        .collect();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("authorization").unwrap(),
        format!("Bearer {}", tokens[0])
    );
    let issued = sigstore.fulcio.issued();
    assert_eq!(issued.len(), 1);
    let leaf_der = pem_der(&issued[0]);

    // Legacy: the certificate and the chain ride in the layer annotations.
    let manifest = world
        .inspect(&format!("sha256-{}.sig", world.hex()))
        .unwrap();
    let annotations = &manifest["layers"][0]["annotations"];
    let certificate = annotations["dev.sigstore.cosign/certificate"]
        .as_str()
        .unwrap();
    assert_eq!(pem_der(certificate), leaf_der);
    let chain = annotations["dev.sigstore.cosign/chain"].as_str().unwrap();
    assert!(chain.contains(sigstore.fulcio.intermediate_pem().trim()));
    assert!(chain.contains(sigstore.fulcio.root_pem().trim()));
    assert!(annotations["dev.sigstore.cosign/bundle"].is_string());

    // Bundle: the leaf as verification material, no key hint.
    let index = world.inspect(&format!("sha256-{}", world.hex())).unwrap();
    let referrer = index["manifests"][0]["digest"].as_str().unwrap();
    let referrer_manifest = world.inspect(referrer).unwrap();
    let bundle: Value = serde_json::from_slice(
        &world.blob(referrer_manifest["layers"][0]["digest"].as_str().unwrap()),
    )
    .unwrap();
    let material = &bundle["verificationMaterial"];
    assert_eq!(
        b64d(material["certificate"]["rawBytes"].as_str().unwrap()),
        leaf_der
    );
    assert!(material["publicKey"].is_null());
    assert_eq!(material["tlogEntries"][0]["kindVersion"]["kind"], "dsse");

    // Rekor recorded the certificate as the verifier of both entries.
    let entries = world.rekor.entries();
    assert_eq!(entries.len(), 2);
    for entry in &entries {
        let body = &entry.body;
        let verifier = match body["kind"].as_str().unwrap() {
            "hashedrekord" => body["spec"]["signature"]["publicKey"]["content"].clone(),
            _ => body["spec"]["signatures"][0]["verifier"].clone(),
        };
        assert_eq!(
            pem_der(&String::from_utf8(b64d(verifier.as_str().unwrap())).unwrap()),
            leaf_der
        );
    }

    // Verified by identity, in both formats.
    let verified = world
        .keyless_verifier(&sigstore, IDENTITY)
        .run(binary(), &[]);
    assert_eq!(verified.code, Some(0), "{}", verified.stdout);
    assert_eq!(verified.outputs()["verified-formats"], "bundle,legacy");
}

#[test]
fn a_wrong_identity_issuer_or_root_is_refused_naming_what_was_found() {
    let world = World::new();
    let sigstore = world.sigstore();
    let run = world.keyless_job(&sigstore).run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);

    let dev = IDENTITY.replace("refs/heads/main", "refs/heads/dev");
    world
        .keyless_verifier(&sigstore, &dev)
        .run(binary(), &[])
        .assert_failed_cleanly(&[IDENTITY, &dev]);

    let mut google = world.keyless_verifier(&sigstore, IDENTITY);
    google.input("certificate-oidc-issuer", "https://accounts.google.com");
    google
        .run(binary(), &[])
        .assert_failed_cleanly(&["https://accounts.google.com", ISSUER]);

    let mut regexp = world.keyless_verifier(&sigstore, "");
    regexp.input(
        "certificate-identity-regexp",
        "https://github\\.com/acme/shop/\\.github/workflows/.*@refs/heads/main",
    );
    let matched = regexp.run(binary(), &[]);
    assert_eq!(matched.code, Some(0), "{}", matched.stdout);
    // The regexp must match the whole identity, not a part of it.
    regexp.input("certificate-identity-regexp", "acme/shop");
    regexp
        .run(binary(), &[])
        .assert_failed_cleanly(&["acme/shop", IDENTITY]);

    // Another Sigstore's root does not vouch for this Fulcio's certificate.
    let stranger = world.sigstore();
    let mut other_root = world.keyless_verifier(&sigstore, IDENTITY);
    other_root.input("trusted-root", stranger.root.to_str().unwrap());
    other_root
        .run(binary(), &[])
        .assert_failed_cleanly(&["does not chain to a CA of the trusted root"]);

    // A key verifier does not take keyless signatures for its own.
    world
        .verifier(&world.key)
        .run(binary(), &[])
        .assert_failed_cleanly(&["does not verify with the public key"]);
}

#[test]
fn a_reusable_workflow_signature_verifies_only_for_the_pinned_calling_repository() {
    let world = World::new();
    let sigstore = world.sigstore();
    let ship = format!("https://github.com/{SHIP_WORKFLOW_REF}");
    // bank-org/payments-api's image, signed by ship.yml called from it.
    sigstore
        .issuer
        .call_reusable_workflow("bank-org/payments-api", SHIP_WORKFLOW_REF);
    let run = world.keyless_job(&sigstore).run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs()["certificate-identity"], ship);
    // The summary's command and attestor pin the caller, not just ship.yml.
    let summary = run.file("GITHUB_STEP_SUMMARY");
    assert!(
        summary.contains(&format!(
            "--certificate-identity '{ship}' --certificate-oidc-issuer '{ISSUER}' \
             --certificate-github-workflow-repository 'bank-org/payments-api'"
        )),
        "{summary}"
    );
    assert!(
        summary.contains(
            "additionalExtensions:\n            githubWorkflowRepository: 'bank-org/payments-api'"
        ),
        "{summary}"
    );
    // other-org/app's image, signed through the very same ship.yml.
    let host = world.registry.host();
    let other_digest = push_image(&host, world.dir.path(), "other", "other-org app");
    let other_image = format!("{host}/{REPOSITORY}@{other_digest}");
    sigstore
        .issuer
        .call_reusable_workflow("other-org/app", SHIP_WORKFLOW_REF);
    let mut other = world.keyless_job(&sigstore);
    other.input("image", &other_image);
    let run = other.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs()["certificate-identity"], ship);

    // The identity alone accepts either organisation's image.
    let mut by_identity = world.keyless_verifier(&sigstore, &ship);
    by_identity.input("image", &other_image);
    let verified = by_identity.run(binary(), &[]);
    assert_eq!(verified.code, Some(0), "{}", verified.stdout);

    // Pinned to the caller, bank-org's verifies in both formats ...
    for pin in [
        "bank-org/payments-api",
        "https://github.com/bank-org/payments-api",
    ] {
        let mut pinned = world.keyless_verifier(&sigstore, &ship);
        pinned.input("certificate-github-workflow-repository", pin);
        let verified = pinned.run(binary(), &[]);
        assert_eq!(verified.code, Some(0), "{pin}: {}", verified.stdout);
        assert_eq!(verified.outputs()["verified-formats"], "bundle,legacy");
    }
    let mut everything = world.keyless_verifier(&sigstore, &ship);
    everything
        .input(
            "certificate-github-workflow-repository",
            "bank-org/payments-api",
        )
        .input("certificate-github-workflow-ref", "refs/heads/main")
        .input("certificate-github-workflow-trigger", "push")
        .input(
            "certificate-build-config-uri",
            "https://github.com/bank-org/payments-api/.github/workflows/ci.yaml@refs/heads/main",
        );
    let verified = everything.run(binary(), &[]);
    assert_eq!(verified.code, Some(0), "{}", verified.stdout);

    // ... and other-org's is refused, naming the repository it found.
    let mut pinned = world.keyless_verifier(&sigstore, &ship);
    pinned.input("image", &other_image).input(
        "certificate-github-workflow-repository",
        "bank-org/payments-api",
    );
    let refused = pinned.run(binary(), &[]);
    refused.assert_failed_cleanly(&[
        "the certificate's source repository is `https://github.com/other-org/app`, but \
         `bank-org/payments-api` was expected",
        "reusable workflow",
        "no signature of",
    ]);
    assert!(
        refused
            .outputs()
            .get("verified")
            .is_none_or(|v| v != "true")
    );
}

#[test]
fn fulcio_refusing_the_token_says_what_to_change_and_writes_nothing() {
    let world = World::new();
    let sigstore = world.sigstore();
    sigstore.issuer.set_lifetime(-120);
    let run = world.keyless_job(&sigstore).run(binary(), &[]);
    run.assert_failed_cleanly(&["refused the identity token", "id-token: write", "sigstore"]);
    assert!(world.rekor.entries().is_empty());
    assert!(
        world
            .inspect(&format!("sha256-{}.sig", world.hex()))
            .is_none()
    );
    assert!(world.inspect(&format!("sha256-{}", world.hex())).is_none());
}

#[test]
fn without_an_oidc_token_keyless_signing_names_the_permission() {
    let world = World::new();
    let sigstore = world.sigstore();
    let mut job = world.keyless_job(&sigstore);
    job.unset("ACTIONS_ID_TOKEN_REQUEST_URL")
        .unset("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    job.run(binary(), &[])
        .assert_failed_cleanly(&["ACTIONS_ID_TOKEN_REQUEST_URL", "id-token: write"]);
    assert!(sigstore.fulcio.requests().is_empty());
}

#[test]
fn fulcio_and_rekor_outages_are_waited_out() {
    let world = World::new();
    let sigstore = world.sigstore();
    sigstore.fulcio.faults(2, Fault::Status(503));
    world.rekor.faults(3, Fault::Status(502));
    let run = world.keyless_job(&sigstore).run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(world.rekor.entries().len(), 2);
    assert_eq!(sigstore.fulcio.issued().len(), 1);
}

#[test]
fn an_unreachable_rekor_leaves_the_registry_untouched() {
    let world = World::new();
    let sigstore = world.sigstore();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut job = world.keyless_job(&sigstore);
    job.input("rekor-url", &format!("http://127.0.0.1:{port}"))
        .input("rekor-timeout", "1s");
    job.run(binary(), &[])
        .assert_failed_cleanly(&["could not be reached", "rekor-timeout"]);
    assert!(
        world
            .inspect(&format!("sha256-{}.sig", world.hex()))
            .is_none()
    );
    assert!(world.inspect(&format!("sha256-{}", world.hex())).is_none());
}

fn spdx_sbom() -> Value {
    json!({
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "order-service",
        "dataLicense": "CC0-1.0",
        "documentNamespace": "https://acme.test/spdx/order-service",
        "creationInfo": {"created": "2026-11-22T00:00:00Z", "creators": ["Tool: syft"]},
        "packages": [{"SPDXID": "SPDXRef-openssl", "name": "openssl", "versionInfo": "3.0.15"}],
    })
}

#[test]
fn sbom_and_provenance_attestations_round_trip_in_both_formats() {
    let world = World::new();
    let sigstore = world.sigstore();
    let mut job = world.keyless_job(&sigstore);
    std::fs::write(
        job.workspace().join("sbom.spdx.json"),
        spdx_sbom().to_string(),
    )
    .unwrap();
    job.input("sbom", "sbom.spdx.json")
        .input("provenance", "true");
    let run = job.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let refs = run.outputs()["attestation-refs"].clone();
    assert_eq!(refs.lines().count(), 4, "{refs}");
    assert!(refs.contains("https://spdx.dev/Document "));
    assert!(refs.contains("https://slsa.dev/provenance/v1 "));
    // The signature once per format; each attestation once, its one
    // envelope stored in both formats.
    assert_eq!(world.rekor.entries().len(), 4);

    // Legacy: two `.att` layers, DSSE envelopes, tagged with their types.
    let att = world
        .inspect(&format!("sha256-{}.att", world.hex()))
        .expect("the .att tag exists");
    let layers = att["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    let mut provenance = None;
    for layer in layers {
        assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
        let annotations = &layer["annotations"];
        assert_eq!(annotations["dev.cosignproject.cosign/signature"], "");
        assert!(annotations["dev.sigstore.cosign/certificate"].is_string());
        let envelope: Value =
            serde_json::from_slice(&world.blob(layer["digest"].as_str().unwrap())).unwrap();
        let statement: Value =
            serde_json::from_slice(&b64d(envelope["payload"].as_str().unwrap())).unwrap();
        assert_eq!(statement["predicateType"], annotations["predicateType"]);
        assert_eq!(statement["subject"][0]["digest"]["sha256"], world.hex());
        assert_eq!(
            statement["subject"][0]["name"],
            format!("{}/{REPOSITORY}", world.registry.host())
        );
        if statement["predicateType"] == "https://spdx.dev/Document" {
            assert_eq!(statement["predicate"], spdx_sbom());
        } else {
            provenance = Some(statement["predicate"].clone());
        }
    }
    let provenance = provenance.expect("a provenance layer");
    assert_eq!(
        provenance["runDetails"]["builder"]["id"],
        format!("https://github.com/acme/shop/.github/workflows/ci.yaml@refs/heads/main")
    );
    assert_eq!(
        provenance["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
        "0123456789abcdef0123456789abcdef01234567"
    );

    // Bundles: one referrer per statement, annotated with its type.
    let index = world.inspect(&format!("sha256-{}", world.hex())).unwrap();
    let mut types: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["annotations"]["dev.sigstore.bundle.predicateType"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "https://sigstore.dev/cosign/sign/v1",
            "https://slsa.dev/provenance/v1",
            "https://spdx.dev/Document",
        ]
    );

    // Verify requires each attestation asked for.
    let mut verifier = world.keyless_verifier(&sigstore, IDENTITY);
    verifier
        .input("sbom-format", "spdxjson")
        .input("provenance", "true");
    let verified = verifier.run(binary(), &[]);
    assert_eq!(verified.code, Some(0), "{}", verified.stdout);
    verifier
        .input("sbom-format", "cyclonedx")
        .input("provenance", "false");
    verifier
        .run(binary(), &[])
        .assert_failed_cleanly(&["https://cyclonedx.org/bom", "attestation"]);
}

#[test]
fn attestations_with_a_key_verify_with_the_public_key() {
    let world = World::new();
    let mut job = world.job();
    std::fs::write(job.workspace().join("sbom.json"), spdx_sbom().to_string()).unwrap();
    job.input("sbom", "sbom.json").input("format", "legacy");
    let run = job.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let mut verifier = world.verifier(&world.key);
    verifier.input("sbom-format", "spdxjson");
    let verified = verifier.run(binary(), &[]);
    assert_eq!(verified.code, Some(0), "{}", verified.stdout);
    // Another key's verifier finds the attestation but does not trust it.
    let stranger = hoist_cosign::SigningKey::generate().unwrap();
    let mut other = world.verifier(&stranger);
    other.input("sbom-format", "spdxjson");
    other
        .run(binary(), &[])
        .assert_failed_cleanly(&["does not verify with the public key"]);
}

/// One row of the keyless table: files to write in the workspace, inputs
/// to set (`@rekor` is the Rekor stand-in's URL, `@closed` a loopback
/// port nothing listens on, `@root` the trusted root), environment to
/// set, and what the error must say.
struct Row {
    files: &'static [(&'static str, &'static str)],
    set: &'static [(&'static str, &'static str)],
    env: &'static [(&'static str, &'static str)],
    says: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        files: &[],
        set: &[("fulcio-url", "http://fulcio.example.com")],
        env: &[],
        says: &["fulcio-url", "loopback"],
    },
    Row {
        files: &[],
        set: &[("fulcio-url", "not a url")],
        env: &[],
        says: &["fulcio-url"],
    },
    Row {
        // Rekor is not Fulcio: a wrong service answers 404.
        files: &[],
        set: &[("fulcio-url", "@rekor")],
        env: &[],
        says: &["refused the request: HTTP 404", "fulcio-url"],
    },
    Row {
        files: &[],
        set: &[("fulcio-url", "@closed")],
        env: &[],
        says: &["could not be reached", "fulcio-url"],
    },
    Row {
        // The runner's token endpoint is wrong (a wrong issuer URL).
        files: &[],
        set: &[],
        env: &[("ACTIONS_ID_TOKEN_REQUEST_URL", "@closed")],
        says: &["could not get the job's OIDC token", "id-token: write"],
    },
    Row {
        files: &[],
        set: &[("tlog-upload", "false")],
        env: &[],
        says: &["must be logged in Rekor", "tlog-upload"],
    },
    Row {
        files: &[],
        set: &[("trusted-root", "no/such/trusted_root.json")],
        env: &[],
        says: &["input `trusted-root`", "cannot read"],
    },
    Row {
        files: &[("root.json", "not json")],
        set: &[("trusted-root", "root.json")],
        env: &[],
        says: &["input `trusted-root`", "not JSON"],
    },
    Row {
        files: &[("root.json", r#"{"mediaType": "application/json"}"#)],
        set: &[("trusted-root", "root.json")],
        env: &[],
        says: &["not a Sigstore TrustedRoot", "trusted_root.json"],
    },
    Row {
        files: &[(
            "sbom.xml",
            "<?xml version=\"1.0\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"/>",
        )],
        set: &[("sbom", "sbom.xml")],
        env: &[],
        says: &["input `sbom`", "not JSON"],
    },
    Row {
        files: &[("sbom.spdx", "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n")],
        set: &[("sbom", "sbom.spdx")],
        env: &[],
        says: &["input `sbom`", "spdx-json"],
    },
    Row {
        files: &[("sbom.json", r#"{"packages": []}"#)],
        set: &[("sbom", "sbom.json")],
        env: &[],
        says: &["neither SPDX JSON", "CycloneDX JSON"],
    },
    Row {
        files: &[(
            "bom.json",
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6"}"#,
        )],
        set: &[("sbom", "bom.json"), ("sbom-format", "spdxjson")],
        env: &[],
        says: &["`sbom-format` is `spdxjson`", "cyclonedx"],
    },
    Row {
        files: &[],
        set: &[("sbom", "missing.spdx.json")],
        env: &[],
        says: &["input `sbom`", "cannot read"],
    },
    Row {
        files: &[],
        set: &[("sbom-format", "xml")],
        env: &[],
        says: &["`xml` is not an SBOM format", "`spdxjson` or `cyclonedx`"],
    },
    Row {
        files: &[],
        set: &[("certificate-identity", IDENTITY)],
        env: &[],
        says: &["only applies when verifying"],
    },
    Row {
        files: &[],
        set: &[("mode", "verify")],
        env: &[],
        says: &["verify needs the signer", "certificate-identity"],
    },
    Row {
        files: &[],
        set: &[
            ("mode", "verify"),
            ("certificate-identity", IDENTITY),
            ("certificate-identity-regexp", ".*"),
        ],
        env: &[],
        says: &["both set", "one of them"],
    },
    Row {
        files: &[],
        set: &[("mode", "verify"), ("certificate-identity-regexp", "(")],
        env: &[],
        says: &["`(` is not a regular expression"],
    },
    Row {
        files: &[("sbom.json", "{}")],
        set: &[
            ("mode", "verify"),
            ("certificate-identity", IDENTITY),
            ("sbom", "sbom.json"),
        ],
        env: &[],
        says: &["verify does not read an SBOM file", "sbom-format"],
    },
];

#[test]
fn each_bad_keyless_input_fails_cleanly_and_writes_nothing() {
    let world = World::new();
    let sigstore = world.sigstore();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    let value = |text: &str| match text {
        "@rekor" => world.rekor.url(),
        "@closed" => closed.clone(),
        other => other.to_owned(),
    };
    for row in ROWS {
        let mut job = world.keyless_job(&sigstore);
        for (name, content) in row.files {
            std::fs::write(job.workspace().join(name), content).unwrap();
        }
        for (name, text) in row.set {
            job.input(name, &value(text));
        }
        for (name, text) in row.env {
            job.env(name, &value(text));
        }
        let before = sigstore.issuer.issued().len();
        let run = job.run(binary(), &[]);
        run.assert_failed_cleanly(row.says);
        // A token the run got is masked in its log.
        let tokens = sigstore.issuer.issued();
        run.assert_masked(
            &tokens[before..]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
    }
    assert!(
        sigstore.fulcio.issued().is_empty(),
        "no bad row got a certificate"
    );
    assert!(
        world.rekor.entries().is_empty(),
        "no bad row reached the log"
    );
    for tag in [
        format!("sha256-{}.sig", world.hex()),
        format!("sha256-{}.att", world.hex()),
        format!("sha256-{}", world.hex()),
    ] {
        assert!(world.inspect(&tag).is_none(), "{tag} was written");
    }
}
