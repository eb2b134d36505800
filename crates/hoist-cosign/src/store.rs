//! The registry side shared by both formats: read-merge-write of a tagged
//! manifest (the legacy `.sig` manifest, the referrers fallback index),
//! checked by reading it back.

use hoist_oci::registry::{Registry, RegistryError};
use serde_json::Value;

/// How many times a lost race is merged again before giving up.
const RACE_ATTEMPTS: usize = 5;

/// A signature could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The registry refused to move a signature tag: its tags are immutable.
    #[error("the registry refused to update tag `{tag}`: its tags are immutable ({message})")]
    Immutable {
        /// The tag.
        tag: String,
        /// The registry's message.
        message: String,
    },
    /// Something else sits under a signature tag.
    #[error("`{tag}` is not a signature manifest: {reason}")]
    NotASignatureManifest {
        /// The tag.
        tag: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `.sig` manifest is full.
    #[error("`{tag}` already holds cosign's limit of 1000 signatures")]
    TooManySignatures {
        /// The tag.
        tag: String,
    },
    /// Other writers kept replacing the manifest between our read and write.
    #[error("`{tag}` kept changing under concurrent writers; gave up after {RACE_ATTEMPTS} merges")]
    LostRaces {
        /// The tag.
        tag: String,
    },
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The signature was added.
    Added,
    /// The same signature was already there; nothing was written.
    AlreadyThere,
}

/// The new manifest a merge produces: its media type, its JSON, and the
/// blobs it needs pushed first.
pub(crate) type Merged = (&'static str, Value, Vec<Vec<u8>>);

/// Reads the manifest under `tag`, lets `merge` make the new one (or say
/// nothing needs writing), pushes its blobs and the manifest, and reads it
/// back until `landed` sees our change in it.
pub(crate) async fn publish_checked(
    registry: &Registry,
    tag: &str,
    merge: impl Fn(Option<&Value>) -> Result<Option<Merged>, StoreError>,
    landed: impl Fn(&Value) -> bool,
) -> Result<Written, StoreError> {
    for _ in 0..RACE_ATTEMPTS {
        let existing = read_json(registry, tag).await?;
        let Some((media_type, manifest, blobs)) = merge(existing.as_ref())? else {
            return Ok(Written::AlreadyThere);
        };
        for blob in &blobs {
            registry.push_blob(blob).await?;
        }
        let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
        registry
            .put_manifest(tag, media_type, &bytes)
            .await
            .map_err(|error| match error {
                RegistryError::TagRejected { tag, message } => {
                    StoreError::Immutable { tag, message }
                }
                other => other.into(),
            })?;
        if read_json(registry, tag).await?.is_some_and(|m| landed(&m)) {
            return Ok(Written::Added);
        }
    }
    Err(StoreError::LostRaces {
        tag: tag.to_owned(),
    })
}

/// The JSON manifest under `reference`, if there is one.
pub(crate) async fn read_json(
    registry: &Registry,
    reference: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(stored) = registry.get_manifest(reference).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&stored.bytes)
        .map(Some)
        .map_err(|e| StoreError::NotASignatureManifest {
            tag: reference.to_owned(),
            reason: format!("it is not JSON: {e}"),
        })
}
