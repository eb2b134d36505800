//! A stand-in for Fulcio, Sigstore's certificate authority, speaking its
//! public v2 API: `POST /api/v2/signingCert` (the `publicKeyRequest` form:
//! a PEM public key and a proof of possession, the OIDC token as bearer;
//! the CSR form answers 400 here), `GET /api/v2/trustBundle` and
//! `GET /api/v2/configuration`.
//!
//! It checks what Fulcio checks — the token's RS256 signature against the
//! trusted issuer's JWKS, `aud` = `sigstore`, expiry, and the proof of
//! possession over `sub` (or `email`) — and answers failures as Fulcio's
//! gRPC gateway does (401 code 16, 400 code 3). It issues what Fulcio
//! issues for a GitHub Actions token: a 10-minute code-signing
//! certificate for the submitted key, an empty subject, the SAN
//! `https://github.com/{job_workflow_ref}`, the `1.3.6.1.4.1.57264.1.*`
//! extensions from the claims, and an embedded SCT from a test CT log
//! (RFC 6962). The CA (P-384 root and intermediate) and the CT log key are
//! fresh per stand-in. [`trusted_root`] describes it (with a Rekor
//! stand-in) as a Sigstore `trusted_root.json`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
    SerialNumber, SignatureAlgorithm,
};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _,
    RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde_json::{Value, json};

use crate::oidc::{GITHUB_ISSUER, OidcIssuer};
use crate::rekor::RekorStandIn;
use crate::standin::{Fault, Request, Response, Router, StandIn};

/// The SPKI DER prefix of an uncompressed P-256 point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Fulcio's OID arc for certificate extensions.
const FULCIO_ARC: [u64; 8] = [1, 3, 6, 1, 4, 1, 57264, 1];

/// RFC 6962's embedded SCT list extension.
const SCT_LIST_OID: [u64; 10] = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// How long an issued certificate is valid.
const VALIDITY: Duration = Duration::from_secs(600);

fn std_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn url_b64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// A P-256 public key rcgen can put into a certificate.
struct SubmittedKey(Vec<u8>);

impl PublicKeyData for SubmittedKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// A DER UTF8String.
fn utf8_string(text: &str) -> Vec<u8> {
    let mut der = vec![0x0c];
    der.extend(der_length(text.len()));
    der.extend_from_slice(text.as_bytes());
    der
}

/// A DER OCTET STRING.
fn octet_string(bytes: &[u8]) -> Vec<u8> {
    let mut der = vec![0x04];
    der.extend(der_length(bytes.len()));
    der.extend_from_slice(bytes);
    der
}

fn der_length(length: usize) -> Vec<u8> {
    match length {
        0..=0x7f => vec![length as u8],
        0x80..=0xff => vec![0x81, length as u8],
        _ => vec![0x82, (length >> 8) as u8, length as u8],
    }
}

/// The first element of a DER SEQUENCE, raw: a certificate's TBS.
fn tbs_of(certificate_der: &[u8]) -> Vec<u8> {
    let header = |bytes: &[u8]| -> (usize, usize) {
        let first = bytes[1];
        if first < 0x80 {
            return (2, usize::from(first));
        }
        let count = usize::from(first & 0x7f);
        let length = bytes[2..2 + count]
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (2 + count, length)
    };
    let (outer, _) = header(certificate_der);
    let inner = &certificate_der[outer..];
    let (head, length) = header(inner);
    inner[..head + length].to_vec()
}

struct Authority {
    root_pem: String,
    root_der: Vec<u8>,
    intermediate_pem: String,
    intermediate_der: Vec<u8>,
    intermediate_spki: Vec<u8>,
    intermediate: Issuer<'static, KeyPair>,
    ct_key: EcdsaKeyPair,
    ct_spki: Vec<u8>,
    jwks: Value,
    issued: Vec<String>,
}

