//! The trust store: the platform's roots plus an optional extra bundle.
//! There is no switch that skips verification.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

/// The PEM bundles hoist trusts: the system's, `SSL_CERT_FILE`, and the
/// `ca-bundle` input. Every client (reqwest, the AWS SDK's) is built from the
/// same list.
#[derive(Debug, Clone)]
pub struct TrustedBundles {
    system: Option<PathBuf>,
    extra: Vec<PathBuf>,
}

impl TrustedBundles {
    /// The bundles for this environment and `ca_bundle`.
    pub fn new(env: &BTreeMap<String, String>, ca_bundle: Option<&Path>) -> Self {
        let system = SYSTEM_BUNDLES
            .iter()
            .map(PathBuf::from)
            .find(|path| path.is_file());
        let mut extra: Vec<PathBuf> = env
            .get("SSL_CERT_FILE")
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .into_iter()
            .collect();
        extra.extend(ca_bundle.map(Path::to_path_buf));
        Self { system, extra }
    }

    /// Each bundle's certificates. A malformed system bundle is skipped, as
    /// OpenSSL does; a bad extra bundle is an error.
    pub fn certificates(&self) -> Result<Vec<CertificateDer<'static>>, HttpError> {
        let mut certs = self
            .system
            .as_deref()
            .and_then(|system| read_pem_bundle(system).ok())
            .unwrap_or_default();
        for bundle in &self.extra {
            certs.extend(read_pem_bundle(bundle)?);
        }
        if certs.is_empty() {
            return Err(HttpError::NoRoots);
        }
        Ok(certs)
    }

    /// A rustls root store of every certificate.
    pub fn root_store(&self) -> Result<RootCertStore, HttpError> {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(self.certificates()?);
        if store.is_empty() {
            return Err(HttpError::NoRoots);
        }
        Ok(store)
    }

    /// Every certificate as one PEM text, for clients that take PEM.
    pub fn pem(&self) -> Result<String, HttpError> {
        use base64::Engine as _;
        let mut pem = String::new();
        for cert in self.certificates()? {
            let encoded = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
            pem.push_str("-----BEGIN CERTIFICATE-----\n");
            for line in encoded.as_bytes().chunks(64) {
                pem.push_str(&String::from_utf8_lossy(line));
                pem.push('\n');
            }
            pem.push_str("-----END CERTIFICATE-----\n");
        }
        Ok(pem)
    }
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
