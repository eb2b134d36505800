//! cosign-compatible signatures and attestations: signing keys (cosign's
//! encrypted PEM and PKCS#8) and keyless signing (an ephemeral key that
//! Fulcio certifies for the job's OIDC identity), the payloads cosign
//! signs, both ways cosign stores them in a registry (the legacy
//! `sha256-<hex>.sig`/`.att` tags and Sigstore bundle v0.3 referrers),
//! Rekor's transparency log, and verification of all of it — with a public
//! key, or with a Sigstore trusted root and an expected identity.

pub mod attest;
pub mod bundle;
pub mod certificate;
pub mod encrypted;
pub mod fulcio;
pub mod identity;
pub mod key;
pub mod legacy;
pub mod payload;
pub mod pem;
pub mod rekor;
pub mod sign;
pub mod signer;
pub mod store;
pub mod trust;
pub mod verify;

pub use bundle::Subject;
pub use key::{PublicKey, SigningKey};
pub use sign::{SignRequest, Signed, sign};
pub use verify::{Formats, Policy, Report, verify_image};
