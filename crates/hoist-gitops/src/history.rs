//! A repository's history: does one commit contain another, and which
//! commits touched a file?
//!
//! wait-for-sync asks the first of the GitOps repository (Argo CD synced a
//! later commit: is ours in it?), bump-manifest of the source repository
//! (did a newer build already write this target?); bump-manifest asks the
//! second of the GitOps repository (which build wrote this file last?). On
//! GitHub the REST API answers without a clone; anywhere else git does,
//! fetching only the history needed (commits, and trees for paths; never
//! blobs where the server allows filters) into a scratch repository.

use std::path::Path;

use hoist_github::GitHubApi;
use serde::Deserialize;

use crate::error::StoreError;
use crate::git::GitStore;
use crate::remote::Repository;
use crate::repo_path::RepoPath;

/// Where history questions go: GitHub's REST API, or git itself.
#[derive(Debug)]
pub enum History {
    /// `compare/{older}...{newer}` and `commits?sha=&path=`.
    GitHub(GitHubApi),
    /// A fetch into a scratch repository, then `git merge-base` or
    /// `git log`.
    Git(GitStore),
}

/// A commit in a file's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathCommit {
    /// The commit id.
    pub sha: String,
    /// Its whole message, trailers included.
    pub message: String,
}

/// One entry of `GET …/commits`, as far as it is read.
#[derive(Debug, Deserialize)]
struct ListedCommit {
    sha: String,
    commit: ListedCommitDetail,
}

/// The git commit of a [`ListedCommit`].
#[derive(Debug, Deserialize)]
struct ListedCommitDetail {
    message: String,
}

/// The one field of a compare answer that says how two commits relate.
#[derive(Debug, Deserialize)]
struct Comparison {
    /// `ahead`, `behind`, `identical` or `diverged`.
    status: String,
}

impl History {
    /// The history of `repository`: the REST API when `api` is given
    /// (a client for that repository on GitHub, with a token), else git,
    /// sending `token` (if any) as the git backend does, in a scratch
    /// directory under `temp`.
    pub fn for_repository(
        repository: &Repository,
        api: Option<GitHubApi>,
        token: Option<&str>,
        temp: &Path,
    ) -> Result<Self, StoreError> {
        match api {
            Some(api) => Ok(Self::GitHub(api)),
            None => Ok(Self::Git(GitStore::open(repository, "HEAD", token, temp)?)),
        }
    }

    /// Whether `newer` contains `older`: it is `older` or a descendant of
    /// it. A commit the server does not have contains nothing and is
    /// contained by nothing.
    pub async fn contains(&self, newer: &str, older: &str) -> Result<bool, StoreError> {
        for commit in [newer, older] {
            if !is_commit_id(commit) {
                return Err(StoreError::BadCommit(commit.to_owned()));
            }
        }
        if newer.eq_ignore_ascii_case(older) {
            return Ok(true);
        }
        match self {
            Self::GitHub(api) => compare(api, newer, older).await,
            Self::Git(store) => store.contains(newer, older),
        }
    }

    /// The commits among the last `depth` of `commit`'s history that
    /// touched `path`, newest first.
    pub async fn commits_touching(
        &self,
        commit: &str,
        path: &RepoPath,
        depth: usize,
    ) -> Result<Vec<PathCommit>, StoreError> {
        if !is_commit_id(commit) {
            return Err(StoreError::BadCommit(commit.to_owned()));
        }
        match self {
            Self::GitHub(api) => list_commits(api, commit, path, depth).await,
            Self::Git(store) => store.commits_touching(commit, path, depth),
        }
    }
}

/// `GET commits?sha={commit}&path={path}&per_page={depth}`: the commits
/// that touched `path`, newest first (at most 100, GitHub's page size).
async fn list_commits(
    api: &GitHubApi,
    commit: &str,
    path: &RepoPath,
    depth: usize,
) -> Result<Vec<PathCommit>, StoreError> {
    const OPERATION: &str = "listing a file's commits";
    let mut url = api.url(&["commits"]);
    url.query_pairs_mut()
        .append_pair("sha", commit)
        .append_pair("path", path.as_str())
        .append_pair("per_page", &depth.min(100).to_string());
    let answer = api.call(reqwest::Method::GET, url, None).await?;
    match answer.status {
        200 => {
            let listed: Vec<ListedCommit> =
                serde_json::from_value(answer.body).map_err(|e| StoreError::BadAnswer {
                    operation: OPERATION,
                    detail: e.to_string(),
                })?;
            Ok(listed
                .into_iter()
                .map(|c| PathCommit {
                    sha: c.sha,
                    message: c.commit.message,
                })
                .collect())
        }
        401 => Err(StoreError::Auth {
            detail: answer.message().to_owned(),
        }),
        404 => Err(StoreError::CommitMissing(commit.to_owned())),
        status => Err(StoreError::Api {
            operation: OPERATION,
            status,
            message: answer.message().to_owned(),
        }),
    }
}

/// `compare/{older}...{newer}` is `ahead` (or `identical`) when `newer`
/// contains `older`; 404 when either commit is unknown.
async fn compare(api: &GitHubApi, newer: &str, older: &str) -> Result<bool, StoreError> {
    const OPERATION: &str = "comparing commits";
    let range = format!("{older}...{newer}");
    let answer = api.get(&["compare", &range]).await?;
    match answer.status {
        200 => {
            let comparison: Comparison =
                serde_json::from_value(answer.body).map_err(|e| StoreError::BadAnswer {
                    operation: OPERATION,
                    detail: e.to_string(),
                })?;
            Ok(matches!(comparison.status.as_str(), "ahead" | "identical"))
        }
        404 => Ok(false),
        401 => Err(StoreError::Auth {
            detail: answer.message().to_owned(),
        }),
        status => Err(StoreError::Api {
            operation: OPERATION,
            status,
            message: answer.message().to_owned(),
        }),
    }
}

/// A full commit id: 40 (SHA-1) or 64 (SHA-256) hex digits, so it can never
/// be read as an option or a revision expression.
pub fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_hex_commit_ids_are_accepted() {
        assert!(is_commit_id(&"a".repeat(40)));
        assert!(is_commit_id(&"0F".repeat(32)));
        for bad in ["", "abc123", "--upload-pack=x", &"g".repeat(40), "HEAD"] {
            assert!(!is_commit_id(bad), "{bad}");
        }
    }
}
