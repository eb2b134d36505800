//! A stand-in for Fulcio, Sigstore's certificate authority, speaking its
//! public v2 API (the HTTP gateway of `fulcio.proto`'s `CA` service):
//!
//! - `POST /api/v2/signingCert`: a `CreateSigningCertificateRequest`
//!   whose key comes as `publicKeyRequest` (a PEM public key and a proof of
//!   possession) and whose identity token comes as
//!   `credentials.oidcIdentityToken` or as `Authorization: Bearer`. The CSR
//!   form (`certificateSigningRequest`) is not supported by this stand-in
//!   and answers 400 (code 3). Answers 200 with
//!   `{"signedCertificateEmbeddedSct":{"chain":{"certificates":[leaf,
//!   intermediate, root]}}}` (PEM), as Fulcio's gateway does.
//! - `GET /api/v2/trustBundle`: `{"chains":[{"certificates":[intermediate,
//!   root]}]}`.
//! - `GET /api/v2/configuration`: the one trusted issuer, as an
//!   `OIDCIssuer` with every field (the gateway emits unpopulated ones).
//!
//! It checks what Fulcio checks, in Fulcio's order: the body decodes (or
//! 400 code 3 with a `proto:` message); the token's RS256 signature
//! verifies against the trusted issuer's JWKS, its `iss` is that issuer,
//! its `aud` holds `sigstore` and it has not expired (or 400 code 3 "There
//! was an error processing the identity token" — Fulcio answers token
//! failures with `InvalidArgument`, not `Unauthenticated`); the public key
//! parses (or 400 code 3 "The public key supplied in the request could not
//! be parsed"); the proof of possession is an ASN.1 ECDSA signature over
//! the token's `sub` (the challenge claim of a GitHub issuer) by that key
//! (or 400 code 3 "The signature supplied in the request could not be
//! verified"). Error bodies are the gateway's `{"code","message",
//! "details":[]}`. Only ECDSA P-256 and P-384 keys are accepted; other
//! keys Fulcio would take (RSA, Ed25519, P-521) answer 400 code 3 saying
//! this stand-in does not support them.
//!
//! It issues what Fulcio issues for a GitHub Actions token: a 10-minute
//! code-signing certificate for the submitted key, signed by the
//! intermediate (ECDSA P-384, SHA-384), with an empty subject, the critical
//! SAN URI `https://github.com/{job_workflow_ref}`, a critical key usage
//! (digital signature), the code-signing EKU, the `1.3.6.1.4.1.57264.1.*`
//! extensions from the claims (`.1`–`.6` raw, `.8`–`.24` DER UTF8Strings;
//! one whose claim is missing or empty is left out; for a reusable workflow
//! the SAN and `.9` are the called workflow's `job_workflow_ref`, while
//! `.5`/`.12` (repository), `.6`/`.14` (ref), `.18` (`workflow_ref`, the
//! caller's workflow file) and `.2`/`.20` (`event_name`) are the caller's,
//! see [`OidcIssuer::call_reusable_workflow`]) and, last, an embedded
//! SCT (RFC 6962 v1, `precert_entry`) from a test CT log. The CA (a P-384
//! root and a P-384 intermediate with path length 0) and the CT log key
//! (P-256) are fresh per stand-in. [`trusted_root`] describes it (with a
//! Rekor stand-in) as a Sigstore `trusted_root.json`, and
//! [`client_trust_config`] as sigstore-python's `--trust-config`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
    SerialNumber, SignatureAlgorithm,
};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1, EcdsaKeyPair,
    KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde_json::{Value, json};
use x509_cert::der::asn1::{AnyRef, ObjectIdentifier, OctetString, Utf8StringRef};
use x509_cert::der::{Decode as _, Encode as _, Header, SliceReader};
use x509_cert::spki::SubjectPublicKeyInfoRef;

use crate::oidc::{GITHUB_ISSUER, OidcIssuer};
use crate::rekor::RekorStandIn;
use crate::standin::{Fault, Request, Response, Router, StandIn};

/// The audience Fulcio requires of identity tokens (its OIDC client ID).
pub const AUDIENCE: &str = "sigstore";

/// The claim a GitHub token's proof of possession signs (Fulcio's
/// `challengeClaim` for a `ci-provider` issuer).
pub const CHALLENGE_CLAIM: &str = "sub";

/// Fulcio's OID arc for its certificate extensions (`docs/oid-info.md`).
pub const FULCIO_OID_ARC: &str = "1.3.6.1.4.1.57264.1";

/// RFC 6962's embedded SCT list extension.
pub const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";

/// Fulcio's messages (`pkg/server/error.go`).
const INVALID_IDENTITY_TOKEN: &str = "There was an error processing the identity token";
const INVALID_SIGNATURE: &str = "The signature supplied in the request could not be verified";
const INVALID_PUBLIC_KEY: &str = "The public key supplied in the request could not be parsed";
const INSECURE_PUBLIC_KEY: &str = "The public key supplied in the request is insecure";

/// gRPC's `InvalidArgument`, which the gateway answers as HTTP 400.
const INVALID_ARGUMENT: u32 = 3;

/// How long an issued certificate is valid (Fulcio's `MakeX509`).
const VALIDITY: Duration = Duration::from_secs(600);

/// How far before the stand-in's start its keys are declared valid in the
/// trusted root.
const VALID_BEFORE_START: Duration = Duration::from_secs(24 * 3600);

/// The base of the URIs Fulcio builds for GitHub (`url` in its config).
const GITHUB_URL: &str = "https://github.com";

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP224R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.33");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

fn std_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Base64 in any of the forms protojson accepts for `bytes`: standard or
/// URL-safe, padded or not.
fn any_b64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
        .ok()
}

fn url_b64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

fn oid_arcs(dotted: &str) -> Vec<u64> {
    dotted
        .split('.')
        .map(|arc| arc.parse().expect("a numeric OID arc"))
        .collect()
}

