//! `GET /repos/{owner}/{repo}/compare/{base}...{head}`, computed with git:
//! the merge base, the commits on each side, and GitHub's status —
//! `identical`, `ahead` (head has commits base lacks), `behind`, or
//! `diverged`. Each side is a branch, tag or sha (`owner:branch` for this
//! repository too); an unknown one is a 404 "Not Found", unrelated
//! histories GitHub's 404 "No common ancestor between <base> and <head>.".
//! `files` is left out.

use serde_json::{Value, json};

use super::objects::commit_json;
use super::{Answer, ApiError, Hub, json_response, node_id, path_param};
use crate::standin::Request;

/// The most commits GitHub lists in a comparison.
const MAX_COMMITS: usize = 250;

/// `GET /repos/{owner}/{repo}/compare/{basehead}`.
pub(super) fn compare(hub: &Hub, request: &Request) -> Answer {
    let basehead = path_param(request, "basehead");
    let (base, head) = basehead
        .split_once("...")
        .or_else(|| basehead.split_once(".."))
        .ok_or_else(ApiError::not_found)?;
    let resolve = |side: &str| {
        let own = format!("{}:", hub.owner);
        let name = side.strip_prefix(own.as_str()).unwrap_or(side);
        hub.store
            .resolve_commit(name)
            .ok_or_else(ApiError::not_found)
    };
    let (base_sha, head_sha) = (resolve(base)?, resolve(head)?);
    let merge_base = hub.store.merge_base(&base_sha, &head_sha).ok_or_else(|| {
        ApiError::new(
            404,
            &format!("No common ancestor between {base} and {head}."),
        )
    })?;
    let ahead = hub.store.commits_between(&base_sha, &head_sha);
    let behind_by = hub.store.commits_between(&head_sha, &base_sha).len();
    let status = match (ahead.is_empty(), behind_by == 0) {
        (true, true) => "identical",
        (false, true) => "ahead",
        (true, false) => "behind",
        (false, false) => "diverged",
    };
    let html = format!("{}/compare/{base}...{head}", hub.html());
    let short = |sha: &str| sha[..7].to_owned();
    let commits: Vec<Value> = ahead
        .iter()
        .take(MAX_COMMITS)
        .filter_map(|sha| rest_commit(hub, sha))
        .collect();
    Ok(json_response(
        200,
        &json!({
            "url": format!("{}/compare/{base}...{head}", hub.api()),
            "html_url": html,
            "permalink_url": format!(
                "{}/compare/{owner}:{}...{owner}:{}",
                hub.html(), short(&base_sha), short(&head_sha), owner = hub.owner
            ),
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "base_commit": rest_commit(hub, &base_sha),
            "merge_base_commit": rest_commit(hub, &merge_base),
            "status": status,
            "ahead_by": ahead.len(),
            "behind_by": behind_by,
            "total_commits": ahead.len(),
            "commits": commits,
        }),
    ))
}

/// A commit as the commits API answers it (`GET …/commits/{ref}`): the git
/// commit under `commit`, the GitHub users unknown (`null`).
fn rest_commit(hub: &Hub, sha: &str) -> Option<Value> {
    let object = hub.store.commit(sha)?;
    let git = commit_json(hub, sha, &object);
    Some(json!({
        "sha": sha,
        "node_id": node_id("06", "Commit", sha),
        "url": format!("{}/commits/{sha}", hub.api()),
        "html_url": format!("{}/commit/{sha}", hub.html()),
        "comments_url": format!("{}/commits/{sha}/comments", hub.api()),
        "commit": {
            "url": git["url"],
            "author": git["author"],
            "committer": git["committer"],
            "message": git["message"],
            "tree": git["tree"],
            "comment_count": 0,
            "verification": git["verification"],
        },
        "author": null,
        "committer": null,
        "parents": git["parents"],
    }))
}
