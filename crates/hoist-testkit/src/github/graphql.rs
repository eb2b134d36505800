//! `POST /graphql`, for what the REST API cannot do: the
//! `enablePullRequestAutoMerge` and `disablePullRequestAutoMerge` mutations,
//! and `repository { pullRequest(number:) }` and `viewer` to read back.
//!
//! The document is parsed for real (variables, aliases, literals, inline
//! and named fragments) and the answer holds the fields asked for, no more.
//! Answers are GitHub's: HTTP 200 with `data` and, on failure, `errors`
//! (`type`, `path`, `locations`, `message`): `NOT_FOUND` "Could not resolve
//! to a node with the global id of '<id>'", `UNPROCESSABLE` "Auto merge is
//! not allowed for this repository" (the repository setting; older answers
//! put "Pull request " before it), `FORBIDDEN` "Resource not accessible by
//! integration"; a field the stand-in does not know is GitHub's
//! `undefinedField` error ("Field 'x' doesn't exist on type 'T'") with no
//! `data`, and a syntax error its "Parse error on …".

use serde_json::{Map, Value, json};

mod document;

use document::{Field, Input, Selection, parse, resolve};

use super::pulls::{AutoMerge, Pull, now};
use super::store::iso8601;
use super::{Answer, ApiError, Hub, json_response};
use crate::standin::Request;

/// A recorded `enablePullRequestAutoMerge` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoMergeRequest {
    /// The `pullRequestId` it named.
    pub pull_request_id: String,
    /// The pull request's number, when the id named one.
    pub number: Option<u64>,
    /// `MERGE`, `SQUASH` or `REBASE` (GitHub's default: `MERGE`).
    pub merge_method: String,
    /// What kind of token asked.
    pub kind: super::TokenKind,
}

/// Errors gathered while answering, and the fragments to expand.
struct Run<'a> {
    errors: Vec<Value>,
    fragments: &'a [(String, Vec<Selection>)],
}

