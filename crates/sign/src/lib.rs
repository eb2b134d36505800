//! sign: signs and attests an image the way cosign does — keyless (the
//! job's OIDC identity certified by Fulcio) or with a key — as the legacy
//! `sha256-<hex>.sig`/`.att` tags, Sigstore bundle v0.3 referrers, or
//! both, each signature logged in Rekor; or verifies them.

pub mod keyless;
pub mod report;
pub mod settings;
pub mod spec;

use std::sync::Arc;

use hoist_cosign::attest::{self, AttestError, GitHubContext};
use hoist_cosign::identity::{Identity, IdentityError};
use hoist_cosign::key::{self, KeyError, PublicKey, SigningKey};
use hoist_cosign::rekor::{RekorClient, RekorError};
use hoist_cosign::sign::{Attestation, SignError, Signed};
use hoist_cosign::signer::Signer;
use hoist_cosign::store::StoreError;
use hoist_cosign::trust::{TrustError, TrustedRoot};
use hoist_cosign::verify::{self, Keyless, Trust};
use hoist_cosign::{Policy, SignRequest, Subject};
use hoist_http::{Backoff, HttpClient, HttpError, HttpOptions, RetryPolicy, SystemClock};
use hoist_oci::registry::{Registry, RegistryError};
use hoist_oci::{Digest, media};
use hoist_runner::{Diagnostic, FileCommandError, InputError, Runner};

pub use keyless::KeylessError;
pub use settings::{Mode, Settings};
pub use spec::SPEC;

