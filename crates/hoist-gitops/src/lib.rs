//! Writers for the GitOps repository.
//!
//! A [`Store`] is one branch of one repository that can be read at a
//! commit and moved by compare-and-swap. Two backends implement it:
//! [`GitStore`] (any git server, through the `git` command) and
//! [`GitHubStore`] (GitHub's Git Data API, no clone, verified commits).
//! [`land`] is the loop every writer shares: read at the tip, edit, commit,
//! swap, and on a lost race start again from the new tip.

pub mod error;
pub mod git;
pub mod github;
pub mod history;
pub mod land;
pub mod remote;
pub mod repo_path;
pub mod store;

pub use error::StoreError;
pub use git::GitStore;
pub use github::GitHubStore;
pub use history::{History, PathCommit};
pub use hoist_github::RepoName;
pub use land::{LandError, LandOptions, MAX_LOST_RACES, Outcome, Plan, Snapshot, land, snapshot};
pub use remote::{Repository, RepositoryError, is_branch_name};
pub use repo_path::{RepoPath, RepoPathError};
pub use store::{Advance, Identity, NewCommit, Store};
