//! `GET /repos/{owner}/{repo}/commits`: the commits reachable from `sha`
//! (a branch, tag or sha; the default branch when absent), newest first,
//! only those touching `path` when it is given, `per_page` of them (30 by
//! default, at most 100). Each item nests the git commit under `commit`, as
//! GitHub's list does.

use serde_json::{Value, json};

use super::objects::commit_json;
use super::{Answer, ApiError, Hub, json_response, node_id};
use crate::standin::Request;

/// `GET /repos/{owner}/{repo}/commits`.
pub(super) fn list(hub: &Hub, request: &Request) -> Answer {
    let start = request
        .query_param("sha")
        .unwrap_or_else(|| hub.store.default_branch());
    let tip = hub
        .store
        .resolve_commit(&start)
        .ok_or_else(|| ApiError::new(404, &format!("No commit found for SHA: {start}")))?;
    let per_page = request
        .query_param("per_page")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100)
        .to_string();
    let mut args = vec!["log", "--format=%H", "-n", &per_page, &tip];
    let path = request.query_param("path");
    if let Some(path) = &path {
        args.extend(["--", path.as_str()]);
    }
    let shas = hub.store.text(&args, &[], b"").unwrap_or_default();
    let items: Vec<Value> = shas
        .lines()
        .filter_map(|sha| {
            let commit = hub.store.commit(sha)?;
            Some(json!({
                "sha": sha,
                "node_id": node_id("06", "Commit", sha),
                "commit": commit_json(hub, sha, &commit),
                "url": format!("{}/repos/{}/{}/commits/{sha}", hub.base(), hub.owner, hub.repo),
                "html_url": format!("{}/{}/{}/commit/{sha}", hub.base(), hub.owner, hub.repo),
                "author": null,
                "committer": null,
                "parents": commit.parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>(),
            }))
        })
        .collect();
    Ok(json_response(200, &Value::Array(items)))
}
