//! The Rekor stand-in accepts what Rekor accepts, rejects what it rejects,
//! and its signed entry timestamps, inclusion proofs and checkpoints verify
//! with code that shares nothing with the stand-in's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _,
    UnparsedPublicKey,
};
use serde_json::{Value, json};

use hoist_testkit::rekor::{self, merkle};
use hoist_testkit::{Fault, RekorStandIn, block_on};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A signer's fresh P-256 key and its `PUBLIC KEY` PEM.
fn signer() -> (EcdsaKeyPair, String) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let spki = [
        &hex_bytes("3059301306072a8648ce3d020106082a8648ce3d030107034200")[..],
        key.public_key().as_ref(),
    ]
    .concat();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        b64(&spki)
    );
    (key, pem)
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn sign(key: &EcdsaKeyPair, message: &[u8]) -> Vec<u8> {
    key.sign(&SystemRandom::new(), message)
        .unwrap()
        .as_ref()
        .to_vec()
}

/// A `hashedrekord` 0.0.1 for `payload` signed by `key`.
fn hashedrekord(key: &EcdsaKeyPair, pem: &str, payload: &[u8]) -> Value {
    json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": hex(digest(&SHA256, payload).as_ref())}},
        "signature": {"content": b64(&sign(key, payload)), "publicKey": {"content": b64(pem.as_bytes())}},
    }})
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: Value,
    text: String,
}

