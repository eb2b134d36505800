//! cosign's keys: ECDSA P-256 public keys (SubjectPublicKeyInfo PEM, what
//! `cosign generate-key-pair` writes to `cosign.pub`) and signing keys
//! (cosign's encrypted PEM or unencrypted PKCS#8), signing and verifying
//! with `ring`, and the three ways a `key` input names a key.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _,
    UnparsedPublicKey,
};

use crate::encrypted::{self, EncryptedError};
use crate::pem::{self, PemError};

/// The PEM label of a public key.
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";
/// The PEM label of an unencrypted PKCS#8 private key.
pub const PKCS8_LABEL: &str = "PRIVATE KEY";
/// The PEM label cosign ≥ v2 writes for its encrypted private keys.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label cosign v1 wrote for its encrypted private keys.
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The PEM label of a SEC1 EC private key (refused, with a hint).
const SEC1_LABEL: &str = "EC PRIVATE KEY";
/// The PEM label of a password-protected PKCS#8 key (refused, with a hint).
const ENCRYPTED_PKCS8_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// The largest key file read: a cosign key is about 650 bytes.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// Every P-256 SubjectPublicKeyInfo with an uncompressed point starts so:
/// SEQUENCE, AlgorithmIdentifier (id-ecPublicKey, prime256v1), BIT STRING
/// of 66 bytes with no unused bits; the 65-byte point follows.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const P256_POINT_LEN: usize = 65;

/// A key that cannot be read or used. Messages say what is wrong and never
/// contain key material or the password; [`KeyError::hint`] says what to
/// change.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not PEM.
    #[error("the key is not PEM text")]
    Pem(#[from] PemError),
    /// PEM without a `PUBLIC KEY` block.
    #[error("expected a `PUBLIC KEY` PEM block, found {found}")]
    NotPublicKeyPem {
        /// The labels found, quoted.
        found: String,
    },
    /// PEM without a private key block.
    #[error("expected a private key PEM block, found {found}")]
    NotPrivateKeyPem {
        /// The labels found, quoted.
        found: String,
    },
    /// A public key of another algorithm or curve, or no valid one.
    #[error("the public key is {found}; hoist's cosign keys are ECDSA P-256")]
    NotP256 {
        /// What it is, e.g. "an RSA key".
        found: &'static str,
    },
    /// A SEC1 `EC PRIVATE KEY`.
    #[error("the private key is an `EC PRIVATE KEY` (SEC1), which hoist does not read")]
    Sec1,
    /// A password-protected PKCS#8 `ENCRYPTED PRIVATE KEY`.
    #[error(
        "the private key is an `ENCRYPTED PRIVATE KEY` (password-protected PKCS#8), which hoist \
         does not read"
    )]
    EncryptedPkcs8,
    /// Another kind of private key (RSA, OpenSSH, DSA, …).
    #[error("the private key is an `{label}`, which hoist does not read")]
    UnsupportedPrivateKey {
        /// Its PEM label.
        label: String,
    },
    /// A PKCS#8 key of another algorithm or curve.
    #[error("the private key is {found}; hoist's cosign keys are ECDSA P-256")]
    PrivateKeyNotP256 {
        /// What it is, e.g. "an RSA key".
        found: &'static str,
    },
    /// A P-256 PKCS#8 key that ring refuses.
    #[error("the private key is not a P-256 PKCS#8 private key hoist can use: {reason}")]
    PrivateKeyRejected {
        /// Why ring refused it.
        reason: &'static str,
    },
    /// An encrypted key and no password.
    #[error("the private key is encrypted (`{label}`) and no password was given")]
    NeedsPassword {
        /// Its PEM label.
        label: String,
    },
    /// An encrypted key and the wrong password (or a corrupted key).
    #[error("the private key's password is wrong (or the encrypted key is corrupt)")]
    WrongPassword,
    /// An encrypted key whose JSON cannot be decrypted.
    #[error("the encrypted private key cannot be read")]
    Encrypted(#[source] EncryptedError),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// A KMS or hardware key reference (`awskms://`, `pkcs11:`, …).
    #[error("`{scheme}` keys are not supported")]
    KmsKey {
        /// The scheme, e.g. `awskms://`.
        scheme: String,
    },
    /// `env://` with no variable name, or not a valid one.
    #[error("`env://` must be followed by an environment variable name")]
    EnvName,
    /// `env://NAME` and NAME is unset or empty.
    #[error("the environment variable {name} (from `env://{name}`) is not set or is empty")]
    EnvUnset {
        /// The variable.
        name: String,
    },
    /// A value that is not PEM, `env://NAME`, or a plausible path; not
    /// repeated, since it may be a secret.
    #[error("the key is neither PEM text, `env://NAME`, nor a file path")]
    NotAKey,
    /// The key file cannot be read.
    #[error("cannot read the key file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key file is over [`MAX_KEY_FILE`] bytes.
    #[error("the key file {} is larger than 64 KiB, too large to be a key", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The key file is not UTF-8 text.
    #[error("the key file {} is not text (PEM)", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
    },
}

