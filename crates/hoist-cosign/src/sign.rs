//! Signing an image with a key, in one or both formats: payloads signed,
//! entries logged in Rekor first, then the registry written — the `.sig`
//! manifest before the bundle referrer, so an immutable-tag refusal leaves
//! nothing behind. A signature this key already made with the same payload
//! is not made again.

use std::collections::BTreeMap;

use hoist_oci::registry::Registry;
use serde_json::Value;

use crate::bundle::{self, Referrer, Subject};
use crate::key::{KeyError, SigningKey};
use crate::legacy::{self, BUNDLE_ANNOTATION, SIGNATURE_ANNOTATION, SignatureLayer};
use crate::payload::{self, Envelope, IN_TOTO_PAYLOAD_TYPE, b64};
use crate::rekor::{self, LogEntry, RekorClient, RekorError};
use crate::store::{StoreError, Written};
use crate::verify::{self, Formats, Location, Policy};

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

/// Signs `request.subject` with `key`, logging each new signature in
/// `rekor` when given.
pub async fn sign(
    registry: &Registry,
    rekor: Option<&RekorClient>,
    key: &SigningKey,
    request: &SignRequest,
) -> Result<Signed, SignError> {
    let digest = &request.subject.digest;
    // What this key has already signed, with exactly these annotations.
    let policy = Policy {
        key: key.public_key().clone(),
        rekor_key: None,
        annotations: request.annotations.clone(),
        formats: request.formats,
    };
    let existing = verify::verify_image(registry, digest, &policy).await?;
    let already = |format_is_bundle: bool| {
        existing
            .verified()
            .find_map(|f| match (&f.location, format_is_bundle) {
                (Location::Legacy { tag, .. }, false) if f.annotations == request.annotations => {
                    Some(tag.clone())
                }
                (Location::Bundle { referrer }, true) if f.annotations == request.annotations => {
                    Some(referrer.to_string())
                }
                _ => None,
            })
    };
    let unchanged = |reference: String| FormatOutcome {
        reference,
        written: Written::AlreadyThere,
        log_entry: None,
        via_fallback: false,
    };

    // Sign and log everything before the registry sees a byte.
    let mut legacy_layer = None;
    let mut signed = Signed::default();
    if request.formats.legacy() {
        match already(false) {
            Some(tag) => signed.legacy = Some(unchanged(tag)),
            None => {
                let payload = payload::simple_signing(
                    &request.docker_reference,
                    digest,
                    &request.annotations,
                );
                let signature = key.sign(&payload)?;
                let entry = match rekor {
                    Some(rekor) => {
                        let proposed = rekor::hashedrekord(
                            hoist_oci::Digest::of(&payload).hex(),
                            &signature,
                            key.public_key(),
                        );
                        Some(rekor.upload(&proposed).await?)
                    }
                    None => None,
                };
                let mut annotations = BTreeMap::new();
                annotations.insert(SIGNATURE_ANNOTATION.to_owned(), b64(&signature));
                if let Some(entry) = &entry {
                    annotations.insert(BUNDLE_ANNOTATION.to_owned(), entry.to_cosign_annotation());
                }
                legacy_layer = Some((
                    SignatureLayer {
                        payload,
                        annotations,
                    },
                    entry,
                ));
            }
        }
    }
    let mut bundle_bytes = None;
    if request.formats.bundle() {
        match already(true) {
            Some(referrer) => signed.bundle = Some(unchanged(referrer)),
            None => {
                let statement = payload::sign_statement(digest, &request.annotations);
                let signature = key.sign(&payload::pae(IN_TOTO_PAYLOAD_TYPE, &statement))?;
                let envelope = Envelope::new(IN_TOTO_PAYLOAD_TYPE, &statement, &signature);
                let entry = match rekor {
                    Some(rekor) => {
                        let text = serde_json::to_string(&envelope).unwrap_or_default();
                        Some(rekor.upload(&rekor::dsse(&text, key.public_key())).await?)
                    }
                    None => None,
                };
                let tlog: Option<Value> =
                    entry.as_ref().map(|e| e.to_bundle_entry("dsse", "0.0.1"));
                bundle_bytes = Some((
                    bundle::bundle_json(&envelope, key.public_key(), tlog),
                    entry,
                ));
            }
        }
    }

    if let Some((layer, entry)) = legacy_layer {
        let written = legacy::write(registry, digest, &layer).await?;
        signed.legacy = Some(FormatOutcome {
            reference: legacy::signature_tag(digest),
            written,
            log_entry: entry,
            via_fallback: false,
        });
    }
    if let Some((bytes, entry)) = bundle_bytes {
        let Referrer {
            digest: referrer,
            via_fallback,
            written,
        } = bundle::write(registry, &request.subject, &bytes, &request.created).await?;
        signed.bundle = Some(FormatOutcome {
            reference: referrer.to_string(),
            written,
            log_entry: entry,
            via_fallback,
        });
    }
    Ok(signed)
}
