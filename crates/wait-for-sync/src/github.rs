//! The GitHub calls wait-for-sync makes on the GitOps repository: compare
//! (does a newer commit contain ours?) and commit statuses.

use std::sync::Arc;

use hoist_http::{Clock, HttpClient, RetryPolicy};
use serde_json::Value;
use url::Url;

use crate::WaitError;

/// One commit status, as `GET …/commits/{ref}/statuses` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `pending`, `success`, `failure` or `error`.
    pub state: String,
    /// The context, such as `kustomization/apps/0c9c2e41`.
    pub context: String,
    /// The description.
    pub description: String,
}

/// The GitOps repository on GitHub.
pub struct GitHub {
    http: HttpClient,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    api: Url,
    owner: String,
    name: String,
    token: String,
}

impl GitHub {
    /// A client for `owner/name` at `api` (`GITHUB_API_URL`).
    pub fn new(
        http: HttpClient,
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
        api: Url,
        repository: &str,
        token: &str,
    ) -> Option<Self> {
        let (owner, name) = repository.split_once('/')?;
        Some(Self {
            http,
            policy,
            clock,
            api,
            owner: owner.into(),
            name: name.into(),
            token: token.into(),
        })
    }

    async fn get(
        &self,
        operation: &'static str,
        segments: &[&str],
    ) -> Result<Option<Value>, WaitError> {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["repos", &self.owner, &self.name])
                .extend(segments);
        }
        let response = self
            .http
            .send(&self.policy, self.clock.as_ref(), |client| {
                client
                    .get(url.clone())
                    .bearer_auth(&self.token)
                    .header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28")
            })
            .await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            _ => Err(WaitError::GitHub {
                operation,
                status,
                message: body["message"]
                    .as_str()
                    .unwrap_or("(no message)")
                    .to_owned(),
            }),
        }
    }

    /// Whether `newer` contains `older` (`compare/{older}...{newer}` is
    /// `ahead` or `identical`).
    pub async fn contains(&self, newer: &str, older: &str) -> Result<bool, WaitError> {
        let range = format!("{older}...{newer}");
        let body = self.get("comparing commits", &["compare", &range]).await?;
        Ok(body.is_some_and(|b| matches!(b["status"].as_str(), Some("ahead" | "identical"))))
    }

    /// The statuses of `reference`, newest first.
    pub async fn statuses(&self, reference: &str) -> Result<Vec<Status>, WaitError> {
        let body = self
            .get(
                "reading commit statuses",
                &["commits", reference, "statuses"],
            )
            .await?;
        Ok(body
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| Status {
                state: s["state"].as_str().unwrap_or_default().to_owned(),
                context: s["context"].as_str().unwrap_or_default().to_owned(),
                description: s["description"].as_str().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// The commit `branch` points at.
    pub async fn branch_head(&self, branch: &str) -> Result<Option<String>, WaitError> {
        let body = self
            .get("reading the branch", &["git", "ref", "heads", branch])
            .await?;
        Ok(body.and_then(|b| b["object"]["sha"].as_str().map(String::from)))
    }
}
