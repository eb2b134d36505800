//! The GitHub stand-in's App (JWT → installation token), GraphQL auto-merge,
//! and scripted rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use hoist_testkit::github::{
    APP_PRIVATE_KEY_PEM, APP_PUBLIC_KEY_PEM, TokenKind, app_jwt, sign_app_jwt,
};
use hoist_testkit::{GitHubStandIn, GitRemote, block_on};

const TOKEN: &str = "ghs_standInToken";
const REPO: &str = "/repos/acme/deploys";
const APP_ID: u64 = 271_828;

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
        let mut request =
            hoist_testkit::raw_client().request(method, format!("{}{path}", github.url()));
        if let Some(token) = auth {
            request = request.header("authorization", format!("Bearer {token}"));
        }
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
    call_as(github, Some(TOKEN), method, path, body)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The stand-in with branch `promote/pay` one commit ahead of `main`.
fn github() -> GitHubStandIn {
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "tag: v1\n")]);
    let main = remote.head("main");
    let github = GitHubStandIn::start("acme", "deploys", remote, TOKEN);
    // The workflow's token opens pull requests here, which a repository
    // must allow (a new one does not).
    github.forbid_actions_pull_requests(false);
    let created = call(
        &github,
        "POST",
        &format!("{REPO}/git/refs"),
        Some(json!({"ref": "refs/heads/promote/pay", "sha": main})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    github
        .remote()
        .commit_file("promote/pay", "apps/pay/values.yaml", "tag: v2\n", "pay v2");
    github
}

fn open_pull(github: &GitHubStandIn, token: &str) -> Answer {
    call_as(
        github,
        Some(token),
        "POST",
        &format!("{REPO}/pulls"),
        Some(json!({"title": "Promote pay v2", "head": "promote/pay", "base": "main"})),
    )
}

#[test]
fn an_app_jwt_mints_an_installation_token_that_opens_pull_requests() {
    let github = github();
    let installation = github.enable_app(APP_ID, APP_PUBLIC_KEY_PEM);
    let jwt = app_jwt(APP_ID);

    let found = call_as(
        &github,
        Some(&jwt),
        "GET",
        &format!("{REPO}/installation"),
        None,
    );
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["id"], installation);
    assert_eq!(found.body["app_id"], APP_ID);
    assert_eq!(found.body["app_slug"], "hoist-app");
    assert_eq!(found.body["account"]["login"], "acme");
    let url = found.body["access_tokens_url"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "{}/app/installations/{installation}/access_tokens",
            github.url()
        )
    );

    let path = format!("/app/installations/{installation}/access_tokens");
    let minted = call_as(&github, Some(&jwt), "POST", &path, None);
    assert_eq!(minted.status, 201, "{}", minted.body);
    let token = minted.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_") && token.len() == 40, "{token}");
    assert!(minted.body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(minted.body["repository_selection"], "selected");
    assert_eq!(minted.body["permissions"]["pull_requests"], "write");
    assert_eq!(github.minted_tokens(), std::slice::from_ref(&token));

    let narrowed = call_as(
        &github,
        Some(&jwt),
        "POST",
        &path,
        Some(
            json!({"repositories": ["deploys"], "permissions": {"contents": "write", "pull_requests": "write"}}),
        ),
    );
    assert_eq!(narrowed.status, 201, "{}", narrowed.body);
    assert_eq!(
        narrowed.body["permissions"],
        json!({"contents": "write", "pull_requests": "write"})
    );
    assert_eq!(
        narrowed.body["repositories"][0]["full_name"],
        "acme/deploys"
    );
    assert_eq!(github.minted_tokens().len(), 2);

    let opened = open_pull(&github, &token);
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert_eq!(opened.body["user"]["login"], "hoist-app[bot]");
    assert_eq!(github.pull_created_by(1), Some(TokenKind::App));
    assert!(github.pull_triggers_workflows(1));

    let narrow = narrowed.body["token"].as_str().unwrap();
    let labels = call_as(
        &github,
        Some(narrow),
        "POST",
        &format!("{REPO}/issues/1/labels"),
        Some(json!({"labels": ["x"]})),
    );
    assert_eq!(
        labels.status, 200,
        "pull_requests: write covers a pull request's labels"
    );
    let statuses = call_as(
        &github,
        Some(narrow),
        "GET",
        &format!("{REPO}/commits/main/status"),
        None,
    );
    assert_eq!(statuses.status, 403, "statuses were not asked for");
}

