//! cosign v3's storage: a Sigstore bundle v0.3 (a DSSE envelope around an
//! in-toto statement, with the key hint and the Rekor entry) pushed as an
//! OCI 1.1 referrer of the image, and listed in the `sha256-<hex>` tag's
//! image index where the registry has no Referrers API.

use hoist_oci::registry::Registry;
use hoist_oci::{Digest, media};
use serde_json::{Value, json};

use crate::payload::Envelope;
use crate::store::{StoreError, Written, publish_checked, read_json};

/// The bundle's media type, also the referrer manifest's `artifactType`.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The OCI empty descriptor's media type, for the referrer's config.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The referrer annotation naming what the bundle holds.
pub const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// The referrer annotation naming the statement's predicate type.
pub const PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// The OCI creation-time annotation.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// The largest bundle read back.
const MAX_BUNDLE: u64 = 1024 * 1024;
/// The most referrers looked at.
const MAX_REFERRERS: usize = 1000;

/// The tag of the referrers fallback index for `digest`.
pub fn fallback_tag(digest: &Digest) -> String {
    format!("sha256-{}", digest.hex())
}

/// The image a referrer points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The image manifest's media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// A bundle v0.3: the envelope, the signer's verification material (a
/// key hint or a certificate: [`Signer::verification_material`]) and the
/// log entry when there is one (a `tlogEntries` element).
///
/// [`Signer::verification_material`]: crate::signer::Signer::verification_material
pub fn bundle_json(envelope: &Envelope, material: Value, tlog_entry: Option<Value>) -> Vec<u8> {
    let mut material = material;
    material["tlogEntries"] = Value::from(tlog_entry.into_iter().collect::<Vec<_>>());
    let bundle = json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": material,
        "dsseEnvelope": envelope,
    });
    serde_json::to_vec(&bundle).unwrap_or_default()
}

/// How a referrer was made findable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The referrer manifest's digest.
    pub digest: Digest,
    /// Whether it was listed in the fallback index (no Referrers API).
    pub via_fallback: bool,
    /// Whether it was added or already there.
    pub written: Written,
}

/// Pushes `bundle` as a referrer of `subject`: the bundle blob, the empty
/// config, the manifest by digest (annotated with the statement's
/// `predicate_type`); then, when the registry has no Referrers API, the
/// manifest is listed in the fallback index.
pub async fn write(
    registry: &Registry,
    subject: &Subject,
    bundle: &[u8],
    predicate_type: &str,
    created: &str,
) -> Result<Referrer, StoreError> {
    let config = b"{}".to_vec();
    registry.push_blob(&config).await?;
    registry.push_blob(bundle).await?;
    let annotations = json!({
        CONTENT_ANNOTATION: "dsse-envelope",
        PREDICATE_ANNOTATION: predicate_type,
        CREATED_ANNOTATION: created,
    });
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": BUNDLE_MEDIA_TYPE,
        "config": {
            "mediaType": EMPTY_MEDIA_TYPE,
            "digest": Digest::of(&config).as_str(),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": BUNDLE_MEDIA_TYPE,
            "digest": Digest::of(bundle).as_str(),
            "size": bundle.len(),
        }],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest.as_str(),
            "size": subject.size,
        },
        "annotations": annotations,
    });
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let digest = Digest::of(&bytes);
    registry
        .put_manifest(digest.as_str(), media::OCI_MANIFEST, &bytes)
        .await?;
    if registry.referrers(&subject.digest).await?.is_some() {
        return Ok(Referrer {
            digest,
            via_fallback: false,
            written: Written::Added,
        });
    }
    let descriptor = json!({
        "mediaType": media::OCI_MANIFEST,
        "digest": digest.as_str(),
        "size": bytes.len(),
        "artifactType": BUNDLE_MEDIA_TYPE,
        "annotations": annotations,
    });
    let tag = fallback_tag(&subject.digest);
    let lists = |index: &Value| {
        index["manifests"]
            .as_array()
            .is_some_and(|m| m.iter().any(|d| d["digest"] == digest.as_str()))
    };
    let written = publish_checked(
        registry,
        &tag,
        |existing| {
            let mut manifests = match existing {
                Some(index) if lists(index) => return Ok(None),
                Some(index) => fallback_entries(index, &tag)?,
                None => Vec::new(),
            };
            manifests.push(descriptor.clone());
            let index = json!({
                "schemaVersion": 2,
                "mediaType": media::OCI_INDEX,
                "manifests": manifests,
            });
            Ok(Some((media::OCI_INDEX, index, Vec::new())))
        },
        lists,
    )
    .await?;
    Ok(Referrer {
        digest,
        via_fallback: true,
        written,
    })
}

fn fallback_entries(index: &Value, tag: &str) -> Result<Vec<Value>, StoreError> {
    if index["mediaType"] != media::OCI_INDEX {
        return Err(StoreError::NotASignatureManifest {
            tag: tag.to_owned(),
            reason: "it is not an OCI image index".into(),
        });
    }
    Ok(index["manifests"].as_array().cloned().unwrap_or_default())
}

/// Every bundle referring to `digest` whose referrer is annotated with
/// `predicate_type` (or not annotated: the statement inside decides):
/// through the Referrers API, or the fallback index where there is none.
/// Returns each referrer manifest's digest with the bundle's bytes.
pub async fn read(
    registry: &Registry,
    digest: &Digest,
    predicate_type: &str,
) -> Result<Vec<(Digest, Vec<u8>)>, StoreError> {
    let index = match registry.referrers(digest).await? {
        Some(index) => index,
        None => {
            let tag = fallback_tag(digest);
            match read_json(registry, &tag).await? {
                Some(index) => {
                    fallback_entries(&index, &tag)?;
                    index
                }
                None => return Ok(Vec::new()),
            }
        }
    };
    let mut bundles = Vec::new();
    for descriptor in index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["artifactType"] == BUNDLE_MEDIA_TYPE)
        .take(MAX_REFERRERS)
    {
        let Some(referrer) = descriptor["digest"]
            .as_str()
            .and_then(|d| Digest::parse(d).ok())
        else {
            continue;
        };
        let Some(manifest) = read_json(registry, referrer.as_str()).await? else {
            continue;
        };
        let annotated = &manifest["annotations"][PREDICATE_ANNOTATION];
        if manifest["subject"]["digest"] != digest.as_str()
            || manifest["artifactType"] != BUNDLE_MEDIA_TYPE
            || !(annotated.is_null() || annotated == predicate_type)
        {
            continue;
        }
        let Some(layer) = manifest["layers"][0]["digest"]
            .as_str()
            .and_then(|d| Digest::parse(d).ok())
        else {
            continue;
        };
        bundles.push((referrer, registry.get_blob(&layer, MAX_BUNDLE).await?));
    }
    Ok(bundles)
}
