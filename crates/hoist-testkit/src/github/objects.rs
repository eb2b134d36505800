//! Blobs, trees and commits: real objects written with git's plumbing.
//!
//! Error wordings are GitHub's as observed: "Invalid tree info" (an empty or
//! contradictory tree), "base_tree is not a valid tree oid", "tree.sha <sha>
//! is not a valid blob", "Tree SHA does not exist", "Parent SHA does not
//! exist or is not a commit object", all 422.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::refs::created;
use super::store::{CommitObject, Entry, Person, iso8601};
use super::{
    Answer, ApiError, Hub, base64_lines, body_object, json_response, node_id, required_str,
    unix_now,
};
use crate::standin::Request;

/// Who GitHub writes a commit as when the token is the workflow's
/// `GITHUB_TOKEN` and the request names nobody.
const BOT_NAME: &str = "github-actions[bot]";
const BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";

/// What the API reports as GitHub's signature on the commits it signs; the
/// objects themselves carry none.
const SIGNATURE: &str = "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJoAAAACRBK7hj4Ov3rIwAAstand-in\n-----END PGP SIGNATURE-----\n";

/// `POST /repos/{owner}/{repo}/git/blobs` with `{"content", "encoding"}`.
pub(super) fn create_blob(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let content = required_str(&body, "content")?;
    let bytes = match body.get("encoding").and_then(Value::as_str) {
        None | Some("utf-8" | "utf8") => content.as_bytes().to_vec(),
        Some("base64") => {
            let compact: String = content.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| ApiError::invalid("content is not valid Base64"))?
        }
        Some(other) => {
            let detail = format!("encoding must be one of utf-8 or base64, not {other:?}");
            return Err(ApiError::invalid(&detail));
        }
    };
    let sha = hub.store.write_blob(&bytes);
    let url = format!("{}/git/blobs/{sha}", hub.api());
    Ok(created(json!({ "url": url, "sha": sha })))
}

/// `GET /repos/{owner}/{repo}/git/blobs/{sha}`.
pub(super) fn get_blob(hub: &Hub, request: &Request) -> Answer {
    let sha = request.param("sha");
    let bytes = hub.store.read_blob(sha).ok_or_else(ApiError::not_found)?;
    Ok(json_response(
        200,
        &json!({
            "sha": sha,
            "node_id": node_id("04", "Blob", sha),
            "size": bytes.len(),
            "url": format!("{}/git/blobs/{sha}", hub.api()),
            "content": base64_lines(&bytes),
            "encoding": "base64",
        }),
    ))
}

/// `GET /repos/{owner}/{repo}/git/trees/{sha}`: a tree, or the tree of a
/// commit, branch or tag; `recursive` with any value lists subtrees too.
pub(super) fn get_tree(hub: &Hub, request: &Request) -> Answer {
    let name = request.param("sha");
    let sha = match hub.store.object_type(name).as_deref() {
        Some("tree") => name.to_owned(),
        _ => hub
            .store
            .resolve_commit(name)
            .and_then(|commit| hub.store.commit(&commit))
            .map(|commit| commit.tree)
            .ok_or_else(ApiError::not_found)?,
    };
    let recursive = request.query_param("recursive").is_some();
    Ok(json_response(200, &tree_json(hub, &sha, recursive)))
}

/// `POST /repos/{owner}/{repo}/git/trees` with `{"base_tree"?, "tree": […]}`:
/// the base tree read into a temporary index, each entry applied in order
/// (`sha: null` deletes), then `write-tree`.
pub(super) fn create_tree(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let entries = match body.get("tree") {
        Some(Value::Array(entries)) if !entries.is_empty() => entries,
        Some(Value::Array(_)) => return Err(ApiError::unprocessable("Invalid tree info")),
        None | Some(Value::Null) => return Err(ApiError::invalid("\"tree\" wasn't supplied.")),
        Some(other) => {
            let detail = format!("For 'properties/tree', {other} is not an array.");
            return Err(ApiError::invalid(&detail));
        }
    };
    let index = tempfile::tempdir().expect("temp dir");
    let index = index.path().join("index");
    let index = index.to_str().expect("utf-8 temp path");
    let env = [("GIT_INDEX_FILE", index)];
    match body.get("base_tree") {
        None | Some(Value::Null) => {}
        Some(Value::String(base)) if hub.store.object_type(base).as_deref() == Some("tree") => {
            hub.store
                .git(&["read-tree", base], &env, b"")
                .map_err(|_| ApiError::unprocessable("base_tree is not a valid tree oid"))?;
        }
        Some(_) => return Err(ApiError::unprocessable("base_tree is not a valid tree oid")),
    }
    for entry in entries {
        apply(hub, &env, entry.as_object().ok_or_else(invalid_tree)?)?;
    }
    let sha = hub
        .store
        .text(&["write-tree"], &env, b"")
        .map_err(|_| invalid_tree())?;
    Ok(created(tree_json(hub, &sha, false)))
}

