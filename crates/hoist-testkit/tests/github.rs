//! The GitHub stand-in answers as GitHub does, and what it writes is real
//! git.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use serde_json::{Value, json};

use hoist_testkit::{Fault, GitHubStandIn, GitRemote, block_on};

const TOKEN: &str = "ghs_standInToken";
const BOT: &str = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>";

fn github() -> GitHubStandIn {
    let remote = GitRemote::with_files(&[
        ("apps/pay/values.yaml", "image:\n  tag: v1\n"),
        ("apps/web/values.yaml", "image:\n  tag: w1\n"),
        ("README.md", "deploys\n"),
    ]);
    GitHubStandIn::start("acme", "deploys", remote, TOKEN)
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

fn call_as(
    github: &GitHubStandIn,
    auth: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Answer {
    block_on(async {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = hoist_testkit::raw_client()
            .request(method, format!("{}{path}", github.url()))
            .header("accept", "application/vnd.github+json");
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    })
}

fn call(github: &GitHubStandIn, method: &str, path: &str, body: Option<Value>) -> Answer {
    call_as(github, Some(&format!("Bearer {TOKEN}")), method, path, body)
}

const REPO: &str = "/repos/acme/deploys";

/// blob → tree on the tip's tree → commit; returns the commit's answer.
fn commit_change(github: &GitHubStandIn, path: &str, contents: &str, extra: Value) -> Answer {
    let tip = call(github, "GET", &format!("{REPO}/git/ref/heads/main"), None);
    let parent = tip.body["object"]["sha"].as_str().unwrap().to_owned();
    let base = call(github, "GET", &format!("{REPO}/git/commits/{parent}"), None);
    let blob = call(
        github,
        "POST",
        &format!("{REPO}/git/blobs"),
        Some(
            json!({"content": base64::engine::general_purpose::STANDARD.encode(contents), "encoding": "base64"}),
        ),
    );
    assert_eq!(blob.status, 201, "{}", blob.body);
    let tree = call(
        github,
        "POST",
        &format!("{REPO}/git/trees"),
        Some(json!({
            "base_tree": base.body["tree"]["sha"],
            "tree": [{"path": path, "mode": "100644", "type": "blob", "sha": blob.body["sha"]}],
        })),
    );
    assert_eq!(tree.status, 201, "{}", tree.body);
    let mut request =
        json!({"message": format!("set {path}"), "tree": tree.body["sha"], "parents": [parent]});
    request
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    call(
        github,
        "POST",
        &format!("{REPO}/git/commits"),
        Some(request),
    )
}

fn patch_main(github: &GitHubStandIn, sha: &str, force: bool) -> Answer {
    call(
        github,
        "PATCH",
        &format!("{REPO}/git/refs/heads/main"),
        Some(json!({"sha": sha, "force": force})),
    )
}

#[test]
fn blob_tree_commit_and_ref_update_write_real_git() {
    let github = github();
    let before = github.remote().head("main");
    let commit = commit_change(
        &github,
        "apps/pay/values.yaml",
        "image:\n  tag: v2\n",
        json!({}),
    );
    assert_eq!(commit.status, 201, "{}", commit.body);
    let sha = commit.body["sha"].as_str().unwrap().to_owned();
    assert_eq!(commit.body["parents"][0]["sha"], before.as_str());
    assert_eq!(commit.body["author"]["name"], "github-actions[bot]");
    assert_eq!(commit.body["verification"]["verified"], true);
    assert_eq!(commit.body["verification"]["reason"], "valid");
    assert_eq!(
        commit.headers["location"].to_str().unwrap(),
        commit.body["url"].as_str().unwrap()
    );
    assert_eq!(
        github.remote().head("main"),
        before,
        "nothing moves before the ref does"
    );

    let updated = patch_main(&github, &sha, false);
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["ref"], "refs/heads/main");
    assert_eq!(
        updated.body["object"],
        json!({"sha": sha, "type": "commit", "url": format!("{}{REPO}/git/commits/{sha}", github.url())})
    );

    let remote = github.remote();
    assert_eq!(remote.head("main"), sha);
    assert_eq!(
        remote.read("main", "apps/pay/values.yaml"),
        "image:\n  tag: v2\n"
    );
    assert_eq!(
        remote.read("main", "apps/web/values.yaml"),
        "image:\n  tag: w1\n"
    );
    let commits = remote.commits("main");
    assert_eq!(
        (commits[0].subject.as_str(), commits[0].author.as_str()),
        ("set apps/pay/values.yaml", BOT)
    );
    assert!(github.is_verified(&sha));
}

#[test]
fn given_people_make_an_unsigned_commit() {
    let github = github();
    let person = json!({"name": "Mona Lisa", "email": "mona@example.com", "date": "2014-11-07T22:01:45+02:00"});
    let commit = commit_change(&github, "a.txt", "a", json!({"author": person}));
    assert_eq!(commit.status, 201, "{}", commit.body);
    assert_eq!(
        commit.body["author"],
        json!({"name": "Mona Lisa", "email": "mona@example.com", "date": "2014-11-07T20:01:45Z"})
    );
    assert_eq!(
        commit.body["committer"]["name"], "Mona Lisa",
        "the committer defaults to the author"
    );
    assert_eq!(
        commit.body["verification"],
        json!({"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null})
    );
    let sha = commit.body["sha"].as_str().unwrap();
    assert!(!github.is_verified(sha));
    let read = call(&github, "GET", &format!("{REPO}/git/commits/{sha}"), None);
    assert_eq!(read.body, commit.body);
}

#[test]
fn a_stale_parent_loses_the_race_with_422() {
    let github = github();
    let commit = commit_change(
        &github,
        "apps/pay/values.yaml",
        "image:\n  tag: v2\n",
        json!({}),
    );
    let sha = commit.body["sha"].as_str().unwrap().to_owned();
    github.advance_before_next_patch("apps/web/values.yaml", "image:\n  tag: w2\n");

    let lost = patch_main(&github, &sha, false);
    assert_eq!(lost.status, 422);
    assert_eq!(
        lost.body,
        json!({
            "message": "Update is not a fast forward",
            "documentation_url": "https://docs.github.com/rest/git/refs#update-a-reference",
            "status": "422",
        })
    );
    let remote = github.remote();
    assert_eq!(
        remote.log("main"),
        ["concurrent change to apps/web/values.yaml", "seed"]
    );
    assert_eq!(
        remote.read("main", "apps/pay/values.yaml"),
        "image:\n  tag: v1\n"
    );

    // Built on the new tip, the same change goes in; forced, the stale one does.
    let retried = commit_change(
        &github,
        "apps/pay/values.yaml",
        "image:\n  tag: v2\n",
        json!({}),
    );
    let retried = retried.body["sha"].as_str().unwrap();
    assert_eq!(patch_main(&github, retried, false).status, 200);
    assert_eq!(patch_main(&github, &sha, true).status, 200);
    assert_eq!(remote.head("main"), sha);
}

#[test]
fn two_writers_on_one_parent_get_one_200_and_one_422() {
    let github = github();
    let a = commit_change(&github, "a.txt", "a", json!({}));
    let b = commit_change(&github, "b.txt", "b", json!({}));
    let shas = [
        a.body["sha"].as_str().unwrap(),
        b.body["sha"].as_str().unwrap(),
    ];
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = shas
            .iter()
            .map(|sha| scope.spawn(|| patch_main(&github, sha, false).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [200, 422], "{statuses:?}");
}

#[test]
fn a_protected_branch_answers_github_s_422() {
    let github = github();
    github.protect_branch("main");
    let commit = commit_change(&github, "a.txt", "a", json!({}));
    let refused = patch_main(&github, commit.body["sha"].as_str().unwrap(), false);
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.body["message"],
        "Protected branch update failed for refs/heads/main."
    );
    let deleted = call(
        &github,
        "DELETE",
        &format!("{REPO}/git/refs/heads/main"),
        None,
    );
    assert_eq!(
        (deleted.status, deleted.body["message"].as_str()),
        (422, Some("Cannot delete a protected branch"))
    );
    assert_eq!(github.remote().log("main"), ["seed"]);
}

#[test]
fn tokens_are_checked_before_anything_else() {
    let github = github();
    let path = format!("{REPO}/git/ref/heads/main");
    for auth in [format!("Bearer {TOKEN}"), format!("token {TOKEN}")] {
        assert_eq!(
            call_as(&github, Some(&auth), "GET", &path, None).status,
            200
        );
    }
    let bad = call_as(&github, Some("Bearer ghs_wrong"), "GET", &path, None);
    assert_eq!(bad.status, 401);
    assert_eq!(
        bad.body,
        json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
    );
    let missing = call_as(
        &github,
        None,
        "POST",
        &format!("{REPO}/git/blobs"),
        Some(json!({"content": "x"})),
    );
    assert_eq!(
        (missing.status, missing.body["message"].as_str()),
        (401, Some("Requires authentication"))
    );
    let unknown = call_as(&github, Some("Bearer ghs_wrong"), "GET", "/nowhere", None);
    assert_eq!(unknown.status, 401);

    for header in [
        "x-github-request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-used",
        "x-ratelimit-resource",
    ] {
        assert!(bad.headers.contains_key(header), "{header}");
    }
    let first = call(&github, "GET", &path, None);
    let second = call(&github, "GET", &path, None);
    let remaining = |a: &Answer| {
        a.headers["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(remaining(&first), remaining(&second) + 1);
    assert_ne!(
        first.headers["x-github-request-id"],
        second.headers["x-github-request-id"]
    );
}

#[test]
fn contents_answer_files_directories_symlinks_and_404s() {
    let remote = GitRemote::with_files(&[
        ("apps/pay/values.yaml", &"x".repeat(100)),
        ("README.md", "hi\n"),
    ]);
    let tip = remote.head("main");
    let github = GitHubStandIn::start("acme", "deploys", remote, TOKEN);

    let file = call(
        &github,
        "GET",
        &format!("{REPO}/contents/apps/pay/values.yaml?ref={tip}"),
        None,
    );
    assert_eq!(file.status, 200, "{}", file.body);
    assert_eq!(
        (file.body["type"].as_str(), file.body["encoding"].as_str()),
        (Some("file"), Some("base64"))
    );
    assert_eq!(
        (file.body["name"].as_str(), file.body["size"].as_u64()),
        (Some("values.yaml"), Some(100))
    );
    let content = file.body["content"].as_str().unwrap();
    assert!(
        content.lines().all(|line| line.len() <= 60) && content.ends_with('\n'),
        "{content:?}"
    );
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(content.replace('\n', ""))
        .unwrap();
    assert_eq!(decoded, "x".repeat(100).as_bytes());
    let blob = call(
        &github,
        "GET",
        &format!("{REPO}/git/blobs/{}", file.body["sha"].as_str().unwrap()),
        None,
    );
    assert_eq!(blob.body["content"], file.body["content"]);

    let by_branch = call(
        &github,
        "GET",
        &format!("{REPO}/contents/README.md?ref=main"),
        None,
    );
    assert_eq!(by_branch.body["content"], "aGkK\n");
    let by_default = call(&github, "GET", &format!("{REPO}/contents/README.md"), None);
    assert_eq!(by_default.body["sha"], by_branch.body["sha"]);

    let dir = call(&github, "GET", &format!("{REPO}/contents/apps"), None);
    assert_eq!(dir.body, json!([dir.body[0].clone()]));
    assert_eq!(
        (dir.body[0]["type"].as_str(), dir.body[0]["path"].as_str()),
        (Some("dir"), Some("apps/pay"))
    );
    let root = call(&github, "GET", &format!("{REPO}/contents/"), None);
    assert_eq!(root.body.as_array().unwrap().len(), 2);

    let missing = call(
        &github,
        "GET",
        &format!("{REPO}/contents/apps/nope.yaml"),
        None,
    );
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/contents#get-repository-content", "status": "404"})
    );
    let no_ref = call(
        &github,
        "GET",
        &format!("{REPO}/contents/README.md?ref=nope"),
        None,
    );
    assert_eq!(
        (no_ref.status, no_ref.body["message"].as_str()),
        (404, Some("No commit found for the ref nope"))
    );
    let other_repo = call(&github, "GET", "/repos/acme/other/contents/README.md", None);
    assert_eq!(
        (other_repo.status, other_repo.body["message"].as_str()),
        (404, Some("Not Found"))
    );

    // Symlinks: to a file in the repository, the file; elsewhere, the link.
    let tree = call(
        &github,
        "POST",
        &format!("{REPO}/git/trees"),
        Some(json!({"base_tree": tree_of(&github, &tip), "tree": [
            {"path": "apps/pay/current", "mode": "120000", "type": "blob", "content": "values.yaml"},
            {"path": "outside", "mode": "120000", "type": "blob", "content": "../etc/passwd"},
        ]})),
    );
    let commit = call(
        &github,
        "POST",
        &format!("{REPO}/git/commits"),
        Some(json!({"message": "links", "tree": tree.body["sha"], "parents": [tip]})),
    );
    let sha = commit.body["sha"].as_str().unwrap();
    let followed = call(
        &github,
        "GET",
        &format!("{REPO}/contents/apps/pay/current?ref={sha}"),
        None,
    );
    assert_eq!(
        (
            followed.body["type"].as_str(),
            followed.body["path"].as_str()
        ),
        (Some("file"), Some("apps/pay/values.yaml"))
    );
    let link = call(
        &github,
        "GET",
        &format!("{REPO}/contents/outside?ref={sha}"),
        None,
    );
    assert_eq!(
        (link.body["type"].as_str(), link.body["target"].as_str()),
        (Some("symlink"), Some("../etc/passwd"))
    );
}

fn tree_of(github: &GitHubStandIn, commit: &str) -> Value {
    call(github, "GET", &format!("{REPO}/git/commits/{commit}"), None).body["tree"]["sha"].clone()
}

#[test]
fn trees_check_what_they_are_given() {
    let github = github();
    let tip = github.remote().head("main");
    let base = tree_of(&github, &tip);
    let trees = format!("{REPO}/git/trees");
    let post = |body: Value| call(&github, "POST", &trees, Some(body));
    let unknown = "0123456789abcdef0123456789abcdef01234567";

    let bad_base = post(
        json!({"base_tree": unknown, "tree": [{"path": "a", "mode": "100644", "type": "blob", "content": "a"}]}),
    );
    assert_eq!(
        (bad_base.status, bad_base.body["message"].as_str()),
        (422, Some("base_tree is not a valid tree oid"))
    );
    let bad_blob = post(
        json!({"base_tree": base, "tree": [{"path": "a", "mode": "100644", "type": "blob", "sha": unknown}]}),
    );
    assert_eq!(bad_blob.status, 422);
    assert_eq!(
        bad_blob.body["message"],
        format!("tree.sha {unknown} is not a valid blob")
    );
    let empty = post(json!({"base_tree": base, "tree": []}));
    assert_eq!(
        (empty.status, empty.body["message"].as_str()),
        (422, Some("Invalid tree info"))
    );
    let absent = post(
        json!({"base_tree": base, "tree": [{"path": "nope", "mode": "100644", "type": "blob", "sha": null}]}),
    );
    assert_eq!(absent.status, 422);
    let no_tree = post(json!({"base_tree": base}));
    assert_eq!(
        (no_tree.status, no_tree.body["message"].as_str()),
        (422, Some("Invalid request.\n\n\"tree\" wasn't supplied."))
    );

    // A deletion, a whole directory replaced by a file, and a subtree moved.
    let pay = call(
        &github,
        "GET",
        &format!("{REPO}/git/trees/{tip}?recursive=1"),
        None,
    );
    let pay_tree = pay.body["tree"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "apps/pay")
        .unwrap()["sha"]
        .clone();
    let changed = post(json!({"base_tree": base, "tree": [
        {"path": "README.md", "mode": "100644", "type": "blob", "sha": null},
        {"path": "apps/web", "mode": "100644", "type": "blob", "content": "now a file\n"},
        {"path": "moved/pay", "mode": "040000", "type": "tree", "sha": pay_tree},
    ]}));
    assert_eq!(changed.status, 201, "{}", changed.body);
    let paths = |tree: &Value| -> Vec<String> {
        let listed = call(
            &github,
            "GET",
            &format!("{REPO}/git/trees/{}?recursive=1", tree.as_str().unwrap()),
            None,
        );
        listed.body["tree"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "blob")
            .map(|e| e["path"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        paths(&changed.body["sha"]),
        ["apps/pay/values.yaml", "apps/web", "moved/pay/values.yaml"]
    );
    assert_eq!(changed.body["truncated"], false);

    let commit = call(
        &github,
        "POST",
        &format!("{REPO}/git/commits"),
        Some(json!({"message": "m", "tree": unknown, "parents": [tip]})),
    );
    assert_eq!(
        (commit.status, commit.body["message"].as_str()),
        (422, Some("Tree SHA does not exist"))
    );
    let commit = call(
        &github,
        "POST",
        &format!("{REPO}/git/commits"),
        Some(json!({"message": "m", "tree": base, "parents": [unknown]})),
    );
    assert_eq!(
        commit.body["message"],
        "Parent SHA does not exist or is not a commit object"
    );
}

#[test]
fn refs_are_created_once_and_only_for_objects_that_exist() {
    let github = github();
    let tip = github.remote().head("main");
    let refs = format!("{REPO}/git/refs");
    let created = call(
        &github,
        "POST",
        &refs,
        Some(json!({"ref": "refs/heads/hoist/bump", "sha": tip})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["url"],
        format!("{}{REPO}/git/refs/heads/hoist/bump", github.url())
    );
    assert_eq!(github.remote().head("hoist/bump"), tip);
    let again = call(
        &github,
        "POST",
        &refs,
        Some(json!({"ref": "refs/heads/hoist/bump", "sha": tip})),
    );
    assert_eq!(
        (again.status, again.body["message"].as_str()),
        (422, Some("Reference already exists"))
    );
    let ghost = call(
        &github,
        "POST",
        &refs,
        Some(json!({"ref": "refs/heads/x", "sha": "0123456789abcdef0123456789abcdef01234567"})),
    );
    assert_eq!(ghost.body["message"], "Object does not exist");
    let read = call(
        &github,
        "GET",
        &format!("{REPO}/git/ref/heads/hoist/bump"),
        None,
    );
    assert_eq!(read.body, created.body);
    let encoded = format!("{REPO}/git/ref/heads%2Fhoist%2Fbump");
    let encoded = call(&github, "GET", &encoded, None);
    assert_eq!(encoded.body, created.body, "octokit sends the ref encoded");
    let gone = call(&github, "GET", &format!("{REPO}/git/ref/heads/nope"), None);
    assert_eq!(gone.status, 404);
    let patch_gone = call(
        &github,
        "PATCH",
        &format!("{REPO}/git/refs/heads/nope"),
        Some(json!({"sha": tip})),
    );
    assert_eq!(patch_gone.body["message"], "Reference does not exist");
    assert_eq!(
        call(
            &github,
            "DELETE",
            &format!("{REPO}/git/refs/heads/hoist/bump"),
            None
        )
        .status,
        204
    );
}

#[test]
fn failures_and_faults_are_scripted_per_request() {
    let github = github();
    let tip = github.remote().head("main");
    github.fail_next("PATCH", 502, "Server Error");
    let path = format!("{REPO}/git/ref/heads/main");
    assert_eq!(
        call(&github, "GET", &path, None).status,
        200,
        "only the next PATCH fails"
    );
    let failed = patch_main(&github, &tip, false);
    assert_eq!(
        (failed.status, failed.body["message"].as_str()),
        (502, Some("Server Error"))
    );
    assert_eq!(patch_main(&github, &tip, false).status, 200);

    github.fault_on(&format!("{REPO}/git/refs"), Fault::Status(503));
    assert_eq!(patch_main(&github, &tip, false).status, 503);
    assert_eq!(
        github.request_count("PATCH", &format!("{REPO}/git/refs/heads/main")),
        3
    );
    assert!(github.requests().iter().all(|r| !r.path.contains(TOKEN)));
}