#[test]
fn bad_app_jwts_and_requests_get_github_s_answers() {
    let github = github();
    let installation = github.enable_app(APP_ID, APP_PUBLIC_KEY_PEM);
    let path = format!("/app/installations/{installation}/access_tokens");
    let mint = |auth: Option<&str>| call_as(&github, auth, "POST", &path, None);
    let refused = |answer: Answer, message: &str| {
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert_eq!(
            answer.body,
            json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": "401"})
        );
    };
    let decode = "A JSON web token could not be decoded";
    let now = now();
    let signed = |claims: Value| sign_app_jwt(APP_PRIVATE_KEY_PEM, &claims);

    refused(mint(Some("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")), decode);
    refused(mint(Some(TOKEN)), decode);
    refused(mint(None), decode);
    let other_key = include_str!("../src/fixtures/oidc-issuer-key.pem");
    refused(
        mint(Some(&sign_app_jwt(
            other_key,
            &json!({"iat": now, "exp": now + 60, "iss": APP_ID}),
        ))),
        decode,
    );
    refused(
        mint(Some(&signed(
            json!({"iat": now, "exp": now + 60, "iss": APP_ID + 1}),
        ))),
        decode,
    );
    refused(
        mint(Some(&signed(
            json!({"iat": now - 700, "exp": now - 100, "iss": APP_ID}),
        ))),
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    );
    refused(
        mint(Some(&signed(
            json!({"iat": now, "exp": now + 900, "iss": APP_ID}),
        ))),
        "'Expiration time' claim ('exp') is too far in the future",
    );
    refused(
        mint(Some(&signed(
            json!({"iat": now + 300, "exp": now + 500, "iss": APP_ID}),
        ))),
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    );
    let client_id = github.app_client_id().unwrap();
    let by_client = signed(json!({"iat": now - 60, "exp": now + 600, "iss": client_id}));
    assert_eq!(
        mint(Some(&by_client)).status,
        201,
        "iss may be the client id"
    );
    assert!(github.minted_tokens().len() == 1);

    let jwt = app_jwt(APP_ID);
    let elsewhere = call_as(
        &github,
        Some(&jwt),
        "POST",
        "/app/installations/1/access_tokens",
        None,
    );
    assert_eq!(elsewhere.status, 404);
    let too_much = call_as(
        &github,
        Some(&jwt),
        "POST",
        &path,
        Some(json!({"permissions": {"administration": "write"}})),
    );
    assert_eq!(
        (too_much.status, too_much.body["message"].as_str()),
        (
            422,
            Some("The permissions requested are not granted to this installation.")
        )
    );
    let other_repo = call_as(
        &github,
        Some(&jwt),
        "POST",
        &path,
        Some(json!({"repositories": ["payments"]})),
    );
    assert_eq!(
        other_repo.body["message"],
        "There is at least one repository that does not exist or is not accessible to the parent installation."
    );
    let as_repo_token = call_as(&github, Some(&jwt), "GET", &format!("{REPO}/pulls"), None);
    assert_eq!(
        as_repo_token.status, 403,
        "a JWT is the App, not an installation"
    );
    assert_eq!(github.minted_tokens().len(), 1);
}

const ENABLE: &str =
    "mutation EnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod) {
  enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod}) {
    pullRequest { number autoMergeRequest { enabledAt mergeMethod } }
  }
}";

