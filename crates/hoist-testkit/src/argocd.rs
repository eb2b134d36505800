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
        self.follow_with(name, git_dir, branch, Follow::every_request());
    }

    /// Adds the app `name` following `branch` of the bare git repository
    /// `git_dir` as `follow` says: Synced and Healthy at the branch's tip
    /// now. With a [`Follow::path`], it plays Argo CD in a monorepo: at each
    /// poll (every [`Follow::poll_every`] requests to the stand-in, a
    /// `?refresh=` of the app, or [`ArgoCdStandIn::poll`]) an app at rest
    /// compares the branch's tip *then* — commits that landed between two
    /// polls are never compared on their own. A tip that changed nothing
    /// under the path only moves `status.sync.revision` (and
    /// `reconciledAt`): still Synced, no operation, `operationState` the
    /// last sync's. A tip that changed the path is compared (OutOfSync),
    /// auto-synced (Running, Succeeded), reconciled Progressing, Healthy,
    /// one step a read. An app still playing a sync is looked at again at
    /// the next poll.
    pub fn follow_with(&self, name: &str, git_dir: &std::path::Path, branch: &str, follow: Follow) {
        let tip = crate::peers::git(git_dir, &["rev-parse", branch]);
        let tip = tip.trim();
        let now = i64::try_from(crate::github::unix_now()).unwrap_or(0);
        let mut app = steps::deployed(name, tip, now);
        branch.clone_into(&mut app.source.target_revision);
        if let Some(path) = &follow.path {
            path.trim_end_matches('/').clone_into(&mut app.source.path);
        }
        self.add_app(name, Timeline::at(app, now));
        self.hub.state().followers.insert(
            name.to_owned(),
            Follower {
                git_dir: git_dir.to_owned(),
                branch: branch.to_owned(),
                seen: tip.to_owned(),
                follow,
                clock: now,
                syncs: 0,
                compared: vec![tip.to_owned()],
            },
        );
    }

    /// Argo CD's poll, now: every following app looks at its branch's tip
    /// (see [`ArgoCdStandIn::follow_with`]), and the streams are woken.
    pub fn poll(&self) {
        self.hub.state().follow_branches(Poll::All);
        self.server.bell().ring();
    }

    /// When (wall clock, for reports only) `name` last came to rest: its
    /// sync played through to its last state. A commit that changed
    /// nothing of the app does not move it.
    pub fn settled_at(&self, name: &str) -> Option<std::time::Instant> {
        self.hub.state().live(name).settled_at
    }

    /// How many times a following app started a sync (an operation).
    pub fn syncs_started(&self, name: &str) -> usize {
        self.hub.state().followers.get(name).map_or(0, |f| f.syncs)
    }

    /// The revisions a following app compared, in order (its first tip
    /// included): what Argo CD saw, never the commits between two polls.
    pub fn compared(&self, name: &str) -> Vec<String> {
        self.hub
            .state()
            .followers
            .get(name)
            .map(|f| f.compared.clone())
            .unwrap_or_default()
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
    /// Requests that looked at an app, for the followers' poll interval.
    requests: usize,
}

impl Follower {
    /// What the app plays now that its branch is at `tip`, from `app`,
    /// and whether the tip changed the app.
    fn next(&mut self, app: &model::App, tip: &str) -> (Timeline, bool) {
        let Some(path) = &self.follow.path else {
            self.syncs += 1;
            return (presets::stale_then_auto_sync(&self.seen, tip), true);
        };
        let now = i64::try_from(crate::github::unix_now()).unwrap_or(0);
        let now = now.max(self.clock + 5);
        let range = format!("{}..{tip}", self.seen);
        let changed = crate::peers::git(
            &self.git_dir,
            &[
                "diff",
                "--name-only",
                &range,
                "--",
                path.trim_end_matches('/'),
            ],
        );
        let mut app = app.clone();
        if changed.trim().is_empty() {
            // Nothing of this app changed: compared at the tip, still
            // Synced, no operation; the last sync's state stays.
            tip.clone_into(&mut app.sync.revision);
            app.reconciled_at = Some(now);
            return (Timeline::at(app, now), false);
        }
        self.syncs += 1;
        steps::compared(&mut app, tip, now);
        (presets::auto_synced(Timeline::at(app, now), tip), true)
    }
}

