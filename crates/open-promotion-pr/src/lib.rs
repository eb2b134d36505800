//! open-promotion-pr: promotes what one environment runs to the next by
//! pull request.
//!
//! Each app's image is read from `from-env`'s file at the base branch's tip
//! and spliced into `to-env`'s file ([`promote`]), with bump-manifest's
//! targets and layouts. The promotion commit sits on the base tip, on a
//! branch the action owns (`promote/<group>-<to-env>`), made through the
//! Git Data API; the pull request for that branch is created, or updated,
//! never duplicated ([`github`]).

pub mod github;
pub mod promote;
mod settings;
pub mod spec;

use std::collections::BTreeMap;
use std::sync::Arc;

use hoist_github::GitHubApi;
use hoist_github::app::{AppTokenError, app_jwt};
use hoist_gitops::{GitHubStore, NewCommit, RepoPath, Store, StoreError};
use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_oci::registry::{Credentials, Registry};
use hoist_runner::{Diagnostic, FileCommandError, InputError, Location, Runner};
use serde_json::json;

pub use settings::{Grouping, ImageCheck, Settings};
pub use spec::SPEC;

use github::{PullRequest, Pulls};
use promote::AppPromotion;

/// The binary's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A failure of open-promotion-pr.
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    /// An input is missing or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The HTTP client could not be set up, or a request failed.
    #[error(transparent)]
    Http(#[from] hoist_http::HttpError),
    /// Reading or writing the repository failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The GitHub App's token could not be minted.
    #[error(transparent)]
    App(#[from] AppTokenError),
    /// An app's file exists in no layout for an environment.
    #[error("found no file for `{app}` in `{env}`: looked for {tried}")]
    MissingFile {
        /// The app.
        app: String,
        /// The environment.
        env: String,
        /// The files looked for.
        tried: String,
    },
    /// Several layouts fit an app.
    #[error("several layouts fit `{app}`: {found}")]
    AmbiguousLayout {
        /// The app.
        app: String,
        /// The files found.
        found: String,
    },
    /// An app's file names no image.
    #[error("`{file}` holds no image tag or digest for `{app}`")]
    NoImage {
        /// The app.
        app: String,
        /// The file.
        file: RepoPath,
    },
    /// An app's file holds a value that is not a tag, digest or name.
    #[error("`{file}` holds a bad image value for `{app}`: {reason}")]
    BadValue {
        /// The app.
        app: String,
        /// The file.
        file: RepoPath,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be edited.
    #[error("cannot edit `{file}`")]
    Manifest {
        /// The file.
        file: RepoPath,
        /// What went wrong.
        #[source]
        source: hoist_manifest::EditError,
    },
    /// require-image: the image is not in its registry.
    #[error("`{image}` ({app}) is not in its registry; nothing was opened")]
    ImageMissing {
        /// The app.
        app: String,
        /// The reference looked up.
        image: String,
    },
    /// require-image: the file does not say which repository the image is in.
    #[error("require-image needs `{app}`'s image repository, but `{file}` names none")]
    NoRepository {
        /// The app.
        app: String,
        /// The file.
        file: RepoPath,
    },
    /// require-image: the registry could not be asked.
    #[error("could not check `{image}` in its registry")]
    Registry {
        /// The reference looked up.
        image: String,
        /// What went wrong.
        #[source]
        source: hoist_oci::registry::RegistryError,
    },
    /// require-signature: no signature of the image verifies.
    #[error(
        "`{image}` ({app}) has no signature that verifies with `signature-key` or the signature certificate identity{reasons}; nothing was opened"
    )]
    Unsigned {
        /// The app.
        app: String,
        /// The image, by digest.
        image: String,
        /// What was found and why each was rejected.
        reasons: String,
    },
    /// require-signature: the signatures could not be read.
    #[error("could not read the signatures of `{image}`")]
    Signatures {
        /// The image.
        image: String,
        /// What went wrong.
        #[source]
        source: hoist_cosign::store::StoreError,
    },
    /// require-image: the Docker config cannot be used.
    #[error(transparent)]
    DockerConfig(#[from] hoist_oci::docker_config::DockerConfigError),
    /// require-image: logging in to ECR with the job's AWS credentials failed.
    #[error("could not log in to the ECR registry {registry}")]
    EcrLogin {
        /// The registry host.
        registry: String,
        /// What went wrong.
        #[source]
        source: hoist_aws::ecr::EcrLoginError,
    },
    /// `apps: all` found nothing to promote or compare.
    #[error("no app has a file in both `{from_env}` and `{to_env}`")]
    NoApps {
        /// The environment promoted from.
        from_env: String,
        /// The environment promoted to.
        to_env: String,
    },
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
    /// The runner's files could not be written.
    #[error(transparent)]
    Files(#[from] FileCommandError),
    /// The async runtime could not start.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl Diagnostic for PromoteError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Input(error) => return error.hint(),
            Self::Http(error) => return error.hint(),
            Self::Store(error) => return error.hint(),
            Self::App(AppTokenError::BadKey) => "pass the App's private key as generated by GitHub (-----BEGIN RSA PRIVATE KEY-----), from a secret".into(),
            Self::App(_) => "check `app-id`, that the key belongs to that App, and that the App is installed on the GitOps repository".into(),
            Self::MissingFile { .. } => "check `apps`, `from-env` and `to-env`, or set `layout` to the pattern your repository uses".into(),
            Self::AmbiguousLayout { .. } => "set `layout` to say which one to promote".into(),
            Self::NoImage { .. } => "bump the app in the source environment first (bump-manifest), or check `image-name`".into(),
            Self::BadValue { .. } => "fix the value in the source environment's file; nothing was promoted".into(),
            Self::Manifest { .. } => "nothing was promoted".into(),
            Self::NoApps { .. } => "check `from-env`, `to-env` and `layout`".into(),
            Self::ImageMissing { .. } => "push the image first (ecr-push), or promote the tag that was pushed".into(),
            Self::Unsigned { .. } => "sign the image (hoist sign) before promoting it: with the private key that matches `signature-key`, or keyless from the workflow `signature-certificate-identity` names".into(),
            Self::Signatures { .. } => "check the registry credentials may read the repository's signature tags and referrers".into(),
            Self::NoRepository { .. } => "write the repository in the file (Kustomize `newName`, Helm `image.repository`), or drop `require-image`".into(),
            Self::Registry { .. } => "check `registry-username`/`registry-password` (or the Docker config, or for ECR the job's AWS credentials), and that the registry is reachable".into(),
            Self::DockerConfig(_) => "pass `registry-username` and `registry-password` instead, or fix the Docker config".into(),
            Self::EcrLogin { source, .. } => source.hint(),
            Self::GitHub { message, .. } if message.contains("not permitted to create or approve pull requests") => {
                "turn on \"Allow GitHub Actions to create and approve pull requests\" in the repository's (or organization's) Settings → Actions → General, or use a GitHub App (`app-id`, `app-private-key`)".into()
            }
            Self::GitHub { message, .. } if message.contains("collaborator") => {
                "request reviews only from people with access to the GitOps repository".into()
            }
            Self::GitHub { operation: "requesting reviewers", .. } => {
                "team reviewers need a token with organization access: a PAT or a GitHub App token, not GITHUB_TOKEN".into()
            }
            Self::GitHub { status: 401, .. } => "check `token` (or the App's key): GitHub did not accept it".into(),
            Self::GitHub { status: 403 | 404, .. } => "the token needs `contents: write` and `pull-requests: write` on the GitOps repository".into(),
            Self::GitHub { .. } => "check GitHub's status page, then re-run".into(),
            Self::Files(error) => return error.hint(),
            Self::Runtime(_) => "this is a bug in hoist or an exhausted runner: please report it with the step's log".into(),
        })
    }

    fn location(&self) -> Option<Location> {
        match self {
            Self::Manifest { file, source } => Some(Location {
                file: file.to_string(),
                line: source.line(),
            }),
            Self::NoImage { file, .. } | Self::BadValue { file, .. } => Some(Location {
                file: file.to_string(),
                line: None,
            }),
            _ => None,
        }
    }
}

