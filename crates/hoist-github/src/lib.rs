//! GitHub's REST API for hoist: requests about one repository, with one
//! token, through hoist's HTTP policy (verified TLS, proxies, retries of
//! 5xx and network errors). Callers read the status and JSON and turn them
//! into their own errors; nothing here knows what an operation means.

pub mod app;

use std::sync::Arc;
use std::time::Duration;

use hoist_http::{Clock, HttpClient, HttpError, RetryPolicy};
use reqwest::Method;
use serde_json::Value;
use url::Url;

/// How often one call waits out a rate limit before it gives up.
const MAX_RATE_LIMIT_WAITS: u32 = 3;
/// The longest single wait for a rate limit, in seconds.
const MAX_RATE_LIMIT_WAIT_SECONDS: u64 = 300;

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A repository's owner and name on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    /// The user or organisation.
    pub owner: String,
    /// The repository.
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name` (GitHub's characters, no `.` or `..`).
    pub fn parse(text: &str) -> Option<Self> {
        let (owner, name) = text.split_once('/')?;
        let valid = |part: &str| {
            !part.is_empty()
                && part.len() <= 100
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        (valid(owner) && valid(name)).then(|| Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// An answer: the status and the JSON body (`Null` when there is none or
/// it is not JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Answer {
    /// GitHub's `message`, for errors.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("(no message)")
    }
}

/// One repository on GitHub, and the token to call its API with.
pub struct GitHubApi {
    http: HttpClient,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    api: Url,
    repo: RepoName,
    token: String,
}

impl std::fmt::Debug for GitHubApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApi")
            .field("api", &self.api.as_str())
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

impl GitHubApi {
    /// A client for `repo` at `api` (`GITHUB_API_URL`, already checked by
    /// `hoist_http::parse_endpoint`).
    pub fn new(
        http: HttpClient,
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
        api: Url,
        repo: RepoName,
        token: &str,
    ) -> Self {
        Self {
            http,
            policy,
            clock,
            api,
            repo,
            token: token.to_owned(),
        }
    }

    /// The repository.
    pub fn repo(&self) -> &RepoName {
        &self.repo
    }

    /// `{api}/repos/{owner}/{name}/{segments…}`; each segment is escaped,
    /// and a segment holding `/` (a file path) becomes several.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["repos", &self.repo.owner, &self.repo.name])
                .extend(segments.iter().flat_map(|s| s.split('/')));
        }
        url
    }

    /// Sends one request with GitHub's headers; any status comes back as an
    /// [`Answer`]. 5xx and network errors are retried first, and so is a
    /// rate limit (403 or 429 with `retry-after`, or with no requests left),
    /// after the wait GitHub asks for.
    pub async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, HttpError> {
        self.call_as(&self.token, method, url, body).await
    }

    /// [`call`](Self::call) with another bearer token (an App's JWT).
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, HttpError> {
        let mut waits = 0;
        loop {
            let (answer, rate_limited) = self.send_once(token, &method, &url, body).await?;
            match rate_limited {
                Some(wait) if waits < MAX_RATE_LIMIT_WAITS => {
                    waits += 1;
                    self.clock
                        .sleep(wait.mul_f64(self.policy.backoff.scale))
                        .await;
                }
                _ => return Ok(answer),
            }
        }
    }

    /// One request; the answer, and how long to wait when it was a rate
    /// limit.
    async fn send_once(
        &self,
        token: &str,
        method: &Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<(Answer, Option<Duration>), HttpError> {
        let response = self
            .http
            .send(&self.policy, self.clock.as_ref(), |client| {
                let request = client
                    .request(method.clone(), url.clone())
                    .bearer_auth(token)
                    .header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28");
                match body {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        let retry_after = header("retry-after");
        let reset = header("x-ratelimit-reset");
        let exhausted = header("x-ratelimit-remaining") == Some(0);
        // GitHub's largest answers hoist reads: a compare (up to 250 commits
        // and 300 files with their patches) and a file through the contents
        // API (1 MB, base64); 32 MiB is well above both (DESIGN.md,
        // "Bounded reads").
        let bytes =
            hoist_http::body::read_capped(response, 32 * hoist_http::body::MIB, "GitHub's answer")
                .await?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let limited = matches!(status, 403 | 429) && (retry_after.is_some() || exhausted);
        let wait = limited.then(|| {
            let until_reset = reset.map(|reset| reset.saturating_sub(now_seconds()));
            Duration::from_secs(
                retry_after
                    .or(until_reset)
                    .unwrap_or(60)
                    .min(MAX_RATE_LIMIT_WAIT_SECONDS),
            )
        });
        Ok((Answer { status, body }, wait))
    }

    /// `GET` of `segments` under the repository.
    pub async fn get(&self, segments: &[&str]) -> Result<Answer, HttpError> {
        self.call(Method::GET, self.url(segments), None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_and_name_are_checked() {
        assert_eq!(
            RepoName::parse("bank-org/gitops-repo").unwrap().to_string(),
            "bank-org/gitops-repo"
        );
        for bad in ["", "a", "a/b/c", "../b", "a/..", "a b/c"] {
            assert!(RepoName::parse(bad).is_none(), "{bad}");
        }
    }
}
