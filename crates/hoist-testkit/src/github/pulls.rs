//! Pull requests between branches of the real repository: create, list
//! (GitHub's filters), get, update (title, body, state, base), and review
//! requests. `head.sha` and `base.sha` are the branches' tips now, and
//! `mergeable` is git's own `merge-tree` verdict.
//!
//! Wordings are GitHub's as observed, all 422 "Validation Failed" with
//! `errors`: `{resource: PullRequest, code: custom, message: "A pull request
//! already exists for owner:branch."}`, `{…, message: "No commits between
//! main and branch"}`, `{resource: PullRequest, field: head|base, code:
//! invalid}` for a branch that does not exist, and `{…, field: base, code:
//! invalid, message: "Proposed base branch 'x' was not found"}` on update.
//! With "Allow GitHub Actions to create and approve pull requests" off, the
//! workflow's token gets 403 "GitHub Actions is not permitted to create or
//! approve pull requests.". Review requests answer 422 "Reviews may only be
//! requested from collaborators. One or more of the users or teams you
//! specified is not a collaborator of the owner/repo repository.", "Review
//! cannot be requested from pull request author.", and — for a team, with a
//! token that cannot see the organisation's teams (`GITHUB_TOKEN`) —
//! "Validation Failed" with `errors: ["Could not resolve to a node with the
//! global id of '<team node id>'."]`. A `head` filter without its `owner:`
//! is ignored when listing, as GitHub ignores it.

use serde_json::{Map, Value, json};

use super::auth::TokenKind;
use super::issues::{label_json, milestone_json};
use super::statuses::user_json;
use super::store::iso8601;
use super::{
    Answer, ApiError, Hub, REPO_ID, State, body_object, json_response, node_id, required_str,
    unix_now,
};
use crate::standin::Request;

/// One pull request (and the issue it is).
#[derive(Debug, Clone)]
pub(super) struct Pull {
    pub(super) number: u64,
    pub(super) title: String,
    pub(super) body: Option<String>,
    pub(super) open: bool,
    /// The head branch, in this repository.
    pub(super) head: String,
    /// The head's tip when last seen (kept if the branch goes).
    pub(super) head_sha: String,
    pub(super) base: String,
    pub(super) draft: bool,
    pub(super) maintainer_can_modify: bool,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) closed_at: Option<i64>,
    /// Who opened it, and with what kind of token.
    pub(super) author: String,
    pub(super) kind: TokenKind,
    /// Label names, in the order they were added.
    pub(super) labels: Vec<String>,
    pub(super) assignees: Vec<String>,
    pub(super) reviewers: Vec<String>,
    pub(super) teams: Vec<String>,
    pub(super) milestone: Option<u64>,
    pub(super) auto_merge: Option<AutoMerge>,
}

/// Auto-merge enabled on a pull request.
#[derive(Debug, Clone)]
pub(super) struct AutoMerge {
    /// `MERGE`, `SQUASH` or `REBASE`.
    pub(super) method: String,
    pub(super) enabled_at: i64,
    pub(super) enabled_by: String,
}

impl Pull {
    /// `PR_…`: the id GraphQL takes.
    pub(super) fn node_id(&self) -> String {
        node_id("011", "PullRequest", &self.id().to_string())
    }

    pub(super) fn id(&self) -> u64 {
        1_800_000_000 + self.number
    }

    pub(super) fn touch(&mut self) {
        self.updated_at = now();
    }
}

pub(super) fn now() -> i64 {
    i64::try_from(unix_now()).unwrap_or(0)
}

/// GitHub's 422 "Validation Failed" with `errors`.
pub(super) fn validation_failed(errors: Value) -> ApiError {
    ApiError {
        errors: Some(errors),
        ..ApiError::new(422, "Validation Failed")
    }
}

fn custom(message: &str) -> ApiError {
    validation_failed(json!([{"resource": "PullRequest", "code": "custom", "message": message}]))
}

fn invalid_field(field: &str) -> Value {
    json!({"resource": "PullRequest", "field": field, "code": "invalid"})
}

fn already_exists(hub: &Hub, head: &str) -> ApiError {
    custom(&format!(
        "A pull request already exists for {}:{head}.",
        hub.owner
    ))
}

impl Hub {
    fn branch_tip(&self, branch: &str) -> Option<String> {
        self.store.resolve(&format!("refs/heads/{branch}"))
    }

