//! A stand-in for GitHub's OIDC token service, as a job sees it: the
//! `ACTIONS_ID_TOKEN_REQUEST_URL` endpoint (bearer check, `audience`
//! parameter, `{"value": JWT}`), RS256 tokens with GitHub's claim set, and
//! the discovery document and JWKS a verifier reads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};

use crate::standin::{Response, Router, StandIn};

/// The issuer GitHub's tokens carry.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// hoist's reusable workflow as a caller's `uses:` names it: the
/// `job_workflow_ref` of every job it runs, whoever calls it.
pub const SHIP_WORKFLOW_REF: &str = "hoist-actions/hoist/.github/workflows/ship.yml@refs/tags/v1";

/// The stand-in's signing key: a fixed test key, so no test waits for RSA
/// key generation. It signs nothing but test tokens.
const SIGNING_KEY: &str = include_str!("fixtures/oidc-issuer-key.pem");

/// The key ID in token headers and the JWKS.
const KEY_ID: &str = "hoist-test-key";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct Issuer {
    key: RsaKeyPair,
    request_token: String,
    claims: BTreeMap<String, Value>,
    issued: Vec<String>,
    lifetime: i64,
}

impl Issuer {
    fn jwks(&self) -> Value {
        let public: RsaPublicKeyComponents<Vec<u8>> = self.key.public().into();
        json!({"keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID,
            "n": b64(&public.n),
            "e": b64(&public.e),
        }]})
    }

    fn mint(&mut self, audience: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut claims = self.claims.clone();
        claims.insert("aud".into(), json!(audience));
        claims.insert("iat".into(), json!(now));
        claims.insert("nbf".into(), json!(now - 5));
        claims.insert("exp".into(), json!(now as i64 + self.lifetime));
        claims.insert(
            "jti".into(),
            json!(format!("jti-{}", self.issued.len() + 1)),
        );
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": KEY_ID, "x5t": KEY_ID});
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(Value::from(serde_json::Map::from_iter(claims))
                .to_string()
                .as_bytes())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("RS256 signing");
        let token = format!("{signing_input}.{}", b64(&signature));
        self.issued.push(token.clone());
        token
    }
}

/// A running stand-in issuer.
pub struct OidcIssuer {
    server: StandIn,
    issuer: Arc<Mutex<Issuer>>,
}

impl Default for OidcIssuer {
    fn default() -> Self {
        Self::start()
    }
}