/// The binary's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A failure of sign.
#[derive(Debug, thiserror::Error)]
pub enum SignActionError {
    /// An input is missing or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A key cannot be read or used.
    #[error("input `{input}`: {source}")]
    Key {
        /// The input that held it.
        input: &'static str,
        /// What is wrong.
        #[source]
        source: KeyError,
    },
    /// A file input could not be read.
    #[error("input `{input}`: cannot read {path}")]
    Read {
        /// The input.
        input: &'static str,
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The trusted root is not a Sigstore trusted_root.json hoist can use.
    #[error("input `trusted-root`: {path}")]
    TrustedRoot {
        /// The file (or "(built in)").
        path: String,
        /// What is wrong.
        #[source]
        source: TrustError,
    },
    /// The SBOM cannot be attested.
    #[error("input `sbom`: {path}")]
    Sbom {
        /// The file.
        path: String,
        /// What is wrong.
        #[source]
        source: AttestError,
    },
    /// The GitHub context lacks what provenance records.
    #[error("input `provenance`: the run's GitHub context is incomplete")]
    Provenance(#[source] AttestError),
    /// The identity inputs do not make an identity.
    #[error(transparent)]
    Identity(IdentityError),
    /// Keyless signing could not get a certificate.
    #[error(transparent)]
    Keyless(#[from] KeylessError),
    /// Logging in to the registry failed.
    #[error(transparent)]
    Login(#[from] ecr_push::PushActionError),
    /// HTTP setup failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The registry failed.
    #[error("registry {registry}: {source}")]
    Registry {
        /// The registry host.
        registry: String,
        /// What failed.
        #[source]
        source: RegistryError,
    },
    /// The image is not in the registry.
    #[error("{image} is not in the registry")]
    NotFound {
        /// The image reference.
        image: String,
    },
    /// The image is an index or something else that is not signed here.
    #[error("{image} is a `{media_type}`, not an image manifest or index")]
    NotAnImage {
        /// The image reference.
        image: String,
        /// What it is.
        media_type: String,
    },
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// Reading signatures failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No signature (or attestation) verified.
    #[error("no {what} of {image} verifies{}", report::reasons(.findings))]
    NotVerified {
        /// The image.
        image: String,
        /// What was looked for: a signature, or an attestation type.
        what: String,
        /// What was found and why each failed.
        findings: Vec<hoist_cosign::verify::Finding>,
    },
    /// The runner's files could not be written.
    #[error(transparent)]
    Files(#[from] FileCommandError),
    /// The async runtime could not start.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl Diagnostic for SignActionError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Input(error) => return error.hint(),
            Self::Http(error) => return error.hint(),
            Self::Files(error) => return error.hint(),
            Self::Login(error) => return error.hint(),
            Self::Key { source, .. } => source.hint(),
            Self::Read { input, .. } => format!("check the path in `{input}` (relative paths start at the workspace)"),
            Self::TrustedRoot { source, .. } => source.hint(),
            Self::Sbom { .. } => "pass an SPDX JSON or CycloneDX JSON SBOM (`syft IMAGE -o spdx-json`), with a matching `sbom-format` or none".into(),
            Self::Provenance(_) => "provenance is built from the GitHub run: run it in GitHub Actions (or set the GITHUB_* variables it names)".into(),
            Self::Identity(error) => error.hint(),
            Self::Keyless(error) => error.hint(),
            Self::Registry { source: RegistryError::Unauthorized { .. }, .. } => {
                "pass `registry-username`/`registry-password`, run oidc-assume for ECR, or log in so the Docker config has the registry".into()
            }
            Self::Registry { source: RegistryError::Http(error), .. } => return error.hint(),
            Self::Registry { .. } => "check the registry and repository names and that the credentials may read them".into(),
            Self::NotFound { .. } => "push the image first (ecr-push), and sign the digest it printed".into(),
            Self::NotAnImage { .. } => "sign the image manifest or index the image reference names".into(),
            Self::Sign(SignError::Key(error)) => error.hint(),
            Self::Sign(SignError::Rekor(_)) => "Rekor may be down: re-run later, raise `rekor-timeout`, or set `tlog-upload: false` where no log is wanted".into(),
            Self::Sign(SignError::Store(error)) | Self::Store(error) => store_hint(error),
            Self::NotVerified { .. } => "sign the image first (mode: sign), or check `key` or `certificate-identity`/`certificate-oidc-issuer` (and the `certificate-github-workflow-*` pins), `format`, `annotations` and `trusted-root`".into(),
            Self::Runtime(_) => "this is a bug in hoist or an exhausted runner: please report it with the step's log".into(),
        })
    }
}

fn store_hint(error: &StoreError) -> String {
    match error {
        StoreError::Immutable { .. } => "the repository's tags are immutable, so the sha256-<hex>.sig tag cannot take another signature: set tag mutability to IMMUTABLE_WITH_EXCLUSION with a `sha256-*` exclusion (ecr-push's `create-repository` does), or use `format: bundle`".into(),
        StoreError::LostRaces { .. } => "other jobs are signing the same image at the same time: re-run this step".into(),
        StoreError::TooManySignatures { .. } => "the image has 1000 legacy signatures: use `format: bundle`".into(),
        StoreError::NotASignatureManifest { .. } => "something other than cosign wrote that tag: remove it, or use the other format".into(),
        StoreError::Registry(RegistryError::Http(error)) => error.hint().unwrap_or_default(),
        StoreError::Registry(_) => "check the credentials may push to the repository".into(),
    }
}

/// Reads a key input (path, `env://`, PEM); a private key (`secret`) is
/// masked line by line as soon as it is read.
fn key_text(
    runner: &mut Runner,
    settings: &Settings,
    input: &'static str,
    value: &str,
    secret: bool,
) -> Result<String, SignActionError> {
    let text = key::read_key_text(value, runner.environment(), settings.workspace.as_deref())
        .map_err(|source| SignActionError::Key { input, source })?;
    if secret {
        runner.mask(&text);
    }
    Ok(text)
}

/// The `trusted-root` file, or the public-good root built in.
fn trusted_root(settings: &Settings) -> Result<TrustedRoot, SignActionError> {
    let Some(path) = &settings.trusted_root else {
        return TrustedRoot::public_good().map_err(|source| SignActionError::TrustedRoot {
            path: "(built in)".into(),
            source,
        });
    };
    let path = match &settings.workspace {
        Some(workspace) if path.is_relative() => workspace.join(path),
        _ => path.clone(),
    };
    let shown = path.display().to_string();
    let bytes = read_capped(&path, MAX_TRUSTED_ROOT).map_err(|source| SignActionError::Read {
        input: "trusted-root",
        path: shown.clone(),
        source,
    })?;
    TrustedRoot::from_json(&bytes).map_err(|source| SignActionError::TrustedRoot {
        path: shown,
        source,
    })
}

/// The largest trusted root read.
const MAX_TRUSTED_ROOT: u64 = 4 * 1024 * 1024;

/// Reads a file of at most `max` bytes.
fn read_capped(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!(
            "it is larger than {max} bytes"
        )));
    }
    Ok(bytes)
}

