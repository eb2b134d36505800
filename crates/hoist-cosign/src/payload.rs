//! What gets signed: cosign's simple-signing payload (legacy format) and an
//! in-toto statement wrapped in a DSSE envelope (bundle format).

use std::collections::BTreeMap;

use base64::Engine as _;
use hoist_oci::Digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `critical.type` of every cosign image signature.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
/// The in-toto statement type cosign v3 writes for signatures.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of a cosign v3 image signature.
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";
/// DSSE's payload type for in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A payload that does not say what a signature needs it to say.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    /// The bytes are not the JSON shape expected.
    #[error("the signed payload is not a {what}: {reason}")]
    Malformed {
        /// What it should have been.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The payload signs another image.
    #[error("the signed payload is for {found}, not {expected}")]
    OtherImage {
        /// The digest verified.
        expected: String,
        /// The digest the payload names.
        found: String,
    },
    /// The payload's annotations lack one that was required.
    #[error("the signature's annotations lack `{key}={value}`")]
    MissingAnnotation {
        /// The key.
        key: String,
        /// The value required.
        value: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimpleSigning {
    critical: Critical,
    optional: Option<BTreeMap<String, Value>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// The simple-signing payload cosign signs for `digest`: the exact field
/// set containers/image insists on, `optional` null without annotations.
/// `docker_reference` is the repository (`registry/name`), with `:tag` when
/// the signer was given one.
pub fn simple_signing(
    docker_reference: &str,
    digest: &Digest,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let payload = SimpleSigning {
        critical: Critical {
            identity: Identity {
                docker_reference: docker_reference.to_owned(),
            },
            image: Image {
                docker_manifest_digest: digest.to_string(),
            },
            kind: SIMPLE_SIGNING_TYPE.to_owned(),
        },
        optional: (!annotations.is_empty()).then(|| {
            annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect()
        }),
    };
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// Checks a simple-signing payload signs `digest` and carries `required`
/// annotations; returns its annotations.
pub fn check_simple_signing(
    bytes: &[u8],
    digest: &Digest,
    required: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, PayloadError> {
    let payload: SimpleSigning =
        serde_json::from_slice(bytes).map_err(|e| PayloadError::Malformed {
            what: "simple-signing payload",
            reason: e.to_string(),
        })?;
    if payload.critical.kind != SIMPLE_SIGNING_TYPE {
        return Err(PayloadError::Malformed {
            what: "simple-signing payload",
            reason: format!("its type is `{}`", payload.critical.kind),
        });
    }
    if payload.critical.image.docker_manifest_digest != digest.as_str() {
        return Err(PayloadError::OtherImage {
            expected: digest.to_string(),
            found: payload.critical.image.docker_manifest_digest,
        });
    }
    let annotations = flat_strings(payload.optional.unwrap_or_default());
    check_annotations(&annotations, required)?;
    Ok(annotations)
}

fn flat_strings(map: BTreeMap<String, Value>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

fn check_annotations(
    found: &BTreeMap<String, String>,
    required: &BTreeMap<String, String>,
) -> Result<(), PayloadError> {
    for (key, value) in required {
        if found.get(key) != Some(value) {
            return Err(PayloadError::MissingAnnotation {
                key: key.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(())
}

/// The in-toto statement cosign v3 signs for an image: one subject (the
/// manifest digest, with the annotations) and an empty predicate.
pub fn sign_statement(digest: &Digest, annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let mut subject = serde_json::json!({ "digest": { "sha256": digest.hex() } });
    if !annotations.is_empty() {
        subject["annotations"] = serde_json::json!(annotations);
    }
    let statement = serde_json::json!({
        "_type": STATEMENT_TYPE,
        "subject": [subject],
        "predicateType": SIGN_PREDICATE_TYPE,
        "predicate": {},
    });
    serde_json::to_vec(&statement).unwrap_or_default()
}

/// Checks a statement is a cosign signature statement for `digest` with
/// `required` annotations; returns its subject's annotations.
pub fn check_sign_statement(
    bytes: &[u8],
    digest: &Digest,
    required: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, PayloadError> {
    let malformed = |reason: &str| PayloadError::Malformed {
        what: "cosign signature statement",
        reason: reason.to_owned(),
    };
    let statement: Value = serde_json::from_slice(bytes).map_err(|e| malformed(&e.to_string()))?;
    if statement["_type"] != STATEMENT_TYPE {
        return Err(malformed("its `_type` is not in-toto Statement v1"));
    }
    if statement["predicateType"] != SIGN_PREDICATE_TYPE {
        return Err(malformed(&format!(
            "its predicateType is {}",
            statement["predicateType"]
        )));
    }
    let subjects = statement["subject"]
        .as_array()
        .ok_or_else(|| malformed("it has no subject list"))?;
    let subject = subjects
        .iter()
        .find(|s| s["digest"]["sha256"] == digest.hex())
        .ok_or_else(|| PayloadError::OtherImage {
            expected: digest.to_string(),
            found: subjects
                .iter()
                .filter_map(|s| s["digest"]["sha256"].as_str())
                .map(|h| format!("sha256:{h}"))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let annotations: BTreeMap<String, Value> =
        serde_json::from_value(subject["annotations"].clone()).unwrap_or_default();
    let annotations = flat_strings(annotations);
    check_annotations(&annotations, required)?;
    Ok(annotations)
}

/// DSSE's pre-authentication encoding: what a DSSE signature is over.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope with one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The payload, base64.
    pub payload: String,
    /// The payload's type.
    pub payload_type: String,
    /// The signatures.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature in a DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// The signature, base64.
    pub sig: String,
    /// The key ID; empty, as cosign writes it.
    #[serde(default)]
    pub keyid: String,
}

impl Envelope {
    /// An envelope around `payload` with one signature over its PAE.
    pub fn new(payload_type: &str, payload: &[u8], signature: &[u8]) -> Self {
        Self {
            payload: b64(payload),
            payload_type: payload_type.to_owned(),
            signatures: vec![EnvelopeSignature {
                sig: b64(signature),
                keyid: String::new(),
            }],
        }
    }

    /// The decoded payload.
    pub fn payload_bytes(&self) -> Option<Vec<u8>> {
        unb64(&self.payload)
    }

    /// The PAE the signatures are over.
    pub fn signed_bytes(&self) -> Option<Vec<u8>> {
        Some(pae(&self.payload_type, &self.payload_bytes()?))
    }
}

/// Standard base64 with padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Standard base64, decoded.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> Digest {
        Digest::of(b"manifest")
    }

    #[test]
    fn simple_signing_has_cosigns_exact_shape() {
        let bytes = simple_signing("r.example/app", &digest(), &BTreeMap::new());
        let expected = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r.example/app"}},"image":{{"docker-manifest-digest":"{}"}},"type":"cosign container image signature"}},"optional":null}}"#,
            digest()
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn simple_signing_round_trips_and_checks_annotations() {
        let mut annotations = BTreeMap::new();
        annotations.insert("git-sha".to_owned(), "abc".to_owned());
        let bytes = simple_signing("r.example/app:v1", &digest(), &annotations);
        assert_eq!(
            check_simple_signing(&bytes, &digest(), &annotations).unwrap(),
            annotations
        );
        let mut other = annotations.clone();
        other.insert("git-sha".to_owned(), "def".to_owned());
        assert!(matches!(
            check_simple_signing(&bytes, &digest(), &other),
            Err(PayloadError::MissingAnnotation { .. })
        ));
        assert!(matches!(
            check_simple_signing(&bytes, &Digest::of(b"other"), &BTreeMap::new()),
            Err(PayloadError::OtherImage { .. })
        ));
    }

    #[test]
    fn simple_signing_refuses_extra_fields() {
        let text = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"a"}},"image":{{"docker-manifest-digest":"{}"}},"type":"cosign container image signature","extra":1}},"optional":null}}"#,
            digest()
        );
        assert!(check_simple_signing(text.as_bytes(), &digest(), &BTreeMap::new()).is_err());
    }

    #[test]
    fn statements_name_the_digest_and_predicate() {
        let mut annotations = BTreeMap::new();
        annotations.insert("pipeline-url".to_owned(), "https://x/runs/1".to_owned());
        let bytes = sign_statement(&digest(), &annotations);
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["predicateType"], SIGN_PREDICATE_TYPE);
        assert_eq!(value["subject"][0]["digest"]["sha256"], digest().hex());
        assert_eq!(
            check_sign_statement(&bytes, &digest(), &annotations).unwrap(),
            annotations
        );
        assert!(check_sign_statement(&bytes, &Digest::of(b"x"), &BTreeMap::new()).is_err());
    }

    #[test]
    fn pae_is_dsse_v1() {
        assert_eq!(
            pae("application/example", b"hello world"),
            b"DSSEv1 19 application/example 11 hello world".to_vec()
        );
    }
}
