//! Never backwards for commit tags: did a newer build already write here?
//!
//! `policy: auto` compares semver tags by version. Any other value (a
//! `main-<sha>` tag, a digest) is compared by the build that wrote it: the
//! newest commit on the branch that touched the file and carries a
//! `Hoist-Source` trailer names that build's source commit, and if that
//! commit contains this run's (same source repository), this run is older
//! and writes nothing. When the question cannot be answered, the bump
//! warns once and writes, as `policy: auto` did before.

use std::path::Path;
use std::sync::Arc;

use hoist_github::GitHubApi;
use hoist_gitops::{History, RepoPath, Repository, StoreError};
use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_runner::Runner;
use url::Url;

use crate::source::Source;

/// How far back the history is searched for the file's last writer: at
/// most this many commits.
pub(crate) const DEPTH: usize = 100;

/// What the history says about this run's value for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Write: no newer build of the same source wrote the file.
    Proceed,
    /// Write nothing: this build wrote the file last, and its source
    /// contains ours.
    Superseded(Source),
}

/// Where the GitOps repository's history is read, or why it cannot be.
pub(crate) type GitOpsHistory = Result<History, String>;

/// The newest commit at or before `commit` that touched `path` and names a
/// source: that commit's id and its source.
async fn last_writer(
    history: &GitOpsHistory,
    commit: &str,
    path: &RepoPath,
) -> Result<Option<(String, Source)>, String> {
    let history = history.as_ref().map_err(Clone::clone)?;
    let commits = history
        .commits_touching(commit, path, DEPTH)
        .await
        .map_err(|e| hoist_runner::one_line(&e))?;
    Ok(commits
        .into_iter()
        .find_map(|c| Some((c.sha, Source::from_message(&c.message)?))))
}

/// Where this run's source commits can be compared.
#[derive(Debug, Clone)]
pub(crate) struct SourceRepository {
    /// `{GITHUB_SERVER_URL}/{owner}/{name}.git`.
    pub(crate) repository: Repository,
    /// The API to compare through, when the server is GitHub (`http(s)`);
    /// `None` for a `file://` server, where git compares.
    pub(crate) api: Option<Url>,
}

/// The question asked per file, with what it needs and what it found.
#[derive(Debug)]
pub(crate) struct Lineage {
    /// This run's source.
    pub(crate) source: Source,
    /// Where its commits can be compared.
    pub(crate) repository: SourceRepository,
    /// The token for the source repository (`github-token`).
    pub(crate) github_token: Option<String>,
    /// The GitOps repository's history.
    pub(crate) history: GitOpsHistory,
    /// The source repository's, once asked.
    source_history: Option<History>,
    warned: bool,
}

impl Lineage {
    /// A lineage check for `source`, reading `history`.
    pub(crate) fn new(
        source: Source,
        repository: SourceRepository,
        github_token: Option<String>,
        history: GitOpsHistory,
    ) -> Self {
        Self {
            source,
            repository,
            github_token,
            history,
            source_history: None,
            warned: false,
        }
    }

    /// Whether a newer build of the same source already wrote `path`, as of
    /// `commit` on the GitOps branch. Never fails: a question that cannot be
    /// answered is warned about (once per run) and answered `Proceed`.
    pub(crate) async fn verdict(
        &mut self,
        runner: &mut Runner,
        commit: &str,
        path: &RepoPath,
    ) -> Verdict {
        let (writer, theirs) = match last_writer(&self.history, commit, path).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                runner.console().debug(&format!(
                    "{path}: no commit among the last {DEPTH} that touched it names a source"
                ));
                return Verdict::Proceed;
            }
            Err(why) => {
                self.warn(
                    runner,
                    &format!(
                        "could not read which build last wrote `{path}` ({why}), so a newer build's value may be replaced",
                    ),
                    "check that `token` can read the GitOps repository's history",
                );
                return Verdict::Proceed;
            }
        };
        if !theirs.same_repository(&self.source) || theirs.commit == self.source.commit {
            return Verdict::Proceed;
        }
        match self
            .contains(runner, runner_temp(runner).as_path(), &theirs)
            .await
        {
            Ok(true) => {
                runner.console().info(&format!(
                    "{path}: last written by {writer} from {theirs}, which contains this build's {}",
                    self.source.commit
                ));
                Verdict::Superseded(theirs)
            }
            Ok(false) => Verdict::Proceed,
            Err(Missing::Failed(StoreError::CommitMissing(_))) => {
                runner.console().info(&format!(
                    "{path}: {theirs} (which wrote it last) is not in {}; writing",
                    self.source.repository
                ));
                Verdict::Proceed
            }
            Err(error) => {
                let (what, fix) = match error {
                    Missing::Token => (
                        "no `github-token` was given".to_owned(),
                        "set `github-token` to a token that can read the source repository (contents: read); the default `${{ github.token }}` can",
                    ),
                    Missing::Failed(error) => (
                        hoist_runner::one_line(&error),
                        "re-run the job, or check that `github-token` can read the source repository (contents: read)",
                    ),
                };
                self.warn(
                    runner,
                    &format!(
                        "could not tell whether {theirs} (which last wrote `{path}`) contains this build's commit: {what}; writing anyway, so a newer build's value may be replaced",
                    ),
                    fix,
                );
                Verdict::Proceed
            }
        }
    }

    /// Whether `theirs` contains this run's commit.
    async fn contains(
        &mut self,
        runner: &Runner,
        temp: &Path,
        theirs: &Source,
    ) -> Result<bool, Missing> {
        if self.source_history.is_none() {
            let api = match &self.repository.api {
                Some(api) => {
                    let token = self.github_token.as_deref().ok_or(Missing::Token)?;
                    let env = runner.environment();
                    let http =
                        HttpClient::new(&HttpOptions::new(crate::SPEC.name, crate::VERSION), env)
                            .map_err(|e| Missing::Failed(StoreError::Http(e)))?;
                    let policy = RetryPolicy {
                        max_attempts: 4,
                        deadline: None,
                        backoff: Backoff::default().scaled_by_env(env),
                    };
                    Some(GitHubApi::new(
                        http,
                        policy,
                        Arc::new(SystemClock::default()),
                        api.clone(),
                        self.source.repository.clone(),
                        token,
                    ))
                }
                None => None,
            };
            self.source_history = Some(
                History::for_repository(
                    &self.repository.repository,
                    api,
                    self.github_token.as_deref(),
                    temp,
                )
                .map_err(Missing::Failed)?,
            );
        }
        match &self.source_history {
            Some(history) => history
                .contains(&theirs.commit, &self.source.commit)
                .await
                .map_err(Missing::Failed),
            None => Ok(false),
        }
    }

    fn warn(&mut self, runner: &mut Runner, what: &str, fix: &str) {
        if std::mem::replace(&mut self.warned, true) {
            runner.console().debug(what);
        } else {
            runner
                .console()
                .warning(&format!("policy auto: {what}. Hint: {fix}"));
        }
    }
}

/// Why the ancestry question went unanswered.
#[derive(Debug)]
enum Missing {
    /// The source is on GitHub and no `github-token` was given.
    Token,
    /// The question failed.
    Failed(StoreError),
}

/// `RUNNER_TEMP`, else the system's temporary directory.
pub(crate) fn runner_temp(runner: &Runner) -> std::path::PathBuf {
    runner
        .env("RUNNER_TEMP")
        .filter(|t| !t.is_empty())
        .map_or_else(std::env::temp_dir, Into::into)
}