impl KeyError {
    /// What to change so the next run works.
    pub fn hint(&self) -> String {
        const PASSWORD: &str = "set COSIGN_PASSWORD or `key-password` to the password given to `cosign generate-key-pair`";
        match self {
            Self::Pem(_) | Self::NotAKey => "give the key as PEM text (from `-----BEGIN … KEY-----` to \
                `-----END … KEY-----`), as `env://NAME` naming a variable that holds it, or as a path \
                to a file holding it"
                .into(),
            Self::NotPublicKeyPem { .. } => {
                "give the `PUBLIC KEY` PEM that `cosign generate-key-pair` writes to cosign.pub".into()
            }
            Self::NotPrivateKeyPem { .. } => "give the private key (cosign.key from `cosign \
                generate-key-pair`), not a public key or a certificate"
                .into(),
            Self::NotP256 { .. } | Self::PrivateKeyNotP256 { .. } | Self::UnsupportedPrivateKey { .. } => {
                "use an ECDSA P-256 key pair, as `cosign generate-key-pair` makes".into()
            }
            Self::Sec1 => "convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in ec.key -out \
                pkcs8.key`, or to cosign's format with `cosign import-key-pair --key ec.key`"
                .into(),
            Self::EncryptedPkcs8 => "convert it with `cosign import-key-pair --key key.pem`, or decrypt \
                it with `openssl pkcs8 -in key.pem -out pkcs8.key` and keep it in a secret"
                .into(),
            Self::PrivateKeyRejected { .. } => "re-export it with `openssl pkcs8 -topk8 -nocrypt -in \
                key.pem -out pkcs8.key` (OpenSSL includes the public key), or convert it with \
                `cosign import-key-pair --key key.pem`"
                .into(),
            Self::NeedsPassword { .. } | Self::WrongPassword => PASSWORD.into(),
            Self::Encrypted(EncryptedError::KdfParams { .. }) => "re-encrypt the key with cosign \
                (`cosign import-key-pair`), which uses scrypt N=32768 r=8 p=1"
                .into(),
            Self::Encrypted(_) => "the key is damaged: copy the whole of cosign.key again, from its \
                BEGIN line to its END line"
                .into(),
            Self::Random => "check that the system's random number generator (getrandom) works".into(),
            Self::KmsKey { .. } => {
                "give a key pair made with `cosign generate-key-pair`: the PEM text, `env://NAME`, or a file"
                    .into()
            }
            Self::EnvName => "write `env://NAME`, e.g. `env://COSIGN_PRIVATE_KEY`".into(),
            Self::EnvUnset { name } => format!(
                "set {name} in the step's `env:`, e.g. `{name}: ${{{{ secrets.COSIGN_PRIVATE_KEY }}}}`"
            ),
            Self::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "check the path; a relative path is relative to the workspace".into()
            }
            Self::Read { .. } => "make the key file a readable regular file".into(),
            Self::TooLarge { .. } | Self::NotText { .. } => {
                "point `key` at the PEM private key file (cosign.key)".into()
            }
        }
    }
}