impl OidcIssuer {
    /// Starts the issuer with the claims of a push to `main` in `acme/shop`
    /// running `.github/workflows/ci.yaml` (the sandbox's defaults).
    pub fn start() -> Self {
        let key_der =
            PrivatePkcs8KeyDer::from_pem_slice(SIGNING_KEY.as_bytes()).expect("test key PEM");
        let key = RsaKeyPair::from_pkcs8(key_der.secret_pkcs8_der()).expect("test key");
        let claims = [
            ("iss", GITHUB_ISSUER),
            ("sub", "repo:acme/shop:ref:refs/heads/main"),
            ("ref", "refs/heads/main"),
            ("ref_type", "branch"),
            ("sha", "0123456789abcdef0123456789abcdef01234567"),
            ("repository", "acme/shop"),
            ("repository_id", "690517211"),
            ("repository_owner", "acme"),
            ("repository_owner_id", "1342004"),
            ("repository_visibility", "private"),
            ("run_id", "4242"),
            ("run_number", "7"),
            ("run_attempt", "1"),
            ("actor", "octocat"),
            ("event_name", "push"),
            ("workflow", "ci"),
            (
                "workflow_ref",
                "acme/shop/.github/workflows/ci.yaml@refs/heads/main",
            ),
            (
                "job_workflow_ref",
                "acme/shop/.github/workflows/ci.yaml@refs/heads/main",
            ),
            ("workflow_sha", "0123456789abcdef0123456789abcdef01234567"),
            (
                "job_workflow_sha",
                "0123456789abcdef0123456789abcdef01234567",
            ),
            ("runner_environment", "github-hosted"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
        let issuer = Arc::new(Mutex::new(Issuer {
            key,
            request_token: format!("request-token-{}", std::process::id()),
            claims,
            issued: Vec::new(),
            lifetime: 300,
        }));
        let (for_token, for_jwks) = (Arc::clone(&issuer), Arc::clone(&issuer));
        let router = Router::new()
            .route("GET", "/token", move |request| {
                let mut issuer = for_token.lock().unwrap();
                let expected = format!("Bearer {}", issuer.request_token);
                if !request.header("authorization").is_some_and(|got| got.eq_ignore_ascii_case(&expected)) {
                    return Response::json(401, &json!({"message": "Bad credentials"}));
                }
                let owner = issuer.claims.get("repository_owner").and_then(Value::as_str).unwrap_or("acme").to_owned();
                let audience = request.query_param("audience").unwrap_or_else(|| format!("https://github.com/{owner}"));
                let token = issuer.mint(&audience);
                Response::json(200, &json!({"count": 1, "value": token}))
            })
            .route("GET", "/.well-known/jwks", move |_| Response::json(200, &for_jwks.lock().unwrap().jwks()))
            .route("GET", "/.well-known/openid-configuration", |_| {
                Response::json(
                    200,
                    &json!({
                        "issuer": GITHUB_ISSUER,
                        "jwks_uri": format!("{GITHUB_ISSUER}/.well-known/jwks"),
                        "response_types_supported": ["id_token"],
                        "subject_types_supported": ["public", "pairwise"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "environment", "job_workflow_ref"],
                    }),
                )
            });
        Self {
            server: StandIn::start(router),
            issuer,
        }
    }

    /// What the runner puts in `ACTIONS_ID_TOKEN_REQUEST_URL` (it already has
    /// a query string, as GitHub's does).
    pub fn request_url(&self) -> String {
        format!("{}/token?api-version=2.0", self.server.url())
    }

    /// What the runner puts in `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub fn request_token(&self) -> String {
        self.issuer.lock().unwrap().request_token.clone()
    }

    /// Sets or replaces a claim (`environment`, `sub`, …) in later tokens.
    pub fn set_claim(&self, name: &str, value: &str) {
        self.issuer
            .lock()
            .unwrap()
            .claims
            .insert(name.to_owned(), json!(value));
    }

    /// Makes later tokens those of a job in the reusable workflow `called`
    /// (`owner/repo/.github/workflows/FILE@REF`, such as
    /// [`SHIP_WORKFLOW_REF`]) called from `caller`'s (`owner/name`)
    /// `.github/workflows/ci.yaml` on a push to `main`: `job_workflow_ref`
    /// and `job_workflow_sha` are the called workflow's, while `repository`,
    /// its owner and IDs, `sub`, `ref`, `workflow_ref` and `event_name` are
    /// the caller's, as GitHub mints them.
    pub fn call_reusable_workflow(&self, caller: &str, called: &str) {
        let owner = caller.split('/').next().unwrap_or(caller);
        // Stable, distinct IDs per repository and owner.
        let id = |text: &str| {
            text.bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
                % 1_000_000_000
        };
        let claims = [
            ("sub", format!("repo:{caller}:ref:refs/heads/main")),
            ("ref", "refs/heads/main".to_owned()),
            ("ref_type", "branch".to_owned()),
            ("repository", caller.to_owned()),
            ("repository_id", id(caller).to_string()),
            ("repository_owner", owner.to_owned()),
            ("repository_owner_id", id(owner).to_string()),
            ("event_name", "push".to_owned()),
            ("workflow", "ci".to_owned()),
            (
                "workflow_ref",
                format!("{caller}/.github/workflows/ci.yaml@refs/heads/main"),
            ),
            ("job_workflow_ref", called.to_owned()),
            (
                "job_workflow_sha",
                "fedcba9876543210fedcba9876543210fedcba98".to_owned(),
            ),
        ];
        let mut issuer = self.issuer.lock().unwrap();
        for (name, value) in claims {
            issuer.claims.insert(name.to_owned(), json!(value));
        }
    }

    /// How long later tokens live, in seconds; a negative lifetime issues
    /// tokens that have already expired.
    pub fn set_lifetime(&self, seconds: i64) {
        self.issuer.lock().unwrap().lifetime = seconds;
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        self.issuer.lock().unwrap().jwks()
    }

    /// Every token issued so far.
    pub fn issued(&self) -> Vec<String> {
        self.issuer.lock().unwrap().issued.clone()
    }

    /// The server, for fault injection and request logs.
    pub fn server(&self) -> &StandIn {
        &self.server
    }
}

/// The claims of a compact JWT, without verifying it.
pub fn claims_of(token: &str) -> Value {
    token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}
