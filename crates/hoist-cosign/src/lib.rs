//! cosign-compatible signatures: signing keys (cosign's encrypted PEM and
//! PKCS#8), the payloads cosign signs, both ways cosign stores signatures
//! in a registry (the legacy `sha256-<hex>.sig` tag and a Sigstore bundle
//! v0.3 pushed as an OCI 1.1 referrer), Rekor's transparency log, and
//! verification of all of it with a public key.

pub mod attest;
pub mod bundle;
pub mod encrypted;
pub mod key;
pub mod legacy;
pub mod payload;
pub mod pem;
pub mod rekor;
pub mod sign;
pub mod store;
pub mod verify;

pub use bundle::Subject;
pub use key::{PublicKey, SigningKey};
pub use sign::{SignRequest, Signed, sign};
pub use verify::{Formats, Policy, Report, verify_image};
