//! A GitHub App installed on the repository: the App JWT it signs (RS256,
//! checked against the public key the test configures), its installation,
//! and the installation tokens it mints (`ghs_…`, an hour long), which the
//! stand-in then accepts as [`TokenKind::App`] tokens.
//!
//! Wordings are GitHub's as observed, all 401: "A JSON web token could not
//! be decoded" (malformed, not RS256, a bad signature, an unknown issuer, or
//! no JWT at all), "'Expiration time' claim ('exp') must be a numeric value
//! representing the future time at which the assertion expires" (expired),
//! "'Expiration time' claim ('exp') is too far in the future" (more than ten
//! minutes from now, the server's clock), "'Issued at' claim ('iat') must be
//! an Integer representing the time that the assertion was issued" (not an
//! integer, or more than a minute ahead). `iss` is the app id (a number or a
//! string) or the App's client id. Minting answers 422 "There is at least
//! one repository that does not exist or is not accessible to the parent
//! installation." and "The permissions requested are not granted to this
//! installation.".

use std::collections::BTreeMap;

use base64::Engine as _;
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};
use serde_json::{Map, Value, json};

use super::auth::{Token, TokenKind};
use super::statuses::user_json;
use super::{Answer, ApiError, Hub, body_object, iso8601, json_response, node_id, unix_now};
use crate::standin::Request;

/// A test App's private key, PKCS#1 (`BEGIN RSA PRIVATE KEY`) as GitHub
/// hands them out. It signs nothing but test JWTs.
pub const APP_PRIVATE_KEY_PEM: &str = include_str!("../fixtures/github-app-key.pem");

/// The public half of [`APP_PRIVATE_KEY_PEM`] (`BEGIN PUBLIC KEY`), for
/// [`GitHubStandIn::enable_app`](super::GitHubStandIn::enable_app).
pub const APP_PUBLIC_KEY_PEM: &str = include_str!("../fixtures/github-app-key.pub.pem");

/// The App's slug: its bot is `hoist-app[bot]`.
pub(super) const SLUG: &str = "hoist-app";

/// GitHub's 401 for anything that is not a JWT it can verify.
pub(super) const DECODE_FAILED: &str = "A JSON web token could not be decoded";
const EXPIRED: &str = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const TOO_LONG: &str = "'Expiration time' claim ('exp') is too far in the future";
const BAD_IAT: &str = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";

/// The permissions an installation has unless a test says otherwise.
const DEFAULT_PERMISSIONS: [(&str, &str); 6] = [
    ("contents", "write"),
    ("issues", "write"),
    ("members", "read"),
    ("metadata", "read"),
    ("pull_requests", "write"),
    ("statuses", "read"),
];

/// The App, as configured by the test.
#[derive(Debug, Clone)]
pub(super) struct App {
    pub(super) id: u64,
    /// PKCS#1 `RSAPublicKey`, DER.
    key: Vec<u8>,
    pub(super) installation: u64,
    pub(super) permissions: BTreeMap<String, String>,
}

impl App {
    /// An App with `public_key_pem` (`BEGIN PUBLIC KEY` or `BEGIN RSA
    /// PUBLIC KEY`), installed on the repository.
    pub(super) fn new(id: u64, public_key_pem: &str) -> Self {
        let key = match SubjectPublicKeyInfoDer::from_pem_slice(public_key_pem.as_bytes()) {
            Ok(spki) => rsa_key_of(spki.as_ref()).expect("an RSA public key"),
            Err(_) => pem_body(public_key_pem, "RSA PUBLIC KEY").expect("a public key PEM"),
        };
        Self {
            id,
            key,
            installation: 50_000_000 + id,
            permissions: DEFAULT_PERMISSIONS
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The client id `iss` may carry instead of the app id.
    pub(super) fn client_id(&self) -> String {
        format!("Iv23li{:014x}", self.id)
    }
}

/// The `subjectPublicKey` of an RSA SubjectPublicKeyInfo: SEQUENCE {
/// SEQUENCE { OID, NULL }, BIT STRING { 0, RSAPublicKey } }.
fn rsa_key_of(spki: &[u8]) -> Option<Vec<u8>> {
    let (_, body) = der_element(spki, 0x30)?;
    let (rest, _algorithm) = der_element(body, 0x30)?;
    let (_, bits) = der_element(rest, 0x03)?;
    bits.split_first()
        .filter(|(unused, _)| **unused == 0)
        .map(|(_, key)| key.to_vec())
}

/// One DER element of `tag` at the start of `input`: (what follows, its
/// contents).
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&length, rest) = rest.split_first()?;
    let (length, rest) = if length < 0x80 {
        (usize::from(length), rest)
    } else {
        let count = usize::from(length & 0x7f);
        let bytes = rest.get(..count)?;
        let length = bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (length, &rest[count..])
    };
    let contents = rest.get(..length)?;
    Some((&rest[length..], contents))
}