/// What an AlgorithmIdentifier near the start of `der` (a
/// SubjectPublicKeyInfo or a PKCS#8 key) names, for messages.
fn describe_algorithm(der: &[u8]) -> &'static str {
    const EC: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const CURVES: [(&[u8], &str); 4] = [
        (
            &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            "a P-256 key",
        ),
        (&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22], "a P-384 key"),
        (&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23], "a P-521 key"),
        (
            &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a],
            "a secp256k1 key",
        ),
    ];
    const OTHERS: [(&[u8], &str); 6] = [
        (
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
            ],
            "an RSA key",
        ),
        (
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
            ],
            "an RSA-PSS key",
        ),
        (&[0x06, 0x03, 0x2b, 0x65, 0x70], "an Ed25519 key"),
        (&[0x06, 0x03, 0x2b, 0x65, 0x71], "an Ed448 key"),
        (&[0x06, 0x03, 0x2b, 0x65, 0x6e], "an X25519 key"),
        (
            &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01],
            "a DSA key",
        ),
    ];
    // The AlgorithmIdentifier sits in the first few dozen bytes of both.
    let head = der.get(..der.len().min(48)).unwrap_or(der);
    let has = |oid: &[u8]| head.windows(oid.len()).any(|w| w == oid);
    if has(EC) {
        return CURVES
            .iter()
            .find(|(oid, _)| has(oid))
            .map_or("an EC key on a curve other than P-256", |(_, name)| name);
    }
    OTHERS
        .iter()
        .find(|(oid, _)| has(oid))
        .map_or("not a key hoist recognises", |(_, name)| name)
}

/// The quoted labels of `blocks`, for messages.
fn labels(blocks: &[pem::Block]) -> String {
    blocks
        .iter()
        .map(|b| format!("`{}`", b.label))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sha256(bytes: &[u8]) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, bytes)
}

/// An ECDSA P-256 public key, held as its SubjectPublicKeyInfo DER.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    spki: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(sha256:{})", self.fingerprint())
    }
}

