//! A stand-in for Argo CD's REST API (grpc-gateway JSON) with scripted
//! Applications.
//!
//! Each app plays a [`Timeline`]: successive states that move on as the app
//! is read (a `GET`, or an event a stream delivers), refreshed, synced, or
//! when the test calls [`ArgoCdStandIn::advance`] — never on a clock. The
//! [`presets`] script what `wait-for-sync` meets: stale apps, manual syncs,
//! the retry quirk, old failures, hooks failing, Degraded health, canaries.
//!
//! Routes, answers and error bodies are Argo CD's (`server/application/
//! application.go`; grpc-gateway v1 errors `{"error", "code", "message",
//! "details"}` with the gRPC code mapped to the HTTP status). As Argo CD
//! does, an app that is missing or not permitted gets 403 "permission
//! denied" unless the request names a `project`; then it is a 404
//! `applications.argoproj.io "<name>" not found`.

mod dex;
pub mod model;
pub mod presets;
pub mod steps;
mod stream;
mod timeline;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde_json::{Value, json};

use crate::standin::{Bell, Chunk, Fault, Request, Response, Router, StandIn};
pub use dex::Dex;
pub use timeline::{Hold, Timeline};
use timeline::{Live, Read};

/// A running Argo CD stand-in. Stops when dropped.
pub struct ArgoCdStandIn {
    server: StandIn,
    hub: Arc<Hub>,
}

impl ArgoCdStandIn {
    /// Serves the API to clients that present `token` (`Authorization:
    /// Bearer <token>`), with no apps yet.
    pub fn start(token: &str) -> Self {
        let hub = Arc::new(Hub::default());
        hub.state().tokens.insert(token.to_owned(), Access::All);
        let server = StandIn::start(routes(&hub));
        hub.bell.set(server.bell()).expect("set once");
        hub.base.set(server.url()).expect("set once");
        Self { server, hub }
    }

    /// The server's base URL: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Adds the app `name`, playing `timeline` from its first state.
    pub fn add_app(&self, name: &str, timeline: Timeline) {
        let mut state = self.hub.state();
        let version = 48_213_377 + 1000 * state.apps.len() as u64;
        let live = Live::new(timeline.named(name), version);
        state.apps.insert(name.to_owned(), live);
    }

    /// Adds the app `name` following `branch` of the bare git repository
    /// `git_dir`, as an auto-synced Argo CD app watching its GitOps repo:
    /// Synced and Healthy at the branch's tip now; whenever a request finds
    /// the tip moved, the app plays [`presets::stale_then_auto_sync`] from
    /// the revision it ran to the new tip (a refresh, the sync, Progressing,
    /// Healthy), so a wait for the new commit ends healthy.
    pub fn follow(&self, name: &str, git_dir: &std::path::Path, branch: &str) {
        let tip = crate::peers::git(git_dir, &["rev-parse", branch]);
        let tip = tip.trim();
        let now = i64::try_from(crate::github::unix_now()).unwrap_or(0);
        self.add_app(name, Timeline::at(steps::deployed(name, tip, now), now));
        self.hub.state().followers.insert(
            name.to_owned(),
            Follower {
                git_dir: git_dir.to_owned(),
                branch: branch.to_owned(),
                seen: tip.to_owned(),
            },
        );
    }

    /// Accepts `token` too, for apps in `project` only (a project role's
    /// token): others get 403, or 404 when the request names a project.
    pub fn add_token(&self, token: &str, project: &str) {
        let access = Access::Project(project.to_owned());
        self.hub.state().tokens.insert(token.to_owned(), access);
    }

    /// Serves Dex's token exchange at `/api/dex/token`; the tokens it issues
    /// are accepted for every app.
    pub fn enable_dex(&self, dex: Dex) {
        self.hub.state().dex = Some(dex);
    }

    /// Moves `name` to its next state, whatever holds it (false at the
    /// end), and wakes the streams.
    pub fn advance(&self, name: &str) -> bool {
        let moved = self.hub.state().live(name).advance();
        self.server.bell().ring();
        moved
    }

