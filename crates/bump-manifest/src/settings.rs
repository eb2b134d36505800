//! Everything the inputs say, checked before anything is read or written.

use hoist_gitops::{Identity, RepoName, RepoPath, Repository};
use hoist_manifest::Options;
use hoist_runner::{InputError, Runner};
use url::Url;

use crate::edits::{self, Convention, FileEdit};
use crate::lineage::SourceRepository;
use crate::message::{self, MessageContext};
use crate::policy::Policy;
use crate::source::Source;
use crate::{BumpError, Decision};

/// How the repository is written.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Through `git`, to any server.
    Git,
    /// Through GitHub's Git Data API.
    GitHubApi {
        /// The API's base URL.
        api: Url,
        /// The repository on GitHub.
        name: RepoName,
    },
}

/// The checked inputs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The GitOps repository.
    pub repository: Repository,
    /// The `repository` input exactly as given, for `HOIST_GITOPS_REPOSITORY`.
    pub repository_input: String,
    /// The branch written.
    pub branch: String,
    /// The token, when one was given.
    pub token: Option<String>,
    /// How to write.
    pub backend: Backend,
    /// The `edits` lines, by file.
    pub files: Vec<FileEdit>,
    /// The app/env conventions, when `app` and `env` were given.
    pub convention: Option<Convention>,
    /// Whether older versions may replace newer ones.
    pub policy: Policy,
    /// Whether missing keys, entries and files are created.
    pub create_missing: bool,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// The commit message template.
    pub template: Option<String>,
    /// The commit author; `None` for the backend's default.
    pub author: Option<Identity>,
    /// Whether to add a `Signed-off-by` trailer.
    pub signoff: bool,
    /// Whether to print the diff only.
    pub dry_run: bool,
    /// What the run says about itself, for the message.
    pub context: MessageContext,
    /// The build's source (`GITHUB_REPOSITORY` at `GITHUB_SHA`), when the
    /// run names one.
    pub source: Option<Source>,
    /// A token that can read the source repository, for `policy: auto`'s
    /// ancestry question (`github-token`).
    pub github_token: Option<String>,
    /// Where the source's commits are compared: `{GITHUB_SERVER_URL}/owner/name`,
    /// through `GITHUB_API_URL` unless the server is `file://`.
    pub(crate) source_repository: Option<SourceRepository>,
}

impl Settings {
    /// Reads and checks every input.
    pub fn read(runner: &Runner) -> Result<Self, BumpError> {
        let inputs = runner.inputs();
        let server = runner
            .env("GITHUB_SERVER_URL")
            .filter(|s| !s.is_empty())
            .unwrap_or("https://github.com");
        let repository_input = inputs.required("repository")?.to_owned();
        let repository = Repository::parse(&repository_input, server)?;
        let branch = inputs.get("branch").unwrap_or("main").to_owned();
        if !hoist_gitops::is_branch_name(&branch) {
            return Err(InputError::invalid(
                "branch",
                format!("`{}` is not a branch name", branch.escape_debug()),
                "write the branch's short name, such as `main`",
            )
            .into());
        }
        let token = inputs.get("token").map(String::from);
        let github_token = inputs.get("github-token").map(String::from);
        let api = runner
            .env("GITHUB_API_URL")
            .filter(|s| !s.is_empty())
            .unwrap_or("https://api.github.com");
        let backend =
            match inputs.choice("backend", &["git", "github-api"])? {
                Some("github-api") => {
                    let name = repository.github.clone().ok_or_else(|| InputError::invalid(
                    "backend",
                    "`github-api` needs a repository on this run's GitHub",
                    "write `repository` as owner/name, or use `backend: git` for other servers",
                ))?;
                    if token.is_none() {
                        return Err(InputError::Missing {
                            name: "token".into(),
                        }
                        .into());
                    }
                    Backend::GitHubApi {
                        api: hoist_http::parse_endpoint("GITHUB_API_URL", api)?,
                        name,
                    }
                }
                _ => Backend::Git,
            };
        let lines = inputs
            .lines("edits")
            .iter()
            .enumerate()
            .map(|(i, line)| edits::parse_line(i + 1, line))
            .collect::<Result<Vec<_>, _>>()?;
        let files = edits::group(lines);
        let convention = Self::convention(runner)?;
        if files.is_empty() && convention.is_none() {
            return Err(InputError::invalid(
                "edits",
                "there is nothing to bump",
                "set `edits`, or `app`, `env` and `tag`",
            )
            .into());
        }
        let policy = Policy::parse(inputs.get("policy").unwrap_or("auto")).ok_or_else(|| {
            InputError::NotAChoice {
                name: "policy".into(),
                value: inputs.get("policy").unwrap_or_default().into(),
                choices: "`auto`, `semver`, `always`".into(),
            }
        })?;
        if policy == Policy::Semver
            && let Some(tag) = convention.as_ref().and_then(|c| c.tag.as_deref())
            && crate::policy::version(tag).is_none()
        {
            return Err(InputError::invalid(
                "tag",
                format!("`{tag}` is not a semantic version"),
                "give a tag such as `v1.2.3`, or set `policy: auto`",
            )
            .into());
        }
        let template = inputs.get("commit-message").map(String::from);
        if let Some(template) = &template {
            message::check_template(template).map_err(|reason| {
                InputError::invalid("commit-message", reason, "use only the variables listed")
            })?;
        }
        let author = match inputs.get("author") {
            Some(text) => Some(Identity::parse(text).ok_or_else(|| {
                InputError::invalid(
                    "author",
                    format!("`{}` is not `Name <email>`", text.escape_debug()),
                    "write it as `CI Bot <ci-bot@example.com>`",
                )
            })?),
            None => None,
        };
        let env = |name: &str| runner.env(name).filter(|v| !v.is_empty()).map(String::from);
        let run_url = match (env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID")) {
            (Some(repo), Some(run)) => Some(format!(
                "{}/{repo}/actions/runs/{run}",
                server.trim_end_matches('/')
            )),
            _ => None,
        };
        let source = Source::from_run(
            env("GITHUB_REPOSITORY").as_deref(),
            env("GITHUB_SHA").as_deref(),
        );
        let source_repository = match &source {
            Some(source) if policy == Policy::Auto => Some(SourceRepository {
                repository: Repository::parse(&source.repository.to_string(), server)?,
                api: if server.starts_with("file:") {
                    None
                } else {
                    Some(hoist_http::parse_endpoint("GITHUB_API_URL", api)?)
                },
            }),
            _ => None,
        };
        let context = MessageContext {
            app: convention.as_ref().map(|c| c.app.clone()),
            env: convention.as_ref().map(|c| c.env.clone()),
            digest: convention.as_ref().and_then(|c| c.digest.clone()),
            repository: convention.as_ref().and_then(|c| c.image_repository.clone()),
            run_url,
            actor: env("GITHUB_ACTOR"),
            sha: env("GITHUB_SHA"),
            source: source.as_ref().map(Source::to_string),
            ..MessageContext::default()
        };
        Ok(Self {
            repository,
            repository_input,
            branch,
            token,
            backend,
            files,
            convention,
            policy,
            create_missing: inputs.bool("create-missing")?,
            max_attempts: inputs.number("max-attempts", 1, 50)?.unwrap_or(10) as u32,
            template,
            author,
            signoff: inputs.bool("signoff")?,
            dry_run: runner.dry_run(),
            context,
            source,
            github_token,
            source_repository,
        })
    }

