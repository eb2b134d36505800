//! The read side, for verifiers: manifests and blobs read with a size bound
//! and checked against their digests, and the OCI 1.1 Referrers API.

use hoist_http::HttpError;
use hoist_http::redact::redact_url;
use reqwest::Response;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LINK};
use serde_json::Value;
use url::Url;

use super::{Registry, RegistryError, api_error, body_within};
use crate::digest::Digest;
use crate::media;

/// The largest manifest (and referrers page) read: the OCI distribution
/// spec's 4 MiB, which registries enforce on push.
pub const MANIFEST_LIMIT: u64 = 4 * 1024 * 1024;

/// The most pages of one referrers answer that are followed.
const REFERRERS_PAGES: usize = 16;

/// A manifest as the registry stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredManifest {
    /// Its media type: the registry's `Content-Type` (without parameters),
    /// else the body's `mediaType`, else empty.
    pub media_type: String,
    /// The sha256 of `bytes`.
    pub digest: Digest,
    /// The manifest, byte for byte.
    pub bytes: Vec<u8>,
}

impl Registry {
    /// The manifest a tag or digest names, `None` if the registry has none
    /// (404). A manifest read by digest must hash to it; no manifest over
    /// [`MANIFEST_LIMIT`] is read.
    pub async fn get_manifest(
        &self,
        reference: &str,
    ) -> Result<Option<StoredManifest>, RegistryError> {
        let expected = manifest_reference(reference)?;
        let url = self.url(&format!("manifests/{reference}"));
        let what = format!("manifest {reference}");
        self.operation(|| async {
            let response = self
                .send(|c| c.get(url.clone()).header(ACCEPT, media::ALL_MANIFESTS))
                .await?;
            match response.status().as_u16() {
                200 => {}
                404 => return Ok(None),
                status => return Err(api_error(&format!("reading {what}"), status, response).await),
            }
            let header = media_type(&response).filter(|t| !t.is_empty());
            let bytes = read_within(response, MANIFEST_LIMIT, &what, &url).await?;
            let digest = checked(expected.as_ref(), &bytes, &what)?;
            let media_type = header.unwrap_or_else(|| {
                serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|body| body["mediaType"].as_str().map(String::from))
                    .unwrap_or_default()
            });
            Ok(Some(StoredManifest {
                media_type,
                digest,
                bytes,
            }))
        })
        .await
    }

    /// A blob's bytes, at most `max_size` of them, checked against
    /// `digest`. Redirects (to a storage backend) are followed; the
    /// Authorization header is not sent to another host.
    pub async fn get_blob(&self, digest: &Digest, max_size: u64) -> Result<Vec<u8>, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let what = format!("blob {digest}");
        self.operation(|| async {
            let response = self.send(|c| c.get(url.clone())).await?;
            match response.status().as_u16() {
                200 => {}
                status => return Err(api_error(&format!("reading {what}"), status, response).await),
            }
            let bytes = read_within(response, max_size, &what, &url).await?;
            checked(Some(digest), &bytes, &what)?;
            Ok(bytes)
        })
        .await
    }

    /// The manifests that name `subject` as theirs, from the OCI 1.1
    /// Referrers API: an image index whose `manifests` carry `artifactType`
    /// and `annotations` (pages joined into one). `None` when the registry
    /// has no Referrers API (400, 404, 405, 501, or a 200 that is not an
    /// image index, as go-containerregistry decides): the caller falls back
    /// to the `sha256-<hex>` tag.
    pub async fn referrers(&self, subject: &Digest) -> Result<Option<Value>, RegistryError> {
        let first = self.url(&format!("referrers/{subject}"));
        let what = format!("referrers of {subject}");
        let malformed = |reason: String| RegistryError::Malformed {
            what: what.clone(),
            reason,
        };
        self.operation(|| async {
            let mut index: Option<Value> = None;
            let mut next = Some(first.clone());
            let mut pages = 0;
            while let Some(url) = next.take() {
                pages += 1;
                if pages > REFERRERS_PAGES {
                    return Err(malformed(format!("more than {REFERRERS_PAGES} pages")));
                }
                let response = self
                    .send(|c| c.get(url.clone()).header(ACCEPT, media::OCI_INDEX))
                    .await?;
                let status = response.status().as_u16();
                let is_index = media_type(&response).as_deref() == Some(media::OCI_INDEX);
                match status {
                    200 if is_index => {}
                    200 | 400 | 404 | 405 | 501 if index.is_none() => return Ok(None),
                    200 => return Err(malformed("a later page is not an image index".into())),
                    _ => return Err(api_error(&format!("reading {what}"), status, response).await),
                }
                next = next_page(&response, &url)
                    .map(|link| {
                        let same_origin = link.origin() == self.base.origin();
                        same_origin
                            .then_some(link)
                            .ok_or_else(|| malformed("its next page is on another host".into()))
                    })
                    .transpose()?;
                let bytes = read_within(response, MANIFEST_LIMIT, &what, &url).await?;
                let page: Value = serde_json::from_slice(&bytes)
                    .map_err(|error| malformed(format!("not JSON: {error}")))?;
                let Some(manifests) = page["manifests"].as_array() else {
                    return Err(malformed("an image index with no `manifests` list".into()));
                };
                match &mut index {
                    Some(index) => {
                        if let Some(all) = index["manifests"].as_array_mut() {
                            all.extend(manifests.iter().cloned());
                        }
                    }
                    None => index = Some(page),
                }
            }
            Ok(index)
        })
        .await
    }
}

