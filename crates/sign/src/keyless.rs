//! Keyless signing's first half: the job's OIDC token (audience
//! `sigstore`), an ephemeral P-256 key, and Fulcio's certificate for it —
//! checked against the trusted root (chain and SCT) before anything is
//! signed with it.

use std::sync::Arc;

use hoist_cosign::SigningKey;
use hoist_cosign::certificate::{self, Certificate, CertificateError};
use hoist_cosign::fulcio::{self, FulcioClient, FulcioError};
use hoist_cosign::signer::Certified;
use hoist_cosign::trust::TrustedRoot;
use hoist_http::id_token::{
    IdTokenError, REQUEST_TOKEN_VARIABLE, REQUEST_URL_VARIABLE, request_id_token,
};
use hoist_http::{Clock, HttpClient, RetryPolicy};
use hoist_runner::Runner;
use url::Url;

/// Why no certificate could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeylessError {
    /// The job has no OIDC token endpoint.
    #[error(
        "keyless signing needs the job's OIDC token, and `{REQUEST_URL_VARIABLE}` is not set \
         (no `key` was given, so signing is keyless)"
    )]
    NoIdToken,
    /// The token endpoint failed.
    #[error("could not get the job's OIDC token")]
    IdToken(#[source] IdTokenError),
    /// Fulcio failed or refused.
    #[error(transparent)]
    Fulcio(#[from] FulcioError),
    /// Fulcio's answer is not a certificate chain.
    #[error("Fulcio's certificate chain does not parse")]
    Chain(#[source] CertificateError),
    /// The certificate is for another key than the one sent.
    #[error("Fulcio's certificate is for another key than the one it was sent")]
    OtherKey,
    /// The certificate does not verify against the trusted root.
    #[error("Fulcio's certificate does not verify against the trusted root")]
    Untrusted(#[source] CertificateError),
}

impl KeylessError {
    /// What to change.
    pub fn hint(&self) -> String {
        match self {
            Self::NoIdToken | Self::IdToken(_) => "add `permissions: id-token: write` to the job \
                 (jobs for pull requests from forks get no token), or pass `key` to sign with a \
                 key"
            .into(),
            Self::Fulcio(error) => error.hint().into(),
            Self::Chain(_) | Self::OtherKey => {
                "check that `fulcio-url` points at a Fulcio v2 API".into()
            }
            Self::Untrusted(error) => error.hint(),
        }
    }
}

/// A certified ephemeral key, and the token's claims (for provenance).
pub struct Certification {
    /// The key and its certificate.
    pub certified: Certified,
    /// The OIDC token's claims.
    pub claims: serde_json::Value,
}

/// Gets the token (masked at once), makes a key, has Fulcio certify it and
/// checks the certificate against `root` now.
pub async fn certify(
    runner: &mut Runner,
    http: &HttpClient,
    policy: &RetryPolicy,
    clock: Arc<dyn Clock>,
    fulcio_url: &Url,
    root: &TrustedRoot,
) -> Result<Certification, KeylessError> {
    let (Some(url), Some(bearer)) = (
        runner
            .env(REQUEST_URL_VARIABLE)
            .filter(|v| !v.is_empty())
            .map(String::from),
        runner.env(REQUEST_TOKEN_VARIABLE).map(String::from),
    ) else {
        return Err(KeylessError::NoIdToken);
    };
    let token = request_id_token(
        http,
        policy,
        clock.as_ref(),
        &url,
        &bearer,
        fulcio::AUDIENCE,
    )
    .await
    .map_err(KeylessError::IdToken)?;
    runner.mask(&token);
    let claims = fulcio::token_claims(&token).unwrap_or_default();
    let key = SigningKey::generate().map_err(FulcioError::Key)?;
    let client = FulcioClient::new(http.clone(), fulcio_url.clone(), *policy, clock);
    let chain = client
        .signing_certificate(&token, &key)
        .await?
        .iter()
        .map(|pem| Certificate::from_pem(pem))
        .collect::<Result<Vec<_>, _>>()
        .map_err(KeylessError::Chain)?;
    let certified = Certified::new(key, chain).ok_or(KeylessError::OtherKey)?;
    let now = hoist_runner::values::now_unix();
    let authority =
        certificate::verify_chain(certified.leaf(), root, now).map_err(KeylessError::Untrusted)?;
    if let Some(issuer) = authority.chain.first() {
        certificate::verify_embedded_scts(certified.leaf(), issuer, root)
            .map_err(KeylessError::Untrusted)?;
    }
    Ok(Certification { certified, claims })
}
