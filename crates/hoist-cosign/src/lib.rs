//! cosign-compatible signatures: signing keys (cosign's encrypted PEM and
//! PKCS#8), the payloads cosign signs, both ways cosign stores signatures
//! in a registry (the legacy `sha256-<hex>.sig` tag and a Sigstore bundle
//! v0.3 pushed as an OCI 1.1 referrer), Rekor's transparency log, and
//! verification of all of it with a public key.

pub mod encrypted;
pub mod key;
pub mod pem;