/// The SBOM attestation asked for, read and checked.
fn sbom_attestation(settings: &Settings) -> Result<Option<Attestation>, SignActionError> {
    let Some(path) = &settings.sbom else {
        return Ok(None);
    };
    let path = match &settings.workspace {
        Some(workspace) if path.is_relative() => workspace.join(path),
        _ => path.clone(),
    };
    let shown = path.display().to_string();
    let bytes =
        read_capped(&path, attest::MAX_SBOM_SIZE).map_err(|source| SignActionError::Read {
            input: "sbom",
            path: shown.clone(),
            source,
        })?;
    let sbom = attest::read_sbom(&bytes, settings.sbom_format).map_err(|source| {
        SignActionError::Sbom {
            path: shown,
            source,
        }
    })?;
    Ok(Some(Attestation {
        predicate_type: sbom.format.predicate_type().to_owned(),
        predicate: sbom.document,
    }))
}

/// Runs sign.
pub fn run(runner: &mut Runner) -> Result<(), SignActionError> {
    // The password may come from the environment rather than a secret input.
    if let Some(password) = runner.env("COSIGN_PASSWORD").map(String::from) {
        runner.mask(&password);
    }
    let settings = Settings::read(runner)?;
    let private = settings.mode == Mode::Sign;
    let key = match &settings.signer {
        settings::Signer::Key(value) => {
            Some(key_text(runner, &settings, "key", &value.clone(), private)?)
        }
        settings::Signer::Keyless => None,
    };
    let rekor_key = match settings.rekor_key.clone() {
        Some(value) => {
            let text = key_text(runner, &settings, "rekor-public-key", &value, false)?;
            Some(
                PublicKey::from_pem(&text).map_err(|source| SignActionError::Key {
                    input: "rekor-public-key",
                    source,
                })?,
            )
        }
        None => None,
    };
    let root = match key {
        None => Some(trusted_root(&settings)?),
        Some(_) => None,
    };
    let sbom = match settings.mode {
        Mode::Sign => sbom_attestation(&settings)?,
        Mode::Verify => None,
    };
    let env = runner.environment().clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(SignActionError::Runtime)?;
    let (host, credentials, _) = ecr_push::log_in(&runtime, &settings.login, &env)?;
    if let Some(credentials) = &credentials {
        runner.mask(&credentials.password);
        runner.console().mask_with_base64(&format!(
            "{}:{}",
            credentials.username, credentials.password
        ));
    }
    let mut http_options = HttpOptions::new(SPEC.name, VERSION);
    http_options.ca_bundle = settings.login.ca_bundle.clone();
    let http = HttpClient::new(&http_options, &env)?;
    let clock = Arc::new(SystemClock::default());
    let backoff = Backoff::default().scaled_by_env(&env);
    let registry = Registry::new(
        http.clone(),
        hoist_http::registry_base(&host, settings.insecure)?,
        &settings.repository,
        credentials,
        RetryPolicy {
            backoff,
            ..RetryPolicy::default()
        },
        clock.clone(),
    );
    let registry = match settings.mode {
        Mode::Sign => registry,
        Mode::Verify => registry.read_only(),
    };
    let registry_error = |source| SignActionError::Registry {
        registry: host.clone(),
        source,
    };
    let image = format!("{host}/{}", settings.repository);
    let subject = runtime.block_on(async {
        registry.login(&[]).await.map_err(registry_error)?;
        resolve(&registry, &settings, &image)
            .await
            .map_err(|e| match e {
                Resolve::Registry(source) => registry_error(source),
                Resolve::Action(error) => error,
            })
    })?;
    // Sigstore's services have long outages: retry them for minutes.
    let sigstore_policy = RetryPolicy {
        max_attempts: 50,
        deadline: Some(settings.rekor_timeout),
        backoff,
    };

    match settings.mode {
        Mode::Sign => {
            let (signer, claims) = match (key, &root) {
                (Some(key), _) => {
                    let key = SigningKey::from_pem(&key, settings.password.as_deref()).map_err(
                        |source| SignActionError::Key {
                            input: "key",
                            source,
                        },
                    )?;
                    (Signer::Key(key), None)
                }
                (None, Some(root)) => {
                    let certification = runtime.block_on(keyless::certify(
                        runner,
                        &http,
                        &sigstore_policy,
                        clock.clone(),
                        &settings.fulcio,
                        root,
                    ))?;
                    (
                        Signer::Keyless(certification.certified),
                        Some(certification.claims),
                    )
                }
                (None, None) => return Err(SignActionError::Keyless(KeylessError::NoIdToken)),
            };
            let mut attestations: Vec<Attestation> = sbom.into_iter().collect();
            if settings.provenance {
                let github = match &claims {
                    Some(claims) => GitHubContext::from_claims(claims, Some(&server_url(runner))),
                    None => GitHubContext::from_env(runner.environment()),
                }
                .map_err(SignActionError::Provenance)?;
                attestations.push(Attestation {
                    predicate_type: attest::SLSA_PROVENANCE_V1_PREDICATE_TYPE.to_owned(),
                    predicate: attest::provenance(&github),
                });
            }
            let rekor = settings
                .rekor
                .clone()
                .map(|url| RekorClient::new(http.clone(), url, sigstore_policy, clock.clone()));
            let request = SignRequest {
                docker_reference: match &settings.image.tag {
                    Some(tag) => format!("{image}:{tag}"),
                    None => image.clone(),
                },
                subject: subject.clone(),
                annotations: settings.annotations.clone(),
                formats: settings.formats,
                created: report::now_rfc3339(),
                attestations,
            };
            let signed = runtime.block_on(hoist_cosign::sign(
                &registry,
                rekor.as_ref(),
                &signer,
                &request,
            ))?;
            check_log_entries(&signed, rekor_key.as_ref(), root.as_ref())?;
            report::signed(runner, &settings, &image, &subject.digest, &signer, &signed)
        }
        Mode::Verify => {
            let trust = match (key, root, &settings.identity) {
                (Some(key), _, _) => Trust::Key(PublicKey::from_pem(&key).map_err(|source| {
                    SignActionError::Key {
                        input: "key",
                        source,
                    }
                })?),
                (None, Some(root), Some(expected)) => {
                    let identity = Identity::new(
                        expected.exact.as_deref(),
                        expected.regexp.as_deref(),
                        &expected.issuer,
                    )
                    .map_err(SignActionError::Identity)?
                    .with_pins(expected.pins.clone());
                    Trust::Keyless(Arc::new(Keyless { root, identity }))
                }
                _ => return Err(SignActionError::Keyless(KeylessError::NoIdToken)),
            };
            let policy = Policy {
                trust,
                rekor_key,
                annotations: settings.annotations.clone(),
                formats: settings.formats,
            };
            let pinned = format!("{image}@{}", subject.digest);
            let found = runtime.block_on(hoist_cosign::verify_image(
                &registry,
                &subject.digest,
                &policy,
            ))?;
            if !found.is_verified() {
                return Err(SignActionError::NotVerified {
                    image: pinned,
                    what: "signature".into(),
                    findings: found.findings,
                });
            }
            let mut required = Vec::new();
            if let Some(format) = settings.sbom_format {
                required.push(format.predicate_type());
            }
            if settings.provenance {
                required.push(attest::SLSA_PROVENANCE_V1_PREDICATE_TYPE);
            }
            let mut attested = Vec::new();
            for predicate_type in required {
                let report = runtime.block_on(verify::verify_attestations(
                    &registry,
                    &subject.digest,
                    &policy,
                    predicate_type,
                ))?;
                if !report.is_verified() {
                    return Err(SignActionError::NotVerified {
                        image: pinned,
                        what: format!("`{predicate_type}` attestation"),
                        findings: report.findings,
                    });
                }
                attested.push((predicate_type, report));
            }
            report::verified(runner, &image, &subject.digest, &found, &attested)
        }
    }
}