impl PublicKey {
    /// The first `PUBLIC KEY` block of `text` (text around it is ignored).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let blocks = pem::decode(text)?;
        let block = blocks
            .iter()
            .find(|b| b.label == PUBLIC_KEY_LABEL)
            .ok_or_else(|| KeyError::NotPublicKeyPem {
                found: labels(&blocks),
            })?;
        Self::from_spki_der(&block.der)
    }

    /// A SubjectPublicKeyInfo DER, which must be P-256 with an uncompressed
    /// point.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == P256_POINT_LEN && point[0] == 0x04 => {
                Ok(Self { spki: der.to_vec() })
            }
            _ => Err(KeyError::NotP256 {
                found: match describe_algorithm(der) {
                    "a P-256 key" => {
                        "a P-256 key that is not an uncompressed point in a plain SubjectPublicKeyInfo"
                    }
                    other => other,
                },
            }),
        }
    }

    /// The key of an uncompressed point (`04 ‖ x ‖ y`), as ring gives it.
    fn from_point(point: &[u8]) -> Result<Self, KeyError> {
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(point);
        Self::from_spki_der(&spki)
    }

    /// The key as a `PUBLIC KEY` PEM block, as cosign writes cosign.pub.
    pub fn to_pem(&self) -> String {
        pem::encode(PUBLIC_KEY_LABEL, &self.spki)
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The uncompressed point (`04 ‖ x ‖ y`).
    pub fn point(&self) -> &[u8] {
        &self.spki[P256_SPKI_PREFIX.len()..]
    }

    /// Whether `signature_der` (ASN.1 DER, as cosign writes it) is this
    /// key's ECDSA P-256 SHA-256 signature of `message` (hashed here).
    pub fn verify(&self, message: &[u8], signature_der: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, self.point())
            .verify(message, signature_der)
            .is_ok()
    }

    /// Standard base64 of the SHA-256 of the SubjectPublicKeyInfo DER:
    /// what sigstore-go writes as a bundle's `publicKey.hint`.
    pub fn hint(&self) -> String {
        STANDARD.encode(sha256(&self.spki))
    }

    /// Lower-case hex of the SHA-256 of the SubjectPublicKeyInfo DER (also
    /// Rekor's log ID when the key is a log's).
    pub fn fingerprint(&self) -> String {
        sha256(&self.spki)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// An ECDSA P-256 signing key. `Debug` shows the public key only.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| KeyError::Random)?;
        Self::from_pkcs8_der(document.as_ref())
    }

    /// The first private key block of `text`: cosign's encrypted key
    /// (`ENCRYPTED SIGSTORE PRIVATE KEY` or `ENCRYPTED COSIGN PRIVATE KEY`,
    /// which need `password`; an empty password is a password, as in
    /// cosign) or an unencrypted PKCS#8 `PRIVATE KEY` (the password is
    /// ignored). SEC1, password-protected PKCS#8 and other algorithms are
    /// refused with a hint.
    pub fn from_pem(text: &str, password: Option<&str>) -> Result<Self, KeyError> {
        let blocks = pem::decode(text)?;
        let block = blocks
            .iter()
            .find(|b| b.label.ends_with("PRIVATE KEY"))
            .ok_or_else(|| KeyError::NotPrivateKeyPem {
                found: labels(&blocks),
            })?;
        match block.label.as_str() {
            SIGSTORE_PRIVATE_KEY_LABEL | COSIGN_PRIVATE_KEY_LABEL => {
                let password = password.ok_or_else(|| KeyError::NeedsPassword {
                    label: block.label.clone(),
                })?;
                let der =
                    encrypted::decrypt(&block.der, password.as_bytes()).map_err(|e| match e {
                        EncryptedError::Authentication => KeyError::WrongPassword,
                        other => KeyError::Encrypted(other),
                    })?;
                Self::from_pkcs8_der(&der)
            }
            PKCS8_LABEL => Self::from_pkcs8_der(&block.der),
            SEC1_LABEL => Err(KeyError::Sec1),
            ENCRYPTED_PKCS8_LABEL => Err(KeyError::EncryptedPkcs8),
            other => Err(KeyError::UnsupportedPrivateKey {
                label: other.to_owned(),
            }),
        }
    }

    /// A PKCS#8 v1 DER P-256 key whose ECPrivateKey includes the public
    /// key (as OpenSSL, Go's `x509.MarshalPKCS8PrivateKey` and cosign write
    /// it): ring needs it there.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng).map_err(
            |rejected| match rejected.to_string().as_str() {
                "WrongAlgorithm" => KeyError::PrivateKeyNotP256 {
                    found: describe_algorithm(der),
                },
                "RNG failed" => KeyError::Random,
                "VersionNotSupported" => KeyError::PrivateKeyRejected {
                    reason: "it is PKCS#8 v2 or its ECPrivateKey is not version 1 (ring reads \
                             PKCS#8 v1 only)",
                },
                "InvalidEncoding" => KeyError::PrivateKeyRejected {
                    reason: "its DER is malformed, or its ECPrivateKey lacks the public key \
                             (ring needs the public key inside the ECPrivateKey)",
                },
                "InconsistentComponents" => KeyError::PrivateKeyRejected {
                    reason: "the public key inside it does not match its private key",
                },
                "InvalidComponent" => KeyError::PrivateKeyRejected {
                    reason: "its private scalar is not a valid P-256 scalar of exactly 32 bytes",
                },
                _ => KeyError::PrivateKeyRejected {
                    reason: "ring refused it",
                },
            },
        )?;
        let public = PublicKey::from_point(pair.public_key().as_ref())?;
        Ok(Self {
            pair,
            pkcs8: der.to_vec(),
            public,
        })
    }

    /// The ECDSA P-256 SHA-256 signature of `message` (hashed here), ASN.1
    /// DER as cosign writes it.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signature = self
            .pair
            .sign(&SystemRandom::new(), message)
            .map_err(|_| KeyError::Random)?;
        Ok(signature.as_ref().to_vec())
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key as an unencrypted PKCS#8 `PRIVATE KEY` PEM block.
    pub fn to_pkcs8_pem(&self) -> String {
        pem::encode(PKCS8_LABEL, &self.pkcs8)
    }

    /// The key encrypted under `password` as `cosign generate-key-pair`
    /// writes cosign.key (`ENCRYPTED SIGSTORE PRIVATE KEY`).
    pub fn to_encrypted_pem(&self, password: &str) -> Result<String, KeyError> {
        let json = encrypted::encrypt(&self.pkcs8, password.as_bytes()).map_err(|e| match e {
            EncryptedError::Random => KeyError::Random,
            other => KeyError::Encrypted(other),
        })?;
        Ok(pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, json.as_bytes()))
    }
}

