//! wait-for-sync: waits until the GitOps controller runs exactly the
//! commit CI wrote, healthy.
//!
//! With Argo CD ([`watch`]) each application's state is decided by
//! [`decide`]: the revision counts as deployed only when Argo CD compared
//! it, a sync of it succeeded and a reconcile followed; then health counts.
//! Failures of older revisions are ignored. With commit statuses
//! ([`commit_status`]) the statuses Flux posts on the commit decide.

pub mod commit_status;
pub mod decide;
pub mod github;
pub mod lineage;
mod report;
mod settings;
pub mod spec;
pub mod watch;

use std::sync::Arc;
use std::time::Instant;

use hoist_argocd::{ArgoCd, ArgoError};
use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_runner::{Diagnostic, FileCommandError, InputError, Runner};

pub use settings::{Backend, Credential, Settings};
pub use spec::SPEC;

/// The binary's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Deployed and Healthy.
    Healthy,
    /// A newer commit containing ours was deployed instead.
    Superseded(String),
    /// Deployed and Suspended, accepted by `suspended: succeed`.
    Suspended(String),
    /// Deployed and Degraded or Missing.
    Degraded(String),
    /// The sync failed (or Suspended with `suspended: fail`).
    Failed(String),
    /// The deadline passed; the last state seen.
    Timeout(String),
}

impl Verdict {
    /// The `status` output.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Superseded(_) => "superseded",
            Self::Suspended(_) => "suspended",
            Self::Degraded(_) => "degraded",
            Self::Failed(_) => "failed",
            Self::Timeout(_) => "timeout",
        }
    }
}

