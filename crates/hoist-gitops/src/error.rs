//! What can go wrong reading or writing the GitOps repository.

use hoist_runner::Diagnostic;

/// A failure of a [`Store`](crate::Store) operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The server refused the credentials.
    #[error("the server refused the credentials: {detail}")]
    Auth {
        /// What the server or git said.
        detail: String,
    },
    /// The repository does not exist (or the token cannot see it).
    #[error("the repository was not found: {detail}")]
    RepositoryMissing {
        /// What the server or git said.
        detail: String,
    },
    /// The branch does not exist.
    #[error("the branch `{0}` does not exist in the repository")]
    BranchMissing(String),
    /// The server refused the update for a reason retrying cannot change:
    /// a protected branch, a hook, a missing permission.
    #[error("the server refused to move the branch: {reason}")]
    Rejected {
        /// The server's reason.
        reason: String,
    },
    /// The path names something other than a regular file.
    #[error("`{path}` is a {kind}, not a regular file")]
    NotAFile {
        /// The path.
        path: String,
        /// What it is instead: a symbolic link, a directory, a submodule.
        kind: &'static str,
    },
    /// The file is not UTF-8 text.
    #[error("`{0}` is not UTF-8 text")]
    NotText(String),
    /// The file is larger than hoist edits.
    #[error("`{path}` is {size} bytes, more than the {limit} bytes hoist edits")]
    TooLarge {
        /// The path.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The path runs through something that is not a directory in the repository: a
    /// symbolic link (hoist does not follow links) or a file.
    #[error(
        "cannot write `{path}`: a part of its path is a symbolic link or a file in the repository, not a directory"
    )]
    ThroughNonDirectory {
        /// The path.
        path: String,
    },
    /// The git server could not be reached: connection refused, no route, unknown host.
    /// Retried, since a runner's network and DNS do fail for a moment.
    #[error("could not connect to the git server: {detail}")]
    Unreachable {
        /// What git said.
        detail: String,
    },
    /// The git server answered with an HTTP 5xx. Retried.
    #[error("the git server answered with a server error: {detail}")]
    ServerError {
        /// What git said.
        detail: String,
    },
    /// The TLS handshake failed: the server's certificate is not trusted (an unknown CA,
    /// self-signed, expired, another host's name). Not retried: it does not pass.
    #[error("the git server's TLS certificate is not trusted: {detail}")]
    Tls {
        /// What git said.
        detail: String,
    },
    /// A failure that may pass on another attempt: a connection that broke off or timed out.
    #[error("the connection to the git server failed: {0}")]
    Transient(String),
    /// git failed in a way hoist does not know.
    #[error("`git {command}` failed: {stderr}")]
    Git {
        /// The git subcommand.
        command: String,
        /// git's message.
        stderr: String,
    },
    /// A commit the question names is not a full commit id.
    #[error("`{0}` is not a full commit id")]
    BadCommit(String),
    /// The server does not have the commit (no branch or tag reaches it).
    #[error("the repository has no commit {0}")]
    CommitMissing(String),
    /// git could not be started.
    #[error("could not run git")]
    NoGit(#[source] std::io::Error),
    /// The scratch directory could not be made.
    #[error("could not create a scratch directory for git")]
    Scratch(#[source] std::io::Error),
    /// An HTTP request to the API failed.
    #[error(transparent)]
    Http(#[from] hoist_http::HttpError),
    /// The API answered with an error status.
    #[error("GitHub answered {status} to {operation}: {message}")]
    Api {
        /// What was being done.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// GitHub's `message`.
        message: String,
    },
    /// The API answered something that is not what its description says.
    #[error("GitHub's answer to {operation} could not be read: {detail}")]
    BadAnswer {
        /// What was being done.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl StoreError {
    /// Whether another attempt could succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transient(_) | Self::Unreachable { .. } | Self::ServerError { .. } => true,
            Self::Http(error) => matches!(error.verdict(), hoist_http::Verdict::Retry { .. }),
            Self::Api { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// What to change when the git server's certificate is not trusted.
const TLS_HINT: &str = "if the server's certificate comes from a private CA, set SSL_CERT_FILE to a PEM file holding that CA (hoist trusts the system's roots plus SSL_CERT_FILE; actions with a `ca-bundle` input take it there too); otherwise check the certificate is not expired and names the host in `repository`";

impl Diagnostic for StoreError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Auth { .. } => "check `token`: it must be able to read and push to the GitOps repository (contents: write)".into(),
            Self::RepositoryMissing { .. } => "check `repository`, and that `token` can see it (a token of another repository answers `not found`)".into(),
            Self::BranchMissing(_) => "check `branch`; hoist does not create branches".into(),
            Self::Rejected { .. } => "the branch is protected or a hook refused the push: let the bot push to it, or open a pull request with open-promotion-pr".into(),
            Self::NotAFile { .. } => "name the regular file itself; hoist does not follow symbolic links".into(),
            Self::NotText(_) | Self::TooLarge { .. } => "bump-manifest edits YAML text files only".into(),
            Self::ThroughNonDirectory { .. } => "name a path through real directories: hoist does not follow symbolic links, and a file cannot hold another file".into(),
            Self::Unreachable { .. } => "check the host and port in `repository`, and that this runner can reach it (a firewall, HTTPS_PROXY/NO_PROXY, a self-hosted runner's network); nothing was committed".into(),
            Self::ServerError { .. } => "the git server is failing (HTTP 5xx): check its status page, then re-run the job; nothing was committed".into(),
            Self::Tls { .. } => TLS_HINT.into(),
            Self::Transient(_) => "the server or network failed repeatedly: re-run the job".into(),
            Self::BadCommit(_) => "give the full 40-character commit id".into(),
            Self::CommitMissing(_) => "check the commit: it must be on a branch or tag of the repository (a force-push may have dropped it)".into(),
            Self::Git { .. } | Self::BadAnswer { .. } => "this is unexpected: please report it with the step's log".into(),
            Self::NoGit(_) => "install git on the runner (GitHub-hosted runners have it)".into(),
            Self::Scratch(_) => "check that RUNNER_TEMP (or TMPDIR) is writable".into(),
            Self::Http(error) => return error.hint(),
            Self::Api { status: 403, .. } => "the token lacks permission: give it `contents: write` on the GitOps repository".into(),
            Self::Api { .. } => "check the GitHub status page, then re-run the job".into(),
        })
    }
}