impl Authority {
    fn new(jwks: Value) -> Self {
        let mut root_params = CertificateParams::default();
        root_params.distinguished_name = DistinguishedName::new();
        root_params
            .distinguished_name
            .push(DnType::OrganizationName, "hoist test");
        root_params
            .distinguished_name
            .push(DnType::CommonName, "sigstore");
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("P-384 key");
        let root = root_params
            .self_signed(&root_key)
            .expect("root certificate");
        let root_issuer = Issuer::new(root_params, root_key);

        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "hoist test");
        params
            .distinguished_name
            .push(DnType::CommonName, "sigstore-intermediate");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("P-384 key");
        let intermediate_spki = key.subject_public_key_info();
        let intermediate = params
            .signed_by(&key, &root_issuer)
            .expect("intermediate certificate");

        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("CT key");
        let ct_key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
                .expect("CT key");
        let mut ct_spki = P256_SPKI_PREFIX.to_vec();
        ct_spki.extend_from_slice(ct_key.public_key().as_ref());
        Self {
            root_pem: root.pem(),
            root_der: root.der().to_vec(),
            intermediate_pem: intermediate.pem(),
            intermediate_der: intermediate.der().to_vec(),
            intermediate_spki,
            intermediate: Issuer::new(params, key),
            ct_key,
            ct_spki,
            jwks,
            issued: Vec::new(),
        }
    }

    /// The token's claims, when Fulcio would accept it.
    fn verify_token(&self, token: &str) -> Option<Value> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        let header: Value = serde_json::from_slice(&url_b64_decode(header)?).ok()?;
        if header["alg"] != "RS256" {
            return None;
        }
        let key = self.jwks["keys"]
            .as_array()?
            .iter()
            .find(|k| header["kid"].is_null() || k["kid"] == header["kid"])?;
        let components = RsaPublicKeyComponents {
            n: url_b64_decode(key["n"].as_str()?)?,
            e: url_b64_decode(key["e"].as_str()?)?,
        };
        components
            .verify(
                &RSA_PKCS1_2048_8192_SHA256,
                format!("{}.{}", token.split('.').next()?, payload).as_bytes(),
                &url_b64_decode(signature)?,
            )
            .ok()?;
        let claims: Value = serde_json::from_slice(&url_b64_decode(payload)?).ok()?;
        let audience_ok = match &claims["aud"] {
            Value::String(aud) => aud == "sigstore",
            Value::Array(auds) => auds.iter().any(|a| a == "sigstore"),
            _ => false,
        };
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        (claims["iss"] == GITHUB_ISSUER && audience_ok && claims["exp"].as_u64()? > now)
            .then_some(claims)
    }

    /// Issues a certificate for `point` (an uncompressed P-256 point) and
    /// the token's `claims`, with an embedded SCT.
    fn issue(&mut self, point: Vec<u8>, claims: &Value) -> String {
        let claim = |name: &str| claims[name].as_str().map(str::to_owned);
        let identity = format!(
            "https://github.com/{}",
            claim("job_workflow_ref").unwrap_or_default()
        );
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names = vec![SanType::URI(
            identity.clone().try_into().expect("an IA5 identity"),
        )];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now;
        params.not_after = now + VALIDITY;
        let mut serial = [0u8; 16];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut serial).expect("random serial");
        serial[0] &= 0x7f;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let repository = claim("repository").unwrap_or_default();
        let extension = |n: u64, value: Option<String>, raw: bool| {
            value.map(|value| {
                let mut oid = FULCIO_ARC.to_vec();
                oid.push(n);
                let content = if raw {
                    value.into_bytes()
                } else {
                    utf8_string(&value)
                };
                CustomExtension::from_oid_content(&oid, content)
            })
        };
        let run = match (claim("run_id"), claim("run_attempt")) {
            (Some(id), Some(attempt)) => Some(format!(
                "https://github.com/{repository}/actions/runs/{id}/attempts/{attempt}"
            )),
            _ => None,
        };
        params.custom_extensions = [
            extension(1, claim("iss"), true),
            extension(2, claim("event_name"), true),
            extension(3, claim("sha"), true),
            extension(4, claim("workflow"), true),
            extension(5, claim("repository"), true),
            extension(6, claim("ref"), true),
            extension(8, claim("iss"), false),
            extension(9, Some(identity.clone()), false),
            extension(10, claim("job_workflow_sha"), false),
            extension(11, claim("runner_environment"), false),
            extension(12, Some(format!("https://github.com/{repository}")), false),
            extension(13, claim("sha"), false),
            extension(14, claim("ref"), false),
            extension(15, claim("repository_id"), false),
            extension(
                16,
                claim("repository_owner").map(|o| format!("https://github.com/{o}")),
                false,
            ),
            extension(17, claim("repository_owner_id"), false),
            extension(
                18,
                claim("workflow_ref").map(|w| format!("https://github.com/{w}")),
                false,
            ),
            extension(19, claim("workflow_sha"), false),
            extension(20, claim("event_name"), false),
            extension(21, run, false),
            extension(22, claim("repository_visibility"), false),
            extension(23, claim("environment"), false),
            extension(24, claim("sub"), false),
        ]
        .into_iter()
        .flatten()
        .collect();

        // The precertificate: the same TBS without the SCT extension.
        let key = SubmittedKey(point);
        let precertificate = params
            .signed_by(&key, &self.intermediate)
            .expect("precertificate");
        let sct = self.sct(&tbs_of(precertificate.der()));
        let mut list = (sct.len() as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&sct);
        let mut tls = (list.len() as u16).to_be_bytes().to_vec();
        tls.extend_from_slice(&list);
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &SCT_LIST_OID,
                octet_string(&tls),
            ));
        let certificate = params
            .signed_by(&key, &self.intermediate)
            .expect("certificate");
        let pem = certificate.pem();
        self.issued.push(pem.clone());
        pem
    }

    /// An RFC 6962 v1 SCT over the precertificate `tbs`.
    fn sct(&self, tbs: &[u8]) -> Vec<u8> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as u64;
        let mut signed = vec![0, 0];
        signed.extend_from_slice(&timestamp.to_be_bytes());
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&sha256(&self.intermediate_spki));
        signed.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
        signed.extend_from_slice(tbs);
        signed.extend_from_slice(&[0, 0]);
        let signature = self
            .ct_key
            .sign(&SystemRandom::new(), &signed)
            .expect("SCT signature");
        let mut sct = vec![0];
        sct.extend_from_slice(&sha256(&self.ct_spki));
        sct.extend_from_slice(&timestamp.to_be_bytes());
        sct.extend_from_slice(&[0, 0, 4, 3]);
        sct.extend_from_slice(&(signature.as_ref().len() as u16).to_be_bytes());
        sct.extend_from_slice(signature.as_ref());
        sct
    }
}

