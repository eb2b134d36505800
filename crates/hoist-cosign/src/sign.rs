//! Signing and attesting an image, with a key or keyless, in one or both
//! formats: payloads signed, entries logged in Rekor first, then the
//! registry written — the `.sig` and `.att` manifests before the bundle
//! referrers, so an immutable-tag refusal leaves nothing behind. A
//! signature a key already made with the same payload is not made again.

use std::collections::BTreeMap;

use hoist_oci::registry::Registry;
use serde_json::Value;

use crate::attest;
use crate::bundle::{self, Referrer, Subject};
use crate::key::KeyError;
use crate::legacy::{
    self, Attachment, BUNDLE_ANNOTATION, PREDICATE_TYPE_ANNOTATION, SIGNATURE_ANNOTATION,
    SignatureLayer,
};
use crate::payload::{self, Envelope, IN_TOTO_PAYLOAD_TYPE, SIGN_PREDICATE_TYPE, b64};
use crate::rekor::{self, LogEntry, RekorClient, RekorError};
use crate::signer::Signer;
use crate::store::{StoreError, Written};
use crate::verify::{self, Formats, Location, Policy, Trust};

/// What to sign, and how.
#[derive(Debug, Clone)]
pub struct SignRequest {
    /// The image manifest signed.
    pub subject: Subject,
    /// The simple-signing `docker-reference`: `registry/repository[:tag]`.
    pub docker_reference: String,
    /// Annotations in the payloads.
    pub annotations: BTreeMap<String, String>,
    /// The formats written.
    pub formats: Formats,
    /// The referrer's `org.opencontainers.image.created` (RFC 3339).
    pub created: String,
    /// Attestations made besides the signature.
    pub attestations: Vec<Attestation>,
}

/// An attestation to make: an in-toto predicate about the image.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    /// The predicate type URI.
    pub predicate_type: String,
    /// The predicate.
    pub predicate: Value,
}

/// What one format's signing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOutcome {
    /// Where the signature is: the `.sig` tag, or the referrer digest.
    pub reference: String,
    /// Whether it was added or already there.
    pub written: Written,
    /// The log entry made for it.
    pub log_entry: Option<LogEntry>,
    /// For a bundle: whether the fallback index lists it.
    pub via_fallback: bool,
}

/// What signing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signed {
    /// The legacy signature, when that format was asked for.
    pub legacy: Option<FormatOutcome>,
    /// The bundle, when that format was asked for.
    pub bundle: Option<FormatOutcome>,
    /// Each attestation, in the order asked for.
    pub attestations: Vec<AttestationOutcome>,
}

/// What one attestation's storing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationOutcome {
    /// Its predicate type.
    pub predicate_type: String,
    /// The `.att` layer, when the legacy format was asked for.
    pub legacy: Option<FormatOutcome>,
    /// The bundle referrer, when that format was asked for.
    pub bundle: Option<FormatOutcome>,
}

impl Signed {
    /// Every log entry made: the signature's, then the attestations'.
    pub fn log_entries(&self) -> impl Iterator<Item = &LogEntry> {
        let attested = self
            .attestations
            .iter()
            .flat_map(|a| [&a.legacy, &a.bundle]);
        [&self.legacy, &self.bundle]
            .into_iter()
            .chain(attested)
            .flatten()
            .filter_map(|outcome| outcome.log_entry.as_ref())
    }
}

