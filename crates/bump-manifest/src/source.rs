//! The build a bump comes from: the `Hoist-Source` trailer.
//!
//! Every bump commit records the source repository and commit of the
//! build that made it (`Hoist-Source: owner/repo@<full sha>`, from
//! `GITHUB_REPOSITORY` and `GITHUB_SHA`). The next bump of the same file
//! reads it back to tell whether a newer build already wrote there.

use hoist_gitops::RepoName;
use hoist_gitops::history::is_commit_id;

/// The trailer's key.
pub const TRAILER: &str = "Hoist-Source";

/// A build's source: the repository it was built from and the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `owner/name`, as `GITHUB_REPOSITORY` names it.
    pub repository: RepoName,
    /// The full commit id, lower case.
    pub commit: String,
}

impl Source {
    /// The run's source from `GITHUB_REPOSITORY` and `GITHUB_SHA`; `None`
    /// when either is missing or malformed.
    pub fn from_run(repository: Option<&str>, sha: Option<&str>) -> Option<Self> {
        let repository = RepoName::parse(repository?)?;
        let sha = sha?;
        is_commit_id(sha).then(|| Self {
            repository,
            commit: sha.to_ascii_lowercase(),
        })
    }

    /// Reads a trailer's value, `owner/repo@<full sha>`.
    pub fn parse(value: &str) -> Option<Self> {
        let (repository, sha) = value.trim().rsplit_once('@')?;
        Self::from_run(Some(repository), Some(sha))
    }

    /// The source a commit message's last `Hoist-Source` trailer names.
    pub fn from_message(message: &str) -> Option<Self> {
        message
            .lines()
            .rev()
            .filter_map(|line| line.strip_prefix(TRAILER)?.strip_prefix(':'))
            .find_map(Self::parse)
    }

    /// Whether `other` was built from the same repository (GitHub's names
    /// are case-insensitive).
    pub fn same_repository(&self, other: &Self) -> bool {
        self.repository
            .owner
            .eq_ignore_ascii_case(&other.repository.owner)
            && self
                .repository
                .name
                .eq_ignore_ascii_case(&other.repository.name)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.repository, self.commit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn the_run_s_source_needs_a_repository_and_a_full_commit() {
        let source = Source::from_run(Some("acme/shop"), Some(&SHA.to_uppercase())).unwrap();
        assert_eq!(source.to_string(), format!("acme/shop@{SHA}"));
        assert_eq!(Source::from_run(Some("acme/shop"), Some("abc1234")), None);
        assert_eq!(Source::from_run(Some("acme"), Some(SHA)), None);
        assert_eq!(Source::from_run(None, Some(SHA)), None);
    }

    #[test]
    fn the_last_trailer_of_a_message_is_read() {
        let message = format!(
            "chore(dev): update api to main-0123456\n\nHoist-Source: not a source\n\nHoist-Run: https://x\n{TRAILER}: acme/shop@{SHA}\n"
        );
        let source = Source::from_message(&message).unwrap();
        assert_eq!(source.repository.to_string(), "acme/shop");
        assert_eq!(source.commit, SHA);
        assert_eq!(Source::from_message("chore: no trailers\n"), None);
        assert!(source.same_repository(&Source::parse(&format!("ACME/Shop@{SHA}")).unwrap()));
    }
}
