//! A front for moto's STS that does what moto does not: it verifies the web
//! identity token against the stand-in issuer's JWKS and each role's trust
//! policy, answers STS's error XML when it should, and forwards every valid
//! call to moto.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde_json::Value;

use crate::oidc::{GITHUB_ISSUER, OidcIssuer, claims_of};
use crate::peers::Moto;
use crate::standin::{Request, Response, Router, StandIn};

/// A role's trust policy for GitHub's tokens, as the documents write it:
/// `StringEquals` on `aud`, `StringLike` on `sub`.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    /// The audience the role accepts.
    pub audience: String,
    /// `sub` patterns (`*` and `?` wildcards), any of which admits.
    pub subjects: Vec<String>,
}

impl TrustPolicy {
    /// The policy the seed documents use: audience `sts.amazonaws.com`,
    /// subject `repo:ORG/REPO:ref:refs/heads/main`.
    pub fn main_branch(repository: &str) -> Self {
        Self {
            audience: "sts.amazonaws.com".into(),
            subjects: vec![format!("repo:{repository}:ref:refs/heads/main")],
        }
    }
}

/// An error STS can be told to answer with, instead of the real result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsFault {
    /// `IDPCommunicationError`: STS could not reach the identity provider.
    IdpCommunicationError,
    /// `InvalidIdentityToken` "Couldn't retrieve verification key…".
    VerificationKey,
    /// `Throttling`: rate exceeded.
    Throttling,
    /// `InternalFailure` with HTTP 500.
    InternalFailure,
}

struct Front {
    moto_url: String,
    /// The issuer's RSA public key, from its JWKS (`n`, `e`).
    jwks_key: (Vec<u8>, Vec<u8>),
    roles: BTreeMap<String, TrustPolicy>,
    faults: VecDeque<StsFault>,
    actions: Vec<String>,
}

/// A running STS front.
pub struct StsFront {
    server: StandIn,
    front: Arc<Mutex<Front>>,
}

impl StsFront {
    /// A front that trusts `issuer`'s keys and forwards to `moto`.
    pub fn start(issuer: &OidcIssuer, moto: &Moto) -> Self {
        let jwks = issuer.jwks();
        let key = &jwks["keys"][0];
        let decode = |field: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(key[field].as_str().unwrap_or_default())
                .expect("JWKS field")
        };
        let front = Arc::new(Mutex::new(Front {
            moto_url: moto.url(),
            jwks_key: (decode("n"), decode("e")),
            roles: BTreeMap::new(),
            faults: VecDeque::new(),
            actions: Vec::new(),
        }));
        let handler = Arc::clone(&front);
        let router = Router::new().route("POST", "/", move |request| handle(&handler, request));
        Self {
            server: StandIn::start(router),
            front,
        }
    }

    /// The endpoint, for `sts-endpoint`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Declares a role and its trust policy; unknown roles are refused.
    pub fn trust(&self, role_arn: &str, policy: TrustPolicy) {
        self.front
            .lock()
            .unwrap()
            .roles
            .insert(role_arn.to_owned(), policy);
    }

    /// Answers the next AssumeRoleWithWebIdentity with `fault`.
    pub fn fail_next(&self, fault: StsFault) {
        self.front.lock().unwrap().faults.push_back(fault);
    }

    /// The `Action` of every call received, in order.
    pub fn actions(&self) -> Vec<String> {
        self.front.lock().unwrap().actions.clone()
    }

    /// The server, for transport faults and request logs.
    pub fn server(&self) -> &StandIn {
        &self.server
    }
}

fn handle(front: &Mutex<Front>, request: &Request) -> Response {
    let form: BTreeMap<String, String> = request.form().into_iter().collect();
    let action = form.get("Action").cloned().unwrap_or_default();
    let mut state = front.lock().unwrap();
    state.actions.push(action.clone());
    if action == "AssumeRoleWithWebIdentity" {
        if let Some(fault) = state.faults.pop_front() {
            return match fault {
                StsFault::IdpCommunicationError => error(
                    400,
                    "IDPCommunicationError",
                    "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached. This is often a transient error caused by network conditions. Retry the request a limited number of times and wait between attempts. If the error persists, make sure that the IdP is available.",
                ),
                StsFault::VerificationKey => error(
                    400,
                    "InvalidIdentityToken",
                    "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
                ),
                StsFault::Throttling => error(400, "Throttling", "Rate exceeded"),
                StsFault::InternalFailure => {
                    error(500, "InternalFailure", "An internal error occurred")
                }
            };
        }
        if let Some(refusal) = check_web_identity(&state, &form) {
            return refusal;
        }
    }
    let moto_url = state.moto_url.clone();
    drop(state);
    crate::standin::forward(&moto_url, request)
}