/// The DER in the first PEM block labelled `label`.
fn pem_decode(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let (_, rest) = pem.split_once(&begin)?;
    let (inside, _) = rest.split_once(&end)?;
    let compact: String = inside.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = std_b64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// `2026-01-02T03:04:05Z`.
fn rfc3339(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The raw `tbsCertificate` element of a DER certificate.
fn tbs_of(certificate_der: &[u8]) -> Vec<u8> {
    let mut reader = SliceReader::new(certificate_der).expect("certificate DER");
    Header::decode(&mut reader).expect("a certificate SEQUENCE");
    AnyRef::decode(&mut reader)
        .and_then(|tbs| tbs.to_der())
        .expect("a TBS certificate")
}

/// The curves this stand-in takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

/// A submitted public key: an uncompressed point on a supported curve.
struct SubmittedKey {
    curve: Curve,
    point: Vec<u8>,
}

impl PublicKeyData for SubmittedKey {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self.curve {
            Curve::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Curve::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

impl SubmittedKey {
    /// Parses `content` as Fulcio does (PEM `PUBLIC KEY`, else DER), then
    /// keeps what this stand-in supports.
    fn parse(content: &str) -> Result<Self, Response> {
        let der = if content.contains("-----BEGIN") {
            pem_decode(content, "PUBLIC KEY")
        } else if content.is_empty() {
            None
        } else {
            Some(content.as_bytes().to_vec())
        };
        let unparsable = || grpc_error(400, INVALID_ARGUMENT, INVALID_PUBLIC_KEY);
        let der = der.ok_or_else(unparsable)?;
        let spki = SubjectPublicKeyInfoRef::from_der(&der).map_err(|_| unparsable())?;
        let unsupported = |what: &str| {
            grpc_error(
                400,
                INVALID_ARGUMENT,
                &format!(
                    "{what} keys are not supported by this stand-in (it takes ECDSA P-256 and P-384)"
                ),
            )
        };
        match spki.algorithm.oid {
            ID_EC_PUBLIC_KEY => {}
            RSA_ENCRYPTION => return Err(unsupported("RSA")),
            ED25519 => return Err(unsupported("Ed25519")),
            _ => return Err(unparsable()),
        }
        let curve = spki
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or_else(unparsable)?;
        let (curve, length) = match curve {
            SECP256R1 => (Curve::P256, 65),
            SECP384R1 => (Curve::P384, 97),
            SECP521R1 => return Err(unsupported("ECDSA P-521")),
            // Go parses P-224 keys; Fulcio's key check then refuses them.
            SECP224R1 => return Err(grpc_error(400, INVALID_ARGUMENT, INSECURE_PUBLIC_KEY)),
            _ => return Err(unparsable()),
        };
        // Go parses uncompressed points only.
        let point = spki.subject_public_key.raw_bytes().to_vec();
        if point.first() != Some(&4) || point.len() != length {
            return Err(unparsable());
        }
        Ok(Self { curve, point })
    }

    /// Whether `signature` (ASN.1 DER) is this key's over `message`, with
    /// the curve's default hash (SHA-256 for P-256, SHA-384 for P-384), as
    /// sigstore's default verifier checks it.
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let algorithm = match self.curve {
            Curve::P256 => &ECDSA_P256_SHA256_ASN1,
            Curve::P384 => &ECDSA_P384_SHA384_ASN1,
        };
        UnparsedPublicKey::new(algorithm, &self.point)
            .verify(message, signature)
            .is_ok()
    }
}

fn grpc_error(status: u16, code: u32, message: &str) -> Response {
    Response::json(
        status,
        &json!({"code": code, "message": message, "details": []}),
    )
}

/// What the gateway's protojson decoding makes of the body: the fields
/// this stand-in reads, or the 400 it answers.
struct Decoded {
    token: Option<String>,
    public_key: Option<String>,
    proof: Vec<u8>,
    csr: Vec<u8>,
}

/// A field by its JSON name or its proto name (protojson takes both).
fn field<'a>(object: &'a Value, json_name: &str, proto_name: &str) -> &'a Value {
    match &object[json_name] {
        Value::Null => &object[proto_name],
        found => found,
    }
}

fn decode_request(body: &[u8]) -> Result<Decoded, Response> {
    let proto_error = |message: String| grpc_error(400, INVALID_ARGUMENT, &message);
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| proto_error(format!("proto: syntax error: {e}")))?
    };
    if !request.is_object() {
        return Err(proto_error(
            "proto: syntax error: unexpected token, want an object".into(),
        ));
    }
    let object_field = |parent: &Value, json_name: &str, proto_name: &str| {
        let value = field(parent, json_name, proto_name).clone();
        match value {
            Value::Null | Value::Object(_) => Ok(value),
            _ => Err(proto_error(format!(
                "proto: invalid value for message field {json_name}"
            ))),
        }
    };
    let string_field = |parent: &Value, json_name: &str, proto_name: &str| match field(
        parent, json_name, proto_name,
    ) {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        _ => Err(proto_error(format!(
            "proto: invalid value for string field {json_name}"
        ))),
    };
    let bytes_field = |parent: &Value, json_name: &str, proto_name: &str| match field(
        parent, json_name, proto_name,
    ) {
        Value::Null => Ok(Vec::new()),
        Value::String(text) => any_b64(text).ok_or_else(|| {
            proto_error(format!("proto: invalid value for bytes field {json_name}"))
        }),
        _ => Err(proto_error(format!(
            "proto: invalid value for bytes field {json_name}"
        ))),
    };
    let credentials = object_field(&request, "credentials", "credentials")?;
    let key_request = object_field(&request, "publicKeyRequest", "public_key_request")?;
    let public_key = object_field(&key_request, "publicKey", "public_key")?;
    Ok(Decoded {
        token: string_field(&credentials, "oidcIdentityToken", "oidc_identity_token")?
            .filter(|t| !t.is_empty()),
        public_key: string_field(&public_key, "content", "content")?,
        proof: bytes_field(&key_request, "proofOfPossession", "proof_of_possession")?,
        csr: bytes_field(
            &request,
            "certificateSigningRequest",
            "certificate_signing_request",
        )?,
    })
}

/// A claim as Fulcio's templates see it: strings as they are, numbers and
/// booleans printed.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// A fresh P-384 key and the certificate parameters of a Sigstore CA.
fn ca_params(common_name: &str, is_ca: IsCa) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "hoist test");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = is_ca;
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("P-384 key");
    (params, key)
}

struct Authority {
    issuer_url: String,
    jwks: Value,
    root_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    intermediate_spki: Vec<u8>,
    intermediate: Issuer<'static, KeyPair>,
    ct_key: EcdsaKeyPair,
    ct_spki: Vec<u8>,
    /// When the trusted root says the keys became valid.
    valid_from: String,
    issued: Vec<String>,
    /// The precertificate TBS each SCT signed, in issue order.
    #[cfg_attr(not(test), allow(dead_code))]
    signed: Vec<Vec<u8>>,
}

impl Authority {
    fn new(issuer_url: &str, jwks: Value) -> Self {
        let (root_params, root_key) =
            ca_params("sigstore", IsCa::Ca(BasicConstraints::Unconstrained));
        let root = root_params
            .self_signed(&root_key)
            .expect("root certificate");
        let root_issuer = Issuer::new(root_params, root_key);

        let (mut params, key) = ca_params(
            "sigstore-intermediate",
            IsCa::Ca(BasicConstraints::Constrained(0)),
        );
        params.use_authority_key_identifier_extension = true;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
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
        let ct_spki = KeyPairSpki(ct_key.public_key().as_ref()).subject_public_key_info();
        Self {
            issuer_url: issuer_url.to_owned(),
            jwks,
            root_der: root.der().to_vec(),
            intermediate_der: intermediate.der().to_vec(),
            intermediate_spki,
            intermediate: Issuer::new(params, key),
            ct_key,
            ct_spki,
            valid_from: rfc3339(time::OffsetDateTime::now_utc() - VALID_BEFORE_START),
            issued: Vec::new(),
            signed: Vec::new(),
        }
    }

