//! Verification with a public key, of both formats: the signature over
//! the payload, the payload naming the image (and the annotations asked
//! for), and — given Rekor's key — the log entry, offline.

use std::collections::BTreeMap;

use hoist_oci::Digest;
use hoist_oci::registry::Registry;
use serde_json::Value;

use crate::bundle::{self, BUNDLE_MEDIA_TYPE};
use crate::key::PublicKey;
use crate::legacy::{self, BUNDLE_ANNOTATION, SignatureLayer};
use crate::payload::{self, IN_TOTO_PAYLOAD_TYPE, unb64};
use crate::rekor::{LogEntry, TlogError};
use crate::store::StoreError;

/// Which storage formats to write, or to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formats {
    /// The `sha256-<hex>.sig` tag only.
    Legacy,
    /// The bundle referrer only.
    Bundle,
    /// Both.
    Both,
}

impl Formats {
    /// Reads `legacy`, `bundle` or `both`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "legacy" => Some(Self::Legacy),
            "bundle" => Some(Self::Bundle),
            "both" => Some(Self::Both),
            _ => None,
        }
    }

    /// Whether the legacy format is included.
    pub fn legacy(self) -> bool {
        self != Self::Bundle
    }

    /// Whether the bundle format is included.
    pub fn bundle(self) -> bool {
        self != Self::Legacy
    }
}

/// What a signature must satisfy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The key it must be made with.
    pub key: PublicKey,
    /// Rekor's key: when given, a signature counts only with a log entry
    /// that verifies offline.
    pub rekor_key: Option<PublicKey>,
    /// Annotations the payload must carry.
    pub annotations: BTreeMap<String, String>,
    /// Which formats are looked at.
    pub formats: Formats,
}

/// Where a signature was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A layer of the `.sig` manifest (its index).
    Legacy {
        /// The tag.
        tag: String,
        /// The layer's position.
        layer: usize,
    },
    /// A bundle referrer.
    Bundle {
        /// The referrer manifest's digest.
        referrer: Digest,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Legacy { tag, layer } => write!(f, "legacy `{tag}` layer {layer}"),
            Self::Bundle { referrer } => write!(f, "bundle referrer {referrer}"),
        }
    }
}

/// What the log check of a verified signature came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tlog {
    /// The entry verified against Rekor's key; its index.
    Verified(i64),
    /// There is an entry, but no Rekor key was given to check it.
    NotChecked(i64),
    /// The signature was never logged.
    Absent,
}

/// Why one signature does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// It is not made with the key.
    #[error("the signature does not verify with the public key")]
    WrongKey,
    /// It is malformed.
    #[error("{0}")]
    Malformed(String),
    /// The payload is wrong for this image or lacks annotations.
    #[error(transparent)]
    Payload(#[from] payload::PayloadError),
    /// The log entry does not verify or records something else.
    #[error(transparent)]
    Tlog(#[from] TlogError),
    /// A Rekor key was given but the signature has no log entry.
    #[error("the signature has no transparency log entry, and a Rekor key was given")]
    NotLogged,
}

/// One signature found, and whether it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where it is.
    pub location: Location,
    /// The log check when it verified; why not when it did not.
    pub outcome: Result<Tlog, Rejection>,
    /// The payload's annotations, when it verified.
    pub annotations: BTreeMap<String, String>,
}

/// Everything found for an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Each signature found, verified or not.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The signatures that verified.
    pub fn verified(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.outcome.is_ok())
    }

    /// Whether at least one signature verified.
    pub fn is_verified(&self) -> bool {
        self.verified().next().is_some()
    }

    /// The formats that have a verified signature: `legacy`, `bundle`.
    pub fn verified_formats(&self) -> Vec<&'static str> {
        let mut formats = Vec::new();
        for finding in self.verified() {
            let name = match finding.location {
                Location::Legacy { .. } => "legacy",
                Location::Bundle { .. } => "bundle",
            };
            if !formats.contains(&name) {
                formats.push(name);
            }
        }
        formats
    }
}

fn malformed(text: impl Into<String>) -> Rejection {
    Rejection::Malformed(text.into())
}

/// The log check shared by both formats: without Rekor's key an entry is
/// reported but not checked; with it, the entry must exist, verify, and
/// record this very signature (`records` checks the body).
fn tlog_outcome(
    entry: Option<LogEntry>,
    policy: &Policy,
    records: impl Fn(&Value) -> Result<(), String>,
) -> Result<Tlog, Rejection> {
    let Some(entry) = entry else {
        return match policy.rekor_key {
            Some(_) => Err(Rejection::NotLogged),
            None => Ok(Tlog::Absent),
        };
    };
    if let Some(rekor_key) = &policy.rekor_key {
        entry.verify(rekor_key)?;
    }
    let body = entry
        .body_json()
        .ok_or_else(|| malformed("the log entry's body is not JSON"))?;
    records(&body).map_err(TlogError::OtherSignature)?;
    Ok(match policy.rekor_key {
        Some(_) => Tlog::Verified(entry.log_index),
        None => Tlog::NotChecked(entry.log_index),
    })
}

/// The key in a log entry's base64 PEM, as SPKI DER.
fn logged_key(encoded: &Value) -> Option<Vec<u8>> {
    let pem = String::from_utf8(unb64(encoded.as_str()?)?).ok()?;
    Some(PublicKey::from_pem(&pem).ok()?.spki_der().to_vec())
}

