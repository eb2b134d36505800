//! Everything the inputs say, checked before anything is called.

use std::path::PathBuf;
use std::time::Duration;

use hoist_argocd::AppRef;
use hoist_github::RepoName;
use hoist_gitops::Repository;
use hoist_runner::{InputError, Runner};
use url::Url;

use crate::WaitError;
use crate::watch::{OnSuspended, Policies};

/// The variable bump-manifest exports with the `repository` it wrote to.
pub(crate) const REPOSITORY_VARIABLE: &str = "HOIST_GITOPS_REPOSITORY";

/// Which controller to ask.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one value per run
pub enum Backend {
    /// The Argo CD API.
    ArgoCd {
        /// The server's URL.
        server: Url,
        /// How to authenticate.
        credential: Credential,
        /// The applications.
        applications: Vec<AppRef>,
        /// The policies.
        policies: Policies,
    },
    /// Commit statuses on the GitOps repository.
    CommitStatus {
        /// The contexts that count.
        context: String,
        /// The branch, for the superseded check.
        branch: String,
    },
}

/// How wait-for-sync authenticates to Argo CD.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `argocd-token`.
    Token(String),
    /// The job's OIDC token, exchanged at Argo CD's Dex.
    Oidc {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        request_url: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
        request_token: String,
        /// The Dex connector.
        connector: String,
    },
}

/// The checked inputs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The backend.
    pub backend: Backend,
    /// The revision waited for (a full commit SHA).
    pub revision: String,
    /// How long to wait.
    pub timeout: Duration,
    /// The poll interval (before the test scale).
    pub poll_interval: Duration,
    /// The GitHub API, repository and token, when the repository is on
    /// GitHub and `github-token` is given.
    pub github: Option<(Url, RepoName, String)>,
    /// The GitOps repository: `repository`, else `HOIST_GITOPS_REPOSITORY`
    /// (which bump-manifest exports), for telling superseded apart.
    pub repository: Option<Repository>,
    /// `github-token`, also sent to a git server that is not GitHub.
    pub token: Option<String>,
    /// Whether a newer deployed commit that contains ours fails the step
    /// (`superseded: fail`), for either backend.
    pub superseded_fails: bool,
    /// Extra CAs.
    pub ca_bundle: Option<PathBuf>,
}