    fn root_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.root_der)
    }

    fn intermediate_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.intermediate_der)
    }

    /// Whether an RSA key of the JWKS made `signature` over `signed`.
    fn jwks_verifies(&self, kid: &Value, signed: &[u8], signature: &[u8]) -> bool {
        let keys = self.jwks["keys"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        keys.iter()
            .filter(|key| key["kty"] == "RSA" && (kid.is_null() || key["kid"] == *kid))
            .any(|key| {
                let (Some(n), Some(e)) = (
                    key["n"].as_str().and_then(url_b64_decode),
                    key["e"].as_str().and_then(url_b64_decode),
                ) else {
                    return false;
                };
                RsaPublicKeyComponents { n, e }
                    .verify(&RSA_PKCS1_2048_8192_SHA256, signed, signature)
                    .is_ok()
            })
    }

    /// The token's claims, when Fulcio would accept it: RS256 by a key of
    /// the issuer's JWKS, `iss` the trusted issuer, `aud` holding
    /// `sigstore`, not expired, not valid only in the future (go-oidc's
    /// checks, with its five minutes of leeway on `nbf`).
    fn verify_token(&self, token: &str) -> Option<Value> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts[..] else {
            return None;
        };
        let header: Value = serde_json::from_slice(&url_b64_decode(header_b64)?).ok()?;
        if header["alg"] != "RS256" {
            return None;
        }
        let signed = format!("{header_b64}.{payload_b64}");
        if !self.jwks_verifies(
            &header["kid"],
            signed.as_bytes(),
            &url_b64_decode(signature_b64)?,
        ) {
            return None;
        }
        let claims: Value = serde_json::from_slice(&url_b64_decode(payload_b64)?).ok()?;
        let audience_ok = match &claims["aud"] {
            Value::String(aud) => aud == AUDIENCE,
            Value::Array(auds) => auds.iter().any(|a| a == AUDIENCE),
            _ => false,
        };
        let now = unix_now();
        let fresh = claims["exp"].as_f64().is_some_and(|exp| now <= exp)
            && claims["nbf"].as_f64().is_none_or(|nbf| nbf <= now + 300.0);
        (claims["iss"] == self.issuer_url.as_str() && audience_ok && fresh).then_some(claims)
    }

    /// The `1.3.6.1.4.1.57264.1.*` extensions and the SAN for a GitHub
    /// token, as Fulcio's `github-workflow` CI provider templates make them.
    fn github_extensions(claims: &Value) -> Result<(String, Vec<CustomExtension>), Response> {
        let claim = |name: &str| claim_text(&claims[name]).filter(|v| !v.is_empty());
        let Some(job_workflow_ref) = claim("job_workflow_ref") else {
            return Err(grpc_error(
                400,
                INVALID_ARGUMENT,
                "template: executing \"\" at <.job_workflow_ref>: map has no entry for key \"job_workflow_ref\"",
            ));
        };
        let identity = format!("{GITHUB_URL}/{job_workflow_ref}");
        let url = |path: Option<String>| path.map(|p| format!("{GITHUB_URL}/{p}"));
        let run = match (claim("repository"), claim("run_id"), claim("run_attempt")) {
            (Some(repository), Some(id), Some(attempt)) => Some(format!(
                "{GITHUB_URL}/{repository}/actions/runs/{id}/attempts/{attempt}"
            )),
            _ => None,
        };
        let raw = [
            (1, claim("iss")),
            (2, claim("event_name")),
            (3, claim("sha")),
            (4, claim("workflow")),
            (5, claim("repository")),
            (6, claim("ref")),
        ];
        let utf8 = [
            (8, claim("iss")),
            (9, Some(identity.clone())),
            (10, claim("job_workflow_sha")),
            (11, claim("runner_environment")),
            (12, url(claim("repository"))),
            (13, claim("sha")),
            (14, claim("ref")),
            (15, claim("repository_id")),
            (16, url(claim("repository_owner"))),
            (17, claim("repository_owner_id")),
            (18, url(claim("workflow_ref"))),
            (19, claim("workflow_sha")),
            (20, claim("event_name")),
            (21, run),
            (22, claim("repository_visibility")),
            (23, claim("environment")),
            (24, claim("sub")),
        ];
        let oid = |n: u64| {
            let mut arcs = oid_arcs(FULCIO_OID_ARC);
            arcs.push(n);
            arcs
        };
        let raw = raw.into_iter().filter_map(|(n, value)| {
            value.map(|v| CustomExtension::from_oid_content(&oid(n), v.into_bytes()))
        });
        let utf8 = utf8.into_iter().filter_map(|(n, value)| {
            value.map(|v| {
                let der = Utf8StringRef::new(&v)
                    .and_then(|s| s.to_der())
                    .expect("a UTF8String");
                CustomExtension::from_oid_content(&oid(n), der)
            })
        });
        Ok((identity, raw.chain(utf8).collect()))
    }

    /// Issues a certificate for `key` and the token's `claims`, with an
    /// embedded SCT: the SCT signs the TBS of the same certificate without
    /// its SCT extension (the precertificate's TBS less the poison), and the
    /// SCT extension goes last, so a verifier that removes it gets back
    /// exactly what was signed.
    fn issue(&mut self, key: &SubmittedKey, claims: &Value) -> Result<String, Response> {
        let (identity, extensions) = Self::github_extensions(claims)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names = vec![SanType::URI(
            identity.try_into().expect("an IA5 identity URI"),
        )];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now;
        params.not_after = now + VALIDITY;
        let mut serial = [0u8; 20];
        SystemRandom::new()
            .fill(&mut serial)
            .expect("random serial");
        serial[0] = (serial[0] & 0x7f) | 0x01;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.custom_extensions = extensions;

        let precertificate = params
            .signed_by(key, &self.intermediate)
            .expect("precertificate");
        let tbs = tbs_of(precertificate.der());
        let sct = self.sct(&tbs);
        self.signed.push(tbs);
        let mut list = u16::try_from(sct.len())
            .expect("short SCT")
            .to_be_bytes()
            .to_vec();
        list.extend_from_slice(&sct);
        let mut tls = u16::try_from(list.len())
            .expect("short SCT list")
            .to_be_bytes()
            .to_vec();
        tls.extend_from_slice(&list);
        let value = OctetString::new(tls)
            .and_then(|o| o.to_der())
            .expect("SCT list OCTET STRING");
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &oid_arcs(SCT_LIST_OID),
                value,
            ));
        let certificate = params
            .signed_by(key, &self.intermediate)
            .expect("certificate");
        let pem = certificate.pem();
        self.issued.push(pem.clone());
        Ok(pem)
    }

    /// An RFC 6962 v1 SCT (`precert_entry`) over the precertificate `tbs`.
    fn sct(&self, tbs: &[u8]) -> Vec<u8> {
        let timestamp = u64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock after 1970")
                .as_millis(),
        )
        .expect("a 64-bit timestamp");
        let tbs_length = u32::try_from(tbs.len()).expect("a short TBS").to_be_bytes();
        let mut signed = vec![0, 0]; // v1, certificate_timestamp
        signed.extend_from_slice(&timestamp.to_be_bytes());
        signed.extend_from_slice(&[0, 1]); // precert_entry
        signed.extend_from_slice(&sha256(&self.intermediate_spki));
        signed.extend_from_slice(&tbs_length[1..]);
        signed.extend_from_slice(tbs);
        signed.extend_from_slice(&[0, 0]); // no extensions
        let signature = self
            .ct_key
            .sign(&SystemRandom::new(), &signed)
            .expect("SCT signature");
        let signature = signature.as_ref();
        let mut sct = vec![0]; // v1
        sct.extend_from_slice(&sha256(&self.ct_spki));
        sct.extend_from_slice(&timestamp.to_be_bytes());
        sct.extend_from_slice(&[0, 0]); // no extensions
        sct.extend_from_slice(&[4, 3]); // SHA-256, ECDSA
        sct.extend_from_slice(
            &u16::try_from(signature.len())
                .expect("short signature")
                .to_be_bytes(),
        );
        sct.extend_from_slice(signature);
        sct
    }
}

/// A P-256 point, to build its SubjectPublicKeyInfo with rcgen.
struct KeyPairSpki<'a>(&'a [u8]);