/// The digest a manifest reference must hash to: `Some` for a digest, `None`
/// for a tag; anything else is refused before it reaches a URL.
fn manifest_reference(reference: &str) -> Result<Option<Digest>, RegistryError> {
    let bad = |reason: String| RegistryError::BadReference {
        reference: reference.to_owned(),
        reason,
    };
    if reference.contains(':') {
        Digest::parse(reference)
            .map(Some)
            .map_err(|error| bad(error.to_string()))
    } else {
        crate::reference::validate_tag(reference)
            .map(|()| None)
            .map_err(bad)
    }
}

/// The digest of `bytes`, which must be `expected` when one is given.
fn checked(expected: Option<&Digest>, bytes: &[u8], what: &str) -> Result<Digest, RegistryError> {
    let actual = Digest::of(bytes);
    match expected {
        Some(expected) if *expected != actual => Err(RegistryError::DigestMismatch {
            what: what.to_owned(),
            expected: expected.clone(),
            actual,
        }),
        _ => Ok(actual),
    }
}

/// The response's `Content-Type` without parameters.
fn media_type(response: &Response) -> Option<String> {
    let value = response.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default();
    Some(essence.trim().to_owned())
}

/// The body, at most `limit` bytes ([`RegistryError::TooLarge`] past it).
pub(super) async fn read_within(
    response: Response,
    limit: u64,
    what: &str,
    url: &Url,
) -> Result<Vec<u8>, RegistryError> {
    match body_within(response, limit).await {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(RegistryError::TooLarge {
            what: what.to_owned(),
            limit,
        }),
        // A body cut off can pass: `Send` with a body error is retried.
        Err(source) => Err(HttpError::Send {
            method: "GET".into(),
            url: redact_url(url),
            attempts: 1,
            source: source.without_url(),
        }
        .into()),
    }
}

/// The `rel="next"` target of the response's `Link` header, resolved
/// against the page's URL.
fn next_page(response: &Response, current: &Url) -> Option<Url> {
    response
        .headers()
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|link| {
            let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
            let next = params.split(';').any(|param| {
                param
                    .trim()
                    .replace('"', "")
                    .eq_ignore_ascii_case("rel=next")
            });
            next.then(|| current.join(target).ok()).flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_tags_or_digests() {
        let digest = Digest::of(b"x");
        assert_eq!(manifest_reference(digest.as_str()).unwrap(), Some(digest));
        assert_eq!(manifest_reference("sha256-abc.sig").unwrap(), None);
        for bad in ["../blobs/x", "sha256:abc", "a/b", "", "sha512:00", "v1?x"] {
            assert!(
                matches!(
                    manifest_reference(bad),
                    Err(RegistryError::BadReference { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn bytes_must_hash_to_the_digest_asked_for() {
        let asked = Digest::of(b"what was signed");
        let error = checked(Some(&asked), b"something else", "manifest x").unwrap_err();
        assert!(
            matches!(&error, RegistryError::DigestMismatch { expected, actual, .. }
                if *expected == asked && *actual == Digest::of(b"something else")),
            "{error}"
        );
        assert!(matches!(error.verdict(), hoist_http::Verdict::Fail));
        assert_eq!(
            checked(Some(&asked), b"what was signed", "x").unwrap(),
            asked
        );
        assert_eq!(checked(None, b"a", "x").unwrap(), Digest::of(b"a"));
        let too_large = RegistryError::TooLarge {
            what: "blob".into(),
            limit: 1,
        };
        assert!(matches!(too_large.verdict(), hoist_http::Verdict::Fail));
    }
}
