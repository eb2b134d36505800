//! X.509 certificates as Fulcio issues them: the identity they certify
//! (SAN and the OIDC issuer extension), the chain to a trusted CA, and the
//! embedded SCT that proves the certificate was logged (RFC 6962).

use std::fmt;

use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};
use x509_cert::spki::ObjectIdentifier;

use crate::pem;
use crate::rekor::hex;
use crate::trust::{CertificateAuthority, Hash, TrustedRoot, VerifyingKey, key_id};

/// The PEM label of a certificate.
pub const CERTIFICATE_LABEL: &str = "CERTIFICATE";

const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// RFC 6962's embedded SCT list extension.
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// Fulcio's extensions are `1.3.6.1.4.1.57264.1.N`.
const FULCIO_ARC: &str = "1.3.6.1.4.1.57264.1";

/// Why a certificate is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The bytes are not an X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    Parse(String),
    /// No CA of the trusted root issued it.
    #[error(
        "the certificate (issued by `{issuer}`) does not chain to a CA of the trusted root valid \
         at {at}: tried {tried}"
    )]
    Untrusted {
        /// The certificate's issuer name.
        issuer: String,
        /// The signing time, RFC 3339.
        at: String,
        /// The CAs tried: each one's URI and issuing certificate.
        tried: String,
    },
    /// The certificate (or a CA's) was not valid at the signing time.
    #[error(
        "`{subject}` is valid from {not_before} to {not_after}, not at {at} (the signing time)"
    )]
    NotValidAt {
        /// The certificate's subject (or SAN).
        subject: String,
        /// The signing time, RFC 3339.
        at: String,
        /// Valid from, RFC 3339.
        not_before: String,
        /// Valid until, RFC 3339.
        not_after: String,
    },
    /// The leaf is not for code signing.
    #[error(
        "the certificate is not a code-signing certificate (no codeSigning extended key usage)"
    )]
    NotCodeSigning,
    /// A signature or key algorithm hoist does not verify with (RSA,
    /// ECDSA with SHA-512, other curves).
    #[error("{what} is not supported: hoist verifies ECDSA P-256/P-384 and Ed25519")]
    UnsupportedAlgorithm {
        /// What uses it, and the algorithm's OID.
        what: String,
    },
    /// The certificate carries no SCT.
    #[error("the certificate has no embedded SCT: nothing proves it was logged in a CT log")]
    NoSct,
    /// The SCT extension is not an RFC 6962 SCT list.
    #[error("the certificate's embedded SCT list is malformed: {0}")]
    MalformedSct(String),
    /// Every SCT is from a CT log the trusted root does not list (or not
    /// for the SCT's time).
    #[error(
        "the certificate's SCTs are from CT logs the trusted root does not list: log IDs {log_ids}"
    )]
    SctUnknownLog {
        /// The SCTs' log IDs, hex.
        log_ids: String,
    },
    /// An SCT from a CT log of the trusted root does not verify.
    #[error(
        "the certificate's SCT from CT log {log} does not verify: the certificate is not the one \
         the log saw"
    )]
    SctInvalid {
        /// The log's URL.
        log: String,
    },
}

impl CertificateError {
    /// What to change.
    pub fn hint(&self) -> String {
        const ROOT: &str = "pass `trusted-root` with the trusted_root.json of the Sigstore \
             instance that issued the certificate (leave it empty for the public-good instance)";
        match self {
            Self::Parse(_) => {
                "check that the signature's certificate is DER or a PEM `CERTIFICATE` block".into()
            }
            Self::Untrusted { .. } | Self::SctUnknownLog { .. } => ROOT.into(),
            Self::NotValidAt { .. } => "a Fulcio certificate is valid for 10 minutes and the \
                 signature must be logged within them: re-sign (a fresh certificate is issued); \
                 if a CA certificate expired, pass an up-to-date `trusted-root`"
                .into(),
            Self::NotCodeSigning => {
                "sign with a certificate from Fulcio (its extended key usage is codeSigning)".into()
            }
            Self::UnsupportedAlgorithm { .. } => "use a Sigstore instance whose CA and logs sign \
                 with ECDSA P-256/P-384 or Ed25519, as the public-good instance does"
                .into(),
            Self::NoSct | Self::MalformedSct(_) => "sign keyless with Fulcio, which embeds the \
                 SCT of the CT log in the certificate; certificates from a CA without certificate \
                 transparency are not accepted"
                .into(),
            Self::SctInvalid { .. } => "the certificate was altered after it was logged: do not \
                 trust this signature, re-sign the image"
                .into(),
        }
    }
}