    /// Which state of its timeline `name` is in (0 is the first).
    pub fn position(&self, name: &str) -> usize {
        self.hub.state().live(name).position()
    }

    /// `name` as the API would answer now (without counting a read).
    pub fn app_json(&self, name: &str) -> Value {
        self.hub.state().live(name).json().clone()
    }

    /// The bodies of the syncs POSTed (and admitted), in order.
    pub fn sync_requests(&self) -> Vec<Value> {
        self.hub.state().sync_requests.clone()
    }

    /// How many refreshes (`?refresh=normal|hard`) `name` got.
    pub fn refreshes(&self, name: &str) -> usize {
        self.hub.state().live(name).refreshes.len()
    }

    /// The tokens Dex issued, in order.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.hub.state().issued.clone()
    }

    /// While set, the stream endpoint answers 502 from an HTML error page,
    /// as a proxy that does not pass streams does.
    pub fn set_stream_refused(&self, refused: bool) {
        self.hub.state().stream_refused = refused;
    }

    /// The next stream opened breaks its connection after `events` events,
    /// mid-body (each call scripts one more stream).
    pub fn drop_stream_after(&self, events: usize) {
        self.hub
            .state()
            .stream_ends
            .push_back((events, Chunk::Break));
    }

    /// The next stream opened ends cleanly after `events` events, as an
    /// idle timeout of a proxy ends it (each call scripts one more stream).
    pub fn end_stream_after(&self, events: usize) {
        self.hub.state().stream_ends.push_back((events, Chunk::End));
    }

    /// Injects `fault` into the next request.
    pub fn fault(&self, fault: Fault) {
        self.server.fault(fault);
    }

    /// Injects `fault` into each of the next `count` requests.
    pub fn faults(&self, count: usize, fault: Fault) {
        self.server.faults(count, fault);
    }

    /// Injects `fault` into the next request whose path starts with `prefix`.
    pub fn fault_on(&self, prefix: &str, fault: Fault) {
        self.server.fault_on(prefix, fault);
    }

    /// Every request received so far, faulted and refused ones included.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The server, for anything the wrappers above do not pass through.
    pub fn server(&self) -> &StandIn {
        &self.server
    }
}

/// What a handler answers: a response, or Argo CD's error.
type Answer = Result<Response, ApiError>;

/// A route's handler.
type Handler = fn(&Arc<Hub>, &Request) -> Answer;

/// Every route, in one place. Unmatched requests get grpc-gateway's 404.
fn routes(hub: &Arc<Hub>) -> Router {
    const APP: &str = "/api/v1/applications/{name}";
    #[rustfmt::skip]
    let table: [(&str, String, Handler); 6] = [
        ("GET",  APP.to_owned(),                  get),
        ("POST", format!("{APP}/sync"),           sync),
        ("GET",  format!("{APP}/syncwindows"),    windows),
        ("GET",  format!("{APP}/resource"),       resource),
        ("GET",  "/api/v1/stream/applications".to_owned(), stream::open),
        ("POST", "/api/dex/token".to_owned(),     dex::token),
    ];
    let router = table
        .into_iter()
        .fold(Router::new(), |router, (method, path, handler)| {
            let hub = Arc::clone(hub);
            router.route(method, &path, move |request| {
                handler(&hub, request).unwrap_or_else(ApiError::response)
            })
        });
    ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .into_iter()
        .fold(router, |router, method| {
            router.route(method, "/{rest*}", |_| {
                ApiError::new(5, "Not Found").response()
            })
        })
}

/// The stand-in's state, shared by every handler.
#[derive(Default)]
struct Hub {
    state: Mutex<State>,
    /// Rung when a stream moved an app on, so the other streams look.
    bell: OnceLock<Bell>,
    /// The server's URL, known once it listens.
    base: OnceLock<String>,
}

/// What a token may see.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    All,
    Project(String),
}

impl Access {
    fn allows(&self, project: &str) -> bool {
        match self {
            Self::All => true,
            Self::Project(own) => own == project,
        }
    }
}

