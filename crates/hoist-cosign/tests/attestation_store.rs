//! The legacy `.att` storage against the real `docker-registry`
//! (distribution v2): attestations and signatures of one image live under
//! their own tags, each read back alone, in cosign's layout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use hoist_cosign::SigningKey;
use hoist_cosign::attest::{self, SbomFormat};
use hoist_cosign::legacy::{
    self, Attachment, DSSE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION, SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING_MEDIA_TYPE, SignatureLayer,
};
use hoist_cosign::payload::{self, Envelope, IN_TOTO_PAYLOAD_TYPE};
use hoist_cosign::store::Written;
use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_oci::Digest;
use hoist_oci::registry::Registry;
use hoist_testkit::{RegistryAuth, block_on};
use serde_json::{Value, json};

const REPOSITORY: &str = "shop/app";

fn client(host: &str) -> Registry {
    let http = HttpClient::new(
        &HttpOptions::new("hoist-cosign-test", "0"),
        &BTreeMap::new(),
    )
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
        None,
        policy,
        Arc::new(SystemClock::default()),
    )
}

/// A `.att` layer as cosign writes it: the DSSE envelope around a
/// statement, signed by `key`, with the predicate type beside it.
fn attestation(
    key: &SigningKey,
    digest: &Digest,
    predicate_type: &str,
    predicate: &Value,
) -> SignatureLayer {
    let statement = attest::statement("127.0.0.1/shop/app", digest, predicate_type, predicate);
    let signature = key
        .sign(&payload::pae(IN_TOTO_PAYLOAD_TYPE, &statement))
        .unwrap();
    let envelope = Envelope::new(IN_TOTO_PAYLOAD_TYPE, &statement, &signature);
    let mut annotations = BTreeMap::new();
    annotations.insert(SIGNATURE_ANNOTATION.to_owned(), String::new());
    annotations.insert(
        PREDICATE_TYPE_ANNOTATION.to_owned(),
        predicate_type.to_owned(),
    );
    SignatureLayer {
        payload: serde_json::to_vec(&envelope).unwrap(),
        annotations,
    }
}

fn signature(key: &SigningKey, digest: &Digest) -> SignatureLayer {
    let payload = payload::simple_signing("127.0.0.1/shop/app", digest, &BTreeMap::new());
    let signature = key.sign(&payload).unwrap();
    let mut annotations = BTreeMap::new();
    annotations.insert(SIGNATURE_ANNOTATION.to_owned(), base64_standard(&signature));
    SignatureLayer {
        payload,
        annotations,
    }
}

