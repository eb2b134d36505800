//! cosign's encrypted private keys: the body of an `ENCRYPTED SIGSTORE
//! PRIVATE KEY` (or `ENCRYPTED COSIGN PRIVATE KEY`) PEM block is the JSON
//! go-securesystemslib's `encrypted` package writes:
//!
//! ```json
//! {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<32 bytes>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<24 bytes>"},
//!  "ciphertext":"<secretbox of the PKCS#8 DER>"}
//! ```
//!
//! Byte fields are standard base64 (Go's JSON encoding of `[]byte`). The
//! secretbox key is `scrypt(password, salt, N, r, p, 32)`; the ciphertext
//! is NaCl's XSalsa20-Poly1305 with the 16-byte Poly1305 tag in front, as
//! Go's `secretbox.Seal` lays it out.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

/// The KDF name cosign writes.
pub const KDF_SCRYPT: &str = "scrypt";
/// The cipher name cosign writes.
pub const CIPHER_SECRETBOX: &str = "nacl/secretbox";

const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// Largest scrypt `N` accepted from a file.
pub const MAX_N: u64 = 1 << 20;
/// Largest scrypt `r` accepted from a file.
pub const MAX_R: u64 = 32;
/// Largest scrypt `p` accepted from a file.
pub const MAX_P: u64 = 16;
/// Largest scrypt working memory (128·N·r bytes) accepted from a file:
/// 1 GiB, i.e. N = 2^20 with cosign's r = 8.
pub const MAX_MEMORY: u64 = 1 << 30;

/// scrypt's cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScryptParams {
    /// CPU and memory cost, a power of two.
    #[serde(rename = "N")]
    pub n: u64,
    /// Block size.
    pub r: u64,
    /// Parallelism.
    pub p: u64,
}

impl ScryptParams {
    /// What `cosign generate-key-pair` has always written (go-securesystemslib's
    /// "legacy" parameters; newer cosign writes N = 65536, also accepted).
    pub const COSIGN: Self = Self {
        n: 32768,
        r: 8,
        p: 1,
    };

    /// The parameters as the `scrypt` crate takes them, if within hoist's
    /// bounds.
    fn checked(self) -> Result<scrypt::Params, EncryptedError> {
        let out_of_bounds = EncryptedError::KdfParams {
            n: self.n,
            r: self.r,
            p: self.p,
        };
        let bounded = self.n >= 2
            && self.n <= MAX_N
            && self.n.is_power_of_two()
            && (1..=MAX_R).contains(&self.r)
            && (1..=MAX_P).contains(&self.p)
            && 128 * self.n * self.r <= MAX_MEMORY;
        if !bounded {
            return Err(out_of_bounds);
        }
        let log_n = u8::try_from(self.n.trailing_zeros()).map_err(|_| out_of_bounds.clone())?;
        let r = u32::try_from(self.r).map_err(|_| out_of_bounds.clone())?;
        let p = u32::try_from(self.p).map_err(|_| out_of_bounds.clone())?;
        scrypt::Params::new(log_n, r, p).map_err(|_| out_of_bounds)
    }
}

/// An encrypted key that cannot be decrypted (or a key that cannot be
/// encrypted). Messages never contain the password or key bytes.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EncryptedError {
    /// The PEM body is not the JSON document cosign writes.
    #[error("the encrypted key is not cosign's JSON format: {reason}")]
    Json {
        /// What the JSON parser found (position and kind, not content).
        reason: String,
    },
    /// A KDF other than scrypt.
    #[error(
        "the encrypted key uses the key derivation function `{name}`; cosign keys use `scrypt`"
    )]
    UnknownKdf {
        /// The name found.
        name: String,
    },
    /// A cipher other than NaCl's secretbox.
    #[error("the encrypted key uses the cipher `{name}`; cosign keys use `nacl/secretbox`")]
    UnknownCipher {
        /// The name found.
        name: String,
    },
    /// scrypt parameters outside the bounds (a hostile file could ask for
    /// gigabytes and minutes).
    #[error(
        "the encrypted key's scrypt parameters (N={n}, r={r}, p={p}) are outside what hoist \
         accepts: N a power of two up to 2^20, r up to 32, p up to 16, at most 1 GiB of memory"
    )]
    KdfParams {
        /// N.
        n: u64,
        /// r.
        r: u64,
        /// p.
        p: u64,
    },
    /// A byte field that is not standard base64.
    #[error("the encrypted key's `{field}` is not valid base64")]
    Base64 {
        /// The JSON field.
        field: &'static str,
    },
    /// A nonce that is not 24 bytes.
    #[error("the encrypted key's nonce is {len} bytes; secretbox nonces are 24")]
    NonceLength {
        /// Its length.
        len: usize,
    },
    /// A ciphertext too short to hold the authentication tag.
    #[error("the encrypted key's ciphertext is {len} bytes, shorter than its 16-byte tag")]
    Truncated {
        /// Its length.
        len: usize,
    },
    /// The secretbox did not authenticate: the password is wrong, or the
    /// ciphertext, salt or nonce were altered.
    #[error("the key's password is wrong (or the encrypted key is corrupt)")]
    Authentication,
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The cipher refused the plaintext (only beyond its length limit).
    #[error("the key could not be encrypted")]
    Seal,
}

