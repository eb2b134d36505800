//! A registry client: Basic and Bearer-token auth (push, or pull only),
//! blob HEAD, cross-repository mounts, streaming monolithic uploads that hash
//! as they go, small in-memory blob uploads, and manifest HEAD/PUT. The read
//! side ([`Registry::get_manifest`], [`Registry::get_blob`],
//! [`Registry::referrers`]) bounds what it reads and checks it against its
//! digest: a verifier must not trust the registry. Each operation is retried
//! whole, from its start, when its error can pass.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use futures_util::stream;
use hoist_http::{Clock, HttpClient, HttpError, RetryPolicy, Verdict, redact::redact_url, retry};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE,
};
use reqwest::{RequestBuilder, Response};
use serde_json::Value;
use tokio::io::AsyncReadExt as _;
use url::Url;

use crate::digest::{Digest, Hasher};
use crate::image::{Descriptor, ImageSource, SourceError};
use crate::media;

mod read;

pub use read::{MANIFEST_LIMIT, StoredManifest};

/// A user name and password for a registry.
#[derive(Clone)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A registry operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The request failed or kept failing.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The registry refused the credentials (or needs some).
    #[error("the registry {registry} refused {}", if *.anonymous { "anonymous access" } else { "the credentials" })]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// Whether no credentials were given.
        anonymous: bool,
    },
    /// The registry answered an operation with an error.
    #[error("{operation} failed: HTTP {status}{}", code.as_ref().map(|c| format!(" {c}: {message}")).unwrap_or_default())]
    Api {
        /// What was being done.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The registry's error code (`BLOB_UNKNOWN`, …).
        code: Option<String>,
        /// Its message.
        message: String,
    },
    /// The registry refused to overwrite a tag (ECR's `TAG_INVALID` for an
    /// immutable tag).
    #[error("the registry refused to move tag `{tag}`: {message}")]
    TagRejected {
        /// The tag.
        tag: String,
        /// The registry's message.
        message: String,
    },
    /// The image source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A challenge or token answer could not be understood.
    #[error("the registry's auth challenge could not be followed: {0}")]
    Challenge(String),
    /// The registry served bytes that do not hash to the digest they were
    /// asked for by (a broken or hostile registry).
    #[error(
        "the registry served {what} with the wrong content: asked for {expected}, its bytes hash to {actual}"
    )]
    DigestMismatch {
        /// What was read (`manifest sha256:…`, `blob sha256:…`).
        what: String,
        /// The digest asked for.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// The registry's answer is larger than hoist reads for it.
    #[error("the registry's answer for {what} is larger than the {limit}-byte limit")]
    TooLarge {
        /// What was read.
        what: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The registry's answer is not what the protocol says it is (a
    /// referrers answer that is not an image index, a `Link` to another
    /// host).
    #[error("the registry's {what} is not valid: {reason}")]
    Malformed {
        /// What was read.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A manifest reference that is neither a tag nor a sha256 digest.
    #[error("`{reference}` is not a tag or a sha256 digest: {reason}")]
    BadReference {
        /// The reference.
        reference: String,
        /// Why not.
        reason: String,
    },
}

impl RegistryError {
    /// The same error, its HTTP failure counting `attempts` attempts: each
    /// request is sent once and the operation is retried whole, so the
    /// operation's count is the true one.
    fn with_attempts(self, attempts: u32) -> Self {
        match self {
            Self::Http(error) => Self::Http(error.with_attempts(attempts)),
            other => other,
        }
    }

    fn verdict(&self) -> Verdict {
        match self {
            Self::Http(error) => error.verdict(),
            Self::Api { status, .. } if hoist_http::retry::status_is_retryable(*status) => {
                Verdict::Retry { after: None }
            }
            // A registry that serves the wrong bytes, too many bytes or a
            // malformed answer will do so again: none of these can pass.
            Self::Api { .. }
            | Self::Unauthorized { .. }
            | Self::TagRejected { .. }
            | Self::Source(_)
            | Self::Challenge(_)
            | Self::DigestMismatch { .. }
            | Self::TooLarge { .. }
            | Self::Malformed { .. }
            | Self::BadReference { .. } => Verdict::Fail,
        }
    }
}

/// How a blob got into the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOutcome {
    /// It was already there.
    Present,
    /// It was mounted from another repository.
    Mounted,
    /// Its bytes were uploaded.
    Uploaded,
}

/// One repository on one registry.
pub struct Registry {
    http: HttpClient,
    base: Url,
    host: String,
    repository: String,
    credentials: Option<Credentials>,
    /// Whether a Bearer token is asked for `push` as well as `pull`.
    push: bool,
    authorization: Mutex<Option<String>>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
}

const ONE_ATTEMPT: RetryPolicy = RetryPolicy {
    max_attempts: 1,
    deadline: None,
    backoff: hoist_http::Backoff {
        base: std::time::Duration::ZERO,
        cap: std::time::Duration::ZERO,
        scale: 0.0,
    },
};

impl Registry {
    /// One request: the operation around it retries, and the operation's
    /// deadline caps the request's time (a blob upload included).
    fn one_attempt(&self) -> RetryPolicy {
        RetryPolicy {
            deadline: self.policy.deadline,
            ..ONE_ATTEMPT
        }
    }

    /// A client for `repository` at `base` (from `hoist_http::registry_base`).
    pub fn new(
        http: HttpClient,
        base: Url,
        repository: &str,
        credentials: Option<Credentials>,
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let host = base.host_str().map(|h| match base.port() {
            Some(port) => format!("{h}:{port}"),
            None => h.to_owned(),
        });
        Self {
            http,
            host: host.unwrap_or_default(),
            base,
            repository: repository.to_owned(),
            credentials,
            push: true,
            authorization: Mutex::new(None),
            policy,
            clock,
        }
    }

    /// The same client for reading only: a Bearer token is asked for
    /// `repository:<name>:pull` instead of `pull,push`, so pull-only
    /// credentials log in. (Basic auth sends the credentials as they are.)
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.push = false;
        self
    }

    fn url(&self, path: &str) -> Url {
        self.base
            .join(&format!("v2/{}/{path}", self.repository))
            .unwrap_or_else(|_| self.base.clone())
    }

    fn authorization(&self) -> Option<String> {
        self.authorization.lock().ok().and_then(|a| a.clone())
    }

    /// One request with the current authorization, sent once (operations
    /// retry as a whole).
    async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let authorization = self.authorization();
        Ok(self
            .http
            .send(
                &self.one_attempt(),
                self.clock.as_ref(),
                |client| match &authorization {
                    Some(value) => build(client).header(AUTHORIZATION, value),
                    None => build(client),
                },
            )
            .await?)
    }

    async fn operation<T, F>(&self, run: impl Fn() -> F) -> Result<T, RegistryError>
    where
        F: Future<Output = Result<T, RegistryError>>,
    {
        retry(
            &self.policy,
            self.clock.as_ref(),
            |_| run(),
            RegistryError::verdict,
        )
        .await
        .map_err(|failure| failure.last.with_attempts(failure.attempts))
    }

    /// Learns how the registry wants to be spoken to (`GET /v2/`), and gets
    /// a token for pushing to the repository (only pulling, if
    /// [`read_only`](Self::read_only)) and pulling from `mount_from` when it
    /// asks for Bearer auth.
    pub async fn login(&self, mount_from: &[String]) -> Result<(), RegistryError> {
        let ping = self.base.join("v2/").unwrap_or_else(|_| self.base.clone());
        let response = self
            .operation(|| self.send(|c| c.get(ping.clone())))
            .await?;
        if response.status().as_u16() != 401 {
            return Ok(());
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let anonymous = self.credentials.is_none();
        let unauthorized = || RegistryError::Unauthorized {
            registry: self.host.clone(),
            anonymous,
        };
        let (scheme, params) = challenge
            .split_once(' ')
            .unwrap_or((challenge.as_str(), ""));
        let value = if scheme.eq_ignore_ascii_case("basic") {
            let credentials = self.credentials.as_ref().ok_or_else(unauthorized)?;
            basic(credentials)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            format!(
                "Bearer {}",
                self.token(&parse_params(params), mount_from).await?
            )
        } else {
            return Err(RegistryError::Challenge(format!(
                "unknown scheme in `{challenge}`"
            )));
        };
        *self
            .authorization
            .lock()
            .map_err(|_| RegistryError::Challenge("lock".into()))? = Some(value);
        let check = self
            .operation(|| self.send(|c| c.get(ping.clone())))
            .await?;
        if check.status().as_u16() == 401 {
            return Err(unauthorized());
        }
        Ok(())
    }

    async fn token(
        &self,
        params: &[(String, String)],
        mount_from: &[String],
    ) -> Result<String, RegistryError> {
        let get = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let realm = get("realm").ok_or_else(|| {
            RegistryError::Challenge("the Bearer challenge names no realm".into())
        })?;
        let mut url = Url::parse(&realm)
            .map_err(|_| RegistryError::Challenge(format!("realm `{realm}` is not a URL")))?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = get("service") {
                query.append_pair("service", &service);
            }
            let actions = if self.push { "pull,push" } else { "pull" };
            query.append_pair(
                "scope",
                &format!("repository:{}:{actions}", self.repository),
            );
            for from in mount_from {
                query.append_pair("scope", &format!("repository:{from}:pull"));
            }
        }
        let credentials = self.credentials.clone();
        let response = self
            .operation(|| async {
                Ok(self
                    .http
                    .send(&self.one_attempt(), self.clock.as_ref(), |client| {
                        let request = client.get(url.clone());
                        match &credentials {
                            Some(c) => request.basic_auth(&c.username, Some(&c.password)),
                            None => request,
                        }
                    })
                    .await?)
            })
            .await?;
        if matches!(response.status().as_u16(), 401 | 403) {
            return Err(RegistryError::Unauthorized {
                registry: self.host.clone(),
                anonymous: self.credentials.is_none(),
            });
        }
        let body: Value = response
            .json()
            .await
            .map_err(|_| RegistryError::Challenge("the token answer is not JSON".into()))?;
        body["token"]
            .as_str()
            .or_else(|| body["access_token"].as_str())
            .map(String::from)
            .ok_or_else(|| RegistryError::Challenge("the token answer has no token".into()))
    }

    /// Whether the repository has the blob.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<bool, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        self.operation(|| async {
            let response = self.send(|c| c.head(url.clone())).await?;
            match response.status().as_u16() {
                200 => Ok(true),
                404 => Ok(false),
                status => Err(api_error("HEAD blob", status, response).await),
            }
        })
        .await
    }

    /// Makes sure the repository has `blob`: present, mounted from one of
    /// `mount_from`, or uploaded from `source` while its bytes are hashed.
    pub async fn ensure_blob(
        &self,
        blob: &Descriptor,
        source: &ImageSource,
        mount_from: &[String],
    ) -> Result<BlobOutcome, RegistryError> {
        if self.blob_exists(&blob.digest).await? {
            return Ok(BlobOutcome::Present);
        }
        self.operation(|| async {
            let mut upload_url = None;
            for from in mount_from {
                let mut url = self.url("blobs/uploads/");
                url.query_pairs_mut()
                    .append_pair("mount", blob.digest.as_str())
                    .append_pair("from", from);
                let response = self
                    .send(|c| c.post(url.clone()).header(CONTENT_LENGTH, 0))
                    .await?;
                match response.status().as_u16() {
                    201 => return Ok(BlobOutcome::Mounted),
                    202 => {
                        upload_url = Some(self.location(&response)?);
                        break;
                    }
                    _ => {}
                }
            }
            let upload_url = match upload_url {
                Some(url) => url,
                None => self.start_upload().await?,
            };
            self.put_blob(upload_url, blob, source).await?;
            Ok(BlobOutcome::Uploaded)
        })
        .await
    }

    /// Makes sure the repository has a small blob held in memory (a
    /// signature payload, a config, a bundle): a HEAD, and when it is
    /// missing, a POST and one monolithic PUT. Returns its digest.
    pub async fn push_blob(&self, bytes: &[u8]) -> Result<Digest, RegistryError> {
        let digest = Digest::of(bytes);
        if self.blob_exists(&digest).await? {
            return Ok(digest);
        }
        self.operation(|| async {
            let url = self.start_upload().await?;
            let body = reqwest::Body::from(bytes.to_vec());
            self.complete_upload(url, &digest, bytes.len() as u64, body, None)
                .await
        })
        .await?;
        Ok(digest)
    }

    /// `POST /blobs/uploads/`: where the upload goes.
    async fn start_upload(&self) -> Result<Url, RegistryError> {
        let url = self.url("blobs/uploads/");
        let response = self
            .send(|c| c.post(url.clone()).header(CONTENT_LENGTH, 0))
            .await?;
        match response.status().as_u16() {
            202 => self.location(&response),
            status => Err(api_error("starting a blob upload", status, response).await),
        }
    }

    fn location(&self, response: &Response) -> Result<Url, RegistryError> {
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        self.base.join(location).map_err(|_| {
            RegistryError::Challenge(format!("upload location `{location}` is not a URL"))
        })
    }

    /// The monolithic PUT of a blob from `source`, streamed and hashed.
    async fn put_blob(
        &self,
        url: Url,
        blob: &Descriptor,
        source: &ImageSource,
    ) -> Result<(), RegistryError> {
        let (path, offset, size) = source.blob_location(&blob.digest)?;
        let mismatch = Arc::new(Mutex::new(None));
        let body = verified_body(
            &path,
            offset,
            size,
            blob.digest.clone(),
            Arc::clone(&mismatch),
        )?;
        self.complete_upload(url, &blob.digest, size, body, Some(&mismatch))
            .await
    }

    /// The monolithic PUT that completes the upload at `url`: `body` is the
    /// whole blob, `size` bytes. A body that checks its bytes as they stream
    /// says in `mismatch` what they hashed to instead.
    async fn complete_upload(
        &self,
        mut url: Url,
        digest: &Digest,
        size: u64,
        body: reqwest::Body,
        mismatch: Option<&Mutex<Option<String>>>,
    ) -> Result<(), RegistryError> {
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let same_host = url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default();
        let authorization = self.authorization().filter(|_| same_host);
        let body = Mutex::new(Some(body));
        let response = self
            .http
            .send(&self.one_attempt(), self.clock.as_ref(), |client| {
                let mut request = client
                    .put(url.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .header(CONTENT_LENGTH, size)
                    .timeout(std::time::Duration::from_secs(3600));
                if let Some(value) = &authorization {
                    request = request.header(AUTHORIZATION, value);
                }
                match body.lock().ok().and_then(|mut b| b.take()) {
                    Some(body) => request.body(body),
                    None => request,
                }
            })
            .await;
        if let Some(actual) = mismatch.and_then(|m| m.lock().ok().and_then(|m| m.clone())) {
            return Err(SourceError::DigestMismatch {
                expected: digest.to_string(),
                actual,
            }
            .into());
        }
        let response = response?;
        match response.status().as_u16() {
            201 | 204 => Ok(()),
            status => Err(api_error(&format!("uploading blob {digest}"), status, response).await),
        }
    }

    /// The digest a tag or digest reference points at, if it exists.
    pub async fn manifest_digest(&self, reference: &str) -> Result<Option<Digest>, RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        self.operation(|| async {
            let response = self
                .send(|c| c.head(url.clone()).header(ACCEPT, media::ALL_MANIFESTS))
                .await?;
            match response.status().as_u16() {
                404 => Ok(None),
                200 => {
                    let header = response
                        .headers()
                        .get("docker-content-digest")
                        .and_then(|v| v.to_str().ok())
                        .map(String::from);
                    match header.and_then(|h| Digest::parse(&h).ok()) {
                        Some(digest) => Ok(Some(digest)),
                        None => {
                            let response = self
                                .send(|c| c.get(url.clone()).header(ACCEPT, media::ALL_MANIFESTS))
                                .await?;
                            let what = format!("manifest {reference}");
                            let bytes =
                                read::read_within(response, MANIFEST_LIMIT, &what, &url).await?;
                            Ok(Some(Digest::of(&bytes)))
                        }
                    }
                }
                status => Err(api_error("HEAD manifest", status, response).await),
            }
        })
        .await
    }

    /// Writes a manifest under a tag or its digest.
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        self.operation(|| async {
            let response = self
                .send(|c| {
                    c.put(url.clone())
                        .header(CONTENT_TYPE, media_type)
                        .body(bytes.to_vec())
                })
                .await?;
            match response.status().as_u16() {
                200 | 201 | 204 => Ok(()),
                status => {
                    match api_error(&format!("writing manifest {reference}"), status, response)
                        .await
                    {
                        RegistryError::Api {
                            code: Some(code),
                            message,
                            ..
                        } if code == "TAG_INVALID" => Err(RegistryError::TagRejected {
                            tag: reference.to_owned(),
                            message,
                        }),
                        other => Err(other),
                    }
                }
            }
        })
        .await
    }

    /// The registry host, `host[:port]`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The redacted base URL, for messages.
    pub fn shown(&self) -> String {
        redact_url(&self.base)
    }
}

