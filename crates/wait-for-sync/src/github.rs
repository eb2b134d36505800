//! The GitHub calls wait-for-sync makes on the GitOps repository: commit
//! statuses and the branch's head. Whether a newer commit contains ours is
//! [`crate::lineage`]'s question.

use hoist_github::{Answer, GitHubApi};
use serde_json::Value;

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
#[derive(Debug)]
pub struct GitHub(pub GitHubApi);

impl GitHub {
    /// `GET` under the repository; 404 is `None`, other errors fail.
    async fn get(
        &self,
        operation: &'static str,
        segments: &[&str],
    ) -> Result<Option<Value>, WaitError> {
        let answer: Answer = self.0.get(segments).await?;
        match answer.status {
            200 => Ok(Some(answer.body)),
            404 => Ok(None),
            status => Err(WaitError::GitHub {
                operation,
                status,
                message: answer.message().to_owned(),
            }),
        }
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