/// `GITHUB_SERVER_URL`, or github.com.
fn server_url(runner: &Runner) -> String {
    runner
        .env("GITHUB_SERVER_URL")
        .filter(|v| !v.is_empty())
        .unwrap_or("https://github.com")
        .to_owned()
}

/// Checks the new log entries offline: with `rekor-public-key` when given,
/// and always, for keyless signatures, with the trusted root's log key.
fn check_log_entries(
    signed: &Signed,
    rekor_key: Option<&PublicKey>,
    root: Option<&TrustedRoot>,
) -> Result<(), SignActionError> {
    let refused = |reason: String| SignError::Rekor(RekorError::Answer(reason));
    for entry in signed.log_entries() {
        let key = match (rekor_key, root) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(root)) => {
                let log_id = hoist_cosign::rekor::unhex(&entry.log_id).unwrap_or_default();
                let key = root
                    .tlog_key(&log_id, entry.integrated_time)
                    .and_then(|key| PublicKey::from_spki_der(key.spki_der()).ok())
                    .ok_or_else(|| {
                        refused(format!(
                            "the log {} is not in the trusted root, so its entries cannot be checked",
                            entry.log_id
                        ))
                    })?;
                Some(key)
            }
            (None, None) => None,
        };
        if let Some(key) = key {
            entry.verify(&key).map_err(|e| refused(e.to_string()))?;
        }
    }
    Ok(())
}

