//! Why oidc-assume failed, each with what to change.

use hoist_http::{HttpError, Stop};
use hoist_runner::{Diagnostic, FileCommandError, InputError};

/// The YAML a job needs for GitHub to hand it an OIDC token.
pub const ID_TOKEN_PERMISSION_YAML: &str =
    "permissions:\n  id-token: write   # lets the job request the OIDC token\n  contents: read";

/// A failure of oidc-assume.
#[derive(Debug, thiserror::Error)]
pub enum AssumeError {
    /// An input is missing or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// HTTP to GitHub's token endpoint failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The runner's files could not be written.
    #[error(transparent)]
    Files(#[from] FileCommandError),
    /// The job has no `id-token: write` permission (or runs from a fork).
    #[error(
        "the job cannot request a GitHub OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set"
    )]
    MissingIdTokenPermission,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` is not a URL.
    #[error("ACTIONS_ID_TOKEN_REQUEST_URL is not a valid URL")]
    TokenUrl,
    /// GitHub's token endpoint said no.
    #[error("GitHub's OIDC endpoint refused the token request with HTTP {status}")]
    TokenRefused {
        /// The HTTP status.
        status: u16,
    },
    /// GitHub's token endpoint answered without a token.
    #[error("GitHub's OIDC endpoint answered without a token (no `value` in the JSON)")]
    TokenResponse,
    /// The token file could not be read.
    #[error("could not read the token file `{path}`")]
    TokenFile {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The token file is empty.
    #[error("the token file `{path}` is empty")]
    TokenFileEmpty {
        /// The file.
        path: String,
    },
    /// A path hoist reads or writes is a symlink.
    #[error("refusing `{path}`: it is a symbolic link")]
    Symlink {
        /// The path.
        path: String,
    },
    /// `role-chaining` without credentials to chain from.
    #[error(
        "role-chaining needs AWS credentials in the environment, and AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set"
    )]
    ChainingWithoutCredentials,
    /// The role's trust policy refused the token.
    #[error("STS refused to let this job assume {role} (AccessDenied: {message})")]
    AccessDenied {
        /// The role ARN.
        role: String,
        /// STS's message.
        message: String,
        /// The token's claims and the condition that would admit them.
        explanation: String,
    },
    /// STS could not validate the token.
    #[error("STS rejected the token (InvalidIdentityToken: {message})")]
    InvalidToken {
        /// STS's message.
        message: String,
    },
    /// Any other STS failure.
    #[error("{operation} failed after {attempts} attempt(s){}: {}", stop_reason(*stop), code.as_deref().map_or(message.clone(), |code| format!("{code}: {message}")))]
    Sts {
        /// The STS operation.
        operation: &'static str,
        /// The STS error code, when STS answered.
        code: Option<String>,
        /// The message.
        message: String,
        /// Attempts made.
        attempts: u32,
        /// Why no more were made.
        stop: Stop,
    },
    /// STS answered, but not with a well-formed answer.
    #[error("{message}")]
    MalformedAnswer {
        /// What was wrong, naming the operation.
        message: String,
    },
    /// The role is in an account `allowed-account-ids` does not list.
    #[error("the role's account {account} is not in allowed-account-ids ({allowed})")]
    AccountNotAllowed {
        /// The role's account.
        account: String,
        /// The allowed accounts, joined.
        allowed: String,
    },
    /// An AWS profile file could not be read or written.
    #[error(transparent)]
    PrivateFile(#[from] hoist_runner::private_file::PrivateFileError),
    /// The STS client could not be built.
    #[error("could not set up the STS client: {0}")]
    Client(String),
    /// The AWS HTTP client could not be set up.
    #[error(transparent)]
    AwsSetup(#[from] hoist_aws::AwsSetupError),
    /// The credential_process mode could not find this binary.
    #[error("could not find the path of the oidc-assume binary for credential_process")]
    OwnPath(#[source] std::io::Error),
}

fn stop_reason(stop: Stop) -> &'static str {
    match stop {
        Stop::NotRetryable => "",
        Stop::OutOfAttempts => " (retry-max-attempts reached)",
        Stop::OutOfTime => " (timeout reached)",
    }
}

impl Diagnostic for AssumeError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Input(error) => return error.hint(),
            Self::Http(error) => return error.hint(),
            Self::Files(error) => return error.hint(),
            Self::MissingIdTokenPermission => format!(
                "add this to the workflow (or to the job):\n{ID_TOKEN_PERMISSION_YAML}\n\
                 Pull requests from forks never get a token; run those jobs without AWS access"
            ),
            Self::TokenUrl | Self::TokenResponse => "re-run the job; if it persists, GitHub's OIDC service is failing".to_owned(),
            Self::TokenRefused { .. } => format!("check the job's permissions include:\n{ID_TOKEN_PERMISSION_YAML}"),
            Self::TokenFile { .. } | Self::TokenFileEmpty { .. } => {
                "point `web-identity-token-file` at a readable file holding the token, relative to the workspace or absolute".to_owned()
            }
            Self::Symlink { .. } => "use the real path instead of a link".to_owned(),
            Self::ChainingWithoutCredentials => {
                "run an oidc-assume step without role-chaining first, or drop `role-chaining: true`".to_owned()
            }
            Self::AccessDenied { explanation, .. } => format!("{explanation}Update the role's trust policy, or run the job from the ref or environment it names"),
            Self::InvalidToken { message } if message.contains("No OpenIDConnect provider") => {
                "create the IAM OIDC identity provider for token.actions.githubusercontent.com in the role's account, with client ID sts.amazonaws.com".to_owned()
            }
            Self::InvalidToken { message } if message.contains("audience") => {
                "make `audience` match a client ID of the IAM OIDC provider (the default is sts.amazonaws.com)".to_owned()
            }
            Self::InvalidToken { .. } => "check the IAM OIDC identity provider's URL and thumbprints match the token's issuer".to_owned(),
            Self::Sts { stop: Stop::NotRetryable, code: Some(code), .. } if code == "ValidationError" => {
                "check role-duration-seconds against the role's maximum session duration, and the session policies".to_owned()
            }
            Self::Sts { stop: Stop::NotRetryable, code: Some(code), .. } if code == "RegionDisabledException" => {
                "activate STS in this region (IAM > Account settings), or use another aws-region".to_owned()
            }
            Self::Sts { stop: Stop::NotRetryable, .. } => "check the role ARN, the session policies and the region".to_owned(),
            Self::MalformedAnswer { .. } => crate::sts::MALFORMED_HINT.to_owned(),
            Self::Sts { .. } => "STS or the network kept failing: re-run the job, or raise `retry-max-attempts` or `timeout`".to_owned(),
            Self::AccountNotAllowed { .. } => "assume a role in an allowed account, or add the account to `allowed-account-ids`".to_owned(),
            Self::PrivateFile(hoist_runner::private_file::PrivateFileError::Symlink(_)) => {
                "use the real path instead of a link".to_owned()
            }
            Self::PrivateFile(_) => "check that HOME (or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE) is writable".to_owned(),
            Self::Client(_) | Self::OwnPath(_) => "this is a bug in hoist: please report it with the step's log".to_owned(),
            Self::AwsSetup(hoist_aws::AwsSetupError::Trust(error)) => return error.hint(),
            Self::AwsSetup(hoist_aws::AwsSetupError::Proxy { variable }) => {
                format!("set {variable} to a URL such as `http://proxy.internal:3128`")
            }
            Self::AwsSetup(hoist_aws::AwsSetupError::Tls(_)) => "this is a bug in hoist: please report it with the step's log".to_owned(),
        })
    }
}