impl Run<'_> {
    /// The fields of `selection`, fragments expanded.
    fn fields(&self, selection: &[Selection]) -> Vec<Field> {
        let mut out = Vec::new();
        for item in selection {
            match item {
                Selection::Field(field) => out.push(field.clone()),
                Selection::Inline(inner) => out.extend(self.fields(inner)),
                Selection::Spread(name) => {
                    if let Some((_, inner)) = self.fragments.iter().find(|(n, _)| n == name) {
                        out.extend(self.fields(inner));
                    }
                }
            }
        }
        out
    }

    /// `value`, cut down to `selection` (already checked against the
    /// schema).
    fn project(&self, value: &Value, selection: &[Selection]) -> Value {
        if selection.is_empty() {
            return value.clone();
        }
        match value {
            Value::Array(items) => items
                .iter()
                .map(|item| self.project(item, selection))
                .collect(),
            Value::Object(object) => Value::Object(
                self.fields(selection)
                    .iter()
                    .map(|field| {
                        let inner = object.get(&field.name).unwrap_or(&Value::Null);
                        (
                            field.key().to_owned(),
                            self.project(inner, &field.selection),
                        )
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Checks `selection` against [`fields_of`] `type_name`, as GitHub
    /// validates a document before it runs any of it.
    fn validate(&mut self, selection: &[Selection], type_name: &str, path: &[String]) {
        for field in self.fields(selection) {
            let mut here = path.to_vec();
            here.push(field.name.clone());
            let typename = ("__typename", None);
            let known = fields_of(type_name)
                .iter()
                .chain([&typename])
                .find(|(name, _)| *name == field.name);
            let message = match known {
                None => format!("Field '{}' doesn't exist on type '{type_name}'", field.name),
                Some((_, Some(inner))) if field.selection.is_empty() => format!(
                    "Field must have selections (field '{}' returns {inner} but has no selections. Did you mean '{} {{ ... }}'?)",
                    field.name, field.name
                ),
                Some((_, None)) if !field.selection.is_empty() => format!(
                    "Selections can't be made on scalars (field '{}' returns a scalar but has selections [{}])",
                    field.name,
                    self.fields(&field.selection)
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some((_, Some(inner))) => {
                    self.validate(&field.selection, inner, &here);
                    continue;
                }
                Some((_, None)) => continue,
            };
            let code = if known.is_none() {
                json!({"code": "undefinedField", "typeName": type_name, "fieldName": field.name})
            } else {
                json!({"code": "selectionMismatch", "nodeName": format!("field '{}'", field.name)})
            };
            self.errors.push(json!({
                "path": here,
                "extensions": code,
                "locations": field.location(),
                "message": message,
            }));
        }
    }
}

/// The fields the stand-in knows on each type: name, and the object type
/// it returns (`None`: a scalar).
fn fields_of(type_name: &str) -> &'static [(&'static str, Option<&'static str>)] {
    match type_name {
        "Mutation" => &[
            (
                "enablePullRequestAutoMerge",
                Some("EnablePullRequestAutoMergePayload"),
            ),
            (
                "disablePullRequestAutoMerge",
                Some("DisablePullRequestAutoMergePayload"),
            ),
        ],
        "Query" => &[("repository", Some("Repository")), ("viewer", Some("User"))],
        "EnablePullRequestAutoMergePayload" | "DisablePullRequestAutoMergePayload" => &[
            ("clientMutationId", None),
            ("actor", Some("Actor")),
            ("pullRequest", Some("PullRequest")),
        ],
        "Repository" => &[
            ("id", None),
            ("name", None),
            ("nameWithOwner", None),
            ("url", None),
            ("autoMergeAllowed", None),
            ("pullRequest", Some("PullRequest")),
        ],
        "PullRequest" => &[
            ("id", None),
            ("databaseId", None),
            ("number", None),
            ("title", None),
            ("url", None),
            ("state", None),
            ("isDraft", None),
            ("headRefName", None),
            ("headRefOid", None),
            ("baseRefName", None),
            ("autoMergeRequest", Some("AutoMergeRequest")),
        ],
        "AutoMergeRequest" => &[
            ("enabledAt", None),
            ("mergeMethod", None),
            ("enabledBy", Some("Actor")),
            ("commitHeadline", None),
            ("commitBody", None),
            ("authorEmail", None),
        ],
        "Actor" | "User" | "Bot" => &[("login", None)],
        _ => &[],
    }
}

/// A failed field: GitHub's error entry.
fn field_error(kind: &str, field: &Field, message: &str) -> Value {
    json!({
        "type": kind,
        "path": [field.key()],
        "locations": field.location(),
        "message": message,
    })
}

/// A pull request as GraphQL answers it.
fn pull_value(hub: &Hub, pull: &Pull) -> Value {
    let auto = pull.auto_merge.as_ref().map(|a| {
        json!({
            "__typename": "AutoMergeRequest",
            "enabledAt": iso8601(a.enabled_at),
            "mergeMethod": a.method,
            "enabledBy": {"__typename": "Bot", "login": a.enabled_by},
            "commitHeadline": null,
            "commitBody": null,
            "authorEmail": null,
        })
    });
    let head = hub
        .store
        .resolve(&format!("refs/heads/{}", pull.head))
        .unwrap_or_else(|| pull.head_sha.clone());
    json!({
        "__typename": "PullRequest",
        "id": pull.node_id(),
        "databaseId": pull.id(),
        "number": pull.number,
        "title": pull.title,
        "url": format!("{}/pull/{}", hub.html(), pull.number),
        "state": if pull.open { "OPEN" } else { "CLOSED" },
        "isDraft": pull.draft,
        "headRefName": pull.head,
        "headRefOid": head,
        "baseRefName": pull.base,
        "autoMergeRequest": auto,
    })
}

/// `POST /graphql` with `{query, variables?, operationName?}`.
pub(super) fn graphql(hub: &Hub, request: &Request) -> Answer {
    let body: Value = serde_json::from_slice(&request.body)
        .map_err(|_| ApiError::new(400, "Problems parsing JSON"))?;
    let Some(query) = body["query"].as_str() else {
        return Ok(json_response(
            200,
            &json!({"errors": [{"message": "A query attribute must be specified and must be a string."}]}),
        ));
    };
    let variables = body.get("variables").cloned().unwrap_or(Value::Null);
    let parsed = parse(query);
    let document = match parsed {
        Ok(document) => document,
        Err((message, line, column)) => {
            let mut error = json!({"message": format!("{message} at [{line}, {column}]")});
            if line > 0 {
                error["locations"] = json!([{"line": line, "column": column}]);
            }
            return Ok(json_response(200, &json!({"errors": [error]})));
        }
    };
    let mut run = Run {
        errors: Vec::new(),
        fragments: &document.fragments,
    };
    let root = if document.mutation {
        "Mutation"
    } else {
        "Query"
    };
    run.validate(
        &document.selection,
        root,
        std::slice::from_ref(&document.head),
    );
    if !run.errors.is_empty() {
        return Ok(json_response(200, &json!({"errors": run.errors})));
    }
    let caller = hub.caller(request);
    let mut data = Map::new();
    let mut failures = Vec::new();
    for field in run.fields(&document.selection) {
        let answer = match (document.mutation, field.name.as_str()) {
            (true, "enablePullRequestAutoMerge") => {
                auto_merge(hub, &caller, &field, &variables, true, &run)
            }
            (true, "disablePullRequestAutoMerge") => {
                auto_merge(hub, &caller, &field, &variables, false, &run)
            }
            (false, "repository") => repository(hub, &field, &variables, &run),
            (_, "viewer") => {
                let viewer = json!({"__typename": "User", "login": caller.login});
                Ok(run.project(&viewer, &field.selection))
            }
            _ => Ok(json!(root)),
        };
        match answer {
            Ok(value) => {
                data.insert(field.key().to_owned(), value);
            }
            Err(error) => {
                data.insert(field.key().to_owned(), Value::Null);
                failures.push(error);
            }
        }
    }
    let mut answer = json!({"data": data});
    if !failures.is_empty() {
        answer["errors"] = Value::Array(failures);
    }
    Ok(json_response(200, &answer))
}

const MERGE_METHODS: [&str; 3] = ["MERGE", "SQUASH", "REBASE"];

/// `enablePullRequestAutoMerge(input: {pullRequestId, mergeMethod?})` (or
/// `disable…` with `{pullRequestId}`).
fn auto_merge(
    hub: &Hub,
    caller: &super::auth::Caller,
    field: &Field,
    variables: &Value,
    enable: bool,
    run: &Run<'_>,
) -> Result<Value, Value> {
    let input = field
        .arg("input")
        .map(|i| resolve(i, variables))
        .unwrap_or(Value::Null);
    let id = input["pullRequestId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let method = input["mergeMethod"].as_str().unwrap_or("MERGE").to_owned();
    if enable && !MERGE_METHODS.contains(&method.as_str()) {
        let written = match field.arg("input") {
            Some(Input::Var(name)) => format!(
                "Variable ${name} of type EnablePullRequestAutoMergeInput! was provided invalid value for mergeMethod (Expected \"{method}\" to be one of: MERGE, SQUASH, REBASE)"
            ),
            _ => format!(
                "Argument 'mergeMethod' on InputObject 'EnablePullRequestAutoMergeInput' has an invalid value ({method}). Expected type 'PullRequestMergeMethod'."
            ),
        };
        return Err(json!({"locations": field.location(), "message": written}));
    }
    if !caller.may("pull_requests:write") {
        return Err(field_error(
            "FORBIDDEN",
            field,
            "Resource not accessible by integration",
        ));
    }
    let mut state = hub.state();
    let number = state
        .pulls
        .iter()
        .find(|p| p.node_id() == id)
        .map(|p| p.number);
    if enable {
        state.auto_merges.push(AutoMergeRequest {
            pull_request_id: id.clone(),
            number,
            merge_method: method.clone(),
            kind: caller.kind,
        });
    }
    let allowed = state.settings.allow_auto_merge;
    let Some(pull) = state.pulls.iter_mut().find(|p| p.node_id() == id) else {
        let message = format!("Could not resolve to a node with the global id of '{id}'");
        return Err(field_error("NOT_FOUND", field, &message));
    };
    if enable && !allowed {
        return Err(field_error(
            "UNPROCESSABLE",
            field,
            "Auto merge is not allowed for this repository",
        ));
    }
    pull.auto_merge = enable.then(|| AutoMerge {
        method,
        enabled_at: now(),
        enabled_by: caller.login.clone(),
    });
    pull.touch();
    let payload = json!({
        "__typename": if enable { "EnablePullRequestAutoMergePayload" } else { "DisablePullRequestAutoMergePayload" },
        "clientMutationId": input.get("clientMutationId").cloned().unwrap_or(Value::Null),
        "actor": {"__typename": "Bot", "login": caller.login},
        "pullRequest": pull_value(hub, pull),
    });
    drop(state);
    Ok(run.project(&payload, &field.selection))
}

/// `repository(owner:, name:) { pullRequest(number:) { … } … }`.
fn repository(hub: &Hub, field: &Field, variables: &Value, run: &Run<'_>) -> Result<Value, Value> {
    let arg = |name: &str| {
        field
            .arg(name)
            .map(|i| resolve(i, variables))
            .unwrap_or(Value::Null)
    };
    let (owner, name) = (arg("owner"), arg("name"));
    let (owner, name) = (owner.as_str().unwrap_or(""), name.as_str().unwrap_or(""));
    if !owner.eq_ignore_ascii_case(&hub.owner) || !name.eq_ignore_ascii_case(&hub.repo) {
        let message = format!("Could not resolve to a Repository with the name '{owner}/{name}'.");
        return Err(field_error("NOT_FOUND", field, &message));
    }
    let state = hub.state();
    let repository = json!({
        "__typename": "Repository",
        "id": super::node_id("010", "Repository", &format!("{}/{}", hub.owner, hub.repo)),
        "name": hub.repo,
        "nameWithOwner": format!("{}/{}", hub.owner, hub.repo),
        "url": hub.html(),
        "autoMergeAllowed": state.settings.allow_auto_merge,
    });
    let mut out = Map::new();
    let path = vec![field.key().to_owned()];
    for inner in run.fields(&field.selection) {
        let mut here = path.clone();
        here.push(inner.name.clone());
        if inner.name != "pullRequest" {
            let one = [Selection::Field(inner.clone())];
            if let Value::Object(projected) = run.project(&repository, &one) {
                out.extend(projected);
            }
            continue;
        }
        let number = inner
            .arg("number")
            .map(|i| resolve(i, variables))
            .and_then(|n| n.as_u64());
        let Some(pull) = state.pulls.iter().find(|p| Some(p.number) == number) else {
            let message = format!(
                "Could not resolve to a PullRequest with the number of {}.",
                number.unwrap_or(0)
            );
            let mut error = field_error("NOT_FOUND", &inner, &message);
            error["path"] = json!(here);
            return Err(error);
        };
        let value = run.project(&pull_value(hub, pull), &inner.selection);
        out.insert(inner.key().to_owned(), value);
    }
    Ok(Value::Object(out))
}
