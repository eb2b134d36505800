//! Paths inside the GitOps repository, checked before they are used.

use std::fmt;

/// The longest path accepted, in bytes.
const MAX_LEN: usize = 1024;

/// A file's path relative to the repository root: `/`-separated, no empty,
/// `.` or `..` segment, no `.git` directory, no control characters or
/// backslashes, so it can never name a file outside the repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoPath(String);

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` is not a file path inside the repository: {reason}")]
pub struct RepoPathError {
    /// The path as given (control characters escaped).
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl RepoPath {
    /// Checks `path`. A leading `./` is allowed and dropped.
    pub fn new(path: &str) -> Result<Self, RepoPathError> {
        let refuse = |reason| RepoPathError {
            path: path.escape_debug().to_string(),
            reason,
        };
        let trimmed = path.strip_prefix("./").unwrap_or(path);
        if trimmed.is_empty() {
            return Err(refuse("it is empty"));
        }
        if trimmed.len() > MAX_LEN {
            return Err(refuse("it is longer than 1024 bytes"));
        }
        if trimmed.starts_with('/') {
            return Err(refuse(
                "it is absolute; write it relative to the repository root",
            ));
        }
        if trimmed.chars().any(|c| c.is_control() || c == '\\') {
            return Err(refuse("it holds a control character or a backslash"));
        }
        for segment in trimmed.split('/') {
            match segment {
                "" => return Err(refuse("it has an empty segment (`//` or a trailing `/`)")),
                "." | ".." => return Err(refuse("`.` and `..` segments may leave the repository")),
                _ if segment.eq_ignore_ascii_case(".git") => {
                    return Err(refuse("it points into the `.git` directory"));
                }
                _ => {}
            }
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment, the file's name.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_relative_paths_and_drops_a_leading_dot_slash() {
        let path = RepoPath::new("./apps/pay/overlays/dev/kustomization.yaml").unwrap();
        assert_eq!(path.as_str(), "apps/pay/overlays/dev/kustomization.yaml");
        assert_eq!(path.file_name(), "kustomization.yaml");
    }

    #[test]
    fn refuses_paths_that_leave_the_repository() {
        for bad in [
            "",
            "/etc/passwd",
            "../x.yaml",
            "apps/../../x.yaml",
            "apps/./x.yaml",
            "apps//x.yaml",
            "apps/",
            ".git/config",
            "a/.GIT/hooks/pre-commit",
            "a\\b.yaml",
            "a\nb.yaml",
        ] {
            assert!(RepoPath::new(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
