//! The four operations a GitOps writer needs, whatever the server.

use crate::RepoPath;
use crate::error::StoreError;

/// Who a commit is by: `Name <email>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The name.
    pub name: String,
    /// The e-mail address.
    pub email: String,
}

impl Identity {
    /// The GitHub Actions bot, the default author of a bump.
    pub fn actions_bot() -> Self {
        Self {
            name: "github-actions[bot]".into(),
            email: "41898282+github-actions[bot]@users.noreply.github.com".into(),
        }
    }

    /// Parses `Name <email>`; `None` when it is not in that form or holds a
    /// newline or angle bracket where it must not.
    pub fn parse(text: &str) -> Option<Self> {
        let (name, rest) = text.trim().split_once('<')?;
        let email = rest.strip_suffix('>')?;
        let name = name.trim();
        let clean = |s: &str| !s.is_empty() && !s.contains(['<', '>', '\n', '\r', '\0']);
        (clean(name) && clean(email) && email.contains('@')).then(|| Self {
            name: name.to_owned(),
            email: email.to_owned(),
        })
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} <{}>", self.name, self.email)
    }
}

/// A commit to make: its parent, the files it changes, its message.
#[derive(Debug, Clone)]
pub struct NewCommit<'a> {
    /// The commit the branch pointed at when the files were read.
    pub parent: &'a str,
    /// Every changed file with its whole new contents.
    pub files: &'a [(RepoPath, String)],
    /// The message, subject line first.
    pub message: &'a str,
    /// The author and committer; `None` lets the server choose (on GitHub's
    /// API that makes a commit GitHub signs), or the Actions bot for git.
    pub author: Option<&'a Identity>,
}

/// Whether the branch moved to the new commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advance {
    /// The branch now points at the commit.
    Landed,
    /// The branch had moved on: someone else landed first.
    Lost,
}

/// A branch of a repository that can be read and moved by compare-and-swap.
#[allow(async_fn_in_trait)] // used with concrete types only
pub trait Store {
    /// The commit the branch points at now, fetched afresh.
    async fn tip(&mut self) -> Result<String, StoreError>;

    /// A text file's contents at `commit`; `None` when there is no such
    /// path. Symbolic links, directories and submodules are refused.
    async fn read(&mut self, commit: &str, path: &RepoPath) -> Result<Option<String>, StoreError>;

    /// Makes the commit (not yet on any branch) and returns its id.
    async fn commit(&mut self, commit: &NewCommit<'_>) -> Result<String, StoreError>;

    /// Moves the branch from `parent` to `commit`, only if it still points
    /// at `parent`.
    async fn advance(&mut self, parent: &str, commit: &str) -> Result<Advance, StoreError>;
}
