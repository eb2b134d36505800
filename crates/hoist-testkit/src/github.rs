//! A stand-in for GitHub's REST API over a real bare repository.
//!
//! It answers the Git Data API (refs, blobs, trees, commits) and repository
//! contents with GitHub's paths, JSON shapes, status codes and error bodies
//! (`{"message", "documentation_url", "status"}`), and everything it writes
//! is a real git object in the [`GitRemote`], so `git` reads it afterwards.
//! One repository, `owner/repo`, fixed at the start; any other is a 404.
//!
//! Commit statuses and compare answer from the same repository, and a test
//! scripts the statuses a GitOps controller would post
//! ([`GitHubStandIn::add_status`], [`GitHubStandIn::add_status_after_reads`]).
//!
//! The state lives in one [`Hub`] and the routes in one table
//! ([`routes`]), so more endpoints (pull requests, labels) are a module and
//! a few rows more.

mod compare;
mod contents;
mod objects;
mod refs;
mod statuses;
mod store;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::peers::GitRemote;
use crate::standin::{Fault, Request, Response, Router, StandIn};
use store::Store;
pub(crate) use store::iso8601;

/// A running GitHub API stand-in. Stops when dropped.
pub struct GitHubStandIn {
    server: StandIn,
    hub: Arc<Hub>,
}

impl GitHubStandIn {
    /// Serves `owner/repo`, backed by `remote`, to clients that present
    /// `token` (`Authorization: Bearer <token>` or `token <token>`).
    pub fn start(owner: &str, repo: &str, remote: GitRemote, token: &str) -> Self {
        let store = Store::new(remote.path());
        let hub = Arc::new(Hub {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            token: token.to_owned(),
            remote,
            store,
            base: OnceLock::new(),
            reset: unix_now() + 3600,
            served: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        });
        let server = StandIn::start(routes(&hub));
        hub.base.set(server.url()).expect("set once");
        Self { server, hub }
    }

    /// The API base URL, for `GITHUB_API_URL`: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The repository behind the API.
    pub fn remote(&self) -> &GitRemote {
        &self.hub.remote
    }

    /// Protects `branch`: a ref update or delete through the API gets
    /// GitHub's 422, and a `git push` to the remote is refused by a
    /// `pre-receive` hook (see [`GitRemote::protect_branch`]).
    pub fn protect_branch(&self, branch: &str) {
        self.hub.remote.protect_branch(branch);
        self.hub.state().protected.insert(branch.to_owned());
    }

    /// Runs `hook` with the remote and the full ref name (`refs/heads/main`)
    /// just before the next `PATCH …/git/refs/…` is handled: a concurrent
    /// writer, without sleeping.
    pub fn before_next_ref_update(&self, hook: impl FnOnce(&GitRemote, &str) + Send + 'static) {
        self.hub.state().before_ref_update.push_back(Box::new(hook));
    }

    /// Just before the next ref update, commits `contents` as `path` on the
    /// branch being updated, so an update built on the old tip loses the
    /// race (422 "Update is not a fast forward").
    pub fn advance_before_next_patch(&self, path: &str, contents: &str) {
        let (path, contents) = (path.to_owned(), contents.to_owned());
        self.before_next_ref_update(move |remote, reference| {
            let branch = reference.strip_prefix("refs/heads/").unwrap_or(reference);
            remote.commit_file(
                branch,
                &path,
                &contents,
                &format!("concurrent change to {path}"),
            );
        });
    }

    /// Answers the next (authorised) request with `method` with GitHub's
    /// error body: `{"message": message, …, "status": status}`.
    pub fn fail_next(&self, method: &str, status: u16, message: &str) {
        self.hub
            .state()
            .failures
            .push_back((method.to_owned(), status, message.to_owned()));
    }