/// What happened to one group's pull request.
#[derive(Debug, Clone)]
struct GroupResult {
    branch: String,
    operation: &'static str,
    pull: Option<PullRequest>,
    head: String,
}

/// Runs open-promotion-pr.
pub fn run(runner: &mut Runner) -> Result<(), PromoteError> {
    let settings = Settings::read(runner)?;
    let env = runner.environment().clone();
    let http = HttpClient::new(&HttpOptions::new(SPEC.name, VERSION), &env)?;
    let backoff = Backoff::default().scaled_by_env(&env);
    let policy = RetryPolicy {
        max_attempts: 4,
        deadline: None,
        backoff,
    };
    let clock = Arc::new(SystemClock::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PromoteError::Runtime)?;
    let api_with = |token: &str| {
        GitHubApi::new(
            http.clone(),
            policy,
            clock.clone(),
            settings.api.clone(),
            settings.repository.clone(),
            token,
        )
    };
    let token = match &settings.app {
        Some((id, key)) => {
            let jwt = app_jwt(id, key)?;
            runner.mask(&jwt);
            let token = runtime.block_on(api_with("").installation_token(&jwt))?;
            runner.mask(&token);
            token
        }
        None => settings.token.clone().unwrap_or_default(),
    };
    let mut store = GitHubStore::new(api_with(&token), &settings.base);
    // The password is masked as a secret input; its Basic form too.
    if let Some(ImageCheck {
        credentials: Some((user, password)),
        ..
    }) = &settings.require_image
    {
        runner
            .console()
            .mask_with_base64(&format!("{user}:{password}"));
    }
    let check = settings
        .require_image
        .clone()
        .map(|check| (check, http.clone(), policy, clock.clone(), env.clone()));
    let (results, promotions) =
        runtime.block_on(promote_all(&settings, &mut store, check.as_ref()))?;
    // GitHub shows who opened a PR: the workflow token's PRs do not start
    // workflows, so the promotion's checks would never run.
    if results.iter().any(|r| {
        r.pull
            .as_ref()
            .is_some_and(|p| p.author == "github-actions[bot]")
    }) {
        runner.console().warning("Pull requests opened with the workflow's GITHUB_TOKEN do not start workflows, so the promotion PR's checks will not run: pass a GitHub App (`app-id`, `app-private-key`) or a PAT as `token`.");
    }
    report(runner, &settings, &results, &promotions)
}