    /// The pull request `number`, or GitHub's 404.
    pub(super) fn pull_index(state: &State, number: &str) -> Result<usize, ApiError> {
        let number: u64 = number.parse().map_err(|_| ApiError::not_found())?;
        state
            .pulls
            .iter()
            .position(|p| p.number == number)
            .ok_or_else(ApiError::not_found)
    }
}

/// `POST /repos/{owner}/{repo}/pulls` with `{title, head, base, body?,
/// draft?, maintainer_can_modify?}`: 201.
pub(super) fn create(hub: &Hub, request: &Request) -> Answer {
    let caller = hub.caller(request);
    if caller.kind == TokenKind::GitHubActions && hub.state().settings.forbid_actions_pull_requests
    {
        return Err(ApiError::new(
            403,
            "GitHub Actions is not permitted to create or approve pull requests.",
        ));
    }
    let body = body_object(request)?;
    let title = required_str(&body, "title")?.to_owned();
    let head_given = required_str(&body, "head")?;
    let base = required_str(&body, "base")?.to_owned();
    let head = match head_given.split_once(':') {
        Some((owner, branch)) if owner.eq_ignore_ascii_case(&hub.owner) => Some(branch),
        Some(_) => None,
        None => Some(head_given),
    };
    let head_sha = head.and_then(|h| hub.branch_tip(h));
    let base_sha = hub.branch_tip(&base);
    let mut missing = Vec::new();
    if base_sha.is_none() {
        missing.push(invalid_field("base"));
    }
    if head_sha.is_none() {
        missing.push(invalid_field("head"));
    }
    let (Some(head), Some(head_sha), Some(base_sha)) = (head, head_sha, base_sha) else {
        return Err(validation_failed(Value::Array(missing)));
    };
    let flag = |name: &str| body.get(name).and_then(Value::as_bool);
    let mut state = hub.state();
    if state
        .pulls
        .iter()
        .any(|p| p.open && p.head == head && p.base == base)
    {
        return Err(already_exists(hub, head));
    }
    if hub.store.commits_between(&base_sha, &head_sha).is_empty() {
        return Err(custom(&format!(
            "No commits between {base} and {head_given}"
        )));
    }
    let at = now();
    let pull = Pull {
        number: state.next_number(),
        title,
        body: body.get("body").and_then(Value::as_str).map(String::from),
        open: true,
        head: head.to_owned(),
        head_sha,
        base,
        draft: flag("draft").unwrap_or(false),
        maintainer_can_modify: flag("maintainer_can_modify").unwrap_or(true),
        created_at: at,
        updated_at: at,
        closed_at: None,
        author: caller.login,
        kind: caller.kind,
        labels: Vec::new(),
        assignees: Vec::new(),
        reviewers: Vec::new(),
        teams: Vec::new(),
        milestone: None,
        auto_merge: None,
    };
    let value = pull_json(hub, &state, &pull, true);
    state.pulls.push(pull);
    drop(state);
    Ok(super::refs::created(value))
}

