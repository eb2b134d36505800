//! Verification of both formats, of signatures and attestations, with a
//! public key or keyless: the signature over the payload, the signer (the
//! key, or a certificate chaining to the trusted root with a valid SCT and
//! the expected identity), the payload naming the image (and the
//! annotations or predicate type asked for), and the log entry, offline.

use std::collections::BTreeMap;
use std::sync::Arc;

use hoist_oci::Digest;
use hoist_oci::registry::Registry;
use serde_json::Value;

use crate::attest;
use crate::bundle::{self, BUNDLE_MEDIA_TYPE};
use crate::certificate::{Certificate, CertificateError, verify_chain, verify_embedded_scts};
use crate::identity::Identity;
use crate::key::PublicKey;
use crate::legacy::{
    self, Attachment, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, PREDICATE_TYPE_ANNOTATION,
    SignatureLayer,
};
use crate::payload::{self, Envelope, IN_TOTO_PAYLOAD_TYPE, SIGN_PREDICATE_TYPE, unb64};
use crate::rekor::{self, LogEntry, TlogError};
use crate::store::StoreError;
use crate::trust::TrustedRoot;

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

/// Whom a signature must come from.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Whoever holds this key.
    Key(PublicKey),
    /// An identity certified by a CA in a trusted root (keyless).
    Keyless(Arc<Keyless>),
}

/// What a keyless signature must satisfy besides its payload.
#[derive(Debug)]
pub struct Keyless {
    /// The Sigstore instance's CAs, CT logs and transparency logs.
    pub root: TrustedRoot,
    /// The identity and OIDC issuer the certificate must name, and the
    /// extensions it must carry (pins).
    pub identity: Identity,
}

/// What a signature must satisfy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Whom it must come from.
    pub trust: Trust,
    /// Rekor's key: when given, a key-made signature counts only with a
    /// log entry that verifies offline. (Keyless signatures always need
    /// one, checked with the trusted root's logs.)
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
    /// It is not made with the key (or its certificate's key).
    #[error("the signature does not verify with the public key")]
    WrongKey,
    /// A keyless signature was asked for, and this one has no certificate.
    #[error("the signature carries no certificate: it was made with a key, not keyless")]
    NoCertificate,
    /// The certificate does not chain to the trusted root, or its SCT fails.
    #[error("{0}")]
    Certificate(String),
    /// The certificate names another identity or issuer.
    #[error("{0}")]
    Identity(String),
    /// It is malformed.
    #[error("{0}")]
    Malformed(String),
    /// The payload is wrong for this image or lacks annotations.
    #[error(transparent)]
    Payload(#[from] payload::PayloadError),
    /// The log entry does not verify or records something else.
    #[error(transparent)]
    Tlog(#[from] TlogError),
    /// A Rekor key was given (or the signature is keyless) but the
    /// signature has no log entry.
    #[error(
        "the signature has no transparency log entry, and one is required (a Rekor key was \
         given, or the signature is keyless)"
    )]
    NotLogged,
    /// The log entry is from a log the trusted root does not list.
    #[error("the transparency log entry is from log {0}, which the trusted root does not list")]
    UnknownLog(String),
}

/// One signature found, and whether it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where it is.
    pub location: Location,
    /// The log check when it verified; why not when it did not.
    pub outcome: Result<Tlog, Rejection>,
    /// The payload's annotations, when it verified (signatures).
    pub annotations: BTreeMap<String, String>,
    /// The predicate, when it verified (attestations).
    pub predicate: Option<Value>,
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

/// Who a signature says made it, once the policy accepts that.
enum Verifier<'a> {
    /// The policy's key.
    Key(&'a PublicKey),
    /// A certificate, with the keyless policy it must satisfy.
    Certificate {
        certificate: Box<Certificate>,
        key: PublicKey,
        keyless: &'a Keyless,
    },
}