/// Plans every app at the base tip, then opens or updates each group's PR.
async fn promote_all(
    settings: &Settings,
    store: &mut GitHubStore,
    check: Option<&ImageChecker>,
) -> Result<(Vec<GroupResult>, Vec<AppPromotion>), PromoteError> {
    let tip = store.tip().await?;
    let apps = match &settings.apps {
        Some(apps) => apps.clone(),
        None => all_apps(settings, store, &tip).await?,
    };
    let mut promotions = Vec::new();
    for app in &apps {
        promotions.push(plan_app(settings, store, &tip, app).await?);
    }
    if let Some(check) = check {
        for promotion in promotions.iter().filter(|p| !p.changes.is_empty()) {
            image_exists(check, promotion).await?;
        }
    }
    let groups: Vec<(String, Vec<&AppPromotion>)> = match settings.grouping {
        Grouping::PerApp => promotions
            .iter()
            .map(|p| (p.app.clone(), vec![p]))
            .collect(),
        Grouping::Single => {
            let group = if promotions.len() == 1 {
                promotions[0].app.clone()
            } else {
                "apps".to_owned()
            };
            vec![(group, promotions.iter().collect())]
        }
    };
    let mut results = Vec::new();
    for (group, members) in groups {
        results.push(open_or_update(settings, store, &tip, &group, &members).await?);
    }
    Ok((results, promotions))
}

/// What require-image needs to ask registries.
type ImageChecker = (
    ImageCheck,
    HttpClient,
    RetryPolicy,
    Arc<SystemClock>,
    hoist_http::Environment,
);

