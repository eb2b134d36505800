//! The GitHub stand-in's pull requests and their issue side: opened between
//! the real repository's branches, refused as GitHub refuses them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use hoist_testkit::github::{PAT_LOGIN, TokenKind};
use hoist_testkit::peers::git;
use hoist_testkit::{GitHubStandIn, GitRemote, block_on};

const TOKEN: &str = "ghs_standInToken";
const PAT: &str = "github_pat_standIn";
const REPO: &str = "/repos/acme/deploys";
const DOCS: &str = "https://docs.github.com/rest";

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

fn call_as(
    github: &GitHubStandIn,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Answer {
    block_on(async {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = hoist_testkit::raw_client()
            .request(method, format!("{}{path}", github.url()))
            .header("authorization", format!("Bearer {token}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    })
}

fn call(github: &GitHubStandIn, method: &str, path: &str, body: Option<Value>) -> Answer {
    call_as(github, TOKEN, method, path, body)
}

fn github() -> GitHubStandIn {
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "tag: v1\n")]);
    let github = GitHubStandIn::start("acme", "deploys", remote, TOKEN);
    github.add_token(PAT, TokenKind::Pat);
    // These tests open pull requests with the workflow's token, which a
    // repository must allow (a new one does not).
    github.forbid_actions_pull_requests(false);
    github
}

/// Creates `name` from `main` through the refs API and commits one change
/// on it straight into the repository; the new tip.
fn branch(github: &GitHubStandIn, name: &str, tag: &str) -> String {
    let main = github.remote().head("main");
    let created = call(
        github,
        "POST",
        &format!("{REPO}/git/refs"),
        Some(json!({"ref": format!("refs/heads/{name}"), "sha": main})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    github.remote().commit_file(
        name,
        "apps/pay/values.yaml",
        &format!("tag: {tag}\n"),
        &format!("pay {tag}"),
    )
}

fn open_pull(github: &GitHubStandIn, head: &str, base: &str) -> Answer {
    call(
        github,
        "POST",
        &format!("{REPO}/pulls"),
        Some(
            json!({"title": format!("Promote {head}"), "head": head, "base": base, "body": "Automated."}),
        ),
    )
}

fn validation_failed(errors: Value, doc: &str) -> Value {
    json!({"message": "Validation Failed", "errors": errors, "documentation_url": format!("{DOCS}/{doc}"), "status": "422"})
}

#[test]
fn a_pull_request_opens_on_a_pushed_branch_and_follows_its_tip() {
    let github = github();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    git(dir, &["clone", "--quiet", &github.remote().url(), "."]);
    git(dir, &["checkout", "--quiet", "-b", "promote/pay-v2"]);
    std::fs::write(dir.join("apps/pay/values.yaml"), "tag: v2\n").unwrap();
    git(dir, &["commit", "--quiet", "-am", "pay v2"]);
    git(dir, &["push", "--quiet", "origin", "promote/pay-v2"]);
    let pushed = github.remote().head("promote/pay-v2");
    let main = github.remote().head("main");

    let created = call(
        &github,
        "POST",
        &format!("{REPO}/pulls"),
        Some(json!({
            "title": "Promote pay v2", "head": "acme:promote/pay-v2", "base": "main",
            "body": "Automated promotion.", "draft": false, "maintainer_can_modify": false,
        })),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let pull = &created.body;
    let url = format!("{}{REPO}/pulls/1", github.url());
    assert_eq!(created.headers["location"].to_str().unwrap(), url);
    assert_eq!(pull["url"], url.as_str());
    assert_eq!(pull["number"], 1);
    assert_eq!(pull["state"], "open");
    assert_eq!(pull["title"], "Promote pay v2");
    assert_eq!(pull["body"], "Automated promotion.");
    assert_eq!(
        pull["html_url"],
        format!("{}/acme/deploys/pull/1", github.url()).as_str()
    );
    assert_eq!(pull["head"]["ref"], "promote/pay-v2");
    assert_eq!(pull["head"]["label"], "acme:promote/pay-v2");
    assert_eq!(pull["head"]["sha"], pushed.as_str());
    assert_eq!(pull["head"]["repo"]["full_name"], "acme/deploys");
    assert_eq!(
        (&pull["base"]["ref"], &pull["base"]["sha"]),
        (&json!("main"), &json!(main))
    );
    assert_eq!(pull["user"]["login"], "github-actions[bot]");
    assert_eq!(pull["user"]["type"], "Bot");
    for empty in [
        "labels",
        "assignees",
        "requested_reviewers",
        "requested_teams",
    ] {
        assert_eq!(pull[empty], json!([]), "{empty}");
    }
    assert_eq!(
        (&pull["milestone"], &pull["auto_merge"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        (&pull["draft"], &pull["merged"]),
        (&json!(false), &json!(false))
    );
    assert_eq!(
        (&pull["mergeable"], &pull["mergeable_state"]),
        (&json!(true), &json!("clean"))
    );
    assert_eq!(pull["maintainer_can_modify"], false);
    assert_eq!(
        (&pull["commits"], &pull["changed_files"]),
        (&json!(1), &json!(1))
    );
    assert!(pull["node_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(pull["created_at"], pull["updated_at"]);
    assert_eq!(github.pull_created_by(1), Some(TokenKind::GitHubActions));
    assert!(
        !github.pull_triggers_workflows(1),
        "GITHUB_TOKEN's pull requests start no workflow"
    );

    let moved = github.remote().commit_file(
        "promote/pay-v2",
        "apps/pay/values.yaml",
        "tag: v3\n",
        "pay v3",
    );
    let read = call(&github, "GET", &format!("{REPO}/pulls/1"), None);
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["head"]["sha"], moved.as_str());
    assert_eq!(read.body["commits"], 2);
}

#[test]
fn a_second_pull_request_for_the_same_branches_is_refused() {
    let github = github();
    branch(&github, "promote/pay", "v2");
    assert_eq!(open_pull(&github, "promote/pay", "main").status, 201);
    for head in ["promote/pay", "acme:promote/pay"] {
        let again = open_pull(&github, head, "main");
        assert_eq!(again.status, 422);
        assert_eq!(
            again.body,
            validation_failed(
                json!([{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for acme:promote/pay."}]),
                "pulls/pulls#create-a-pull-request"
            )
        );
    }
    let closed = call(
        &github,
        "PATCH",
        &format!("{REPO}/pulls/1"),
        Some(json!({"state": "closed"})),
    );
    assert_eq!(closed.status, 200, "{}", closed.body);
    let reopened = open_pull(&github, "promote/pay", "main");
    assert_eq!(
        (reopened.status, reopened.body["number"].as_u64()),
        (201, Some(2))
    );
    let back = call(
        &github,
        "PATCH",
        &format!("{REPO}/pulls/1"),
        Some(json!({"state": "open"})),
    );
    assert_eq!(
        back.status, 422,
        "the first cannot reopen beside the second"
    );
    assert_eq!(
        back.body["errors"][0]["message"],
        "A pull request already exists for acme:promote/pay."
    );
}

#[test]
fn no_commits_and_missing_branches_are_refused() {
    let github = github();
    let main = github.remote().head("main");
    let same = call(
        &github,
        "POST",
        &format!("{REPO}/git/refs"),
        Some(json!({"ref": "refs/heads/promote/nothing", "sha": main})),
    );
    assert_eq!(same.status, 201);
    let empty = open_pull(&github, "promote/nothing", "main");
    assert_eq!(empty.status, 422);
    assert_eq!(
        empty.body["errors"],
        json!([{"resource": "PullRequest", "code": "custom", "message": "No commits between main and promote/nothing"}])
    );

    let missing = open_pull(&github, "promote/gone", "main");
    assert_eq!(
        missing.body,
        validation_failed(
            json!([{"resource": "PullRequest", "field": "head", "code": "invalid"}]),
            "pulls/pulls#create-a-pull-request"
        )
    );
    branch(&github, "promote/pay", "v2");
    let no_base = open_pull(&github, "promote/pay", "release");
    assert_eq!(
        no_base.body["errors"],
        json!([{"resource": "PullRequest", "field": "base", "code": "invalid"}])
    );
    let fork = open_pull(&github, "someone:promote/pay", "main");
    assert_eq!(fork.body["errors"][0]["field"], "head");
    let untitled = call(
        &github,
        "POST",
        &format!("{REPO}/pulls"),
        Some(json!({"head": "promote/pay", "base": "main"})),
    );
    assert_eq!(untitled.status, 422);
    assert_eq!(
        untitled.body["message"],
        "Invalid request.\n\n\"title\" wasn't supplied."
    );
    let list = call(&github, "GET", &format!("{REPO}/pulls?state=all"), None);
    assert_eq!(list.body, json!([]), "nothing was opened");
}

#[test]
fn lists_filter_by_head_base_and_state() {
    let github = github();
    branch(&github, "promote/pay", "v2");
    branch(&github, "promote/web", "w2");
    branch(&github, "release", "r1");
    assert_eq!(open_pull(&github, "promote/pay", "main").status, 201);
    assert_eq!(open_pull(&github, "promote/web", "main").status, 201);

    let numbers = |query: &str| -> Vec<u64> {
        let answer = call(&github, "GET", &format!("{REPO}/pulls{query}"), None);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(numbers(""), [2, 1], "open, newest first");
    assert_eq!(numbers("?head=acme:promote/pay&base=main&state=open"), [1]);
    assert_eq!(numbers("?head=ACME%3Apromote%2Fweb"), [2]);
    assert_eq!(
        numbers("?head=promote/pay"),
        [2, 1],
        "a head without its owner is ignored, as on GitHub"
    );
    assert_eq!(numbers("?head=other:promote/pay"), Vec::<u64>::new());
    assert_eq!(numbers("?base=release"), Vec::<u64>::new());
    assert_eq!(numbers("?direction=asc"), [1, 2]);
    assert_eq!(numbers("?per_page=1&page=2"), [1]);

    let closed = call(
        &github,
        "PATCH",
        &format!("{REPO}/pulls/2"),
        Some(json!({"state": "closed"})),
    );
    assert_eq!(closed.body["state"], "closed");
    assert!(closed.body["closed_at"].is_string());
    assert_eq!(numbers(""), [1]);
    assert_eq!(numbers("?state=closed"), [2]);
    assert_eq!(numbers("?state=all&head=acme:promote/web"), [2]);
    let simple = call(&github, "GET", &format!("{REPO}/pulls"), None);
    assert!(
        simple.body[0].get("mergeable").is_none(),
        "lists carry the simple object"
    );
}

#[test]
fn updates_change_title_body_and_base() {
    let github = github();
    branch(&github, "promote/pay", "v2");
    branch(&github, "release", "r1");
    assert_eq!(open_pull(&github, "promote/pay", "main").status, 201);
    let path = format!("{REPO}/pulls/1");
    let updated = call(
        &github,
        "PATCH",
        &path,
        Some(json!({"title": "Promote pay v2 (again)", "body": null, "base": "release"})),
    );
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["title"], "Promote pay v2 (again)");
    assert_eq!(updated.body["body"], Value::Null);
    assert_eq!(updated.body["base"]["ref"], "release");
    assert_eq!(
        updated.body["base"]["sha"],
        github.remote().head("release").as_str()
    );
    assert_eq!(
        updated.body["mergeable"], false,
        "both branches changed the same line"
    );
    assert_eq!(updated.body["mergeable_state"], "dirty");

    let nowhere = call(&github, "PATCH", &path, Some(json!({"base": "nowhere"})));
    assert_eq!(
        nowhere.body,
        validation_failed(
            json!([{"resource": "PullRequest", "field": "base", "code": "invalid", "message": "Proposed base branch 'nowhere' was not found"}]),
            "pulls/pulls#update-a-pull-request"
        )
    );
    let bad = call(&github, "PATCH", &path, Some(json!({"state": "merged"})));
    assert_eq!(bad.status, 422);
    let unknown = call(
        &github,
        "PATCH",
        &format!("{REPO}/pulls/9"),
        Some(json!({"title": "x"})),
    );
    assert_eq!(
        (unknown.status, unknown.body["message"].as_str()),
        (404, Some("Not Found"))
    );
}

#[test]
fn labels_add_up_and_unknown_ones_are_created() {
    let github = github();
    branch(&github, "promote/pay", "v2");
    assert_eq!(open_pull(&github, "promote/pay", "main").status, 201);
    let labels = format!("{REPO}/issues/1/labels");
    let names = |answer: &Answer| -> Vec<String> {
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = call(
        &github,
        "POST",
        &labels,
        Some(json!({"labels": ["promotion"]})),
    );
    assert_eq!(names(&first), ["promotion"]);
    assert_eq!(first.body[0]["color"], "ededed");
    assert_eq!(first.body[0]["default"], false);
    let more = call(
        &github,
        "POST",
        &labels,
        Some(json!({"labels": ["env:prod", "Promotion", {"name": "auto"}]})),
    );
    assert_eq!(
        names(&more),
        ["promotion", "env:prod", "auto"],
        "additive, and case-insensitive"
    );
    assert_eq!(
        names(&call(&github, "GET", &labels, None)),
        ["promotion", "env:prod", "auto"]
    );
    let pull = call(&github, "GET", &format!("{REPO}/pulls/1"), None);
    assert_eq!(pull.body["labels"].as_array().unwrap().len(), 3);

    let removed = call(&github, "DELETE", &format!("{labels}/env:prod"), None);
    assert_eq!(names(&removed), ["promotion", "auto"]);
    let absent = call(&github, "DELETE", &format!("{labels}/env:prod"), None);
    assert_eq!(
        (absent.status, absent.body["message"].as_str()),
        (404, Some("Label does not exist"))
    );
    let set = call(
        &github,
        "PUT",
        &labels,
        Some(json!({"labels": ["release"]})),
    );
    assert_eq!(names(&set), ["release"]);
    let missing = call(
        &github,
        "POST",
        &format!("{REPO}/issues/7/labels"),
        Some(json!({"labels": ["x"]})),
    );
    assert_eq!(missing.status, 404);
}

#[test]
fn assignees_and_milestones_follow_github_s_rules() {
    let github = github();
    github.add_collaborator("alice");
    branch(&github, "promote/pay", "v2");
    assert_eq!(open_pull(&github, "promote/pay", "main").status, 201);
    let assigned = call(
        &github,
        "POST",
        &format!("{REPO}/issues/1/assignees"),
        Some(json!({"assignees": ["alice", "mallory"]})),
    );
    assert_eq!(assigned.status, 201, "{}", assigned.body);
    let logins: Vec<&str> = assigned.body["assignees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert_eq!(
        logins,
        ["alice"],
        "who cannot be assigned is dropped without a word"
    );
    assert_eq!(assigned.body["assignee"]["login"], "alice");
    assert!(
        assigned.body["pull_request"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/pulls/1")
    );

    let issue = format!("{REPO}/issues/1");
    let unknown = call(&github, "PATCH", &issue, Some(json!({"milestone": 42})));
    assert_eq!(
        unknown.body,
        validation_failed(
            json!([{"value": 42, "resource": "Issue", "field": "milestone", "code": "invalid"}]),
            "issues/issues#update-an-issue"
        )
    );
    let sprint = github.add_milestone("Sprint 1");
    let created = call(
        &github,
        "POST",
        &format!("{REPO}/milestones"),
        Some(json!({"title": "Q3 promotions", "description": "prod"})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!((sprint, created.body["number"].as_u64()), (1, Some(2)));
    assert_eq!(created.body["state"], "open");
    let taken = call(
        &github,
        "POST",
        &format!("{REPO}/milestones"),
        Some(json!({"title": "Q3 promotions"})),
    );
    assert_eq!(
        taken.body["errors"],
        json!([{"resource": "Milestone", "code": "already_exists", "field": "title"}])
    );

    let set = call(&github, "PATCH", &issue, Some(json!({"milestone": 2})));
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["milestone"]["title"], "Q3 promotions");
    let pull = call(&github, "GET", &format!("{REPO}/pulls/1"), None);
    assert_eq!(pull.body["milestone"]["number"], 2);
    assert_eq!(pull.body["milestone"]["open_issues"], 1);
    let stranger = call(
        &github,
        "PATCH",
        &issue,
        Some(json!({"assignees": ["mallory"]})),
    );
    assert_eq!(stranger.body["errors"][0]["field"], "assignees");
    let milestones = call(&github, "GET", &format!("{REPO}/milestones"), None);
    assert_eq!(milestones.body.as_array().unwrap().len(), 2);
}

#[test]
fn reviewers_must_be_collaborators_and_teams_need_organisation_access() {
    let github = github();
    github.add_collaborator("alice");
    github.add_team("platform");
    branch(&github, "promote/pay", "v2");
    assert_eq!(open_pull(&github, "promote/pay", "main").status, 201);
    let path = format!("{REPO}/pulls/1/requested_reviewers");
    let doc = format!("{DOCS}/pulls/review-requests#request-reviewers-for-a-pull-request");

    let stranger = call(
        &github,
        "POST",
        &path,
        Some(json!({"reviewers": ["mallory"]})),
    );
    assert_eq!(
        stranger.body,
        json!({
            "message": "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the acme/deploys repository.",
            "documentation_url": doc, "status": "422",
        })
    );
    let asked = call(
        &github,
        "POST",
        &path,
        Some(json!({"reviewers": ["alice"]})),
    );
    assert_eq!(asked.status, 201, "{}", asked.body);
    assert_eq!(asked.body["requested_reviewers"][0]["login"], "alice");

    let team = call(
        &github,
        "POST",
        &path,
        Some(json!({"team_reviewers": ["platform"]})),
    );
    assert_eq!(
        team.status, 422,
        "GITHUB_TOKEN cannot see the organisation's teams"
    );
    assert_eq!(team.body["message"], "Validation Failed");
    let error = team.body["errors"][0].as_str().unwrap();
    assert!(
        error.starts_with("Could not resolve to a node with the global id of '"),
        "{error}"
    );

    let with_pat = call_as(
        &github,
        PAT,
        "POST",
        &path,
        Some(json!({"team_reviewers": ["platform"]})),
    );
    assert_eq!(with_pat.status, 201, "{}", with_pat.body);
    assert_eq!(with_pat.body["requested_teams"][0]["slug"], "platform");
    let unknown_team = call_as(
        &github,
        PAT,
        "POST",
        &path,
        Some(json!({"team_reviewers": ["nobody"]})),
    );
    assert!(
        unknown_team.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Reviews may only be requested from collaborators.")
    );

    let listed = call(&github, "GET", &path, None);
    assert_eq!(listed.body["users"][0]["login"], "alice");
    assert_eq!(listed.body["teams"][0]["slug"], "platform");

    branch(&github, "promote/web", "w2");
    let by_pat = call_as(
        &github,
        PAT,
        "POST",
        &format!("{REPO}/pulls"),
        Some(json!({"title": "t", "head": "promote/web", "base": "main"})),
    );
    assert_eq!(by_pat.body["user"]["login"], PAT_LOGIN);
    let own = call_as(
        &github,
        PAT,
        "POST",
        &format!("{REPO}/pulls/2/requested_reviewers"),
        Some(json!({"reviewers": [PAT_LOGIN]})),
    );
    assert_eq!(
        own.body["message"],
        "Review cannot be requested from pull request author."
    );
}

#[test]
fn a_new_repository_does_not_let_actions_open_pull_requests() {
    // As on GitHub: "Allow GitHub Actions to create and approve pull
    // requests" starts off in a new repository.
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "tag: v1\n")]);
    let github = GitHubStandIn::start("acme", "deploys", remote, TOKEN);
    branch(&github, "promote/pay", "v2");
    let refused = open_pull(&github, "promote/pay", "main");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.body["message"],
        "GitHub Actions is not permitted to create or approve pull requests."
    );
}

#[test]
fn actions_may_be_forbidden_to_open_pull_requests() {
    let github = github();
    github.forbid_actions_pull_requests(true);
    branch(&github, "promote/pay", "v2");
    let refused = open_pull(&github, "promote/pay", "main");
    assert_eq!(
        refused.body,
        json!({
            "message": "GitHub Actions is not permitted to create or approve pull requests.",
            "documentation_url": format!("{DOCS}/pulls/pulls#create-a-pull-request"),
            "status": "403",
        })
    );
    assert_eq!(refused.status, 403);
    let by_pat = call_as(
        &github,
        PAT,
        "POST",
        &format!("{REPO}/pulls"),
        Some(json!({"title": "t", "head": "promote/pay", "base": "main"})),
    );
    assert_eq!(by_pat.status, 201, "{}", by_pat.body);
    assert_eq!(github.pull_created_by(1), Some(TokenKind::Pat));
    assert!(github.pull_triggers_workflows(1));
    github.forbid_actions_pull_requests(false);
    let listed = call(&github, "GET", &format!("{REPO}/pulls"), None);
    assert_eq!(listed.body[0]["user"]["login"], PAT_LOGIN);
}

#[test]
fn restricted_tokens_get_resource_not_accessible() {
    let github = github();
    branch(&github, "promote/pay", "v2");
    github.restrict_token(TOKEN, &[("contents", "write"), ("pull_requests", "read")]);
    let refused = open_pull(&github, "promote/pay", "main");
    assert_eq!(
        (refused.status, refused.body["message"].as_str()),
        (403, Some("Resource not accessible by integration"))
    );
    assert_eq!(
        refused.headers["x-accepted-github-permissions"],
        "pull_requests=write"
    );
    assert_eq!(
        call(&github, "GET", &format!("{REPO}/pulls"), None).status,
        200
    );
    let labels = call(
        &github,
        "POST",
        &format!("{REPO}/issues/1/labels"),
        Some(json!({"labels": ["x"]})),
    );
    assert_eq!(
        labels.headers["x-accepted-github-permissions"],
        "issues=write; pull_requests=write"
    );
    github.restrict_token(PAT, &[("contents", "read")]);
    let by_pat = call_as(
        &github,
        PAT,
        "POST",
        &format!("{REPO}/pulls"),
        Some(json!({"title": "t", "head": "promote/pay", "base": "main"})),
    );
    assert_eq!(
        by_pat.body["message"],
        "Resource not accessible by personal access token"
    );
}