/// The PEM text a `key` input names: the PEM itself (the value contains
/// `-----BEGIN`), `env://NAME` (the variable NAME of `env`), or a file path
/// (relative to `workspace` when given), at most [`MAX_KEY_FILE`] bytes.
pub fn read_key_text(
    value: &str,
    env: &hoist_http::Environment,
    workspace: Option<&Path>,
) -> Result<String, KeyError> {
    if value.contains("-----BEGIN") {
        return Ok(value.to_owned());
    }
    let value = value.trim();
    if let Some(name) = value.strip_prefix("env://") {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && c != '=');
        if !valid {
            return Err(KeyError::EnvName);
        }
        return match env.get(name) {
            Some(text) if !text.trim().is_empty() => Ok(text.clone()),
            _ => Err(KeyError::EnvUnset {
                name: name.to_owned(),
            }),
        };
    }
    if let Some(scheme) = kms_scheme(value) {
        return Err(KeyError::KmsKey { scheme });
    }
    // A path is one short line; anything else may be a secret pasted
    // without its PEM lines, and is not repeated.
    if value.is_empty() || value.len() > 4096 || value.chars().any(char::is_control) {
        return Err(KeyError::NotAKey);
    }
    let path = match workspace {
        Some(root) if Path::new(value).is_relative() => root.join(value),
        _ => PathBuf::from(value),
    };
    read_limited(&path)
}

/// `scheme://` or `pkcs11:` when `value` starts with a key reference
/// scheme (letters, digits, `+-.`).
fn kms_scheme(value: &str) -> Option<String> {
    if value.starts_with("pkcs11:") {
        return Some("pkcs11:".into());
    }
    let (scheme, _) = value.split_once("://")?;
    let plausible = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    plausible.then(|| format!("{scheme}://"))
}

