//! Who is calling, and whether they may: tokens of three kinds, App JWTs,
//! fine-grained permissions, and rate limits scripted per request.
//!
//! Wordings are GitHub's as observed: 401 "Requires authentication" and
//! "Bad credentials"; 403 "Resource not accessible by integration" (by
//! "personal access token" for a PAT) with `x-accepted-github-permissions`;
//! the secondary rate limit's 403 "You have exceeded a secondary rate
//! limit. …" with `retry-after` and no `x-ratelimit-*` headers; the primary
//! one's 403 or 429 "API rate limit exceeded for installation ID N." (user
//! ID for a PAT) with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` —
//! on `/graphql`, an HTTP 200 with a `RATE_LIMITED` error.

use std::collections::BTreeMap;

use serde_json::json;

use super::app::{self, DECODE_FAILED};
use super::{ApiError, Hub, Rate, request_id, same_bytes, unix_now};
use crate::standin::Request;

/// What kind of credential a token is; it decides what GitHub lets it do
/// and what the things it creates do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenKind {
    /// The workflow's `GITHUB_TOKEN`: acts as `github-actions[bot]`, cannot
    /// see organisation teams, and what it creates triggers no workflow.
    GitHubActions,
    /// A user's personal access token: acts as [`PAT_LOGIN`].
    Pat,
    /// A GitHub App installation token (`ghs_…`), minted through
    /// `POST /app/installations/{id}/access_tokens`: acts as the App's bot.
    App,
}

impl TokenKind {
    /// `github-actions`, `pat` or `app`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GitHubActions => "github-actions",
            Self::Pat => "pat",
            Self::App => "app",
        }
    }
}

/// The user a [`TokenKind::Pat`] token belongs to (a collaborator).
pub const PAT_LOGIN: &str = "hoist-user";

/// The installation id of the workflow's `GITHUB_TOKEN`, as its rate-limit
/// message names it.
const ACTIONS_INSTALLATION: u64 = 8_440_595;

/// A token the stand-in accepts.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    /// `None`: everything; else permission → `read` or `write`.
    pub(super) permissions: Option<BTreeMap<String, String>>,
    /// Seconds since the epoch, for minted tokens.
    pub(super) expires_at: Option<u64>,
}

impl Token {
    /// A token of `kind` with every permission, for good.
    pub(super) fn of(kind: TokenKind) -> Self {
        Self {
            kind,
            permissions: None,
            expires_at: None,
        }
    }
}

/// Who a route admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    /// A token for the repository.
    Repo,
    /// An App JWT (`/app/…`, `…/installation`).
    App,
    /// A token, on `/graphql` (its own 401 wording).
    GraphQl,
    /// Anything authenticated; the route answers 404.
    Any,
}

/// The caller of an admitted request.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    pub(super) kind: TokenKind,
    /// The login GitHub shows for what the caller creates.
    pub(super) login: String,
    permissions: Option<BTreeMap<String, String>>,
}

impl Caller {
    /// Whether the caller holds one of `need`'s alternatives:
    /// `"issues|pull_requests:write"`; `""` needs nothing.
    pub(super) fn may(&self, need: &str) -> bool {
        let Some(held) = &self.permissions else {
            return true;
        };
        let Some((names, level)) = need.split_once(':') else {
            return true;
        };
        names.split('|').any(|name| {
            held.get(name)
                .is_some_and(|have| have == "write" || have == level)
        })
    }

    /// GitHub's 403 for a missing permission, with the header naming what
    /// would have been accepted.
    pub(super) fn refused(&self, need: &str) -> ApiError {
        let who = match self.kind {
            TokenKind::Pat => "personal access token",
            _ => "integration",
        };
        let (names, level) = need.split_once(':').unwrap_or((need, "read"));
        let accepted: Vec<String> = names.split('|').map(|n| format!("{n}={level}")).collect();
        let mut error = ApiError::new(403, &format!("Resource not accessible by {who}"));
        error
            .headers
            .push(("x-accepted-github-permissions", accepted.join("; ")));
        error
    }
}

/// What the `Authorization` header carries.
enum Credential {
    Missing,
    Token(Token),
    /// An App JWT: the app id, or why GitHub refuses it.
    Jwt(Result<u64, &'static str>),
    Unknown,
}

/// A scripted rate limit for the next request.
#[derive(Debug, Clone, Copy)]
pub(super) enum Limit {
    /// 403 with `retry-after`.
    Secondary { retry_after: u64 },
    /// `status` (403 or 429) with the window reset `reset_in` seconds on.
    Primary { status: u16, reset_in: u64 },
}

impl Hub {
    fn credential(&self, request: &Request) -> Credential {
        let Some(authorization) = request.header("authorization") else {
            return Credential::Missing;
        };
        let (scheme, presented) = authorization.trim().split_once(' ').unwrap_or(("", ""));
        if !["bearer", "token"].contains(&scheme.to_ascii_lowercase().as_str()) {
            return Credential::Unknown;
        }
        let presented = presented.trim();
        let now = unix_now();
        let state = self.state();
        let known = state
            .tokens
            .iter()
            .filter(|(token, _)| same_bytes(presented.as_bytes(), token.as_bytes()))
            .map(|(_, info)| info.clone())
            .next();
        match known {
            Some(token) if token.expires_at.is_none_or(|at| at > now) => Credential::Token(token),
            Some(_) => Credential::Unknown,
            None if app::looks_like_jwt(presented) => {
                Credential::Jwt(app::verify_jwt(presented, state.app.as_ref(), now))
            }
            None => Credential::Unknown,
        }
    }

