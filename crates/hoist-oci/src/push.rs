//! Pushing one image: the tag guard first, then every blob (several at
//! once), then the manifests children first, and the tags last — so a
//! failure never leaves a tag pointing at something missing.

use futures_util::{StreamExt as _, TryStreamExt as _, stream};

use crate::digest::Digest;
use crate::image::{ImageSource, Manifest};
use crate::registry::{BlobOutcome, Registry, RegistryError};

/// How to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Blobs in flight at once.
    pub concurrency: usize,
    /// Repositories on the same registry to mount blobs from.
    pub mount_from: Vec<String>,
    /// Refuse to move a tag that points at another digest.
    pub immutable_guard: bool,
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// The digest the tags point at.
    pub digest: Option<Digest>,
    /// Bytes uploaded.
    pub pushed_bytes: u64,
    /// Blobs that were already there or were mounted.
    pub reused_blobs: usize,
    /// Blobs uploaded.
    pub uploaded_blobs: usize,
    /// Tags written by this push.
    pub tags_written: Vec<String>,
    /// Tags that already pointed at the digest.
    pub tags_unchanged: Vec<String>,
}

/// Why a push stopped.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A tag points at another digest and the guard is on.
    #[error("tag `{tag}` already points at {existing}, not at {pushing}; nothing was written")]
    TagExists {
        /// The tag.
        tag: String,
        /// What it points at now.
        existing: Digest,
        /// What this push would point it at.
        pushing: Digest,
    },
    /// The registry refused to move a tag (an immutable tag on ECR).
    #[error("the registry refused to move tag `{tag}` to {pushing}: {message}")]
    TagImmutable {
        /// The tag.
        tag: String,
        /// What this push would point it at.
        pushing: Digest,
        /// The registry's message.
        message: String,
    },
    /// A registry operation failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Pushes `image` from `source` and points `tags` at it.
pub async fn push(
    registry: &Registry,
    source: &ImageSource,
    image: &Manifest,
    tags: &[String],
    options: &PushOptions,
) -> Result<PushReport, PushError> {
    let mut report = PushReport {
        digest: Some(image.digest.clone()),
        ..PushReport::default()
    };
    let mut to_write = Vec::new();
    for tag in tags {
        match registry.manifest_digest(tag).await? {
            Some(existing) if existing == image.digest => report.tags_unchanged.push(tag.clone()),
            Some(existing) if options.immutable_guard => {
                return Err(PushError::TagExists {
                    tag: tag.clone(),
                    existing,
                    pushing: image.digest.clone(),
                });
            }
            _ => to_write.push(tag.clone()),
        }
    }
    if to_write.is_empty() && !tags.is_empty() {
        return Ok(report);
    }

    let blobs = image.all_blobs();
    let outcomes: Vec<(u64, BlobOutcome)> = stream::iter(blobs.iter())
        .map(|blob| async move {
            registry
                .ensure_blob(blob, source, &options.mount_from)
                .await
                .map(|outcome| (blob.size, outcome))
        })
        .buffer_unordered(options.concurrency.max(1))
        .try_collect()
        .await?;
    for (size, outcome) in outcomes {
        match outcome {
            BlobOutcome::Uploaded => {
                report.uploaded_blobs += 1;
                report.pushed_bytes += size;
            }
            BlobOutcome::Present | BlobOutcome::Mounted => report.reused_blobs += 1,
        }
    }

    for manifest in image.push_order() {
        registry
            .put_manifest(
                manifest.digest.as_str(),
                &manifest.media_type,
                &manifest.bytes,
            )
            .await?;
    }
    for tag in to_write {
        match registry
            .put_manifest(&tag, &image.media_type, &image.bytes)
            .await
        {
            Ok(()) => report.tags_written.push(tag),
            Err(RegistryError::TagRejected { tag, message }) => {
                return Err(PushError::TagImmutable {
                    tag,
                    pushing: image.digest.clone(),
                    message,
                });
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(report)
}