/// A parsed certificate, with its DER.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    spki: Vec<u8>,
    inner: x509_cert::Certificate,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificate({})", self.name())
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses a DER certificate.
    pub fn from_der(der: Vec<u8>) -> Result<Self, CertificateError> {
        let inner = x509_cert::Certificate::from_der(&der)
            .map_err(|e| CertificateError::Parse(e.to_string()))?;
        let spki = inner
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| CertificateError::Parse(e.to_string()))?;
        Ok(Self { der, spki, inner })
    }

    /// The first `CERTIFICATE` block of `text`.
    pub fn from_pem(text: &str) -> Result<Self, CertificateError> {
        Self::chain_from_pem(text)?
            .into_iter()
            .next()
            .ok_or_else(|| CertificateError::Parse("no CERTIFICATE PEM block".into()))
    }

    /// Every `CERTIFICATE` block of `text`, in order.
    pub fn chain_from_pem(text: &str) -> Result<Vec<Self>, CertificateError> {
        pem::decode(text)
            .map_err(|e| CertificateError::Parse(e.to_string()))?
            .into_iter()
            .filter(|block| block.label == CERTIFICATE_LABEL)
            .map(|block| Self::from_der(block.der))
            .collect()
    }

    /// The DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as a PEM block.
    pub fn to_pem(&self) -> String {
        pem::encode(CERTIFICATE_LABEL, &self.der)
    }

    /// The subject, or the first SAN when the subject is empty (Fulcio's).
    pub fn name(&self) -> String {
        let subject = self.inner.tbs_certificate.subject.to_string();
        match subject.is_empty() {
            true => self
                .san_uris()
                .into_iter()
                .chain(self.san_emails())
                .next()
                .unwrap_or_default(),
            false => subject,
        }
    }

    /// The issuer's name.
    pub fn issuer_name(&self) -> String {
        self.inner.tbs_certificate.issuer.to_string()
    }

    /// Valid from (seconds since the Unix epoch).
    pub fn not_before(&self) -> i64 {
        let validity = &self.inner.tbs_certificate.validity;
        validity.not_before.to_unix_duration().as_secs() as i64
    }

    /// Valid until (seconds since the Unix epoch).
    pub fn not_after(&self) -> i64 {
        let validity = &self.inner.tbs_certificate.validity;
        validity.not_after.to_unix_duration().as_secs() as i64
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    fn extension(&self, oid: &ObjectIdentifier) -> Option<&[u8]> {
        self.inner
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| &e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    }

    fn general_names(&self) -> Vec<GeneralName> {
        self.extension(&SUBJECT_ALT_NAME)
            .and_then(|bytes| SubjectAltName::from_der(bytes).ok())
            .map(|san| san.0)
            .unwrap_or_default()
    }

    /// The URI SANs (a GitHub workflow's identity).
    pub fn san_uris(&self) -> Vec<String> {
        self.general_names()
            .into_iter()
            .filter_map(|name| match name {
                GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The email SANs.
    pub fn san_emails(&self) -> Vec<String> {
        self.general_names()
            .into_iter()
            .filter_map(|name| match name {
                GeneralName::Rfc822Name(email) => Some(email.to_string()),
                _ => None,
            })
            .collect()
    }

    /// Fulcio's extension `1.3.6.1.4.1.57264.1.N` as text: a DER
    /// UTF8String for N ≥ 8, the raw bytes for the deprecated 1–6.
    pub fn fulcio_extension(&self, n: u32) -> Option<String> {
        let oid = ObjectIdentifier::new(&format!("{FULCIO_ARC}.{n}")).ok()?;
        let bytes = self.extension(&oid)?;
        if n >= 8 {
            Utf8StringRef::from_der(bytes)
                .ok()
                .map(|s| s.as_str().to_owned())
        } else {
            String::from_utf8(bytes.to_vec()).ok()
        }
    }

    /// The OIDC issuer that vouched for the identity (extension `.8`, or
    /// the deprecated `.1`).
    pub fn oidc_issuer(&self) -> Option<String> {
        self.fulcio_extension(8)
            .or_else(|| self.fulcio_extension(1))
    }

    /// Whether the extended key usage includes code signing.
    pub fn is_code_signing(&self) -> bool {
        self.extension(&EXTENDED_KEY_USAGE)
            .and_then(|bytes| ExtendedKeyUsage::from_der(bytes).ok())
            .is_some_and(|usage| usage.0.contains(&CODE_SIGNING))
    }

    /// Whether basic constraints say CA.
    pub fn is_ca(&self) -> bool {
        self.extension(&BASIC_CONSTRAINTS)
            .and_then(|bytes| BasicConstraints::from_der(bytes).ok())
            .is_some_and(|constraints| constraints.ca)
    }

    /// The key this certificate certifies; an error for a key hoist does
    /// not verify with (RSA, curves other than P-256 and P-384).
    pub fn verifying_key(&self) -> Result<VerifyingKey, CertificateError> {
        VerifyingKey::from_spki_der(&self.spki).ok_or_else(|| {
            CertificateError::UnsupportedAlgorithm {
                what: format!(
                    "the key of `{}` (algorithm {})",
                    self.name(),
                    self.inner
                        .tbs_certificate
                        .subject_public_key_info
                        .algorithm
                        .oid
                ),
            }
        })
    }

    /// The hash of the certificate's signature algorithm (ignored for
    /// Ed25519).
    fn signature_hash(&self) -> Result<Hash, CertificateError> {
        match self.inner.signature_algorithm.oid {
            oid if oid == ECDSA_SHA256 || oid == ED25519 => Ok(Hash::Sha256),
            oid if oid == ECDSA_SHA384 => Ok(Hash::Sha384),
            oid => Err(CertificateError::UnsupportedAlgorithm {
                what: format!("the signature algorithm {oid} of `{}`", self.name()),
            }),
        }
    }

    /// Whether `issuer`'s key signed this certificate (and `issuer`'s
    /// subject is this certificate's issuer).
    pub fn is_issued_by(&self, issuer: &Self) -> bool {
        let (Ok(hash), Ok(key), Some(tbs), Some(signature)) = (
            self.signature_hash(),
            issuer.verifying_key(),
            first_element(&self.der),
            self.inner.signature.as_bytes(),
        ) else {
            return false;
        };
        self.inner.tbs_certificate.issuer == issuer.inner.tbs_certificate.subject
            && key.verify(tbs, signature, hash)
    }

    fn check_valid_at(&self, at: i64) -> Result<(), CertificateError> {
        if self.not_before() <= at && at <= self.not_after() {
            return Ok(());
        }
        let time = hoist_runner::values::rfc3339;
        Err(CertificateError::NotValidAt {
            subject: self.name(),
            at: time(at),
            not_before: time(self.not_before()),
            not_after: time(self.not_after()),
        })
    }

    /// The TBSCertificate DER without the SCT list extension: what a
    /// precertificate SCT signs.
    fn tbs_without_scts(&self) -> Option<Vec<u8>> {
        let mut tbs = self.inner.tbs_certificate.clone();
        if let Some(extensions) = tbs.extensions.as_mut() {
            extensions.retain(|e| e.extn_id != SCT_LIST);
        }
        tbs.to_der().ok()
    }
}

/// The first element inside a DER SEQUENCE, raw (a certificate's
/// TBSCertificate, exactly as signed).
fn first_element(der: &[u8]) -> Option<&[u8]> {
    let (_, outer_header) = der_length(der)?;
    let inner = der.get(outer_header..)?;
    let (length, header) = der_length(inner)?;
    inner.get(..header + length)
}

/// A DER element's content length and header length.
fn der_length(der: &[u8]) -> Option<(usize, usize)> {
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some((usize::from(first), 2));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > 4 {
        return None;
    }
    let length = der
        .get(2..2 + count)?
        .iter()
        .fold(0usize, |n, b| (n << 8) | usize::from(*b));
    Some((length, 2 + count))
}

/// Checks `leaf` chains to a CA of `root` valid at `at` (the signing
/// time: the log's integrated time, not now): the leaf is signed by the
/// CA's `chain[0]`, each `chain[i]` by `chain[i + 1]`, the last is
/// self-signed, the CA certificates say CA, every certificate is valid at
/// `at`, and the leaf is for code signing. Returns the CA.
pub fn verify_chain<'a>(
    leaf: &Certificate,
    root: &'a TrustedRoot,
    at: i64,
) -> Result<&'a CertificateAuthority, CertificateError> {
    if !leaf.is_code_signing() {
        return Err(CertificateError::NotCodeSigning);
    }
    leaf.signature_hash()?;
    let mut tried = Vec::new();
    for authority in root.authorities_at(at) {
        tried.push(match authority.chain.first() {
            Some(issuing) => format!("{} (`{}`)", authority.uri, issuing.name()),
            None => authority.uri.clone(),
        });
        if issues(&authority.chain, leaf) {
            leaf.check_valid_at(at)?;
            for ca in &authority.chain {
                ca.check_valid_at(at)?;
            }
            return Ok(authority);
        }
    }
    Err(CertificateError::Untrusted {
        issuer: leaf.issuer_name(),
        at: hoist_runner::values::rfc3339(at),
        tried: match tried.is_empty() {
            true => "none (no CA of the root is valid then)".into(),
            false => tried.join(", "),
        },
    })
}

/// Whether `chain` (issuing certificate first, self-signed root last)
/// issues `leaf`.
fn issues(chain: &[Certificate], leaf: &Certificate) -> bool {
    let mut child = leaf;
    for ca in chain {
        if !ca.is_ca() || !child.is_issued_by(ca) {
            return false;
        }
        child = ca;
    }
    // `child` is the last of a non-empty chain: it must sign itself.
    !chain.is_empty() && child.is_issued_by(child)
}

/// Checks that an SCT embedded in `leaf` (issued by `issuer`, the CA's
/// `chain[0]`) verifies with a CT log of `root` (RFC 6962 §3.2: the log
/// signed the precertificate, which is the TBSCertificate without the SCT
/// list).
pub fn verify_embedded_scts(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<(), CertificateError> {
    let malformed = |why: &str| CertificateError::MalformedSct(why.to_owned());
    let extension = leaf.extension(&SCT_LIST).ok_or(CertificateError::NoSct)?;
    let list = x509_cert::der::asn1::OctetString::from_der(extension)
        .map_err(|_| malformed("the extension is not an OCTET STRING"))?;
    let scts = sct_list(list.as_bytes())
        .ok_or_else(|| malformed("it is not a TLS SignedCertificateTimestampList"))?;
    if scts.is_empty() {
        return Err(malformed("the list has no v1 SCT"));
    }
    let tbs = leaf
        .tbs_without_scts()
        .ok_or_else(|| malformed("the certificate does not re-encode"))?;
    let tbs_length = u32::try_from(tbs.len())
        .ok()
        .filter(|n| *n < 1 << 24)
        .ok_or_else(|| malformed("the certificate is too large"))?;
    let issuer_key_hash = key_id(issuer.public_key_spki());
    let mut unknown = Vec::new();
    let mut failure = None;
    for sct in &scts {
        let at = i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX);
        let Some(log) = root
            .ctlogs
            .iter()
            .find(|log| log.log_id == sct.log_id && log.valid_for.contains(at))
        else {
            unknown.push(hex(&sct.log_id));
            continue;
        };
        // RFC 6962 §3.2's digitally-signed struct for a precert_entry.
        let mut signed = vec![0, 0]; // v1, certificate_timestamp
        signed.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&[0, 1]); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_length.to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
        signed.extend_from_slice(sct.extensions);
        let hash = match sct.hash_algorithm {
            4 => Hash::Sha256,
            5 => Hash::Sha384,
            other => {
                failure.get_or_insert(CertificateError::UnsupportedAlgorithm {
                    what: format!("the hash algorithm {other} of an SCT (TLS HashAlgorithm)"),
                });
                continue;
            }
        };
        if log.key.verify(&signed, sct.signature, hash) {
            return Ok(());
        }
        failure = Some(CertificateError::SctInvalid {
            log: log.base_url.clone(),
        });
    }
    Err(failure.unwrap_or_else(|| CertificateError::SctUnknownLog {
        log_ids: unknown.join(", "),
    }))
}

