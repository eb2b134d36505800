//! GitHub App installation tokens: a pull request opened with the
//! workflow's `GITHUB_TOKEN` does not start workflows, one opened with an
//! App's installation token does. The App's private key signs a short JWT
//! (RS256, `iss` = App ID, 9 minutes), which buys a token for the
//! repository's installation.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hoist_http::HttpError;
use reqwest::Method;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivatePkcs1KeyDer, PrivatePkcs8KeyDer};
use serde_json::json;

use crate::GitHubApi;

/// Why no installation token came back.
#[derive(Debug, thiserror::Error)]
pub enum AppTokenError {
    /// The private key is not an RSA key in PEM.
    #[error("`app-private-key` is not an RSA private key in PEM (PKCS#1 or PKCS#8)")]
    BadKey,
    /// GitHub refused the App's JWT or the installation.
    #[error("GitHub answered {status} to {operation}: {message}")]
    Refused {
        /// What was being done.
        operation: &'static str,
        /// The status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// The request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// A signed App JWT, valid from a minute ago for nine minutes (GitHub's
/// limit is ten, and clocks drift).
pub fn app_jwt(app_id: &str, private_key_pem: &str) -> Result<String, AppTokenError> {
    let der = PrivatePkcs1KeyDer::from_pem_slice(private_key_pem.as_bytes())
        .map(|key| key.secret_pkcs1_der().to_vec())
        .ok();
    let key = match der {
        Some(pkcs1) => RsaKeyPair::from_der(&pkcs1),
        None => {
            let pkcs8 = PrivatePkcs8KeyDer::from_pem_slice(private_key_pem.as_bytes())
                .map_err(|_| AppTokenError::BadKey)?;
            RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der())
        }
    }
    .map_err(|_| AppTokenError::BadKey)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
    let claims = URL_SAFE_NO_PAD
        .encode(json!({"iat": now - 60, "exp": now + 540, "iss": app_id}).to_string());
    let signing_input = format!("{header}.{claims}");
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| AppTokenError::BadKey)?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

impl GitHubApi {
    /// Mints an installation token for this repository with the App's JWT
    /// (the client's own token is not used).
    pub async fn installation_token(&self, jwt: &str) -> Result<String, AppTokenError> {
        let installation = self
            .call_as(jwt, Method::GET, self.url(&["installation"]), None)
            .await?;
        if installation.status != 200 {
            return Err(AppTokenError::Refused {
                operation: "finding the App's installation on the repository",
                status: installation.status,
                message: installation.message().to_owned(),
            });
        }
        let id = installation.body["id"]
            .as_u64()
            .unwrap_or_default()
            .to_string();
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["app", "installations", &id, "access_tokens"]);
        }
        let body = json!({"repositories": [self.repo.name]});
        let answer = self.call_as(jwt, Method::POST, url, Some(&body)).await?;
        match answer.body["token"].as_str() {
            Some(token) if answer.status == 201 && !token.is_empty() => Ok(token.to_owned()),
            _ => Err(AppTokenError::Refused {
                operation: "minting an installation token",
                status: answer.status,
                message: answer.message().to_owned(),
            }),
        }
    }
}
