//! The git backend against real bare repositories, over `file://` and over
//! smart HTTP (`git http-backend` behind a loopback server).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use hoist_testkit::GitRemote;
use hoist_testkit::peers::GitHttpServer;

const KUSTOMIZE_FILE: &str = "apps/payments/overlays/dev/kustomization.yaml";
const HELM_FILE: &str = "charts/myshop-api/values-dev.yaml";

#[test]
fn a_kustomize_edit_changes_only_the_bytes_of_the_tag_and_lands_one_commit() {
    let remote = GitRemote::with_files(SEED);
    let before = remote.head("main");
    let mut sandbox = sandbox_for(&remote);
    sandbox.input(
        "edits",
        &format!("{KUSTOMIZE_FILE}:images[name=payments-api].newTag=abc1234"),
    );
    let result = bump(&sandbox);
    let outputs = succeeded(&result);

    assert_eq!(
        remote.read("main", KUSTOMIZE_FILE),
        replaced_once(KUSTOMIZE_DEV, "newTag: latest #", "newTag: abc1234 #")
    );
    let head = remote.head("main");
    assert_eq!(outputs["commit-sha"], head);
    assert_eq!(outputs["changed"], "true");
    assert_eq!(outputs["files"], KUSTOMIZE_FILE);
    assert_eq!(
        outputs["previous"],
        format!("{KUSTOMIZE_FILE}:images[name=payments-api].newTag=latest")
    );
    assert_eq!(outputs["superseded"], "false");
    assert_eq!(result.exported_env()["HOIST_GITOPS_COMMIT"], head);
    assert_eq!(
        result.exported_env()["HOIST_GITOPS_REPOSITORY"],
        remote.url(),
        "the repository input as given, for wait-for-sync"
    );

    let commits = remote.commits("main");
    assert_eq!(
        commits[0].parents,
        vec![before.clone()],
        "one commit on the old tip"
    );
    assert_eq!(
        commits[0].author,
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    );
    assert!(
        commits[0]
            .body
            .contains("Hoist-Run: https://github.com/acme/shop/actions/runs/4242"),
        "{}",
        commits[0].body
    );
    // Every other file is as it was.
    for (file, text) in SEED.iter().filter(|(f, _)| *f != KUSTOMIZE_FILE) {
        assert_eq!(remote.read("main", file), *text, "{file}");
    }
    let summary = result.file("GITHUB_STEP_SUMMARY");
    assert!(summary.contains("| `apps/payments/overlays/dev/kustomization.yaml` | `images[name=payments-api].newTag` | `latest` | `abc1234` |"), "{summary}");
}

#[test]
fn app_and_env_find_the_helm_layout_and_keep_the_quotes() {
    let remote = GitRemote::with_files(SEED);
    let mut sandbox = sandbox_for(&remote);
    sandbox
        .input("app", "myshop-api")
        .input("env", "dev")
        .input("tag", "1.10")
        .input(
            "image-repository",
            "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api",
        );
    let outputs = succeeded(&bump(&sandbox));
    assert_eq!(outputs["files"], HELM_FILE);
    // `1.10` stays a string: the old value was double-quoted and stays so.
    assert_eq!(
        remote.read("main", HELM_FILE),
        replaced_once(HELM_DEV, "\"abc1233\"", "\"1.10\"")
    );
    let commit = &remote.commits("main")[0];
    assert_eq!(commit.subject, "chore(dev): update myshop-api to 1.10");
    assert!(
        commit.body.contains(
            "Hoist-Image: 123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api:1.10"
        ),
        "{}",
        commit.body
    );
}

#[test]
fn the_services_layout_writes_tag_and_digest_with_kustomize_semantics() {
    let remote = GitRemote::with_files(SEED);
    let mut sandbox = sandbox_for(&remote);
    let digest = format!("sha256:{}", "d".repeat(64));
    sandbox
        .input("app", "order-service")
        .input("env", "staging")
        .input("tag", "abc1234")
        .input("digest", &digest)
        .input(
            "image-repository",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-service",
        );
    succeeded(&bump(&sandbox));
    let file = "services/order-service/overlays/staging/kustomization.yaml";
    assert_eq!(
        remote.read("main", file),
        format!(
            "{}  digest: {digest}\n",
            replaced_once(SERVICES_STAGING, "newTag: abc1233", "newTag: abc1234")
        )
    );
    let commit = &remote.commits("main")[0];
    assert_eq!(
        commit.subject,
        "chore(staging): update order-service to abc1234"
    );
    assert!(commit.body.contains(&format!(
        "Hoist-Image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-service@{digest}"
    )));
}

#[test]
fn a_bump_to_the_value_already_there_makes_no_commit() {
    let remote = GitRemote::with_files(SEED);
    let mut sandbox = sandbox_for(&remote);
    sandbox.input("edits", &format!("{HELM_FILE}:image.tag=abc1233"));
    let head = remote.head("main");
    let result = bump(&sandbox);
    let outputs = succeeded(&result);
    assert_eq!(outputs["changed"], "false");
    assert_eq!(
        outputs["commit-sha"], head,
        "a no-op still names a revision to wait for"
    );
    assert_eq!(remote.head("main"), head);
    assert!(
        result.stdout.contains("nothing to commit"),
        "{}",
        result.stdout
    );
}