fn grpc_error(status: u16, code: u32, message: &str) -> Response {
    Response::json(
        status,
        &json!({"code": code, "message": message, "details": []}),
    )
}

fn signing_cert(authority: &Mutex<Authority>, request: &Request) -> Response {
    const TOKEN_ERROR: &str = "There was an error processing the identity token";
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let token = request
        .header("authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::to_owned)
        .or_else(|| {
            body["credentials"]["oidcIdentityToken"]
                .as_str()
                .map(str::to_owned)
        });
    let mut authority = authority.lock().expect("fulcio state");
    let Some(claims) = token.and_then(|t| authority.verify_token(&t)) else {
        return grpc_error(401, 16, TOKEN_ERROR);
    };
    if !body["certificateSigningRequest"].is_null() {
        return grpc_error(
            400,
            3,
            "this stand-in takes publicKeyRequest only, not a CSR",
        );
    }
    let request = &body["publicKeyRequest"];
    let Some(spki) = request["publicKey"]["content"].as_str().and_then(pem_body) else {
        return grpc_error(400, 3, "There was an error processing the public key");
    };
    let Some(point) = spki.strip_prefix(&P256_SPKI_PREFIX[..]).map(<[u8]>::to_vec) else {
        return grpc_error(
            400,
            3,
            "The public key supplied in the request could not be parsed",
        );
    };
    let subject = claims["email"]
        .as_str()
        .or(claims["sub"].as_str())
        .unwrap_or_default();
    let proof = request["proofOfPossession"]
        .as_str()
        .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
        .unwrap_or_default();
    if UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point)
        .verify(subject.as_bytes(), &proof)
        .is_err()
    {
        return grpc_error(
            400,
            3,
            "The signature supplied in the request could not be verified",
        );
    }
    let leaf = authority.issue(point, &claims);
    Response::json(
        201,
        &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
            leaf, authority.intermediate_pem, authority.root_pem,
        ]}}}),
    )
}

