//! The issue side of pull requests: labels (added, set, removed; an
//! unknown one is created, as GitHub does, colour `ededed`), assignees
//! (non-collaborators are dropped without a word, as GitHub drops them),
//! milestones, and `PATCH …/issues/{n}`.
//!
//! Wordings are GitHub's as observed: an unknown milestone is 422
//! "Validation Failed" with `errors: [{value, resource: Issue, field:
//! milestone, code: invalid}]`, an assignee who cannot be assigned on a
//! PATCH the same with `field: assignees`, a milestone title taken 422 with
//! `{resource: Milestone, code: already_exists, field: title}`, and removing
//! a label the issue lacks 404 "Label does not exist".

use serde_json::{Value, json};

use super::pulls::{Pull, now, set_open, validation_failed};
use super::statuses::user_json;
use super::store::iso8601;
use super::{
    Answer, ApiError, Hub, State, body_object, json_response, node_id, path_param, required_str,
};
use crate::standin::Request;

/// A repository label.
#[derive(Debug, Clone)]
pub(super) struct Label {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) color: String,
    pub(super) description: Option<String>,
}

/// A milestone.
#[derive(Debug, Clone)]
pub(super) struct Milestone {
    pub(super) number: u64,
    pub(super) title: String,
    pub(super) open: bool,
    pub(super) description: Option<String>,
    pub(super) due_on: Option<String>,
    pub(super) created_at: i64,
    pub(super) creator: String,
}

impl State {
    /// The label called `name` (case-insensitively, as GitHub matches).
    pub(super) fn label(&self, name: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }

    /// The label called `name`, created if the repository lacks it; its
    /// name as the repository spells it.
    pub(super) fn ensure_label(&mut self, name: &str) -> String {
        if let Some(label) = self.label(name) {
            return label.name.clone();
        }
        let id = 4_000_000_000 + self.labels.len() as u64 + 1;
        self.labels.push(Label {
            id,
            name: name.to_owned(),
            color: "ededed".to_owned(),
            description: None,
        });
        name.to_owned()
    }

    /// Whether `login` may be assigned or asked for a review.
    pub(super) fn is_collaborator(&self, login: &str) -> bool {
        login.eq_ignore_ascii_case(super::auth::PAT_LOGIN)
            || self
                .collaborators
                .iter()
                .any(|c| c.eq_ignore_ascii_case(login))
    }

    /// The next issue number (issues and pull requests share them).
    pub(super) fn next_number(&self) -> u64 {
        self.pulls.iter().map(|p| p.number).max().unwrap_or(0) + 1
    }

    /// Adds a milestone; its number.
    pub(super) fn add_milestone(&mut self, title: &str, creator: &str) -> u64 {
        let number = self.milestones.len() as u64 + 1;
        self.milestones.push(Milestone {
            number,
            title: title.to_owned(),
            open: true,
            description: None,
            due_on: None,
            created_at: now(),
            creator: creator.to_owned(),
        });
        number
    }
}

/// GitHub's label object.
pub(super) fn label_json(hub: &Hub, label: &Label) -> Value {
    json!({
        "id": label.id,
        "node_id": node_id("05", "Label", &label.id.to_string()),
        "url": format!("{}/labels/{}", hub.api(), label.name.replace(' ', "%20")),
        "name": label.name,
        "color": label.color,
        "default": false,
        "description": label.description,
    })
}

/// GitHub's milestone object.
pub(super) fn milestone_json(hub: &Hub, state: &State, milestone: &Milestone) -> Value {
    let number = milestone.number;
    let in_it = state.pulls.iter().filter(|p| p.milestone == Some(number));
    let open_issues = in_it.clone().filter(|p| p.open).count();
    let closed_issues = in_it.count() - open_issues;
    let kind = if milestone.creator.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({
        "url": format!("{}/milestones/{number}", hub.api()),
        "html_url": format!("{}/milestone/{number}", hub.html()),
        "labels_url": format!("{}/milestones/{number}/labels", hub.api()),
        "id": 9_000_000 + number,
        "node_id": node_id("09", "Milestone", &number.to_string()),
        "number": number,
        "state": if milestone.open { "open" } else { "closed" },
        "title": milestone.title,
        "description": milestone.description,
        "creator": user_json(&milestone.creator, kind),
        "open_issues": open_issues,
        "closed_issues": closed_issues,
        "created_at": iso8601(milestone.created_at),
        "updated_at": iso8601(milestone.created_at),
        "closed_at": null,
        "due_on": milestone.due_on,
    })
}