/// How an app follows its branch ([`ArgoCdStandIn::follow_with`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    /// The app's path in the repository (`apps/<name>`, `envs/dev/<name>`):
    /// a new tip that changed nothing under it starts no sync. `None`:
    /// every new tip changes the app, and the app replays
    /// [`presets::stale_then_auto_sync`] from the revision it ran, even
    /// mid-sync (what [`ArgoCdStandIn::follow`] does).
    pub path: Option<String>,
    /// Argo CD's poll interval (three minutes by default), counted in
    /// requests to the stand-in, never on a clock: the tip is looked at on
    /// every `n`-th request. `None`: only at a refresh or
    /// [`ArgoCdStandIn::poll`].
    pub poll_every: Option<usize>,
}

impl Follow {
    /// Every request looks at the tip; every new tip changes the app.
    pub fn every_request() -> Self {
        Self {
            path: None,
            poll_every: Some(1),
        }
    }

    /// The app at `path`, polled every `requests` requests.
    pub fn path(path: &str, requests: usize) -> Self {
        Self {
            path: Some(path.to_owned()),
            poll_every: Some(requests.max(1)),
        }
    }
}

/// An app following a branch of a GitOps repository.
struct Follower {
    git_dir: std::path::PathBuf,
    branch: String,
    /// The tip the app last compared.
    seen: String,
    follow: Follow,
    /// The stand-in clock: when the app's last state is.
    clock: model::Time,
    /// Syncs started.
    syncs: usize,
    /// Revisions compared, in order.
    compared: Vec<String>,
}

/// Which following apps look at their branch.
#[derive(Debug, Clone, Copy)]
enum Poll<'a> {
    /// A request: the apps whose poll interval is up, and `refreshed`
    /// (an app a `?refresh=` names).
    Request { refreshed: Option<&'a str> },
    /// Every following app.
    All,
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
    /// The following apps whose poll is due look at their branch's tip
    /// (see [`ArgoCdStandIn::follow_with`]).
    fn follow_branches(&mut self, poll: Poll<'_>) {
        if let Poll::Request { .. } = poll {
            self.requests += 1;
        }
        let requests = self.requests;
        for (name, follower) in &mut self.followers {
            let due = match poll {
                Poll::All => true,
                Poll::Request { refreshed } => {
                    refreshed == Some(name.as_str())
                        || follower
                            .follow
                            .poll_every
                            .is_some_and(|n| requests.is_multiple_of(n))
                }
            };
            let Some(live) = self.apps.get_mut(name) else {
                continue;
            };
            if !due || (follower.follow.path.is_some() && !live.settled()) {
                continue;
            }
            let tip = crate::peers::git(&follower.git_dir, &["rev-parse", &follower.branch]);
            let tip = tip.trim().to_owned();
            if tip == follower.seen {
                continue;
            }
            let (timeline, changed) = follower.next(live.app(), &tip);
            follower.clock = timeline.now();
            let settled_at = live.settled_at;
            *live = Live::new(timeline.named(name), live.resource_version() + 1);
            if !changed {
                // Health did not change: the app has been at rest since.
                live.settled_at = settled_at;
            }
            follower.compared.push(tip.clone());
            follower.seen = tip;
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
        let name = request.param("name").to_owned();
        let refresh = request.method == "GET"
            && request
                .query_param("refresh")
                .is_some_and(|r| !r.is_empty());
        // A refresh makes Argo CD compare the branch's tip at once.
        self.follow_branches(Poll::Request {
            refreshed: refresh.then_some(name.as_str()),
        });
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