fn basic(credentials: &Credentials) -> String {
    let pair = format!("{}:{}", credentials.username, credentials.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// `key="value", key=value` pairs of a challenge.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, remaining) = match after.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
            None => after.split_once(',').unwrap_or((after, "")),
        };
        params.push((key, value.to_owned()));
        rest = remaining.trim_start_matches(',').trim();
    }
    params
}

/// The largest error body read.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// The registry's error body (its first 64 KiB), read into an
/// [`RegistryError::Api`].
async fn api_error(operation: &str, status: u16, response: Response) -> RegistryError {
    let body = body_within(response, ERROR_BODY_LIMIT)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let first = &body["errors"][0];
    RegistryError::Api {
        operation: operation.to_owned(),
        status,
        code: first["code"].as_str().map(String::from),
        message: first["message"].as_str().unwrap_or_default().to_owned(),
    }
}

/// The body if it is at most `limit` bytes, `None` if it is longer: a
/// `Content-Length` over the limit is refused before anything is read, and a
/// body without one is read no further than the limit.
async fn body_within(
    mut response: Response,
    limit: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Ok(None);
    }
    let capacity = response.content_length().unwrap_or(0).min(1 << 20);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        if bytes.len() as u64 + chunk.len() as u64 > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// The blob's bytes as a request body, hashed as they stream; if they do not