/// Checks one legacy layer for `digest`; returns its annotations.
pub fn check_legacy_layer(
    layer: &SignatureLayer,
    digest: &Digest,
    policy: &Policy,
) -> Result<(Tlog, BTreeMap<String, String>), Rejection> {
    let signature = layer
        .signature()
        .and_then(unb64)
        .ok_or_else(|| malformed("the layer has no base64 signature annotation"))?;
    if !policy.key.verify(&layer.payload, &signature) {
        return Err(Rejection::WrongKey);
    }
    let annotations = payload::check_simple_signing(&layer.payload, digest, &policy.annotations)?;
    let entry = match layer.annotations.get(BUNDLE_ANNOTATION) {
        Some(text) => Some(
            LogEntry::from_cosign_annotation(text)
                .ok_or_else(|| malformed("the layer's Rekor bundle annotation is malformed"))?,
        ),
        None => None,
    };
    let tlog = tlog_outcome(entry, policy, |body| {
        let spec = &body["spec"];
        if body["kind"] != "hashedrekord" {
            return Err(format!("it is a `{}` entry", body["kind"]));
        }
        if spec["data"]["hash"]["value"] != Digest::of(&layer.payload).hex() {
            return Err("its hash is not the payload's".into());
        }
        if spec["signature"]["content"].as_str().and_then(unb64) != Some(signature.clone()) {
            return Err("its signature is not the layer's".into());
        }
        if logged_key(&spec["signature"]["publicKey"]["content"]).as_deref()
            != Some(policy.key.spki_der())
        {
            return Err("its public key is not the key verified with".into());
        }
        Ok(())
    })?;
    Ok((tlog, annotations))
}

/// Checks one bundle for `digest`; returns its annotations.
pub fn check_bundle(
    bytes: &[u8],
    digest: &Digest,
    policy: &Policy,
) -> Result<(Tlog, BTreeMap<String, String>), Rejection> {
    let bundle: Value = serde_json::from_slice(bytes)
        .map_err(|e| malformed(format!("the bundle is not JSON: {e}")))?;
    if bundle["mediaType"] != BUNDLE_MEDIA_TYPE {
        return Err(malformed(format!(
            "the bundle's media type is {}",
            bundle["mediaType"]
        )));
    }
    let material = &bundle["verificationMaterial"];
    if material["publicKey"].is_null() {
        return Err(malformed(
            "the bundle is signed with a certificate (keyless), not a key",
        ));
    }
    let envelope: payload::Envelope = serde_json::from_value(bundle["dsseEnvelope"].clone())
        .map_err(|e| malformed(format!("the bundle has no DSSE envelope: {e}")))?;
    let [signature] = envelope.signatures.as_slice() else {
        return Err(malformed(
            "the DSSE envelope must hold exactly one signature",
        ));
    };
    let signature =
        unb64(&signature.sig).ok_or_else(|| malformed("the signature is not base64"))?;
    let (Some(statement), Some(signed)) = (envelope.payload_bytes(), envelope.signed_bytes())
    else {
        return Err(malformed("the DSSE payload is not base64"));
    };
    if !policy.key.verify(&signed, &signature) {
        return Err(Rejection::WrongKey);
    }
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(malformed(format!(
            "the DSSE payload type is `{}`",
            envelope.payload_type
        )));
    }
    let annotations = payload::check_sign_statement(&statement, digest, &policy.annotations)?;
    let entries = material["tlogEntries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let entry = match entries.first() {
        Some(entry) => Some(
            LogEntry::from_bundle_entry(entry)
                .ok_or_else(|| malformed("the bundle's tlog entry is malformed"))?,
        ),
        None => None,
    };
    let tlog = tlog_outcome(entry, policy, |body| {
        let spec = &body["spec"];
        if body["kind"] != "dsse" {
            return Err(format!("it is a `{}` entry", body["kind"]));
        }
        if spec["payloadHash"]["value"] != Digest::of(&statement).hex() {
            return Err("its payload hash is not the envelope's".into());
        }
        let recorded = spec["signatures"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| {
                s["signature"].as_str().and_then(unb64).as_ref() == Some(&signature)
                    && logged_key(&s["verifier"]).as_deref() == Some(policy.key.spki_der())
            });
        if !recorded {
            return Err("it does not record this signature and key".into());
        }
        Ok(())
    })?;
    Ok((tlog, annotations))
}

/// Finds and checks every signature of `digest` in the formats the policy
/// names.
pub async fn verify_image(
    registry: &Registry,
    digest: &Digest,
    policy: &Policy,
) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut record = |location, checked: Result<(Tlog, BTreeMap<String, String>), Rejection>| {
        let (outcome, annotations) = match checked {
            Ok((tlog, annotations)) => (Ok(tlog), annotations),
            Err(rejection) => (Err(rejection), BTreeMap::new()),
        };
        report.findings.push(Finding {
            location,
            outcome,
            annotations,
        });
    };
    if policy.formats.bundle() {
        for (referrer, bytes) in bundle::read(registry, digest).await? {
            record(
                Location::Bundle { referrer },
                check_bundle(&bytes, digest, policy),
            );
        }
    }
    if policy.formats.legacy() {
        let tag = legacy::signature_tag(digest);
        for (i, layer) in legacy::read(registry, digest).await?.iter().enumerate() {
            record(
                Location::Legacy {
                    tag: tag.clone(),
                    layer: i,
                },
                check_legacy_layer(layer, digest, policy),
            );
        }
    }
    Ok(report)
}