#[derive(Serialize, Deserialize)]
struct Document {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn unbase64(field: &'static str, text: &str) -> Result<Vec<u8>, EncryptedError> {
    STANDARD
        .decode(text)
        .map_err(|_| EncryptedError::Base64 { field })
}

fn derive_key(
    password: &[u8],
    salt: &[u8],
    params: ScryptParams,
) -> Result<[u8; KEY_LEN], EncryptedError> {
    let checked = params.checked()?;
    let mut key = [0u8; KEY_LEN];
    // Only fails for an empty or enormous output, never for 32 bytes.
    scrypt::scrypt(password, salt, &checked, &mut key).map_err(|_| EncryptedError::KdfParams {
        n: params.n,
        r: params.r,
        p: params.p,
    })?;
    Ok(key)
}

/// The plaintext (for cosign, PKCS#8 DER) inside an encrypted key's JSON.
/// The password may be empty: cosign allows it.
pub fn decrypt(pem_body_json: &[u8], password: &[u8]) -> Result<Vec<u8>, EncryptedError> {
    let document: Document =
        serde_json::from_slice(pem_body_json).map_err(|e| EncryptedError::Json {
            reason: json_reason(&e),
        })?;
    if document.kdf.name != KDF_SCRYPT {
        return Err(EncryptedError::UnknownKdf {
            name: document.kdf.name,
        });
    }
    if document.cipher.name != CIPHER_SECRETBOX {
        return Err(EncryptedError::UnknownCipher {
            name: document.cipher.name,
        });
    }
    // Everything cheap is checked before scrypt runs.
    document.kdf.params.checked()?;
    let salt = unbase64("kdf.salt", &document.kdf.salt)?;
    let nonce = unbase64("cipher.nonce", &document.cipher.nonce)?;
    if nonce.len() != NONCE_LEN {
        return Err(EncryptedError::NonceLength { len: nonce.len() });
    }
    let ciphertext = unbase64("ciphertext", &document.ciphertext)?;
    if ciphertext.len() < TAG_LEN {
        return Err(EncryptedError::Truncated {
            len: ciphertext.len(),
        });
    }
    let key = derive_key(password, &salt, document.kdf.params)?;
    XSalsa20Poly1305::new(Key::from_slice(&key))
        .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map_err(|_| EncryptedError::Authentication)
}

/// `plaintext` encrypted under `password` as cosign does it: a fresh
/// 32-byte salt and 24-byte nonce, scrypt N=32768 r=8 p=1. Returns the
/// JSON document (the PEM body).
pub fn encrypt(plaintext: &[u8], password: &[u8]) -> Result<String, EncryptedError> {
    encrypt_with(plaintext, password, ScryptParams::COSIGN)
}

/// [`encrypt`] with other scrypt parameters (within the bounds
/// [`decrypt`] accepts).
pub fn encrypt_with(
    plaintext: &[u8],
    password: &[u8],
    params: ScryptParams,
) -> Result<String, EncryptedError> {
    let rng = SystemRandom::new();
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut salt).map_err(|_| EncryptedError::Random)?;
    rng.fill(&mut nonce).map_err(|_| EncryptedError::Random)?;
    let key = derive_key(password, &salt, params)?;
    let ciphertext = XSalsa20Poly1305::new(Key::from_slice(&key))
        .encrypt(Nonce::from_slice(&nonce), plaintext)
        .map_err(|_| EncryptedError::Seal)?;
    let document = Document {
        kdf: Kdf {
            name: KDF_SCRYPT.to_owned(),
            params,
            salt: STANDARD.encode(salt),
        },
        cipher: Cipher {
            name: CIPHER_SECRETBOX.to_owned(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(ciphertext),
    };
    serde_json::to_string(&document).map_err(|e| EncryptedError::Json {
        reason: json_reason(&e),
    })
}

/// A JSON error's kind and position, without serde's quotes of the input.
fn json_reason(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "a field is missing or has the wrong type",
        serde_json::error::Category::Eof => "the JSON ends early",
    };
    format!("{kind} (line {}, column {})", error.line(), error.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters for tests that are not about the KDF's cost.
    const FAST: ScryptParams = ScryptParams { n: 16, r: 1, p: 1 };

    fn document(json: &str) -> serde_json::Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn secretbox_layout_is_nacls_tag_first() {
        // PyNaCl: SecretBox(bytes([1]*32)).encrypt(b"hoist secretbox layout",
        // bytes([2]*24)).ciphertext — tag (16 bytes) then the 22-byte body.
        let expected =
            "c46af63eea629a819a2318a039e33a6a950ab78e0a1aa128030fd28a3a29c58ec43763e180dc";
        let cipher = XSalsa20Poly1305::new(Key::from_slice(&[1u8; 32]));
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&[2u8; 24]),
                &b"hoist secretbox layout"[..],
            )
            .unwrap();
        assert_eq!(crate_hex(&sealed), expected);
        assert_eq!(sealed.len(), TAG_LEN + 22);
    }

