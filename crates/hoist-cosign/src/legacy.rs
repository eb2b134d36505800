//! cosign's legacy storage: an OCI image manifest tagged
//! `sha256-<hex>.sig` beside the image, one layer per signature, and one
//! tagged `sha256-<hex>.att`, one layer per attestation. A signature
//! layer's blob is a simple-signing payload, and its signature rides in the
//! layer's annotations; an attestation layer's blob is a DSSE envelope
//! (its signature inside), with an empty signature annotation and the
//! statement's `predicateType` beside it. The Rekor bundle and the
//! certificate, when there are any, ride in the annotations of both.

use std::collections::BTreeMap;

use hoist_oci::registry::Registry;
use hoist_oci::{Digest, media};
use serde_json::{Value, json};

use crate::store::{StoreError, Written, publish_checked};

/// The media type of a simple-signing layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The media type of an attestation layer: a DSSE envelope, as JSON.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The layer annotation holding the Rekor bundle (SET) as JSON.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The layer annotation holding a signing certificate (keyless).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The layer annotation holding the certificate chain (keyless).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The attestation layer annotation naming the statement's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// cosign's limit on layers in one `.sig` or `.att` manifest.
pub const MAX_LAYERS: usize = 1000;
/// The largest simple-signing payload read back.
const MAX_PAYLOAD: u64 = 256 * 1024;
/// The largest DSSE envelope read back: the largest SBOM hoist attests,
/// base64-encoded in the envelope, and room for the statement around it.
const MAX_ENVELOPE: u64 = crate::attest::MAX_SBOM_SIZE / 3 * 4 + 1024 * 1024;

/// The tag cosign stores `digest`'s signatures under.
pub fn signature_tag(digest: &Digest) -> String {
    Attachment::Signature.tag(digest)
}

/// The tag cosign stores `digest`'s attestations under.
pub fn attestation_tag(digest: &Digest) -> String {
    Attachment::Attestation.tag(digest)
}

/// What a legacy manifest holds: which tag, which layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// Signatures: `sha256-<hex>.sig`, simple-signing layers.
    Signature,
    /// Attestations: `sha256-<hex>.att`, DSSE envelope layers.
    Attestation,
}

impl Attachment {
    /// The tag cosign stores this kind of attachment of `digest` under.
    pub fn tag(self, digest: &Digest) -> String {
        let suffix = match self {
            Self::Signature => "sig",
            Self::Attestation => "att",
        };
        format!("sha256-{}.{suffix}", digest.hex())
    }

    /// The media type of this kind's layers; layers of other types in the
    /// manifest are not this kind's and are skipped.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Self::Signature => SIMPLE_SIGNING_MEDIA_TYPE,
            Self::Attestation => DSSE_MEDIA_TYPE,
        }
    }

    /// The largest layer blob read back.
    fn max_layer_size(self) -> u64 {
        match self {
            Self::Signature => MAX_PAYLOAD,
            Self::Attestation => MAX_ENVELOPE,
        }
    }
}

/// One signature or attestation: its layer blob and its layer annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    /// A signature's simple-signing payload, as signed; an attestation's
    /// DSSE envelope JSON.
    pub payload: Vec<u8>,
    /// The layer's annotations (signature, bundle, predicate type, …).
    pub annotations: BTreeMap<String, String>,
}

impl SignatureLayer {
    /// The base64 signature annotation.
    pub fn signature(&self) -> Option<&str> {
        self.annotations
            .get(SIGNATURE_ANNOTATION)
            .map(String::as_str)
    }

    /// An attestation's `predicateType` annotation.
    pub fn predicate_type(&self) -> Option<&str> {
        self.annotations
            .get(PREDICATE_TYPE_ANNOTATION)
            .map(String::as_str)
    }

    /// The layer descriptor for `attachment`. An attestation always
    /// carries the signature annotation, empty unless given: cosign's
    /// `Base64Signature` fails on a layer without it.
    fn descriptor(&self, attachment: Attachment) -> Value {
        let mut annotations = self.annotations.clone();
        if attachment == Attachment::Attestation {
            annotations
                .entry(SIGNATURE_ANNOTATION.to_owned())
                .or_default();
        }
        json!({
            "mediaType": attachment.layer_media_type(),
            "size": self.payload.len(),
            "digest": Digest::of(&self.payload).as_str(),
            "annotations": annotations,
        })
    }
}

