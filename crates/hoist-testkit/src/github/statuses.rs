//! Commit statuses: list (newest first), combined, create; and statuses a
//! test scripts, as Flux's notification-controller or Argo CD
//! Notifications post them — visible at once, or only after the statuses
//! of their commit have been read a number of times (time passing, without
//! a clock).
//!
//! The combined state is GitHub's: `failure` if any context's latest is
//! `error` or `failure`, `pending` if there are none or any is `pending`,
//! else `success`. A bad `state` is GitHub's 422 "Validation Failed" with
//! `errors: [{resource: Status, code: custom, field: state, message:
//! "state is not included in the list"}]`.

use serde_json::{Value, json};

use super::refs::created;
use super::store::iso8601;
use super::{Answer, ApiError, Hub, body_object, json_response, node_id, unix_now};
use crate::standin::Request;

/// The states GitHub accepts.
const STATES: [&str; 4] = ["error", "failure", "pending", "success"];

/// One status on a commit.
#[derive(Debug, Clone)]
pub(super) struct Status {
    id: u64,
    sha: String,
    state: String,
    context: String,
    description: Option<String>,
    target_url: Option<String>,
    /// Seconds since the epoch.
    created_at: i64,
    /// Who posted it.
    creator: &'static str,
    /// Visible once the commit's statuses were read this many times.
    after_reads: usize,
}

/// What a test scripts: `(state, context, description)`.
pub(super) type Scripted<'a> = (&'a str, &'a str, &'a str);

/// Who scripted statuses come from (the token Flux posts with).
const SCRIPTED_BY: &str = "flux-bot";

/// Who statuses POSTed through the API come from.
const POSTED_BY: &str = "github-actions[bot]";

impl Hub {
    /// Adds a status to `sha` (a full sha), visible after `reads` more
    /// reads of its statuses.
    pub(super) fn script_status(&self, sha: &str, reads: usize, status: Scripted<'_>) {
        let (state, context, description) = status;
        let mut hub_state = self.state();
        let id = next_id(&hub_state.statuses);
        let after_reads = hub_state.status_reads.get(sha).copied().unwrap_or(0) + reads;
        hub_state.statuses.push(Status {
            id,
            sha: sha.to_owned(),
            state: state.to_owned(),
            context: context.to_owned(),
            description: Some(description.to_owned()),
            target_url: None,
            created_at: now(),
            creator: SCRIPTED_BY,
            after_reads,
        });
    }

    /// The statuses of `sha` a reader sees now, newest first; counts the
    /// read.
    fn read_statuses(&self, sha: &str) -> Vec<Status> {
        let mut state = self.state();
        let reads = state.status_reads.entry(sha.to_owned()).or_insert(0);
        let seen = *reads;
        *reads += 1;
        let mut visible: Vec<Status> = state
            .statuses
            .iter()
            .filter(|s| s.sha == sha && s.after_reads <= seen)
            .cloned()
            .collect();
        visible.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
        visible
    }
}

fn next_id(statuses: &[Status]) -> u64 {
    statuses.last().map_or(1_000_001, |s| s.id + 1)
}

fn now() -> i64 {
    i64::try_from(unix_now()).unwrap_or(0)
}