/// One SCT (v1) of an RFC 6962 list.
struct Sct<'a> {
    log_id: Vec<u8>,
    timestamp_ms: u64,
    extensions: &'a [u8],
    hash_algorithm: u8,
    signature: &'a [u8],
}

/// Reads a TLS `SignedCertificateTimestampList`.
fn sct_list(bytes: &[u8]) -> Option<Vec<Sct<'_>>> {
    let mut reader = Tls(bytes);
    let mut list = Tls(reader.vector(2)?);
    let mut scts = Vec::new();
    while !list.0.is_empty() {
        let mut sct = Tls(list.vector(2)?);
        if sct.take(1)? != [0] {
            continue; // not v1
        }
        let log_id = sct.take(32)?.to_vec();
        let timestamp = sct.take(8)?;
        let timestamp_ms = u64::from_be_bytes(timestamp.try_into().ok()?);
        let extensions = sct.vector(2)?;
        let hash_algorithm = sct.take(1)?[0];
        let _signature_algorithm = sct.take(1)?;
        let signature = sct.vector(2)?;
        scts.push(Sct {
            log_id,
            timestamp_ms,
            extensions,
            hash_algorithm,
            signature,
        });
    }
    Some(scts)
}

/// A reader of TLS encodings.
struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    /// A vector with a `width`-byte big-endian length prefix.
    fn vector(&mut self, width: usize) -> Option<&'a [u8]> {
        let length = self
            .take(width)?
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        self.take(length)
    }
}

