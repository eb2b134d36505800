//! The GitHub API backend: no clone at all.
//!
//! Each attempt reads the branch's ref and the files at that commit, writes
//! blobs, a tree on the tip's tree and a commit whose only parent is the
//! tip, then moves the ref with `force: false`. GitHub refuses that update
//! with 422 unless it is a fast-forward, and since the commit's only parent
//! is the tip read at the start, a fast-forward means nobody landed in
//! between: a compare-and-swap. Commits made without an author are signed
//! by GitHub and show as verified.

use base64::Engine;
use hoist_github::{Answer, GitHubApi};
use reqwest::Method;
use serde_json::{Value, json};

use crate::RepoPath;
use crate::error::StoreError;
use crate::store::{Advance, NewCommit, Store};

/// A branch of a GitHub repository, written through the Git Data API.
#[derive(Debug)]
pub struct GitHubStore {
    api: GitHubApi,
    branch: String,
}

impl GitHubStore {
    /// A store for `branch` of the repository `api` names.
    pub fn new(api: GitHubApi, branch: &str) -> Self {
        Self {
            api,
            branch: branch.to_owned(),
        }
    }

    /// The API client, for calls beyond the store's (pull requests, refs).
    pub fn api(&self) -> &GitHubApi {
        &self.api
    }

    /// Sends one API request.
    async fn call(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
    ) -> Result<Answer, StoreError> {
        Ok(self.api.call(method, url, body).await?)
    }

    /// The error for an answer that is not a success.
    fn failure(operation: &'static str, status: u16, body: &Value) -> StoreError {
        let message = body["message"]
            .as_str()
            .unwrap_or("(no message)")
            .to_owned();
        match status {
            401 => StoreError::Auth { detail: message },
            404 => StoreError::RepositoryMissing {
                detail: format!("{operation}: {message}"),
            },
            status => StoreError::Api {
                operation,
                status,
                message,
            },
        }
    }

    /// A string field of an answer, or a [`StoreError::BadAnswer`].
    fn field(operation: &'static str, value: &Value, pointer: &str) -> Result<String, StoreError> {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| StoreError::BadAnswer {
                operation,
                detail: format!("no `{pointer}`"),
            })
    }

    async fn create(
        &self,
        operation: &'static str,
        kind: &str,
        body: &Value,
    ) -> Result<String, StoreError> {
        let Answer {
            status,
            body: answer,
        } = self
            .call(Method::POST, self.api.url(&["git", kind]), Some(body))
            .await?;
        if status != 201 {
            return Err(Self::failure(operation, status, &answer));
        }
        Self::field(operation, &answer, "/sha")
    }
}

impl Store for GitHubStore {
    async fn tip(&mut self) -> Result<String, StoreError> {
        let branch_ref = format!("heads/{}", self.branch);
        let Answer { status, body } = self
            .call(
                Method::GET,
                self.api.url(&["git", "ref", &branch_ref]),
                None,
            )
            .await?;
        match status {
            200 => Self::field("reading the branch", &body, "/object/sha"),
            404 => Err(StoreError::BranchMissing(self.branch.clone())),
            _ => Err(Self::failure("reading the branch", status, &body)),
        }
    }

    async fn read(&mut self, commit: &str, path: &RepoPath) -> Result<Option<String>, StoreError> {
        const OPERATION: &str = "reading a file";
        let mut url = self.api.url(&["contents", path.as_str()]);
        url.query_pairs_mut().append_pair("ref", commit);
        let Answer { status, body } = self.call(Method::GET, url, None).await?;
        match status {
            200 => {}
            404 => return Ok(None),
            _ => return Err(Self::failure(OPERATION, status, &body)),
        }
        if body.is_array() {
            return Err(StoreError::NotAFile {
                path: path.to_string(),
                kind: "directory",
            });
        }
        // GitHub answers a link to a file in the repository with the file
        // it points at, under that file's path: refuse it, as git does.
        if body["path"].as_str().is_some_and(|p| p != path.as_str()) {
            return Err(StoreError::NotAFile {
                path: path.to_string(),
                kind: "symbolic link",
            });
        }
        match body["type"].as_str() {
            Some("file") => {}
            Some("symlink") => {
                return Err(StoreError::NotAFile {
                    path: path.to_string(),
                    kind: "symbolic link",
                });
            }
            Some("submodule") => {
                return Err(StoreError::NotAFile {
                    path: path.to_string(),
                    kind: "submodule",
                });
            }
            _ => {
                return Err(StoreError::BadAnswer {
                    operation: OPERATION,
                    detail: "no `type`".into(),
                });
            }
        }
        let size = body["size"].as_u64().unwrap_or(0);
        if size > crate::git::MAX_FILE_BYTES || body["encoding"].as_str() != Some("base64") {
            return Err(StoreError::TooLarge {
                path: path.to_string(),
                size,
                limit: crate::git::MAX_FILE_BYTES,
            });
        }
        let encoded: String = Self::field(OPERATION, &body, "/content")?
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| StoreError::BadAnswer {
                operation: OPERATION,
                detail: e.to_string(),
            })?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::NotText(path.to_string()))
    }

    async fn commit(&mut self, commit: &NewCommit<'_>) -> Result<String, StoreError> {
        let Answer {
            status,
            body: parent,
        } = self
            .call(
                Method::GET,
                self.api.url(&["git", "commits", commit.parent]),
                None,
            )
            .await?;
        if status != 200 {
            return Err(Self::failure("reading the parent commit", status, &parent));
        }
        let base_tree = Self::field("reading the parent commit", &parent, "/tree/sha")?;
        let mut entries = Vec::new();
        for (path, contents) in commit.files {
            let content = base64::engine::general_purpose::STANDARD.encode(contents);
            let blob = self
                .create(
                    "creating a blob",
                    "blobs",
                    &json!({"content": content, "encoding": "base64"}),
                )
                .await?;
            entries.push(
                json!({"path": path.as_str(), "mode": "100644", "type": "blob", "sha": blob}),
            );
        }
        let tree = self
            .create(
                "creating a tree",
                "trees",
                &json!({"base_tree": base_tree, "tree": entries}),
            )
            .await?;
        let mut body = json!({"message": commit.message, "tree": tree, "parents": [commit.parent]});
        if let Some(author) = commit.author {
            let person = json!({"name": author.name, "email": author.email});
            body["author"] = person.clone();
            body["committer"] = person;
        }
        self.create("creating a commit", "commits", &body).await
    }

    async fn advance(&mut self, _parent: &str, commit: &str) -> Result<Advance, StoreError> {
        const OPERATION: &str = "moving the branch";
        let branch_ref = format!("heads/{}", self.branch);
        let Answer { status, body } = self
            .call(
                Method::PATCH,
                self.api.url(&["git", "refs", &branch_ref]),
                Some(&json!({"sha": commit, "force": false})),
            )
            .await?;
        let message = body["message"].as_str().unwrap_or_default();
        match status {
            200 => Ok(Advance::Landed),
            422 if message.to_ascii_lowercase().contains("fast forward") => Ok(Advance::Lost),
            404 => Err(StoreError::BranchMissing(self.branch.clone())),
            403 | 409 | 422 => Err(StoreError::Rejected {
                reason: message.to_owned(),
            }),
            _ => Err(Self::failure(OPERATION, status, &body)),
        }
    }
}