fn call(method: &str, url: String, body: Option<&Value>) -> Answer {
    block_on(async {
        let client = hoist_testkit::raw_client();
        let mut request = client.request(method.parse().unwrap(), url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        Answer {
            status,
            location,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    })
}

fn submit(rekor: &RekorStandIn, entry: &Value) -> Answer {
    call(
        "POST",
        format!("{}/api/v1/log/entries", rekor.url()),
        Some(entry),
    )
}

/// The one `(uuid, LogEntry)` of a `{uuid: LogEntry}` answer.
fn only(answer: &Value) -> (String, Value) {
    let map = answer.as_object().unwrap();
    assert_eq!(map.len(), 1, "{answer}");
    let (uuid, entry) = map.iter().next().unwrap();
    (uuid.clone(), entry.clone())
}

/// Verifies the SET with a canonical form written out by hand.
fn set_verifies_independently(entry: &Value, log_pem: &str) -> bool {
    let canonical = format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        entry["body"].as_str().unwrap(),
        entry["integratedTime"],
        entry["logID"].as_str().unwrap(),
        entry["logIndex"],
    );
    let der: String = log_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let point = &unb64(&der)[26..];
    let set = unb64(
        entry["verification"]["signedEntryTimestamp"]
            .as_str()
            .unwrap(),
    );
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
        .verify(canonical.as_bytes(), &set)
        .is_ok()
}

#[test]
fn a_hashedrekord_is_logged_with_a_set_and_an_inclusion_proof() {
    let rekor = RekorStandIn::start();
    let (key, pem) = signer();
    let answer = submit(&rekor, &hashedrekord(&key, &pem, b"payload one"));
    assert_eq!(answer.status, 201, "{}", answer.text);
    let (uuid, entry) = only(&answer.body);
    assert_eq!(uuid.len(), 80);
    assert_eq!(
        answer.location.as_deref(),
        Some(format!("/api/v1/log/entries/{uuid}").as_str())
    );

    let log_pem = call("GET", format!("{}/api/v1/log/publicKey", rekor.url()), None).text;
    assert_eq!(log_pem, rekor.public_key_pem());
    let der: String = log_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert_eq!(entry["logID"], hex(digest(&SHA256, &unb64(&der)).as_ref()));
    assert_eq!(entry["logIndex"], 0);
    assert!(rekor::verify_set(&entry, &log_pem));
    assert!(set_verifies_independently(&entry, &log_pem));
    let (_, other_pem) = signer();
    assert!(!rekor::verify_set(&entry, &other_pem));

    // The body is the canonical entry, and the UUID its leaf hash.
    let body = unb64(entry["body"].as_str().unwrap());
    let decoded: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(decoded["kind"], "hashedrekord");
    assert_eq!(rekor::canonical_json(&decoded).as_bytes(), &body[..]);
    let leaf = digest(&SHA256, &[&[0u8][..], &body].concat());
    assert!(uuid.ends_with(&hex(leaf.as_ref())));
    assert!(rekor::verify_inclusion(&entry));
    let proof = &entry["verification"]["inclusionProof"];
    assert_eq!(proof["treeSize"], 1);
    assert_eq!(proof["rootHash"], hex(leaf.as_ref()));
    assert!(rekor::verify_checkpoint(
        proof["checkpoint"].as_str().unwrap(),
        &log_pem,
        1,
        proof["rootHash"].as_str().unwrap()
    ));
    assert!(!rekor::verify_checkpoint(
        proof["checkpoint"].as_str().unwrap(),
        &other_pem,
        1,
        proof["rootHash"].as_str().unwrap()
    ));

    let fetched = call(
        "GET",
        format!("{}{}", rekor.url(), answer.location.unwrap()),
        None,
    );
    assert_eq!(fetched.status, 200);
    assert_eq!(only(&fetched.body).1["body"], entry["body"]);
    assert_eq!(rekor.entries().len(), 1);
    assert_eq!(rekor.entries()[0].body, decoded);
}

#[test]
fn a_second_entry_grows_the_tree_and_every_proof_verifies() {
    let rekor = RekorStandIn::start();
    let (key, pem) = signer();
    let first = only(&submit(&rekor, &hashedrekord(&key, &pem, b"one")).body);
    let second = submit(&rekor, &hashedrekord(&key, &pem, b"two"));
    assert_eq!(second.status, 201);
    let (_, second) = only(&second.body);
    assert_eq!(second["logIndex"], 1);
    assert_eq!(second["verification"]["inclusionProof"]["treeSize"], 2);
    assert!(rekor::verify_inclusion(&second));

    // The first entry, read again, is proved against the grown tree.
    let again = call(
        "GET",
        format!("{}/api/v1/log/entries/{}", rekor.url(), first.0),
        None,
    );
    let (_, again) = only(&again.body);
    let proof = &again["verification"]["inclusionProof"];
    assert_eq!(proof["treeSize"], 2);
    assert!(rekor::verify_inclusion(&again));
    // By hand: root = SHA256(0x01 ‖ leaf0 ‖ leaf1).
    let leaf = |entry: &Value| {
        let body = unb64(entry["body"].as_str().unwrap());
        digest(&SHA256, &[&[0u8][..], &body].concat())
            .as_ref()
            .to_vec()
    };
    let root = digest(
        &SHA256,
        &[&[1u8][..], &leaf(&again), &leaf(&second)].concat(),
    );
    assert_eq!(proof["rootHash"], hex(root.as_ref()));
    assert_eq!(proof["hashes"], json!([hex(&leaf(&second))]));

    let info = call("GET", format!("{}/api/v1/log", rekor.url()), None).body;
    assert_eq!(info["treeSize"], 2);
    assert_eq!(info["rootHash"], hex(root.as_ref()));
    assert_eq!(info["treeID"], rekor::TREE_ID.to_string());
    assert!(rekor::verify_checkpoint(
        info["signedTreeHead"].as_str().unwrap(),
        &rekor.public_key_pem(),
        2,
        info["rootHash"].as_str().unwrap()
    ));
    let by_index = call(
        "GET",
        format!("{}/api/v1/log/entries?logIndex=1", rekor.url()),
        None,
    );
    assert_eq!(only(&by_index.body).1["body"], second["body"]);
}

#[test]
fn a_bad_signature_is_a_400_and_is_not_logged() {
    let rekor = RekorStandIn::start();
    let (key, pem) = signer();
    let mut entry = hashedrekord(&key, &pem, b"signed");
    entry["spec"]["data"]["hash"]["value"] = json!(hex(digest(&SHA256, b"other").as_ref()));
    let answer = submit(&rekor, &entry);
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.body["code"], 400);
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("signature")
    );

    let (_, stranger) = signer();
    let answer = submit(&rekor, &hashedrekord(&key, &stranger, b"signed"));
    assert_eq!(answer.status, 400);
    let mut garbled = hashedrekord(&key, &pem, b"signed");
    garbled["spec"]["signature"]["publicKey"]["content"] = json!(b64(b"not a key"));
    assert_eq!(submit(&rekor, &garbled).status, 400);
    assert!(rekor.entries().is_empty());
}

#[test]
fn a_duplicate_is_a_409_pointing_at_the_existing_entry() {
    let rekor = RekorStandIn::start();
    let (key, pem) = signer();
    let entry = hashedrekord(&key, &pem, b"once");
    let first = submit(&rekor, &entry);
    assert_eq!(first.status, 201);
    let again = submit(&rekor, &entry);
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.body["code"], 409);
    assert_eq!(again.location, first.location);
    assert_eq!(rekor.entries().len(), 1);
}

#[test]
fn entries_are_found_by_hash_uuid_index_and_content() {
    let rekor = RekorStandIn::start();
    let (key, pem) = signer();
    let entry = hashedrekord(&key, &pem, b"find me");
    let (uuid, _) = only(&submit(&rekor, &entry).body);
    submit(&rekor, &hashedrekord(&key, &pem, b"not me"));
    let hash = hex(digest(&SHA256, b"find me").as_ref());

    let found = call(
        "POST",
        format!("{}/api/v1/index/retrieve", rekor.url()),
        Some(&json!({"hash": format!("sha256:{hash}")})),
    );
    assert_eq!(found.body, json!([uuid]));
    let retrieved = call(
        "POST",
        format!("{}/api/v1/log/entries/retrieve", rekor.url()),
        Some(&json!({"entryUUIDs": [uuid], "logIndexes": [1], "entries": [entry]})),
    );
    let list = retrieved.body.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(only(&list[0]).0, uuid);
    assert_eq!(only(&list[2]).0, uuid);
    assert_eq!(only(&list[1]).1["logIndex"], 1);
    assert_eq!(
        call(
            "GET",
            format!("{}/api/v1/log/entries/{}", rekor.url(), &uuid[16..]),
            None
        )
        .status,
        200
    );
    assert_eq!(
        call(
            "GET",
            format!("{}/api/v1/log/entries/{}", rekor.url(), "ab".repeat(32)),
            None
        )
        .status,
        404
    );
}

