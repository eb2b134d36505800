//! The runner's OIDC token endpoint: `ACTIONS_ID_TOKEN_REQUEST_URL` plus
//! `&audience=…`, with `ACTIONS_ID_TOKEN_REQUEST_TOKEN` as the bearer. Jobs
//! get it with `permissions: id-token: write`.

use crate::body::read_capped;
use crate::retry::{Clock, RetryPolicy};
use crate::{HttpClient, HttpError};

/// The most of the endpoint's answer that is read: 1 MiB. The answer is
/// `{"value": "<JWT>"}` and GitHub's JWTs are a few KiB (a header, about
/// thirty claims, an RS256 signature), so a broken or hostile endpoint
/// costs at most this much memory. It is a whole MiB, not the 64 KiB that
/// would suffice, because [`HttpError::BodyTooLarge`] names its cap in
/// whole MiB.
pub const ANSWER_CAP: u64 = crate::body::MIB;

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
    let body = read_capped(response, ANSWER_CAP, "GitHub's OIDC token answer").await?;
    let body: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| IdTokenError::NoToken)?;
    body["value"]
        .as_str()
        .filter(|v| !v.is_empty())
        .map(String::from)
        .ok_or(IdTokenError::NoToken)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use hoist_testkit::standin::Chunk;
    use hoist_testkit::{Response, Router, StandIn, block_on};

    use super::*;
    use crate::{Environment, HttpOptions, ManualClock};

    fn ask(server: &StandIn) -> Result<String, IdTokenError> {
        let client = HttpClient::new(&HttpOptions::new("test", "0"), &Environment::new()).unwrap();
        let url = format!("{}/token?api-version=2.0", server.url());
        block_on(request_id_token(
            &client,
            &RetryPolicy::default(),
            &ManualClock::default(),
            &url,
            "bearer",
            "sts.amazonaws.com",
        ))
    }

    #[test]
    fn a_token_is_read() {
        let server = StandIn::start(Router::new().route("GET", "/token", |_| {
            Response::json(200, &serde_json::json!({ "value": "header.claims.sig" }))
        }));
        assert_eq!(ask(&server).unwrap(), "header.claims.sig");
    }

    #[test]
    fn an_endless_answer_stops_at_the_cap() {
        let server = StandIn::start(Router::new().route("GET", "/token", |_| {
            Response::new(200)
                .header("content-type", "application/json")
                .body(b"{\"value\": \"".to_vec())
                .stream(|| Chunk::Data(vec![b'x'; 64 * 1024]))
        }));
        let error = ask(&server).unwrap_err();
        assert!(
            matches!(
                &error,
                IdTokenError::Http(HttpError::BodyTooLarge {
                    cap: ANSWER_CAP,
                    ..
                })
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("GitHub's OIDC token answer"), "{message}");
        assert!(message.contains("larger than 1 MiB"), "{message}");
    }

    #[test]
    fn a_declared_oversized_answer_is_not_read() {
        let server = StandIn::start(Router::new().route("GET", "/token", |_| {
            Response::new(200).body(vec![b' '; ANSWER_CAP as usize + 1])
        }));
        let error = ask(&server).unwrap_err();
        assert!(
            matches!(
                &error,
                IdTokenError::Http(HttpError::BodyTooLarge {
                    cap: ANSWER_CAP,
                    ..
                })
            ),
            "{error:?}"
        );
    }
}