#[derive(Default)]
struct State {
    apps: BTreeMap<String, Live>,
    tokens: BTreeMap<String, Access>,
    dex: Option<Dex>,
    issued: Vec<String>,
    sync_requests: Vec<Value>,
    stream_refused: bool,
    /// Scripted ends of the next streams: after how many events, and how.
    stream_ends: VecDeque<(usize, Chunk)>,
    /// Apps that follow a git branch ([`ArgoCdStandIn::follow`]).
    followers: BTreeMap<String, Follower>,
}

/// An app following a branch of a GitOps repository.
struct Follower {
    git_dir: std::path::PathBuf,
    branch: String,
    /// The tip the app last started deploying.
    seen: String,
}

impl Hub {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    fn ring(&self) {
        if let Some(bell) = self.bell.get() {
            bell.ring();
        }
    }
}

impl State {
    /// Restarts each following app whose branch moved: it now deploys the
    /// new tip, from the revision it ran.
    fn follow_branches(&mut self) {
        for (name, follower) in &mut self.followers {
            let tip = crate::peers::git(&follower.git_dir, &["rev-parse", &follower.branch]);
            let tip = tip.trim();
            if tip == follower.seen {
                continue;
            }
            let timeline = presets::stale_then_auto_sync(&follower.seen, tip).named(name);
            if let Some(live) = self.apps.get_mut(name) {
                *live = Live::new(timeline, live.resource_version() + 1);
            }
            tip.clone_into(&mut follower.seen);
        }
    }

    /// A test's app, which must exist.
    fn live(&mut self, name: &str) -> &mut Live {
        self.apps
            .get_mut(name)
            .unwrap_or_else(|| panic!("no app {name:?} was added"))
    }

    /// The token's access: 401 without one or with an unknown one.
    fn authenticate(&self, request: &Request) -> Result<Access, ApiError> {
        let bearer = request
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let cookie = request.header("cookie").and_then(|cookies| {
            cookies
                .split(';')
                .find_map(|c| c.trim().strip_prefix("argocd.token="))
        });
        let Some(token) = bearer.or(cookie).filter(|t| !t.is_empty()) else {
            return Err(ApiError::new(16, "no session information"));
        };
        self.tokens
            .get(token)
            .cloned()
            .ok_or_else(|| ApiError::new(16, "invalid session: token is expired"))
    }

    /// The app the request names, as Argo CD's `getAppEnforceRBAC` finds it:
    /// 403 for missing or forbidden apps, 404 instead when the request
    /// names a project.
    fn find(&mut self, request: &Request) -> Result<&mut Live, ApiError> {
        let access = self.authenticate(request)?;
        self.follow_branches();
        let name = request.param("name").to_owned();
        let namespace = request
            .query_param("appNamespace")
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "argocd".to_owned());
        let project = requested_project(request)?;
        // Without a project, missing and forbidden look alike: 403.
        let hidden = || match &project {
            Some(_) => ApiError::new(5, &format!("applications.argoproj.io \"{name}\" not found")),
            None => ApiError::new(7, "permission denied"),
        };
        if project.as_deref().is_some_and(|p| !access.allows(p)) {
            return Err(ApiError::new(7, "permission denied"));
        }
        let found = self
            .apps
            .get_mut(&name)
            .filter(|live| live.app().namespace == namespace);
        let Some(live) = found else {
            return Err(hidden());
        };
        let own = &live.app().project;
        if !access.allows(own) || project.as_ref().is_some_and(|p| p != own) {
            return Err(hidden());
        }
        Ok(live)
    }
}

/// The one project a request names (`project` or `projects`), if any.
fn requested_project(request: &Request) -> Result<Option<String>, ApiError> {
    let mut projects: Vec<String> =
        crate::standin::form_pairs(request.query.as_deref().unwrap_or(""))
            .into_iter()
            .filter(|(key, value)| (key == "project" || key == "projects") && !value.is_empty())
            .map(|(_, value)| value)
            .collect();
    projects.dedup();
    match projects.len() {
        0 | 1 => Ok(projects.pop()),
        _ => Err(ApiError::new(
            3,
            "multiple projects specified - the get endpoint accepts either zero or one project",
        )),
    }
}

