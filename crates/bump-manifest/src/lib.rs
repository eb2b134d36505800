//! bump-manifest: writes a new image tag or digest into the GitOps
//! repository.
//!
//! The inputs become targets per file ([`edits`]); each attempt reads those
//! files at the branch's tip, splices the new values in
//! ([`hoist_manifest::apply`]), checks that nothing goes backwards
//! ([`policy`]), and lands one commit by compare-and-swap
//! ([`hoist_gitops::land`]). A lost race starts again from the new tip.

pub mod edits;
pub mod message;
pub mod policy;
mod report;
mod settings;
pub mod spec;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use hoist_github::GitHubApi;
use hoist_gitops::{
    GitHubStore, GitStore, LandError, LandOptions, Plan, RepoPath, Snapshot, Store, StoreError,
};
use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_manifest::{Change, EditError};
use hoist_runner::{Diagnostic, FileCommandError, InputError, Location, Runner};

pub use settings::{Backend, Settings};
pub use spec::SPEC;

use edits::{EditLineError, FileEdit};

/// The binary's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A failure of bump-manifest.
#[derive(Debug, thiserror::Error)]
pub enum BumpError {
    /// An input is missing or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// An `edits` line or a convention input is wrong.
    #[error(transparent)]
    EditLine(#[from] EditLineError),
    /// The `repository` input is wrong.
    #[error(transparent)]
    Repository(#[from] hoist_gitops::RepositoryError),
    /// The HTTP client for the API could not be set up.
    #[error(transparent)]
    Http(#[from] hoist_http::HttpError),
    /// A file could not be edited.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Reading or writing the repository failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Other writers kept landing first, or the server kept failing.
    #[error(
        "the bump did not land: gave up after {attempts} attempts ({last}); nothing was committed"
    )]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// What the last attempt ran into.
        last: String,
    },
    /// The runner's files could not be written.
    #[error(transparent)]
    Files(#[from] FileCommandError),
    /// The async runtime could not start.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Why the files at the tip could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A file the edits name is not in the repository.
    #[error("`{0}` does not exist on the branch")]
    MissingFile(RepoPath),
    /// None of the layouts' files exists for app and env.
    #[error("found none of {tried} on the branch")]
    NoLayout {
        /// The files looked for.
        tried: String,
    },
    /// Several layouts' files exist for app and env.
    #[error("several layouts fit app and env: {found}")]
    AmbiguousLayout {
        /// The files found.
        found: String,
    },
    /// The edit of one file failed.
    #[error("cannot edit `{file}`")]
    Manifest {
        /// The file.
        file: RepoPath,
        /// What went wrong.
        #[source]
        source: EditError,
    },
}

impl Diagnostic for BumpError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Input(error) => return error.hint(),
            // app, env, tag and digest arrive from callers (a dispatch's
            // payload, another job's outputs): say which value to fix.
            Self::EditLine(error) if error.what.starts_with("input ") => format!(
                "fix {}: the value a workflow passes (such as a repository_dispatch payload's field) is checked like any other input; nothing was changed",
                error.what
            ),
            Self::EditLine(_) => "write each edit as FILE:KEY.PATH=VALUE, such as charts/myshop-api/values-dev.yaml:image.tag=abc1234; nothing was changed".into(),
            Self::Repository(error) => return error.hint(),
            Self::Http(error) => return error.hint(),
            Self::Store(error) => return error.hint(),
            Self::Plan(PlanError::MissingFile(_)) => "check the path (it is relative to the GitOps repository's root), or set `create-missing: true` to create it".into(),
            Self::Plan(PlanError::NoLayout { .. }) => "check `app` and `env`, or set `layout` to the pattern your repository uses, such as `deploy/{app}/{env}/values.yaml`".into(),
            Self::Plan(PlanError::AmbiguousLayout { .. }) => "set `layout` to say which one to bump".into(),
            // The manifest error says what to change itself.
            Self::Plan(PlanError::Manifest { .. }) => "nothing was committed".into(),
            Self::GaveUp { .. } => "raise `max-attempts`, or serialise the jobs that write this branch with a `concurrency:` group".into(),
            Self::Files(error) => return error.hint(),
            Self::Runtime(_) => "this is a bug in hoist or an exhausted runner: please report it with the step's log".into(),
        })
    }

    fn location(&self) -> Option<Location> {
        match self {
            Self::Plan(PlanError::Manifest { file, source }) => Some(Location {
                file: file.to_string(),
                line: source.line(),
            }),
            Self::Plan(PlanError::MissingFile(file)) => Some(Location {
                file: file.to_string(),
                line: None,
            }),
            _ => None,
        }
    }
}

/// One file's edit at one tip.
#[derive(Debug, Clone)]
struct FileResult {
    path: RepoPath,
    before: String,
    after: String,
    changes: Vec<Change>,
}

/// What an attempt decided.
#[derive(Debug, Clone, Default)]
struct Decision {
    files: Vec<FileResult>,
    superseded: Vec<(RepoPath, Change)>,
}

impl Decision {
    fn changes(&self) -> impl Iterator<Item = (&RepoPath, &Change)> {
        self.files
            .iter()
            .flat_map(|file| file.changes.iter().map(move |change| (&file.path, change)))
    }
}

