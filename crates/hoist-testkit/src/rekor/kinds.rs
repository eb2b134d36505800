//! The entry kinds the stand-in accepts, validated as Rekor does:
//! `hashedrekord` 0.0.1 (a signature over a SHA-256 digest) and `dsse`
//! 0.0.1 (an envelope whose signatures verify over DSSE's PAE).

use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use serde_json::{Value, json};

use super::codec::{b64, hex, p256_point_of_pem, unb64, unhex};
use super::p256::verify_prehashed;

/// A proposed entry Rekor accepted: its canonical body and the hashes it
/// can be found by (`POST /api/v1/index/retrieve`).
pub(crate) struct Accepted {
    pub(crate) body: Value,
    pub(crate) index: Vec<String>,
}

/// Validates a proposed entry; the error is Rekor's 400 message.
pub(crate) fn accept(proposed: &Value) -> Result<Accepted, String> {
    let kind = proposed["kind"].as_str().unwrap_or_default();
    let version = proposed["apiVersion"].as_str().unwrap_or_default();
    match (kind, version) {
        ("hashedrekord", "0.0.1") => hashedrekord(&proposed["spec"]),
        ("dsse", "0.0.1") => dsse(&proposed["spec"]),
        ("hashedrekord" | "dsse", _) => Err(format!(
            "error processing entry: {kind} implementation for version '{version}' not found"
        )),
        _ => Err(format!(
            "error processing entry: kind '{kind}' is not supported"
        )),
    }
}

fn invalid(what: &str) -> String {
    format!("error processing entry: {what}")
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// The P-256 key in a base64-encoded PEM (`PUBLIC KEY` or `CERTIFICATE`).
fn key_of(encoded: &str) -> Result<Vec<u8>, String> {
    let pem = unb64(encoded).ok_or_else(|| invalid("invalid public key: not base64"))?;
    p256_point_of_pem(&String::from_utf8_lossy(&pem))
        .ok_or_else(|| invalid("invalid public key: not a P-256 key or certificate in PEM"))
}

fn hashedrekord(spec: &Value) -> Result<Accepted, String> {
    let hash = &spec["data"]["hash"];
    if hash["algorithm"] != "sha256" {
        return Err(invalid("unsupported hash algorithm"));
    }
    let value = hash["value"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let digest = unhex(&value)
        .filter(|d| d.len() == 32)
        .ok_or_else(|| invalid("invalid value for hash"))?;
    let signature = spec["signature"]["content"]
        .as_str()
        .and_then(unb64)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("missing signature"))?;
    let key_content = spec["signature"]["publicKey"]["content"]
        .as_str()
        .ok_or_else(|| invalid("missing public key"))?;
    let point = key_of(key_content)?;
    if !verify_prehashed(&point, &digest, &signature) {
        return Err(invalid(
            "verifying signature: invalid signature when validating ASN.1 encoded signature",
        ));
    }
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": value}},
            "signature": {
                "content": b64(&signature),
                "publicKey": {"content": b64(&unb64(key_content).unwrap_or_default())},
            },
        },
    });
    Ok(Accepted {
        body,
        index: vec![value],
    })
}

/// DSSE's pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let head = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    );
    [head.as_bytes(), payload].concat()
}

fn any_b64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    unb64(text).or_else(|| base64::engine::general_purpose::URL_SAFE.decode(text).ok())
}

fn dsse(spec: &Value) -> Result<Accepted, String> {
    let content = &spec["proposedContent"];
    let envelope_text = content["envelope"]
        .as_str()
        .ok_or_else(|| invalid("missing envelope"))?;
    let envelope: Value = serde_json::from_str(envelope_text)
        .map_err(|_| invalid("envelope is not a DSSE envelope"))?;
    let payload_type = envelope["payloadType"].as_str().unwrap_or_default();
    let payload = envelope["payload"]
        .as_str()
        .and_then(any_b64)
        .ok_or_else(|| invalid("envelope payload is not base64"))?;
    let verifiers = content["verifiers"]
        .as_array()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid("missing verifiers"))?;
    let keys = verifiers
        .iter()
        .map(|v| {
            let encoded = v.as_str().unwrap_or_default();
            Ok((b64(&unb64(encoded).unwrap_or_default()), key_of(encoded)?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let message = pae(payload_type, &payload);
    let signatures = envelope["signatures"]
        .as_array()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("envelope has no signatures"))?;
    let mut canonical = Vec::new();
    for signature in signatures {
        let sig = signature["sig"]
            .as_str()
            .and_then(any_b64)
            .ok_or_else(|| invalid("envelope signature is not base64"))?;
        let (verifier, _) = keys
            .iter()
            .find(|(_, point)| {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
                    .verify(&message, &sig)
                    .is_ok()
            })
            .ok_or_else(|| invalid("could not verify envelope signature with any verifier"))?;
        canonical.push(json!({"signature": b64(&sig), "verifier": verifier}));
    }
    canonical.sort_by(|a, b| a["signature"].as_str().cmp(&b["signature"].as_str()));
    let envelope_hash = hex(&sha256(envelope_text.as_bytes()));
    let payload_hash = hex(&sha256(&payload));
    let mut index = vec![envelope_hash.clone(), payload_hash.clone()];
    if payload_type == "application/vnd.in-toto+json" {
        let statement: Value = serde_json::from_slice(&payload).unwrap_or_default();
        for subject in statement["subject"].as_array().into_iter().flatten() {
            if let Some(digest) = subject["digest"]["sha256"].as_str() {
                index.push(digest.to_ascii_lowercase());
            }
        }
    }
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": envelope_hash},
            "payloadHash": {"algorithm": "sha256", "value": payload_hash},
            "signatures": canonical,
        },
    });
    Ok(Accepted { body, index })
}
