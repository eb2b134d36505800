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
//! Pull requests run between the repository's real branches, with their
//! issue side (labels, assignees, milestones) and review requests; the
//! repository's settings ([`GitHubStandIn::forbid_actions_pull_requests`],
//! [`GitHubStandIn::allow_auto_merge`]) and the caller's [`TokenKind`]
//! decide what GitHub would refuse. `POST /graphql` enables auto-merge. A
//! GitHub App ([`GitHubStandIn::enable_app`]) checks App JWTs and mints
//! installation tokens. Rate limits are scripted per request
//! ([`GitHubStandIn::secondary_rate_limit_next`],
//! [`GitHubStandIn::primary_rate_limit_next`]).
//!
//! The state lives in one [`Hub`] and the routes in one table
//! ([`routes`]), so more endpoints are a module and a few rows more.

mod app;
mod auth;
mod commits;
mod compare;
mod contents;
mod graphql;
mod issues;
mod objects;
mod pulls;
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
pub use app::{APP_PRIVATE_KEY_PEM, APP_PUBLIC_KEY_PEM, app_jwt, sign_app_jwt};
use auth::{Gate, Limit, Token};
pub use auth::{PAT_LOGIN, TokenKind};
pub use graphql::AutoMergeRequest;
use store::Store;
pub(crate) use store::iso8601;

/// A running GitHub API stand-in. Stops when dropped.
pub struct GitHubStandIn {
    server: StandIn,
    hub: Arc<Hub>,
}

impl GitHubStandIn {
    /// Serves `owner/repo`, backed by `remote`, to clients that present
    /// `token` (`Authorization: Bearer <token>` or `token <token>`), the
    /// workflow's `GITHUB_TOKEN` ([`TokenKind::GitHubActions`]; see
    /// [`GitHubStandIn::add_token`]).
    pub fn start(owner: &str, repo: &str, remote: GitRemote, token: &str) -> Self {
        let store = Store::new(remote.path());
        let mut state = State {
            // A new repository's settings: GitHub Actions may not create
            // pull requests, and auto-merge is off.
            settings: Settings {
                forbid_actions_pull_requests: true,
                allow_auto_merge: false,
            },
            ..State::default()
        };
        state
            .tokens
            .insert(token.to_owned(), Token::of(TokenKind::GitHubActions));
        let hub = Arc::new(Hub {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            remote,
            store,
            base: OnceLock::new(),
            reset: unix_now() + 3600,
            served: AtomicU64::new(0),
            state: Mutex::new(state),
        });
        let server = StandIn::start(routes(&hub));
        hub.base.set(server.url()).expect("set once");
        Self { server, hub }
    }

    /// Accepts `token` as a token of `kind` (or makes an accepted token that
    /// kind), with every permission.
    pub fn add_token(&self, token: &str, kind: TokenKind) {
        self.hub
            .state()
            .tokens
            .insert(token.to_owned(), Token::of(kind));
    }

    /// Narrows `token` to `permissions` (`[("contents", "write"),
    /// ("pull_requests", "read")]`), as a workflow's `permissions:` or a
    /// fine-grained token does: anything else is GitHub's 403 "Resource not
    /// accessible by integration" (by "personal access token" for a PAT).
    pub fn restrict_token(&self, token: &str, permissions: &[(&str, &str)]) {
        let granted = permissions
            .iter()
            .map(|(name, level)| ((*name).to_owned(), (*level).to_owned()))
            .collect();
        if let Some(known) = self.hub.state().tokens.get_mut(token) {
            known.permissions = Some(granted);
        }
    }

    /// The repository setting "Allow GitHub Actions to create and approve
    /// pull requests", off: the workflow's token gets 403 "GitHub Actions is
    /// not permitted to create or approve pull requests." when it opens
    /// one. Off, as in a new repository, unless a test turns it on.
    pub fn forbid_actions_pull_requests(&self, forbid: bool) {
        self.hub.state().settings.forbid_actions_pull_requests = forbid;
    }