enum Resolve {
    Registry(RegistryError),
    Action(SignActionError),
}

impl From<RegistryError> for Resolve {
    fn from(error: RegistryError) -> Self {
        Self::Registry(error)
    }
}

/// The manifest the image names, by digest (a tag is resolved first).
async fn resolve(
    registry: &Registry,
    settings: &Settings,
    image: &str,
) -> Result<Subject, Resolve> {
    let reference = settings
        .image
        .digest
        .clone()
        .or_else(|| settings.image.tag.clone())
        .unwrap_or_default();
    let shown = format!(
        "{image}{}{reference}",
        if settings.image.digest.is_some() {
            "@"
        } else {
            ":"
        }
    );
    let not_found = || {
        Resolve::Action(SignActionError::NotFound {
            image: shown.clone(),
        })
    };
    let digest = match &settings.image.digest {
        Some(digest) => Digest::parse(digest).map_err(|_| not_found())?,
        None => registry
            .manifest_digest(&reference)
            .await?
            .ok_or_else(not_found)?,
    };
    let manifest = registry
        .get_manifest(digest.as_str())
        .await?
        .ok_or_else(not_found)?;
    if !media::is_manifest(&manifest.media_type) && !media::is_index(&manifest.media_type) {
        return Err(Resolve::Action(SignActionError::NotAnImage {
            image: shown,
            media_type: manifest.media_type,
        }));
    }
    Ok(Subject {
        media_type: manifest.media_type,
        size: manifest.bytes.len() as u64,
        digest,
    })
}
