//! bump-manifest: writes a new image tag or digest into the GitOps
//! repository.
//!
//! The inputs become targets per file ([`edits`]); each attempt reads those
//! files at the branch's tip, splices the new values in
//! ([`hoist_manifest::apply`]), checks that nothing goes backwards
//! ([`policy`]; for values that are not versions, by the build that wrote
//! them: [`source`]), and lands one commit by compare-and-swap
//! ([`hoist_gitops::land`]). A lost race starts again from the new tip.

pub mod edits;
mod lineage;
pub mod message;
pub mod policy;
mod report;
mod settings;
pub mod source;
pub mod spec;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hoist_github::GitHubApi;
use hoist_gitops::{
    GitHubStore, GitStore, LandError, LandOptions, Plan, RepoPath, Snapshot, Store, StoreError,
};
use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_manifest::{Change, EditError};
use hoist_runner::{Diagnostic, FileCommandError, InputError, Location, Runner};

pub use settings::{Backend, Settings};

use policy::Policy;
pub use spec::SPEC;

use edits::{EditLineError, FileEdit};
use lineage::{GitOpsHistory, Lineage, Verdict};
use source::Source;

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
        /// What to change for that: the last error's hint, or `None` when
        /// other writers kept landing first.
        hint: Option<String>,
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
            // The server or the network kept failing: say so, not contention.
            Self::GaveUp { hint, .. } => hint.clone().unwrap_or_else(|| {
                "raise `max-attempts`, or serialise the jobs that write this branch with a `concurrency:` group".into()
            }),
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
    /// The changes that would go backwards, with the newer build that
    /// wrote the file when that is how it was found (else by version).
    superseded: Vec<(RepoPath, Change, Option<Source>)>,
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
                decision
                    .superseded
                    .push((path.clone(), change.clone(), None));
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
    let lineage = |history: GitOpsHistory| {
        let source = settings.source.clone()?;
        let repository = settings.source_repository.clone()?;
        Some(Lineage::new(
            source,
            repository,
            settings.github_token.clone(),
            history,
        ))
    };
    match settings.backend {
        Backend::Git => {
            let temp = lineage::runner_temp(runner);
            let mut store = GitStore::open(
                &settings.repository,
                &settings.branch,
                settings.token.as_deref(),
                &temp,
            )?;
            let lineage = if settings.source_repository.is_some() {
                let history: GitOpsHistory = hoist_gitops::History::for_repository(
                    &settings.repository,
                    None,
                    settings.token.as_deref(),
                    &temp,
                )
                .map_err(|e| e.to_string());
                lineage(history)
            } else {
                None
            };
            runtime.block_on(bump(runner, &settings, &mut store, lineage))
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
            let client = || {
                GitHubApi::new(
                    http.clone(),
                    policy,
                    Arc::new(SystemClock::default()),
                    api.clone(),
                    name.clone(),
                    &token,
                )
            };
            let mut store = GitHubStore::new(client(), &settings.branch);
            let lineage = lineage(Ok(hoist_gitops::History::GitHub(client())));
            runtime.block_on(bump(runner, &settings, &mut store, lineage))
        }
    }
}

/// Why an attempt stopped before a plan.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    /// The files could not be edited.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Which build last wrote these files (path and text at `commit`) must
    /// be read first.
    #[error("the history of {} file(s) must be read first", files.len())]
    Lookup {
        /// The tip the files were read at.
        commit: String,
        /// The files, with their text there.
        files: Vec<(RepoPath, String)>,
    },
}

/// What the history said, by file and the text the file had.
type Verdicts = HashMap<(RepoPath, String), Verdict>;

/// Whether `change` is compared by the build that wrote the old value:
/// `policy: auto`, and the two values are not both versions.
fn by_source(policy: Policy, change: &Change) -> bool {
    let (Some(old), Some(new)) = (&change.old, &change.new) else {
        return false;
    };
    policy == Policy::Auto
        && old != new
        && !(policy::version(old).is_some() && policy::version(new).is_some())
}

/// Adds the changes a newer build's write supersedes to `decision`; returns
/// the files whose history is still unknown.
fn apply_verdicts(
    settings: &Settings,
    decision: &mut Decision,
    verdicts: &Verdicts,
) -> Vec<(RepoPath, String)> {
    let mut missing = Vec::new();
    let mut superseded = Vec::new();
    for file in &decision.files {
        let changes: Vec<&Change> = file
            .changes
            .iter()
            .filter(|change| by_source(settings.policy, change))
            .collect();
        if changes.is_empty() {
            continue;
        }
        // A file whose text is what it was when its history was read has
        // the same last writer.
        match verdicts.get(&(file.path.clone(), file.before.clone())) {
            Some(Verdict::Superseded(by)) => superseded.extend(
                changes
                    .into_iter()
                    .map(|change| (file.path.clone(), change.clone(), Some(by.clone()))),
            ),
            Some(Verdict::Proceed) => {}
            None => missing.push((file.path.clone(), file.before.clone())),
        }
    }
    decision.superseded.extend(superseded);
    missing
}