/// Applies one entry of a tree request to the index.
fn apply(hub: &Hub, env: &[(&str, &str)], entry: &Map<String, Value>) -> Result<(), ApiError> {
    let text = |name: &str| entry.get(name).and_then(Value::as_str);
    let path = text("path").unwrap_or_default();
    let malformed = path.is_empty()
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == ".." || part == ".git");
    if malformed {
        return Err(ApiError::unprocessable(
            "tree.path contains a malformed path component",
        ));
    }
    let (mode, kind) = (
        text("mode").unwrap_or_default(),
        text("type").unwrap_or_default(),
    );
    let fits = match kind {
        "blob" => ["100644", "100755", "120000"].contains(&mode),
        "tree" => mode == "040000",
        "commit" => mode == "160000",
        _ => false,
    };
    if !fits {
        return Err(invalid_tree());
    }
    let sha = match (entry.get("sha"), text("content")) {
        (Some(Value::String(_)), Some(_)) => return Err(invalid_tree()),
        (_, Some(content)) if kind == "blob" => Some(hub.store.write_blob(content.as_bytes())),
        (Some(Value::Null), None) => None,
        (Some(Value::String(sha)), None) => Some(sha.clone()),
        _ => return Err(invalid_tree()),
    };
    let Some(sha) = sha else {
        return remove(hub, env, path, true);
    };
    let actual = hub.store.object_type(&sha);
    match kind {
        "commit" => {}
        _ if actual.as_deref() != Some(kind) => {
            let detail = format!("tree.sha {sha} is not a valid {kind}");
            return Err(ApiError::unprocessable(&detail));
        }
        "tree" => {
            remove(hub, env, path, false)?;
            let lines: Vec<String> = hub
                .store
                .ls_tree(&sha, true)
                .iter()
                .filter(|entry| entry.kind != "tree")
                .map(|entry| format!("{} {}\t{path}/{}\0", entry.mode, entry.sha, entry.path))
                .collect();
            return index_info(hub, env, &lines.concat());
        }
        _ => {}
    }
    let info = format!("{mode},{sha},{path}");
    let args = ["update-index", "--add", "--replace", "--cacheinfo", &info];
    hub.store
        .git(&args, env, b"")
        .map(drop)
        .map_err(|_| invalid_tree())
}

/// Removes `path` and everything under it from the index; GitHub refuses to
/// delete what is not there.
fn remove(hub: &Hub, env: &[(&str, &str)], path: &str, must_exist: bool) -> Result<(), ApiError> {
    let listed = hub
        .store
        .git(&["ls-files", "-z", "--", path], env, b"")
        .unwrap_or_default();
    if listed.is_empty() {
        return if must_exist {
            Err(invalid_tree())
        } else {
            Ok(())
        };
    }
    let zero = "0".repeat(40);
    let lines: Vec<String> = String::from_utf8_lossy(&listed)
        .split('\0')
        .filter(|name| !name.is_empty())
        .map(|name| format!("0 {zero}\t{name}\0"))
        .collect();
    index_info(hub, env, &lines.concat())
}

/// Feeds `update-index --index-info` (mode 0 removes), which, unlike most
/// index commands, needs no work tree.
fn index_info(hub: &Hub, env: &[(&str, &str)], lines: &str) -> Result<(), ApiError> {
    let args = ["update-index", "-z", "--index-info"];
    hub.store
        .git(&args, env, lines.as_bytes())
        .map(drop)
        .map_err(|_| invalid_tree())
}

fn invalid_tree() -> ApiError {
    ApiError::unprocessable("Invalid tree info")
}

/// GitHub's tree object: the entries, without sizes for subtrees.
fn tree_json(hub: &Hub, sha: &str, recursive: bool) -> Value {
    let entries: Vec<Value> = hub
        .store
        .ls_tree(sha, recursive)
        .iter()
        .map(|entry| entry_json(hub, entry))
        .collect();
    json!({
        "sha": sha,
        "url": format!("{}/git/trees/{sha}", hub.api()),
        "tree": entries,
        "truncated": false,
    })
}

fn entry_json(hub: &Hub, entry: &Entry) -> Value {
    let mut value = json!({
        "path": entry.path,
        "mode": entry.mode,
        "type": entry.kind,
        "sha": entry.sha,
    });
    if let Some(size) = entry.size {
        value["size"] = json!(size);
    }
    if entry.kind != "commit" {
        value["url"] = json!(format!("{}/git/{}s/{}", hub.api(), entry.kind, entry.sha));
    }
    value
}