/// `GET /repos/{owner}/{repo}/pulls?state&head&base&sort&direction&per_page&page`.
pub(super) fn list(hub: &Hub, request: &Request) -> Answer {
    let wanted = request
        .query_param("state")
        .unwrap_or_else(|| "open".into());
    if !["open", "closed", "all"].contains(&wanted.as_str()) {
        return Err(validation_failed(json!([{
            "resource": "Issue", "field": "state", "code": "invalid", "value": wanted,
        }])));
    }
    // GitHub ignores a `head` without its `owner:`.
    let head = request.query_param("head").and_then(|h| {
        h.split_once(':')
            .map(|(owner, branch)| (owner.to_owned(), branch.to_owned()))
    });
    let base = request.query_param("base");
    let state = hub.state();
    let mut pulls: Vec<&Pull> = state
        .pulls
        .iter()
        .filter(|p| match wanted.as_str() {
            "open" => p.open,
            "closed" => !p.open,
            _ => true,
        })
        .filter(|p| {
            head.as_ref().is_none_or(|(owner, branch)| {
                owner.eq_ignore_ascii_case(&hub.owner) && *branch == p.head
            })
        })
        .filter(|p| base.as_ref().is_none_or(|b| *b == p.base))
        .collect();
    let sort = request
        .query_param("sort")
        .unwrap_or_else(|| "created".into());
    pulls.sort_by_key(|p| match sort.as_str() {
        "updated" => (p.updated_at, p.number),
        _ => (p.created_at, p.number),
    });
    let default_direction = if sort == "created" || sort == "updated" {
        "desc"
    } else {
        "asc"
    };
    if request
        .query_param("direction")
        .as_deref()
        .unwrap_or(default_direction)
        == "desc"
    {
        pulls.reverse();
    }
    let number = |name: &str, default: usize| {
        request
            .query_param(name)
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    };
    let (per_page, page) = (number("per_page", 30).min(100), number("page", 1));
    let items: Vec<Value> = pulls
        .iter()
        .skip(per_page * (page - 1))
        .take(per_page)
        .map(|p| pull_json(hub, &state, p, false))
        .collect();
    Ok(json_response(200, &Value::Array(items)))
}

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}`.
pub(super) fn get(hub: &Hub, request: &Request) -> Answer {
    let state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    Ok(json_response(
        200,
        &pull_json(hub, &state, &state.pulls[i], true),
    ))
}

/// `PATCH /repos/{owner}/{repo}/pulls/{pull_number}` with `{title?, body?,
/// state?, base?, maintainer_can_modify?}`.
pub(super) fn update(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let mut state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
    let mut pull = state.pulls[i].clone();
    if let Some(base) = text("base") {
        if hub.branch_tip(&base).is_none() {
            return Err(validation_failed(json!([{
                "resource": "PullRequest", "field": "base", "code": "invalid",
                "message": format!("Proposed base branch '{base}' was not found"),
            }])));
        }
        pull.base = base;
    }
    let mut open = pull.open;
    match text("state").as_deref() {
        None => {}
        Some("open") => open = true,
        Some("closed") => open = false,
        Some(other) => {
            let detail = format!(
                "For 'properties/state', \"{other}\" is not one of [\"open\", \"closed\"]."
            );
            return Err(ApiError::invalid(&detail));
        }
    }
    if let Some(title) = text("title") {
        pull.title = title;
    }
    if body.contains_key("body") {
        pull.body = text("body");
    }
    if let Some(flag) = body.get("maintainer_can_modify").and_then(Value::as_bool) {
        pull.maintainer_can_modify = flag;
    }
    if open
        && state.pulls.iter().any(|p| {
            p.open && p.number != pull.number && p.head == pull.head && p.base == pull.base
        })
    {
        return Err(already_exists(hub, &pull.head));
    }
    set_open(&mut pull, open);
    pull.touch();
    state.pulls[i] = pull;
    Ok(json_response(
        200,
        &pull_json(hub, &state, &state.pulls[i], true),
    ))
}

/// Keeps `closed_at` in step with a change of state.
pub(super) fn set_open(pull: &mut Pull, open: bool) {
    if open {
        pull.closed_at = None;
    } else if pull.open {
        pull.closed_at = Some(now());
    }
    pull.open = open;
}

/// `POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers`
/// with `{reviewers?, team_reviewers?}`: 201 and the pull request.
pub(super) fn request_reviewers(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let names = |field: &str| -> Result<Vec<String>, ApiError> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str().map(String::from).ok_or_else(|| {
                        ApiError::invalid(&format!("For 'items', {item} is not a string."))
                    })
                })
                .collect(),
            Some(other) => Err(ApiError::invalid(&format!(
                "For 'properties/{field}', {other} is not an array."
            ))),
        }
    };
    let (users, teams) = (names("reviewers")?, names("team_reviewers")?);
    if !body.contains_key("reviewers") && !body.contains_key("team_reviewers") {
        return Err(ApiError::invalid(
            "No subschema in \"anyOf\" matched.\n\"reviewers\" wasn't supplied.\n\"team_reviewers\" wasn't supplied.",
        ));
    }
    let caller = hub.caller(request);
    let mut state = hub.state();
    let i = Hub::pull_index(&state, request.param("number"))?;
    let not_collaborator = || {
        ApiError::unprocessable(&format!(
            "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the {}/{} repository.",
            hub.owner, hub.repo
        ))
    };
    for user in &users {
        if user.eq_ignore_ascii_case(&state.pulls[i].author) {
            return Err(ApiError::unprocessable(
                "Review cannot be requested from pull request author.",
            ));
        }
        if !state.is_collaborator(user) {
            return Err(not_collaborator());
        }
    }
    for team in &teams {
        if !state.teams.iter().any(|t| t.eq_ignore_ascii_case(team)) {
            return Err(not_collaborator());
        }
        if caller.kind == TokenKind::GitHubActions {
            return Err(validation_failed(json!([format!(
                "Could not resolve to a node with the global id of '{}'.",
                team_node_id(team)
            )])));
        }
    }
    let pull = &mut state.pulls[i];
    for user in users {
        if !pull.reviewers.iter().any(|r| r.eq_ignore_ascii_case(&user)) {
            pull.reviewers.push(user);
        }
    }
    for team in teams {
        if !pull.teams.iter().any(|t| t.eq_ignore_ascii_case(&team)) {
            pull.teams.push(team.to_ascii_lowercase());
        }
    }
    pull.touch();
    let value = pull_json(hub, &state, &state.pulls[i], false);
    Ok(json_response(201, &value))
}