    fn convention(runner: &Runner) -> Result<Option<Convention>, BumpError> {
        let inputs = runner.inputs();
        let get = |name: &str| inputs.get(name).map(String::from);
        let (app, env) = match (get("app"), get("env")) {
            (Some(app), Some(env)) => (app, env),
            (None, None) => {
                for name in ["tag", "digest", "image-repository", "image-name", "layout"] {
                    if inputs.get(name).is_some() && inputs.get("edits").is_none() {
                        return Err(InputError::invalid(
                            name,
                            "it needs `app` and `env`",
                            "set `app` and `env`, or write the edit in `edits`",
                        )
                        .into());
                    }
                }
                return Ok(None);
            }
            (Some(_), None) => return Err(InputError::Missing { name: "env".into() }.into()),
            (None, Some(_)) => return Err(InputError::Missing { name: "app".into() }.into()),
        };
        let convention = Convention {
            app,
            env,
            tag: get("tag"),
            digest: get("digest"),
            image_repository: get("image-repository"),
            image_name: get("image-name"),
            layout: get("layout"),
        };
        convention.check()?;
        Ok(Some(convention))
    }

    /// Every file an attempt reads.
    pub fn paths(&self) -> Vec<RepoPath> {
        let mut paths: Vec<RepoPath> = self.files.iter().map(|f| f.path.clone()).collect();
        if let Some(convention) = &self.convention {
            paths.extend(convention.candidates());
        }
        paths.sort();
        paths.dedup();
        paths
    }

    /// The manifest edit options.
    pub fn manifest_options(&self) -> Options {
        Options {
            create_missing: self.create_missing,
            ..Options::default()
        }
    }

    /// The commit message for a decision.
    pub(crate) fn message(&self, decision: &Decision) -> String {
        let mut context = self.context.clone();
        let first = decision.changes().next().map(|(_, change)| change);
        context.old = first.and_then(|c| c.old.clone());
        context.new = self
            .convention
            .as_ref()
            .and_then(|c| c.tag.clone().or(c.digest.clone()))
            .or_else(|| first.and_then(|c| c.new.clone()))
            .unwrap_or_default();
        context.files = decision
            .files
            .iter()
            .map(|f| f.path.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let signoff = self.signoff.then(|| {
            self.author
                .clone()
                .unwrap_or_else(Identity::actions_bot)
                .to_string()
        });
        message::render(self.template.as_deref(), &context, signoff.as_deref())
    }
}
