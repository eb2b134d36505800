//! ecr-push: pushes an image built elsewhere (an OCI layout, an OCI archive,
//! a `docker save` tar) to a registry without a Docker daemon — blobs in
//! parallel and streamed, manifests after them, tags last, and never a tag
//! moved to another digest unless asked.

pub use hoist_oci::docker_config;
pub mod ecr;
pub mod spec;
pub mod tags;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hoist_http::{Backoff, HttpClient, HttpError, HttpOptions, RetryPolicy, SystemClock};
use hoist_oci::push::{PushError, PushOptions, PushReport, push};
use hoist_oci::registry::{Credentials, Registry, RegistryError};
use hoist_oci::{ImageSource, SourceError, reference};
use hoist_runner::{Diagnostic, FileCommandError, InputError, Runner};

pub use spec::SPEC;
use tags::{GitContext, TagError};

/// The binary's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A failure of ecr-push.
#[derive(Debug, thiserror::Error)]
pub enum PushActionError {
    /// An input is missing or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A tag or tag rule is wrong.
    #[error(transparent)]
    Tag(#[from] TagError),
    /// The image source cannot be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// HTTP setup or a request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The push failed.
    #[error(transparent)]
    Push(#[from] PushError),
    /// The Docker config cannot be used.
    #[error(transparent)]
    DockerConfig(#[from] docker_config::DockerConfigError),
    /// The runner's files could not be written.
    #[error(transparent)]
    Files(#[from] FileCommandError),
    /// ECR's API failed.
    #[error(transparent)]
    Ecr(#[from] ecr::EcrError),
    /// The AWS HTTP client could not be set up.
    #[error(transparent)]
    AwsSetup(#[from] hoist_aws::AwsSetupError),
    /// No region for ECR could be found.
    #[error("no AWS region is set for ECR")]
    NoRegion,
    /// The async runtime could not start.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The whole push took longer than `timeout`.
    #[error("the push did not finish within {0:?}; nothing was tagged")]
    Timeout(Duration),
}

impl Diagnostic for PushActionError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Input(error) => return error.hint(),
            Self::Http(error) => return error.hint(),
            Self::Files(error) => return error.hint(),
            Self::Tag(error) => error.hint(),
            Self::Source(SourceError::Missing(_) | SourceError::NotAnImage(_)) => {
                "point `source` at `docker buildx build --output type=oci,dest=image.tar` (or `type=oci,tar=false,dest=dir`) or a `docker save` tar".into()
            }
            Self::Source(SourceError::NoPlatform { .. }) => "list platforms the index has in `platforms`, or drop the input to push all".into(),
            Self::Source(SourceError::Ambiguous(_)) => "save or build a single image (or one multi-platform index) into the source".into(),
            Self::Source(SourceError::NotRegular { .. }) => "point `source` at a regular file or a layout directory of regular files (not a FIFO or a device)".into(),
            Self::Source(SourceError::Escapes { .. }) => "copy the file into the layout: its symlinks must stay inside it".into(),
            Self::Source(_) => "the image source is damaged: build it again".into(),
            Self::Push(PushError::TagExists { tag, .. }) => format!(
                "tags are immutable here: push a new tag, or set `immutable-guard: false` to move `{tag}` on purpose"
            ),
            Self::Push(PushError::TagImmutable { .. }) => "the repository's tags are immutable: push a new tag (type=sha gives one per commit)".into(),
            Self::Push(PushError::Registry(RegistryError::Api { status: 403, message, .. }))
                if message.contains("quota") || message.contains("limit") =>
            {
                "an ECR service quota was reached (images per repository: 100,000): expire old images with a lifecycle policy, or ask AWS for a higher quota".into()
            }
            Self::Push(PushError::Registry(RegistryError::Unauthorized { anonymous: true, .. })) => {
                "pass `registry-username` and `registry-password`, or log in first so the Docker config has the registry".into()
            }
            Self::Push(PushError::Registry(RegistryError::Unauthorized { .. })) => {
                "check `registry-username`/`registry-password` (or the Docker config's auths entry) and that they may push to the repository".into()
            }
            Self::Push(PushError::Registry(RegistryError::Http(error))) => return error.hint(),
            Self::Push(PushError::Registry(RegistryError::Source(_))) => "the image source is damaged: build it again".into(),
            Self::Push(PushError::Registry(_)) => "check the repository exists and the credentials may push to it; nothing was tagged".into(),
            Self::DockerConfig(_) => "pass `registry-username` and `registry-password` instead, or fix the Docker config".into(),
            Self::Timeout(_) => "raise `timeout`, or check the network to the registry".into(),
            Self::Ecr(error) => error.hint(),
            Self::AwsSetup(hoist_aws::AwsSetupError::Trust(error)) => return error.hint(),
            Self::AwsSetup(_) => "check HTTPS_PROXY/HTTP_PROXY; if they are right, report this with the step's log".into(),
            Self::NoRegion => "set `aws-region`, or run oidc-assume first (it exports AWS_REGION)".into(),
            Self::Runtime(_) => "this is a bug in hoist or an exhausted runner: please report it with the step's log".into(),
        })
    }
}

/// Everything the inputs say, checked.
struct Settings {
    source: PathBuf,
    login: RegistryLogin,
    create_repository: bool,
    lifecycle_policy: Option<PathBuf>,
    docker_login: bool,
    repository: String,
    tag_lines: Vec<String>,
    platforms: Vec<String>,
    insecure: bool,
    options: PushOptions,
    attempts: u32,
    timeout: Duration,
}

/// Where a registry's credentials come from: given, the Docker config, or
/// ECR through the AWS credentials in the environment. Shared with `sign`.
#[derive(Debug, Clone, Default)]
pub struct RegistryLogin {
    /// The registry host; `None` for the AWS account's ECR registry.
    pub registry: Option<String>,
    /// The AWS region for ECR.
    pub region: Option<String>,
    /// `registry-username`.
    pub username: Option<String>,
    /// `registry-password`.
    pub password: Option<String>,
    /// Extra CA certificates for the registry and AWS.
    pub ca_bundle: Option<PathBuf>,
}

impl Settings {
    fn read(runner: &Runner) -> Result<Self, InputError> {
        let inputs = runner.inputs();
        let source = PathBuf::from(inputs.required("source")?);
        let source = match runner.env("GITHUB_WORKSPACE") {
            Some(workspace) if source.is_relative() => PathBuf::from(workspace).join(source),
            _ => source,
        };
        let registry = inputs.get("registry").map(String::from);
        if let Some(registry) = &registry {
            reference::validate_registry(registry).map_err(|reason| {
                InputError::invalid("registry", reason, "write the registry as host[:port], such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com`")
            })?;
        }
        let region = inputs.get("aws-region").map(String::from);
        if let Some(region) = &region
            && !(region.len() <= 32
                && region.split('-').count() >= 3
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        {
            return Err(InputError::invalid(
                "aws-region",
                format!("`{region}` is not an AWS region"),
                "write a region code such as `eu-west-1`",
            ));
        }
        let workspace_path = |value: &str| match runner.env("GITHUB_WORKSPACE") {
            Some(workspace) if Path::new(value).is_relative() => {
                PathBuf::from(workspace).join(value)
            }
            _ => PathBuf::from(value),
        };
        let repository = inputs.required("repository")?.to_owned();
        reference::validate_repository(&repository).map_err(|reason| {
            InputError::invalid(
                "repository",
                reason,
                "use lower-case names such as `myshop/myshop-api`",
            )
        })?;
        let mount_from = inputs.names("mount-from");
        for from in &mount_from {
            reference::validate_repository(from).map_err(|reason| {
                InputError::invalid(
                    "mount-from",
                    reason,
                    "list repository names on the same registry",
                )
            })?;
        }
        let platforms = inputs.names("platforms");
        for platform in &platforms {
            let parts = platform.split('/').count();
            if !(2..=3).contains(&parts)
                || platform.split('/').any(str::is_empty)
                || platform.contains(char::is_whitespace)
            {
                return Err(InputError::invalid(
                    "platforms",
                    format!("`{platform}` is not os/arch[/variant]"),
                    "write platforms such as `linux/amd64, linux/arm64/v8`",
                ));
            }
        }
        let username = inputs.get("registry-username").map(String::from);
        let password = inputs.get("registry-password").map(String::from);
        if username.is_some() != password.is_some() {
            return Err(InputError::invalid(
                "registry-password",
                "registry-username and registry-password go together",
                "set both, or neither to use the Docker config",
            ));
        }
        let timeout = inputs
            .duration("timeout")?
            .unwrap_or(Duration::from_secs(1800));
        if timeout.is_zero() {
            return Err(InputError::invalid(
                "timeout",
                "it must be longer than zero",
                "write a duration such as `30m`",
            ));
        }
        Ok(Self {
            source,
            login: RegistryLogin {
                registry,
                region,
                username,
                password,
                ca_bundle: inputs.get("ca-bundle").map(PathBuf::from),
            },
            create_repository: inputs.bool("create-repository")?,
            lifecycle_policy: inputs.get("lifecycle-policy").map(workspace_path),
            docker_login: inputs.bool("docker-login")?,
            repository,
            tag_lines: inputs.lines("tags"),
            platforms,
            insecure: inputs.bool("insecure-registry")?,
            options: PushOptions {
                concurrency: inputs.number("concurrency", 1, 16)?.unwrap_or(4) as usize,
                mount_from,
                immutable_guard: inputs.bool("immutable-guard")?,
            },
            attempts: inputs.number("retry-max-attempts", 1, 20)?.unwrap_or(5) as u32,
            timeout,
        })
    }
}

/// Where the registry credentials come from.
enum Login {
    /// `registry-username` / `registry-password`, or the Docker config.
    Given(Option<Credentials>),
    /// ECR's `GetAuthorizationToken` with the AWS credentials in the environment.
    Ecr,
}

/// ECR login is used for an ECR host or an omitted registry, and for any
/// other registry when no credentials were given, the Docker config has
/// none, and AWS credentials are in the environment (how tests and VPC
/// endpoints point the data path elsewhere).
fn choose_login(
    settings: &RegistryLogin,
    env: &hoist_http::Environment,
) -> Result<Login, PushActionError> {
    if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
        return Ok(Login::Given(Some(Credentials {
            username: username.clone(),
            password: password.clone(),
        })));
    }
    let Some(registry) = &settings.registry else {
        return Ok(Login::Ecr);
    };
    if ecr::EcrHost::parse(registry).is_some() {
        return Ok(Login::Ecr);
    }
    if let Some(credentials) = docker_config::credentials(env, registry)? {
        return Ok(Login::Given(Some(credentials)));
    }
    let has_aws = [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|name| env.get(*name).is_some_and(|v| !v.is_empty()));
    Ok(if has_aws {
        Login::Ecr
    } else {
        Login::Given(None)
    })
}

/// An ECR API client over hoist's HTTP client, with the endpoint the
/// environment names (`AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL`) checked
/// against the scheme policy.
async fn ecr_client(
    settings: &RegistryLogin,
    env: &hoist_http::Environment,
) -> Result<aws_sdk_ecr::Client, PushActionError> {
    let mut plain_http = false;
    for variable in ["AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"] {
        if let Some(url) = env.get(variable).filter(|v| !v.is_empty()) {
            plain_http |= hoist_http::parse_endpoint(variable, url)?.scheme() == "http";
        }
    }
    let http = hoist_aws::http_client(env, settings.ca_bundle.as_deref(), plain_http)?;
    let region = settings.region.clone().or_else(|| {
        settings
            .registry
            .as_deref()
            .and_then(ecr::EcrHost::parse)
            .map(|host| host.region)
    });
    let config = hoist_aws::sdk_config(http, region).await;
    if config.region().is_none() {
        return Err(PushActionError::NoRegion);
    }
    Ok(aws_sdk_ecr::Client::new(&config))
}

/// The registry host, its credentials, and the ECR client when ECR is used.
pub type LoggedIn = (String, Option<Credentials>, Option<aws_sdk_ecr::Client>);

/// Finds the registry's credentials; for ECR, logs in through AWS. Nothing
/// is printed here: the caller masks the password first.
pub fn log_in(
    runtime: &tokio::runtime::Runtime,
    settings: &RegistryLogin,
    env: &hoist_http::Environment,
) -> Result<LoggedIn, PushActionError> {
    match choose_login(settings, env)? {
        Login::Given(credentials) => Ok((
            settings.registry.clone().unwrap_or_default(),
            credentials,
            None,
        )),
        Login::Ecr => runtime.block_on(async {
            let client = ecr_client(settings, env).await?;
            let (endpoint_host, password) = ecr::login(&client).await?;
            let host = settings.registry.clone().unwrap_or(endpoint_host);
            Ok((
                host,
                Some(Credentials {
                    username: "AWS".into(),
                    password,
                }),
                Some(client),
            ))
        }),
    }
}

/// Runs ecr-push.
pub fn run(runner: &mut Runner) -> Result<(), PushActionError> {
    let settings = Settings::read(runner)?;
    let context = GitContext {
        git_ref: runner
            .env("GITHUB_REF")
            .unwrap_or("refs/heads/main")
            .to_owned(),
        sha: runner.env("GITHUB_SHA").unwrap_or_default().to_owned(),
    };
    let tags = tags::derive_tags(&settings.tag_lines, &context)?;
    let lifecycle = settings
        .lifecycle_policy
        .as_deref()
        .map(ecr::read_lifecycle_policy)
        .transpose()?;
    let source = ImageSource::open(&settings.source)?;
    let image = source.load(&settings.platforms)?;
    let env = runner.environment().clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(PushActionError::Runtime)?;

    let (host, credentials, ecr_client) = log_in(&runtime, &settings.login, &env)?;
    if let Some(credentials) = &credentials {
        runner.mask(&credentials.password);
        runner.console().mask_with_base64(&format!(
            "{}:{}",
            credentials.username, credentials.password
        ));
    }
    reference::validate_registry(&host).map_err(|reason| {
        InputError::invalid("registry", reason, "write the registry as host[:port]")
    })?;
    let base = hoist_http::registry_base(&host, settings.insecure)?;

    let mut http_options = HttpOptions::new(SPEC.name, VERSION);
    http_options.ca_bundle = settings.login.ca_bundle.clone();
    let http = HttpClient::new(&http_options, &env)?;
    let policy = RetryPolicy {
        max_attempts: settings.attempts,
        deadline: Some(settings.timeout),
        backoff: Backoff::default().scaled_by_env(&env),
    };
    let registry = Registry::new(
        http,
        base,
        &settings.repository,
        credentials.clone(),
        policy,
        Arc::new(SystemClock::default()),
    );

    let outcome = runtime.block_on(async {
        let work = async {
            if let Some(client) = &ecr_client {
                ecr::ensure_repository(
                    client,
                    &settings.repository,
                    settings.create_repository,
                    lifecycle.as_deref(),
                )
                .await?;
            }
            registry
                .login(&settings.options.mount_from)
                .await
                .map_err(PushError::from)?;
            Ok::<_, PushActionError>(
                push(&registry, &source, &image, &tags, &settings.options).await?,
            )
        };
        tokio::time::timeout(settings.timeout, work).await
    });
    let report = outcome.map_err(|_| PushActionError::Timeout(settings.timeout))??;
    if settings.docker_login
        && let Some(credentials) = &credentials
    {
        ecr::write_docker_login(
            &docker_config::path(&env),
            &host,
            &credentials.username,
            &credentials.password,
        )?;
        runner.set_output("docker-username", &credentials.username)?;
        runner.set_output("docker-password", &credentials.password)?;
    }
    publish(
        runner,
        &host,
        &settings.repository,
        &tags,
        &report,
        &image.digest,
    )
}

fn publish(
    runner: &mut Runner,
    host: &str,
    repository: &str,
    tags: &[String],
    report: &PushReport,
    digest: &hoist_oci::Digest,
) -> Result<(), PushActionError> {
    let image = format!("{host}/{repository}@{digest}");
    runner.set_output("digest", digest.as_str())?;
    runner.set_output("image", &image)?;
    runner.set_output("tags", &tags.join("\n"))?;
    runner.set_output("tag", tags.first().map_or("", String::as_str))?;
    runner.set_output("registry", host)?;
    runner.set_output("pushed-bytes", &report.pushed_bytes.to_string())?;
    runner.set_output("reused-blobs", &report.reused_blobs.to_string())?;
    let message = if report.tags_written.is_empty() {
        format!(
            "Already there: {image}, tagged {}; nothing written",
            list(&report.tags_unchanged)
        )
    } else {
        format!(
            "Pushed {image}: {} blob(s) uploaded ({} bytes), {} reused; tags written: {}; already there: {}",
            report.uploaded_blobs,
            report.pushed_bytes,
            report.reused_blobs,
            list(&report.tags_written),
            list(&report.tags_unchanged),
        )
    };
    runner.console().info(&message);
    let mut summary = format!("### ecr-push\n\n`{image}`\n\n| tag | digest | |\n|---|---|---|\n");
    for tag in tags {
        let state = if report.tags_written.contains(tag) {
            "written"
        } else {
            "already there"
        };
        summary.push_str(&format!("| `{tag}` | `{digest}` | {state} |\n"));
    }
    runner.summary(&summary)?;
    Ok(())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}