fn base64_standard(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// The raw manifest under `tag`.
fn manifest(registry: &Registry, tag: &str) -> Value {
    let stored = block_on(registry.get_manifest(tag)).unwrap().unwrap();
    serde_json::from_slice(&stored.bytes).unwrap()
}

#[test]
fn attestations_and_signatures_are_stored_and_read_apart() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let registry = client(&peer.host());
    let key = SigningKey::generate().unwrap();
    let digest = Digest::of(b"the image manifest");

    let sbom = attest::read_sbom(
        br#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"app","packages":[]}"#,
        None,
    )
    .unwrap();
    assert_eq!(sbom.format, SbomFormat::SpdxJson);
    let sbom_layer = attestation(&key, &digest, sbom.format.predicate_type(), &sbom.document);
    let provenance_layer = attestation(
        &key,
        &digest,
        attest::SLSA_PROVENANCE_V1_PREDICATE_TYPE,
        &json!({ "buildDefinition": { "buildType": attest::GITHUB_WORKFLOW_BUILD_TYPE } }),
    );
    let signature_layer = signature(&key, &digest);

    // Nothing is there yet.
    assert!(
        block_on(legacy::read_attachment(
            &registry,
            &digest,
            Attachment::Attestation
        ))
        .unwrap()
        .is_empty()
    );

    for (kind, layer) in [
        (Attachment::Attestation, &sbom_layer),
        (Attachment::Signature, &signature_layer),
        (Attachment::Attestation, &provenance_layer),
    ] {
        assert_eq!(
            block_on(legacy::write_attachment(&registry, &digest, kind, layer)).unwrap(),
            Written::Added
        );
    }
    // The same attestation again is not added twice.
    assert_eq!(
        block_on(legacy::write_attachment(
            &registry,
            &digest,
            Attachment::Attestation,
            &sbom_layer
        ))
        .unwrap(),
        Written::AlreadyThere
    );

    let attestations = block_on(legacy::read_attachment(
        &registry,
        &digest,
        Attachment::Attestation,
    ))
    .unwrap();
    assert_eq!(
        attestations,
        vec![sbom_layer.clone(), provenance_layer.clone()]
    );
    let signatures = block_on(legacy::read(&registry, &digest)).unwrap();
    assert_eq!(signatures, vec![signature_layer.clone()]);
    assert_eq!(
        block_on(legacy::read_attachment(
            &registry,
            &digest,
            Attachment::Signature
        ))
        .unwrap(),
        signatures
    );

    // Each attestation read back is a DSSE envelope that verifies and
    // states its predicate about the image.
    for (layer, predicate_type) in [
        (&attestations[0], attest::SPDX_PREDICATE_TYPE),
        (&attestations[1], attest::SLSA_PROVENANCE_V1_PREDICATE_TYPE),
    ] {
        assert_eq!(layer.predicate_type(), Some(predicate_type));
        let envelope: Envelope = serde_json::from_slice(&layer.payload).unwrap();
        let signature = base64_decode(&envelope.signatures[0].sig);
        assert!(
            key.public_key()
                .verify(&envelope.signed_bytes().unwrap(), &signature)
        );
        let statement = envelope.payload_bytes().unwrap();
        attest::check_statement(&statement, &digest, predicate_type).unwrap();
    }
    assert_eq!(
        attest::check_statement(
            &serde_json::from_slice::<Envelope>(&attestations[0].payload)
                .unwrap()
                .payload_bytes()
                .unwrap(),
            &digest,
            attest::SPDX_PREDICATE_TYPE
        )
        .unwrap(),
        sbom.document
    );

    // cosign's layout: `.att` holds DSSE layers with an empty signature
    // annotation and the predicate type; `.sig` holds simple-signing layers.
    let att = manifest(&registry, &legacy::attestation_tag(&digest));
    assert_eq!(
        legacy::attestation_tag(&digest),
        format!("sha256-{}.att", digest.hex())
    );
    let layers = att["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for (layer, predicate_type) in layers.iter().zip([
        attest::SPDX_PREDICATE_TYPE,
        attest::SLSA_PROVENANCE_V1_PREDICATE_TYPE,
    ]) {
        assert_eq!(layer["mediaType"], DSSE_MEDIA_TYPE);
        assert_eq!(layer["annotations"][SIGNATURE_ANNOTATION], "");
        assert_eq!(
            layer["annotations"][PREDICATE_TYPE_ANNOTATION],
            predicate_type
        );
    }
    assert_eq!(
        att["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let sig = manifest(&registry, &legacy::signature_tag(&digest));
    let layers = sig["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], SIMPLE_SIGNING_MEDIA_TYPE);
}

#[test]
fn an_attestation_without_a_signature_annotation_gets_an_empty_one() {
    let peer = hoist_testkit::Registry::start(RegistryAuth::Anonymous);
    let registry = client(&peer.host());
    let key = SigningKey::generate().unwrap();
    let digest = Digest::of(b"another image manifest");
    let mut layer = attestation(
        &key,
        &digest,
        attest::CYCLONEDX_PREDICATE_TYPE,
        &json!({ "bomFormat": "CycloneDX", "specVersion": "1.6" }),
    );
    layer.annotations.remove(SIGNATURE_ANNOTATION);
    assert_eq!(
        block_on(legacy::write_attachment(
            &registry,
            &digest,
            Attachment::Attestation,
            &layer
        ))
        .unwrap(),
        Written::Added
    );
    let read = block_on(legacy::read_attachment(
        &registry,
        &digest,
        Attachment::Attestation,
    ))
    .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].signature(), Some(""));
    assert_eq!(read[0].payload, layer.payload);
    // Writing it again, with or without the annotation, finds it there.
    assert_eq!(
        block_on(legacy::write_attachment(
            &registry,
            &digest,
            Attachment::Attestation,
            &read[0]
        ))
        .unwrap(),
        Written::AlreadyThere
    );
    // No signature tag was made.
    assert!(
        block_on(legacy::read(&registry, &digest))
            .unwrap()
            .is_empty()
    );
}