    /// The caller of a request [`Hub::admit`] let through.
    pub(super) fn caller(&self, request: &Request) -> Caller {
        let token = match self.credential(request) {
            Credential::Token(token) => token,
            _ => Token {
                kind: TokenKind::GitHubActions,
                permissions: None,
                expires_at: None,
            },
        };
        let login = match token.kind {
            TokenKind::GitHubActions => "github-actions[bot]".to_owned(),
            TokenKind::Pat => PAT_LOGIN.to_owned(),
            TokenKind::App => format!("{}[bot]", app::SLUG),
        };
        Caller {
            kind: token.kind,
            login,
            permissions: token.permissions,
        }
    }

    /// Checks the credential against `gate`, the repository, the scripted
    /// rate limits and failures, and the route's permission (`need`).
    pub(super) fn admit(&self, request: &Request, gate: Gate, need: &str) -> Result<(), ApiError> {
        let credential = self.credential(request);
        let kind = match (gate, credential) {
            (Gate::App, Credential::Jwt(Ok(_))) => None,
            (Gate::App, Credential::Jwt(Err(message))) => {
                return Err(ApiError::unauthorised(message));
            }
            (Gate::App, _) => return Err(ApiError::unauthorised(DECODE_FAILED)),
            (_, Credential::Token(token)) => Some(token.kind),
            (Gate::GraphQl, Credential::Missing) => {
                return Err(ApiError::unauthorised(
                    "This endpoint requires you to be authenticated.",
                ));
            }
            (_, Credential::Missing) => {
                return Err(ApiError::unauthorised("Requires authentication"));
            }
            (_, Credential::Jwt(Err(message))) => return Err(ApiError::unauthorised(message)),
            (Gate::Any, Credential::Jwt(Ok(_))) => None,
            (Gate::Repo, Credential::Jwt(Ok(_))) => {
                return Err(ApiError::new(403, "Resource not accessible by integration"));
            }
            (_, _) => return Err(ApiError::unauthorised("Bad credentials")),
        };
        let names = [("owner", &self.owner), ("repo", &self.repo)];
        if names.iter().any(|(param, name)| {
            request.params.contains_key(*param) && !request.param(param).eq_ignore_ascii_case(name)
        }) {
            return Err(ApiError::not_found());
        }
        let mut state = self.state();
        if let Some(limit) = state.limits.pop_front() {
            let installation = state.app.as_ref().map_or(0, |a| a.installation);
            drop(state);
            return Err(self.limited(limit, kind, installation, gate));
        }
        if let Some(i) = state
            .failures
            .iter()
            .position(|(m, ..)| *m == request.method)
        {
            let (_, status, message) = state.failures.remove(i).expect("present");
            return Err(ApiError::new(status, &message));
        }
        drop(state);
        let caller = self.caller(request);
        if kind.is_some() && !caller.may(need) {
            return Err(caller.refused(need));
        }
        Ok(())
    }

    /// GitHub's answer to a request over a rate limit.
    fn limited(
        &self,
        limit: Limit,
        kind: Option<TokenKind>,
        installation: u64,
        gate: Gate,
    ) -> ApiError {
        let served = self.served.load(std::sync::atomic::Ordering::Relaxed) + 1;
        let id = request_id(served);
        match limit {
            Limit::Secondary { retry_after } => {
                let message = format!(
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID {id}."
                );
                let mut error = ApiError {
                    documentation_url: Some(SECONDARY_DOCS),
                    rate: Rate::Omitted,
                    ..ApiError::new(403, &message)
                };
                error.headers.push(("retry-after", retry_after.to_string()));
                error
            }
            Limit::Primary { status, reset_in } => {
                let whom = match kind {
                    Some(TokenKind::Pat) => "user ID 1296269".to_owned(),
                    Some(TokenKind::App) => format!("installation ID {installation}"),
                    _ => format!("installation ID {ACTIONS_INSTALLATION}"),
                };
                let now = unix_now();
                let message = format!(
                    "API rate limit exceeded for {whom}. If you reach out to GitHub Support for help, please include the request ID {id} and timestamp {} UTC.",
                    super::iso8601(i64::try_from(now).unwrap_or(0))
                        .replace('T', " ")
                        .trim_end_matches('Z')
                );
                let reset = now + reset_in;
                let resource = if gate == Gate::GraphQl {
                    "graphql"
                } else {
                    "core"
                };
                let mut error = if gate == Gate::GraphQl {
                    ApiError {
                        body: Some(Box::new(json!({
                            "data": null,
                            "errors": [{"type": "RATE_LIMITED", "message": message}],
                        }))),
                        ..ApiError::new(200, &message)
                    }
                } else {
                    ApiError {
                        documentation_url: Some(PRIMARY_DOCS),
                        ..ApiError::new(status, &message)
                    }
                };
                error.rate = Rate::Omitted;
                error.headers.extend([
                    ("x-ratelimit-limit", "5000".to_owned()),
                    ("x-ratelimit-remaining", "0".to_owned()),
                    ("x-ratelimit-used", "5000".to_owned()),
                    ("x-ratelimit-reset", reset.to_string()),
                    ("x-ratelimit-resource", resource.to_owned()),
                ]);
                error
            }
        }
    }
}

/// Where GitHub documents the primary rate limit.
const PRIMARY_DOCS: &str =
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits";

/// Where GitHub documents secondary rate limits.
const SECONDARY_DOCS: &str = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