#[test]
fn an_older_version_is_superseded_and_policy_always_rolls_back() {
    let remote = GitRemote::with_files(SEED);
    let head = remote.head("main");
    let mut sandbox = sandbox_for(&remote);
    sandbox.input(
        "edits",
        "charts/myshop-api/values-prod.yaml:image.tag=v1.3.9",
    );
    let result = bump(&sandbox);
    let outputs = succeeded(&result);
    assert_eq!(outputs["superseded"], "true");
    assert_eq!(outputs["changed"], "false");
    assert_eq!(remote.head("main"), head);
    assert!(result.stdout.contains("::warning::"), "{}", result.stdout);

    sandbox.input("policy", "always");
    let outputs = succeeded(&bump(&sandbox));
    assert_eq!(outputs["changed"], "true");
    assert_eq!(
        outputs["previous"],
        "charts/myshop-api/values-prod.yaml:image.tag=v1.4.0"
    );
    assert!(
        remote
            .read("main", "charts/myshop-api/values-prod.yaml")
            .contains("  tag: v1.3.9\n")
    );
}

#[test]
fn dry_run_prints_the_diff_and_pushes_nothing() {
    let remote = GitRemote::with_files(SEED);
    let head = remote.head("main");
    let mut sandbox = sandbox_for(&remote);
    sandbox.input(
        "edits",
        &format!("{KUSTOMIZE_FILE}:images[name=payments-api].newTag=abc1234"),
    );
    let result = sandbox.run(binary(), &["--dry-run"]);
    let outputs = succeeded(&result);
    assert_eq!(remote.head("main"), head);
    assert_eq!(outputs["changed"], "true");
    assert!(
        result.stdout.contains(&format!("--- a/{KUSTOMIZE_FILE}")),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("-    newTag: latest # overridden per environment"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("+    newTag: abc1234 # overridden per environment"),
        "{}",
        result.stdout
    );
    assert_eq!(result.exported_env().get("HOIST_GITOPS_COMMIT"), None);
    assert_eq!(result.exported_env().get("HOIST_GITOPS_REPOSITORY"), None);
}

#[test]
fn create_missing_adds_an_argo_cd_override_file() {
    let remote = GitRemote::with_files(SEED);
    let mut sandbox = sandbox_for(&remote);
    let file = "apps/payments/overlays/dev/.argocd-source-payments-dev.yaml";
    sandbox
        .input(
            "edits",
            &format!("{file}:helm.parameters[name=image.tag].value=abc1234"),
        )
        .input("create-missing", "true");
    succeeded(&bump(&sandbox));
    assert_eq!(
        remote.read("main", file),
        "helm:\n  parameters:\n  - name: image.tag\n    value: abc1234\n"
    );
}

#[test]
fn several_edits_land_in_one_commit_and_author_and_signoff_are_used() {
    let remote = GitRemote::with_files(SEED);
    let mut sandbox = sandbox_for(&remote);
    sandbox
        .input(
            "edits",
            &format!(
                "{HELM_FILE}:image.tag=abc1234\n{KUSTOMIZE_FILE}:images[name=payments-api].newTag=abc1234\n"
            ),
        )
        .input("commit-message", "deploy {new} ({files}) by {actor}")
        .input("author", "CI Bot <ci-bot@myorg.com>")
        .input("signoff", "true")
        .env("GITHUB_ACTOR", "octocat");
    let outputs = succeeded(&bump(&sandbox));
    assert_eq!(outputs["files"], format!("{HELM_FILE}\n{KUSTOMIZE_FILE}"));
    let commit = &remote.commits("main")[0];
    assert_eq!(
        commit.subject,
        format!("deploy abc1234 ({HELM_FILE}, {KUSTOMIZE_FILE}) by octocat")
    );
    assert_eq!(commit.author, "CI Bot <ci-bot@myorg.com>");
    assert!(
        commit
            .body
            .ends_with("Signed-off-by: CI Bot <ci-bot@myorg.com>"),
        "{}",
        commit.body
    );
    assert_eq!(remote.commits("main").len(), 2, "the seed and one bump");
}

#[test]
fn over_http_the_token_travels_in_a_header_and_is_masked() {
    let token = "ghs_httpTokenForTheGitopsRepo0123456789";
    let remote = GitRemote::with_files(SEED);
    let server = GitHttpServer::start(&remote.path(), token);
    let mut sandbox = sandbox();
    sandbox
        .input("repository", &server.url())
        .input("token", token)
        .input(
            "edits",
            &format!("{KUSTOMIZE_FILE}:images[name=payments-api].newTag=abc1234"),
        );
    let result = bump(&sandbox);
    let outputs = succeeded(&result);
    assert_eq!(outputs["commit-sha"], remote.head("main"));
    assert!(
        remote
            .read("main", KUSTOMIZE_FILE)
            .contains("newTag: abc1234 #")
    );
    let basic = GitHttpServer::auth_header(token);
    let basic = basic.trim_start_matches("Authorization: Basic ");
    result.assert_masked(&[token, basic]);
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.target.contains("git-receive-pack")),
        "it pushed over HTTP"
    );
    for request in requests {
        assert!(
            !request.target.contains(token),
            "the token reached a URL: {}",
            request.target
        );
    }
}

#[test]
fn over_http_a_wrong_token_fails_at_once_with_no_commit() {
    let remote = GitRemote::with_files(SEED);
    let server = GitHttpServer::start(&remote.path(), "ghs_right");
    let head = remote.head("main");
    let mut sandbox = sandbox();
    sandbox
        .input("repository", &server.url())
        .input("token", "ghs_wrongTokenValue")
        .input("edits", &format!("{HELM_FILE}:image.tag=abc1234"));
    let result = bump(&sandbox);
    result.assert_failed_cleanly(&["refused the credentials", "check `token`"]);
    result.assert_masked(&["ghs_wrongTokenValue"]);
    assert_eq!(remote.head("main"), head);
    let fetches = server
        .requests()
        .iter()
        .filter(|r| r.target.contains("upload-pack"))
        .count();
    assert!(
        fetches <= 2,
        "an auth failure is not retried ({fetches} fetches)"
    );
}