/// The labels a request names: `{"labels": ["a", {"name": "b"}]}` or a
/// bare array.
fn label_names(request: &Request) -> Result<Vec<String>, ApiError> {
    let items = match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Array(items)) => items,
        Ok(Value::Object(mut body)) => match body.remove("labels") {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => {
                return Err(ApiError::invalid("\"labels\" wasn't supplied."));
            }
            Some(other) => {
                let detail = format!("For 'properties/labels', {other} is not an array.");
                return Err(ApiError::invalid(&detail));
            }
        },
        Ok(_) => {
            return Err(ApiError::invalid(
                "Invalid input: the body must be an object.",
            ));
        }
        Err(_) => return Err(ApiError::new(400, "Problems parsing JSON")),
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(name) => Ok(name.clone()),
            Value::Object(label) => label
                .get("name")
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| ApiError::invalid("\"name\" wasn't supplied.")),
            other => Err(ApiError::invalid(&format!(
                "For 'items', {other} is not a string."
            ))),
        })
        .collect()
}

fn labels_of(hub: &Hub, state: &State, pull: &Pull) -> Value {
    Value::Array(
        pull.labels
            .iter()
            .filter_map(|name| state.label(name).map(|l| label_json(hub, l)))
            .collect(),
    )
}

fn add_labels(state: &mut State, i: usize, names: &[String]) {
    for name in names {
        let name = state.ensure_label(name);
        let pull = &mut state.pulls[i];
        if !pull.labels.iter().any(|l| l.eq_ignore_ascii_case(&name)) {
            pull.labels.push(name);
        }
    }
    state.pulls[i].touch();
}

/// `GET /repos/{owner}/{repo}/issues/{issue_number}/labels`.
pub(super) fn list_labels(hub: &Hub, request: &Request) -> Answer {
    let state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    Ok(json_response(200, &labels_of(hub, &state, &state.pulls[i])))
}

/// `POST /repos/{owner}/{repo}/issues/{issue_number}/labels`: adds; 200 with
/// every label the issue now has.
pub(super) fn add(hub: &Hub, request: &Request) -> Answer {
    let names = label_names(request)?;
    let mut state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    add_labels(&mut state, i, &names);
    Ok(json_response(200, &labels_of(hub, &state, &state.pulls[i])))
}

/// `PUT /repos/{owner}/{repo}/issues/{issue_number}/labels`: replaces.
pub(super) fn set(hub: &Hub, request: &Request) -> Answer {
    let names = label_names(request)?;
    let mut state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    state.pulls[i].labels.clear();
    add_labels(&mut state, i, &names);
    Ok(json_response(200, &labels_of(hub, &state, &state.pulls[i])))
}

/// `DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}`: 200
/// with the labels left.
pub(super) fn remove(hub: &Hub, request: &Request) -> Answer {
    let name = path_param(request, "name");
    let mut state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    let labels = &mut state.pulls[i].labels;
    let Some(at) = labels.iter().position(|l| l.eq_ignore_ascii_case(&name)) else {
        return Err(ApiError::new(404, "Label does not exist"));
    };
    labels.remove(at);
    state.pulls[i].touch();
    Ok(json_response(200, &labels_of(hub, &state, &state.pulls[i])))
}

/// `POST /repos/{owner}/{repo}/issues/{issue_number}/assignees` with
/// `{assignees}`: 201 and the issue; who cannot be assigned is dropped.
pub(super) fn add_assignees(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let wanted = strings(body.get("assignees"), "assignees")?;
    let mut state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    for login in wanted {
        let known = state.is_collaborator(&login);
        let pull = &mut state.pulls[i];
        if known
            && pull.assignees.len() < 10
            && !pull
                .assignees
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&login))
        {
            pull.assignees.push(login);
        }
    }
    state.pulls[i].touch();
    Ok(json_response(
        201,
        &issue_json(hub, &state, &state.pulls[i]),
    ))
}

fn strings(value: Option<&Value>, field: &str) -> Result<Vec<String>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(one)) => Ok(vec![one.clone()]),
        Some(Value::Array(items)) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()),
        Some(other) => Err(ApiError::invalid(&format!(
            "For 'properties/{field}', {other} is not an array."
        ))),
    }
}

