//! cosign's legacy storage: an OCI image manifest tagged
//! `sha256-<hex>.sig` beside the image, one layer per signature. Each
//! layer's blob is a simple-signing payload; the signature, and the Rekor
//! bundle when there is one, ride in the layer's annotations.

use std::collections::BTreeMap;

use hoist_oci::registry::Registry;
use hoist_oci::{Digest, media};
use serde_json::{Value, json};

use crate::store::{StoreError, Written, publish_checked};

/// The media type of a simple-signing layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The layer annotation holding the Rekor bundle (SET) as JSON.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The layer annotation holding a signing certificate (keyless).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The layer annotation holding the certificate chain (keyless).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// cosign's limit on signatures in one `.sig` manifest.
pub const MAX_LAYERS: usize = 1000;
/// The largest payload read back.
const MAX_PAYLOAD: u64 = 256 * 1024;

/// The tag cosign stores `digest`'s signatures under.
pub fn signature_tag(digest: &Digest) -> String {
    format!("sha256-{}.sig", digest.hex())
}

/// One signature: its payload and its layer annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    /// The simple-signing payload, as signed.
    pub payload: Vec<u8>,
    /// The layer's annotations (signature, bundle, …).
    pub annotations: BTreeMap<String, String>,
}

impl SignatureLayer {
    /// The base64 signature annotation.
    pub fn signature(&self) -> Option<&str> {
        self.annotations
            .get(SIGNATURE_ANNOTATION)
            .map(String::as_str)
    }

    fn descriptor(&self) -> Value {
        json!({
            "mediaType": SIMPLE_SIGNING_MEDIA_TYPE,
            "size": self.payload.len(),
            "digest": Digest::of(&self.payload).as_str(),
            "annotations": self.annotations,
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

/// Whether `layers` already hold this exact signature.
fn holds(layers: &[Value], layer: &SignatureLayer) -> bool {
    let wanted = layer.descriptor();
    layers.iter().any(|l| {
        l["digest"] == wanted["digest"]
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
    let tag = signature_tag(digest);
    registry.push_blob(&layer.payload).await?;
    publish_checked(
        registry,
        &tag,
        |existing| {
            let mut layers = match existing {
                Some(manifest) => layers_of(manifest, &tag)?,
                None => Vec::new(),
            };
            if holds(&layers, layer) {
                return Ok(None);
            }
            if layers.len() >= MAX_LAYERS {
                return Err(StoreError::TooManySignatures { tag: tag.clone() });
            }
            layers.push(layer.descriptor());
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
        |written| layers_of(written, &tag).is_ok_and(|l| holds(&l, layer)),
    )
    .await
}

/// Every simple-signing layer in `digest`'s `.sig` manifest, payloads
/// fetched and checked against their digests.
pub async fn read(registry: &Registry, digest: &Digest) -> Result<Vec<SignatureLayer>, StoreError> {
    let tag = signature_tag(digest);
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
        if layer["mediaType"] != SIMPLE_SIGNING_MEDIA_TYPE {
            continue;
        }
        let Some(layer_digest) = layer["digest"].as_str().and_then(|d| Digest::parse(d).ok())
        else {
            continue;
        };
        let payload = registry.get_blob(&layer_digest, MAX_PAYLOAD).await?;
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
        let layers = vec![layer.descriptor()];
        assert!(holds(&layers, &layer));
        let mut other = layer.clone();
        other
            .annotations
            .insert(SIGNATURE_ANNOTATION.to_owned(), "b3RoZXI=".to_owned());
        assert!(!holds(&layers, &other));
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