/// `GET /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers`.
pub(super) fn requested_reviewers(hub: &Hub, request: &Request) -> Answer {
    let state = hub.state();
    let pull = &state.pulls[Hub::pull_index(&state, request.param("number"))?];
    Ok(json_response(
        200,
        &json!({
            "users": pull.reviewers.iter().map(|u| user_json(u, "User")).collect::<Vec<_>>(),
            "teams": pull.teams.iter().map(|t| team_json(hub, t)).collect::<Vec<_>>(),
        }),
    ))
}

fn team_id(slug: &str) -> u64 {
    slug.bytes().fold(3_000_000_u64, |id, b| {
        id.wrapping_mul(33).wrapping_add(u64::from(b)) % 9_000_000
    }) + 1_000_000
}

fn team_node_id(slug: &str) -> String {
    node_id("04", "Team", &team_id(slug).to_string())
}

/// GitHub's team object.
fn team_json(hub: &Hub, slug: &str) -> Value {
    let id = team_id(slug);
    json!({
        "id": id,
        "node_id": team_node_id(slug),
        "url": format!("https://api.github.com/organizations/1/team/{id}"),
        "html_url": format!("https://github.com/orgs/{}/teams/{slug}", hub.owner),
        "name": slug,
        "slug": slug,
        "description": null,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "push",
        "members_url": format!("https://api.github.com/organizations/1/team/{id}/members{{/member}}"),
        "repositories_url": format!("https://api.github.com/organizations/1/team/{id}/repos"),
        "parent": null,
    })
}

/// The repository, as a pull request's `head.repo` and `base.repo`.
fn repo_json(hub: &Hub) -> Value {
    let full_name = format!("{}/{}", hub.owner, hub.repo);
    json!({
        "id": REPO_ID,
        "node_id": node_id("010", "Repository", &full_name),
        "name": hub.repo,
        "full_name": full_name,
        "private": true,
        "owner": user_json(&hub.owner, "Organization"),
        "html_url": hub.html(),
        "url": hub.api(),
        "default_branch": hub.store.default_branch(),
    })
}

/// `head` or `base`.
fn side_json(hub: &Hub, branch: &str, sha: &str) -> Value {
    json!({
        "label": format!("{}:{branch}", hub.owner),
        "ref": branch,
        "sha": sha,
        "user": user_json(&hub.owner, "Organization"),
        "repo": repo_json(hub),
    })
}