/// `PATCH /repos/{owner}/{repo}/issues/{issue_number}` with `{title?,
/// body?, state?, milestone?, labels?, assignees?}`.
pub(super) fn update(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let mut state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    let mut pull = state.pulls[i].clone();
    match body.get("milestone") {
        None => {}
        Some(Value::Null) => pull.milestone = None,
        Some(value) => {
            let number = value
                .as_u64()
                .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                .filter(|n| state.milestones.iter().any(|m| m.number == *n));
            let Some(number) = number else {
                return Err(validation_failed(json!([{
                    "value": value, "resource": "Issue", "field": "milestone", "code": "invalid",
                }])));
            };
            pull.milestone = Some(number);
        }
    }
    if body.contains_key("assignees") {
        let wanted = strings(body.get("assignees"), "assignees")?;
        if let Some(stranger) = wanted.iter().find(|a| !state.is_collaborator(a)) {
            return Err(validation_failed(json!([{
                "value": stranger, "resource": "Issue", "field": "assignees", "code": "invalid",
            }])));
        }
        pull.assignees = wanted;
    }
    if let Some(title) = body.get("title").and_then(Value::as_str) {
        pull.title = title.to_owned();
    }
    if body.contains_key("body") {
        pull.body = body.get("body").and_then(Value::as_str).map(String::from);
    }
    match body.get("state").and_then(Value::as_str) {
        None => {}
        Some(wanted @ ("open" | "closed")) => set_open(&mut pull, wanted == "open"),
        Some(other) => {
            let detail = format!(
                "For 'properties/state', \"{other}\" is not one of [\"open\", \"closed\"]."
            );
            return Err(ApiError::invalid(&detail));
        }
    }
    let labels = match body.get("labels") {
        None => None,
        Some(value) => Some(strings(Some(value), "labels")?),
    };
    let duplicate = state
        .pulls
        .iter()
        .any(|p| p.open && p.number != pull.number && p.head == pull.head && p.base == pull.base);
    if pull.open && duplicate {
        return Err(validation_failed(json!([{
            "resource": "PullRequest", "code": "custom",
            "message": format!("A pull request already exists for {}:{}.", hub.owner, pull.head),
        }])));
    }
    pull.touch();
    state.pulls[i] = pull;
    if let Some(labels) = labels {
        state.pulls[i].labels.clear();
        add_labels(&mut state, i, &labels);
    }
    Ok(json_response(
        200,
        &issue_json(hub, &state, &state.pulls[i]),
    ))
}

/// A pull request as the issues API answers it.
fn issue_json(hub: &Hub, state: &State, pull: &Pull) -> Value {
    let full = super::pulls::pull_json(hub, state, pull, false);
    let n = pull.number;
    json!({
        "url": format!("{}/issues/{n}", hub.api()),
        "repository_url": hub.api(),
        "labels_url": format!("{}/issues/{n}/labels{{/name}}", hub.api()),
        "comments_url": format!("{}/issues/{n}/comments", hub.api()),
        "html_url": full["html_url"],
        "id": 2_800_000_000 + n,
        "node_id": full["node_id"],
        "number": n,
        "title": pull.title,
        "user": full["user"],
        "labels": full["labels"],
        "state": full["state"],
        "locked": false,
        "assignee": full["assignee"],
        "assignees": full["assignees"],
        "milestone": full["milestone"],
        "comments": 0,
        "created_at": full["created_at"],
        "updated_at": full["updated_at"],
        "closed_at": full["closed_at"],
        "author_association": full["author_association"],
        "active_lock_reason": null,
        "draft": pull.draft,
        "pull_request": {
            "url": full["url"],
            "html_url": full["html_url"],
            "diff_url": full["diff_url"],
            "patch_url": full["patch_url"],
            "merged_at": null,
        },
        "body": pull.body,
        "state_reason": if pull.open { Value::Null } else { json!("completed") },
    })
}

/// `POST /repos/{owner}/{repo}/milestones` with `{title, state?,
/// description?, due_on?}`: 201.
pub(super) fn create_milestone(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let title = required_str(&body, "title")?;
    let caller = hub.caller(request);
    let mut state = hub.state();
    if state.milestones.iter().any(|m| m.title == title) {
        return Err(validation_failed(json!([{
            "resource": "Milestone", "code": "already_exists", "field": "title",
        }])));
    }
    let number = state.add_milestone(title, &caller.login);
    let milestone = state.milestones.last_mut().expect("just added");
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
    milestone.description = text("description");
    milestone.due_on = text("due_on");
    milestone.open = text("state").as_deref() != Some("closed");
    let value = milestone_json(hub, &state, &state.milestones[number as usize - 1]);
    Ok(super::refs::created(value))
}

/// `GET /repos/{owner}/{repo}/milestones?state=open|closed|all`.
pub(super) fn list_milestones(hub: &Hub, request: &Request) -> Answer {
    let wanted = request
        .query_param("state")
        .unwrap_or_else(|| "open".into());
    let state = hub.state();
    let items: Vec<Value> = state
        .milestones
        .iter()
        .filter(|m| match wanted.as_str() {
            "closed" => !m.open,
            "all" => true,
            _ => m.open,
        })
        .map(|m| milestone_json(hub, &state, m))
        .collect();
    Ok(json_response(200, &Value::Array(items)))
}

/// `GET /repos/{owner}/{repo}/milestones/{milestone_number}`.
pub(super) fn get_milestone(hub: &Hub, request: &Request) -> Answer {
    let state = hub.state();
    let milestone = state
        .milestones
        .iter()
        .find(|m| m.number.to_string() == request.param("number"))
        .ok_or_else(ApiError::not_found)?;
    Ok(json_response(200, &milestone_json(hub, &state, milestone)))
}
