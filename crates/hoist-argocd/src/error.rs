//! What can go wrong talking to Argo CD.

use hoist_runner::Diagnostic;

/// A failure of an Argo CD API call.
#[derive(Debug, thiserror::Error)]
pub enum ArgoError {
    /// 401: the token is missing, expired or wrong.
    #[error("Argo CD refused the token: {0}")]
    Unauthorized(String),
    /// 403: the token may not do this (RBAC or project).
    #[error("Argo CD denied the request: {0}")]
    Forbidden(String),
    /// 404: no such application (or not in the token's projects).
    #[error("Argo CD has no application `{0}` that this token can see")]
    NotFound(String),
    /// Another status; `message` is Argo CD's.
    #[error("Argo CD answered {status} to {operation}: {message}")]
    Api {
        /// What was being done.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// Argo CD's `message`.
        message: String,
    },
    /// The request failed after the shared retry policy gave up.
    #[error(transparent)]
    Http(#[from] hoist_http::HttpError),
    /// The answer is not the JSON Argo CD's API describes.
    #[error("Argo CD's answer to {operation} could not be read: {detail}")]
    BadAnswer {
        /// What was being done.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl ArgoError {
    /// Whether waiting and trying again could help (5xx, the network).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Http(error) => matches!(error.verdict(), hoist_http::Verdict::Retry { .. }),
            Self::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

impl Diagnostic for ArgoError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Unauthorized(_) => "check `argocd-token` (an account or project role token that has not expired), or use `argocd-oidc: true`".into(),
            Self::Forbidden(_) => "the token's project role or RBAC must allow `applications, get` (and `sync` with `sync: true`) on this application".into(),
            Self::NotFound(_) => "check `application`, `app-namespace` and `project`, and that the token's project includes the application".into(),
            Self::Api { .. } => "check Argo CD's server logs; re-run when it is healthy".into(),
            Self::Http(error) => return error.hint(),
            Self::BadAnswer { .. } => "check that `argocd-server` is Argo CD's URL (the one the UI uses)".into(),
        })
    }
}
