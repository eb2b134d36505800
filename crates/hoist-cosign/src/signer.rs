//! Who signs: a key the user holds, or an ephemeral key that Fulcio
//! certified for the job's OIDC identity (keyless). Both sign the same
//! payloads; they differ in what travels with the signature so that a
//! verifier can trust it — a key hint, or the certificate and its chain.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::certificate::Certificate;
use crate::key::{KeyError, PublicKey, SigningKey};
use crate::legacy::{CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION};
use crate::payload::b64;

/// An ephemeral key and the certificate Fulcio issued for it.
#[derive(Debug)]
pub struct Certified {
    key: SigningKey,
    chain: Vec<Certificate>,
}

impl Certified {
    /// Pairs `key` with `chain` (leaf first, as Fulcio returns it); `None`
    /// when the chain is empty or the leaf certifies another key.
    pub fn new(key: SigningKey, chain: Vec<Certificate>) -> Option<Self> {
        let leaf = chain.first()?;
        (leaf.public_key_spki() == key.public_key().spki_der()).then_some(Self { key, chain })
    }

    /// The signing certificate.
    pub fn leaf(&self) -> &Certificate {
        // `new` refuses an empty chain.
        &self.chain[0]
    }

    /// The certificate's identity: its first URI (or email) SAN.
    pub fn identity(&self) -> String {
        let leaf = self.leaf();
        leaf.san_uris()
            .into_iter()
            .chain(leaf.san_emails())
            .next()
            .unwrap_or_default()
    }

    /// The OIDC issuer the certificate records.
    pub fn issuer(&self) -> String {
        self.leaf().oidc_issuer().unwrap_or_default()
    }
}

/// What signs.
#[derive(Debug)]
pub enum Signer {
    /// A key the user holds.
    Key(SigningKey),
    /// An ephemeral key with a Fulcio certificate.
    Keyless(Certified),
}

impl Signer {
    /// Signs `message` (ECDSA P-256, SHA-256, ASN.1 DER).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.signing_key().sign(message)
    }

    /// The public key that verifies the signatures.
    pub fn public_key(&self) -> &PublicKey {
        self.signing_key().public_key()
    }

    fn signing_key(&self) -> &SigningKey {
        match self {
            Self::Key(key) => key,
            Self::Keyless(certified) => &certified.key,
        }
    }

    /// What Rekor records as the verifier: the public key's PEM, or the
    /// certificate's.
    pub fn verifier_pem(&self) -> String {
        match self {
            Self::Key(key) => key.public_key().to_pem(),
            Self::Keyless(certified) => certified.leaf().to_pem(),
        }
    }

    /// The legacy layer's annotations besides the signature and the bundle:
    /// for keyless, the certificate and the chain above it.
    pub fn layer_annotations(&self) -> BTreeMap<String, String> {
        let mut annotations = BTreeMap::new();
        if let Self::Keyless(certified) = self {
            annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), certified.leaf().to_pem());
            let chain: String = certified.chain[1..]
                .iter()
                .map(Certificate::to_pem)
                .collect();
            annotations.insert(CHAIN_ANNOTATION.to_owned(), chain);
        }
        annotations
    }

    /// A bundle's `verificationMaterial` besides the log entries: the key's
    /// hint, or the certificate (bundle v0.3 carries the leaf only; the
    /// chain comes from the verifier's trusted root).
    pub fn verification_material(&self) -> Value {
        match self {
            Self::Key(key) => json!({ "publicKey": { "hint": key.public_key().hint() } }),
            Self::Keyless(certified) => {
                json!({ "certificate": { "rawBytes": b64(certified.leaf().der()) } })
            }
        }
    }

    /// The certificate, when keyless.
    pub fn certified(&self) -> Option<&Certified> {
        match self {
            Self::Key(_) => None,
            Self::Keyless(certified) => Some(certified),
        }
    }
}