/// require-image: a HEAD on the promoted image's manifest, by digest when
/// known, else by tag; require-signature: then its signatures, verified.
async fn image_exists(
    (check, http, policy, clock, env): &ImageChecker,
    promotion: &AppPromotion,
) -> Result<(), PromoteError> {
    let repository =
        promotion
            .from
            .repository
            .clone()
            .ok_or_else(|| PromoteError::NoRepository {
                app: promotion.app.clone(),
                file: promotion.from_file.clone(),
            })?;
    let (host, path) = repository
        .split_once('/')
        .unwrap_or(("docker.io", repository.as_str()));
    let reference = promotion
        .from
        .digest
        .clone()
        .or_else(|| promotion.from.tag.clone())
        .unwrap_or_default();
    let image = format!(
        "{repository}{}{reference}",
        if reference.starts_with("sha256:") {
            "@"
        } else {
            ":"
        }
    );
    let credentials = registry_credentials(check, env, host).await?;
    let base = hoist_http::registry_base(host, check.insecure)?;
    let registry = Registry::new(
        http.clone(),
        base,
        path,
        credentials,
        *policy,
        clock.clone(),
    );
    let registry = registry.read_only();
    let registry_error = |source| PromoteError::Registry {
        image: image.clone(),
        source,
    };
    registry.login(&[]).await.map_err(registry_error)?;
    let digest = registry
        .manifest_digest(&reference)
        .await
        .map_err(registry_error)?
        .ok_or_else(|| PromoteError::ImageMissing {
            app: promotion.app.clone(),
            image: image.clone(),
        })?;
    let Some(policy) = &check.signature else {
        return Ok(());
    };
    let pinned = format!("{repository}@{digest}");
    let report = hoist_cosign::verify_image(&registry, &digest, policy)
        .await
        .map_err(|source| PromoteError::Signatures {
            image: pinned.clone(),
            source,
        })?;
    if report.is_verified() {
        return Ok(());
    }
    let reasons: Vec<String> = report
        .findings
        .iter()
        .filter_map(|f| {
            f.outcome
                .as_ref()
                .err()
                .map(|why| format!("{}: {why}", f.location))
        })
        .collect();
    Err(PromoteError::Unsigned {
        app: promotion.app.clone(),
        image: pinned,
        reasons: if reasons.is_empty() {
            " (it has no signatures)".to_owned()
        } else {
            format!(" ({})", reasons.join("; "))
        },
    })
}

/// A registry's credentials, as ecr-push and sign find them: those given;
/// for an ECR host, ECR's `GetAuthorizationToken` with the job's AWS
/// credentials; else the Docker config's; else, when AWS credentials are in
/// the environment, ECR's (an ECR registry behind another name); else none.
async fn registry_credentials(
    check: &ImageCheck,
    env: &hoist_http::Environment,
    host: &str,
) -> Result<Option<Credentials>, PromoteError> {
    if let Some((username, password)) = &check.credentials {
        return Ok(Some(Credentials {
            username: username.clone(),
            password: password.clone(),
        }));
    }
    let ecr = hoist_aws::ecr::EcrHost::parse(host).is_some();
    let configured = match ecr {
        true => None,
        false => hoist_oci::docker_config::credentials(env, host)?,
    };
    if configured.is_some() || !(ecr || hoist_aws::ecr::has_credentials(env)) {
        return Ok(configured);
    }
    let password = hoist_aws::ecr::login(env, None, host)
        .await
        .map_err(|source| PromoteError::EcrLogin {
            registry: host.to_owned(),
            source,
        })?;
    Ok(Some(Credentials {
        username: "AWS".into(),
        password,
    }))
}

/// Reads both environments' files for `app` and plans the splice.
async fn plan_app(
    settings: &Settings,
    store: &mut GitHubStore,
    tip: &str,
    app: &str,
) -> Result<AppPromotion, PromoteError> {
    let mut texts = BTreeMap::new();
    for env in [&settings.from_env, &settings.to_env] {
        let mut found = Vec::new();
        for candidate in
            bump_manifest::edits::layout_candidates(app, env, settings.layout.as_deref())
        {
            if let Some(text) = store.read(tip, &candidate).await? {
                found.push((candidate, text));
            }
        }
        let path = promote::locate(app, env, settings.layout.as_deref(), |p| {
            found.iter().any(|(f, _)| f == p)
        })?;
        let text = found
            .into_iter()
            .find(|(f, _)| *f == path)
            .map(|(_, t)| t)
            .unwrap_or_default();
        texts.insert(env.clone(), (path, text));
    }
    let (from_path, from_text) = &texts[&settings.from_env];
    let (to_path, to_text) = &texts[&settings.to_env];
    let image_name = settings
        .image_name
        .clone()
        .unwrap_or_else(|| app.to_owned());
    promote::plan(
        app,
        &image_name,
        (from_path, from_text),
        (to_path, to_text),
        &settings.to_env,
    )
}

