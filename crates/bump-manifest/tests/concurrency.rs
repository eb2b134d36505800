//! Thirty bumps at once into one repository: twenty apps each bumping
//! their own overlay, and ten jobs of one app with increasing versions.
//! No update may be lost, none may report success without landing, and the
//! contested key must end at the newest version. Backoff waits are scaled
//! to zero, so nothing sleeps.
//!
//! Then builds that finish out of order with commit tags (`main-<sha>`):
//! the older build's bump is superseded by its source commit, on both
//! backends and both ways of asking (git, GitHub's compare API), and writes
//! when the question cannot be answered or `policy: always` says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use hoist_testkit::GitRemote;
use hoist_testkit::github::GitHubStandIn;
use hoist_testkit::peers::git_output;

const APPS: usize = 20;
const VERSIONS: usize = 10;
const SHARED: &str = "charts/shared/values-dev.yaml";

fn overlay(app: usize) -> String {
    format!("apps/app-{app:02}/overlays/dev/kustomization.yaml")
}

#[test]
fn thirty_concurrent_bumps_lose_nothing_and_the_newest_version_wins() {
    let mut files: Vec<(String, String)> = (0..APPS)
        .map(|app| {
            (
                overlay(app),
                format!("images:\n  - name: app-{app:02}\n    newTag: v0.0.1 # CI\n"),
            )
        })
        .collect();
    files.push((SHARED.into(), "image:\n  tag: 1.0.0\n".into()));
    let seed: Vec<(&str, &str)> = files
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    let remote = GitRemote::with_files(&seed);
    let seed_head = remote.head("main");

    let mut jobs: Vec<(String, String, String)> = (0..APPS)
        .map(|app| {
            (
                overlay(app),
                format!("images[name=app-{app:02}].newTag"),
                format!("v1.0.{app}"),
            )
        })
        .collect();
    jobs.extend((1..=VERSIONS).map(|n| {
        (
            SHARED.to_owned(),
            "image.tag".to_owned(),
            format!("1.0.{n}"),
        )
    }));

    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(file, key, value)| {
                let url = remote.url();
                scope.spawn(move || {
                    let mut sandbox = sandbox();
                    sandbox
                        .input("repository", &url)
                        .input("edits", &format!("{file}:{key}={value}"))
                        .input("max-attempts", "30");
                    bump(&sandbox)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let head = remote.head("main");
    let mut landed = Vec::new();
    for ((file, _, value), result) in jobs.iter().zip(&results) {
        let outputs = succeeded(result);
        match (outputs["changed"].as_str(), outputs["superseded"].as_str()) {
            ("true", "false") => {
                let commit = &outputs["commit-sha"];
                let ancestry = git_output(
                    &remote.path(),
                    &["merge-base", "--is-ancestor", commit, &head],
                    &[],
                    b"",
                );
                assert!(
                    ancestry.status.success(),
                    "{file}={value} reported {commit}, which is not on main"
                );
                landed.push(commit.clone());
            }
            ("false", "true") => {
                assert!(file == SHARED, "only the contested key can be superseded")
            }
            other => panic!("{file}={value}: unexpected outcome {other:?}"),
        }
    }
    // Every app's own bump landed: no lost update.
    for app in 0..APPS {
        assert!(
            remote
                .read("main", &overlay(app))
                .contains(&format!("newTag: v1.0.{app} # CI")),
            "app {app} lost its bump"
        );
    }
    // The contested key ends at the newest version, whatever the order.
    assert_eq!(
        remote.read("main", SHARED),
        format!("image:\n  tag: 1.0.{VERSIONS}\n")
    );
    // No commit lost or made twice: main holds exactly the landed commits.
    let commits = remote.commits("main");
    let since_seed: Vec<_> = commits
        .iter()
        .take_while(|c| c.sha != seed_head)
        .map(|c| c.sha.clone())
        .collect();
    let mut reported = landed.clone();
    reported.sort();
    let mut on_main = since_seed.clone();
    on_main.sort();
    assert_eq!(
        reported, on_main,
        "the landed commits are exactly main's new history"
    );
    // Along history the contested key only ever went up.
    let mut seen = BTreeMap::new();
    for sha in since_seed.iter().rev() {
        let text = remote.read(sha, SHARED);
        let version: u32 = text.trim().rsplit('.').next().unwrap().parse().unwrap();
        let last = seen.values().last().copied().unwrap_or(0);
        assert!(
            version >= last,
            "the contested key went back from 1.0.{last} to 1.0.{version}"
        );
        seen.insert(seen.len(), version);
    }
}

// Commit tags (`main-<sha>`) are not versions: `policy: auto` compares them
// by the source commit each bump records in its `Hoist-Source` trailer.

const TOKEN: &str = "ghs_sourceAndGitopsToken0123456789abcd";
const SOURCE_REPO: &str = "src-org/payments-api";
const TARGET: &str = "apps/payments/overlays/dev/kustomization.yaml";

/// The source repository of the builds: each build is a commit on `main`,
/// every one a descendant of the ones before.
struct Builds {
    commits: Vec<String>,
    /// `file://` "server" holding `src-org/payments-api.git`, a link to
    /// `source`, for `GITHUB_SERVER_URL`.
    server: tempfile::TempDir,
}

impl Builds {
    /// The builds, and the source repository (for a stand-in to serve).
    fn new(count: usize) -> (Self, GitRemote) {
        let source = GitRemote::with_files(&[("src/main.rs", "fn main() {}\n")]);
        let commits = (0..count)
            .map(|n| {
                source.commit_file(
                    "main",
                    "src/main.rs",
                    &format!("fn main() {{ /* {n} */ }}\n"),
                    &format!("feature {n}"),
                )
            })
            .collect();
        let server = tempfile::tempdir().unwrap();
        std::fs::create_dir(server.path().join("src-org")).unwrap();
        std::os::unix::fs::symlink(
            source.path(),
            server.path().join("src-org/payments-api.git"),
        )
        .unwrap();
        (Self { commits, server }, source)
    }

    fn file_server(&self) -> String {
        format!("file://{}", self.server.path().display())
    }

    fn tag(&self, build: usize) -> String {
        format!("main-{}", &self.commits[build][..7])
    }

    /// A sandbox for build `build`'s bump of the payments overlay to its tag.
    fn sandbox(&self, build: usize) -> hoist_testkit::Sandbox {
        let mut sandbox = sandbox();
        sandbox
            .env("GITHUB_REPOSITORY", SOURCE_REPO)
            .env("GITHUB_SHA", &self.commits[build])
            .env("GITHUB_SERVER_URL", &self.file_server())
            .input(
                "edits",
                &format!(
                    "{TARGET}:images[name=payments-api].newTag={}",
                    self.tag(build)
                ),
            );
        sandbox
    }

    fn trailer(&self, build: usize) -> String {
        format!("Hoist-Source: {SOURCE_REPO}@{}", self.commits[build])
    }
}

fn new_tag_line(tag: &str) -> String {
    format!("newTag: {tag} # overridden per environment")
}

/// Runs build B's bump (the newer), then A's (the older): A is superseded
/// and writes nothing; with `policy: always` it writes. `gitops` is where
/// the branch lives; `prepare` sets each sandbox up for the backend.
fn out_of_order(
    builds: &Builds,
    gitops: &GitRemote,
    prepare: &dyn Fn(&mut hoist_testkit::Sandbox),
) -> hoist_testkit::RunResult {
    let (a, b) = (0, 1);
    let mut newer = builds.sandbox(b);
    prepare(&mut newer);
    let outputs = succeeded(&bump(&newer));
    assert_eq!(outputs["changed"], "true");
    let landed = gitops.head("main");
    assert!(
        gitops
            .read("main", TARGET)
            .contains(&new_tag_line(&builds.tag(b)))
    );
    assert!(
        gitops.commits("main")[0].body.contains(&builds.trailer(b)),
        "{:?}",
        gitops.commits("main")[0]
    );

    let mut older = builds.sandbox(a);
    prepare(&mut older);
    let result = bump(&older);
    let outputs = succeeded(&result);
    assert_eq!(outputs["superseded"], "true");
    assert_eq!(outputs["changed"], "false");
    assert_eq!(outputs["commit-sha"], landed);
    assert_eq!(gitops.head("main"), landed, "nothing was written");
    assert!(
        gitops
            .read("main", TARGET)
            .contains(&new_tag_line(&builds.tag(b)))
    );
    let warning = result
        .stdout
        .lines()
        .find(|l| l.starts_with("::warning"))
        .unwrap_or_else(|| panic!("no warning:\n{}", result.stdout));
    assert!(warning.contains(&builds.commits[b]), "{warning}");

    older.input("policy", "always");
    let outputs = succeeded(&bump(&older));
    assert_eq!(outputs["changed"], "true");
    assert!(
        gitops
            .read("main", TARGET)
            .contains(&new_tag_line(&builds.tag(a)))
    );
    assert!(gitops.commits("main")[0].body.contains(&builds.trailer(a)));

    // B again: its source contains A's, so it moves forward.
    let outputs = succeeded(&bump(&newer));
    assert_eq!(outputs["changed"], "true");
    assert!(
        gitops
            .read("main", TARGET)
            .contains(&new_tag_line(&builds.tag(b)))
    );
    result
}

#[test]
fn an_older_build_s_commit_tag_is_superseded_on_the_git_backend() {
    let (builds, _source) = Builds::new(2);
    let gitops = GitRemote::with_files(SEED);
    let url = gitops.url();
    out_of_order(&builds, &gitops, &|sandbox| {
        sandbox.input("repository", &url);
    });
}

#[test]
fn the_compare_api_answers_for_a_source_on_github() {
    let (builds, source) = Builds::new(2);
    // The stand-in serves the builds' repository, not the GitOps one.
    let github = GitHubStandIn::start("src-org", "payments-api", source, TOKEN);
    let gitops = GitRemote::with_files(SEED);
    let url = gitops.url();
    let api = github.url();
    out_of_order(&builds, &gitops, &|sandbox| {
        sandbox
            .input("repository", &url)
            .input("github-token", TOKEN)
            .env("GITHUB_SERVER_URL", &api)
            .env("GITHUB_API_URL", &api);
    });
    assert_eq!(
        github.request_count("GET", "/repos/src-org/payments-api/compare/"),
        2,
        "A behind B (superseded), then B ahead of A"
    );
}

#[test]
fn the_github_api_backend_finds_the_last_writer_through_the_commits_api() {
    let (builds, _source) = Builds::new(2);
    let github = GitHubStandIn::start(
        "bank-org",
        "gitops-repo",
        GitRemote::with_files(SEED),
        TOKEN,
    );
    let api = github.url();
    out_of_order(&builds, github.remote(), &|sandbox| {
        sandbox
            .input("repository", "bank-org/gitops-repo")
            .input("backend", "github-api")
            .input("token", TOKEN)
            .env("GITHUB_API_URL", &api);
    });
    let listed = github
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/repos/bank-org/gitops-repo/commits")
        .collect::<Vec<_>>();
    assert_eq!(listed.len(), 3, "one list per bump that compared by source");
    let query = listed[0].query.clone().unwrap_or_default();
    assert!(
        query.contains("path=apps%2Fpayments%2Foverlays%2Fdev%2Fkustomization.yaml"),
        "{query}"
    );
}

/// B's bump, then A's against a source on the GitHub stand-in, set up by
/// `prepare`; A's run.
fn older_after_newer_on_github(
    prepare: &dyn Fn(&mut hoist_testkit::Sandbox, &GitHubStandIn),
) -> (Builds, GitRemote, hoist_testkit::RunResult) {
    let (builds, source) = Builds::new(2);
    let github = GitHubStandIn::start("src-org", "payments-api", source, TOKEN);
    let gitops = GitRemote::with_files(SEED);
    let setup = |sandbox: &mut hoist_testkit::Sandbox| {
        sandbox
            .input("repository", &gitops.url())
            .input("github-token", TOKEN)
            .env("GITHUB_SERVER_URL", &github.url())
            .env("GITHUB_API_URL", &github.url());
    };
    let mut newer = builds.sandbox(1);
    setup(&mut newer);
    succeeded(&bump(&newer));
    let mut older = builds.sandbox(0);
    setup(&mut older);
    prepare(&mut older, &github);
    let result = bump(&older);
    (builds, gitops, result)
}

fn warnings(result: &hoist_testkit::RunResult) -> Vec<String> {
    result
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .map(hoist_testkit::sandbox::unescape)
        .collect()
}

#[test]
fn without_github_token_the_bump_warns_once_and_writes() {
    let (builds, gitops, result) = older_after_newer_on_github(&|sandbox, _| {
        sandbox.unset("INPUT_GITHUB-TOKEN");
    });
    let outputs = succeeded(&result);
    assert_eq!(outputs["superseded"], "false");
    assert_eq!(outputs["changed"], "true");
    assert!(
        gitops
            .read("main", TARGET)
            .contains(&new_tag_line(&builds.tag(0)))
    );
    let warnings = warnings(&result);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("set `github-token`"),
        "{}",
        warnings[0]
    );
}

#[test]
fn an_unanswerable_compare_warns_and_writes() {
    let (builds, gitops, result) = older_after_newer_on_github(&|_, github| {
        // Every try of the one compare fails: 5xx is retried, then given up.
        for _ in 0..4 {
            github.fault_on(
                "/repos/src-org/payments-api/compare/",
                hoist_testkit::Fault::Status(503),
            );
        }
    });
    let outputs = succeeded(&result);
    assert_eq!(outputs["superseded"], "false");
    assert!(
        gitops
            .read("main", TARGET)
            .contains(&new_tag_line(&builds.tag(0)))
    );
    let warnings = warnings(&result);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("could not tell whether"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("`github-token`"), "{}", warnings[0]);
}

#[test]
fn concurrent_builds_of_commit_tags_end_at_the_newest_source_commit() {
    const BUILDS: usize = 6;
    let (builds, _source) = Builds::new(BUILDS);
    let gitops = GitRemote::with_files(SEED);
    let seed = gitops.head("main");
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..BUILDS)
            .rev()
            .map(|build| {
                let mut sandbox = builds.sandbox(build);
                sandbox
                    .input("repository", &gitops.url())
                    .input("max-attempts", "30");
                scope.spawn(move || (build, bump(&sandbox)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (build, result) in &results {
        let outputs = succeeded(result);
        assert_ne!(
            (outputs["changed"].as_str(), outputs["superseded"].as_str()),
            ("true", "true"),
            "build {build}"
        );
    }
    assert!(
        gitops
            .read("main", TARGET)
            .contains(&new_tag_line(&builds.tag(BUILDS - 1))),
        "the newest build's tag wins, whatever the order"
    );
    // Along history the key only ever moved to newer builds.
    let order: Vec<usize> = gitops
        .commits("main")
        .iter()
        .take_while(|c| c.sha != seed)
        .map(|c| {
            (0..BUILDS)
                .find(|&b| c.body.contains(&builds.trailer(b)))
                .unwrap()
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] > w[1]),
        "newest first, strictly: {order:?}"
    );
}

#[test]
fn a_build_of_another_source_repository_is_not_compared() {
    let (builds, _source) = Builds::new(2);
    let gitops = GitRemote::with_files(SEED);
    let mut newer = builds.sandbox(1);
    newer.input("repository", &gitops.url());
    succeeded(&bump(&newer));
    let mut other = builds.sandbox(0);
    other
        .input("repository", &gitops.url())
        .env("GITHUB_REPOSITORY", "src-org/another-service");
    let result = bump(&other);
    let outputs = succeeded(&result);
    assert_eq!(outputs["superseded"], "false");
    assert_eq!(outputs["changed"], "true");
    assert!(
        gitops
            .read("main", TARGET)
            .contains(&new_tag_line(&builds.tag(0)))
    );
    assert!(warnings(&result).is_empty(), "{:?}", warnings(&result));
    assert!(gitops.commits("main")[0].body.contains(&format!(
        "Hoist-Source: src-org/another-service@{}",
        builds.commits[0]
    )));
}