    /// Adds a commit status to `sha` (a full sha), as Flux's
    /// notification-controller posts it: `state` (`success`, `failure`,
    /// `error`, `pending`), `context` (`kustomization/apps/0c9c2e41`),
    /// `description` ("reconciliation succeeded").
    pub fn add_status(&self, sha: &str, state: &str, context: &str, description: &str) {
        self.hub
            .script_status(sha, 0, (state, context, description));
    }

    /// Adds a commit status to `sha` that appears only after the statuses of
    /// `sha` (list or combined) have been read `reads` more times: a
    /// controller that reports later, with no clock.
    pub fn add_status_after_reads(
        &self,
        sha: &str,
        reads: usize,
        state: &str,
        context: &str,
        description: &str,
    ) {
        self.hub
            .script_status(sha, reads, (state, context, description));
    }

    /// Injects a transport-level `fault` into the next request.
    pub fn fault(&self, fault: Fault) {
        self.server.fault(fault);
    }

    /// Injects `fault` into the next request whose path starts with `prefix`.
    pub fn fault_on(&self, prefix: &str, fault: Fault) {
        self.server.fault_on(prefix, fault);
    }

    /// Every request received so far, faulted and refused ones included.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// How many requests had `method` and a path starting with `prefix`.
    pub fn request_count(&self, method: &str, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .count()
    }

    /// Whether the API reports `sha` as verified: commits it created with
    /// neither author nor committer given, which GitHub signs.
    pub fn is_verified(&self, sha: &str) -> bool {
        self.hub.state().signed.contains(sha)
    }

    /// The server, for anything the wrappers above do not pass through.
    pub fn server(&self) -> &StandIn {
        &self.server
    }
}

/// What a handler answers: a response, or GitHub's error body.
type Answer = Result<Response, ApiError>;

/// A route's handler.
type Handler = fn(&Hub, &Request) -> Answer;

/// GitHub's documentation pages, for `documentation_url`.
const DOCS: &str = "https://docs.github.com/rest";

/// Every route, in one place: method, pattern, the page documenting it (under
/// [`DOCS`]), handler. Unmatched requests get GitHub's 404, after the token
/// is checked as GitHub does.
fn routes(hub: &Arc<Hub>) -> Router {
    const REPO: &str = "/repos/{owner}/{repo}";
    #[rustfmt::skip]
    let table: [(&str, &str, &str, Handler); 17] = [
        ("GET",    "",                   "repos/repos#get-a-repository",           contents::repository),
        ("GET",    "/contents",          "repos/contents#get-repository-content",  contents::get),
        ("GET",    "/contents/{path*}",  "repos/contents#get-repository-content",  contents::get),
        ("GET",    "/git/ref/{ref*}",    "git/refs#get-a-reference",               refs::get),
        ("POST",   "/git/refs",          "git/refs#create-a-reference",            refs::create),
        ("PATCH",  "/git/refs/{ref*}",   "git/refs#update-a-reference",            refs::update),
        ("DELETE", "/git/refs/{ref*}",   "git/refs#delete-a-reference",            refs::delete),
        ("POST",   "/git/blobs",         "git/blobs#create-a-blob",                objects::create_blob),
        ("GET",    "/git/blobs/{sha}",   "git/blobs#get-a-blob",                   objects::get_blob),
        ("POST",   "/git/trees",         "git/trees#create-a-tree",                objects::create_tree),
        ("GET",    "/git/trees/{sha}",   "git/trees#get-a-tree",                   objects::get_tree),
        ("POST",   "/git/commits",       "git/commits#create-a-commit",            objects::create_commit),
        ("GET",    "/git/commits/{sha}", "git/commits#get-a-commit-object",        objects::get_commit),
        ("GET",    "/commits/{ref}/statuses", "commits/statuses#list-commit-statuses-for-a-reference", statuses::list),
        ("GET",    "/commits/{ref}/status",    "commits/statuses#get-the-combined-status-for-a-specific-reference", statuses::combined),
        ("POST",   "/statuses/{sha}",          "commits/statuses#create-a-commit-status", statuses::create),
        ("GET",    "/compare/{basehead*}",     "commits/commits#compare-two-commits",     compare::compare),
    ];
    let router = table
        .into_iter()
        .fold(Router::new(), |router, (method, path, doc, handler)| {
            let hub = Arc::clone(hub);
            let doc = format!("{DOCS}/{doc}");
            router.route(method, &format!("{REPO}{path}"), move |request| {
                hub.answer(request, &doc, handler)
            })
        });
    ["GET", "POST", "PATCH", "PUT", "DELETE"]
        .into_iter()
        .fold(router, |router, method| {
            let hub = Arc::clone(hub);
            router.route(method, "/{rest*}", move |request| {
                hub.answer(request, DOCS, |_, _| Err(ApiError::not_found()))
            })
        })
}