/// A running Fulcio stand-in.
pub struct FulcioStandIn {
    server: StandIn,
    authority: Arc<Mutex<Authority>>,
}

impl FulcioStandIn {
    /// Starts a Fulcio that trusts `issuer`'s tokens (as GitHub's issuer).
    pub fn start(issuer: &OidcIssuer) -> Self {
        let authority = Arc::new(Mutex::new(Authority::new(issuer.jwks())));
        let (for_cert, for_bundle) = (Arc::clone(&authority), Arc::clone(&authority));
        let router = Router::new()
            .route("POST", "/api/v2/signingCert", move |request| {
                signing_cert(&for_cert, request)
            })
            .route("GET", "/api/v2/trustBundle", move |_| {
                let authority = for_bundle.lock().expect("fulcio state");
                Response::json(
                    200,
                    &json!({"chains": [{"certificates": [
                        authority.intermediate_pem, authority.root_pem,
                    ]}]}),
                )
            })
            .route("GET", "/api/v2/configuration", |_| {
                Response::json(
                    200,
                    &json!({"issuers": [{
                        "issuerUrl": GITHUB_ISSUER,
                        "audience": "sigstore",
                        "challengeClaim": "sub",
                    }]}),
                )
            });
        Self {
            server: StandIn::start(router),
            authority,
        }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The root CA certificate, PEM.
    pub fn root_pem(&self) -> String {
        self.authority
            .lock()
            .expect("fulcio state")
            .root_pem
            .clone()
    }

    /// The intermediate CA certificate, PEM.
    pub fn intermediate_pem(&self) -> String {
        self.authority
            .lock()
            .expect("fulcio state")
            .intermediate_pem
            .clone()
    }

    /// The CT log's public key, SubjectPublicKeyInfo DER.
    pub fn ct_log_public_key_der(&self) -> Vec<u8> {
        self.authority.lock().expect("fulcio state").ct_spki.clone()
    }

    /// Every leaf certificate issued, PEM, in order.
    pub fn issued(&self) -> Vec<String> {
        self.authority.lock().expect("fulcio state").issued.clone()
    }

    /// Injects one fault.
    pub fn fault(&self, fault: Fault) {
        self.server.fault(fault);
    }

    /// Injects `count` faults.
    pub fn faults(&self, count: usize, fault: Fault) {
        self.server.faults(count, fault);
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The underlying stand-in.
    pub fn server(&self) -> &StandIn {
        &self.server
    }
}

/// A log entry of a trusted root: `baseUrl`, the key, its log ID.
fn log_entry(url: &str, spki: &[u8]) -> Value {
    json!({
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": std_b64(spki),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        },
        "logId": {"keyId": std_b64(&sha256(spki))},
    })
}

/// A Sigstore `trusted_root.json` for `fulcio` and `rekor`: the CA chain,
/// the Rekor log key and the CT log key.
pub fn trusted_root(fulcio: &FulcioStandIn, rekor: &RekorStandIn) -> Value {
    let authority = fulcio.authority.lock().expect("fulcio state");
    let rekor_spki = pem_body(&rekor.public_key_pem()).expect("Rekor's key PEM");
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [log_entry(&rekor.url(), &rekor_spki)],
        "certificateAuthorities": [{
            "subject": {"organization": "hoist test", "commonName": "sigstore"},
            "uri": fulcio.url(),
            "certChain": {"certificates": [
                {"rawBytes": std_b64(&authority.intermediate_der)},
                {"rawBytes": std_b64(&authority.root_der)},
            ]},
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        }],
        "ctlogs": [log_entry("https://ctfe.hoist.test", &authority.ct_spki)],
        "timestampAuthorities": [],
    })
}

/// sigstore-python's `--trust-config`: [`trusted_root`] plus a signing
/// config naming the stand-ins.
pub fn client_trust_config(fulcio: &FulcioStandIn, rekor: &RekorStandIn) -> Value {
    let service = |url: String| {
        json!({
            "url": url,
            "majorApiVersion": 1,
            "validFor": {"start": "2020-01-01T00:00:00Z"},
            "operator": "hoist.test",
        })
    };
    json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": trusted_root(fulcio, rekor),
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(fulcio.url())],
            "oidcUrls": [],
            "rekorTlogUrls": [service(rekor.url())],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        },
    })
}