/// hash to `expected`, the stream ends in an error and `mismatch` says what
/// they hashed to.
fn verified_body(
    path: &std::path::Path,
    offset: u64,
    size: u64,
    expected: Digest,
    mismatch: Arc<Mutex<Option<String>>>,
) -> Result<reqwest::Body, SourceError> {
    use std::io::Seek as _;
    let mut file = std::fs::File::open(path).map_err(|source| SourceError::Io {
        path: path.display().to_string(),
        source,
    })?;
    file.seek(std::io::SeekFrom::Start(offset))
        .map_err(|source| SourceError::Io {
            path: path.display().to_string(),
            source,
        })?;
    let reader = tokio::fs::File::from_std(file).take(size);
    // The check runs when the last byte is read, and that last chunk is held
    // back on a mismatch: the server stops reading at Content-Length, so an
    // error after the final chunk would never be seen.
    let state = (reader, Some(Hasher::default()), size, expected, mismatch);
    let chunks = stream::unfold(
        state,
        |(mut reader, hasher, remaining, expected, mismatch)| async move {
            let mut hasher = hasher?;
            let mut buffer = vec![0u8; 256 * 1024];
            let read = match reader.read(&mut buffer).await {
                Ok(0) if remaining > 0 => Err(std::io::Error::other("the blob ended early")),
                Ok(read) => Ok(read),
                Err(error) => Err(error),
            };
            let read = match read {
                Ok(0) => return None,
                Ok(read) => read,
                Err(error) => return Some((Err(error), (reader, None, 0, expected, mismatch))),
            };
            buffer.truncate(read);
            hasher.update(&buffer);
            let remaining = remaining.saturating_sub(read as u64);
            if remaining > 0 {
                return Some((
                    Ok(bytes::Bytes::from(buffer)),
                    (reader, Some(hasher), remaining, expected, mismatch),
                ));
            }
            let actual = hasher.finish();
            if actual == expected {
                return Some((
                    Ok(bytes::Bytes::from(buffer)),
                    (reader, None, 0, expected, mismatch),
                ));
            }
            if let Ok(mut slot) = mismatch.lock() {
                *slot = Some(actual.to_string());
            }
            let error = std::io::Error::other(format!("blob {expected} does not match its digest"));
            Some((Err(error), (reader, None, 0, expected, mismatch)))
        },
    );
    Ok(reqwest::Body::wrap_stream(chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        let params = parse_params(
            r#"realm="https://auth.example/token",service="registry.example",scope="repository:a:pull""#,
        );
        assert_eq!(
            params[0],
            ("realm".into(), "https://auth.example/token".into())
        );
        assert_eq!(params[1], ("service".into(), "registry.example".into()));
        assert_eq!(params.len(), 3);
    }
}