/// The stand-in's state, shared by every handler.
struct Hub {
    owner: String,
    repo: String,
    token: String,
    remote: GitRemote,
    store: Store,
    /// The server's URL, known once it listens.
    base: OnceLock<String>,
    /// `x-ratelimit-reset`: the window ends an hour after the start.
    reset: u64,
    served: AtomicU64,
    state: Mutex<State>,
}

/// Hooks waiting for a ref update.
type RefHook = Box<dyn FnOnce(&GitRemote, &str) + Send>;

#[derive(Default)]
struct State {
    /// Protected branch names.
    protected: BTreeSet<String>,
    /// Commits created with GitHub's signature.
    signed: BTreeSet<String>,
    before_ref_update: VecDeque<RefHook>,
    /// Scripted errors: method, status, message.
    failures: VecDeque<(String, u16, String)>,
    /// Commit statuses, in the order they were made.
    statuses: Vec<statuses::Status>,
    /// How often each sha's statuses were read.
    status_reads: BTreeMap<String, usize>,
}

impl Hub {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// `http://127.0.0.1:PORT/repos/OWNER/REPO`, the prefix of API URLs.
    fn api(&self) -> String {
        format!("{}/repos/{}/{}", self.base(), self.owner, self.repo)
    }

    /// `http://127.0.0.1:PORT/OWNER/REPO`, the prefix of `html_url`s (the
    /// stand-in is the server too; it serves no HTML).
    fn html(&self) -> String {
        format!("{}/{}/{}", self.base(), self.owner, self.repo)
    }

    fn base(&self) -> &str {
        self.base.get().map_or("", String::as_str)
    }

    /// Checks the token, the repository and the script of failures, runs
    /// `handler`, and adds the headers GitHub puts on every answer.
    fn answer(&self, request: &Request, doc: &str, handler: Handler) -> Response {
        let answer = self
            .admit(request)
            .and_then(|()| handler(self, request))
            .unwrap_or_else(|error| error.response(doc));
        let served = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        let mut response = answer
            .header("x-github-request-id", &request_id(served))
            .header("x-github-api-version-selected", "2022-11-28")
            .header("x-github-media-type", "github.v3; format=json")
            .header("x-ratelimit-limit", "5000")
            .header(
                "x-ratelimit-remaining",
                &(5000 - served.min(5000)).to_string(),
            )
            .header("x-ratelimit-used", &served.to_string())
            .header("x-ratelimit-reset", &self.reset.to_string())
            .header("x-ratelimit-resource", "core");
        if response.status == 401 {
            response = response.header("www-authenticate", "Bearer realm=\"GitHub\"");
        }
        response
    }

