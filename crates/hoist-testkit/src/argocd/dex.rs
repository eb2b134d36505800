//! Dex's token exchange (RFC 8693) as Argo CD bundles it at `/api/dex`: a
//! CI job trades its OIDC ID token for a token Argo CD accepts.
//!
//! The checks and answers are Dex's (`server/handlers.go`,
//! `grant_tokenexchange.go`): the public client `argo-cd-cli` (basic auth
//! with an empty secret, or `client_id`), the token-exchange grant, a
//! subject token type of `…:id_token` or `…:access_token`, a known
//! `connector_id`, then the subject token verified as the OIDC connector
//! does — RS256 signature against the issuer's JWKS, `iss`, `aud`, `exp`.
//! A bad subject token is Dex's bare `{"error":"access_denied"}` with 401.

use std::sync::Arc;

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde_json::{Value, json};

use super::{Access, Answer, Hub};
use crate::oidc::OidcIssuer;
use crate::standin::{Request, Response};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The client Argo CD's CLI is registered as in its bundled Dex.
const CLIENT_ID: &str = "argo-cd-cli";

/// The Dex a stand-in serves: which ID tokens it trusts.
#[derive(Debug, Clone)]
pub struct Dex {
    /// The subject token's `iss`.
    pub issuer: String,
    /// The subject token's `aud` (the connector's client ID; for GitHub's
    /// tokens, usually the Argo CD URL).
    pub audience: String,
    /// The `connector_id` requests must name.
    pub connector_id: String,
    /// The issuer's JWKS, whose RSA keys check signatures.
    pub jwks: Value,
    /// `expires_in` of the tokens issued, in seconds.
    pub lifetime: u64,
}

impl Dex {
    /// Trusts the tokens `issuer` mints for `audience`, through the
    /// connector `github`.
    pub fn trusting(issuer: &OidcIssuer, audience: &str) -> Self {
        Self {
            issuer: crate::oidc::GITHUB_ISSUER.to_owned(),
            audience: audience.to_owned(),
            connector_id: "github".to_owned(),
            jwks: issuer.jwks(),
            lifetime: 86_399,
        }
    }
}

/// Dex's error answer: `{"error", "error_description"?}`.
fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let mut body = json!({ "error": error });
    if !description.is_empty() {
        body["error_description"] = json!(description);
    }
    Response::json(status, &body)
}

/// `POST /api/dex/token`.
pub(super) fn token(hub: &Arc<Hub>, request: &Request) -> Answer {
    let mut state = hub.state();
    let Some(dex) = state.dex.clone() else {
        return Ok(Response::text(404, "404 page not found\n"));
    };
    let form = request.form();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    };
    if !client_is_cli(request, field("client_id")) {
        return Ok(oauth_error(
            401,
            "invalid_client",
            "Invalid client credentials.",
        ));
    }
    if field("grant_type") != TOKEN_EXCHANGE {
        return Ok(oauth_error(400, "unsupported_grant_type", ""));
    }
    if ![ID_TOKEN, ACCESS_TOKEN].contains(&field("subject_token_type")) {
        return Ok(oauth_error(
            400,
            "request_not_supported",
            "Invalid subject_token_type.",
        ));
    }
    let subject = field("subject_token");
    if subject.is_empty() {
        return Ok(oauth_error(400, "invalid_request", "Missing subject_token"));
    }
    if field("connector_id") != dex.connector_id {
        let why = "Requested connector does not exist.";
        return Ok(oauth_error(400, "invalid_request", why));
    }
    let requested = match field("requested_token_type") {
        "" => ACCESS_TOKEN,
        kind @ (ID_TOKEN | ACCESS_TOKEN) => kind,
        _ => {
            let why = "Invalid requested_token_type.";
            return Ok(oauth_error(400, "request_not_supported", why));
        }
    };
    let now = i64::try_from(crate::github::unix_now()).unwrap_or(0);
    let Some(claims) = verify(&dex, subject, now) else {
        return Ok(oauth_error(401, "access_denied", ""));
    };
    let base = hub.base.get().cloned().unwrap_or_default();
    let issued = mint(&base, &dex, &claims, now, state.issued.len());
    state.tokens.insert(issued.clone(), Access::All);
    state.issued.push(issued.clone());
    let body = json!({
        "access_token": issued,
        "issued_token_type": requested,
        "token_type": "bearer",
        "expires_in": dex.lifetime,
    });
    Ok(Response::json(200, &body)
        .header("cache-control", "no-store")
        .header("pragma", "no-cache"))
}

/// Basic auth `argo-cd-cli:` (any secret: the client is public) or a
/// `client_id` field.
fn client_is_cli(request: &Request, client_id: &str) -> bool {
    let basic = request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .map(|decoded| String::from_utf8_lossy(&decoded).into_owned());
    match basic {
        Some(pair) => pair.split(':').next() == Some(CLIENT_ID),
        None => client_id == CLIENT_ID,
    }
}

fn b64url(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

/// The claims of an RS256 JWT that `dex` trusts, or nothing.
fn verify(dex: &Dex, token: &str, now: i64) -> Option<Value> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return None;
    };
    let header: Value = serde_json::from_slice(&b64url(header)?).ok()?;
    if header["alg"] != "RS256" {
        return None;
    }
    let key = dex.jwks["keys"]
        .as_array()?
        .iter()
        .find(|key| header.get("kid").is_none_or(|kid| key["kid"] == *kid))?;
    let public = RsaPublicKeyComponents {
        n: b64url(key["n"].as_str()?)?,
        e: b64url(key["e"].as_str()?)?,
    };
    let signed = format!("{}.{}", parts[0], parts[1]);
    public
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &b64url(signature)?,
        )
        .ok()?;
    let claims: Value = serde_json::from_slice(&b64url(payload)?).ok()?;
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => *aud == dex.audience,
        Value::Array(auds) => auds.iter().any(|aud| *aud == dex.audience.as_str()),
        _ => false,
    };
    let fresh = claims["exp"].as_i64().is_some_and(|exp| exp > now)
        && claims["nbf"].as_i64().is_none_or(|nbf| nbf <= now + 60);
    (claims["iss"] == dex.issuer.as_str() && audience_ok && fresh).then_some(claims)
}

/// A Dex token for the subject of `claims`: a JWT whose `sub` and
/// `federated_claims` name the connector and the subject (its signature is
/// a placeholder; only this stand-in reads it).
fn mint(base: &str, dex: &Dex, claims: &Value, now: i64, serial: usize) -> String {
    let encode =
        |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let user = claims["sub"].as_str().unwrap_or_default();
    let header = json!({"alg": "RS256", "kid": "dex-stand-in", "typ": "JWT"});
    let payload = json!({
        "iss": format!("{base}/api/dex"),
        "sub": base64::engine::general_purpose::STANDARD.encode(format!("{user}\u{12}{}", dex.connector_id)),
        "aud": CLIENT_ID,
        "exp": now + i64::try_from(dex.lifetime).unwrap_or(0),
        "iat": now,
        "jti": format!("dex-{}", serial + 1),
        "federated_claims": {"connector_id": dex.connector_id, "user_id": user},
    });
    format!("{}.{}.c3RhbmQtaW4", encode(&header), encode(&payload))
}