/// Asks the history about each file, as of `commit`.
async fn look_up(
    runner: &mut Runner,
    lineage: &mut Lineage,
    commit: &str,
    files: Vec<(RepoPath, String)>,
    verdicts: &mut Verdicts,
) {
    for (path, text) in files {
        let verdict = lineage.verdict(runner, commit, &path).await;
        verdicts.insert((path, text), verdict);
    }
}

async fn bump<S: Store>(
    runner: &mut Runner,
    settings: &Settings,
    store: &mut S,
    mut lineage: Option<Lineage>,
) -> Result<(), BumpError> {
    let paths = settings.paths();
    let mut verdicts = Verdicts::new();
    if settings.dry_run {
        let snapshot = hoist_gitops::snapshot(store, &paths).await?;
        let mut decision = decide(settings, &snapshot)?;
        if let Some(lineage) = &mut lineage {
            // Nothing is known yet: this names every file to look up.
            let missing = apply_verdicts(settings, &mut decision, &verdicts);
            look_up(runner, lineage, &snapshot.commit, missing, &mut verdicts).await;
            apply_verdicts(settings, &mut decision, &verdicts);
        }
        return report::dry_run(runner, &snapshot.commit, &decision);
    }
    let options = LandOptions {
        max_attempts: settings.max_attempts,
        max_lost_races: hoist_gitops::MAX_LOST_RACES,
        backoff: Backoff::default().scaled_by_env(runner.environment()),
    };
    let clock = SystemClock::default();
    let checks = lineage.is_some();
    let mut lookups = 0;
    loop {
        let last = RefCell::new(Decision::default());
        let landed = hoist_gitops::land(store, &paths, &options, &clock, |snapshot| {
            let mut decision = decide(settings, snapshot)?;
            if checks {
                let missing = apply_verdicts(settings, &mut decision, &verdicts);
                if !missing.is_empty() {
                    return Err(AttemptError::Lookup {
                        commit: snapshot.commit.clone(),
                        files: missing,
                    });
                }
            }
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
            Ok(plan)
        })
        .await;
        let outcome = match landed {
            Ok(outcome) => outcome,
            // The file changed since its history was read (or was never
            // read): read it at this tip, then start again. Bounded like
            // lost races are.
            Err(LandError::Plan(AttemptError::Lookup { commit, files })) => {
                lookups += 1;
                if lookups > settings.max_attempts {
                    return Err(BumpError::GaveUp {
                        attempts: lookups - 1,
                        last: "the files kept changing while their history was read".into(),
                        hint: None,
                    });
                }
                if let Some(lineage) = &mut lineage {
                    look_up(runner, lineage, &commit, files, &mut verdicts).await;
                }
                continue;
            }
            Err(LandError::Plan(AttemptError::Plan(error))) => return Err(BumpError::Plan(error)),
            Err(LandError::Store(error)) => return Err(BumpError::Store(error)),
            Err(LandError::GaveUp { attempts, last }) => {
                return Err(BumpError::GaveUp {
                    attempts,
                    hint: last.as_ref().and_then(Diagnostic::hint),
                    last: last.map_or_else(
                        || hoist_gitops::land::LOST_EVERY_RACE.to_owned(),
                        |error| error.to_string(),
                    ),
                });
            }
        };
        return report::outcome(runner, settings, &outcome, &last.into_inner());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: &str, new: &str) -> Change {
        Change {
            key: "image.tag".into(),
            line: 1,
            old: Some(old.into()),
            new: Some(new.into()),
        }
    }

    #[test]
    fn only_auto_compares_values_that_are_not_both_versions_by_source() {
        assert!(by_source(
            Policy::Auto,
            &change("main-abc1234", "main-abc1233")
        ));
        assert!(by_source(Policy::Auto, &change("1.2.3", "main-abc1233")));
        assert!(by_source(Policy::Auto, &change("sha256:aa", "sha256:bb")));
        assert!(!by_source(Policy::Auto, &change("1.2.3", "1.2.4")));
        assert!(!by_source(Policy::Auto, &change("main-a", "main-a")));
        assert!(!by_source(Policy::Semver, &change("main-a", "main-b")));
        assert!(!by_source(Policy::Always, &change("main-a", "main-b")));
    }
}