impl Settings {
    /// Reads and checks every input.
    pub fn read(runner: &Runner) -> Result<Self, WaitError> {
        let inputs = runner.inputs();
        let revision = match inputs.get("revision").map(String::from).or_else(|| {
            runner
                .env("HOIST_GITOPS_COMMIT")
                .filter(|v| !v.is_empty())
                .map(String::from)
        }) {
            Some(revision) => revision,
            None => {
                return Err(InputError::invalid("revision", "no revision to wait for", "set `revision` to the GitOps commit, or run bump-manifest earlier in the job (it exports HOIST_GITOPS_COMMIT)").into());
            }
        };
        if !(revision.len() == 40 || revision.len() == 64)
            || !revision.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(InputError::invalid(
                "revision",
                format!("`{}` is not a full commit SHA", revision.escape_debug()),
                "pass the full 40-character SHA, such as bump-manifest's `commit-sha` output",
            )
            .into());
        }
        let revision = revision.to_ascii_lowercase();
        let timeout = inputs
            .duration("timeout")?
            .unwrap_or(Duration::from_secs(600));
        if timeout.is_zero() {
            return Err(InputError::invalid(
                "timeout",
                "it must be longer than zero",
                "write a duration such as `10m`",
            )
            .into());
        }
        let poll_interval = inputs
            .duration("poll-interval")?
            .unwrap_or(Duration::from_secs(2));
        let repository = Self::repository(runner)?;
        let token = inputs.get("github-token").map(String::from);
        let github = match (&token, repository.as_ref().and_then(|r| r.github.clone())) {
            (Some(token), Some(name)) => {
                let api = runner
                    .env("GITHUB_API_URL")
                    .filter(|v| !v.is_empty())
                    .unwrap_or("https://api.github.com");
                Some((
                    hoist_http::parse_endpoint("GITHUB_API_URL", api)?,
                    name,
                    token.clone(),
                ))
            }
            _ => None,
        };
        let backend = match inputs.choice("backend", &["argocd", "commit-status"])? {
            Some("commit-status") => {
                if github.is_none() {
                    return Err(InputError::invalid(
                        "github-token",
                        "`commit-status` needs `github-token` and `repository` on GitHub",
                        "set both to the GitOps repository and a token that can read its statuses",
                    )
                    .into());
                }
                Backend::CommitStatus {
                    context: inputs
                        .get("context")
                        .unwrap_or("kustomization/*")
                        .to_owned(),
                    branch: inputs.get("branch").unwrap_or("main").to_owned(),
                }
            }
            _ => Self::argocd(runner)?,
        };
        Ok(Self {
            backend,
            revision,
            timeout,
            poll_interval,
            github,
            repository,
            token,
            superseded_fails: inputs.choice("superseded", &["succeed", "fail"])? == Some("fail"),
            ca_bundle: inputs.get("ca-bundle").map(PathBuf::from),
        })
    }

    /// `repository`, else `HOIST_GITOPS_REPOSITORY` from an earlier
    /// bump-manifest step: `owner/name` on the run's GitHub or a git URL.
    fn repository(runner: &Runner) -> Result<Option<Repository>, WaitError> {
        let (text, from_env) = match runner.inputs().get("repository") {
            Some(text) => (text, false),
            None => match runner.env(REPOSITORY_VARIABLE).filter(|v| !v.is_empty()) {
                Some(text) => (text, true),
                None => return Ok(None),
            },
        };
        let server = runner
            .env("GITHUB_SERVER_URL")
            .filter(|v| !v.is_empty())
            .unwrap_or("https://github.com");
        match Repository::parse(text.trim(), server) {
            Ok(repository) => Ok(Some(repository)),
            Err(error) => {
                let from = if from_env {
                    format!(" (from {REPOSITORY_VARIABLE})")
                } else {
                    String::new()
                };
                Err(InputError::invalid(
                    "repository",
                    format!("{error}{from}"),
                    "write the GitOps repository as owner/name or as an https:// or file:// git URL without a credential",
                )
                .into())
            }
        }
    }

    fn argocd(runner: &Runner) -> Result<Backend, WaitError> {
        let inputs = runner.inputs();
        let server =
            hoist_http::parse_endpoint("argocd-server", inputs.required("argocd-server")?)?;
        let credential = if inputs.bool("argocd-oidc")? {
            let env = |name: &str| runner.env(name).filter(|v| !v.is_empty()).map(String::from);
            let (Some(request_url), Some(request_token)) = (
                env(hoist_http::id_token::REQUEST_URL_VARIABLE),
                env(hoist_http::id_token::REQUEST_TOKEN_VARIABLE),
            ) else {
                return Err(InputError::invalid(
                    "argocd-oidc",
                    "the job has no OIDC token to exchange",
                    "add `permissions: id-token: write` to the job, or pass `argocd-token` instead",
                )
                .into());
            };
            let connector = inputs
                .get("argocd-oidc-connector")
                .unwrap_or("github-actions")
                .to_owned();
            Credential::Oidc {
                request_url,
                request_token,
                connector,
            }
        } else {
            Credential::Token(inputs.required("argocd-token")?.to_owned())
        };
        let names = inputs.names("application");
        if names.is_empty() {
            return Err(InputError::Missing {
                name: "application".into(),
            }
            .into());
        }
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 253
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
        };
        for name in &names {
            if !name_ok(name) {
                return Err(InputError::invalid(
                    "application",
                    format!("`{}` is not an application name", name.escape_debug()),
                    "use the Application's metadata.name: lower-case letters, digits, `-` and `.`",
                )
                .into());
            }
        }
        let namespace = inputs.get("app-namespace").map(String::from);
        if let Some(namespace) = &namespace
            && !name_ok(namespace)
        {
            return Err(InputError::invalid(
                "app-namespace",
                format!("`{namespace}` is not a namespace"),
                "write the namespace's name",
            )
            .into());
        }
        let project = inputs.get("project").map(String::from);
        let applications = names
            .into_iter()
            .map(|name| AppRef {
                name,
                namespace: namespace.clone(),
                project: project.clone(),
            })
            .collect();
        let refresh = match inputs.choice("refresh", &["normal", "hard", "none"])? {
            Some("none") => None,
            other => Some(other.unwrap_or("normal").to_owned()),
        };
        let policies = Policies {
            suspended: match inputs.choice("suspended", &["wait", "succeed", "fail"])? {
                Some("succeed") => OnSuspended::Succeed,
                Some("fail") => OnSuspended::Fail,
                _ => OnSuspended::Wait,
            },
            sync: inputs.bool("sync")?,
            refresh,
        };
        Ok(Backend::ArgoCd {
            server,
            credential,
            applications,
            policies,
        })
    }
}