impl PublicKeyData for KeyPairSpki<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

fn signing_cert(authority: &Mutex<Authority>, request: &Request) -> Response {
    let decoded = match decode_request(&request.body) {
        Ok(decoded) => decoded,
        Err(refusal) => return refusal,
    };
    // The gateway passes `Authorization` on with its first "Bearer "
    // removed; a token in the body wins.
    let token = decoded.token.or_else(|| {
        request
            .header("authorization")
            .map(|value| value.replacen("Bearer ", "", 1))
    });
    let mut authority = authority.lock().expect("fulcio state");
    let Some(claims) = token.and_then(|t| authority.verify_token(&t)) else {
        return grpc_error(400, INVALID_ARGUMENT, INVALID_IDENTITY_TOKEN);
    };
    if !decoded.csr.is_empty() {
        return grpc_error(
            400,
            INVALID_ARGUMENT,
            "certificateSigningRequest is not supported by this stand-in: send publicKeyRequest",
        );
    }
    let key = match SubmittedKey::parse(decoded.public_key.as_deref().unwrap_or_default()) {
        Ok(key) => key,
        Err(refusal) => return refusal,
    };
    let challenge = claim_text(&claims[CHALLENGE_CLAIM]).unwrap_or_default();
    if !key.verifies(challenge.as_bytes(), &decoded.proof) {
        return grpc_error(400, INVALID_ARGUMENT, INVALID_SIGNATURE);
    }
    match authority.issue(&key, &claims) {
        Ok(leaf) => Response::json(
            200,
            &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
                leaf, authority.intermediate_pem(), authority.root_pem(),
            ]}}}),
        ),
        Err(refusal) => refusal,
    }
}

/// A running Fulcio stand-in with its own CA and CT log.
pub struct FulcioStandIn {
    server: StandIn,
    authority: Arc<Mutex<Authority>>,
}

impl FulcioStandIn {
    /// Starts a Fulcio that trusts `issuer`'s tokens: those whose `iss` is
    /// [`GITHUB_ISSUER`] and whose RS256 signature verifies against
    /// `issuer.jwks()`, read now.
    pub fn start(issuer: &OidcIssuer) -> Self {
        let authority = Arc::new(Mutex::new(Authority::new(GITHUB_ISSUER, issuer.jwks())));
        let state = |f: fn(&Mutex<Authority>, &Request) -> Response| {
            let authority = Arc::clone(&authority);
            move |request: &Request| f(&authority, request)
        };
        let router = Router::new()
            .route("POST", "/api/v2/signingCert", state(signing_cert))
            .route(
                "GET",
                "/api/v2/trustBundle",
                state(|authority, _| {
                    let authority = authority.lock().expect("fulcio state");
                    Response::json(
                        200,
                        &json!({"chains": [{"certificates": [
                            authority.intermediate_pem(), authority.root_pem(),
                        ]}]}),
                    )
                }),
            )
            .route(
                "GET",
                "/api/v2/configuration",
                state(|authority, _| {
                    let authority = authority.lock().expect("fulcio state");
                    Response::json(
                        200,
                        &json!({"issuers": [{
                            "issuerUrl": authority.issuer_url,
                            "audience": AUDIENCE,
                            "challengeClaim": CHALLENGE_CLAIM,
                            "spiffeTrustDomain": "",
                            "issuerType": "ci-provider",
                            "subjectDomain": "",
                            "skipEmailVerification": false,
                        }]}),
                    )
                }),
            );
        Self {
            server: StandIn::start(router),
            authority,
        }
    }

    fn authority(&self) -> std::sync::MutexGuard<'_, Authority> {
        self.authority.lock().expect("fulcio state")
    }

    /// The base URL (`--fulcio-url`), such as `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The root CA certificate (self-signed, P-384), PEM.
    pub fn root_pem(&self) -> String {
        self.authority().root_pem()
    }

    /// The intermediate CA certificate (P-384, path length 0, signed by the
    /// root), PEM: the issuer of every leaf.
    pub fn intermediate_pem(&self) -> String {
        self.authority().intermediate_pem()
    }

    /// The CT log's public key (P-256), PEM `PUBLIC KEY`.
    pub fn ct_log_public_key_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.authority().ct_spki)
    }

    /// The CT log's public key, SubjectPublicKeyInfo DER.
    pub fn ct_log_public_key_der(&self) -> Vec<u8> {
        self.authority().ct_spki.clone()
    }

    /// The CT log's ID: standard base64 of the SHA-256 of its key's
    /// SubjectPublicKeyInfo DER (a trusted root's `logId.keyId`; the SCTs
    /// carry the same 32 bytes).
    pub fn ct_log_id(&self) -> String {
        std_b64(&sha256(&self.authority().ct_spki))
    }

    /// Every leaf certificate issued so far, PEM, in order.
    pub fn issued(&self) -> Vec<String> {
        self.authority().issued.clone()
    }

    /// Injects `fault` into the next request.
    pub fn fault(&self, fault: Fault) {
        self.server.fault(fault);
    }

    /// Injects `fault` into each of the next `count` requests (an outage).
    pub fn faults(&self, count: usize, fault: Fault) {
        self.server.faults(count, fault);
    }

    /// Every request received so far, faulted ones included.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The server, for path-scoped faults.
    pub fn server(&self) -> &StandIn {
        &self.server
    }
}

/// A transparency or CT log entry of a trusted root.
fn log_entry(url: &str, spki: &[u8], valid_from: &str) -> Value {
    json!({
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": std_b64(spki),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": valid_from},
        },
        "logId": {"keyId": std_b64(&sha256(spki))},
    })
}

/// A Sigstore `TrustedRoot` (protobuf-specs JSON, media type
/// `application/vnd.dev.sigstore.trustedroot+json;version=0.1`) for
/// `fulcio` and `rekor`: Rekor's key as the one `tlogs` entry, Fulcio's
/// chain (intermediate, root) as the one `certificateAuthorities` entry,
/// Fulcio's CT log key as the one `ctlogs` entry, no timestamp
/// authorities. Every `validFor.start` is a day before the Fulcio stand-in
/// started, with no end; the same stand-ins always give the same root.
pub fn trusted_root(fulcio: &FulcioStandIn, rekor: &RekorStandIn) -> Value {
    let rekor_spki = pem_decode(&rekor.public_key_pem(), "PUBLIC KEY").expect("Rekor's key PEM");
    let url = fulcio.url();
    let authority = fulcio.authority();
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [log_entry(&rekor.url(), &rekor_spki, &authority.valid_from)],
        "certificateAuthorities": [{
            "subject": {"organization": "hoist test", "commonName": "sigstore"},
            "uri": url,
            "certChain": {"certificates": [
                {"rawBytes": std_b64(&authority.intermediate_der)},
                {"rawBytes": std_b64(&authority.root_der)},
            ]},
            "validFor": {"start": authority.valid_from},
        }],
        "ctlogs": [log_entry("https://ctfe.hoist.test", &authority.ct_spki, &authority.valid_from)],
        "timestampAuthorities": [],
    })
}

