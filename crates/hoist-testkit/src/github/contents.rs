//! The repository and its contents, as GitHub answers them.
//!
//! `GET …/contents/{path}?ref=` answers a file with its base64 content
//! (a newline every 60 characters, as GitHub sends it; empty with encoding
//! `none` above 1 MB), a directory with an array of entries, a submodule as
//! such, and a symlink with the file it points at when that is a regular file
//! in the repository, else with the link itself (`type: symlink`, `target`),
//! as GitHub documents.

use serde_json::{Value, json};

use super::store::Entry;
use super::{Answer, ApiError, Hub, base64_lines, json_response, node_id, path_param};
use crate::standin::Request;

/// Above this size GitHub leaves the content out.
const INLINE_LIMIT: u64 = 1024 * 1024;

/// `GET /repos/{owner}/{repo}`: enough of the repository to find its
/// default branch.
pub(super) fn repository(hub: &Hub, _request: &Request) -> Answer {
    Ok(json_response(
        200,
        &json!({
            "id": 1_296_269,
            "node_id": node_id("010", "Repository", &format!("{}/{}", hub.owner, hub.repo)),
            "name": hub.repo,
            "full_name": format!("{}/{}", hub.owner, hub.repo),
            "private": true,
            "owner": { "login": hub.owner, "type": "Organization" },
            "html_url": hub.html(),
            "url": hub.api(),
            "default_branch": hub.store.default_branch(),
            "permissions": { "admin": false, "maintain": false, "push": true, "triage": false, "pull": true },
        }),
    ))
}

/// `GET /repos/{owner}/{repo}/contents/{path}?ref=<branch, tag or sha>`.
pub(super) fn get(hub: &Hub, request: &Request) -> Answer {
    let path = path_param(request, "path");
    let path = path.trim_matches('/');
    let reference = request
        .query_param("ref")
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| hub.store.default_branch());
    let commit = hub
        .store
        .resolve_commit(&reference)
        .ok_or_else(|| ApiError::new(404, &format!("No commit found for the ref {reference}")))?;
    let view = View {
        hub,
        reference: &reference,
    };
    if path.is_empty() {
        return Ok(json_response(200, &view.listing(&commit, "")));
    }
    let entry = hub
        .store
        .entry(&commit, path)
        .ok_or_else(ApiError::not_found)?;
    let body = match (entry.kind.as_str(), entry.mode.as_str()) {
        ("tree", _) => view.listing(&entry.sha, path),
        ("commit", _) => view.item(&entry, "submodule"),
        ("blob", "120000") => {
            let target = hub.store.read_blob(&entry.sha).unwrap_or_default();
            let target = String::from_utf8_lossy(&target).into_owned();
            let pointed = link_target(path, &target)
                .and_then(|p| hub.store.entry(&commit, &p))
                .filter(|e| e.kind == "blob" && e.mode != "120000");
            match pointed {
                Some(file) => view.file(&file),
                None => {
                    let mut link = view.item(&entry, "symlink");
                    link["target"] = json!(target);
                    link
                }
            }
        }
        _ => view.file(&entry),
    };
    Ok(json_response(200, &body))
}

/// Builds the answers for one `ref`.
struct View<'a> {
    hub: &'a Hub,
    reference: &'a str,
}

impl View<'_> {
    /// A directory's entries: `tree` is its tree, `dir` its path.
    fn listing(&self, tree: &str, dir: &str) -> Value {
        let items = self
            .hub
            .store
            .ls_tree(tree, false)
            .into_iter()
            .map(|mut entry| {
                if !dir.is_empty() {
                    entry.path = format!("{dir}/{}", entry.path);
                }
                let kind = match (entry.kind.as_str(), entry.mode.as_str()) {
                    ("tree", _) => "dir",
                    ("blob", "120000") => "symlink",
                    // GitHub lists submodules as files in a directory.
                    _ => "file",
                };
                self.item(&entry, kind)
            });
        Value::Array(items.collect())
    }

    fn file(&self, entry: &Entry) -> Value {
        let bytes = self.hub.store.read_blob(&entry.sha).unwrap_or_default();
        let mut file = self.item(entry, "file");
        let inline = entry.size.unwrap_or(0) <= INLINE_LIMIT;
        file["encoding"] = json!(if inline { "base64" } else { "none" });
        file["content"] = json!(if inline {
            base64_lines(&bytes)
        } else {
            String::new()
        });
        file
    }

    /// The fields every kind of content has.
    fn item(&self, entry: &Entry, kind: &str) -> Value {
        let (hub, reference, path) = (self.hub, self.reference, &entry.path);
        let (git, html) = if kind == "dir" {
            ("trees", "tree")
        } else {
            ("blobs", "blob")
        };
        let url = format!("{}/contents/{path}?ref={reference}", hub.api());
        let git_url = format!("{}/git/{git}/{}", hub.api(), entry.sha);
        let html_url = format!("{}/{html}/{reference}/{path}", hub.html());
        let download_url =
            (kind == "file").then(|| format!("{}/raw/{reference}/{path}", hub.html()));
        json!({
            "type": kind,
            "size": entry.size.unwrap_or(0),
            "name": path.rsplit('/').next().unwrap_or(path),
            "path": path,
            "sha": entry.sha,
            "url": url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": download_url,
            "_links": { "self": url, "git": git_url, "html": html_url },
        })
    }
}

/// Where a relative symlink at `link` points, inside the repository.
fn link_target(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_repository_only() {
        assert_eq!(
            link_target("apps/pay/current", "v2.yaml").as_deref(),
            Some("apps/pay/v2.yaml")
        );
        assert_eq!(
            link_target("apps/pay/up", "../x.yaml").as_deref(),
            Some("apps/x.yaml")
        );
        assert_eq!(link_target("top", "../outside"), None);
        assert_eq!(link_target("top", "/etc/passwd"), None);
    }
}
