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
use crate::trust::{Hash, TrustedRoot, VerifyingKey, key_id};

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
        /// The CAs tried.
        tried: String,
    },
    /// The certificate (or a CA's) was not valid at the signing time.
    #[error("`{subject}` is valid from {not_before} to {not_after}, not at {at}")]
    NotValidAt {
        /// The certificate's subject (or SAN).
        subject: String,
        /// The signing time, RFC 3339.
        at: String,
        /// Valid from.
        not_before: String,
        /// Valid until.
        not_after: String,
    },
    /// The leaf is not for code signing.
    #[error(
        "the certificate is not a code-signing certificate (no codeSigning extended key usage)"
    )]
    NotCodeSigning,
    /// The certificate carries no SCT.
    #[error("the certificate has no embedded SCT: nothing proves it was logged in a CT log")]
    NoSct,
    /// No SCT is from a CT log of the trusted root, or none verifies.
    #[error("no embedded SCT verifies with a CT log of the trusted root: {0}")]
    BadSct(String),
}

impl CertificateError {
    /// What to change.
    pub fn hint(&self) -> String {
        match self {
            Self::Parse(_) => "check that the signature's certificate is DER or PEM".into(),
            Self::NotCodeSigning => "sign with a Fulcio certificate".into(),
            _ => "pass `trusted-root` with the trusted_root.json of the Sigstore instance that \
                  issued the certificate (leave it empty for the public-good instance)"
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

    /// Whether `issuer`'s key signed this certificate.
    pub fn is_issued_by(&self, issuer: &Self) -> bool {
        let hash = match self.inner.signature_algorithm.oid {
            oid if oid == ECDSA_SHA256 => Hash::Sha256,
            oid if oid == ECDSA_SHA384 => Hash::Sha384,
            oid if oid == ED25519 => Hash::Sha256, // unused by Ed25519
            _ => return false,
        };
        let (Some(key), Some(tbs), Some(signature)) = (
            VerifyingKey::from_spki_der(issuer.public_key_spki()),
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

/// Checks `leaf` chains to a CA of `root` valid at `at` (the signing time:
/// the log's integrated time), every certificate valid then, and that the
/// leaf is for code signing. Returns the CA.
pub fn verify_chain<'a>(
    leaf: &Certificate,
    root: &'a TrustedRoot,
    at: i64,
) -> Result<&'a crate::trust::CertificateAuthority, CertificateError> {
    if !leaf.is_code_signing() {
        return Err(CertificateError::NotCodeSigning);
    }
    let mut tried = Vec::new();
    for authority in root.authorities_at(at) {
        tried.push(authority.uri.clone());
        let mut child = leaf;
        let mut chains = true;
        for (i, ca) in authority.chain.iter().enumerate() {
            if !ca.is_ca() || !child.is_issued_by(ca) {
                chains = false;
                break;
            }
            let last = i + 1 == authority.chain.len();
            if last && !ca.is_issued_by(ca) {
                chains = false;
                break;
            }
            child = ca;
        }
        if chains {
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

/// Checks that an SCT embedded in `leaf` (issued by `issuer`) verifies
/// with a CT log of `root`.
pub fn verify_embedded_scts(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<(), CertificateError> {
    let bad = |why: &str| CertificateError::BadSct(why.to_owned());
    let extension = leaf.extension(&SCT_LIST).ok_or(CertificateError::NoSct)?;
    let list = x509_cert::der::asn1::OctetString::from_der(extension)
        .map_err(|_| bad("the SCT extension is not an OCTET STRING"))?;
    let tbs = leaf
        .tbs_without_scts()
        .ok_or_else(|| bad("the certificate does not re-encode"))?;
    let issuer_key_hash = key_id(issuer.public_key_spki());
    let mut reasons = Vec::new();
    for sct in sct_list(list.as_bytes()).ok_or_else(|| bad("the SCT list is malformed"))? {
        let Some(key) = root.ctlog_key(&sct.log_id, sct.timestamp_ms / 1000) else {
            reasons.push("an SCT from a log the trusted root does not list");
            continue;
        };
        let mut signed = vec![0, 0];
        signed.extend_from_slice(&(sct.timestamp_ms as u64).to_be_bytes());
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&issuer_key_hash);
        let length = u32::try_from(tbs.len()).unwrap_or(u32::MAX).to_be_bytes();
        signed.extend_from_slice(&length[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
        signed.extend_from_slice(sct.extensions);
        let hash = match sct.hash_algorithm {
            4 => Hash::Sha256,
            5 => Hash::Sha384,
            _ => {
                reasons.push("an SCT with an unsupported hash");
                continue;
            }
        };
        if key.verify(&signed, sct.signature, hash) {
            return Ok(());
        }
        reasons.push("an SCT whose signature does not verify");
    }
    Err(bad(&match reasons.is_empty() {
        true => "the SCT list is empty".to_owned(),
        false => reasons.join("; "),
    }))
}

/// One SCT (v1) of an RFC 6962 list.
struct Sct<'a> {
    log_id: Vec<u8>,
    timestamp_ms: i64,
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
        let timestamp_ms = i64::from_be_bytes(timestamp.try_into().ok()?);
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