impl<'a> Verifier<'a> {
    /// The verifier for a signature carrying `certificate` (if any):
    /// under a key policy, the key; under a keyless one, the certificate,
    /// which must name the expected identity.
    fn for_policy(policy: &'a Policy, certificate: Option<Certificate>) -> Result<Self, Rejection> {
        let keyless = match &policy.trust {
            Trust::Key(key) => return Ok(Self::Key(key)),
            Trust::Keyless(keyless) => keyless,
        };
        let certificate = certificate.ok_or(Rejection::NoCertificate)?;
        keyless
            .identity
            .check(&certificate)
            .map_err(|e| Rejection::Identity(format!("{e}")))?;
        keyless
            .identity
            .check_pins(&certificate)
            .map_err(|e| Rejection::Identity(format!("{e}")))?;
        let key = PublicKey::from_spki_der(certificate.public_key_spki())
            .map_err(|e| Rejection::Certificate(format!("the certificate's key: {e}")))?;
        Ok(Self::Certificate {
            certificate: Box::new(certificate),
            key,
            keyless,
        })
    }

    fn key(&self) -> &PublicKey {
        match self {
            Self::Key(key) => key,
            Self::Certificate { key, .. } => key,
        }
    }

    /// Whether a log entry's base64 PEM verifier is this one.
    fn is_logged_as(&self, encoded: &Value) -> bool {
        let Some(pem) = encoded
            .as_str()
            .and_then(unb64)
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return false;
        };
        match self {
            Self::Key(key) => {
                PublicKey::from_pem(&pem).is_ok_and(|logged| logged.spki_der() == key.spki_der())
            }
            Self::Certificate { certificate, .. } => {
                Certificate::from_pem(&pem).is_ok_and(|logged| logged.der() == certificate.der())
            }
        }
    }

    /// The log check: without Rekor's key a key-made signature's entry is
    /// reported but not checked; otherwise the entry must exist, verify,
    /// and record this very signature (`records` checks the body). For a
    /// certificate, the log's time is the signing time: the chain and the
    /// SCT are checked at it.
    fn tlog(
        &self,
        entry: Option<LogEntry>,
        policy: &Policy,
        records: impl Fn(&Value) -> Result<(), String>,
    ) -> Result<Tlog, Rejection> {
        let log_key = match self {
            Self::Key(_) => policy.rekor_key.clone(),
            Self::Certificate { keyless, .. } => {
                let entry = entry.as_ref().ok_or(Rejection::NotLogged)?;
                let log_id = rekor::unhex(&entry.log_id).unwrap_or_default();
                let key = keyless
                    .root
                    .tlog_key(&log_id, entry.integrated_time)
                    .and_then(|key| PublicKey::from_spki_der(key.spki_der()).ok())
                    .ok_or_else(|| Rejection::UnknownLog(entry.log_id.clone()))?;
                Some(key)
            }
        };
        let Some(entry) = entry else {
            return match log_key {
                Some(_) => Err(Rejection::NotLogged),
                None => Ok(Tlog::Absent),
            };
        };
        if let Some(log_key) = &log_key {
            entry.verify(log_key)?;
        }
        let body = entry
            .body_json()
            .ok_or_else(|| malformed("the log entry's body is not JSON"))?;
        records(&body).map_err(TlogError::OtherSignature)?;
        if let Self::Certificate {
            certificate,
            keyless,
            ..
        } = self
        {
            let certificate_error =
                |e: CertificateError| Rejection::Certificate(format!("{e} ({})", e.hint()));
            let authority = verify_chain(certificate, &keyless.root, entry.integrated_time)
                .map_err(certificate_error)?;
            let issuer = authority
                .chain
                .first()
                .ok_or_else(|| malformed("the trusted root's CA has an empty chain"))?;
            verify_embedded_scts(certificate, issuer, &keyless.root).map_err(certificate_error)?;
        }
        Ok(match log_key {
            Some(_) => Tlog::Verified(entry.log_index),
            None => Tlog::NotChecked(entry.log_index),
        })
    }
}

/// The certificate a legacy layer carries, if any.
fn layer_certificate(layer: &SignatureLayer) -> Result<Option<Certificate>, Rejection> {
    layer
        .annotations
        .get(CERTIFICATE_ANNOTATION)
        .map(|pem| {
            Certificate::from_pem(pem)
                .map_err(|e| malformed(format!("the layer's certificate: {e}")))
        })
        .transpose()
}