/// The commit a `{ref}` names (branch, tag or sha), or GitHub's 404.
/// A full sha with scripted statuses counts even if the repository lacks
/// it.
fn commit_for(hub: &Hub, reference: &str) -> Result<String, ApiError> {
    if let Some(sha) = hub.store.resolve_commit(reference) {
        return Ok(sha);
    }
    let scripted = hub.state().statuses.iter().any(|s| s.sha == reference);
    if scripted {
        return Ok(reference.to_owned());
    }
    let message = format!("No commit found for SHA: {reference}");
    Err(ApiError::new(404, &message))
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/statuses`: newest first,
/// `per_page` (30, at most 100) and `page`.
pub(super) fn list(hub: &Hub, request: &Request) -> Answer {
    let sha = commit_for(hub, request.param("ref"))?;
    let statuses = hub.read_statuses(&sha);
    let number = |name: &str, default: usize| {
        request
            .query_param(name)
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    };
    let (per_page, page) = (number("per_page", 30).min(100), number("page", 1));
    let items: Vec<Value> = statuses
        .iter()
        .skip(per_page * (page - 1))
        .take(per_page)
        .map(|s| status_json(hub, s, true))
        .collect();
    let mut response = json_response(200, &Value::Array(items));
    if statuses.len() > per_page * page {
        let last = statuses.len().div_ceil(per_page);
        let url = format!("{}/commits/{sha}/statuses?per_page={per_page}", hub.api());
        let link = format!(
            "<{url}&page={}>; rel=\"next\", <{url}&page={last}>; rel=\"last\"",
            page + 1
        );
        response = response.header("link", &link);
    }
    Ok(response)
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/status`: the latest status per
/// context and the combined state.
pub(super) fn combined(hub: &Hub, request: &Request) -> Answer {
    let sha = commit_for(hub, request.param("ref"))?;
    let mut latest: Vec<Status> = Vec::new();
    for status in hub.read_statuses(&sha) {
        if !latest
            .iter()
            .any(|s| s.context.eq_ignore_ascii_case(&status.context))
        {
            latest.push(status);
        }
    }
    let states: Vec<&str> = latest.iter().map(|s| s.state.as_str()).collect();
    let state = if states.iter().any(|s| matches!(*s, "error" | "failure")) {
        "failure"
    } else if states.is_empty() || states.contains(&"pending") {
        "pending"
    } else {
        "success"
    };
    let full_name = format!("{}/{}", hub.owner, hub.repo);
    Ok(json_response(
        200,
        &json!({
            "state": state,
            "statuses": latest.iter().map(|s| status_json(hub, s, false)).collect::<Vec<_>>(),
            "sha": sha,
            "total_count": latest.len(),
            "repository": {
                "id": 1_296_269,
                "node_id": node_id("010", "Repository", &full_name),
                "name": hub.repo,
                "full_name": full_name,
                "private": true,
                "owner": user_json(&hub.owner, "Organization"),
                "html_url": hub.html(),
                "url": hub.api(),
            },
            "commit_url": format!("{}/commits/{sha}", hub.api()),
            "url": format!("{}/commits/{sha}/status", hub.api()),
        }),
    ))
}

/// `POST /repos/{owner}/{repo}/statuses/{sha}` with `{state, target_url?,
/// description?, context?}`: 201.
pub(super) fn create(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let state = match body.get("state") {
        None | Some(Value::Null) => return Err(ApiError::invalid("\"state\" wasn't supplied.")),
        Some(state) => state.as_str().unwrap_or_default(),
    };
    if !STATES.contains(&state) {
        return Err(ApiError::validation(
            "state",
            "state is not included in the list",
        ));
    }
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
    let description = text("description");
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 140)
    {
        let message = "description is too long (maximum is 140 characters)";
        return Err(ApiError::validation("description", message));
    }
    let reference = request.param("sha");
    let sha = hub
        .store
        .resolve_commit(reference)
        .ok_or_else(|| ApiError::unprocessable(&format!("No commit found for SHA: {reference}")))?;
    let mut hub_state = hub.state();
    let status = Status {
        id: next_id(&hub_state.statuses),
        sha,
        state: state.to_owned(),
        context: text("context").unwrap_or_else(|| "default".to_owned()),
        description,
        target_url: text("target_url"),
        created_at: now(),
        creator: POSTED_BY,
        after_reads: 0,
    };
    hub_state.statuses.push(status.clone());
    drop(hub_state);
    Ok(created(status_json(hub, &status, true)))
}

/// GitHub's status object (`creator` is left out of combined statuses).
fn status_json(hub: &Hub, status: &Status, with_creator: bool) -> Value {
    let at = iso8601(status.created_at);
    let mut value = json!({
        "url": format!("{}/statuses/{}", hub.api(), status.sha),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", user_id(status.creator)),
        "id": status.id,
        "node_id": node_id("06", "Status", &status.id.to_string()),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": at,
        "updated_at": at,
    });
    if with_creator {
        value["creator"] = user_json(status.creator, "Bot");
    }
    value
}

/// A stable made-up user id for `login`.
fn user_id(login: &str) -> u64 {
    login.bytes().fold(41_000_000_u64, |id, b| {
        id.wrapping_mul(31).wrapping_add(u64::from(b)) % 90_000_000
    }) + 1_000_000
}

/// GitHub's simple user object.
pub(super) fn user_json(login: &str, kind: &str) -> Value {
    let id = user_id(login);
    json!({
        "login": login,
        "id": id,
        "node_id": node_id("04", "User", &id.to_string()),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "type": kind,
        "site_admin": false,
    })
}