    fn admit(&self, request: &Request) -> Result<(), ApiError> {
        let Some(authorization) = request.header("authorization") else {
            return Err(ApiError::unauthorised("Requires authentication"));
        };
        let (scheme, token) = authorization.trim().split_once(' ').unwrap_or(("", ""));
        let scheme_ok = ["bearer", "token"].contains(&scheme.to_ascii_lowercase().as_str());
        if !scheme_ok || !same_bytes(token.trim().as_bytes(), self.token.as_bytes()) {
            return Err(ApiError::unauthorised("Bad credentials"));
        }
        let names = [("owner", &self.owner), ("repo", &self.repo)];
        if names.iter().any(|(param, name)| {
            request.params.contains_key(*param) && !request.param(param).eq_ignore_ascii_case(name)
        }) {
            return Err(ApiError::not_found());
        }
        let mut state = self.state();
        if let Some(i) = state
            .failures
            .iter()
            .position(|(m, ..)| *m == request.method)
        {
            let (_, status, message) = state.failures.remove(i).expect("present");
            return Err(ApiError::new(status, &message));
        }
        Ok(())
    }
}

/// GitHub's error answer.
#[derive(Debug)]
struct ApiError {
    status: u16,
    message: String,
    /// Instead of the route's page.
    documentation_url: Option<&'static str>,
    /// Validation errors: `[{resource, code, field, message}]`.
    errors: Option<Value>,
}

impl ApiError {
    fn new(status: u16, message: &str) -> Self {
        Self {
            status,
            message: message.to_owned(),
            documentation_url: None,
            errors: None,
        }
    }

    /// GitHub's 422 "Validation Failed" for a status `field`.
    fn validation(field: &str, message: &str) -> Self {
        let error =
            json!({"resource": "Status", "code": "custom", "field": field, "message": message});
        Self {
            errors: Some(json!([error])),
            ..Self::new(422, "Validation Failed")
        }
    }

    fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    fn unprocessable(message: &str) -> Self {
        Self::new(422, message)
    }

    /// A body that fails GitHub's schema: `Invalid request.\n\n<detail>`.
    fn invalid(detail: &str) -> Self {
        Self::new(422, &format!("Invalid request.\n\n{detail}"))
    }

    fn unauthorised(message: &str) -> Self {
        Self {
            documentation_url: Some(DOCS),
            ..Self::new(401, message)
        }
    }

    fn response(self, doc: &str) -> Response {
        let mut body = json!({
            "message": self.message,
            "documentation_url": self.documentation_url.unwrap_or(doc),
            "status": self.status.to_string(),
        });
        if let Some(errors) = self.errors {
            body["errors"] = errors;
        }
        json_response(self.status, &body)
    }
}

/// A JSON answer as GitHub sends it.
fn json_response(status: u16, value: &Value) -> Response {
    Response::new(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(value.to_string())
}

/// The request body as a JSON object, or GitHub's 400/422.
fn body_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(&request.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid(
            "Invalid input: the body must be an object.",
        )),
        Err(_) => Err(ApiError::new(400, "Problems parsing JSON")),
    }
}

/// A required string field, worded as GitHub's schema validation words it.
fn required_str<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Err(ApiError::invalid(&format!("\"{name}\" wasn't supplied."))),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(ApiError::invalid(&format!(
            "For 'properties/{name}', {other} is not a string."
        ))),
    }
}

/// A `{name*}` route parameter, percent-decoded as a path (`+` stays a
/// plus): clients may send `heads%2Fmain`.
fn path_param(request: &Request, name: &str) -> String {
    let bytes = request.param(name).as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// GitHub's legacy global node id: base64 of `<type code>:<Type><key>`.
fn node_id(code: &str, kind: &str, key: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{code}:{kind}{key}"))
}

/// Base64 with a newline after every 60 characters and at the end, as
/// GitHub (Ruby's `Base64.encode64`) sends file contents.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ascii"));
        out.push('\n');
    }
    out
}

/// A request id shaped like GitHub's `x-github-request-id`.
fn request_id(n: u64) -> String {
    format!(
        "C0DE:{:04X}:{:06X}:{:06X}:68A1B2C3",
        n % 0xFFFF,
        n * 7919 % 0xFF_FFFF,
        n
    )
}

/// Compares without stopping at the first difference.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
