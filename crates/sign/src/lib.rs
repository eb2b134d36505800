//! sign: signs an image with a key the way cosign does — the legacy
//! `sha256-<hex>.sig` tag, a Sigstore bundle v0.3 referrer, or both — with
//! each signature logged in Rekor; or verifies such signatures with the
//! public key.

pub mod report;
pub mod settings;
pub mod spec;

use std::sync::Arc;

use hoist_cosign::key::{self, KeyError, PublicKey, SigningKey};
use hoist_cosign::rekor::RekorClient;
use hoist_cosign::sign::SignError;
use hoist_cosign::store::StoreError;
use hoist_cosign::{Policy, SignRequest, Subject};
use hoist_http::{Backoff, HttpClient, HttpError, HttpOptions, RetryPolicy, SystemClock};
use hoist_oci::registry::{Registry, RegistryError};
use hoist_oci::{Digest, media};
use hoist_runner::{Diagnostic, FileCommandError, InputError, Runner};

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
    /// No signature verified.
    #[error("no signature of {image} verifies with the key{}", report::reasons(.findings))]
    NotVerified {
        /// The image.
        image: String,
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
            Self::NotVerified { .. } => "sign the image with the matching private key first (mode: sign), or check `key`, `format` and `annotations`".into(),
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

/// Runs sign.
pub fn run(runner: &mut Runner) -> Result<(), SignActionError> {
    // The password may come from the environment rather than a secret input.
    if let Some(password) = runner.env("COSIGN_PASSWORD").map(String::from) {
        runner.mask(&password);
    }
    let settings = Settings::read(runner)?;
    let private = settings.mode == Mode::Sign;
    let key = key_text(runner, &settings, "key", &settings.key.clone(), private)?;
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

    match settings.mode {
        Mode::Sign => {
            let signing_key =
                SigningKey::from_pem(&key, settings.password.as_deref()).map_err(|source| {
                    SignActionError::Key {
                        input: "key",
                        source,
                    }
                })?;
            let rekor = settings.rekor.clone().map(|url| {
                RekorClient::new(
                    http.clone(),
                    url,
                    RetryPolicy {
                        max_attempts: 50,
                        deadline: Some(settings.rekor_timeout),
                        backoff,
                    },
                    clock.clone(),
                )
            });
            let request = SignRequest {
                docker_reference: match &settings.image.tag {
                    Some(tag) => format!("{image}:{tag}"),
                    None => image.clone(),
                },
                subject: subject.clone(),
                annotations: settings.annotations.clone(),
                formats: settings.formats,
                created: report::now_rfc3339(),
            };
            let signed = runtime.block_on(hoist_cosign::sign(
                &registry,
                rekor.as_ref(),
                &signing_key,
                &request,
            ))?;
            if let (Some(rekor_key), Some(entry)) = (
                &rekor_key,
                signed
                    .legacy
                    .iter()
                    .chain(signed.bundle.iter())
                    .find_map(|f| f.log_entry.as_ref()),
            ) {
                entry.verify(rekor_key).map_err(|e| {
                    SignError::Rekor(hoist_cosign::rekor::RekorError::Answer(e.to_string()))
                })?;
            }
            report::signed(
                runner,
                &settings,
                &image,
                &subject.digest,
                &signing_key,
                &signed,
            )
        }
        Mode::Verify => {
            let public_key = PublicKey::from_pem(&key).map_err(|source| SignActionError::Key {
                input: "key",
                source,
            })?;
            let policy = Policy {
                key: public_key,
                rekor_key,
                annotations: settings.annotations.clone(),
                formats: settings.formats,
            };
            let found = runtime.block_on(hoist_cosign::verify_image(
                &registry,
                &subject.digest,
                &policy,
            ))?;
            if !found.is_verified() {
                return Err(SignActionError::NotVerified {
                    image: format!("{image}@{}", subject.digest),
                    findings: found.findings,
                });
            }
            report::verified(runner, &image, &subject.digest, &found)
        }
    }
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