    #[test]
    fn scrypt_matches_pythons_hashlib() {
        // hashlib.scrypt(b"password", salt=b"salt"*8, n=16, r=1, p=1, dklen=32)
        let key = derive_key(b"password", &b"salt".repeat(8), FAST).unwrap();
        assert_eq!(
            crate_hex(&key),
            "1d1d70596bd9609bb2917c3897a47f4286a754fe3bed2de2e4be1864eb608924"
        );
    }

    fn crate_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn round_trips_with_cosigns_parameters() {
        let json = encrypt(b"pkcs8 bytes", b"hunter2").unwrap();
        let value = document(&json);
        assert_eq!(value["kdf"]["name"], "scrypt");
        assert_eq!(value["kdf"]["params"]["N"], 32768);
        assert_eq!(value["kdf"]["params"]["r"], 8);
        assert_eq!(value["kdf"]["params"]["p"], 1);
        assert_eq!(value["cipher"]["name"], "nacl/secretbox");
        let salt = STANDARD
            .decode(value["kdf"]["salt"].as_str().unwrap())
            .unwrap();
        assert_eq!(salt.len(), 32);
        let nonce = STANDARD
            .decode(value["cipher"]["nonce"].as_str().unwrap())
            .unwrap();
        assert_eq!(nonce.len(), 24);
        // Field order as Go's encoding/json writes the struct.
        assert!(
            json.starts_with(
                r#"{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":""#
            )
        );
        assert_eq!(
            decrypt(json.as_bytes(), b"hunter2").unwrap(),
            b"pkcs8 bytes"
        );
    }

    #[test]
    fn a_wrong_password_fails_authentication() {
        let json = encrypt_with(b"secret", b"right", FAST).unwrap();
        assert_eq!(decrypt(json.as_bytes(), b"right").unwrap(), b"secret");
        assert_eq!(
            decrypt(json.as_bytes(), b"wrong"),
            Err(EncryptedError::Authentication)
        );
        assert_eq!(
            decrypt(json.as_bytes(), b""),
            Err(EncryptedError::Authentication)
        );
    }

    #[test]
    fn an_empty_password_works_as_in_cosign() {
        let json = encrypt_with(b"secret", b"", FAST).unwrap();
        assert_eq!(decrypt(json.as_bytes(), b"").unwrap(), b"secret");
    }

    fn tampered(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let json = encrypt_with(b"secret", b"pw", FAST).unwrap();
        let mut value = document(&json);
        edit(&mut value);
        value.to_string().into_bytes()
    }

