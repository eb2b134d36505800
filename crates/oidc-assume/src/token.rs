//! The web identity token: from GitHub's OIDC endpoint (a fresh one for
//! every STS attempt) or from a file, and its claims for diagnostics.

use std::path::PathBuf;

use base64::Engine as _;
use hoist_http::id_token::IdTokenError;
use hoist_http::{Clock, HttpClient, RetryPolicy};
use serde::Deserialize;

use crate::error::AssumeError;

pub use hoist_http::id_token::{REQUEST_TOKEN_VARIABLE, REQUEST_URL_VARIABLE};

/// Where tokens come from.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// GitHub's OIDC endpoint, asked for `audience`.
    GitHub {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        url: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (a secret, masked at start).
        bearer: String,
        /// The audience to ask for.
        audience: String,
    },
    /// A file another system keeps fresh (a Kubernetes projected token).
    File(PathBuf),
}

impl TokenSource {
    /// A new token. The caller masks it before printing anything.
    pub async fn fetch(
        &self,
        http: &HttpClient,
        policy: &RetryPolicy,
        clock: &dyn Clock,
    ) -> Result<String, AssumeError> {
        match self {
            Self::File(path) => read_token_file(path),
            Self::GitHub {
                url,
                bearer,
                audience,
            } => hoist_http::id_token::request_id_token(http, policy, clock, url, bearer, audience)
                .await
                .map_err(|error| match error {
                    IdTokenError::BadUrl => AssumeError::TokenUrl,
                    IdTokenError::Refused { status } => AssumeError::TokenRefused { status },
                    IdTokenError::NoToken => AssumeError::TokenResponse,
                    IdTokenError::Http(error) => AssumeError::Http(error),
                }),
        }
    }
}

/// Reads a token file, refusing symlinks (a symlink could point the action at
/// any file on the runner).
fn read_token_file(path: &PathBuf) -> Result<String, AssumeError> {
    let shown = path.display().to_string();
    let meta = std::fs::symlink_metadata(path).map_err(|source| AssumeError::TokenFile {
        path: shown.clone(),
        source,
    })?;
    if meta.file_type().is_symlink() {
        return Err(AssumeError::Symlink { path: shown });
    }
    let token = std::fs::read_to_string(path).map_err(|source| AssumeError::TokenFile {
        path: shown.clone(),
        source,
    })?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(AssumeError::TokenFileEmpty { path: shown });
    }
    Ok(token)
}

/// The non-secret claims of a GitHub OIDC token that decide whether a trust
/// policy admits it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The issuer.
    #[serde(default)]
    pub iss: String,
    /// The subject: `repo:ORG/REPO:ref:refs/heads/main` and its forms.
    #[serde(default)]
    pub sub: String,
    /// The audience (GitHub sends one string).
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: String,
    /// The workflow file and ref that ran the job.
    pub job_workflow_ref: Option<String>,
    /// The deployment environment, when the job has one.
    pub environment: Option<String>,
    /// The git ref.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// `ORG/REPO`.
    pub repository: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: Option<u64>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => one,
        OneOrMany::Many(many) => many.join(","),
    })
}

/// Reads a JWT's claims without verifying it: only to explain a refusal.
pub fn decode_claims(jwt: &str) -> Option<Claims> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_decode_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:acme/shop:ref:refs/heads/main","aud":["sts.amazonaws.com"],"ref":"refs/heads/main","environment":"prod","exp":1}"#,
        );
        let claims = decode_claims(&format!("e30.{payload}.sig")).unwrap();
        assert_eq!(claims.sub, "repo:acme/shop:ref:refs/heads/main");
        assert_eq!(claims.aud, "sts.amazonaws.com");
        assert_eq!(claims.git_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(claims.environment.as_deref(), Some("prod"));
        assert!(decode_claims("not-a-jwt").is_none());
    }
}
