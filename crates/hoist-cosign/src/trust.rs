//! A Sigstore trusted root (`trusted_root.json`, protobuf-specs
//! `TrustedRoot`): the Fulcio CAs whose certificates count, the CT logs
//! whose SCTs count, and the transparency logs whose entries count — each
//! with the time range it is trusted for. The public-good instance's root
//! is built in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::Value;
use x509_cert::der::Decode as _;
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoOwned};

use crate::certificate::Certificate;

/// The public-good instance's trusted root, as its TUF repository served
/// it when this version of hoist was made.
const PUBLIC_GOOD: &[u8] = include_bytes!("public_good_trusted_root.json");

/// The media type prefix of a trusted root.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json";

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Why a trusted root cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file is not JSON.
    #[error("the trusted root is not JSON: {0}")]
    NotJson(String),
    /// The JSON is not a `TrustedRoot`.
    #[error("the trusted root is not a Sigstore TrustedRoot: {0}")]
    Malformed(String),
    /// The root lists no certificate authority hoist can use.
    #[error("the trusted root lists no certificate authority with a usable chain")]
    NoAuthority,
}

impl TrustError {
    /// What to change.
    pub fn hint(&self) -> String {
        "pass the trusted_root.json of the Sigstore instance (`cosign trusted-root create`, or \
         the TUF repository's `trusted_root.json`), or leave `trusted-root` empty for the \
         public-good instance"
            .into()
    }
}

/// The hash a signature is made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

/// The key types hoist verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    P256,
    P384,
    Ed25519,
}

/// A public key of a CA, a CT log or a transparency log: ECDSA P-256 or
/// P-384, or Ed25519.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    spki: Vec<u8>,
    algorithm: Algorithm,
    raw: Vec<u8>,
}