/// A signing failure.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key could not sign.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The transparency log failed; nothing was written to the registry.
    #[error("nothing was written to the registry: {0}")]
    Rekor(#[from] RekorError),
    /// The registry failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Signs `request.subject` with `signer`, and makes the attestations asked
/// for, logging each new signature in `rekor` when given.
pub async fn sign(
    registry: &Registry,
    rekor: Option<&RekorClient>,
    signer: &Signer,
    request: &SignRequest,
) -> Result<Signed, SignError> {
    let digest = &request.subject.digest;
    let existing = already_signed(registry, signer, request).await?;
    let unchanged = |reference: String| FormatOutcome {
        reference,
        written: Written::AlreadyThere,
        log_entry: None,
        via_fallback: false,
    };

    // Sign and log everything before the registry sees a byte.
    let mut signed = Signed::default();
    let mut legacy_layers = Vec::new();
    let mut bundles = Vec::new();
    if request.formats.legacy() {
        match existing.legacy {
            Some(tag) => signed.legacy = Some(unchanged(tag)),
            None => {
                let payload = payload::simple_signing(
                    &request.docker_reference,
                    digest,
                    &request.annotations,
                );
                let signature = signer.sign(&payload)?;
                let entry = match rekor {
                    Some(rekor) => {
                        let content = hoist_oci::Digest::of(&payload).hex().to_owned();
                        let proposed =
                            rekor::hashedrekord(&content, &signature, &signer.verifier_pem());
                        Some(rekor.upload(&proposed).await?)
                    }
                    None => None,
                };
                let layer = layer(signer, payload, b64(&signature), None, entry.as_ref());
                legacy_layers.push((None, Attachment::Signature, layer, entry));
            }
        }
    }
    if request.formats.bundle() {
        match existing.bundle {
            Some(referrer) => signed.bundle = Some(unchanged(referrer)),
            None => {
                let statement = payload::sign_statement(digest, &request.annotations);
                let (envelope, entry) = sign_statement(rekor, signer, &statement).await?;
                bundles.push((None, SIGN_PREDICATE_TYPE, envelope, entry));
            }
        }
    }
    let subject_name = repository_of(&request.docker_reference);
    for (i, attestation) in request.attestations.iter().enumerate() {
        let statement = attest::statement(
            subject_name,
            digest,
            &attestation.predicate_type,
            &attestation.predicate,
        );
        signed.attestations.push(AttestationOutcome {
            predicate_type: attestation.predicate_type.clone(),
            legacy: None,
            bundle: None,
        });
        // One envelope and one log entry serve both formats.
        let (envelope, entry) = sign_statement(rekor, signer, &statement).await?;
        if request.formats.legacy() {
            let text = serde_json::to_vec(&envelope).unwrap_or_default();
            let predicate_type = Some(attestation.predicate_type.as_str());
            let layer = layer(signer, text, String::new(), predicate_type, entry.as_ref());
            legacy_layers.push((Some(i), Attachment::Attestation, layer, entry.clone()));
        }
        if request.formats.bundle() {
            let predicate_type = attestation.predicate_type.as_str();
            bundles.push((Some(i), predicate_type, envelope, entry));
        }
    }

    for (attestation, kind, layer, entry) in legacy_layers {
        let written = legacy::write_attachment(registry, digest, kind, &layer).await?;
        let outcome = FormatOutcome {
            reference: kind.tag(digest),
            written,
            log_entry: entry,
            via_fallback: false,
        };
        match attestation {
            Some(i) => signed.attestations[i].legacy = Some(outcome),
            None => signed.legacy = Some(outcome),
        }
    }
    for (attestation, predicate_type, envelope, entry) in bundles {
        let tlog: Option<Value> = entry.as_ref().map(|e| e.to_bundle_entry("dsse", "0.0.1"));
        let bytes = bundle::bundle_json(&envelope, signer.verification_material(), tlog);
        let Referrer {
            digest: referrer,
            via_fallback,
            written,
        } = bundle::write(
            registry,
            &request.subject,
            &bytes,
            predicate_type,
            &request.created,
        )
        .await?;
        let outcome = FormatOutcome {
            reference: referrer.to_string(),
            written,
            log_entry: entry,
            via_fallback,
        };
        match attestation {
            Some(i) => signed.attestations[i].bundle = Some(outcome),
            None => signed.bundle = Some(outcome),
        }
    }
    Ok(signed)
}

/// Where a key already signed this image with exactly these annotations.
/// Keyless signatures are made anew each time: every run has its own
/// certificate.
#[derive(Default)]
struct Existing {
    legacy: Option<String>,
    bundle: Option<String>,
}

async fn already_signed(
    registry: &Registry,
    signer: &Signer,
    request: &SignRequest,
) -> Result<Existing, StoreError> {
    let Signer::Key(key) = signer else {
        return Ok(Existing::default());
    };
    let policy = Policy {
        trust: Trust::Key(key.public_key().clone()),
        rekor_key: None,
        annotations: request.annotations.clone(),
        formats: request.formats,
    };
    let report = verify::verify_image(registry, &request.subject.digest, &policy).await?;
    let mut existing = Existing::default();
    for finding in report
        .verified()
        .filter(|f| f.annotations == request.annotations)
    {
        match &finding.location {
            Location::Legacy { tag, .. } => existing.legacy = Some(tag.clone()),
            Location::Bundle { referrer } => existing.bundle = Some(referrer.to_string()),
        }
    }
    Ok(existing)
}

/// A DSSE envelope over `statement`, logged as a `dsse` entry.
async fn sign_statement(
    rekor: Option<&RekorClient>,
    signer: &Signer,
    statement: &[u8],
) -> Result<(Envelope, Option<LogEntry>), SignError> {
    let signature = signer.sign(&payload::pae(IN_TOTO_PAYLOAD_TYPE, statement))?;
    let envelope = Envelope::new(IN_TOTO_PAYLOAD_TYPE, statement, &signature);
    let entry = match rekor {
        Some(rekor) => {
            let text = serde_json::to_string(&envelope).unwrap_or_default();
            Some(
                rekor
                    .upload(&rekor::dsse(&text, &signer.verifier_pem()))
                    .await?,
            )
        }
        None => None,
    };
    Ok((envelope, entry))
}

/// A legacy layer: the payload, its signature annotation (empty for an
/// attestation, whose signature is inside the envelope), the predicate
/// type of an attestation, the Rekor bundle, and the signer's certificate.
fn layer(
    signer: &Signer,
    payload: Vec<u8>,
    signature: String,
    predicate_type: Option<&str>,
    entry: Option<&LogEntry>,
) -> SignatureLayer {
    let mut annotations = signer.layer_annotations();
    annotations.insert(SIGNATURE_ANNOTATION.to_owned(), signature);
    if let Some(predicate_type) = predicate_type {
        annotations.insert(
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.to_owned(),
        );
    }
    if let Some(entry) = entry {
        annotations.insert(BUNDLE_ANNOTATION.to_owned(), entry.to_cosign_annotation());
    }
    SignatureLayer {
        payload,
        annotations,
    }
}

/// `registry/name` of a `registry/name[:tag]` reference: the subject name
/// cosign gives attestations.
fn repository_of(reference: &str) -> &str {
    let name_start = reference.rfind('/').map_or(0, |slash| slash + 1);
    match reference[name_start..].find(':') {
        Some(colon) => &reference[..name_start + colon],
        None => reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_name_drops_the_tag_but_not_the_port() {
        assert_eq!(
            repository_of("localhost:5000/shop:v1"),
            "localhost:5000/shop"
        );
        assert_eq!(repository_of("localhost:5000/shop"), "localhost:5000/shop");
        assert_eq!(
            repository_of("ecr.test/team/shop:1.2"),
            "ecr.test/team/shop"
        );
        assert_eq!(repository_of("shop"), "shop");
    }
}
