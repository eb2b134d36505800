//! The trust store: the platform's roots plus an optional extra bundle.
//! There is no switch that skips verification.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::HttpError;

/// Where Linux distributions keep the system bundle, in the order OpenSSL's
/// probes look.
const SYSTEM_BUNDLES: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The certificates in a PEM file.
pub fn read_pem_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, HttpError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| HttpError::CaBundle {
        path: shown.clone(),
        source,
    })?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| HttpError::CaBundle {
            path: shown.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    if certs.is_empty() {
        return Err(HttpError::CaBundleEmpty { path: shown });
    }
    Ok(certs)
}

/// The system's roots plus every certificate in `extra` bundles.
pub fn root_store(extra: &[&Path]) -> Result<RootCertStore, HttpError> {
    let mut store = RootCertStore::empty();
    if let Some(system) = SYSTEM_BUNDLES
        .iter()
        .map(Path::new)
        .find(|path| path.is_file())
    {
        // A malformed entry in the system bundle is skipped, as OpenSSL does.
        store.add_parsable_certificates(read_pem_bundle(system).unwrap_or_default());
    }
    for bundle in extra {
        let certs = read_pem_bundle(bundle)?;
        let (_, rejected) = store.add_parsable_certificates(certs);
        if rejected > 0 && store.is_empty() {
            return Err(HttpError::CaBundleEmpty {
                path: bundle.display().to_string(),
            });
        }
    }
    if store.is_empty() {
        return Err(HttpError::NoRoots);
    }
    Ok(store)
}

/// The one crypto provider hoist uses (ring), for every TLS client.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration that verifies servers against `roots`.
pub fn client_config(roots: RootCertStore) -> Result<rustls::ClientConfig, HttpError> {
    Ok(
        rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(HttpError::Tls)?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