/// Whether `head` merges into `base` without conflicts.
fn mergeable(hub: &Hub, base: &str, head: &str) -> Option<bool> {
    let out = crate::peers::git_output(
        &hub.remote.path(),
        &["merge-tree", "--write-tree", "--no-messages", base, head],
        &[],
        b"",
    );
    match out.status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

/// Lines added and deleted, and files changed, from the merge base to
/// `head` (`base...head`).
fn diff_stat(hub: &Hub, base: &str, head: &str) -> (u64, u64, usize) {
    let range = format!("{base}...{head}");
    let out = hub
        .store
        .text(&["diff", "--numstat", &range], &[], b"")
        .unwrap_or_default();
    out.lines()
        .fold((0, 0, 0), |(added, deleted, files), line| {
            let mut fields = line.split('\t');
            let mut number = || {
                fields
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            (added + number(), deleted + number(), files + 1)
        })
}

/// GitHub's pull request: the full object (`full`) or the list's simple
/// one. `head.sha` and `base.sha` are the branches' tips now.
pub(super) fn pull_json(hub: &Hub, state: &State, pull: &Pull, full: bool) -> Value {
    let api = hub.api();
    let n = pull.number;
    let html = format!("{}/pull/{n}", hub.html());
    let head_sha = hub
        .branch_tip(&pull.head)
        .unwrap_or_else(|| pull.head_sha.clone());
    let base_sha = hub.branch_tip(&pull.base).unwrap_or_default();
    let kind = |login: &str| {
        if login.ends_with("[bot]") {
            "Bot"
        } else {
            "User"
        }
    };
    let time = |t: Option<i64>| t.map(iso8601);
    let labels: Vec<Value> = pull
        .labels
        .iter()
        .filter_map(|name| state.label(name).map(|l| label_json(hub, l)))
        .collect();
    let assignees: Vec<Value> = pull
        .assignees
        .iter()
        .map(|a| user_json(a, "User"))
        .collect();
    let milestone = pull
        .milestone
        .and_then(|m| state.milestones.iter().find(|x| x.number == m))
        .map(|m| milestone_json(hub, state, m));
    let auto_merge = pull.auto_merge.as_ref().map(|a| {
        json!({
            "enabled_by": user_json(&a.enabled_by, kind(&a.enabled_by)),
            "merge_method": a.method.to_ascii_lowercase(),
            "commit_title": null,
            "commit_message": null,
        })
    });
    let links = json!({
        "self": {"href": format!("{api}/pulls/{n}")},
        "html": {"href": html},
        "issue": {"href": format!("{api}/issues/{n}")},
        "comments": {"href": format!("{api}/issues/{n}/comments")},
        "review_comments": {"href": format!("{api}/pulls/{n}/comments")},
        "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
        "commits": {"href": format!("{api}/pulls/{n}/commits")},
        "statuses": {"href": format!("{api}/statuses/{head_sha}")},
    });
    let mut value = json!({
        "url": format!("{api}/pulls/{n}"),
        "id": pull.id(),
        "node_id": pull.node_id(),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": format!("{api}/issues/{n}"),
        "commits_url": format!("{api}/pulls/{n}/commits"),
        "review_comments_url": format!("{api}/pulls/{n}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{n}/comments"),
        "statuses_url": format!("{api}/statuses/{head_sha}"),
        "number": n,
        "state": if pull.open { "open" } else { "closed" },
        "locked": false,
        "title": pull.title,
        "user": user_json(&pull.author, kind(&pull.author)),
        "body": pull.body,
        "labels": labels,
        "milestone": milestone,
        "active_lock_reason": null,
        "created_at": iso8601(pull.created_at),
        "updated_at": iso8601(pull.updated_at),
        "closed_at": time(pull.closed_at),
        "merged_at": null,
        "merge_commit_sha": null,
        "assignee": assignees.first().cloned(),
        "assignees": assignees,
        "requested_reviewers": pull.reviewers.iter().map(|u| user_json(u, "User")).collect::<Vec<_>>(),
        "requested_teams": pull.teams.iter().map(|t| team_json(hub, t)).collect::<Vec<_>>(),
        "head": side_json(hub, &pull.head, &head_sha),
        "base": side_json(hub, &pull.base, &base_sha),
        "_links": links,
        "author_association": if pull.kind == TokenKind::Pat { "MEMBER" } else { "NONE" },
        "auto_merge": auto_merge,
        "draft": pull.draft,
    });
    if full {
        let commits = hub.store.commits_between(&base_sha, &head_sha).len();
        let (additions, deletions, changed_files) = diff_stat(hub, &base_sha, &head_sha);
        let verdict = if pull.open {
            mergeable(hub, &base_sha, &head_sha)
        } else {
            None
        };
        let mergeable_state = match (pull.draft, verdict) {
            (_, None) => "unknown",
            (true, _) => "draft",
            (false, Some(true)) => "clean",
            (false, Some(false)) => "dirty",
        };
        let extra: Map<String, Value> = json!({
            "merged": false,
            "mergeable": verdict,
            "rebaseable": verdict,
            "mergeable_state": mergeable_state,
            "merged_by": null,
            "comments": 0,
            "review_comments": 0,
            "maintainer_can_modify": pull.maintainer_can_modify,
            "commits": commits,
            "additions": additions,
            "deletions": deletions,
            "changed_files": changed_files,
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        value.as_object_mut().expect("object").extend(extra);
    }
    value
}
