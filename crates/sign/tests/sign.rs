//! sign against the real Debian `docker-registry` (which has no Referrers
//! API, so bundles go through the `sha256-<hex>` fallback index) and the
//! Rekor stand-in; manifests read back by skopeo and checked against
//! cosign's formats byte by byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::{KEY_PASSWORD, REPOSITORY, World, binary, push_image};
use hoist_cosign::SigningKey;
use hoist_testkit::rekor::{verify_inclusion, verify_set};
use hoist_testkit::standin::Fault;
use serde_json::Value;

fn b64d(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn both_formats_are_written_as_cosign_writes_them_and_logged_in_rekor() {
    let world = World::new();
    let mut sandbox = world.job();
    sandbox
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "myorg/order-service")
        .env("GITHUB_RUN_ID", "42");
    let run = sandbox.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let outputs = run.outputs();
    let host = world.registry.host();
    assert_eq!(outputs["digest"], world.digest);
    let sig_tag = format!("sha256-{}.sig", world.hex());
    assert_eq!(
        outputs["signature-ref"],
        format!("{host}/{REPOSITORY}:{sig_tag}")
    );

    // The legacy manifest, as reference/sign.md §1.1 pins it down.
    let manifest = world.inspect(&sig_tag).expect("the .sig tag exists");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    let layer = &layers[0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let annotations = layer["annotations"].as_object().unwrap();
    let mut keys: Vec<&str> = annotations.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "dev.cosignproject.cosign/signature",
            "dev.sigstore.cosign/bundle"
        ]
    );
    let payload = world.blob(layer["digest"].as_str().unwrap());
    assert_eq!(layer["size"], payload.len());
    let payload_json: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        payload_json,
        serde_json::json!({
            "critical": {
                "identity": {"docker-reference": format!("{host}/{REPOSITORY}")},
                "image": {"docker-manifest-digest": world.digest},
                "type": "cosign container image signature",
            },
            "optional": {
                "git-sha": "0123456789abcdef0123456789abcdef01234567",
                "pipeline-url": "https://github.com/myorg/order-service/actions/runs/42",
            },
        })
    );
    let signature = b64d(
        annotations["dev.cosignproject.cosign/signature"]
            .as_str()
            .unwrap(),
    );
    assert!(world.key.public_key().verify(&payload, &signature));
    let rekor_bundle: Value =
        serde_json::from_str(annotations["dev.sigstore.cosign/bundle"].as_str().unwrap()).unwrap();
    let entry = serde_json::json!({
        "body": rekor_bundle["Payload"]["body"],
        "integratedTime": rekor_bundle["Payload"]["integratedTime"],
        "logID": rekor_bundle["Payload"]["logID"],
        "logIndex": rekor_bundle["Payload"]["logIndex"],
        "verification": {"signedEntryTimestamp": rekor_bundle["SignedEntryTimestamp"]},
    });
    assert!(
        verify_set(&entry, &world.rekor.public_key_pem()),
        "the SET verifies"
    );

    // The bundle referrer and its fallback index (§1.2).
    let referrer = outputs["bundle-ref"].rsplit_once('@').unwrap().1.to_owned();
    let index = world
        .inspect(&format!("sha256-{}", world.hex()))
        .expect("the fallback index");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let listed = &index["manifests"][0];
    assert_eq!(listed["digest"], referrer);
    assert_eq!(
        listed["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        listed["annotations"]["dev.sigstore.bundle.content"],
        "dsse-envelope"
    );
    let referrer_manifest = world.inspect(&referrer).expect("the referrer manifest");
    assert_eq!(
        referrer_manifest["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        referrer_manifest["config"],
        serde_json::json!({
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2,
        })
    );
    assert_eq!(referrer_manifest["subject"]["digest"], world.digest);
    assert_eq!(
        referrer_manifest["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert_eq!(listed["annotations"], referrer_manifest["annotations"]);
    let bundle: Value = serde_json::from_slice(
        &world.blob(referrer_manifest["layers"][0]["digest"].as_str().unwrap()),
    )
    .unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        bundle["verificationMaterial"]["publicKey"]["hint"],
        world.key.public_key().hint()
    );
    let envelope = &bundle["dsseEnvelope"];
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let statement: Value =
        serde_json::from_slice(&b64d(envelope["payload"].as_str().unwrap())).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert_eq!(statement["subject"][0]["digest"]["sha256"], world.hex());
    let tlog = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(
        tlog["kindVersion"],
        serde_json::json!({"kind": "dsse", "version": "0.0.1"})
    );
    assert!(tlog["inclusionProof"]["checkpoint"]["envelope"].is_string());

    // Rekor holds one hashedrekord and one dsse entry, with proofs.
    let entries = world.rekor.entries();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e.body["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["hashedrekord", "dsse"]);
    assert_eq!(outputs["rekor-log-index"], "0");
    let rekor_answer = serde_json::json!({
        "body": tlog["canonicalizedBody"],
        "verification": {"inclusionProof": {
            "logIndex": tlog["inclusionProof"]["logIndex"].as_str().unwrap().parse::<u64>().unwrap(),
            "treeSize": tlog["inclusionProof"]["treeSize"].as_str().unwrap().parse::<u64>().unwrap(),
            "rootHash": hex(&b64d(tlog["inclusionProof"]["rootHash"].as_str().unwrap())),
            "hashes": tlog["inclusionProof"]["hashes"].as_array().unwrap().iter()
                .map(|h| hex(&b64d(h.as_str().unwrap()))).collect::<Vec<_>>(),
        }},
    });
    assert!(
        verify_inclusion(&rekor_answer),
        "the bundle's inclusion proof holds"
    );

    // Secrets stayed out of the log; the summary has the commands.
    let pem = world.key.to_encrypted_pem(KEY_PASSWORD).unwrap();
    let body_line = pem.lines().nth(1).unwrap();
    run.assert_masked(&[common::PASSWORD, KEY_PASSWORD, body_line]);
    let summary = run.file("GITHUB_STEP_SUMMARY");
    assert!(
        summary.contains(&format!(
            "cosign verify --key cosign.pub --rekor-url {}",
            world.rekor.url()
        )),
        "{summary}"
    );
    assert!(summary.contains("publicKeys: |-"), "{summary}");

    // hoist verifies both, checking the log entries offline.
    let verify = world.verifier(&world.key).run(binary(), &[]);
    assert_eq!(verify.code, Some(0), "{}\n{}", verify.stdout, verify.stderr);
    assert_eq!(verify.outputs()["verified"], "true");
    assert_eq!(verify.outputs()["verified-formats"], "bundle,legacy");
    assert!(
        verify.stdout.contains("verified offline"),
        "{}",
        verify.stdout
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_second_signature_is_appended_and_both_verify() {
    let world = World::new();
    assert_eq!(world.run().code, Some(0));
    let other = SigningKey::generate().unwrap();
    let mut second = world.job();
    second
        .input("key", &other.to_pkcs8_pem())
        .input("annotations", "team=payments");
    let run = second.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let manifest = world
        .inspect(&format!("sha256-{}.sig", world.hex()))
        .unwrap();
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        2,
        "appended, not replaced"
    );
    let index = world.inspect(&format!("sha256-{}", world.hex())).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    for key in [&world.key, &other] {
        let verify = world.verifier(key).run(binary(), &[]);
        assert_eq!(verify.code, Some(0), "{}", verify.stdout);
        assert_eq!(verify.outputs()["verified-formats"], "bundle,legacy");
    }
    let mut annotated = world.verifier(&other);
    annotated.input("annotations", "team=payments");
    assert_eq!(annotated.run(binary(), &[]).code, Some(0));
    let mut wrong_annotation = world.verifier(&other);
    wrong_annotation.input("annotations", "team=billing");
    wrong_annotation
        .run(binary(), &[])
        .assert_failed_cleanly(&["no signature", "lack `team=billing`"]);
}

#[test]
fn a_rerun_with_the_same_key_and_annotations_writes_nothing() {
    let world = World::new();
    assert_eq!(world.run().code, Some(0));
    let again = world.run();
    assert_eq!(again.code, Some(0), "{}", again.stdout);
    assert!(again.stdout.contains("already there"), "{}", again.stdout);
    assert_eq!(world.rekor.entries().len(), 2, "nothing new was logged");
    let manifest = world
        .inspect(&format!("sha256-{}.sig", world.hex()))
        .unwrap();
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
}

#[test]
fn a_wrong_key_fails_verification() {
    let world = World::new();
    assert_eq!(world.run().code, Some(0));
    let stranger = SigningKey::generate().unwrap();
    let run = world.verifier(&stranger).run(binary(), &[]);
    run.assert_failed_cleanly(&["no signature of", "does not verify with the public key"]);
    assert!(!run.outputs().contains_key("verified"));
}

#[test]
fn an_unsigned_image_fails_verification() {
    let world = World::new();
    let run = world.verifier(&world.key).run(binary(), &[]);
    run.assert_failed_cleanly(&["no signatures were found", "sign the image"]);
}

#[test]
fn a_tag_is_resolved_and_its_digest_signed() {
    let mut world = World::new();
    world
        .sandbox
        .input(
            "image",
            &format!("{}/{REPOSITORY}:v1", world.registry.host()),
        )
        .input("format", "legacy");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs()["digest"], world.digest);
    let manifest = world
        .inspect(&format!("sha256-{}.sig", world.hex()))
        .unwrap();
    let payload: Value =
        serde_json::from_slice(&world.blob(manifest["layers"][0]["digest"].as_str().unwrap()))
            .unwrap();
    assert_eq!(
        payload["critical"]["identity"]["docker-reference"],
        format!("{}/{REPOSITORY}:v1", world.registry.host()),
        "a known tag goes into docker-reference, as podman's default policy wants"
    );
    assert!(
        world.inspect(&format!("sha256-{}", world.hex())).is_none(),
        "format: legacy writes no bundle"
    );
}

#[test]
fn without_the_log_nothing_reaches_rekor_and_verification_says_so() {
    let mut world = World::new();
    world.sandbox.input("tlog-upload", "false");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(world.rekor.requests().is_empty());
    assert!(
        run.file("GITHUB_STEP_SUMMARY")
            .contains("--insecure-ignore-tlog=true")
    );
    // With Rekor's key, an unlogged signature does not count...
    world
        .verifier(&world.key)
        .run(binary(), &[])
        .assert_failed_cleanly(&["no transparency log entry"]);
    // ...without it, it does, and the summary says it was not logged.
    let mut offline = world.verifier(&world.key);
    offline.input("rekor-public-key", "");
    let verify = offline.run(binary(), &[]);
    assert_eq!(verify.code, Some(0), "{}", verify.stdout);
    assert!(verify.stdout.contains("not in a transparency log"));
}

#[test]
fn a_rekor_outage_is_waited_out() {
    let world = World::new();
    world.rekor.faults(3, Fault::Status(503));
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(world.rekor.entries().len(), 2);
}

#[test]
fn rekor_down_for_good_leaves_the_registry_untouched() {
    let mut world = World::new();
    world.rekor.faults(1000, Fault::Status(502));
    world.sandbox.input("rekor-timeout", "1s");
    let run = world.run();
    run.assert_failed_cleanly(&["nothing was written to the registry", "Rekor may be down"]);
    assert!(
        world
            .inspect(&format!("sha256-{}.sig", world.hex()))
            .is_none()
    );
    assert!(world.inspect(&format!("sha256-{}", world.hex())).is_none());
}

#[test]
fn a_log_signed_by_another_key_is_refused_at_signing() {
    let mut world = World::new();
    let stranger = SigningKey::generate().unwrap();
    world
        .sandbox
        .input("rekor-public-key", &stranger.public_key().to_pem());
    let run = world.run();
    run.assert_failed_cleanly(&["not the log of the Rekor public key"]);
}

#[test]
fn a_second_image_in_the_repository_keeps_its_own_signatures() {
    let world = World::new();
    assert_eq!(world.run().code, Some(0));
    let other = push_image(
        &world.registry.host(),
        world.dir.path(),
        "v2",
        "order-service v2",
    );
    let mut verify = world.verifier(&world.key);
    verify.input(
        "image",
        &format!("{}/{REPOSITORY}@{other}", world.registry.host()),
    );
    verify
        .run(binary(), &[])
        .assert_failed_cleanly(&["no signatures were found"]);
}
