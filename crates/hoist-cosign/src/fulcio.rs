//! Fulcio, Sigstore's certificate authority: trading an OIDC identity token
//! and an ephemeral key for a short-lived code-signing certificate through
//! its v2 API (`POST /api/v2/signingCert`), with proof of possession.

use std::sync::Arc;

use base64::Engine as _;
use hoist_http::{Clock, HttpClient, HttpError, RetryPolicy};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use url::Url;

use crate::key::{KeyError, SigningKey};
use crate::payload::b64;

/// The public-good Fulcio instance.
pub const PUBLIC_FULCIO: &str = "https://fulcio.sigstore.dev";

/// What Fulcio says of an identity token it refuses.
const TOKEN_REFUSED: &str = "There was an error processing the identity token";

/// The audience Fulcio requires of a token.
pub const AUDIENCE: &str = "sigstore";

/// The issuer of GitHub Actions' OIDC tokens: what Fulcio's certificates
/// for GitHub workflows name, and the default issuer to expect.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// A certificate request that failed.
#[derive(Debug, thiserror::Error)]
pub enum FulcioError {
    /// The identity token has no `sub` (nor `email`) to prove possession over.
    #[error("the identity token is not a JWT with a `sub` claim")]
    Token,
    /// The ephemeral key could not sign the proof of possession.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The request failed or kept failing.
    #[error("the certificate authority at {url} could not be reached")]
    Http {
        /// Fulcio's URL.
        url: String,
        /// Why.
        #[source]
        source: HttpError,
    },
    /// Fulcio refused the identity token (HTTP 401).
    #[error("the certificate authority refused the identity token: {message}")]
    TokenRejected {
        /// Fulcio's message.
        message: String,
    },
    /// Fulcio refused the request for another reason.
    #[error("the certificate authority refused the request: HTTP {status}: {message}")]
    Refused {
        /// The status.
        status: u16,
        /// Fulcio's message.
        message: String,
    },
    /// Fulcio's answer holds no certificate chain.
    #[error("the certificate authority's answer holds no certificate chain: {0}")]
    Answer(String),
}

impl FulcioError {
    /// What to change.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Token | Self::TokenRejected { .. } => {
                "keyless signing needs `permissions: id-token: write` in the job, and a token \
                 whose audience is `sigstore` from an issuer this Fulcio trusts; check \
                 `fulcio-url`, or pass `key` to sign with a key instead"
            }
            Self::Http { .. } => {
                "check `fulcio-url` and the network; public Fulcio's outages are retried for \
                 `rekor-timeout`"
            }
            Self::Key(_) | Self::Refused { .. } | Self::Answer(_) => {
                "check that `fulcio-url` points at a Fulcio v2 API"
            }
        }
    }
}

/// A JWT's claims, read unverified: the token is the job's own, and
/// Fulcio verifies it.
pub fn token_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The claim whose value the proof of possession signs: `email` when the
/// token has one, else `sub` (as sigstore-go does).
pub fn challenge_claim(token: &str) -> Option<String> {
    let claims = token_claims(token)?;
    ["email", "sub"]
        .iter()
        .find_map(|name| claims[*name].as_str().map(str::to_owned))
}

/// A Fulcio v2 client.
pub struct FulcioClient {
    http: HttpClient,
    base: Url,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
}

impl FulcioClient {
    /// A client for the CA at `base`, retrying for as long as `policy` says.
    pub fn new(http: HttpClient, base: Url, policy: RetryPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            http,
            base,
            policy,
            clock,
        }
    }

    /// Asks for a certificate for `key`'s public key, proving possession
    /// by signing the token's subject. Returns the chain as PEM, leaf first.
    pub async fn signing_certificate(
        &self,
        token: &str,
        key: &SigningKey,
    ) -> Result<Vec<String>, FulcioError> {
        let subject = challenge_claim(token).ok_or(FulcioError::Token)?;
        let proof = key.sign(subject.as_bytes())?;
        let body = json!({
            "publicKeyRequest": {
                "publicKey": { "algorithm": "ECDSA", "content": key.public_key().to_pem() },
                "proofOfPossession": b64(&proof),
            },
        });
        let url = self
            .base
            .join("api/v2/signingCert")
            .map_err(|e| FulcioError::Answer(e.to_string()))?;
        let response = self
            .http
            .send(&self.policy, self.clock.as_ref(), |client| {
                client
                    .post(url.clone())
                    .header(AUTHORIZATION, format!("Bearer {token}"))
                    .header(CONTENT_TYPE, "application/json")
                    .header(ACCEPT, "application/json")
                    .body(body.to_string())
            })
            .await
            .map_err(|source| FulcioError::Http {
                url: hoist_http::redact::redact_url(&self.base),
                source,
            })?;
        let status = response.status().as_u16();
        // A certificate chain is a few KiB; 1 MiB is far above any.
        let bytes =
            hoist_http::body::read_capped(response, hoist_http::body::MIB, "Fulcio's answer")
                .await
                .map_err(|source| FulcioError::Http {
                    url: hoist_http::redact::redact_url(&self.base),
                    source,
                })?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let message = answer["message"].as_str().unwrap_or_default().to_owned();
        // Fulcio's gateway answers a token it refuses with 400 (code 3,
        // this message); 401 and 403 come from proxies in front of it.
        let token_refused = message == TOKEN_REFUSED;
        match status {
            200 | 201 => chain_of(&answer),
            401 | 403 => Err(FulcioError::TokenRejected { message }),
            400 if token_refused => Err(FulcioError::TokenRejected { message }),
            _ => Err(FulcioError::Refused { status, message }),
        }
    }
}

/// The PEM chain in a `SigningCertificate` answer (embedded or detached
/// SCT), leaf first.
fn chain_of(answer: &Value) -> Result<Vec<String>, FulcioError> {
    let signed = [
        "signedCertificateEmbeddedSct",
        "signedCertificateDetachedSct",
    ]
    .iter()
    .map(|field| &answer[*field])
    .find(|value| !value.is_null())
    .ok_or_else(|| FulcioError::Answer("no `signedCertificate…` field".into()))?;
    let chain: Vec<String> = signed["chain"]["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    if chain.is_empty() {
        return Err(FulcioError::Answer("the chain is empty".into()));
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: Value) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            engine.encode(br#"{"alg":"RS256"}"#),
            engine.encode(claims.to_string())
        )
    }

    #[test]
    fn the_challenge_is_the_email_else_the_subject() {
        assert_eq!(
            challenge_claim(&jwt(json!({"sub": "repo:acme/shop:ref:refs/heads/main"}))).unwrap(),
            "repo:acme/shop:ref:refs/heads/main"
        );
        assert_eq!(
            challenge_claim(&jwt(json!({"sub": "1234", "email": "dev@acme.test"}))).unwrap(),
            "dev@acme.test"
        );
        assert_eq!(challenge_claim(&jwt(json!({"aud": "sigstore"}))), None);
        assert_eq!(challenge_claim("not a token"), None);
    }

    #[test]
    fn chains_are_read_from_either_answer_shape() {
        let embedded =
            json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": ["a", "b"]}}});
        assert_eq!(chain_of(&embedded).unwrap(), ["a", "b"]);
        let detached = json!({"signedCertificateDetachedSct": {"chain": {"certificates": ["a"]}, "signedCertificateTimestamp": "x"}});
        assert_eq!(chain_of(&detached).unwrap(), ["a"]);
        assert!(chain_of(&json!({"signedCertificateEmbeddedSct": {"chain": {}}})).is_err());
        assert!(chain_of(&json!({})).is_err());
    }
}