/// `GET /api/v1/applications/{name}`: the app, then a read counted. With
/// `refresh` the app moves on first if it waits for one, and the answer is
/// the refreshed app, as Argo CD answers once the controller reconciled.
fn get(hub: &Arc<Hub>, request: &Request) -> Answer {
    let mut state = hub.state();
    let live = state.find(request)?;
    if let Some(kind) = request.query_param("refresh").filter(|r| !r.is_empty()) {
        live.refresh(if kind == "hard" { "hard" } else { "normal" });
    }
    let answer = json_response(200, live.json());
    live.read(Read::Get);
    Ok(answer)
}

/// `POST /api/v1/applications/{name}/sync` with an `ApplicationSyncRequest`.
/// Refused as Argo CD refuses: a deny window (403), a revision other than
/// the target on an auto-synced app, or an operation already running (400).
/// An app waiting for this sync moves on and the answer is the next state;
/// otherwise the answer is the app as it is.
fn sync(hub: &Arc<Hub>, request: &Request) -> Answer {
    let mut state = hub.state();
    let body = request.json();
    let live = state.find(request)?;
    let app = live.app();
    if !app.windows.can_sync {
        return Err(ApiError::new(7, "cannot sync: blocked by sync window"));
    }
    let revision = body["revision"].as_str().unwrap_or_default().to_owned();
    let target = &app.source.target_revision;
    if app.automated && !revision.is_empty() && revision != *target {
        let message = format!("Cannot sync to {revision}: auto-sync currently set to {target}");
        return Err(ApiError::new(9, &message));
    }
    if app.operation_in_progress() {
        return Err(ApiError::new(9, "another operation is already in progress"));
    }
    live.sync(&revision);
    let answer = json_response(200, live.json());
    state.sync_requests.push(body);
    Ok(answer)
}

/// `GET /api/v1/applications/{name}/syncwindows`.
fn windows(hub: &Arc<Hub>, request: &Request) -> Answer {
    let mut state = hub.state();
    let live = state.find(request)?;
    Ok(json_response(200, &live.app().windows.to_json()))
}

/// `GET /api/v1/applications/{name}/resource?kind=Rollout&group=argoproj.io
/// &version=v1alpha1&namespace=..&resourceName=..`: `{"manifest": "<json>"}`
/// for the app's Rollout; anything else is not part of the app (400).
fn resource(hub: &Arc<Hub>, request: &Request) -> Answer {
    let mut state = hub.state();
    let live = state.find(request)?;
    let query = |key: &str| request.query_param(key).unwrap_or_default();
    let (kind, group, name) = (query("kind"), query("group"), query("resourceName"));
    let found = live.app().rollout.clone().filter(|rollout| {
        let meta = &rollout["metadata"];
        kind == "Rollout"
            && group == "argoproj.io"
            && meta["name"] == name.as_str()
            && meta["namespace"] == query("namespace").as_str()
    });
    let Some(rollout) = found else {
        let app = request.param("name");
        let message = format!("{kind} {group} {name} not found as part of application {app}");
        return Err(ApiError::new(3, &message));
    };
    live.rollout_read();
    Ok(json_response(
        200,
        &json!({"manifest": rollout.to_string()}),
    ))
}

/// A JSON answer as grpc-gateway sends it.
fn json_response(status: u16, value: &Value) -> Response {
    Response::json(status, value)
}

/// A gRPC error as grpc-gateway v1 answers it.
#[derive(Debug)]
struct ApiError {
    /// The gRPC code.
    code: u16,
    message: String,
}

impl ApiError {
    fn new(code: u16, message: &str) -> Self {
        Self {
            code,
            message: message.to_owned(),
        }
    }

    /// grpc-gateway's mapping of gRPC codes to HTTP statuses.
    fn status(&self) -> u16 {
        match self.code {
            3 | 9 | 11 => 400,
            5 => 404,
            6 | 10 => 409,
            7 => 403,
            8 => 429,
            12 => 501,
            14 => 503,
            4 => 504,
            16 => 401,
            _ => 500,
        }
    }

    fn response(self) -> Response {
        let body = json!({
            "error": self.message,
            "code": self.code,
            "message": self.message,
            "details": [],
        });
        json_response(self.status(), &body)
    }
}