/// The config cosign's signature images carry (go-containerregistry's empty
/// image config with one history entry and diff ID per layer).
fn config_for(layers: &[Value]) -> Vec<u8> {
    let diff_ids: Vec<&Value> = layers.iter().map(|l| &l["digest"]).collect();
    let history: Vec<Value> = layers
        .iter()
        .map(|_| json!({ "created": "0001-01-01T00:00:00Z" }))
        .collect();
    serde_json::to_vec(&json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": history,
        "os": "",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "config": {},
    }))
    .unwrap_or_default()
}

/// The layers of an existing signature manifest.
fn layers_of(manifest: &Value, tag: &str) -> Result<Vec<Value>, StoreError> {
    let media_type = manifest["mediaType"]
        .as_str()
        .unwrap_or(media::OCI_MANIFEST);
    if !media::is_manifest(media_type) {
        return Err(StoreError::NotASignatureManifest {
            tag: tag.to_owned(),
            reason: format!("it is a `{media_type}`"),
        });
    }
    manifest["layers"]
        .as_array()
        .cloned()
        .ok_or_else(|| StoreError::NotASignatureManifest {
            tag: tag.to_owned(),
            reason: "it has no layers".into(),
        })
}

/// Whether `layers` already hold this exact signature or attestation: a
/// layer of the same kind with the same blob (payload, or envelope) and the
/// same signature annotation.
fn holds(layers: &[Value], layer: &SignatureLayer, attachment: Attachment) -> bool {
    let wanted = layer.descriptor(attachment);
    layers.iter().any(|l| {
        l["mediaType"] == wanted["mediaType"]
            && l["digest"] == wanted["digest"]
            && l["annotations"][SIGNATURE_ANNOTATION] == wanted["annotations"][SIGNATURE_ANNOTATION]
    })
}

/// Appends `layer` to `digest`'s `.sig` manifest (making it when there is
/// none): read, merge, write, then read back to see the write won; a lost
/// race is merged again.
pub async fn write(
    registry: &Registry,
    digest: &Digest,
    layer: &SignatureLayer,
) -> Result<Written, StoreError> {
    write_attachment(registry, digest, Attachment::Signature, layer).await
}

/// Appends `layer` to `digest`'s `attachment` manifest (`.sig` or `.att`,
/// made when there is none): read, merge, write, then read back to see the
/// write won; a lost race is merged again. A layer of the same kind with
/// the same blob and signature annotation is not added twice.
pub async fn write_attachment(
    registry: &Registry,
    digest: &Digest,
    attachment: Attachment,
    layer: &SignatureLayer,
) -> Result<Written, StoreError> {
    let tag = attachment.tag(digest);
    registry.push_blob(&layer.payload).await?;
    publish_checked(
        registry,
        &tag,
        |existing| {
            let mut layers = match existing {
                Some(manifest) => layers_of(manifest, &tag)?,
                None => Vec::new(),
            };
            if holds(&layers, layer, attachment) {
                return Ok(None);
            }
            if layers.len() >= MAX_LAYERS {
                return Err(StoreError::TooManySignatures { tag: tag.clone() });
            }
            layers.push(layer.descriptor(attachment));
            let config = config_for(&layers);
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": media::OCI_MANIFEST,
                "config": {
                    "mediaType": media::OCI_CONFIG,
                    "size": config.len(),
                    "digest": Digest::of(&config).as_str(),
                },
                "layers": layers,
            });
            Ok(Some((media::OCI_MANIFEST, manifest, vec![config])))
        },
        |written| layers_of(written, &tag).is_ok_and(|l| holds(&l, layer, attachment)),
    )
    .await
}

/// Every simple-signing layer in `digest`'s `.sig` manifest, payloads
/// fetched and checked against their digests.
pub async fn read(registry: &Registry, digest: &Digest) -> Result<Vec<SignatureLayer>, StoreError> {
    read_attachment(registry, digest, Attachment::Signature).await
}