/// The DER inside a PEM block with `label`.
fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let inside = pem.split_once(&begin)?.1.split_once(&end)?.0;
    let compact: String = inside.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64url(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

/// Signs `claims` as an RS256 JWT with `private_key_pem` (PKCS#1 or
/// PKCS#8): what an action does with its App's key.
pub fn sign_app_jwt(private_key_pem: &str, claims: &Value) -> String {
    let key = match PrivateKeyDer::from_pem_slice(private_key_pem.as_bytes()).expect("a key PEM") {
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
        _ => panic!("an RSA key"),
    }
    .expect("an RSA key");
    let header = json!({"alg": "RS256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .expect("RS256 signing");
    format!("{input}.{}", b64url(&signature))
}

/// A JWT for `app_id` signed with [`APP_PRIVATE_KEY_PEM`], as GitHub's
/// docs recommend: issued a minute ago, expiring in nine minutes.
pub fn app_jwt(app_id: u64) -> String {
    let now = unix_now();
    sign_app_jwt(
        APP_PRIVATE_KEY_PEM,
        &json!({"iat": now - 60, "exp": now + 540, "iss": app_id.to_string()}),
    )
}

/// Whether a bearer token has a JWT's shape (three parts, a JSON header).
pub(super) fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.matches('.').count() == 2
}

/// The app id an App JWT speaks for, or GitHub's reason to refuse it.
pub(super) fn verify_jwt(token: &str, app: Option<&App>, now: u64) -> Result<u64, &'static str> {
    let app = app.ok_or(DECODE_FAILED)?;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(DECODE_FAILED);
    };
    let json = |part: &str| -> Option<Value> { serde_json::from_slice(&unb64url(part)?).ok() };
    let (header_json, claims) = (
        json(header).ok_or(DECODE_FAILED)?,
        json(payload).ok_or(DECODE_FAILED)?,
    );
    if header_json["alg"] != "RS256" {
        return Err(DECODE_FAILED);
    }
    let signature = unb64url(signature).ok_or(DECODE_FAILED)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &app.key)
        .verify(format!("{header}.{payload}").as_bytes(), &signature)
        .map_err(|_| DECODE_FAILED)?;
    let issuer = match &claims["iss"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err(DECODE_FAILED),
    };
    if issuer != app.id.to_string() && issuer != app.client_id() {
        return Err(DECODE_FAILED);
    }
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let iat = claims["iat"].as_i64().ok_or(BAD_IAT)?;
    if iat > now + 60 {
        return Err(BAD_IAT);
    }
    let exp = claims["exp"].as_f64().ok_or(EXPIRED)?;
    if exp <= now as f64 {
        return Err(EXPIRED);
    }
    if exp > (now + 600) as f64 {
        return Err(TOO_LONG);
    }
    Ok(app.id)
}

/// The installation, as `GET …/installation` answers it.
fn installation_json(hub: &Hub, app: &App) -> Value {
    let account = user_json(&hub.owner, "Organization");
    let base = hub.base();
    json!({
        "id": app.installation,
        "client_id": app.client_id(),
        "account": account,
        "repository_selection": "selected",
        "access_tokens_url": format!("{base}/app/installations/{}/access_tokens", app.installation),
        "repositories_url": format!("{base}/installation/repositories"),
        "html_url": format!("https://github.com/organizations/{}/settings/installations/{}", hub.owner, app.installation),
        "app_id": app.id,
        "app_slug": SLUG,
        "target_id": account["id"],
        "target_type": "Organization",
        "permissions": app.permissions,
        "events": ["pull_request", "push"],
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "single_file_name": null,
        "has_multiple_single_files": false,
        "single_file_paths": [],
        "suspended_by": null,
        "suspended_at": null,
    })
}

/// `GET /repos/{owner}/{repo}/installation` (App JWT).
pub(super) fn for_repository(hub: &Hub, _request: &Request) -> Answer {
    let app = hub.state().app.clone().ok_or_else(ApiError::not_found)?;
    Ok(json_response(200, &installation_json(hub, &app)))
}

/// `GET /app/installations/{installation_id}` (App JWT).
pub(super) fn get(hub: &Hub, request: &Request) -> Answer {
    let app = installation(hub, request)?;
    Ok(json_response(200, &installation_json(hub, &app)))
}

fn installation(hub: &Hub, request: &Request) -> Result<App, ApiError> {
    hub.state()
        .app
        .clone()
        .filter(|app| request.param("installation_id") == app.installation.to_string())
        .ok_or_else(ApiError::not_found)
}

