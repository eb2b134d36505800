//! Which repository to write: a git URL, or `owner/name` on GitHub.

use hoist_github::RepoName;
use url::Url;

/// The GitOps repository, as the `repository` input names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The URL git fetches and pushes (never holding a credential).
    pub git_url: String,
    /// `owner/name` when the repository is on the GitHub server the run
    /// belongs to, which the `github-api` backend needs.
    pub github: Option<RepoName>,
}

/// Why the `repository` input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// Neither a URL nor `owner/name`.
    #[error("`{0}` is neither a git URL nor `owner/name`")]
    Unrecognised(String),
    /// The URL names a user or password.
    #[error("the repository URL holds a credential")]
    CredentialsInUrl,
    /// A scheme git could use to run commands or send the token in clear.
    #[error("the scheme `{0}:` is not allowed for the repository")]
    Scheme(String),
    /// `http://` to a host that is not loopback.
    #[error("plain HTTP is allowed to loopback hosts only, not `{0}`")]
    PlainHttp(String),
}

impl hoist_runner::Diagnostic for RepositoryError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Unrecognised(_) => "write `owner/name`, or a URL such as `https://git.example.com/org/gitops.git` or `file:///srv/gitops.git`".into(),
            Self::CredentialsInUrl => "remove the user and password from the URL and pass the token in `token`".into(),
            Self::Scheme(_) => "use an `https://` or `file://` URL (or `owner/name` on GitHub)".into(),
            Self::PlainHttp(_) => "use `https://`".into(),
        })
    }
}

impl Repository {
    /// Reads the `repository` input. `server_url` is the run's GitHub
    /// (`GITHUB_SERVER_URL`, `https://github.com` by default).
    pub fn parse(input: &str, server_url: &str) -> Result<Self, RepositoryError> {
        let server_url = server_url.trim_end_matches('/');
        if let Some(name) = RepoName::parse(input) {
            return Ok(Self {
                git_url: format!("{server_url}/{}/{}.git", name.owner, name.name),
                github: Some(name),
            });
        }
        let url = Url::parse(input).map_err(|_| RepositoryError::Unrecognised(input.into()))?;
        match url.scheme() {
            "https" | "file" => {}
            "http" if url.host_str().is_some_and(hoist_http::is_loopback_host) => {}
            "http" => {
                return Err(RepositoryError::PlainHttp(
                    url.host_str().unwrap_or_default().into(),
                ));
            }
            other => return Err(RepositoryError::Scheme(other.into())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RepositoryError::CredentialsInUrl);
        }
        let github = input
            .strip_prefix(server_url)
            .and_then(|rest| rest.strip_prefix('/'))
            .map(|rest| rest.trim_end_matches('/').trim_end_matches(".git"))
            .and_then(RepoName::parse);
        Ok(Self {
            git_url: input.to_owned(),
            github,
        })
    }

    /// `scheme://host[:port]/`, the scope git's `http.<url>.extraHeader`
    /// gets, so the token goes to this server only. `None` for `file://`.
    pub fn http_scope(&self) -> Option<String> {
        let url = Url::parse(&self.git_url).ok()?;
        let host = url.host_str()?;
        Some(match url.port() {
            Some(port) => format!("{}://{host}:{port}/", url.scheme()),
            None => format!("{}://{host}/", url.scheme()),
        })
    }
}

/// Whether `name` can be a branch: git's ref-name rules that matter here
/// (no `..`, no spaces, `~^:?*[\`, control characters, or a leading `-`
/// or `/`), so it can never be read as an option or a revision range.
pub fn is_branch_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '/'])
        && !name.ends_with(['/', '.'])
        && !name.contains(['\\', ' ', '~', '^', ':', '?', '*', '['])
        && !name.contains("..")
        && !name.contains("@{")
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB: &str = "https://github.com";

    #[test]
    fn branch_names_follow_git_s_rules() {
        for ok in ["main", "release/1.x", "promote/payments-staging"] {
            assert!(is_branch_name(ok), "{ok}");
        }
        for bad in [
            "", "-f", "/x", "a..b", "a b", "a~1", "x^", "a:b", "x/", "x.", "a@{1}", "a\nb",
        ] {
            assert!(!is_branch_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn owner_and_name_is_a_github_repository() {
        let repo = Repository::parse("myorg/platform-gitops", GITHUB).unwrap();
        assert_eq!(repo.git_url, "https://github.com/myorg/platform-gitops.git");
        assert_eq!(repo.github.unwrap().name, "platform-gitops");
        assert_eq!(
            Repository::parse("myorg/platform-gitops", GITHUB)
                .unwrap()
                .http_scope()
                .unwrap(),
            "https://github.com/"
        );
    }

    #[test]
    fn a_url_on_the_run_s_server_is_also_a_github_repository() {
        let repo =
            Repository::parse("https://github.com/bank-org/gitops-repo.git", GITHUB).unwrap();
        assert_eq!(repo.github.unwrap().owner, "bank-org");
        let repo = Repository::parse("https://git.example.com/org/gitops.git", GITHUB).unwrap();
        assert_eq!(repo.github, None);
        let repo = Repository::parse("file:///srv/gitops.git", GITHUB).unwrap();
        assert_eq!(repo.http_scope(), None);
    }

    #[test]
    fn refuses_credentials_odd_schemes_and_plain_http() {
        for (input, expected) in [
            (
                "https://x-access-token:ghs_abc@github.com/o/r.git",
                RepositoryError::CredentialsInUrl,
            ),
            (
                "ext::sh -c touch% /tmp/pwned",
                RepositoryError::Scheme("ext".into()),
            ),
            (
                "ssh://git@github.com/o/r.git",
                RepositoryError::Scheme("ssh".into()),
            ),
            (
                "http://git.example.com/o/r.git",
                RepositoryError::PlainHttp("git.example.com".into()),
            ),
            ("o/r/x", RepositoryError::Unrecognised("o/r/x".into())),
            ("../r", RepositoryError::Unrecognised("../r".into())),
        ] {
            assert_eq!(Repository::parse(input, GITHUB), Err(expected), "{input}");
        }
        assert!(Repository::parse("http://127.0.0.1:8080/r.git", GITHUB).is_ok());
    }
}