/// The Rekor bundle a legacy layer carries, if any.
fn layer_entry(layer: &SignatureLayer) -> Result<Option<LogEntry>, Rejection> {
    layer
        .annotations
        .get(BUNDLE_ANNOTATION)
        .map(|text| {
            LogEntry::from_cosign_annotation(text)
                .ok_or_else(|| malformed("the layer's Rekor bundle annotation is malformed"))
        })
        .transpose()
}

/// Checks one legacy `.sig` layer for `digest`; returns its annotations.
pub fn check_legacy_layer(
    layer: &SignatureLayer,
    digest: &Digest,
    policy: &Policy,
) -> Result<(Tlog, BTreeMap<String, String>), Rejection> {
    let signature = layer
        .signature()
        .and_then(unb64)
        .ok_or_else(|| malformed("the layer has no base64 signature annotation"))?;
    let verifier = Verifier::for_policy(policy, layer_certificate(layer)?)?;
    if !verifier.key().verify(&layer.payload, &signature) {
        return Err(Rejection::WrongKey);
    }
    let annotations = payload::check_simple_signing(&layer.payload, digest, &policy.annotations)?;
    let tlog = verifier.tlog(layer_entry(layer)?, policy, |body| {
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
        if !verifier.is_logged_as(&spec["signature"]["publicKey"]["content"]) {
            return Err("its public key is not the one verified with".into());
        }
        Ok(())
    })?;
    Ok((tlog, annotations))
}

/// Checks a DSSE envelope signed by whom the policy trusts, its statement
/// (with `check_statement`), and its `dsse` log entry.
fn check_envelope<T>(
    envelope: &Envelope,
    certificate: Option<Certificate>,
    entry: Option<LogEntry>,
    policy: &Policy,
    check_statement: impl FnOnce(&[u8]) -> Result<T, Rejection>,
) -> Result<(Tlog, T), Rejection> {
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
    let verifier = Verifier::for_policy(policy, certificate)?;
    if !verifier.key().verify(&signed, &signature) {
        return Err(Rejection::WrongKey);
    }
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(malformed(format!(
            "the DSSE payload type is `{}`",
            envelope.payload_type
        )));
    }
    let checked = check_statement(&statement)?;
    let tlog = verifier.tlog(entry, policy, |body| {
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
                    && verifier.is_logged_as(&s["verifier"])
            });
        if !recorded {
            return Err("it does not record this signature and signer".into());
        }
        Ok(())
    })?;
    Ok((tlog, checked))
}

/// What a statement must be: a cosign signature, or an attestation with
/// this predicate type.
#[derive(Debug, Clone, Copy)]
pub enum Expected<'a> {
    /// A cosign signature statement with the policy's annotations.
    Signature,
    /// An attestation with this predicate type.
    Attestation(&'a str),
}

impl Expected<'_> {
    fn predicate_type(&self) -> &str {
        match self {
            Self::Signature => SIGN_PREDICATE_TYPE,
            Self::Attestation(predicate_type) => predicate_type,
        }
    }

    /// Checks `statement`: a signature's annotations, or an attestation's
    /// predicate.
    fn check(
        &self,
        statement: &[u8],
        digest: &Digest,
        policy: &Policy,
    ) -> Result<(BTreeMap<String, String>, Option<Value>), Rejection> {
        match self {
            Self::Signature => Ok((
                payload::check_sign_statement(statement, digest, &policy.annotations)?,
                None,
            )),
            Self::Attestation(predicate_type) => {
                let predicate = attest::check_statement(statement, digest, predicate_type)
                    .map_err(|e| malformed(format!("{e}")))?;
                Ok((BTreeMap::new(), Some(predicate)))
            }
        }
    }
}

type Checked = (Tlog, (BTreeMap<String, String>, Option<Value>));