/// Edits every file at the snapshot; nothing is written here.
fn decide(settings: &Settings, snapshot: &Snapshot) -> Result<Decision, PlanError> {
    let mut decision = Decision::default();
    for FileEdit { path, targets } in resolve_files(settings, snapshot)? {
        let before = match snapshot.files.get(&path).cloned().flatten() {
            Some(text) => text,
            None if settings.create_missing => String::new(),
            None => return Err(PlanError::MissingFile(path)),
        };
        let edited = hoist_manifest::apply(&before, &targets, &settings.manifest_options())
            .map_err(|source| PlanError::Manifest {
                file: path.clone(),
                source,
            })?;
        for change in &edited.changes {
            if let (Some(old), Some(new)) = (&change.old, &change.new)
                && settings.policy.is_downgrade(old, new)
            {
                decision.superseded.push((path.clone(), change.clone()));
            }
        }
        if !edited.changes.is_empty() {
            decision.files.push(FileResult {
                path,
                before,
                after: edited.text,
                changes: edited.changes,
            });
        }
    }
    Ok(decision)
}

/// The edits lines' files, plus the convention's file chosen at this tip.
fn resolve_files(settings: &Settings, snapshot: &Snapshot) -> Result<Vec<FileEdit>, PlanError> {
    let mut files = settings.files.clone();
    let Some(convention) = &settings.convention else {
        return Ok(files);
    };
    let candidates = convention.candidates();
    let existing: Vec<&RepoPath> = candidates
        .iter()
        .filter(|path| snapshot.files.get(*path).is_some_and(Option::is_some))
        .collect();
    let chosen = match (existing.as_slice(), convention.layout.is_some()) {
        ([one], _) => (*one).clone(),
        ([], true) => candidates[0].clone(),
        ([], false) => {
            return Err(PlanError::NoLayout {
                tried: list(candidates.iter()),
            });
        }
        (several, _) => {
            return Err(PlanError::AmbiguousLayout {
                found: list(several.iter().copied()),
            });
        }
    };
    let targets = convention.targets(&chosen);
    match files.iter_mut().find(|file| file.path == chosen) {
        Some(file) => file.targets.extend(targets),
        None => files.push(FileEdit {
            path: chosen,
            targets,
        }),
    }
    Ok(files)
}

fn list<'a>(paths: impl Iterator<Item = &'a RepoPath>) -> String {
    paths
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs bump-manifest.
pub fn run(runner: &mut Runner) -> Result<(), BumpError> {
    let settings = Settings::read(runner)?;
    if let Some(token) = &settings.token {
        runner
            .console()
            .mask_with_base64(&format!("x-access-token:{token}"));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BumpError::Runtime)?;
    let env = runner.environment().clone();
    match settings.backend {
        Backend::Git => {
            let temp = env
                .get("RUNNER_TEMP")
                .filter(|t| !t.is_empty())
                .map_or_else(std::env::temp_dir, Into::into);
            let mut store = GitStore::open(
                &settings.repository,
                &settings.branch,
                settings.token.as_deref(),
                &temp,
            )?;
            runtime.block_on(bump(runner, &settings, &mut store))
        }
        Backend::GitHubApi { ref api, ref name } => {
            let http = HttpClient::new(&HttpOptions::new(SPEC.name, VERSION), &env)?;
            let backoff = Backoff::default().scaled_by_env(&env);
            let policy = RetryPolicy {
                max_attempts: 4,
                deadline: None,
                backoff,
            };
            let token = settings.token.clone().unwrap_or_default();
            let api = GitHubApi::new(
                http,
                policy,
                Arc::new(SystemClock::default()),
                api.clone(),
                name.clone(),
                &token,
            );
            let mut store = GitHubStore::new(api, &settings.branch);
            runtime.block_on(bump(runner, &settings, &mut store))
        }
    }
}

async fn bump<S: Store>(
    runner: &mut Runner,
    settings: &Settings,
    store: &mut S,
) -> Result<(), BumpError> {
    let paths = settings.paths();
    if settings.dry_run {
        let snapshot = hoist_gitops::snapshot(store, &paths).await?;
        let decision = decide(settings, &snapshot)?;
        return report::dry_run(runner, &snapshot.commit, &decision);
    }
    let last = RefCell::new(Decision::default());
    let options = LandOptions {
        max_attempts: settings.max_attempts,
        backoff: Backoff::default().scaled_by_env(runner.environment()),
    };
    let clock = SystemClock::default();
    let outcome = hoist_gitops::land(store, &paths, &options, &clock, |snapshot| {
        let decision = decide(settings, snapshot)?;
        let plan = if !decision.superseded.is_empty() {
            Plan::Superseded
        } else if decision.files.is_empty() {
            Plan::Unchanged
        } else {
            Plan::Write {
                files: decision
                    .files
                    .iter()
                    .map(|f| (f.path.clone(), f.after.clone()))
                    .collect(),
                message: settings.message(&decision),
                author: settings.author.clone(),
            }
        };
        *last.borrow_mut() = decision;
        Ok::<_, PlanError>(plan)
    })
    .await
    .map_err(|error| match error {
        LandError::Plan(error) => BumpError::Plan(error),
        LandError::Store(error) => BumpError::Store(error),
        LandError::GaveUp { attempts, last } => BumpError::GaveUp { attempts, last },
    })?;
    report::outcome(runner, &outcome, &last.into_inner())
}

/// The `previous` output: `FILE:KEY=OLD`, one per replaced value.
pub(crate) fn previous_lines<'a>(
    changes: impl Iterator<Item = (&'a RepoPath, &'a Change)>,
) -> String {
    let mut lines = BTreeMap::new();
    for (path, change) in changes {
        if let Some(old) = &change.old {
            lines.insert(format!("{path}:{}", change.key), old.clone());
        }
    }
    lines
        .into_iter()
        .map(|(key, old)| format!("{key}={old}"))
        .collect::<Vec<_>>()
        .join("\n")
}