impl VerifyingKey {
    /// A SubjectPublicKeyInfo DER; `None` for an algorithm hoist does not
    /// verify with (RSA, other curves).
    pub fn from_spki_der(der: &[u8]) -> Option<Self> {
        let info = SubjectPublicKeyInfoOwned::from_der(der).ok()?;
        let algorithm = if info.algorithm.oid == ED25519 {
            Algorithm::Ed25519
        } else if info.algorithm.oid == EC_PUBLIC_KEY {
            let curve: ObjectIdentifier = info.algorithm.parameters.as_ref()?.decode_as().ok()?;
            match curve {
                c if c == P256 => Algorithm::P256,
                c if c == P384 => Algorithm::P384,
                _ => return None,
            }
        } else {
            return None;
        };
        Some(Self {
            spki: der.to_vec(),
            algorithm,
            raw: info.subject_public_key.raw_bytes().to_vec(),
        })
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Whether `signature` (ASN.1 DER for ECDSA) signs `message` hashed
    /// with `hash` (ignored for Ed25519).
    pub fn verify(&self, message: &[u8], signature: &[u8], hash: Hash) -> bool {
        let algorithm: &dyn VerificationAlgorithm = match (self.algorithm, hash) {
            (Algorithm::P256, Hash::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (Algorithm::P256, Hash::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (Algorithm::P384, Hash::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (Algorithm::P384, Hash::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (Algorithm::Ed25519, _) => &signature::ED25519,
        };
        UnparsedPublicKey::new(algorithm, &self.raw)
            .verify(message, signature)
            .is_ok()
    }
}

/// A time range, in seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidFor {
    /// From.
    pub start: i64,
    /// Until, when it ends.
    pub end: Option<i64>,
}

impl ValidFor {
    /// Whether `at` is in the range.
    pub fn contains(&self, at: i64) -> bool {
        self.start <= at && self.end.is_none_or(|end| at <= end)
    }

    fn read(value: &Value) -> Result<Self, TrustError> {
        let time = |field: &str| -> Result<Option<i64>, TrustError> {
            match value[field].as_str() {
                None => Ok(None),
                Some(text) => parse_rfc3339(text).map(Some).ok_or_else(|| {
                    TrustError::Malformed(format!("`{text}` is not an RFC 3339 time"))
                }),
            }
        };
        Ok(Self {
            start: time("start")?.unwrap_or(i64::MIN),
            end: time("end")?,
        })
    }
}

/// A Fulcio CA: its chain (intermediates first, the root last).
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// Its URL.
    pub uri: String,
    /// The chain, issuing certificate first.
    pub chain: Vec<Certificate>,
    /// When its certificates count.
    pub valid_for: ValidFor,
}

/// A log's key: a transparency log (Rekor) or a CT log.
#[derive(Debug, Clone)]
pub struct LogKey {
    /// The log's URL.
    pub base_url: String,
    /// The key.
    pub key: VerifyingKey,
    /// The log ID (the key's SHA-256 for these logs).
    pub log_id: Vec<u8>,
    /// When its signatures count.
    pub valid_for: ValidFor,
}

/// A Sigstore instance's trusted material.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// The Fulcio CAs.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// The transparency logs.
    pub tlogs: Vec<LogKey>,
    /// The certificate transparency logs.
    pub ctlogs: Vec<LogKey>,
}

impl TrustedRoot {
    /// The public-good instance's root, built in.
    pub fn public_good() -> Result<Self, TrustError> {
        Self::from_json(PUBLIC_GOOD)
    }

    /// Reads a `trusted_root.json`. Keys hoist cannot verify with are left
    /// out; a root with no usable CA is refused.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        let root: Value =
            serde_json::from_slice(bytes).map_err(|e| TrustError::NotJson(e.to_string()))?;
        let media_type = root["mediaType"].as_str().unwrap_or_default();
        if !media_type.starts_with(TRUSTED_ROOT_MEDIA_TYPE) {
            return Err(TrustError::Malformed(format!(
                "its mediaType is `{media_type}`, not `{TRUSTED_ROOT_MEDIA_TYPE};version=0.1`"
            )));
        }
        let mut certificate_authorities = Vec::new();
        for authority in list(&root, "certificateAuthorities") {
            let chain = list(&authority["certChain"], "certificates")
                .iter()
                .map(|c| {
                    raw_bytes(&c["rawBytes"])
                        .and_then(|der| Certificate::from_der(der).ok())
                        .ok_or_else(|| {
                            TrustError::Malformed("a CA certificate is not base64 DER".into())
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if chain.is_empty() {
                continue;
            }
            certificate_authorities.push(CertificateAuthority {
                uri: authority["uri"].as_str().unwrap_or_default().to_owned(),
                chain,
                valid_for: ValidFor::read(&authority["validFor"])?,
            });
        }
        if certificate_authorities.is_empty() {
            return Err(TrustError::NoAuthority);
        }
        Ok(Self {
            certificate_authorities,
            tlogs: log_keys(&root, "tlogs")?,
            ctlogs: log_keys(&root, "ctlogs")?,
        })
    }

    /// The transparency log key with `log_id`, valid at `at`.
    pub fn tlog_key(&self, log_id: &[u8], at: i64) -> Option<&VerifyingKey> {
        find_log(&self.tlogs, log_id, at)
    }

    /// The CT log key with `log_id`, valid at `at`.
    pub fn ctlog_key(&self, log_id: &[u8], at: i64) -> Option<&VerifyingKey> {
        find_log(&self.ctlogs, log_id, at)
    }

    /// The CAs whose certificates count at `at`.
    pub fn authorities_at(&self, at: i64) -> impl Iterator<Item = &CertificateAuthority> {
        self.certificate_authorities
            .iter()
            .filter(move |a| a.valid_for.contains(at))
    }
}

fn find_log<'a>(logs: &'a [LogKey], log_id: &[u8], at: i64) -> Option<&'a VerifyingKey> {
    logs.iter()
        .find(|log| log.log_id == log_id && log.valid_for.contains(at))
        .map(|log| &log.key)
}

fn list<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value[field]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn raw_bytes(value: &Value) -> Option<Vec<u8>> {
    STANDARD.decode(value.as_str()?).ok()
}

fn log_keys(root: &Value, field: &str) -> Result<Vec<LogKey>, TrustError> {
    let mut keys = Vec::new();
    for log in list(root, field) {
        let public_key = &log["publicKey"];
        let Some(key) =
            raw_bytes(&public_key["rawBytes"]).and_then(|der| VerifyingKey::from_spki_der(&der))
        else {
            continue;
        };
        let log_id = raw_bytes(&log["logId"]["keyId"]).ok_or_else(|| {
            TrustError::Malformed(format!("a `{field}` entry has no base64 logId.keyId"))
        })?;
        keys.push(LogKey {
            base_url: log["baseUrl"].as_str().unwrap_or_default().to_owned(),
            key,
            log_id,
            valid_for: ValidFor::read(&public_key["validFor"])?,
        });
    }
    Ok(keys)
}

/// `2022-04-13T20:06:15Z` or `…15.999Z` (UTC only, as trusted roots
/// write them), in seconds since the Unix epoch (fractions dropped).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let time = time.split('.').next()?;
    let number = |part: &str| part.parse::<i64>().ok();
    let mut date = date.split('-').map(number);
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let mut time = time.split(':').map(number);
    let (hour, minute, second) = (time.next()??, time.next()??, time.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// The SHA-256 of a key's SubjectPublicKeyInfo: the log ID of Rekor v1
/// and CT logs.
pub fn key_id(spki_der: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, spki_der)
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_as_trusted_roots_write_them() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2022-04-13T20:06:15Z"), Some(1_649_880_375));
        assert_eq!(
            parse_rfc3339("2022-12-31T23:59:59.999Z"),
            Some(1_672_531_199)
        );
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2022-04-13 20:06:15"), None);
        assert_eq!(parse_rfc3339("2022-13-13T20:06:15Z"), None);
    }

    #[test]
    fn the_public_good_root_has_fulcio_rekor_and_ct() {
        let root = TrustedRoot::public_good().unwrap();
        assert!(
            root.certificate_authorities
                .iter()
                .any(|a| a.uri == "https://fulcio.sigstore.dev" && a.valid_for.end.is_none())
        );
        let rekor_id: Vec<u8> = (0..32)
            .map(|i| {
                u8::from_str_radix(
                    &"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
                        [i * 2..i * 2 + 2],
                    16,
                )
                .unwrap()
            })
            .collect();
        let now = 1_790_000_000;
        let rekor = root.tlog_key(&rekor_id, now).expect("public Rekor's key");
        assert_eq!(key_id(rekor.spki_der()), rekor_id);
        assert!(root.ctlogs.len() >= 2);
        // The Ed25519 Rekor v2 log is usable too.
        assert!(
            root.tlogs
                .iter()
                .any(|t| t.key.algorithm == Algorithm::Ed25519)
        );
    }

    #[test]
    fn roots_without_a_usable_ca_or_of_another_type_are_refused() {
        assert!(matches!(
            TrustedRoot::from_json(b"not json"),
            Err(TrustError::NotJson(_))
        ));
        assert!(matches!(
            TrustedRoot::from_json(br#"{"mediaType":"application/json"}"#),
            Err(TrustError::Malformed(_))
        ));
        assert!(matches!(
            TrustedRoot::from_json(
                br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","certificateAuthorities":[]}"#
            ),
            Err(TrustError::NoAuthority)
        ));
    }

    fn spki(key: &rcgen::KeyPair) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(key)
    }

    #[test]
    fn verifying_keys_check_p256_p384_and_ed25519() {
        use rcgen::SigningKey as _;
        for (algorithm, hash) in [
            (&rcgen::PKCS_ECDSA_P256_SHA256, Hash::Sha256),
            (&rcgen::PKCS_ECDSA_P384_SHA384, Hash::Sha384),
            (&rcgen::PKCS_ED25519, Hash::Sha256),
        ] {
            let pair = rcgen::KeyPair::generate_for(algorithm).unwrap();
            let key = VerifyingKey::from_spki_der(&spki(&pair)).unwrap();
            assert_eq!(key.spki_der(), spki(&pair));
            let signature = pair.sign(b"message").unwrap();
            assert!(key.verify(b"message", &signature, hash));
            assert!(!key.verify(b"massage", &signature, hash));
            if key.algorithm != Algorithm::Ed25519 {
                let other = match hash {
                    Hash::Sha256 => Hash::Sha384,
                    Hash::Sha384 => Hash::Sha256,
                };
                assert!(!key.verify(b"message", &signature, other));
            }
        }
        assert_eq!(VerifyingKey::from_spki_der(b"not DER"), None);
    }

    fn log(spki: &[u8], valid_for: Value) -> Value {
        serde_json::json!({
            "baseUrl": "https://log.test",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": STANDARD.encode(spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": valid_for,
            },
            "logId": {"keyId": STANDARD.encode(key_id(spki))},
        })
    }

    #[test]
    fn unusable_log_keys_are_left_out_and_validity_windows_count() {
        use x509_cert::der::Encode as _;
        use x509_cert::der::asn1::{BitString, Null};
        use x509_cert::spki::AlgorithmIdentifierOwned;
        let rsa = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
                parameters: Some(Null.into()),
            },
            subject_public_key: BitString::from_bytes(&[0x30, 0x03, 0x02, 0x01, 0x03]).unwrap(),
        }
        .to_der()
        .unwrap();
        let p256 = spki(&rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap());
        let public_good: Value = serde_json::from_slice(PUBLIC_GOOD).unwrap();
        let mut json = public_good.clone();
        json["tlogs"] = serde_json::json!([
            log(&rsa, serde_json::json!({"start": "2020-01-01T00:00:00Z"})),
            log(
                b"garbage",
                serde_json::json!({"start": "2020-01-01T00:00:00Z"})
            ),
            log(
                &p256,
                serde_json::json!({"start": "2021-01-01T00:00:00Z", "end": "2022-01-01T00:00:00Z"})
            ),
        ]);
        json["ctlogs"] = serde_json::json!([log(&rsa, serde_json::json!({}))]);
        let root = TrustedRoot::from_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(root.tlogs.len(), 1);
        assert!(root.ctlogs.is_empty());
        let id = key_id(&p256);
        let in_2021 = parse_rfc3339("2021-06-01T00:00:00Z").unwrap();
        assert_eq!(root.tlog_key(&id, in_2021).unwrap().spki_der(), p256);
        assert_eq!(root.tlog_key(&id, in_2021 - 365 * 86_400), None);
        assert_eq!(root.tlog_key(&id, in_2021 + 365 * 86_400), None);
        assert_eq!(root.tlog_key(&key_id(&rsa), in_2021), None);
        assert_eq!(root.ctlog_key(&id, in_2021), None, "a tlog is not a CT log");

        // The public-good CAs: the 2021 one ended with 2022.
        let good = TrustedRoot::public_good().unwrap();
        let in_2024 = parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(good.authorities_at(in_2021).count(), 1);
        assert_eq!(good.authorities_at(in_2024).count(), 1);
        assert_eq!(good.authorities_at(0).count(), 0);
        let current = good.authorities_at(in_2024).next().unwrap();
        assert_eq!(current.chain.len(), 2, "intermediate and root");
        assert!(current.chain[0].is_issued_by(&current.chain[1]));
        assert!(current.chain[1].is_issued_by(&current.chain[1]));
    }
}
