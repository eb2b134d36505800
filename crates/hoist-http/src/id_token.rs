//! The runner's OIDC token endpoint: `ACTIONS_ID_TOKEN_REQUEST_URL` plus
//! `&audience=…`, with `ACTIONS_ID_TOKEN_REQUEST_TOKEN` as the bearer. Jobs
//! get it with `permissions: id-token: write`.

use crate::retry::{Clock, RetryPolicy};
use crate::{HttpClient, HttpError};

/// The variable the runner sets to the token endpoint's URL.
pub const REQUEST_URL_VARIABLE: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// The variable holding the endpoint's bearer token.
pub const REQUEST_TOKEN_VARIABLE: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

/// Why no ID token came back.
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    /// The endpoint URL does not parse.
    #[error("`{REQUEST_URL_VARIABLE}` is not a URL")]
    BadUrl,
    /// The endpoint answered with an error status.
    #[error("GitHub's OIDC endpoint answered {status}")]
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// The answer holds no token.
    #[error("GitHub's OIDC endpoint answered without a token")]
    NoToken,
    /// The request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// Asks the endpoint at `url` (with `bearer`) for an ID token whose `aud`
/// is `audience`. The caller masks the token before printing anything.
pub async fn request_id_token(
    http: &HttpClient,
    policy: &RetryPolicy,
    clock: &dyn Clock,
    url: &str,
    bearer: &str,
    audience: &str,
) -> Result<String, IdTokenError> {
    let mut url = url::Url::parse(url).map_err(|_| IdTokenError::BadUrl)?;
    url.query_pairs_mut().append_pair("audience", audience);
    let response = http
        .send(policy, clock, |client| {
            client
                .get(url.clone())
                .bearer_auth(bearer)
                .header("accept", "application/json")
        })
        .await?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(IdTokenError::Refused { status });
    }
    let body: serde_json::Value = response.json().await.map_err(|_| IdTokenError::NoToken)?;
    body["value"]
        .as_str()
        .filter(|v| !v.is_empty())
        .map(String::from)
        .ok_or(IdTokenError::NoToken)
}