fn graphql(github: &GitHubStandIn, query: &str, variables: Value) -> Answer {
    call(
        github,
        "POST",
        "/graphql",
        Some(json!({"query": query, "variables": variables})),
    )
}

#[test]
fn a_new_repository_has_auto_merge_off() {
    let github = github();
    let opened = open_pull(&github, TOKEN);
    let node = opened.body["node_id"].as_str().unwrap().to_owned();
    let refused = graphql(
        &github,
        ENABLE,
        json!({"pullRequestId": node, "mergeMethod": "SQUASH"}),
    );
    assert_eq!(
        refused.body["errors"][0]["message"], "Auto merge is not allowed for this repository",
        "{}",
        refused.body
    );
}

#[test]
fn auto_merge_is_enabled_through_graphql() {
    let github = github();
    github.allow_auto_merge(true);
    let opened = open_pull(&github, TOKEN);
    let node = opened.body["node_id"].as_str().unwrap().to_owned();

    let enabled = graphql(
        &github,
        ENABLE,
        json!({"pullRequestId": node, "mergeMethod": "SQUASH"}),
    );
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    let request = &enabled.body["data"]["enablePullRequestAutoMerge"]["pullRequest"];
    assert_eq!(request["number"], 1);
    assert_eq!(request["autoMergeRequest"]["mergeMethod"], "SQUASH");
    assert!(
        request["autoMergeRequest"]["enabledAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(enabled.body.get("errors"), None);
    assert_eq!(enabled.headers["x-ratelimit-resource"], "graphql");
    let recorded = github.auto_merge_requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (
            recorded[0].pull_request_id.as_str(),
            recorded[0].number,
            recorded[0].merge_method.as_str(),
            recorded[0].kind
        ),
        (node.as_str(), Some(1), "SQUASH", TokenKind::GitHubActions)
    );
    let pull = call(&github, "GET", &format!("{REPO}/pulls/1"), None);
    assert_eq!(pull.body["auto_merge"]["merge_method"], "squash");
    assert_eq!(
        pull.body["auto_merge"]["enabled_by"]["login"],
        "github-actions[bot]"
    );

    let literal = format!(
        "mutation {{ auto: enablePullRequestAutoMerge(input: {{pullRequestId: \"{node}\", mergeMethod: REBASE}}) {{ clientMutationId ... on EnablePullRequestAutoMergePayload {{ pullRequest {{ id }} }} }} }}"
    );
    let aliased = graphql(&github, &literal, Value::Null);
    assert_eq!(
        aliased.body["data"]["auto"]["pullRequest"]["id"],
        node.as_str(),
        "{}",
        aliased.body
    );
    let read = graphql(
        &github,
        "query($n: Int!) { repository(owner: \"acme\", name: \"deploys\") { pullRequest(number: $n) { autoMergeRequest { mergeMethod } } } }",
        json!({"n": 1}),
    );
    assert_eq!(
        read.body["data"]["repository"]["pullRequest"]["autoMergeRequest"]["mergeMethod"],
        "REBASE"
    );

    let unknown = graphql(&github, ENABLE, json!({"pullRequestId": "PR_kwDOnowhere"}));
    assert_eq!(unknown.status, 200);
    assert_eq!(
        unknown.body["data"],
        json!({"enablePullRequestAutoMerge": null})
    );
    let error = &unknown.body["errors"][0];
    assert_eq!(error["type"], "NOT_FOUND");
    assert_eq!(error["path"], json!(["enablePullRequestAutoMerge"]));
    assert_eq!(
        error["message"],
        "Could not resolve to a node with the global id of 'PR_kwDOnowhere'"
    );
    assert_eq!(error["locations"], json!([{"line": 2, "column": 3}]));

    github.allow_auto_merge(false);
    let refused = graphql(
        &github,
        ENABLE,
        json!({"pullRequestId": node, "mergeMethod": "MERGE"}),
    );
    assert_eq!(refused.body["errors"][0]["type"], "UNPROCESSABLE");
    assert_eq!(
        refused.body["errors"][0]["message"],
        "Auto merge is not allowed for this repository"
    );
    assert_eq!(
        github.auto_merge_requests().len(),
        4,
        "refused calls are recorded too"
    );

    let typo = graphql(
        &github,
        "mutation { enablePullRequestAutoMerge(input: {pullRequestId: \"x\"}) { pullReqest { id } } }",
        Value::Null,
    );
    assert_eq!(
        typo.body["errors"][0]["message"],
        "Field 'pullReqest' doesn't exist on type 'EnablePullRequestAutoMergePayload'"
    );
    assert_eq!(typo.body.get("data"), None);
    let broken = graphql(
        &github,
        "mutation { enablePullRequestAutoMerge(",
        Value::Null,
    );
    assert!(
        broken.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Parse error")
            || broken.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Unexpected end"),
        "{}",
        broken.body
    );
    let lowercase = graphql(
        &github,
        ENABLE,
        json!({"pullRequestId": node, "mergeMethod": "squash"}),
    );
    assert!(
        lowercase.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid value"),
        "{}",
        lowercase.body
    );
    assert_eq!(
        github.auto_merge_requests().len(),
        4,
        "a document GitHub refuses runs nothing"
    );
    let anonymous = call_as(
        &github,
        None,
        "POST",
        "/graphql",
        Some(json!({"query": "{ viewer { login } }"})),
    );
    assert_eq!(
        (anonymous.status, anonymous.body["message"].as_str()),
        (401, Some("This endpoint requires you to be authenticated."))
    );
}

#[test]
fn rate_limits_are_scripted_per_request() {
    let github = github();
    let path = format!("{REPO}/git/ref/heads/main");
    github.secondary_rate_limit_next(2, 30);
    assert_eq!(
        call_as(&github, Some("ghs_wrong"), "GET", &path, None).status,
        401,
        "a 401 uses no script"
    );
    for _ in 0..2 {
        let limited = call(&github, "GET", &path, None);
        assert_eq!(limited.status, 403);
        assert_eq!(limited.headers["retry-after"], "30");
        assert!(limited.headers.get("x-ratelimit-remaining").is_none());
        let message = limited.body["message"].as_str().unwrap();
        assert!(message.starts_with("You have exceeded a secondary rate limit. Please wait a few minutes before you try again."), "{message}");
        assert!(
            limited.body["documentation_url"]
                .as_str()
                .unwrap()
                .ends_with("#about-secondary-rate-limits")
        );
    }
    assert_eq!(call(&github, "GET", &path, None).status, 200);

    github.primary_rate_limit_next(1, 429, 60);
    let primary = call(&github, "GET", &path, None);
    assert_eq!(primary.status, 429);
    assert_eq!(primary.headers["x-ratelimit-remaining"], "0");
    assert_eq!(
        primary
            .headers
            .get_all("x-ratelimit-remaining")
            .iter()
            .count(),
        1
    );
    let reset: u64 = primary.headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((now() + 55..=now() + 65).contains(&reset), "{reset}");
    assert!(
        primary.body["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded for installation ID 8440595.")
    );
    assert_eq!(call(&github, "GET", &path, None).status, 200);

    github.primary_rate_limit_next(1, 403, 60);
    let on_graphql = call(
        &github,
        "POST",
        "/graphql",
        Some(json!({"query": "{ viewer { login } }"})),
    );
    assert_eq!(on_graphql.status, 200);
    assert_eq!(on_graphql.body["errors"][0]["type"], "RATE_LIMITED");
    assert_eq!(on_graphql.headers["x-ratelimit-remaining"], "0");
    let viewer = call(
        &github,
        "POST",
        "/graphql",
        Some(json!({"query": "{ viewer { login } }"})),
    );
    assert_eq!(
        viewer.body,
        json!({"data": {"viewer": {"login": "github-actions[bot]"}}})
    );
}
