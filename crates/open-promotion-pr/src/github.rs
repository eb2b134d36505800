//! The GitHub calls a promotion makes: branches, pull requests and their
//! metadata, auto-merge, and the trailers of the commit that set a value.

use hoist_github::{Answer, GitHubApi};
use reqwest::Method;
use serde_json::{Value, json};

use crate::PromoteError;

/// An open pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Its web URL.
    pub url: String,
    /// Its GraphQL node id, for auto-merge.
    pub node_id: String,
    /// Who opened it (`github-actions[bot]` for the workflow token).
    pub author: String,
}

impl PullRequest {
    fn from(body: &Value) -> Self {
        Self {
            number: body["number"].as_u64().unwrap_or_default(),
            url: body["html_url"].as_str().unwrap_or_default().to_owned(),
            node_id: body["node_id"].as_str().unwrap_or_default().to_owned(),
            author: body["user"]["login"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// The repository's pull-request side.
#[derive(Debug)]
pub struct Pulls<'a>(pub &'a GitHubApi);

fn fail(operation: &'static str, answer: &Answer) -> PromoteError {
    PromoteError::GitHub {
        operation,
        status: answer.status,
        message: answer.message().to_owned(),
    }
}

impl Pulls<'_> {
    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Answer, PromoteError> {
        Ok(self.0.call(method, self.0.url(segments), body).await?)
    }

    /// The commit `branch` points at; `None` when it does not exist.
    pub async fn branch_head(&self, branch: &str) -> Result<Option<String>, PromoteError> {
        let answer = self
            .send(Method::GET, &["git", "ref", "heads", branch], None)
            .await?;
        match answer.status {
            200 => Ok(answer.body["object"]["sha"].as_str().map(String::from)),
            404 => Ok(None),
            _ => Err(fail("reading the promotion branch", &answer)),
        }
    }

    /// The tree of `commit`.
    pub async fn tree_of(&self, commit: &str) -> Result<String, PromoteError> {
        let answer = self
            .send(Method::GET, &["git", "commits", commit], None)
            .await?;
        match answer.body["tree"]["sha"].as_str() {
            Some(tree) if answer.status == 200 => Ok(tree.to_owned()),
            _ => Err(fail("reading a commit", &answer)),
        }
    }

    /// Points `branch` at `commit`: creates it, or moves it (the branch is
    /// the action's own, so a move need not be a fast-forward).
    pub async fn set_branch(
        &self,
        branch: &str,
        commit: &str,
        exists: bool,
    ) -> Result<(), PromoteError> {
        let answer = if exists {
            let body = json!({"sha": commit, "force": true});
            self.send(
                Method::PATCH,
                &["git", "refs", "heads", branch],
                Some(&body),
            )
            .await?
        } else {
            let body = json!({"ref": format!("refs/heads/{branch}"), "sha": commit});
            self.send(Method::POST, &["git", "refs"], Some(&body))
                .await?
        };
        if matches!(answer.status, 200 | 201) {
            Ok(())
        } else {
            Err(fail("pushing the promotion branch", &answer))
        }
    }

    /// Deletes `branch` (a closed promotion's).
    pub async fn delete_branch(&self, branch: &str) -> Result<(), PromoteError> {
        let answer = self
            .send(Method::DELETE, &["git", "refs", "heads", branch], None)
            .await?;
        if matches!(answer.status, 204 | 404 | 422) {
            Ok(())
        } else {
            Err(fail("deleting the promotion branch", &answer))
        }
    }

    /// The open pull request from `branch` into `base`, if there is one.
    pub async fn find_open(
        &self,
        branch: &str,
        base: &str,
    ) -> Result<Option<PullRequest>, PromoteError> {
        let mut url = self.0.url(&["pulls"]);
        let head = format!("{}:{branch}", self.0.repo().owner);
        url.query_pairs_mut()
            .append_pair("head", &head)
            .append_pair("base", base)
            .append_pair("state", "open");
        let answer = self.0.call(Method::GET, url, None).await?;
        if answer.status != 200 {
            return Err(fail("listing pull requests", &answer));
        }
        Ok(answer
            .body
            .as_array()
            .and_then(|list| list.first())
            .map(PullRequest::from))
    }

    /// Opens a pull request; if one already exists for the branch (another
    /// run opened it meanwhile), that one.
    pub async fn create(
        &self,
        title: &str,
        body: &str,
        branch: &str,
        base: &str,
        draft: bool,
    ) -> Result<PullRequest, PromoteError> {
        let request = json!({"title": title, "body": body, "head": branch, "base": base, "draft": draft, "maintainer_can_modify": true});
        let answer = self.send(Method::POST, &["pulls"], Some(&request)).await?;
        if answer.status == 201 {
            return Ok(PullRequest::from(&answer.body));
        }
        let already = answer.body["errors"].to_string().contains("already exists");
        if answer.status == 422
            && already
            && let Some(existing) = self.find_open(branch, base).await?
        {
            return Ok(existing);
        }
        Err(fail("creating the pull request", &answer))
    }

    /// Sets the title and body of pull request `number`.
    pub async fn update(&self, number: u64, title: &str, body: &str) -> Result<(), PromoteError> {
        let number = number.to_string();
        let answer = self
            .send(
                Method::PATCH,
                &["pulls", &number],
                Some(&json!({"title": title, "body": body})),
            )
            .await?;
        if answer.status == 200 {
            Ok(())
        } else {
            Err(fail("updating the pull request", &answer))
        }
    }

    /// Closes pull request `number`.
    pub async fn close(&self, number: u64) -> Result<(), PromoteError> {
        let number = number.to_string();
        let answer = self
            .send(
                Method::PATCH,
                &["pulls", &number],
                Some(&json!({"state": "closed"})),
            )
            .await?;
        if answer.status == 200 {
            Ok(())
        } else {
            Err(fail("closing the stale pull request", &answer))
        }
    }

    /// Adds labels, assignees, reviewers and the milestone; nothing is
    /// removed.
    pub async fn decorate(&self, number: u64, extras: &Extras) -> Result<(), PromoteError> {
        let n = number.to_string();
        if !extras.labels.is_empty() {
            let answer = self
                .send(
                    Method::POST,
                    &["issues", &n, "labels"],
                    Some(&json!({"labels": extras.labels})),
                )
                .await?;
            if answer.status != 200 {
                return Err(fail("adding labels", &answer));
            }
        }
        if !extras.assignees.is_empty() {
            let answer = self
                .send(
                    Method::POST,
                    &["issues", &n, "assignees"],
                    Some(&json!({"assignees": extras.assignees})),
                )
                .await?;
            if answer.status != 201 {
                return Err(fail("adding assignees", &answer));
            }
        }
        if !extras.reviewers.is_empty() || !extras.team_reviewers.is_empty() {
            let body =
                json!({"reviewers": extras.reviewers, "team_reviewers": extras.team_reviewers});
            let answer = self
                .send(
                    Method::POST,
                    &["pulls", &n, "requested_reviewers"],
                    Some(&body),
                )
                .await?;
            if answer.status != 201 {
                return Err(fail("requesting reviewers", &answer));
            }
        }
        if let Some(milestone) = extras.milestone {
            let answer = self
                .send(
                    Method::PATCH,
                    &["issues", &n],
                    Some(&json!({"milestone": milestone})),
                )
                .await?;
            if answer.status != 200 {
                return Err(fail("setting the milestone", &answer));
            }
        }
        Ok(())
    }

    /// Turns on auto-merge (GraphQL `enablePullRequestAutoMerge`).
    pub async fn enable_auto_merge(
        &self,
        pull: &PullRequest,
        method: &str,
    ) -> Result<(), PromoteError> {
        let mut url = self.0.url(&[]);
        let graphql_path = url
            .path()
            .split("/repos/")
            .next()
            .unwrap_or("")
            .trim_end_matches("/v3")
            .to_owned()
            + "/graphql";
        url.set_path(&graphql_path);
        let query = json!({
            "query": "mutation($id: ID!, $method: PullRequestMergeMethod!) { enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method}) { pullRequest { autoMergeRequest { enabledAt mergeMethod } } } }",
            "variables": {"id": pull.node_id, "method": method.to_ascii_uppercase()},
        });
        let answer = self.0.call(Method::POST, url, Some(&query)).await?;
        let error = answer.body["errors"][0]["message"].as_str();
        match (answer.status, error) {
            (200, None) => Ok(()),
            (status, message) => Err(PromoteError::GitHub {
                operation: "enabling auto-merge",
                status,
                message: message.unwrap_or(answer.message()).to_owned(),
            }),
        }
    }

    /// The message of the last commit on `reference` that touched `path`.
    pub async fn last_message(
        &self,
        path: &str,
        reference: &str,
    ) -> Result<Option<String>, PromoteError> {
        let mut url = self.0.url(&["commits"]);
        url.query_pairs_mut()
            .append_pair("path", path)
            .append_pair("sha", reference)
            .append_pair("per_page", "1");
        let answer = self.0.call(Method::GET, url, None).await?;
        Ok((answer.status == 200)
            .then(|| {
                answer.body[0]["commit"]["message"]
                    .as_str()
                    .map(String::from)
            })
            .flatten())
    }
}

/// What is added to every pull request, run after run.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Labels.
    pub labels: Vec<String>,
    /// Assignees.
    pub assignees: Vec<String>,
    /// Reviewers.
    pub reviewers: Vec<String>,
    /// Team reviewers.
    pub team_reviewers: Vec<String>,
    /// The milestone number.
    pub milestone: Option<u64>,
}