fn read_limited(path: &Path) -> Result<String, KeyError> {
    let read_error = |source| KeyError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.len() > MAX_KEY_FILE {
        return Err(KeyError::TooLarge {
            path: path.to_owned(),
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError::TooLarge {
            path: path.to_owned(),
        });
    }
    String::from_utf8(bytes).map_err(|_| KeyError::NotText {
        path: path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> hoist_http::Environment {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_signature_verifies_with_its_key_only() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let signature = key.sign(b"payload").unwrap();
        assert_eq!(signature[0], 0x30, "ASN.1 DER SEQUENCE");
        assert!(key.public_key().verify(b"payload", &signature));
        assert!(!key.public_key().verify(b"payload!", &signature));
        assert!(!other.public_key().verify(b"payload", &signature));
        assert!(!key.public_key().verify(b"payload", &signature[1..]));
        assert!(!key.public_key().verify(b"payload", b""));
    }

    #[test]
    fn public_keys_round_trip_through_pem() {
        let key = SigningKey::generate().unwrap();
        let public = key.public_key();
        assert_eq!(public.spki_der().len(), 91);
        assert_eq!(public.point().len(), 65);
        let text = public.to_pem();
        assert!(
            text.starts_with("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
        );
        let back =
            PublicKey::from_pem(&format!("cosign.pub:\r\n{}", text.replace('\n', "\r\n"))).unwrap();
        assert_eq!(&back, public);
        assert_eq!(PublicKey::from_spki_der(public.spki_der()).unwrap(), back);
    }

    #[test]
    fn hint_and_fingerprint_are_sha256_of_the_spki() {
        let key = SigningKey::generate().unwrap();
        let public = key.public_key();
        let digest = sha256(public.spki_der());
        assert_eq!(STANDARD.decode(public.hint()).unwrap(), digest.as_ref());
        assert_eq!(public.fingerprint().len(), 64);
        assert!(format!("{public:?}").contains(&public.fingerprint()));
    }

    fn spki_pem(der: &[u8]) -> String {
        pem::encode("PUBLIC KEY", der)
    }

    fn not_p256(text: &str) -> &'static str {
        match PublicKey::from_pem(text) {
            Err(KeyError::NotP256 { found }) => found,
            other => panic!("expected NotP256, got {other:?}"),
        }
    }

    #[test]
    fn other_public_keys_are_refused_by_name() {
        // The head of a 2048-bit RSA SubjectPublicKeyInfo: the
        // rsaEncryption AlgorithmIdentifier, then the BIT STRING.
        let mut rsa = vec![
            0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
            0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a,
            0x02, 0x82, 0x01, 0x01, 0x00,
        ];
        rsa.extend([0xc5; 257]);
        rsa.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        assert_eq!(not_p256(&spki_pem(&rsa)), "an RSA key");
        let error = PublicKey::from_pem(&spki_pem(&rsa)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the public key is an RSA key; hoist's cosign keys are ECDSA P-256"
        );

        let mut ed25519 = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        ed25519.extend([7; 32]);
        assert_eq!(not_p256(&spki_pem(&ed25519)), "an Ed25519 key");

        let mut p384 = vec![
            0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04,
        ];
        p384.extend([9; 96]);
        assert_eq!(not_p256(&spki_pem(&p384)), "a P-384 key");

        // P-256 with a compressed point.
        let mut compressed = vec![
            0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x22, 0x00, 0x02,
        ];
        compressed.extend([3; 32]);
        assert!(not_p256(&spki_pem(&compressed)).starts_with("a P-256 key that is not"));

        // A valid prefix with a short or non-uncompressed point.
        let key = SigningKey::generate().unwrap();
        let spki = key.public_key().spki_der();
        assert!(PublicKey::from_spki_der(&spki[..90]).is_err());
        let mut hybrid = spki.to_vec();
        hybrid[26] = 0x06;
        assert!(PublicKey::from_spki_der(&hybrid).is_err());
        assert_eq!(not_p256(&spki_pem(b"junk")), "not a key hoist recognises");
    }

    #[test]
    fn public_key_pem_needs_a_public_key_block() {
        let key = SigningKey::generate().unwrap();
        match PublicKey::from_pem(&key.to_pkcs8_pem()) {
            Err(error @ KeyError::NotPublicKeyPem { .. }) => {
                assert_eq!(
                    error.to_string(),
                    "expected a `PUBLIC KEY` PEM block, found `PRIVATE KEY`"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            PublicKey::from_pem("no pem here"),
            Err(KeyError::Pem(PemError::NoBlock))
        ));
    }

    #[test]
    fn pkcs8_pem_round_trips() {
        let key = SigningKey::generate().unwrap();
        let text = key.to_pkcs8_pem();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let back = SigningKey::from_pem(&text, None).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        // A password given for an unencrypted key is ignored.
        let again = SigningKey::from_pem(&text, Some("unused")).unwrap();
        let signature = again.sign(b"m").unwrap();
        assert!(key.public_key().verify(b"m", &signature));
        assert!(!format!("{back:?}").contains("pkcs8"));
    }

    #[test]
    fn encrypted_pem_round_trips_and_checks_the_password() {
        // One key, encrypted once (scrypt N=32768 costs ~32 MiB and 0.1 s+).
        let key = SigningKey::generate().unwrap();
        let text = key.to_encrypted_pem("correct horse").unwrap();
        assert!(text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let back = SigningKey::from_pem(&text, Some("correct horse")).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let signature = back.sign(b"payload").unwrap();
        assert!(key.public_key().verify(b"payload", &signature));

        let wrong = SigningKey::from_pem(&text, Some("battery staple")).unwrap_err();
        assert!(matches!(wrong, KeyError::WrongPassword), "{wrong:?}");
        assert!(wrong.hint().contains("COSIGN_PASSWORD"));
        assert!(!wrong.to_string().contains("battery"));

        match SigningKey::from_pem(&text, None) {
            Err(error @ KeyError::NeedsPassword { .. }) => {
                assert!(error.to_string().contains("ENCRYPTED SIGSTORE PRIVATE KEY"));
                assert!(error.hint().contains("key-password"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_v1_cosign_label_is_read_too() {
        let key = SigningKey::generate().unwrap();
        let fast = encrypted::ScryptParams { n: 16, r: 1, p: 1 };
        let json = encrypted::encrypt_with(&key.pkcs8, b"", fast).unwrap();
        let text = pem::encode(COSIGN_PRIVATE_KEY_LABEL, json.as_bytes());
        // An empty password is a password.
        let back = SigningKey::from_pem(&text, Some("")).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        assert!(matches!(
            SigningKey::from_pem(&text, None),
            Err(KeyError::NeedsPassword { .. })
        ));
    }

    #[test]
    fn a_damaged_encrypted_key_is_not_a_wrong_password() {
        let text = pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, b"{\"kdf\":");
        match SigningKey::from_pem(&text, Some("pw")) {
            Err(error @ KeyError::Encrypted(EncryptedError::Json { .. })) => {
                assert!(error.hint().contains("damaged"));
            }
            other => panic!("{other:?}"),
        }
        let hostile = r#"{"kdf":{"name":"scrypt","params":{"N":4194304,"r":8,"p":1},"salt":""},
            "cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}"#;
        let text = pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, hostile.as_bytes());
        assert!(matches!(
            SigningKey::from_pem(&text, Some("pw")),
            Err(KeyError::Encrypted(EncryptedError::KdfParams { .. }))
        ));
    }

    #[test]
    fn sec1_and_other_private_keys_are_refused_with_a_hint() {
        let sec1 = pem::encode("EC PRIVATE KEY", b"\x30\x00");
        let error = SigningKey::from_pem(&sec1, None).unwrap_err();
        assert!(matches!(error, KeyError::Sec1));
        assert!(error.hint().contains("openssl pkcs8 -topk8 -nocrypt"));
        assert!(error.hint().contains("cosign import-key-pair"));

        let pbes2 = pem::encode("ENCRYPTED PRIVATE KEY", b"\x30\x00");
        assert!(matches!(
            SigningKey::from_pem(&pbes2, Some("pw")),
            Err(KeyError::EncryptedPkcs8)
        ));
        let rsa = pem::encode("RSA PRIVATE KEY", b"\x30\x00");
        match SigningKey::from_pem(&rsa, None) {
            Err(KeyError::UnsupportedPrivateKey { label }) => assert_eq!(label, "RSA PRIVATE KEY"),
            other => panic!("{other:?}"),
        }
        let public = SigningKey::generate().unwrap().public_key().to_pem();
        assert!(matches!(
            SigningKey::from_pem(&public, None),
            Err(KeyError::NotPrivateKeyPem { .. })
        ));
    }

    #[test]
    fn pkcs8_keys_of_other_algorithms_are_refused_by_name() {
        // PKCS#8 v1 headers: version 0, AlgorithmIdentifier, empty key.
        let rsa = [
            0x30, 0x14, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
            0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x04, 0x00,
        ];
        match SigningKey::from_pkcs8_der(&rsa) {
            Err(KeyError::PrivateKeyNotP256 { found }) => assert_eq!(found, "an RSA key"),
            other => panic!("{other:?}"),
        }
        let p384 = [
            0x30, 0x16, 0x02, 0x01, 0x00, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
            0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x04, 0x00,
        ];
        match SigningKey::from_pkcs8_der(&p384) {
            Err(KeyError::PrivateKeyNotP256 { found }) => assert_eq!(found, "a P-384 key"),
            other => panic!("{other:?}"),
        }
    }

    /// ring's P-256 PKCS#8 document: a fixed 36-byte head, the 32-byte
    /// scalar, then `a1 44 03 42 00` and the 65-byte point.
    fn ring_pkcs8() -> Vec<u8> {
        let rng = SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let der = document.as_ref().to_vec();
        assert_eq!(der.len(), 138);
        assert_eq!(&der[..3], &[0x30, 0x81, 0x87]);
        assert_eq!(&der[31..36], &[0x02, 0x01, 0x01, 0x04, 0x20]);
        assert_eq!(&der[68..73], &[0xa1, 0x44, 0x03, 0x42, 0x00]);
        der
    }

    #[test]
    fn a_pkcs8_key_without_its_public_key_is_refused_with_the_reason() {
        let full = ring_pkcs8();
        // The same key with the ECPrivateKey's [1] publicKey dropped, as
        // some encoders write it.
        let mut bare = vec![0x30, 0x41];
        bare.extend_from_slice(&full[3..26]); // version, AlgorithmIdentifier
        bare.extend_from_slice(&[0x04, 0x27, 0x30, 0x25]);
        bare.extend_from_slice(&full[31..68]); // version 1, the scalar
        match SigningKey::from_pkcs8_der(&bare) {
            Err(error @ KeyError::PrivateKeyRejected { .. }) => {
                let text = error.to_string();
                assert!(
                    text.contains("ring needs the public key inside the ECPrivateKey"),
                    "{text}"
                );
                assert!(error.hint().contains("openssl pkcs8 -topk8 -nocrypt"));
            }
            other => panic!("{other:?}"),
        }
        // Another key's public key inside: inconsistent.
        let mut mixed = full.clone();
        mixed[73..].copy_from_slice(&ring_pkcs8()[73..]);
        assert!(matches!(
            SigningKey::from_pkcs8_der(&mixed),
            Err(KeyError::PrivateKeyRejected { reason }) if reason.contains("does not match")
        ));
        assert!(SigningKey::from_pkcs8_der(&full).is_ok());
    }

    #[test]
    fn key_text_can_be_the_pem_itself() {
        let pem = "  -----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n";
        assert_eq!(read_key_text(pem, &env(&[]), None).unwrap(), pem);
    }

    #[test]
    fn key_text_can_come_from_the_environment() {
        let vars = env(&[("COSIGN_KEY", "-----BEGIN X-----"), ("EMPTY", "  ")]);
        assert_eq!(
            read_key_text("env://COSIGN_KEY", &vars, None).unwrap(),
            "-----BEGIN X-----"
        );
        for name in ["MISSING", "EMPTY"] {
            match read_key_text(&format!("env://{name}"), &vars, None) {
                Err(error @ KeyError::EnvUnset { .. }) => {
                    assert!(error.to_string().contains(name));
                    assert!(error.hint().contains(&format!("{name}: ${{{{ secrets.")));
                }
                other => panic!("{other:?}"),
            }
        }
        for bad in ["env://", "env://A B", "env://A=B"] {
            assert!(matches!(
                read_key_text(bad, &vars, None),
                Err(KeyError::EnvName)
            ));
        }
    }

    #[test]
    fn key_text_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cosign.key"), "-----BEGIN A-----\n").unwrap();
        let absolute = dir.path().join("cosign.key");
        assert_eq!(
            read_key_text(absolute.to_str().unwrap(), &env(&[]), None).unwrap(),
            "-----BEGIN A-----\n"
        );
        assert_eq!(
            read_key_text(" cosign.key ", &env(&[]), Some(dir.path())).unwrap(),
            "-----BEGIN A-----\n"
        );
        // An absolute path ignores the workspace.
        assert!(
            read_key_text(
                absolute.to_str().unwrap(),
                &env(&[]),
                Some(Path::new("/nowhere"))
            )
            .is_ok()
        );

        match read_key_text("missing.key", &env(&[]), Some(dir.path())) {
            Err(error @ KeyError::Read { .. }) => {
                assert!(error.to_string().contains("missing.key"));
                assert!(error.hint().contains("relative to the workspace"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_key_text(dir.path().to_str().unwrap(), &env(&[]), None),
            Err(KeyError::Read { .. })
        ));

        let big = dir.path().join("big.key");
        std::fs::write(&big, vec![b'a'; 64 * 1024 + 1]).unwrap();
        assert!(matches!(
            read_key_text(big.to_str().unwrap(), &env(&[]), None),
            Err(KeyError::TooLarge { .. })
        ));
        let exact = dir.path().join("exact.key");
        std::fs::write(&exact, vec![b'a'; 64 * 1024]).unwrap();
        assert!(read_key_text(exact.to_str().unwrap(), &env(&[]), None).is_ok());

        let binary = dir.path().join("key.der");
        std::fs::write(&binary, [0x30, 0x82, 0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_key_text(binary.to_str().unwrap(), &env(&[]), None),
            Err(KeyError::NotText { .. })
        ));
    }

    #[test]
    fn key_text_refuses_kms_references_and_pasted_secrets() {
        for (value, scheme) in [
            ("awskms:///arn:aws:kms:eu-west-1:1:key/x", "awskms://"),
            (
                "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
                "gcpkms://",
            ),
            ("k8s://ns/secret", "k8s://"),
            ("pkcs11:token=t;object=o", "pkcs11:"),
        ] {
            match read_key_text(value, &env(&[]), None) {
                Err(KeyError::KmsKey { scheme: found }) => assert_eq!(found, scheme),
                other => panic!("{value}: {other:?}"),
            }
        }
        // A key body pasted without its PEM lines is not echoed.
        let body = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\nsecretsecret";
        match read_key_text(body, &env(&[]), None) {
            Err(error @ KeyError::NotAKey) => assert!(!error.to_string().contains("MIGH")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_key_text("   ", &env(&[]), None),
            Err(KeyError::NotAKey)
        ));
    }
}