/// A test Sigstore instance built with rcgen: a P-384 root and
/// intermediate, Fulcio-like leaves with a P-256 key, and a P-256 CT log
/// that signs embedded SCTs exactly as RFC 6962 says.
#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use rcgen::{
        BasicConstraints as Constraints, CertificateParams, CertifiedIssuer, CustomExtension,
        DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
        SanType, SerialNumber, date_time_ymd,
    };
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
    use serde_json::json;

    use super::*;

    pub(crate) const IDENTITY: &str =
        "https://github.com/acme/shop/.github/workflows/ci.yaml@refs/heads/main";
    pub(crate) const ISSUER: &str = "https://token.actions.githubusercontent.com";
    const FULCIO: &str = "https://fulcio.hoist.test";
    const CT_LOG: &str = "https://ctfe.hoist.test";
    /// 2025-01-01T00:00:00Z: the leaves are valid for ten minutes from it.
    pub(crate) const ISSUED_AT: i64 = 1_735_689_600;
    /// A signing time inside the leaves' validity.
    pub(crate) const SIGNED_AT: i64 = ISSUED_AT + 60;

    /// The SPKI DER prefix of an uncompressed P-256 point.
    const P256_SPKI_PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];

    /// How a leaf's SCT is made.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(crate) enum SctMode {
        /// No SCT extension.
        Absent,
        /// A valid SCT.
        Valid,
        /// An SCT whose timestamp was changed after signing.
        Tampered,
    }

    /// What a leaf says.
    pub(crate) struct LeafSpec<'a> {
        pub(crate) uri: Option<&'a str>,
        pub(crate) email: Option<&'a str>,
        /// Fulcio's `.8` extension (DER UTF8String).
        pub(crate) issuer: Option<&'a str>,
        /// Fulcio's deprecated `.1` extension (raw bytes).
        pub(crate) legacy_issuer: Option<&'a str>,
        /// Other Fulcio extensions `.N`: raw for N < 8, else UTF8String.
        pub(crate) extensions: &'a [(u64, &'a str)],
        pub(crate) code_signing: bool,
        pub(crate) sct: SctMode,
    }

    impl Default for LeafSpec<'_> {
        fn default() -> Self {
            Self {
                uri: Some(IDENTITY),
                email: None,
                issuer: Some(ISSUER),
                legacy_issuer: None,
                extensions: &[],
                code_signing: true,
                sct: SctMode::Valid,
            }
        }
    }

    pub(crate) struct Pki {
        root: CertifiedIssuer<'static, KeyPair>,
        intermediate: CertifiedIssuer<'static, KeyPair>,
        ct_key: EcdsaKeyPair,
        ct_spki: Vec<u8>,
    }

    fn ca_params(common_name: &str, constraints: Constraints) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "hoist test");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(constraints);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2035, 1, 1);
        params
    }

    fn der_header(tag: u8, length: usize) -> Vec<u8> {
        match length {
            0..=0x7f => vec![tag, length as u8],
            0x80..=0xff => vec![tag, 0x81, length as u8],
            _ => vec![tag, 0x82, (length >> 8) as u8, length as u8],
        }
    }

    fn sha256(bytes: &[u8]) -> Vec<u8> {
        ring::digest::digest(&ring::digest::SHA256, bytes)
            .as_ref()
            .to_vec()
    }

    impl Pki {
        pub(crate) fn new() -> Self {
            let p384 = || KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
            let root = CertifiedIssuer::self_signed(
                ca_params("sigstore", Constraints::Unconstrained),
                p384(),
            )
            .unwrap();
            let mut params = ca_params("sigstore-intermediate", Constraints::Constrained(0));
            params.use_authority_key_identifier_extension = true;
            let intermediate = CertifiedIssuer::signed_by(params, p384(), &root).unwrap();
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
            let ct_key =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
                    .unwrap();
            let mut ct_spki = P256_SPKI_PREFIX.to_vec();
            ct_spki.extend_from_slice(ct_key.public_key().as_ref());
            Self {
                root,
                intermediate,
                ct_key,
                ct_spki,
            }
        }

        /// The intermediate (the leaves' issuer) and the root.
        pub(crate) fn chain(&self) -> Vec<Certificate> {
            [self.intermediate.der(), self.root.der()]
                .into_iter()
                .map(|der| Certificate::from_der(der.to_vec()).unwrap())
                .collect()
        }

        /// A `trusted_root.json` with this CA and `ct_spki` as CT log.
        pub(crate) fn trusted_root_json_with_ct(&self, ct_spki: &[u8]) -> serde_json::Value {
            let b64 = |bytes: &[u8]| STANDARD.encode(bytes);
            json!({
                "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                "tlogs": [],
                "certificateAuthorities": [{
                    "subject": {"organization": "hoist test", "commonName": "sigstore"},
                    "uri": FULCIO,
                    "certChain": {"certificates": [
                        {"rawBytes": b64(self.intermediate.der())},
                        {"rawBytes": b64(self.root.der())},
                    ]},
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                }],
                "ctlogs": [{
                    "baseUrl": CT_LOG,
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": {
                        "rawBytes": b64(ct_spki),
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                        "validFor": {"start": "2020-01-01T00:00:00Z"},
                    },
                    "logId": {"keyId": b64(&sha256(ct_spki))},
                }],
                "timestampAuthorities": [],
            })
        }

        /// The trusted root of this instance.
        pub(crate) fn trusted_root(&self) -> TrustedRoot {
            let json = self.trusted_root_json_with_ct(&self.ct_spki);
            TrustedRoot::from_json(json.to_string().as_bytes()).unwrap()
        }

        /// A leaf as Fulcio issues it; the SCT is embedded as the last
        /// extension, signed over the same certificate without it.
        pub(crate) fn leaf(&self, spec: &LeafSpec<'_>) -> Certificate {
            let mut params = CertificateParams::default();
            params.distinguished_name = DistinguishedName::new();
            params.subject_alt_names = spec
                .uri
                .map(|uri| SanType::URI(uri.try_into().unwrap()))
                .into_iter()
                .chain(
                    spec.email
                        .map(|email| SanType::Rfc822Name(email.try_into().unwrap())),
                )
                .collect();
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = match spec.code_signing {
                true => vec![ExtendedKeyUsagePurpose::CodeSigning],
                false => vec![ExtendedKeyUsagePurpose::ServerAuth],
            };
            params.use_authority_key_identifier_extension = true;
            params.not_before = date_time_ymd(2025, 1, 1);
            params.not_after = date_time_ymd(2025, 1, 1) + Duration::from_secs(600);
            params.serial_number = Some(SerialNumber::from_slice(&[0x42; 16]));
            let fulcio = |n: u64, content: Vec<u8>| {
                CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, n], content)
            };
            if let Some(issuer) = spec.legacy_issuer {
                params
                    .custom_extensions
                    .push(fulcio(1, issuer.as_bytes().to_vec()));
            }
            if let Some(issuer) = spec.issuer {
                let mut utf8 = der_header(0x0c, issuer.len());
                utf8.extend_from_slice(issuer.as_bytes());
                params.custom_extensions.push(fulcio(8, utf8));
            }
            for &(n, value) in spec.extensions {
                let content = match n < 8 {
                    true => value.as_bytes().to_vec(),
                    false => {
                        let mut utf8 = der_header(0x0c, value.len());
                        utf8.extend_from_slice(value.as_bytes());
                        utf8
                    }
                };
                params.custom_extensions.push(fulcio(n, content));
            }
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            if spec.sct != SctMode::Absent {
                let precertificate = params.signed_by(&key, &self.intermediate).unwrap();
                let tbs = first_element(precertificate.der()).unwrap();
                let mut sct = self.sct(tbs, ISSUED_AT as u64 * 1000);
                if spec.sct == SctMode::Tampered {
                    sct[40] ^= 1; // the timestamp's last byte
                }
                let mut list = (sct.len() as u16).to_be_bytes().to_vec();
                list.extend_from_slice(&sct);
                let mut tls = (list.len() as u16).to_be_bytes().to_vec();
                tls.extend_from_slice(&list);
                let mut octets = der_header(0x04, tls.len());
                octets.extend_from_slice(&tls);
                params
                    .custom_extensions
                    .push(CustomExtension::from_oid_content(
                        &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2],
                        octets,
                    ));
            }
            let leaf = params.signed_by(&key, &self.intermediate).unwrap();
            Certificate::from_der(leaf.der().to_vec()).unwrap()
        }

        /// An RFC 6962 v1 SCT over the precertificate `tbs`.
        fn sct(&self, tbs: &[u8], timestamp_ms: u64) -> Vec<u8> {
            let intermediate_spki = self.chain()[0].public_key_spki().to_vec();
            let mut signed = vec![0, 0]; // v1, certificate_timestamp
            signed.extend_from_slice(&timestamp_ms.to_be_bytes());
            signed.extend_from_slice(&[0, 1]); // precert_entry
            signed.extend_from_slice(&sha256(&intermediate_spki));
            signed.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
            signed.extend_from_slice(tbs);
            signed.extend_from_slice(&[0, 0]); // no extensions
            let signature = self.ct_key.sign(&SystemRandom::new(), &signed).unwrap();
            let mut sct = vec![0];
            sct.extend_from_slice(&sha256(&self.ct_spki));
            sct.extend_from_slice(&timestamp_ms.to_be_bytes());
            sct.extend_from_slice(&[0, 0]); // no extensions
            sct.extend_from_slice(&[4, 3]); // SHA-256, ECDSA
            sct.extend_from_slice(&(signature.as_ref().len() as u16).to_be_bytes());
            sct.extend_from_slice(signature.as_ref());
            sct
        }
    }

    #[test]
    fn a_fulcio_leaf_chains_to_its_ca_at_the_signing_time() {
        let pki = Pki::new();
        let root = pki.trusted_root();
        let leaf = pki.leaf(&LeafSpec::default());
        assert_eq!(leaf.san_uris(), [IDENTITY]);
        assert!(leaf.san_emails().is_empty());
        assert_eq!(leaf.oidc_issuer().unwrap(), ISSUER);
        assert_eq!(leaf.fulcio_extension(8).unwrap(), ISSUER);
        assert_eq!(leaf.fulcio_extension(9), None);
        assert_eq!(
            (leaf.not_before(), leaf.not_after()),
            (ISSUED_AT, ISSUED_AT + 600)
        );
        assert!(leaf.is_code_signing() && !leaf.is_ca());
        assert_eq!(
            leaf.verifying_key().unwrap().spki_der(),
            leaf.public_key_spki()
        );
        assert_eq!(leaf.name(), IDENTITY, "Fulcio's subject is empty");

        let authority = verify_chain(&leaf, &root, SIGNED_AT).unwrap();
        assert_eq!(authority.uri, FULCIO);
        assert_eq!(authority.chain, pki.chain());
        verify_embedded_scts(&leaf, &authority.chain[0], &root).unwrap();
        // The first and the last second of the validity count.
        verify_chain(&leaf, &root, ISSUED_AT).unwrap();
        verify_chain(&leaf, &root, ISSUED_AT + 600).unwrap();
    }

    #[test]
    fn pem_round_trips_and_chains_keep_their_order() {
        let pki = Pki::new();
        let leaf = pki.leaf(&LeafSpec::default());
        let pem = leaf.to_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(Certificate::from_pem(&pem).unwrap(), leaf);
        let chain = pki.chain();
        let text = format!("{pem}{}{}", chain[0].to_pem(), chain[1].to_pem());
        let parsed = Certificate::chain_from_pem(&text).unwrap();
        assert_eq!(parsed, [leaf.clone(), chain[0].clone(), chain[1].clone()]);
        assert_eq!(parsed[0].der(), leaf.der());
        assert!(matches!(
            Certificate::from_pem("no PEM here"),
            Err(CertificateError::Parse(_))
        ));
        assert!(matches!(
            Certificate::from_der(b"\x30\x03\x02\x01\x01".to_vec()),
            Err(CertificateError::Parse(_))
        ));
    }

    #[test]
    fn the_legacy_issuer_extension_is_read_raw_when_the_new_one_is_absent() {
        let pki = Pki::new();
        let leaf = pki.leaf(&LeafSpec {
            issuer: None,
            legacy_issuer: Some("https://accounts.example.com"),
            ..LeafSpec::default()
        });
        assert_eq!(leaf.oidc_issuer().unwrap(), "https://accounts.example.com");
        assert_eq!(leaf.fulcio_extension(8), None);
        let both = pki.leaf(&LeafSpec {
            legacy_issuer: Some("https://accounts.example.com"),
            ..LeafSpec::default()
        });
        assert_eq!(both.oidc_issuer().unwrap(), ISSUER, "`.8` wins");
    }

    #[test]
    fn a_leaf_of_another_ca_is_untrusted_and_the_error_names_both() {
        let ours = Pki::new();
        let theirs = Pki::new();
        let leaf = theirs.leaf(&LeafSpec::default());
        let error = verify_chain(&leaf, &ours.trusted_root(), SIGNED_AT).unwrap_err();
        let CertificateError::Untrusted { issuer, at, tried } = &error else {
            panic!("{error}");
        };
        assert!(issuer.contains("sigstore-intermediate"), "{issuer}");
        assert_eq!(at, "2025-01-01T00:01:00Z");
        assert!(tried.contains(FULCIO), "{tried}");
        assert!(error.hint().contains("trusted-root"));
    }

    #[test]
    fn outside_the_validity_the_chain_fails_with_both_times() {
        let pki = Pki::new();
        let root = pki.trusted_root();
        let leaf = pki.leaf(&LeafSpec::default());
        let error = verify_chain(&leaf, &root, ISSUED_AT + 601).unwrap_err();
        assert_eq!(
            error,
            CertificateError::NotValidAt {
                subject: IDENTITY.into(),
                at: "2025-01-01T00:10:01Z".into(),
                not_before: "2025-01-01T00:00:00Z".into(),
                not_after: "2025-01-01T00:10:00Z".into(),
            }
        );
        assert!(matches!(
            verify_chain(&leaf, &root, ISSUED_AT - 1),
            Err(CertificateError::NotValidAt { .. })
        ));
        // Before the CA's validFor, no CA is tried at all.
        let error = verify_chain(&leaf, &root, 1_500_000_000).unwrap_err();
        assert!(error.to_string().contains("no CA of the root"), "{error}");
    }

    #[test]
    fn a_leaf_that_is_not_for_code_signing_is_refused() {
        let pki = Pki::new();
        let leaf = pki.leaf(&LeafSpec {
            code_signing: false,
            ..LeafSpec::default()
        });
        assert_eq!(
            verify_chain(&leaf, &pki.trusted_root(), SIGNED_AT).unwrap_err(),
            CertificateError::NotCodeSigning
        );
    }

    #[test]
    fn a_ca_certificate_is_not_a_leaf_and_a_leaf_is_not_a_ca() {
        let pki = Pki::new();
        let root = pki.trusted_root();
        let chain = pki.chain();
        assert!(chain.iter().all(Certificate::is_ca));
        assert!(chain[0].is_issued_by(&chain[1]) && chain[1].is_issued_by(&chain[1]));
        assert!(!chain[1].is_issued_by(&chain[0]));
        // A leaf does not issue: a "chain" with the leaf as CA fails.
        let leaf = pki.leaf(&LeafSpec::default());
        assert!(!issues(std::slice::from_ref(&leaf), &leaf));
        assert!(!issues(&[], &leaf));
        assert!(issues(&chain, &leaf));
        verify_chain(&leaf, &root, SIGNED_AT).unwrap();
    }

    #[test]
    fn an_unsupported_signature_algorithm_is_named() {
        let pki = Pki::new();
        let leaf = pki.leaf(&LeafSpec::default());
        // The outer signatureAlgorithm (the P-384 intermediate signs
        // with ecdsa-with-SHA384) → ecdsa-with-SHA512.
        let mut der = leaf.der().to_vec();
        let oid = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
        let at = der.windows(oid.len()).rposition(|w| w == oid).unwrap();
        der[at + 7] = 0x04;
        let changed = Certificate::from_der(der).unwrap();
        let error = verify_chain(&changed, &pki.trusted_root(), SIGNED_AT).unwrap_err();
        assert!(
            matches!(&error, CertificateError::UnsupportedAlgorithm { what } if what.contains("1.2.840.10045.4.3.4")),
            "{error}"
        );
    }

    #[test]
    fn the_embedded_sct_must_exist_come_from_a_known_log_and_verify() {
        let pki = Pki::new();
        let root = pki.trusted_root();
        let issuer = &pki.chain()[0];

        let without = pki.leaf(&LeafSpec {
            sct: SctMode::Absent,
            ..LeafSpec::default()
        });
        verify_chain(&without, &root, SIGNED_AT).unwrap();
        assert_eq!(
            verify_embedded_scts(&without, issuer, &root).unwrap_err(),
            CertificateError::NoSct
        );

        let leaf = pki.leaf(&LeafSpec::default());
        let other_log = Pki::new();
        let json = pki.trusted_root_json_with_ct(&other_log.ct_spki);
        let other_root = TrustedRoot::from_json(json.to_string().as_bytes()).unwrap();
        let error = verify_embedded_scts(&leaf, issuer, &other_root).unwrap_err();
        assert_eq!(
            error,
            CertificateError::SctUnknownLog {
                log_ids: hex(&sha256(&pki.ct_spki))
            }
        );
        assert!(error.to_string().contains("does not list"), "{error}");

        let tampered = pki.leaf(&LeafSpec {
            sct: SctMode::Tampered,
            ..LeafSpec::default()
        });
        let error = verify_embedded_scts(&tampered, issuer, &root).unwrap_err();
        assert_eq!(error, CertificateError::SctInvalid { log: CT_LOG.into() });
        assert!(error.to_string().contains("does not verify"), "{error}");

        // The SCT signs the issuer's key too: another issuer's does not do.
        let error = verify_embedded_scts(&leaf, &pki.chain()[1], &root).unwrap_err();
        assert!(
            matches!(error, CertificateError::SctInvalid { .. }),
            "{error}"
        );
        verify_embedded_scts(&leaf, issuer, &root).unwrap();
    }

    #[test]
    fn a_certificate_changed_after_logging_fails_its_sct() {
        let pki = Pki::new();
        let leaf = pki.leaf(&LeafSpec::default());
        let mut der = leaf.der().to_vec();
        let at = der.windows(9).position(|w| w == b"acme/shop").unwrap();
        der[at + 8] = b'q';
        let forged = Certificate::from_der(der).unwrap();
        let root = pki.trusted_root();
        assert!(matches!(
            verify_embedded_scts(&forged, &pki.chain()[0], &root),
            Err(CertificateError::SctInvalid { .. })
        ));
        assert!(matches!(
            verify_chain(&forged, &root, SIGNED_AT),
            Err(CertificateError::Untrusted { .. })
        ));
    }

    #[test]
    fn malformed_sct_lists_are_reported_as_such() {
        assert!(sct_list(&[0, 5, 0]).is_none());
        assert!(sct_list(&[0, 0]).unwrap().is_empty());
        // A v2 SCT is skipped, not misread.
        let mut v2 = vec![0, 4, 0, 2, 1, 0];
        v2[1] = 4;
        assert!(sct_list(&v2).unwrap().is_empty());
    }

    #[test]
    fn every_error_has_a_hint() {
        let errors = [
            CertificateError::Parse("x".into()),
            CertificateError::NotCodeSigning,
            CertificateError::NoSct,
            CertificateError::MalformedSct("x".into()),
            CertificateError::SctInvalid { log: "l".into() },
            CertificateError::SctUnknownLog {
                log_ids: "00".into(),
            },
            CertificateError::UnsupportedAlgorithm { what: "x".into() },
        ];
        for error in errors {
            assert!(!error.hint().is_empty(), "{error}");
        }
    }
}
