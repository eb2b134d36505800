//! The GitHub stand-in's commit statuses and compare: what a GitOps
//! controller reports, and how commits relate, from the real repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use hoist_testkit::{GitHubStandIn, GitRemote, block_on};

const TOKEN: &str = "ghs_standInToken";
const REPO: &str = "/repos/acme/deploys";
const FLUX: &str = "kustomization/apps/0c9c2e41";

/// The stand-in and three commits on `main`, oldest first.
fn github() -> (GitHubStandIn, [String; 3]) {
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "tag: v1\n")]);
    let x0 = remote.head("main");
    let x = remote.commit_file("main", "apps/pay/values.yaml", "tag: v2\n", "pay v2");
    let y = remote.commit_file("main", "apps/pay/values.yaml", "tag: v3\n", "pay v3");
    (
        GitHubStandIn::start("acme", "deploys", remote, TOKEN),
        [x0, x, y],
    )
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

fn call(github: &GitHubStandIn, method: &str, path: &str, body: Option<Value>) -> Answer {
    block_on(async {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = hoist_testkit::raw_client()
            .request(method, format!("{}{path}", github.url()))
            .header("authorization", format!("Bearer {TOKEN}"));
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

fn statuses(github: &GitHubStandIn, reference: &str) -> Vec<Value> {
    let answer = call(
        github,
        "GET",
        &format!("{REPO}/commits/{reference}/statuses"),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body.as_array().unwrap().clone()
}

fn combined(github: &GitHubStandIn, reference: &str) -> Value {
    let answer = call(
        github,
        "GET",
        &format!("{REPO}/commits/{reference}/status"),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

#[test]
fn scripted_statuses_list_newest_first_and_combine() {
    let (github, [_, x, y]) = github();
    assert!(statuses(&github, &x).is_empty());
    let none = combined(&github, &x);
    assert_eq!(
        (none["state"].as_str(), none["total_count"].as_u64()),
        (Some("pending"), Some(0))
    );

    github.add_status(&x, "success", FLUX, "reconciliation succeeded");
    let listed = statuses(&github, &x);
    assert_eq!(listed.len(), 1);
    let status = &listed[0];
    assert_eq!(status["state"], "success");
    assert_eq!(status["context"], FLUX);
    assert_eq!(status["description"], "reconciliation succeeded");
    assert_eq!(
        status["url"],
        format!("{}{REPO}/statuses/{x}", github.url())
    );
    assert_eq!(status["creator"]["login"], "flux-bot");
    for field in ["id", "node_id", "avatar_url", "created_at", "updated_at"] {
        assert!(!status[field].is_null(), "{field}");
    }
    assert!(status["target_url"].is_null());
    assert!(
        statuses(&github, &y).is_empty(),
        "statuses belong to one commit"
    );

    // A second context fails; the combined state is failure, per context.
    github.add_status(
        &x,
        "failure",
        "kustomization/infra/1d2e3f4a",
        "health check failed",
    );
    let both = combined(&github, &x);
    assert_eq!(both["state"], "failure");
    assert_eq!(both["sha"], x.as_str());
    assert_eq!(both["total_count"], 2);
    assert_eq!(
        both["statuses"][0]["context"],
        "kustomization/infra/1d2e3f4a"
    );
    assert!(both["statuses"][0].get("creator").is_none());
    assert_eq!(both["repository"]["full_name"], "acme/deploys");
    github.add_status(
        &x,
        "success",
        "kustomization/infra/1d2e3f4a",
        "reconciliation succeeded",
    );
    let recovered = combined(&github, &x);
    assert_eq!(
        (
            recovered["state"].as_str(),
            recovered["total_count"].as_u64()
        ),
        (Some("success"), Some(2))
    );
    assert_eq!(
        statuses(&github, &x).len(),
        3,
        "the list keeps every status"
    );

    // A branch names its tip.
    github.add_status(&y, "success", FLUX, "reconciliation succeeded");
    assert_eq!(statuses(&github, "main").len(), 1);
    let unknown = call(
        &github,
        "GET",
        &format!("{REPO}/commits/nope/statuses"),
        None,
    );
    assert_eq!(unknown.status, 404);
}

#[test]
fn a_status_scripted_after_reads_appears_later() {
    let (github, [_, x, _]) = github();
    statuses(&github, &x);
    github.add_status_after_reads(&x, 2, "success", FLUX, "reconciliation succeeded");
    assert!(statuses(&github, &x).is_empty());
    assert_eq!(combined(&github, &x)["state"], "pending");
    assert_eq!(statuses(&github, &x)[0]["state"], "success");
    assert_eq!(combined(&github, &x)["state"], "success");
}

#[test]
fn statuses_are_created_with_github_s_checks() {
    let (github, [_, x, _]) = github();
    let path = format!("{REPO}/statuses/{x}");
    let created = call(
        &github,
        "POST",
        &path,
        Some(
            json!({"state": "pending", "context": "ci/deploy", "target_url": "https://ci.example/1", "description": "deploying"}),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        created.body["url"].as_str().unwrap()
    );
    assert_eq!(created.body["target_url"], "https://ci.example/1");
    github.add_status(&x, "success", FLUX, "reconciliation succeeded");
    let listed = statuses(&github, &x);
    assert_eq!(listed[0]["context"], FLUX, "newest first");
    assert_eq!(listed[1]["context"], "ci/deploy");
    let defaulted = call(&github, "POST", &path, Some(json!({"state": "success"})));
    assert_eq!(defaulted.body["context"], "default");

    let bad = call(&github, "POST", &path, Some(json!({"state": "done"})));
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["message"], "Validation Failed");
    assert_eq!(
        bad.body["errors"],
        json!([{"resource": "Status", "code": "custom", "field": "state", "message": "state is not included in the list"}])
    );
    let missing = call(&github, "POST", &path, Some(json!({"context": "x"})));
    assert_eq!(missing.status, 422);
    let nowhere = "0".repeat(40);
    let unknown = call(
        &github,
        "POST",
        &format!("{REPO}/statuses/{nowhere}"),
        Some(json!({"state": "success"})),
    );
    assert_eq!(unknown.status, 422);
    assert_eq!(
        unknown.body["message"],
        format!("No commit found for SHA: {nowhere}")
    );
}

#[test]
fn compare_reads_the_real_history() {
    let (github, [x0, x, y]) = github();
    let compare = |base: &str, head: &str| {
        call(
            &github,
            "GET",
            &format!("{REPO}/compare/{base}...{head}"),
            None,
        )
    };

    let ahead = compare(&x, &y);
    assert_eq!(ahead.status, 200, "{}", ahead.body);
    let body = &ahead.body;
    assert_eq!(
        (
            body["status"].as_str(),
            body["ahead_by"].as_u64(),
            body["behind_by"].as_u64()
        ),
        (Some("ahead"), Some(1), Some(0))
    );
    assert_eq!(body["total_commits"], 1);
    assert_eq!(body["merge_base_commit"]["sha"], x.as_str());
    assert_eq!(body["base_commit"]["sha"], x.as_str());
    assert_eq!(body["commits"][0]["sha"], y.as_str());
    assert_eq!(
        body["commits"][0]["commit"]["message"]
            .as_str()
            .unwrap()
            .trim(),
        "pay v3"
    );
    assert_eq!(body["commits"][0]["parents"][0]["sha"], x.as_str());

    let two = compare(&x0, "main").body;
    assert_eq!(
        (two["status"].as_str(), two["ahead_by"].as_u64()),
        (Some("ahead"), Some(2))
    );
    let commits: Vec<&str> = two["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap())
        .collect();
    assert_eq!(commits, [x.as_str(), y.as_str()], "oldest first");

    let behind = compare(&y, &x0).body;
    assert_eq!(
        (
            behind["status"].as_str(),
            behind["behind_by"].as_u64(),
            behind["ahead_by"].as_u64()
        ),
        (Some("behind"), Some(2), Some(0))
    );
    assert_eq!(compare(&x, &x).body["status"], "identical");

    // A branch off x0 with its own commit has diverged from main.
    let branched = call(
        &github,
        "POST",
        &format!("{REPO}/git/refs"),
        Some(json!({"ref": "refs/heads/side", "sha": x0})),
    );
    assert_eq!(branched.status, 201);
    github
        .remote()
        .commit_file("side", "apps/web/values.yaml", "tag: w2\n", "web w2");
    let diverged = compare("main", "side").body;
    assert_eq!(
        (
            diverged["status"].as_str(),
            diverged["ahead_by"].as_u64(),
            diverged["behind_by"].as_u64()
        ),
        (Some("diverged"), Some(1), Some(2))
    );
    assert_eq!(diverged["merge_base_commit"]["sha"], x0.as_str());
    assert_eq!(compare("acme:main", "side").body["status"], "diverged");

    let unknown = compare(&x, &"f".repeat(40));
    assert_eq!(
        (unknown.status, unknown.body["message"].as_str()),
        (404, Some("Not Found"))
    );
    github
        .remote()
        .commit_file("orphan", "README.md", "other\n", "unrelated");
    let unrelated = compare("main", "orphan");
    assert_eq!(unrelated.status, 404);
    assert_eq!(
        unrelated.body["message"],
        "No common ancestor between main and orphan."
    );
    assert_eq!(
        unrelated.body["documentation_url"],
        "https://docs.github.com/rest/commits/commits#compare-two-commits"
    );
}