/// What real STS would refuse, in the order it checks.
fn check_web_identity(front: &Front, form: &BTreeMap<String, String>) -> Option<Response> {
    let token = form
        .get("WebIdentityToken")
        .map(String::as_str)
        .unwrap_or_default();
    let role = form.get("RoleArn").map(String::as_str).unwrap_or_default();
    let session_ok = form.get("RoleSessionName").is_some_and(|name| {
        (2..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    });
    if !session_ok {
        return Some(error(
            400,
            "ValidationError",
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    if form
        .get("DurationSeconds")
        .and_then(|d| d.parse::<u64>().ok())
        .is_some_and(|d| !(900..=43_200).contains(&d))
    {
        return Some(error(
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let signature_ok = parts.len() == 3 && {
        let (n, e) = &front.jwks_key;
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap_or_default();
        RsaPublicKeyComponents { n, e }
            .verify(
                &RSA_PKCS1_2048_8192_SHA256,
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &signature,
            )
            .is_ok()
    };
    if !signature_ok {
        return Some(error(
            400,
            "InvalidIdentityToken",
            "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.",
        ));
    }
    let claims = claims_of(token);
    if claims["iss"] != GITHUB_ISSUER {
        return Some(error(
            400,
            "InvalidIdentityToken",
            &format!(
                "No OpenIDConnect provider found in your account for {}",
                claims["iss"].as_str().unwrap_or_default()
            ),
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    if claims["exp"].as_i64().is_none_or(|exp| exp < now) {
        return Some(error(
            400,
            "ExpiredTokenException",
            "Token expired: current date/time must be before the expiration date/time",
        ));
    }
    let Some(policy) = front.roles.get(role) else {
        return Some(not_authorized());
    };
    if claims["aud"].as_str() != Some(policy.audience.as_str()) {
        return Some(error(
            400,
            "InvalidIdentityToken",
            "Incorrect token audience",
        ));
    }
    let subject = claims["sub"].as_str().unwrap_or_default();
    if !policy
        .subjects
        .iter()
        .any(|pattern| string_like(pattern, subject))
    {
        return Some(not_authorized());
    }
    None
}

fn not_authorized() -> Response {
    error(
        403,
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
}

/// IAM's `StringLike`: `*` matches any run, `?` one character.
pub fn string_like(pattern: &str, value: &str) -> bool {
    fn matches(p: &[char], v: &[char]) -> bool {
        match (p.first(), v.first()) {
            (None, None) => true,
            (Some('*'), _) => matches(&p[1..], v) || (!v.is_empty() && matches(p, &v[1..])),
            (Some('?'), Some(_)) => matches(&p[1..], &v[1..]),
            (Some(a), Some(b)) if a == b => matches(&p[1..], &v[1..]),
            _ => false,
        }
    }
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    matches(&p, &v)
}

/// STS's error document.
fn error(status: u16, code: &str, message: &str) -> Response {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    let message = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Response::new(status).header("content-type", "text/xml").body(format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n</ErrorResponse>\n"
    ))
}

/// The value of `<tag>` in an STS XML answer.
pub fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}

/// The claims of the token in a recorded AssumeRoleWithWebIdentity call.
pub fn token_claims(request: &Request) -> Value {
    request
        .form()
        .into_iter()
        .find(|(k, _)| k == "WebIdentityToken")
        .map(|(_, t)| claims_of(&t))
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_wildcards() {
        assert!(string_like(
            "repo:acme/shop:*",
            "repo:acme/shop:ref:refs/heads/main"
        ));
        assert!(string_like(
            "repo:acme/shop:ref:refs/heads/mai?",
            "repo:acme/shop:ref:refs/heads/main"
        ));
        assert!(!string_like(
            "repo:acme/shop:ref:refs/heads/main",
            "repo:acme/shop:ref:refs/heads/dev"
        ));
        assert!(!string_like(
            "repo:acme/*:environment:prod",
            "repo:acme/shop:ref:refs/heads/main"
        ));
    }
}