/// A failure of wait-for-sync.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// An input is missing or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The HTTP client could not be set up.
    #[error(transparent)]
    Http(#[from] hoist_http::HttpError),
    /// Argo CD refused in a way waiting cannot change.
    #[error("waiting for `{application}` failed")]
    Argo {
        /// The application.
        application: String,
        /// What Argo CD said.
        #[source]
        source: ArgoError,
    },
    /// No OIDC token came from the runner.
    #[error("could not get the job's OIDC token")]
    IdToken(#[source] hoist_http::id_token::IdTokenError),
    /// GitHub answered with an error.
    #[error("GitHub answered {status} to {operation}: {message}")]
    GitHub {
        /// What was being done.
        operation: &'static str,
        /// The status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// The GitOps repository could not say whether a newer commit
    /// contains ours.
    #[error("could not tell whether a newer GitOps commit contains ours")]
    Ancestry(#[source] hoist_gitops::StoreError),
    /// At least one application did not become healthy.
    #[error("{0}")]
    NotDeployed(String),
    /// The runner's files could not be written.
    #[error(transparent)]
    Files(#[from] FileCommandError),
    /// The async runtime could not start.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl Diagnostic for WaitError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Input(error) => return error.hint(),
            Self::Http(error) => return error.hint(),
            Self::Argo { source, .. } => return source.hint(),
            Self::IdToken(_) => "add `permissions: id-token: write` to the job; if it is there, re-run (GitHub's OIDC service failed)".into(),
            Self::GitHub { status: 401 | 403 | 404, .. } => "`github-token` must be able to read the GitOps repository's statuses (statuses: read, contents: read)".into(),
            Self::GitHub { .. } => "check GitHub's status page, then re-run".into(),
            Self::Ancestry(error) => return error.hint(),
            Self::NotDeployed(_) => "the lines above say what each application was doing; fix the manifests or the cluster, or raise `timeout` if it was still progressing".into(),
            Self::Files(error) => return error.hint(),
            Self::Runtime(_) => "this is a bug in hoist or an exhausted runner: please report it with the step's log".into(),
        })
    }
}

/// Runs wait-for-sync.
pub fn run(runner: &mut Runner) -> Result<(), WaitError> {
    let settings = Settings::read(runner)?;
    if let Backend::ArgoCd {
        credential: Credential::Oidc { request_token, .. },
        ..
    } = &settings.backend
    {
        runner.mask(request_token);
    }
    let env = runner.environment().clone();
    let mut options = HttpOptions::new(SPEC.name, VERSION);
    options.ca_bundle = settings.ca_bundle.clone();
    let http = HttpClient::new(&options, &env)?;
    let clock: Arc<SystemClock> = Arc::new(SystemClock::default());
    let backoff = Backoff::default().scaled_by_env(&env);
    let policy = RetryPolicy {
        max_attempts: 5,
        deadline: Some(settings.timeout),
        backoff,
    };
    let poll_interval = settings.poll_interval.mul_f64(backoff.scale);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(WaitError::Runtime)?;
    let started = Instant::now();
    let deadline = started + settings.timeout;
    let github = settings.github.as_ref().map(|(api, repository, token)| {
        github::GitHub(hoist_github::GitHubApi::new(
            http.clone(),
            policy,
            clock.clone(),
            api.clone(),
            repository.clone(),
            token,
        ))
    });
    let lineage = lineage(&settings, &env, &http, &policy, &clock)?;
    runner.console().info(&format!(
        "Waiting up to {:?} for {} to be deployed and healthy.",
        settings.timeout, settings.revision
    ));
    let reports = match &settings.backend {
        Backend::ArgoCd {
            server,
            credential,
            applications,
            policies,
        } => {
            let token = runtime.block_on(argocd_token(
                runner,
                &http,
                &policy,
                clock.as_ref(),
                server,
                credential,
            ))?;
            let argocd = ArgoCd::new(http.clone(), policy, clock.clone(), server.clone(), &token);
            let waiter = watch::Waiter {
                argocd: &argocd,
                lineage: &lineage,
                revision: &settings.revision,
                policies,
                poll_interval,
                clock: clock.as_ref(),
                started,
                deadline,
            };
            let waits = applications.iter().map(|app| waiter.wait(app));
            runtime
                .block_on(futures_util::future::join_all(waits))
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?
        }
        Backend::CommitStatus { context, branch } => {
            let github = github.as_ref().ok_or_else(|| InputError::Missing {
                name: "github-token".into(),
            })?;
            let waiter = commit_status::StatusWaiter {
                github,
                lineage: &lineage,
                revision: &settings.revision,
                context,
                branch,
                poll_interval,
                clock: clock.as_ref(),
                started,
                deadline,
            };
            vec![runtime.block_on(waiter.wait())?]
        }
    };
    report::finish(runner, &settings, &reports, started.elapsed())
}

/// How the wait tells superseded from not yet deployed: GitHub's compare
/// API for a repository on GitHub with `github-token`, git itself for any
/// other server (with the token, if given), else nothing, saying why.
fn lineage(
    settings: &Settings,
    env: &hoist_runner::Environment,
    http: &HttpClient,
    policy: &RetryPolicy,
    clock: &Arc<SystemClock>,
) -> Result<lineage::Lineage, WaitError> {
    let Some(repository) = &settings.repository else {
        return Ok(lineage::Lineage::Unknown(format!(
            "set `repository` to the GitOps repository (bump-manifest exports it as {})",
            settings::REPOSITORY_VARIABLE
        )));
    };
    let api = match (&settings.github, &repository.github) {
        (Some((api, name, token)), _) => Some(hoist_github::GitHubApi::new(
            http.clone(),
            *policy,
            clock.clone(),
            api.clone(),
            name.clone(),
            token,
        )),
        (None, Some(name)) => {
            return Ok(lineage::Lineage::Unknown(format!(
                "set `github-token` to a token that can read {}/{}",
                name.owner, name.name
            )));
        }
        (None, None) => None,
    };
    let temp = env
        .get("RUNNER_TEMP")
        .filter(|t| !t.is_empty())
        .map_or_else(std::env::temp_dir, Into::into);
    let ancestry =
        hoist_gitops::History::for_repository(repository, api, settings.token.as_deref(), &temp)
            .map_err(WaitError::Ancestry)?;
    Ok(lineage::Lineage::new(ancestry))
}

/// The Argo CD token: given, or the job's OIDC token exchanged at Dex.
/// Every token is masked before anything can print it.
async fn argocd_token(
    runner: &mut Runner,
    http: &HttpClient,
    policy: &RetryPolicy,
    clock: &dyn hoist_http::Clock,
    server: &url::Url,
    credential: &Credential,
) -> Result<String, WaitError> {
    let (request_url, request_token, connector) = match credential {
        Credential::Token(token) => return Ok(token.clone()),
        Credential::Oidc {
            request_url,
            request_token,
            connector,
        } => (request_url, request_token, connector),
    };
    let audience = server.as_str().trim_end_matches('/');
    let id_token = hoist_http::id_token::request_id_token(
        http,
        policy,
        clock,
        request_url,
        request_token,
        audience,
    )
    .await
    .map_err(WaitError::IdToken)?;
    runner.mask(&id_token);
    let token = ArgoCd::exchange_dex_token(http, policy, clock, server, &id_token, connector)
        .await
        .map_err(|source| WaitError::Argo {
            application: "the Dex token exchange".into(),
            source,
        })?;
    runner.mask(&token);
    Ok(token)
}
