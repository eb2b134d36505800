//! References: read, create, update (a compare-and-swap under GitHub's
//! fast-forward rule) and delete.
//!
//! Wordings are GitHub's as observed: "Update is not a fast forward",
//! "Reference does not exist", "Reference already exists", "Object does not
//! exist", "Reference name is invalid", all 422. For protected branches
//! GitHub documents that "these restrictions are all represented by 422
//! errors" (developer.github.com/changes/2015-09-03-ensure-your-app-is-ready-
//! for-protected-branches); the message is git's GH006 one, "Protected branch
//! update failed for refs/heads/<branch>.", and a delete answers "Cannot
//! delete a protected branch".

use serde_json::{Value, json};

use super::{Answer, ApiError, Hub, body_object, json_response, node_id, path_param, required_str};
use crate::standin::{Request, Response};

/// Where GitHub documents protected branches.
const PROTECTED_DOCS: &str = "https://docs.github.com/articles/about-protected-branches";

/// `GET /repos/{owner}/{repo}/git/ref/{ref}`, `ref` as `heads/main`.
pub(super) fn get(hub: &Hub, request: &Request) -> Answer {
    let reference = format!("refs/{}", path_param(request, "ref"));
    let sha = hub
        .store
        .resolve(&reference)
        .ok_or_else(ApiError::not_found)?;
    Ok(json_response(200, &ref_json(hub, &reference, &sha)))
}

/// `POST /repos/{owner}/{repo}/git/refs` with `{"ref": "refs/heads/x", "sha"}`.
pub(super) fn create(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let reference = required_str(&body, "ref")?;
    let sha = required_str(&body, "sha")?;
    let named = reference.starts_with("refs/") && reference.matches('/').count() >= 2;
    if !named
        || hub
            .store
            .text(&["check-ref-format", reference], &[], b"")
            .is_err()
    {
        return Err(ApiError::unprocessable("Reference name is invalid"));
    }
    if hub.store.object_type(sha).is_none() {
        return Err(ApiError::unprocessable("Object does not exist"));
    }
    if !hub.store.update_ref(reference, sha, Some("")) {
        return Err(ApiError::unprocessable("Reference already exists"));
    }
    Ok(created(ref_json(hub, reference, sha)))
}

/// `PATCH /repos/{owner}/{repo}/git/refs/{ref}` with `{"sha", "force"}`.
/// The check and the update are one compare-and-swap on the ref: a tip that
/// moved in between is looked at again, so a concurrent writer is never
/// overwritten without `force`.
pub(super) fn update(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let new = required_str(&body, "sha")?;
    let force = match body.get("force") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(force)) => *force,
        Some(other) => {
            let detail = format!("For 'properties/force', {other} is not a boolean.");
            return Err(ApiError::invalid(&detail));
        }
    };
    let reference = format!("refs/{}", path_param(request, "ref"));
    let hooks = std::mem::take(&mut hub.state().before_ref_update);
    for hook in hooks {
        hook(&hub.remote, &reference);
    }
    // One update at a time through the API; git's own compare-and-swap
    // guards against writers outside it.
    let state = hub.state();
    if hub.store.resolve(&reference).is_none() {
        return Err(ApiError::unprocessable("Reference does not exist"));
    }
    if hub.store.object_type(new).is_none() {
        return Err(ApiError::unprocessable("Object does not exist"));
    }
    if let Some(branch) = reference.strip_prefix("refs/heads/")
        && state.protected.contains(branch)
    {
        return Err(protected(&format!(
            "Protected branch update failed for {reference}."
        )));
    }
    loop {
        let current = hub
            .store
            .resolve(&reference)
            .ok_or_else(|| ApiError::unprocessable("Reference does not exist"))?;
        if !force && current != new && !hub.store.is_ancestor(&current, new) {
            return Err(ApiError::unprocessable("Update is not a fast forward"));
        }
        if hub.store.update_ref(&reference, new, Some(&current)) {
            return Ok(json_response(200, &ref_json(hub, &reference, new)));
        }
    }
}

/// `DELETE /repos/{owner}/{repo}/git/refs/{ref}`: 204.
pub(super) fn delete(hub: &Hub, request: &Request) -> Answer {
    let reference = format!("refs/{}", path_param(request, "ref"));
    let state = hub.state();
    let Some(current) = hub.store.resolve(&reference) else {
        return Err(ApiError::unprocessable("Reference does not exist"));
    };
    if let Some(branch) = reference.strip_prefix("refs/heads/")
        && state.protected.contains(branch)
    {
        return Err(protected("Cannot delete a protected branch"));
    }
    hub.store
        .git(&["update-ref", "-d", &reference, &current], &[], b"")
        .map_err(|_| ApiError::unprocessable("Reference does not exist"))?;
    Ok(Response::new(204))
}

fn protected(message: &str) -> ApiError {
    ApiError {
        documentation_url: Some(PROTECTED_DOCS),
        ..ApiError::unprocessable(message)
    }
}

/// A 201 with `Location`, as GitHub answers a create.
pub(super) fn created(body: Value) -> Response {
    let location = body["url"].as_str().unwrap_or_default().to_owned();
    json_response(201, &body).header("location", &location)
}

/// GitHub's reference object.
fn ref_json(hub: &Hub, reference: &str, sha: &str) -> Value {
    let kind = hub
        .store
        .object_type(sha)
        .unwrap_or_else(|| "commit".to_owned());
    json!({
        "ref": reference,
        "node_id": node_id("03", "Ref", reference),
        "url": format!("{}/git/{reference}", hub.api()),
        "object": {
            "sha": sha,
            "type": kind,
            "url": format!("{}/git/{kind}s/{sha}", hub.api()),
        },
    })
}