    /// The repository setting "Allow auto-merge": when off,
    /// `enablePullRequestAutoMerge` answers "Auto merge is not allowed for
    /// this repository". Off, as in a new repository, unless a test turns
    /// it on.
    pub fn allow_auto_merge(&self, allow: bool) {
        self.hub.state().settings.allow_auto_merge = allow;
    }

    /// Makes `login` a collaborator: assignable, and asked for reviews.
    /// [`PAT_LOGIN`] always is.
    pub fn add_collaborator(&self, login: &str) {
        self.hub.state().collaborators.insert(login.to_owned());
    }

    /// Adds the organisation team `slug` with access to the repository.
    pub fn add_team(&self, slug: &str) {
        self.hub.state().teams.insert(slug.to_ascii_lowercase());
    }

    /// Adds an open milestone titled `title`; its number.
    pub fn add_milestone(&self, title: &str) -> u64 {
        self.hub.state().add_milestone(title, &self.hub.owner)
    }

    /// Installs a GitHub App `app_id` whose JWTs verify with
    /// `public_key_pem` ([`APP_PUBLIC_KEY_PEM`] matches
    /// [`APP_PRIVATE_KEY_PEM`]); the installation's id. Its installation
    /// tokens may read and write contents, issues and pull requests, read
    /// metadata, statuses and organisation members.
    pub fn enable_app(&self, app_id: u64, public_key_pem: &str) -> u64 {
        let app = app::App::new(app_id, public_key_pem);
        let installation = app.installation;
        self.hub.state().app = Some(app);
        installation
    }

    /// The App's client id, which a JWT's `iss` may carry instead of the
    /// app id.
    pub fn app_client_id(&self) -> Option<String> {
        self.hub.state().app.as_ref().map(app::App::client_id)
    }

    /// Sets what the App's installation may do (`[("contents", "write")]`).
    pub fn set_app_permissions(&self, permissions: &[(&str, &str)]) {
        if let Some(app) = self.hub.state().app.as_mut() {
            app.permissions = permissions
                .iter()
                .map(|(name, level)| ((*name).to_owned(), (*level).to_owned()))
                .collect();
        }
    }

    /// Every installation token minted so far, oldest first.
    pub fn minted_tokens(&self) -> Vec<String> {
        self.hub.state().minted.clone()
    }

    /// The open pull requests, oldest first.
    pub fn open_pulls(&self) -> Vec<OpenPull> {
        self.hub
            .state()
            .pulls
            .iter()
            .filter(|p| p.open)
            .map(|p| OpenPull {
                number: p.number,
                title: p.title.clone(),
                head: p.head.clone(),
                head_sha: p.head_sha.clone(),
                base: p.base.clone(),
            })
            .collect()
    }

    /// What kind of token opened pull request `number`.
    pub fn pull_created_by(&self, number: u64) -> Option<TokenKind> {
        let state = self.hub.state();
        state
            .pulls
            .iter()
            .find(|p| p.number == number)
            .map(|p| p.kind)
    }

    /// Whether pull request `number` starts workflows, as on GitHub: what
    /// the workflow's `GITHUB_TOKEN` creates does not.
    pub fn pull_triggers_workflows(&self, number: u64) -> bool {
        self.pull_created_by(number)
            .is_some_and(|kind| kind != TokenKind::GitHubActions)
    }

    /// Every `enablePullRequestAutoMerge` call, refused ones included.
    pub fn auto_merge_requests(&self) -> Vec<AutoMergeRequest> {
        self.hub.state().auto_merges.clone()
    }

    /// Answers each of the next `count` authenticated requests with
    /// GitHub's secondary rate limit: 403 "You have exceeded a secondary
    /// rate limit. …" and `retry-after: retry_after_secs`.
    pub fn secondary_rate_limit_next(&self, count: usize, retry_after_secs: u64) {
        let limit = Limit::Secondary {
            retry_after: retry_after_secs,
        };
        self.hub
            .state()
            .limits
            .extend(std::iter::repeat_n(limit, count));
    }