/// sigstore-python's `--trust-config` file (a `ClientTrustConfig`):
/// [`trusted_root`] plus a `signingConfig` (v0.2) that names the Fulcio
/// stand-in as its CA and the Rekor stand-in as its log (API version 1
/// each, as the public-good signing config names them), with no OIDC
/// provider and no timestamp authority.
pub fn client_trust_config(fulcio: &FulcioStandIn, rekor: &RekorStandIn) -> Value {
    let valid_from = fulcio.authority().valid_from.clone();
    let service = |url: String| {
        json!({
            "url": url,
            "majorApiVersion": 1,
            "validFor": {"start": valid_from},
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

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING;
    use x509_cert::Certificate;
    use x509_cert::ext::Extension;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

    const ECDSA_WITH_SHA384: &str = "1.2.840.10045.4.3.3";
    const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    const WORKFLOW_REF: &str = "acme/shop/.github/workflows/ci.yaml@refs/heads/main";

    struct World {
        issuer: OidcIssuer,
        fulcio: FulcioStandIn,
    }

    fn world() -> World {
        let issuer = OidcIssuer::start();
        let fulcio = FulcioStandIn::start(&issuer);
        World { issuer, fulcio }
    }

    /// A token from the OIDC stand-in, as a job asks for one.
    fn token(issuer: &OidcIssuer, audience: &str) -> String {
        crate::block_on(async {
            let answer: Value = crate::raw_client()
                .get(format!("{}&audience={audience}", issuer.request_url()))
                .bearer_auth(issuer.request_token())
                .send()
                .await
                .expect("token request")
                .json()
                .await
                .expect("token JSON");
            answer["value"].as_str().expect("a token").to_owned()
        })
    }

    /// A signer's ephemeral key and its PEM `PUBLIC KEY`.
    struct Signer {
        key: EcdsaKeyPair,
        pem: String,
    }

    impl Signer {
        fn new(curve: Curve) -> Self {
            let (algorithm, prefix) = match curve {
                Curve::P256 => (
                    &ECDSA_P256_SHA256_ASN1_SIGNING,
                    "3059301306072a8648ce3d020106082a8648ce3d030107034200",
                ),
                Curve::P384 => (
                    &ECDSA_P384_SHA384_ASN1_SIGNING,
                    "3076301006072a8648ce3d020106052b81040022036200",
                ),
            };
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(algorithm, &rng).expect("key");
            let key = EcdsaKeyPair::from_pkcs8(algorithm, pkcs8.as_ref(), &rng).expect("key");
            let spki = [&unhex(prefix)[..], key.public_key().as_ref()].concat();
            let pem = pem_encode("PUBLIC KEY", &spki);
            Self { key, pem }
        }

        fn proof(&self, text: &str) -> String {
            let signature = self
                .key
                .sign(&SystemRandom::new(), text.as_bytes())
                .expect("signature");
            std_b64(signature.as_ref())
        }

        fn body(&self, proof_over: &str) -> Value {
            json!({"publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": self.pem},
                "proofOfPossession": self.proof(proof_over),
            }})
        }
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// `POST /api/v2/signingCert` with `body` (raw bytes) and an optional
    /// bearer token.
    fn post_raw(fulcio: &FulcioStandIn, bearer: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        crate::block_on(async {
            let mut request = crate::raw_client()
                .post(format!("{}/api/v2/signingCert", fulcio.url()))
                .header("content-type", "application/json")
                .body(body);
            if let Some(token) = bearer {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("signingCert request");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        })
    }

    fn post(fulcio: &FulcioStandIn, bearer: Option<&str>, body: &Value) -> (u16, Value) {
        post_raw(fulcio, bearer, body.to_string().into_bytes())
    }

    fn get(fulcio: &FulcioStandIn, path: &str) -> Value {
        crate::block_on(async {
            let response = crate::raw_client()
                .get(format!("{}{path}", fulcio.url()))
                .send()
                .await
                .expect("GET");
            assert_eq!(response.status().as_u16(), 200);
            response.json().await.expect("JSON")
        })
    }

    /// The chain for a good request by a fresh P-256 signer.
    fn issue_chain(world: &World) -> Vec<String> {
        let token = token(&world.issuer, "sigstore");
        let signer = Signer::new(Curve::P256);
        let (status, answer) = post(
            &world.fulcio,
            Some(&token),
            &signer.body("repo:acme/shop:ref:refs/heads/main"),
        );
        assert_eq!(status, 200, "{answer}");
        answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
            .as_array()
            .expect("a chain")
            .iter()
            .map(|pem| pem.as_str().expect("PEM").to_owned())
            .collect()
    }

    fn certificate(pem: &str) -> Certificate {
        Certificate::from_der(&pem_decode(pem, "CERTIFICATE").expect("PEM")).expect("DER")
    }

    fn extension<'a>(certificate: &'a Certificate, oid: &str) -> Option<&'a Extension> {
        let oid = ObjectIdentifier::new(oid).expect("OID");
        certificate
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid)
    }

    /// The value of Fulcio extension `.n`: raw for `.1`–`.6`, a DER
    /// UTF8String from `.8` on.
    fn fulcio_value(certificate: &Certificate, n: u32) -> Option<String> {
        let ext = extension(certificate, &format!("{FULCIO_OID_ARC}.{n}"))?;
        assert!(!ext.critical);
        let bytes = ext.extn_value.as_bytes();
        Some(if n <= 6 {
            String::from_utf8(bytes.to_vec()).expect("raw UTF-8")
        } else {
            Utf8StringRef::from_der(bytes)
                .expect("a DER UTF8String")
                .as_str()
                .to_owned()
        })
    }

    /// Whether `child`'s signature (ECDSA P-384, SHA-384) is `parent`'s key's.
    fn signed_by(child: &Certificate, parent: &Certificate) -> bool {
        assert_eq!(
            child.signature_algorithm.oid,
            ObjectIdentifier::new_unwrap(ECDSA_WITH_SHA384)
        );
        let key = parent
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, key)
            .verify(
                &child.tbs_certificate.to_der().expect("TBS"),
                child.signature.raw_bytes(),
            )
            .is_ok()
    }

    #[test]
    fn a_github_token_gets_a_code_signing_chain_with_fulcios_extensions() {
        let world = world();
        let chain = issue_chain(&world);
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[1], world.fulcio.intermediate_pem());
        assert_eq!(chain[2], world.fulcio.root_pem());
        assert_eq!(world.fulcio.issued(), [chain[0].clone()]);
        let [leaf, intermediate, root] = [0, 1, 2].map(|i| certificate(&chain[i]));

        // The chain verifies up to the root.
        assert!(signed_by(&root, &root));
        assert!(signed_by(&intermediate, &root));
        assert!(signed_by(&leaf, &intermediate));
        assert!(!signed_by(&leaf, &root));
        let (_, constraints) = intermediate
            .tbs_certificate
            .get::<BasicConstraints>()
            .expect("extensions")
            .expect("basic constraints");
        assert!(constraints.ca);
        assert_eq!(constraints.path_len_constraint, Some(0));
        let (_, constraints) = root
            .tbs_certificate
            .get::<BasicConstraints>()
            .expect("extensions")
            .expect("basic constraints");
        assert!(constraints.ca);
        assert_eq!(
            leaf.tbs_certificate.issuer,
            intermediate.tbs_certificate.subject
        );

        // The leaf: empty subject, critical SAN, KU, EKU, ten minutes.
        assert!(leaf.tbs_certificate.subject.0.is_empty());
        let (critical, san) = leaf
            .tbs_certificate
            .get::<SubjectAltName>()
            .expect("extensions")
            .expect("a SAN");
        assert!(critical);
        let identity = format!("https://github.com/{WORKFLOW_REF}");
        match &san.0[..] {
            [GeneralName::UniformResourceIdentifier(uri)] => assert_eq!(uri.as_str(), identity),
            other => panic!("SAN {other:?}"),
        }
        let (critical, usage) = leaf
            .tbs_certificate
            .get::<KeyUsage>()
            .expect("extensions")
            .expect("key usage");
        assert!(critical);
        assert!(usage.digital_signature());
        assert!(!usage.key_cert_sign());
        let (_, eku) = leaf
            .tbs_certificate
            .get::<ExtendedKeyUsage>()
            .expect("extensions")
            .expect("EKU");
        assert_eq!(eku.0, [ObjectIdentifier::new_unwrap(CODE_SIGNING)]);
        assert!(
            leaf.tbs_certificate
                .get::<BasicConstraints>()
                .expect("extensions")
                .is_none()
        );
        let validity = &leaf.tbs_certificate.validity;
        let lifetime =
            validity.not_after.to_unix_duration() - validity.not_before.to_unix_duration();
        assert_eq!(lifetime, VALIDITY);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
        assert!(validity.not_before.to_unix_duration() <= now);
        assert!(now - validity.not_before.to_unix_duration() < Duration::from_secs(60));

        // Fulcio's extensions from the claims.
        let expected = [
            (1, GITHUB_ISSUER.to_owned()),
            (2, "push".into()),
            (3, SHA.into()),
            (4, "ci".into()),
            (5, "acme/shop".into()),
            (6, "refs/heads/main".into()),
            (8, GITHUB_ISSUER.into()),
            (9, identity.clone()),
            (10, SHA.into()),
            (11, "github-hosted".into()),
            (12, "https://github.com/acme/shop".into()),
            (13, SHA.into()),
            (14, "refs/heads/main".into()),
            (15, "690517211".into()),
            (16, "https://github.com/acme".into()),
            (17, "1342004".into()),
            (18, format!("https://github.com/{WORKFLOW_REF}")),
            (19, SHA.into()),
            (20, "push".into()),
            (
                21,
                "https://github.com/acme/shop/actions/runs/4242/attempts/1".into(),
            ),
            (22, "private".into()),
            (24, "repo:acme/shop:ref:refs/heads/main".into()),
        ];
        for (n, value) in &expected {
            assert_eq!(
                fulcio_value(&leaf, *n).as_deref(),
                Some(value.as_str()),
                ".{n}"
            );
        }
        assert_eq!(fulcio_value(&leaf, 7), None);
        assert_eq!(fulcio_value(&leaf, 23), None, "no environment claim");

        // With an environment, `.23` appears.
        world.issuer.set_claim("environment", "production");
        let leaf = certificate(&issue_chain(&world)[0]);
        assert_eq!(fulcio_value(&leaf, 23).as_deref(), Some("production"));
    }

    #[test]
    fn a_reusable_workflow_call_is_certified_as_the_called_workflow_for_the_caller() {
        use crate::oidc::SHIP_WORKFLOW_REF;
        let world = world();
        world
            .issuer
            .call_reusable_workflow("bank-org/payments-api", SHIP_WORKFLOW_REF);
        let token = token(&world.issuer, "sigstore");
        let signer = Signer::new(Curve::P256);
        let (status, answer) = post(
            &world.fulcio,
            Some(&token),
            &signer.body("repo:bank-org/payments-api:ref:refs/heads/main"),
        );
        assert_eq!(status, 200, "{answer}");
        let leaf = certificate(
            answer["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
                .as_str()
                .expect("a leaf"),
        );
        let (_, san) = leaf
            .tbs_certificate
            .get::<SubjectAltName>()
            .expect("extensions")
            .expect("a SAN");
        let ship = format!("https://github.com/{SHIP_WORKFLOW_REF}");
        match &san.0[..] {
            [GeneralName::UniformResourceIdentifier(uri)] => assert_eq!(uri.as_str(), ship),
            other => panic!("SAN {other:?}"),
        }
        // The signer is the called workflow; the source, its ref, the
        // trigger and the build config are the caller's.
        let caller = "https://github.com/bank-org/payments-api";
        for (n, value) in [
            (2, "push".to_owned()),
            (5, "bank-org/payments-api".to_owned()),
            (6, "refs/heads/main".to_owned()),
            (9, ship.clone()),
            (10, "fedcba9876543210fedcba9876543210fedcba98".to_owned()),
            (12, caller.to_owned()),
            (14, "refs/heads/main".to_owned()),
            (16, "https://github.com/bank-org".to_owned()),
            (
                18,
                format!("{caller}/.github/workflows/ci.yaml@refs/heads/main"),
            ),
            (19, SHA.to_owned()),
            (20, "push".to_owned()),
            (21, format!("{caller}/actions/runs/4242/attempts/1")),
            (
                24,
                "repo:bank-org/payments-api:ref:refs/heads/main".to_owned(),
            ),
        ] {
            assert_eq!(
                fulcio_value(&leaf, n).as_deref(),
                Some(value.as_str()),
                ".{n}"
            );
        }
    }

    #[test]
    fn the_embedded_sct_signs_the_certificate_without_its_sct_extension() {
        let world = world();
        let chain = issue_chain(&world);
        let (leaf, intermediate) = (certificate(&chain[0]), certificate(&chain[1]));
        let extensions = leaf
            .tbs_certificate
            .extensions
            .as_ref()
            .expect("extensions");
        let sct_oid = ObjectIdentifier::new_unwrap(SCT_LIST_OID);
        let position = extensions
            .iter()
            .position(|e| e.extn_id == sct_oid)
            .expect("an SCT list");
        assert_eq!(position, extensions.len() - 1, "the SCT extension is last");
        assert!(!extensions[position].critical);

        // The TLS-encoded list inside the OCTET STRING: one SCT.
        let tls = OctetString::from_der(extensions[position].extn_value.as_bytes())
            .expect("an OCTET STRING")
            .into_bytes();
        let total = usize::from(u16::from_be_bytes([tls[0], tls[1]]));
        assert_eq!(total, tls.len() - 2);
        let length = usize::from(u16::from_be_bytes([tls[2], tls[3]]));
        assert_eq!(length, total - 2);
        let sct = &tls[4..];
        assert_eq!(sct[0], 0, "v1");
        let log_id = &sct[1..33];
        assert_eq!(std_b64(log_id), world.fulcio.ct_log_id());
        assert_eq!(log_id, sha256(&world.fulcio.ct_log_public_key_der()));
        let timestamp = &sct[33..41];
        assert_eq!(&sct[41..43], [0, 0], "no SCT extensions");
        assert_eq!(&sct[43..45], [4, 3], "SHA-256, ECDSA");
        let signature_length = usize::from(u16::from_be_bytes([sct[45], sct[46]]));
        let signature = &sct[47..];
        assert_eq!(signature.len(), signature_length);
        let millis = u64::from_be_bytes(timestamp.try_into().expect("8 bytes"));
        let not_before = leaf.tbs_certificate.validity.not_before.to_unix_duration();
        assert!(Duration::from_millis(millis) >= not_before);

        // Removing the SCT extension gives back the TBS that was signed.
        let mut precertificate = leaf.tbs_certificate.clone();
        precertificate
            .extensions
            .as_mut()
            .expect("extensions")
            .remove(position);
        let tbs = precertificate.to_der().expect("TBS");
        assert_eq!(world.fulcio.authority().signed, std::slice::from_ref(&tbs));

        // And the log's key verifies the SCT over it.
        let issuer_spki = intermediate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .expect("SPKI");
        let mut signed = vec![0, 0];
        signed.extend_from_slice(timestamp);
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&sha256(&issuer_spki));
        signed.extend_from_slice(&u32::try_from(tbs.len()).expect("short").to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&[0, 0]);
        let ct_spki = world.fulcio.ct_log_public_key_der();
        let ct_key = SubjectPublicKeyInfoRef::from_der(&ct_spki).expect("CT SPKI");
        let verify = |message: &[u8]| {
            UnparsedPublicKey::new(
                &ECDSA_P256_SHA256_ASN1,
                ct_key.subject_public_key.raw_bytes(),
            )
            .verify(message, signature)
            .is_ok()
        };
        assert!(verify(&signed));
        // Over the final TBS (SCT extension included) it does not.
        let final_tbs = leaf.tbs_certificate.to_der().expect("TBS");
        let mut wrong = signed[..47].to_vec();
        wrong.extend_from_slice(&u32::try_from(final_tbs.len()).expect("short").to_be_bytes()[1..]);
        wrong.extend_from_slice(&final_tbs);
        wrong.extend_from_slice(&[0, 0]);
        assert!(!verify(&wrong));
    }

    fn assert_refused(answer: &(u16, Value), message: &str) {
        assert_eq!(
            *answer,
            (400, json!({"code": 3, "message": message, "details": []})),
        );
    }

    #[test]
    fn tokens_fulcio_would_refuse_are_refused_as_fulcio_refuses_them() {
        let world = world();
        let signer = Signer::new(Curve::P256);
        let body = signer.body("repo:acme/shop:ref:refs/heads/main");

        let other_audience = token(&world.issuer, "sts.amazonaws.com");
        assert_refused(
            &post(&world.fulcio, Some(&other_audience), &body),
            "There was an error processing the identity token",
        );

        // A payload changed after signing (the audience made `sigstore`).
        let mut parts: Vec<String> = other_audience.split('.').map(str::to_owned).collect();
        let mut claims = crate::oidc::claims_of(&other_audience);
        claims["aud"] = json!("sigstore");
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
        assert_refused(
            &post(&world.fulcio, Some(&parts.join(".")), &body),
            INVALID_IDENTITY_TOKEN,
        );

        world.issuer.set_lifetime(-60);
        let expired = token(&world.issuer, "sigstore");
        assert_refused(
            &post(&world.fulcio, Some(&expired), &body),
            INVALID_IDENTITY_TOKEN,
        );
        world.issuer.set_lifetime(300);

        assert_refused(&post(&world.fulcio, None, &body), INVALID_IDENTITY_TOKEN);
        assert_refused(
            &post(&world.fulcio, Some("not.a.jwt"), &body),
            INVALID_IDENTITY_TOKEN,
        );
        assert!(world.fulcio.issued().is_empty());

        // The same request with a good token passes, in the header or in
        // `credentials`.
        let good = token(&world.issuer, "sigstore");
        assert_eq!(post(&world.fulcio, Some(&good), &body).0, 200);
        let mut in_body = body.clone();
        in_body["credentials"] = json!({"oidcIdentityToken": good});
        assert_eq!(post(&world.fulcio, None, &in_body).0, 200);
        assert_eq!(world.fulcio.issued().len(), 2);
    }

    #[test]
    fn a_key_or_proof_fulcio_would_refuse_is_refused() {
        let world = world();
        let good = token(&world.issuer, "sigstore");
        let signer = Signer::new(Curve::P256);

        // A proof over another subject, and a proof by another key.
        assert_refused(
            &post(
                &world.fulcio,
                Some(&good),
                &signer.body("repo:evil/fork:ref:refs/heads/main"),
            ),
            "The signature supplied in the request could not be verified",
        );
        let mut by_other = signer.body("repo:acme/shop:ref:refs/heads/main");
        by_other["publicKeyRequest"]["proofOfPossession"] =
            json!(Signer::new(Curve::P256).proof("repo:acme/shop:ref:refs/heads/main"));
        assert_refused(
            &post(&world.fulcio, Some(&good), &by_other),
            INVALID_SIGNATURE,
        );

        // Keys that do not parse.
        let mut no_key = signer.body("repo:acme/shop:ref:refs/heads/main");
        no_key["publicKeyRequest"]["publicKey"]["content"] =
            json!("-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n");
        assert_refused(
            &post(&world.fulcio, Some(&good), &no_key),
            "The public key supplied in the request could not be parsed",
        );
        assert_refused(
            &post(&world.fulcio, Some(&good), &json!({})),
            INVALID_PUBLIC_KEY,
        );

        // A body that is not a request, a CSR.
        let (status, answer) = post_raw(&world.fulcio, Some(&good), b"{not json".to_vec());
        assert_eq!((status, &answer["code"]), (400, &json!(3)), "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("proto:"))
        );
        let (status, answer) = post(
            &world.fulcio,
            Some(&good),
            &json!({"publicKeyRequest": {"publicKey": {"content": signer.pem}, "proofOfPossession": "%%%"}}),
        );
        assert_eq!((status, &answer["code"]), (400, &json!(3)), "{answer}");
        let (status, answer) = post(
            &world.fulcio,
            Some(&good),
            &json!({"certificateSigningRequest": std_b64(b"a CSR")}),
        );
        assert_eq!((status, &answer["code"]), (400, &json!(3)), "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|m| m.contains("not supported by this stand-in"))
        );
        assert!(world.fulcio.issued().is_empty());
        assert_eq!(world.fulcio.requests().len(), 7);
    }

    #[test]
    fn a_p384_key_gets_a_certificate_for_that_key() {
        let world = world();
        let good = token(&world.issuer, "sigstore");
        let signer = Signer::new(Curve::P384);
        let (status, answer) = post(
            &world.fulcio,
            Some(&good),
            &signer.body("repo:acme/shop:ref:refs/heads/main"),
        );
        assert_eq!(status, 200, "{answer}");
        let leaf = certificate(
            answer["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
                .as_str()
                .expect("leaf"),
        );
        let spki = leaf
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .expect("SPKI");
        assert_eq!(spki, pem_decode(&signer.pem, "PUBLIC KEY").expect("PEM"));
    }

    #[test]
    fn trust_bundle_and_configuration_describe_the_ca() {
        let world = world();
        assert_eq!(
            get(&world.fulcio, "/api/v2/trustBundle"),
            json!({"chains": [{"certificates": [
                world.fulcio.intermediate_pem(), world.fulcio.root_pem(),
            ]}]})
        );
        let configuration = get(&world.fulcio, "/api/v2/configuration");
        assert_eq!(configuration["issuers"][0]["issuerUrl"], GITHUB_ISSUER);
        assert_eq!(configuration["issuers"][0]["audience"], "sigstore");
        assert_eq!(configuration["issuers"][0]["challengeClaim"], "sub");
    }

    #[test]
    fn the_trusted_root_describes_fulcio_its_ct_log_and_rekor() {
        let world = world();
        let rekor = RekorStandIn::start();
        let root = trusted_root(&world.fulcio, &rekor);
        assert_eq!(root, trusted_root(&world.fulcio, &rekor), "stable");
        assert_eq!(
            root["mediaType"],
            "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
        );
        let b64_der = |pem: &str, label: &str| std_b64(&pem_decode(pem, label).expect("PEM"));

        let tlog = &root["tlogs"][0];
        assert_eq!(root["tlogs"].as_array().map(Vec::len), Some(1));
        assert_eq!(tlog["baseUrl"], rekor.url());
        assert_eq!(tlog["hashAlgorithm"], "SHA2_256");
        assert_eq!(
            tlog["publicKey"]["rawBytes"],
            b64_der(&rekor.public_key_pem(), "PUBLIC KEY")
        );
        assert_eq!(tlog["publicKey"]["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
        let key_id = base64::engine::general_purpose::STANDARD
            .decode(tlog["logId"]["keyId"].as_str().expect("keyId"))
            .expect("base64");
        assert_eq!(
            key_id
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            rekor.log_id()
        );

        let start = tlog["publicKey"]["validFor"]["start"]
            .as_str()
            .expect("start");
        let start = parse_rfc3339(start);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((now - start - 86_400).abs() < 60, "a day ago");

        let ca = &root["certificateAuthorities"][0];
        assert_eq!(ca["uri"], world.fulcio.url());
        assert_eq!(
            ca["subject"],
            json!({"organization": "hoist test", "commonName": "sigstore"})
        );
        assert_eq!(
            ca["certChain"]["certificates"],
            json!([
                {"rawBytes": b64_der(&world.fulcio.intermediate_pem(), "CERTIFICATE")},
                {"rawBytes": b64_der(&world.fulcio.root_pem(), "CERTIFICATE")},
            ])
        );
        assert_eq!(ca["validFor"], tlog["publicKey"]["validFor"]);

        let ctlog = &root["ctlogs"][0];
        assert_eq!(
            ctlog["publicKey"]["rawBytes"],
            b64_der(&world.fulcio.ct_log_public_key_pem(), "PUBLIC KEY")
        );
        assert_eq!(ctlog["publicKey"]["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
        assert_eq!(ctlog["logId"]["keyId"], world.fulcio.ct_log_id());
        assert_eq!(root["timestampAuthorities"], json!([]));

        let config = client_trust_config(&world.fulcio, &rekor);
        assert_eq!(config["trustedRoot"], root);
        let signing = &config["signingConfig"];
        assert_eq!(
            signing["mediaType"],
            "application/vnd.dev.sigstore.signingconfig.v0.2+json"
        );
        assert_eq!(signing["caUrls"][0]["url"], world.fulcio.url());
        assert_eq!(signing["rekorTlogUrls"][0]["url"], rekor.url());
        assert_eq!(signing["rekorTlogUrls"][0]["majorApiVersion"], 1);
    }

    /// Python's `cryptography` and sigstore-python, which share nothing with
    /// this module, check the chain, the SCT (against the trusted root's CT
    /// keyring) and the extensions, and load the client trust config.
    #[test]
    fn python_cryptography_and_sigstore_python_accept_the_certificates() {
        let python = crate::peers::require("python3", "the Debian package `python3`");
        let world = world();
        let rekor = RekorStandIn::start();
        let chain = issue_chain(&world);
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, pem) in ["leaf", "intermediate", "root"].iter().zip(&chain) {
            std::fs::write(dir.path().join(format!("{name}.pem")), pem).expect("write PEM");
        }
        std::fs::write(
            dir.path().join("config.json"),
            client_trust_config(&world.fulcio, &rekor).to_string(),
        )
        .expect("write config");
        let output = std::process::Command::new(python)
            .arg("-c")
            .arg(PYTHON_CHECK)
            .arg(dir.path())
            .output()
            .expect("python3 runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("ModuleNotFoundError"),
            "install the PyPI packages `cryptography==48.0.0` and `sigstore==4.5.1` \
             (`bash scripts/setup` does): {stderr}"
        );
        assert!(output.status.success(), "{stderr}");
        let seen: Value = serde_json::from_slice(&output.stdout).expect("JSON from Python");
        assert_eq!(
            seen["san"],
            json!([format!("https://github.com/{WORKFLOW_REF}")])
        );
        assert_eq!(seen["san_critical"], true);
        assert_eq!(seen["subject"], "");
        assert_eq!(seen["sct_log_id"], world.fulcio.ct_log_id());
        assert_eq!(seen["extensions"]["1.3.6.1.4.1.57264.1.1"], GITHUB_ISSUER);
        assert_eq!(
            seen["extensions"]["1.3.6.1.4.1.57264.1.8"],
            format!(
                "0c{:02x}{}",
                GITHUB_ISSUER.len(),
                hex(GITHUB_ISSUER.as_bytes())
            )
        );
        assert_eq!(seen["lifetime"], 600);
    }

    /// `2026-01-02T03:04:05Z` as Unix seconds.
    fn parse_rfc3339(text: &str) -> i64 {
        let numbers: Vec<i64> = text
            .strip_suffix('Z')
            .expect("UTC")
            .split(['-', 'T', ':'])
            .map(|n| n.parse().expect("a number"))
            .collect();
        let [year, month, day, hour, minute, second] = numbers[..] else {
            panic!("not RFC 3339: {text}");
        };
        let date = time::Date::from_calendar_date(
            i32::try_from(year).expect("year"),
            time::Month::try_from(u8::try_from(month).expect("month")).expect("month"),
            u8::try_from(day).expect("day"),
        )
        .expect("date");
        let time = time::Time::from_hms(
            u8::try_from(hour).expect("hour"),
            u8::try_from(minute).expect("minute"),
            u8::try_from(second).expect("second"),
        )
        .expect("time");
        time::PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    const PYTHON_CHECK: &str = r#"
import json, sys
from pathlib import Path
from cryptography import x509
from sigstore.models import ClientTrustConfig
from sigstore._internal.trust import KeyringPurpose
from sigstore._internal.sct import verify_sct

d = Path(sys.argv[1])
leaf, intermediate, root = (
    x509.load_pem_x509_certificate((d / f"{n}.pem").read_bytes())
    for n in ("leaf", "intermediate", "root")
)
root.verify_directly_issued_by(root)
intermediate.verify_directly_issued_by(root)
leaf.verify_directly_issued_by(intermediate)
assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
config = ClientTrustConfig.from_json((d / "config.json").read_text())
trusted = config.trusted_root
assert [c.fingerprint(leaf.signature_hash_algorithm) for c in trusted.get_fulcio_certs()] == [
    c.fingerprint(leaf.signature_hash_algorithm) for c in (intermediate, root)
]
verify_sct(leaf, [intermediate, root], trusted.ct_keyring(KeyringPurpose.VERIFY))
san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
assert usage.critical and usage.value.digital_signature
eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
assert list(eku) == [x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]
scts = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
extensions = {}
for ext in leaf.extensions:
    oid = ext.oid.dotted_string
    if oid.startswith("1.3.6.1.4.1.57264.1."):
        raw = ext.value.value
        extensions[oid] = raw.decode() if int(oid.rsplit(".", 1)[1]) <= 6 else raw.hex()
print(json.dumps({
    "san": san.value.get_values_for_type(x509.UniformResourceIdentifier),
    "san_critical": san.critical,
    "subject": leaf.subject.rfc4514_string(),
    "sct_log_id": __import__("base64").b64encode(list(scts)[0].log_id).decode(),
    "extensions": extensions,
    "lifetime": int((leaf.not_valid_after_utc - leaf.not_valid_before_utc).total_seconds()),
}))
"#;
}