/// `POST /app/installations/{installation_id}/access_tokens` (App JWT),
/// with an optional `{repositories, repository_ids, permissions}`: 201.
pub(super) fn mint(hub: &Hub, request: &Request) -> Answer {
    let app = installation(hub, request)?;
    let body = if request.body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        body_object(request)?
    };
    let names: Vec<String> = strings(&body, "repositories");
    let ids: Vec<u64> = body
        .get("repository_ids")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let unknown_repo = names.iter().any(|n| !n.eq_ignore_ascii_case(&hub.repo))
        || ids.iter().any(|id| *id != super::REPO_ID);
    if unknown_repo {
        return Err(ApiError::unprocessable(
            "There is at least one repository that does not exist or is not accessible to the parent installation.",
        ));
    }
    let permissions = match body.get("permissions").and_then(Value::as_object) {
        None => app.permissions.clone(),
        Some(asked) => {
            let mut granted = BTreeMap::new();
            for (name, level) in asked {
                let level = level.as_str().unwrap_or_default();
                let held = app.permissions.get(name).map(String::as_str);
                let ok = matches!(
                    (held, level),
                    (Some("write"), "read" | "write") | (Some("read"), "read")
                );
                if !ok {
                    return Err(ApiError::unprocessable(
                        "The permissions requested are not granted to this installation.",
                    ));
                }
                granted.insert(name.clone(), level.to_owned());
            }
            granted
        }
    };
    let token = format!("ghs_{}", random_alphanumeric(36));
    let expires_at = unix_now() + 3600;
    let mut state = hub.state();
    state.tokens.insert(
        token.clone(),
        Token {
            kind: TokenKind::App,
            permissions: Some(permissions.clone()),
            expires_at: Some(expires_at),
        },
    );
    state.minted.push(token.clone());
    drop(state);
    let mut answer = json!({
        "token": token,
        "expires_at": iso8601(i64::try_from(expires_at).unwrap_or(0)),
        "permissions": permissions,
        "repository_selection": "selected",
    });
    if !names.is_empty() || !ids.is_empty() {
        let full_name = format!("{}/{}", hub.owner, hub.repo);
        answer["repositories"] = json!([{
            "id": super::REPO_ID,
            "node_id": node_id("010", "Repository", &full_name),
            "name": hub.repo,
            "full_name": full_name,
            "private": true,
        }]);
    }
    Ok(json_response(201, &answer))
}

fn strings(body: &Map<String, Value>, name: &str) -> Vec<String> {
    body.get(name)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// `count` random ASCII letters and digits.
fn random_alphanumeric(count: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0; count];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("random bytes");
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        App::new(42, APP_PUBLIC_KEY_PEM)
    }

    fn jwt(claims: Value) -> String {
        sign_app_jwt(APP_PRIVATE_KEY_PEM, &claims)
    }

    #[test]
    fn the_fixture_keys_match_and_claims_are_checked() {
        let now = 1_700_000_000;
        let verify = |claims: Value| verify_jwt(&jwt(claims), Some(&app()), now);
        assert_eq!(
            verify(json!({"iat": now - 60, "exp": now + 600, "iss": 42})),
            Ok(42)
        );
        assert_eq!(
            verify(json!({"iat": now, "exp": now + 60, "iss": "42"})),
            Ok(42)
        );
        let client = app().client_id();
        assert_eq!(
            verify(json!({"iat": now, "exp": now + 60, "iss": client})),
            Ok(42)
        );
        assert_eq!(
            verify(json!({"iat": now, "exp": now + 60, "iss": 43})),
            Err(DECODE_FAILED)
        );
        assert_eq!(
            verify(json!({"iat": now - 700, "exp": now - 1, "iss": 42})),
            Err(EXPIRED)
        );
        assert_eq!(
            verify(json!({"iat": now, "exp": now + 601, "iss": 42})),
            Err(TOO_LONG)
        );
        assert_eq!(
            verify(json!({"iat": now + 120, "exp": now + 300, "iss": 42})),
            Err(BAD_IAT)
        );
        assert_eq!(
            verify(json!({"iat": "now", "exp": now + 300, "iss": 42})),
            Err(BAD_IAT)
        );
        assert_eq!(verify_jwt("eyJ.x.y", Some(&app()), now), Err(DECODE_FAILED));
        let token = jwt(json!({"iat": now, "exp": now + 60, "iss": 42}));
        assert_eq!(verify_jwt(&token, None, now), Err(DECODE_FAILED));
        let (head, _) = token.rsplit_once('.').unwrap();
        let forged = format!("{head}.{}", b64url(b"not a signature"));
        assert_eq!(verify_jwt(&forged, Some(&app()), now), Err(DECODE_FAILED));
    }

    #[test]
    fn pkcs1_public_keys_are_read_too() {
        let spki = SubjectPublicKeyInfoDer::from_pem_slice(APP_PUBLIC_KEY_PEM.as_bytes()).unwrap();
        let pkcs1 = rsa_key_of(spki.as_ref()).unwrap();
        let pem = format!(
            "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&pkcs1)
        );
        assert_eq!(App::new(7, &pem).key, pkcs1);
    }
}