/// `apps: all`: the app directories of the layout(s) at the base tip.
async fn all_apps(
    settings: &Settings,
    store: &GitHubStore,
    tip: &str,
) -> Result<Vec<String>, PromoteError> {
    let roots: Vec<String> = match settings.layout.as_deref() {
        Some("helm") => vec!["charts".into()],
        Some("kustomize") => vec!["apps".into()],
        Some("kustomize-services") => vec!["services".into()],
        Some(pattern) => vec![pattern.split("/{app}").next().unwrap_or("").to_owned()],
        None => vec!["charts".into(), "apps".into(), "services".into()],
    };
    let mut apps = Vec::new();
    for root in roots.iter().filter(|r| !r.is_empty() && !r.contains('{')) {
        let mut url = store.api().url(&["contents", root]);
        url.query_pairs_mut().append_pair("ref", tip);
        let answer = store.api().call(reqwest::Method::GET, url, None).await?;
        for entry in answer.body.as_array().into_iter().flatten() {
            if entry["type"] == "dir"
                && let Some(name) = entry["name"].as_str()
                && !apps.iter().any(|a| a == name)
            {
                apps.push(name.to_owned());
            }
        }
    }
    if apps.is_empty() {
        return Err(PromoteError::NoApps {
            from_env: settings.from_env.clone(),
            to_env: settings.to_env.clone(),
        });
    }
    Ok(apps)
}