/// `POST /repos/{owner}/{repo}/git/commits` with `{"message", "tree",
/// "parents", "author"?, "committer"?}`. With neither person given, the
/// commit is the token's bot's and verified, as GitHub signs it; otherwise
/// it is as given and unsigned. The committer defaults to the author.
pub(super) fn create_commit(hub: &Hub, request: &Request) -> Answer {
    let body = body_object(request)?;
    let message = required_str(&body, "message")?;
    let tree = required_str(&body, "tree")?;
    let parents = match body.get("parents") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(parents)) => parents
            .iter()
            .map(|p| p.as_str().unwrap_or_default())
            .collect(),
        Some(other) => {
            let detail = format!("For 'properties/parents', {other} is not an array.");
            return Err(ApiError::invalid(&detail));
        }
    };
    let author = person(&body, "author")?;
    let committer = person(&body, "committer")?;
    if hub.store.object_type(tree).as_deref() != Some("tree") {
        return Err(ApiError::unprocessable("Tree SHA does not exist"));
    }
    if parents
        .iter()
        .any(|p| hub.store.object_type(p).as_deref() != Some("commit"))
    {
        return Err(ApiError::unprocessable(
            "Parent SHA does not exist or is not a commit object",
        ));
    }
    let signed = author.is_none() && committer.is_none();
    let author = author.unwrap_or_else(Identity::bot);
    let committer = committer.unwrap_or_else(|| author.clone());
    let env = [author.env("AUTHOR"), committer.env("COMMITTER")].concat();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut args = vec!["commit-tree", tree];
    for parent in &parents {
        args.extend(["-p", parent]);
    }
    let sha = hub
        .store
        .text(&args, &env, message.as_bytes())
        .map_err(|why| ApiError::invalid(&why))?;
    if signed {
        hub.state().signed.insert(sha.clone());
    }
    let commit = hub.store.commit(&sha).expect("the commit just written");
    Ok(created(commit_json(hub, &sha, &commit)))
}

/// `GET /repos/{owner}/{repo}/git/commits/{sha}`.
pub(super) fn get_commit(hub: &Hub, request: &Request) -> Answer {
    let sha = request.param("sha");
    let commit = hub.store.commit(sha).ok_or_else(ApiError::not_found)?;
    Ok(json_response(200, &commit_json(hub, sha, &commit)))
}

/// An `author` or `committer` as a request gives it.
#[derive(Clone)]
struct Identity {
    name: String,
    email: String,
    /// ISO 8601, which git reads as it is.
    date: Option<String>,
}

impl Identity {
    fn bot() -> Self {
        Self {
            name: BOT_NAME.to_owned(),
            email: BOT_EMAIL.to_owned(),
            date: None,
        }
    }

    /// `GIT_<ROLE>_NAME`, `_EMAIL` and `_DATE`, for `commit-tree`.
    fn env(&self, role: &str) -> Vec<(String, String)> {
        let mut env = vec![
            (format!("GIT_{role}_NAME"), self.name.clone()),
            (format!("GIT_{role}_EMAIL"), self.email.clone()),
        ];
        env.extend(
            self.date
                .iter()
                .map(|d| (format!("GIT_{role}_DATE"), d.clone())),
        );
        env
    }
}

/// `author`/`committer`: name, email and an optional date.
fn person(body: &Map<String, Value>, field: &str) -> Result<Option<Identity>, ApiError> {
    let Some(value) = body.get(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(person) = value.as_object() else {
        let detail = format!("For 'properties/{field}', {value} is not an object.");
        return Err(ApiError::invalid(&detail));
    };
    Ok(Some(Identity {
        name: required_str(person, "name")?.to_owned(),
        email: required_str(person, "email")?.to_owned(),
        date: person.get("date").and_then(Value::as_str).map(String::from),
    }))
}

/// GitHub's git commit object.
pub(super) fn commit_json(hub: &Hub, sha: &str, commit: &CommitObject) -> Value {
    let who = |p: &Person| json!({ "name": p.name, "email": p.email, "date": p.date });
    let parents: Vec<Value> = commit
        .parents
        .iter()
        .map(|parent| {
            json!({
                "sha": parent,
                "url": format!("{}/git/commits/{parent}", hub.api()),
                "html_url": format!("{}/commit/{parent}", hub.html()),
            })
        })
        .collect();
    let verification = if hub.state().signed.contains(sha) {
        json!({
            "verified": true,
            "reason": "valid",
            "signature": SIGNATURE,
            "payload": commit.raw,
            "verified_at": iso8601(i64::try_from(unix_now()).unwrap_or(0)),
        })
    } else {
        json!({
            "verified": false,
            "reason": "unsigned",
            "signature": null,
            "payload": null,
            "verified_at": null,
        })
    };
    json!({
        "sha": sha,
        "node_id": node_id("06", "Commit", sha),
        "url": format!("{}/git/commits/{sha}", hub.api()),
        "html_url": format!("{}/commit/{sha}", hub.html()),
        "author": who(&commit.author),
        "committer": who(&commit.committer),
        "tree": {
            "sha": commit.tree,
            "url": format!("{}/git/trees/{}", hub.api(), commit.tree),
        },
        "message": commit.message,
        "parents": parents,
        "verification": verification,
    })
}