#[test]
fn a_dsse_envelope_is_checked_over_its_pae() {
    let rekor = RekorStandIn::start();
    let (key, pem) = signer();
    let statement = json!({"_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "img", "digest": {"sha256": "ab".repeat(32)}}],
        "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}})
    .to_string();
    let payload_type = "application/vnd.in-toto+json";
    let pae = format!(
        "DSSEv1 {} {payload_type} {} {statement}",
        payload_type.len(),
        statement.len()
    );
    let envelope = |sig: &[u8]| {
        json!({"payload": b64(statement.as_bytes()), "payloadType": payload_type,
            "signatures": [{"sig": b64(sig), "keyid": ""}]})
        .to_string()
    };
    let proposed = |envelope: String| {
        json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {
            "envelope": envelope, "verifiers": [b64(pem.as_bytes())]}}})
    };
    let bad = submit(
        &rekor,
        &proposed(envelope(&sign(&key, statement.as_bytes()))),
    );
    assert_eq!(bad.status, 400, "{}", bad.text);

    let good_envelope = envelope(&sign(&key, pae.as_bytes()));
    let answer = submit(&rekor, &proposed(good_envelope.clone()));
    assert_eq!(answer.status, 201, "{}", answer.text);
    let (uuid, entry) = only(&answer.body);
    assert!(rekor::verify_set(&entry, &rekor.public_key_pem()));
    assert!(rekor::verify_inclusion(&entry));
    let body = &rekor.entries()[0].body;
    assert_eq!(body["kind"], "dsse");
    assert_eq!(
        body["spec"]["envelopeHash"]["value"],
        hex(digest(&SHA256, good_envelope.as_bytes()).as_ref())
    );
    assert_eq!(
        body["spec"]["payloadHash"]["value"],
        hex(digest(&SHA256, statement.as_bytes()).as_ref())
    );
    assert_eq!(
        body["spec"]["signatures"][0]["verifier"],
        b64(pem.as_bytes())
    );
    let found = call(
        "POST",
        format!("{}/api/v1/index/retrieve", rekor.url()),
        Some(&json!({"hash": format!("sha256:{}", "ab".repeat(32))})),
    );
    assert_eq!(found.body, json!([uuid]));
}

#[test]
fn a_certificate_is_accepted_as_the_public_key() {
    let rekor = RekorStandIn::start();
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["signer.test".to_owned()])
        .unwrap()
        .self_signed(&key_pair)
        .unwrap();
    let key = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &key_pair.serialize_der(),
        &SystemRandom::new(),
    )
    .unwrap();
    let answer = submit(&rekor, &hashedrekord(&key, &cert.pem(), b"keyless"));
    assert_eq!(answer.status, 201, "{}", answer.text);
}

#[test]
fn faults_script_an_outage_then_the_log_answers() {
    let rekor = RekorStandIn::start();
    let (key, pem) = signer();
    let entry = hashedrekord(&key, &pem, b"retry me");
    rekor.faults(2, Fault::Status(503));
    assert_eq!(submit(&rekor, &entry).status, 503);
    assert_eq!(submit(&rekor, &entry).status, 503);
    assert!(rekor.entries().is_empty());
    assert_eq!(submit(&rekor, &entry).status, 201);
    rekor.fault(Fault::Status(503));
    assert_eq!(submit(&rekor, &entry).status, 503);
    assert_eq!(rekor.requests().len(), 4);
    assert!(
        rekor
            .requests()
            .iter()
            .all(|r| r.path == "/api/v1/log/entries")
    );
}

#[test]
fn audit_paths_verify_for_every_leaf_of_every_small_tree() {
    for size in 1..=17usize {
        let leaves: Vec<merkle::Hash> = (0..size)
            .map(|i| merkle::leaf_hash(format!("leaf {i}").as_bytes()))
            .collect();
        let root = merkle::root(&leaves);
        for (i, leaf) in leaves.iter().enumerate() {
            let path = merkle::audit_path(i, &leaves);
            assert!(
                merkle::verify(leaf, i as u64, size as u64, &path, &root),
                "{i} of {size}"
            );
            let other = (i + 1) % size;
            if other != i {
                assert!(!merkle::verify(
                    leaf,
                    other as u64,
                    size as u64,
                    &path,
                    &root
                ));
            }
        }
    }
}