    /// Answers each of the next `count` authenticated requests with
    /// GitHub's primary rate limit: `status` (403 or 429) "API rate limit
    /// exceeded for …", `x-ratelimit-remaining: 0` and `x-ratelimit-reset`
    /// `reset_in_secs` from now (on `/graphql`: 200 with a `RATE_LIMITED`
    /// error).
    pub fn primary_rate_limit_next(&self, count: usize, status: u16, reset_in_secs: u64) {
        let limit = Limit::Primary {
            status,
            reset_in: reset_in_secs,
        };
        self.hub
            .state()
            .limits
            .extend(std::iter::repeat_n(limit, count));
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

/// The repository's id, wherever GitHub shows it.
const REPO_ID: u64 = 1_296_269;

/// A route as the hub answers it.
struct Route {
    /// Its page under [`DOCS`], whole.
    doc: String,
    gate: Gate,
    /// The permission a restricted token needs: `"contents:write"`,
    /// `"issues|pull_requests:read"` (either); `""`, none.
    need: &'static str,
    handler: Handler,
}

/// Every route, in one place: method, pattern, the permission it needs, the
/// page documenting it (under [`DOCS`]), handler. Repository routes take a
/// token, `/app/…` and `…/installation` an App JWT. Unmatched requests get
/// GitHub's 404, after the credentials are checked as GitHub does.
fn routes(hub: &Arc<Hub>) -> Router {
    const REPO: &str = "/repos/{owner}/{repo}";
    const ISSUES_READ: &str = "issues|pull_requests:read";
    const ISSUES_WRITE: &str = "issues|pull_requests:write";
    #[rustfmt::skip]
    let table: [(&str, &str, &str, &str, Handler); 38] = [
        ("GET",    "",                   "metadata:read",  "repos/repos#get-a-repository",           contents::repository),
        ("GET",    "/contents",          "contents:read",  "repos/contents#get-repository-content",  contents::get),
        ("GET",    "/contents/{path*}",  "contents:read",  "repos/contents#get-repository-content",  contents::get),
        ("GET",    "/git/ref/{ref*}",    "contents:read",  "git/refs#get-a-reference",               refs::get),
        ("POST",   "/git/refs",          "contents:write", "git/refs#create-a-reference",            refs::create),
        ("PATCH",  "/git/refs/{ref*}",   "contents:write", "git/refs#update-a-reference",            refs::update),
        ("DELETE", "/git/refs/{ref*}",   "contents:write", "git/refs#delete-a-reference",            refs::delete),
        ("POST",   "/git/blobs",         "contents:write", "git/blobs#create-a-blob",                objects::create_blob),
        ("GET",    "/git/blobs/{sha}",   "contents:read",  "git/blobs#get-a-blob",                   objects::get_blob),
        ("POST",   "/git/trees",         "contents:write", "git/trees#create-a-tree",                objects::create_tree),
        ("GET",    "/git/trees/{sha}",   "contents:read",  "git/trees#get-a-tree",                   objects::get_tree),
        ("POST",   "/git/commits",       "contents:write", "git/commits#create-a-commit",            objects::create_commit),
        ("GET",    "/git/commits/{sha}", "contents:read",  "git/commits#get-a-commit-object",        objects::get_commit),
        ("GET",    "/commits/{ref}/statuses", "statuses:read", "commits/statuses#list-commit-statuses-for-a-reference", statuses::list),
        ("GET",    "/commits/{ref}/status",   "statuses:read", "commits/statuses#get-the-combined-status-for-a-specific-reference", statuses::combined),
        ("POST",   "/statuses/{sha}",         "statuses:write", "commits/statuses#create-a-commit-status", statuses::create),
        ("GET",    "/commits",                "contents:read", "commits/commits#list-commits",            commits::list),
        ("GET",    "/compare/{basehead*}",    "contents:read", "commits/commits#compare-two-commits",     compare::compare),
        ("POST",   "/pulls",                  "pull_requests:write", "pulls/pulls#create-a-pull-request",  pulls::create),
        ("GET",    "/pulls",                  "pull_requests:read",  "pulls/pulls#list-pull-requests",     pulls::list),
        ("GET",    "/pulls/{number}",         "pull_requests:read",  "pulls/pulls#get-a-pull-request",     pulls::get),
        ("PATCH",  "/pulls/{number}",         "pull_requests:write", "pulls/pulls#update-a-pull-request",  pulls::update),
        ("POST",   "/pulls/{number}/requested_reviewers", "pull_requests:write", "pulls/review-requests#request-reviewers-for-a-pull-request", pulls::request_reviewers),
        ("GET",    "/pulls/{number}/requested_reviewers", "pull_requests:read",  "pulls/review-requests#get-all-requested-reviewers-for-a-pull-request", pulls::requested_reviewers),
        ("GET",    "/issues/{number}/labels",        ISSUES_READ,  "issues/labels#list-labels-for-an-issue",   issues::list_labels),
        ("POST",   "/issues/{number}/labels",        ISSUES_WRITE, "issues/labels#add-labels-to-an-issue",     issues::add),
        ("PUT",    "/issues/{number}/labels",        ISSUES_WRITE, "issues/labels#set-labels-for-an-issue",    issues::set),
        ("DELETE", "/issues/{number}/labels/{name*}", ISSUES_WRITE, "issues/labels#remove-a-label-from-an-issue", issues::remove),
        ("POST",   "/issues/{number}/assignees",     ISSUES_WRITE, "issues/assignees#add-assignees-to-an-issue", issues::add_assignees),
        ("PATCH",  "/issues/{number}",               ISSUES_WRITE, "issues/issues#update-an-issue",            issues::update),
        ("POST",   "/milestones",                    ISSUES_WRITE, "issues/milestones#create-a-milestone",     issues::create_milestone),
        ("GET",    "/milestones",                    ISSUES_READ,  "issues/milestones#list-milestones",        issues::list_milestones),
        ("GET",    "/milestones/{number}",           ISSUES_READ,  "issues/milestones#get-a-milestone",        issues::get_milestone),
        ("GET",    "/installation",                  "",  "apps/apps#get-a-repository-installation-for-the-authenticated-app", app::for_repository),
        ("GET",    "!/app/installations/{installation_id}", "", "apps/apps#get-an-installation-for-the-authenticated-app", app::get),
        ("POST",   "!/app/installations/{installation_id}/access_tokens", "", "apps/apps#create-an-installation-access-token-for-an-app", app::mint),
        ("POST",   "!/graphql",                      "",  "graphql",                                   graphql::graphql),
        ("GET",    "!/rate_limit",                   "",  "rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user", rate_limit),
    ];
    let router = table.into_iter().fold(
        Router::new(),
        |router, (method, path, need, doc, handler)| {
            let hub = Arc::clone(hub);
            let (pattern, gate) = match path.strip_prefix('!') {
                Some("/graphql") => ("/graphql".to_owned(), Gate::GraphQl),
                Some(path) if path.starts_with("/app/") => (path.to_owned(), Gate::App),
                Some(path) => (path.to_owned(), Gate::Any),
                None if path == "/installation" => (format!("{REPO}{path}"), Gate::App),
                None => (format!("{REPO}{path}"), Gate::Repo),
            };
            let doc = if doc == "graphql" {
                "https://docs.github.com/graphql".to_owned()
            } else {
                format!("{DOCS}/{doc}")
            };
            let route = Route {
                doc,
                gate,
                need,
                handler,
            };
            router.route(method, &pattern, move |request| hub.answer(request, &route))
        },
    );
    ["GET", "POST", "PATCH", "PUT", "DELETE"]
        .into_iter()
        .fold(router, |router, method| {
            let hub = Arc::clone(hub);
            let route = Route {
                doc: DOCS.to_owned(),
                gate: Gate::Any,
                need: "",
                handler: |_, _| Err(ApiError::not_found()),
            };
            router.route(method, "/{rest*}", move |request| {
                hub.answer(request, &route)
            })
        })
}

/// `GET /rate_limit`: where the window stands.
fn rate_limit(hub: &Hub, _request: &Request) -> Answer {
    let used = hub.served.load(Ordering::Relaxed).min(5000);
    let core = json!({"limit": 5000, "used": used, "remaining": 5000 - used, "reset": hub.reset});
    Ok(json_response(
        200,
        &json!({"resources": {"core": core, "graphql": core}, "rate": core}),
    ))
}

/// The stand-in's state, shared by every handler.
struct Hub {
    owner: String,
    repo: String,
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

/// Repository settings a test switches.
#[derive(Debug, Default)]
struct Settings {
    forbid_actions_pull_requests: bool,
    allow_auto_merge: bool,
}

#[derive(Default)]
struct State {
    /// Protected branch names.
    protected: BTreeSet<String>,
    /// Commits created with GitHub's signature.
    signed: BTreeSet<String>,
    before_ref_update: VecDeque<RefHook>,
    /// Scripted errors: method, status, message.
    failures: VecDeque<(String, u16, String)>,
    /// Scripted rate limits, one per request.
    limits: VecDeque<Limit>,
    /// Commit statuses, in the order they were made.
    statuses: Vec<statuses::Status>,
    /// How often each sha's statuses were read.
    status_reads: BTreeMap<String, usize>,
    /// Accepted tokens.
    tokens: BTreeMap<String, Token>,
    settings: Settings,
    pulls: Vec<pulls::Pull>,
    labels: Vec<issues::Label>,
    milestones: Vec<issues::Milestone>,
    collaborators: BTreeSet<String>,
    teams: BTreeSet<String>,
    app: Option<app::App>,
    /// Installation tokens minted, oldest first.
    minted: Vec<String>,
    auto_merges: Vec<AutoMergeRequest>,
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

    /// Checks the credentials, the repository, the scripts of rate limits
    /// and failures and the permission, runs the handler, and adds the
    /// headers GitHub puts on every answer.
    fn answer(&self, request: &Request, route: &Route) -> Response {
        let (answer, rate) = match self
            .admit(request, route.gate, route.need)
            .and_then(|()| (route.handler)(self, request))
        {
            Ok(response) => (response, Rate::Counted),
            Err(error) => {
                let rate = error.rate;
                (error.response(&route.doc), rate)
            }
        };
        let served = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        let mut response = answer
            .header("x-github-request-id", &request_id(served))
            .header("x-github-api-version-selected", "2022-11-28")
            .header("x-github-media-type", "github.v3; format=json");
        let resource = if route.gate == Gate::GraphQl {
            "graphql"
        } else {
            "core"
        };
        if matches!(rate, Rate::Counted) {
            response = response
                .header("x-ratelimit-limit", "5000")
                .header(
                    "x-ratelimit-remaining",
                    &(5000 - served.min(5000)).to_string(),
                )
                .header("x-ratelimit-used", &served.to_string())
                .header("x-ratelimit-reset", &self.reset.to_string())
                .header("x-ratelimit-resource", resource);
        }
        if response.status == 401 {
            response = response.header("www-authenticate", "Bearer realm=\"GitHub\"");
        }
        response
    }
}

/// Whether an answer gets the usual `x-ratelimit-*` headers.
#[derive(Debug, Clone, Copy)]
enum Rate {
    /// The request counted; the usual headers.
    Counted,
    /// A secondary limit (none), or the primary one (its own).
    Omitted,
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
    /// More headers (`retry-after`, `x-accepted-github-permissions`).
    headers: Vec<(&'static str, String)>,
    rate: Rate,
    /// A whole body instead of GitHub's error object (GraphQL's).
    body: Option<Box<Value>>,
}

impl ApiError {
    fn new(status: u16, message: &str) -> Self {
        Self {
            status,
            message: message.to_owned(),
            documentation_url: None,
            errors: None,
            headers: Vec::new(),
            rate: Rate::Counted,
            body: None,
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
        let body = self.body.map_or(body, |whole| *whole);
        self.headers.iter().fold(
            json_response(self.status, &body),
            |response, (name, value)| response.header(name, value),
        )
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

/// An open pull request, as [`GitHubStandIn::open_pulls`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPull {
    /// Its number.
    pub number: u64,
    /// Its title.
    pub title: String,
    /// The head branch.
    pub head: String,
    /// The head branch's tip.
    pub head_sha: String,
    /// The base branch.
    pub base: String,
}