    #[test]
    fn altered_ciphertext_fails_authentication() {
        let bytes = tampered(|v| {
            let mut c = STANDARD.decode(v["ciphertext"].as_str().unwrap()).unwrap();
            c[20] ^= 1;
            v["ciphertext"] = STANDARD.encode(c).into();
        });
        assert_eq!(decrypt(&bytes, b"pw"), Err(EncryptedError::Authentication));
    }

    #[test]
    fn truncated_ciphertext_is_refused() {
        let bytes = tampered(|v| v["ciphertext"] = STANDARD.encode([0u8; 15]).into());
        assert_eq!(
            decrypt(&bytes, b"pw"),
            Err(EncryptedError::Truncated { len: 15 })
        );
        // A whole tag with the body cut off still fails authentication.
        let bytes = tampered(|v| {
            let c = STANDARD.decode(v["ciphertext"].as_str().unwrap()).unwrap();
            v["ciphertext"] = STANDARD.encode(&c[..TAG_LEN + 2]).into();
        });
        assert_eq!(decrypt(&bytes, b"pw"), Err(EncryptedError::Authentication));
    }

    #[test]
    fn corrupt_base64_names_the_field() {
        let bytes = tampered(|v| v["ciphertext"] = "not base64!".into());
        assert_eq!(
            decrypt(&bytes, b"pw"),
            Err(EncryptedError::Base64 {
                field: "ciphertext"
            })
        );
        let bytes = tampered(|v| v["kdf"]["salt"] = "%%%%".into());
        assert_eq!(
            decrypt(&bytes, b"pw"),
            Err(EncryptedError::Base64 { field: "kdf.salt" })
        );
        let bytes = tampered(|v| v["cipher"]["nonce"] = STANDARD.encode([0u8; 12]).into());
        assert_eq!(
            decrypt(&bytes, b"pw"),
            Err(EncryptedError::NonceLength { len: 12 })
        );
    }

    #[test]
    fn bad_json_is_refused_without_quoting_it() {
        let error = decrypt(b"{\"kdf\": \"hunter2\"", b"pw").unwrap_err();
        assert!(matches!(error, EncryptedError::Json { .. }));
        assert!(!error.to_string().contains("hunter2"));
        let error = decrypt(b"{\"kdf\": \"hunter2\"}", b"pw").unwrap_err();
        assert!(matches!(error, EncryptedError::Json { .. }));
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(matches!(
            decrypt(b"not json", b"pw"),
            Err(EncryptedError::Json { .. })
        ));
    }

    #[test]
    fn other_kdfs_and_ciphers_are_refused() {
        let bytes = tampered(|v| v["kdf"]["name"] = "pbkdf2".into());
        assert_eq!(
            decrypt(&bytes, b"pw"),
            Err(EncryptedError::UnknownKdf {
                name: "pbkdf2".into()
            })
        );
        let bytes = tampered(|v| v["cipher"]["name"] = "aes-gcm".into());
        assert_eq!(
            decrypt(&bytes, b"pw"),
            Err(EncryptedError::UnknownCipher {
                name: "aes-gcm".into()
            })
        );
    }

    #[test]
    fn hostile_kdf_parameters_are_refused_before_scrypt_runs() {
        for (n, r, p) in [
            (1u64 << 21, 8u64, 1u64),
            (1 << 20, 32, 1),
            (3000, 8, 1),
            (0, 8, 1),
            (1, 8, 1),
            (16, 0, 1),
            (16, 33, 1),
            (16, 8, 0),
            (16, 8, 17),
            (u64::MAX, 8, 1),
        ] {
            let bytes =
                tampered(|v| v["kdf"]["params"] = serde_json::json!({"N": n, "r": r, "p": p}));
            assert_eq!(
                decrypt(&bytes, b"pw"),
                Err(EncryptedError::KdfParams { n, r, p }),
                "N={n} r={r} p={p}"
            );
        }
        let negative = tampered(|v| v["kdf"]["params"]["N"] = (-1).into());
        assert!(matches!(
            decrypt(&negative, b"pw"),
            Err(EncryptedError::Json { .. })
        ));
    }

    #[test]
    fn cosigns_parameters_are_within_bounds() {
        assert!(ScryptParams::COSIGN.checked().is_ok());
        let newer = ScryptParams {
            n: 65536,
            r: 8,
            p: 1,
        };
        assert!(newer.checked().is_ok());
    }
}