/// Every layer of `attachment`'s kind in `digest`'s `.sig` or `.att`
/// manifest (none when there is no manifest), blobs fetched and checked
/// against their digests. Layers of other media types are skipped.
pub async fn read_attachment(
    registry: &Registry,
    digest: &Digest,
    attachment: Attachment,
) -> Result<Vec<SignatureLayer>, StoreError> {
    let tag = attachment.tag(digest);
    let Some(stored) = registry.get_manifest(&tag).await? else {
        return Ok(Vec::new());
    };
    let manifest: Value =
        serde_json::from_slice(&stored.bytes).map_err(|e| StoreError::NotASignatureManifest {
            tag: tag.clone(),
            reason: e.to_string(),
        })?;
    let mut found = Vec::new();
    for layer in layers_of(&manifest, &tag)?.iter().take(MAX_LAYERS) {
        if layer["mediaType"] != attachment.layer_media_type() {
            continue;
        }
        let Some(layer_digest) = layer["digest"].as_str().and_then(|d| Digest::parse(d).ok())
        else {
            continue;
        };
        let payload = registry
            .get_blob(&layer_digest, attachment.max_layer_size())
            .await?;
        let annotations = serde_json::from_value(layer["annotations"].clone()).unwrap_or_default();
        found.push(SignatureLayer {
            payload,
            annotations,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_cosigns() {
        let digest = Digest::of(b"x");
        assert_eq!(
            signature_tag(&digest),
            format!("sha256-{}.sig", digest.hex())
        );
    }

    #[test]
    fn layers_are_recognised_by_payload_and_signature() {
        let mut annotations = BTreeMap::new();
        annotations.insert(SIGNATURE_ANNOTATION.to_owned(), "c2ln".to_owned());
        let layer = SignatureLayer {
            payload: b"{}".to_vec(),
            annotations,
        };
        let layers = vec![layer.descriptor(Attachment::Signature)];
        assert!(holds(&layers, &layer, Attachment::Signature));
        let mut other = layer.clone();
        other
            .annotations
            .insert(SIGNATURE_ANNOTATION.to_owned(), "b3RoZXI=".to_owned());
        assert!(!holds(&layers, &other, Attachment::Signature));
        // The same blob as another kind of layer is not the same thing.
        assert!(!holds(&layers, &layer, Attachment::Attestation));
    }

    #[test]
    fn the_attestation_tag_is_cosigns() {
        let digest = Digest::of(b"x");
        assert_eq!(
            attestation_tag(&digest),
            format!("sha256-{}.att", digest.hex())
        );
        assert_eq!(
            Attachment::Attestation.tag(&digest),
            attestation_tag(&digest)
        );
        assert_eq!(Attachment::Signature.tag(&digest), signature_tag(&digest));
    }

    #[test]
    fn each_kind_has_cosigns_layer_media_type() {
        assert_eq!(
            Attachment::Signature.layer_media_type(),
            "application/vnd.dev.cosign.simplesigning.v1+json"
        );
        assert_eq!(
            Attachment::Attestation.layer_media_type(),
            "application/vnd.dsse.envelope.v1+json"
        );
        assert!(Attachment::Attestation.max_layer_size() > Attachment::Signature.max_layer_size());
    }

    #[test]
    fn attestation_layers_carry_an_empty_signature_and_their_predicate_type() {
        let mut annotations = BTreeMap::new();
        annotations.insert(
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            "https://slsa.dev/provenance/v1".to_owned(),
        );
        let layer = SignatureLayer {
            payload: br#"{"payloadType":"application/vnd.in-toto+json"}"#.to_vec(),
            annotations,
        };
        assert_eq!(
            layer.predicate_type(),
            Some("https://slsa.dev/provenance/v1")
        );
        let descriptor = layer.descriptor(Attachment::Attestation);
        assert_eq!(descriptor["mediaType"], DSSE_MEDIA_TYPE);
        assert_eq!(descriptor["annotations"][SIGNATURE_ANNOTATION], "");
        assert_eq!(
            descriptor["annotations"][PREDICATE_TYPE_ANNOTATION],
            "https://slsa.dev/provenance/v1"
        );
        assert_eq!(descriptor["digest"], Digest::of(&layer.payload).as_str());
        // A layer cosign wrote (empty signature annotation) is recognised.
        let layers = vec![descriptor];
        assert!(holds(&layers, &layer, Attachment::Attestation));
        let other = SignatureLayer {
            payload: b"{}".to_vec(),
            ..layer.clone()
        };
        assert!(!holds(&layers, &other, Attachment::Attestation));
        // A signature layer gets no signature annotation made up for it.
        let bare = SignatureLayer {
            payload: b"{}".to_vec(),
            annotations: BTreeMap::new(),
        };
        assert!(
            bare.descriptor(Attachment::Signature)["annotations"]
                .get(SIGNATURE_ANNOTATION)
                .is_none()
        );
    }

    #[test]
    fn the_config_lists_each_layer() {
        let layers = vec![
            json!({"digest": "sha256:aa"}),
            json!({"digest": "sha256:bb"}),
        ];
        let config: Value = serde_json::from_slice(&config_for(&layers)).unwrap();
        assert_eq!(
            config["rootfs"]["diff_ids"],
            json!(["sha256:aa", "sha256:bb"])
        );
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
    }
}