/// Makes the group's branch hold exactly the promotion on the base tip and
/// its pull request describe it.
async fn open_or_update(
    settings: &Settings,
    store: &mut GitHubStore,
    tip: &str,
    group: &str,
    members: &[&AppPromotion],
) -> Result<GroupResult, PromoteError> {
    let branch = settings.fill(&settings.branch, group, group);
    let changed: Vec<&&AppPromotion> = members.iter().filter(|p| !p.changes.is_empty()).collect();
    let names = changed
        .iter()
        .map(|p| p.app.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let pulls = Pulls(store.api());
    let existing = pulls.find_open(&branch, &settings.base).await?;
    let head = pulls.branch_head(&branch).await?;
    if changed.is_empty() {
        if let (true, Some(pull)) = (settings.close_stale, &existing) {
            pulls.close(pull.number).await?;
            pulls.delete_branch(&branch).await?;
            return Ok(GroupResult {
                branch,
                operation: "closed",
                pull: existing,
                head: tip.to_owned(),
            });
        }
        return Ok(GroupResult {
            branch,
            operation: "none",
            pull: existing,
            head: head.unwrap_or_default(),
        });
    }
    let files: Vec<(RepoPath, String)> = changed
        .iter()
        .map(|p| (p.to_file.clone(), p.new_text.clone()))
        .collect();
    let message = settings.fill(&settings.commit_message, &names, group);
    let commit = store
        .commit(&NewCommit {
            parent: tip,
            files: &files,
            message: &message,
            author: None,
        })
        .await?;
    let pulls = Pulls(store.api());
    let same_tree = match &head {
        Some(head) => pulls.tree_of(head).await? == pulls.tree_of(&commit).await?,
        None => false,
    };
    let head_sha = if same_tree {
        head.clone().unwrap_or_default()
    } else {
        pulls.set_branch(&branch, &commit, head.is_some()).await?;
        commit
    };
    let title = settings.fill(&settings.title, &names, group);
    let body = body(settings, store, tip, &changed).await?;
    let pulls = Pulls(store.api());
    let (pull, operation) = match existing {
        Some(pull) => {
            pulls.update(pull.number, &title, &body).await?;
            (pull, if same_tree { "unchanged" } else { "updated" })
        }
        None => {
            let created = pulls
                .create(&title, &body, &branch, &settings.base, settings.draft)
                .await;
            match created {
                Ok(pull) => (pull, "created"),
                // Leave nothing behind: the branch only existed for this PR.
                Err(error) => {
                    if head.is_none() {
                        pulls.delete_branch(&branch).await?;
                    }
                    return Err(error);
                }
            }
        }
    };
    let finished = async {
        pulls.decorate(pull.number, &settings.extras).await?;
        if let Some(method) = &settings.auto_merge {
            pulls.enable_auto_merge(&pull, method).await?;
        }
        Ok::<(), PromoteError>(())
    };
    if let Err(error) = finished.await {
        // A PR this run opened and could not finish (a reviewer who is not a
        // collaborator, auto-merge refused) is closed again with its branch.
        if operation == "created" {
            pulls.close(pull.number).await?;
            pulls.delete_branch(&branch).await?;
        }
        return Err(error);
    }
    Ok(GroupResult {
        branch,
        operation,
        pull: Some(pull),
        head: head_sha,
    })
}

/// The pull request's body: the text given, the promotion table, the
/// checklist of the documents.
async fn body(
    settings: &Settings,
    store: &GitHubStore,
    tip: &str,
    promotions: &[&&AppPromotion],
) -> Result<String, PromoteError> {
    let mut text = settings
        .body
        .clone()
        .map(|b| format!("{b}\n\n"))
        .unwrap_or_default();
    text.push_str(&format!(
        "| App | From ({to} now) | To ({from}) | Digest | Signature | Source run |\n| --- | --- | --- | --- | --- | --- |\n",
        to = settings.to_env,
        from = settings.from_env
    ));
    let pulls = Pulls(store.api());
    for promotion in promotions {
        let message = pulls
            .last_message(promotion.from_file.as_str(), tip)
            .await?;
        let trailers = message
            .as_deref()
            .map(promote::trailers)
            .unwrap_or_default();
        let digest = promotion
            .from
            .digest
            .clone()
            .or_else(|| trailers.get("digest").cloned());
        let run = trailers
            .get("run")
            .map(|url| format!("[run]({url})"))
            .unwrap_or_default();
        text.push_str(&format!(
            "| {} | `{}` | `{}` | {} | | {} |\n",
            promotion.app,
            promotion.to.describe(),
            promotion.from.describe(),
            digest.map(|d| format!("`{d}`")).unwrap_or_default(),
            run
        ));
    }
    text.push_str(&format!(
        "\n- [ ] Verified in {from}\n- [ ] Integration tests passed\n- [ ] No open incidents\n\n<sub>Opened by hoist open-promotion-pr: {from} → {to}.</sub>\n",
        from = settings.from_env,
        to = settings.to_env
    ));
    Ok(text)
}

/// Outputs and the job summary.
fn report(
    runner: &mut Runner,
    settings: &Settings,
    results: &[GroupResult],
    promotions: &[AppPromotion],
) -> Result<(), PromoteError> {
    let column =
        |f: &dyn Fn(&GroupResult) -> String| results.iter().map(f).collect::<Vec<_>>().join("\n");
    runner.set_output(
        "pull-request-number",
        &column(&|r| {
            r.pull
                .as_ref()
                .map(|p| p.number.to_string())
                .unwrap_or_default()
        }),
    )?;
    runner.set_output(
        "pull-request-url",
        &column(&|r| r.pull.as_ref().map(|p| p.url.clone()).unwrap_or_default()),
    )?;
    runner.set_output(
        "pull-request-operation",
        &column(&|r| r.operation.to_owned()),
    )?;
    runner.set_output("branch", &column(&|r| r.branch.clone()))?;
    runner.set_output("head-sha", &column(&|r| r.head.clone()))?;
    let promoted: serde_json::Map<String, serde_json::Value> = promotions
        .iter()
        .filter(|p| !p.changes.is_empty())
        .map(|p| {
            (
                p.app.clone(),
                json!({"from": p.to.describe(), "to": p.from.describe(), "digest": p.from.digest}),
            )
        })
        .collect();
    runner.set_output("promoted", &serde_json::Value::Object(promoted).to_string())?;
    let mut summary = format!(
        "### open-promotion-pr: {} → {}\n\n| Branch | Pull request | Operation |\n| --- | --- | --- |\n",
        settings.from_env, settings.to_env
    );
    for result in results {
        let pull = result
            .pull
            .as_ref()
            .map(|p| format!("[#{}]({})", p.number, p.url))
            .unwrap_or_else(|| "—".into());
        summary.push_str(&format!(
            "| `{}` | {pull} | {} |\n",
            result.branch, result.operation
        ));
        runner.console().info(&format!(
            "{}: {} {}",
            result.branch,
            result.operation,
            result.pull.as_ref().map(|p| p.url.as_str()).unwrap_or("")
        ));
    }
    runner.summary(&summary)?;
    Ok(())
}