/// Checks one bundle for `digest` against what it must hold.
pub fn check_bundle(
    bytes: &[u8],
    digest: &Digest,
    policy: &Policy,
    expected: Expected<'_>,
) -> Result<Checked, Rejection> {
    let bundle: Value = serde_json::from_slice(bytes)
        .map_err(|e| malformed(format!("the bundle is not JSON: {e}")))?;
    if bundle["mediaType"] != BUNDLE_MEDIA_TYPE {
        return Err(malformed(format!(
            "the bundle's media type is {}",
            bundle["mediaType"]
        )));
    }
    let material = &bundle["verificationMaterial"];
    let certificate = match material["certificate"]["rawBytes"].as_str() {
        Some(raw) => Some(
            unb64(raw)
                .and_then(|der| Certificate::from_der(der).ok())
                .ok_or_else(|| malformed("the bundle's certificate is not DER in base64"))?,
        ),
        None => None,
    };
    let envelope: payload::Envelope = serde_json::from_value(bundle["dsseEnvelope"].clone())
        .map_err(|e| malformed(format!("the bundle has no DSSE envelope: {e}")))?;
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
    check_envelope(&envelope, certificate, entry, policy, |statement| {
        expected.check(statement, digest, policy)
    })
}

/// Checks one legacy `.att` layer for `digest`: a DSSE envelope whose
/// statement has `predicate_type`.
pub fn check_attestation_layer(
    layer: &SignatureLayer,
    digest: &Digest,
    policy: &Policy,
    predicate_type: &str,
) -> Result<(Tlog, Value), Rejection> {
    let envelope: Envelope = serde_json::from_slice(&layer.payload)
        .map_err(|e| malformed(format!("the layer is not a DSSE envelope: {e}")))?;
    let (tlog, (_, predicate)) = check_envelope(
        &envelope,
        layer_certificate(layer)?,
        layer_entry(layer)?,
        policy,
        |statement| Expected::Attestation(predicate_type).check(statement, digest, policy),
    )?;
    Ok((tlog, predicate.unwrap_or_default()))
}

/// Finds and checks every signature of `digest` in the formats the policy
/// names.
pub async fn verify_image(
    registry: &Registry,
    digest: &Digest,
    policy: &Policy,
) -> Result<Report, StoreError> {
    verify(registry, digest, policy, Expected::Signature).await
}

/// Finds and checks every attestation of `digest` with `predicate_type`
/// in the formats the policy names.
pub async fn verify_attestations(
    registry: &Registry,
    digest: &Digest,
    policy: &Policy,
    predicate_type: &str,
) -> Result<Report, StoreError> {
    verify(
        registry,
        digest,
        policy,
        Expected::Attestation(predicate_type),
    )
    .await
}

async fn verify(
    registry: &Registry,
    digest: &Digest,
    policy: &Policy,
    expected: Expected<'_>,
) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut record = |location, checked: Result<Checked, Rejection>| {
        let (outcome, (annotations, predicate)) = match checked {
            Ok((tlog, found)) => (Ok(tlog), found),
            Err(rejection) => (Err(rejection), (BTreeMap::new(), None)),
        };
        report.findings.push(Finding {
            location,
            outcome,
            annotations,
            predicate,
        });
    };
    if policy.formats.bundle() {
        let bundles = bundle::read(registry, digest, expected.predicate_type()).await?;
        for (referrer, bytes) in bundles {
            let checked = check_bundle(&bytes, digest, policy, expected);
            record(Location::Bundle { referrer }, checked);
        }
    }
    if policy.formats.legacy() {
        let attachment = match expected {
            Expected::Signature => Attachment::Signature,
            Expected::Attestation(_) => Attachment::Attestation,
        };
        let tag = attachment.tag(digest);
        let layers = legacy::read_attachment(registry, digest, attachment).await?;
        for (i, layer) in layers.iter().enumerate() {
            let checked = match expected {
                Expected::Signature => check_legacy_layer(layer, digest, policy)
                    .map(|(tlog, annotations)| (tlog, (annotations, None))),
                Expected::Attestation(predicate_type) => {
                    // Other predicate types share the `.att` tag: skip them.
                    if layer
                        .annotations
                        .get(PREDICATE_TYPE_ANNOTATION)
                        .map(String::as_str)
                        != Some(predicate_type)
                    {
                        continue;
                    }
                    check_attestation_layer(layer, digest, policy, predicate_type)
                        .map(|(tlog, predicate)| (tlog, (BTreeMap::new(), Some(predicate))))
                }
            };
            let location = Location::Legacy {
                tag: tag.clone(),
                layer: i,
            };
            record(location, checked);
        }
    }
    Ok(report)
}
