//! `History` against real git (`file://`) and against the GitHub stand-in's
//! REST API, which computes its answers with git: the same history must get
//! the same answers from both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use hoist_github::{GitHubApi, RepoName};
use hoist_gitops::{History, Repository, StoreError};
use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_testkit::github::GitHubStandIn;
use hoist_testkit::peers::GitRemote;

/// A repository whose `main` is seed → a → b, and a branch `side` that
/// forks from the seed.
struct Lines {
    remote: GitRemote,
    seed: String,
    a: String,
    b: String,
    side: String,
}

fn lines() -> Lines {
    let remote = GitRemote::with_files(&[("README.md", "seed\n")]);
    let seed = remote.head("main");
    let a = remote.commit_file("main", "a.txt", "a\n", "a");
    let b = remote.commit_file("main", "b.txt", "b\n", "b");
    hoist_testkit::peers::git(&remote.path(), &["branch", "side", &seed]);
    let side = remote.commit_file("side", "s.txt", "s\n", "side");
    Lines {
        remote,
        seed,
        a,
        b,
        side,
    }
}

/// A client of the stand-in's repository `bank-org/gitops`.
fn api(github: &GitHubStandIn) -> GitHubApi {
    let env = BTreeMap::new();
    GitHubApi::new(
        HttpClient::new(&HttpOptions::new("hoist-gitops-test", "0"), &env).unwrap(),
        RetryPolicy {
            max_attempts: 2,
            deadline: None,
            backoff: Backoff::default().scaled_by_env(&env),
        },
        Arc::new(SystemClock::default()),
        github.url().parse().unwrap(),
        RepoName::parse("bank-org/gitops").unwrap(),
        "job-token",
    )
}

fn git_history(h: &Lines, temp: &tempfile::TempDir) -> History {
    let repository = Repository::parse(&h.remote.url(), "https://github.com").unwrap();
    History::for_repository(&repository, None, None, temp.path()).unwrap()
}

/// Every question and its answer, for both backends.
async fn assert_answers(history: &History, h: &Lines) {
    let cases = [
        (&h.b, &h.a, true, "a later commit contains an earlier one"),
        (&h.b, &h.seed, true, "the tip contains the root"),
        (&h.a, &h.a, true, "a commit contains itself"),
        (
            &h.a,
            &h.b,
            false,
            "an earlier commit does not contain a later one",
        ),
        (
            &h.side,
            &h.a,
            false,
            "a fork does not contain the other line",
        ),
        (&h.b, &h.side, false, "nor the other way round"),
        (&h.side, &h.seed, true, "a fork contains the fork point"),
    ];
    for (newer, older, expected, what) in cases {
        assert_eq!(
            history.contains(newer, older).await.unwrap(),
            expected,
            "{what}"
        );
    }
}

#[tokio::test]
async fn git_answers_from_the_history_it_fetches() {
    let h = lines();
    let temp = tempfile::tempdir().unwrap();
    assert_answers(&git_history(&h, &temp), &h).await;
}

#[tokio::test]
async fn git_says_an_unknown_commit_is_not_contained_and_names_a_missing_newer_one() {
    let h = lines();
    let temp = tempfile::tempdir().unwrap();
    let history = git_history(&h, &temp);
    let unknown = "1".repeat(40);
    assert!(!history.contains(&h.b, &unknown).await.unwrap());
    let error = history.contains(&unknown, &h.a).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::CommitMissing(c) if *c == unknown),
        "{error:?}"
    );
}

#[tokio::test]
async fn anything_but_a_full_commit_id_is_refused_before_git_runs() {
    let h = lines();
    let temp = tempfile::tempdir().unwrap();
    let history = git_history(&h, &temp);
    for bad in ["--upload-pack=touch /tmp/x", "HEAD", "main", "b~1"] {
        let error = history.contains(bad, &h.a).await.unwrap_err();
        assert!(
            matches!(error, StoreError::BadCommit(ref c) if c == bad),
            "{error:?}"
        );
        let error = history.contains(&h.b, bad).await.unwrap_err();
        assert!(
            matches!(error, StoreError::BadCommit(ref c) if c == bad),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn github_compare_gives_the_same_answers() {
    let h = lines();
    let (seed, a, b, side) = (h.seed.clone(), h.a.clone(), h.b.clone(), h.side.clone());
    let github = GitHubStandIn::start("bank-org", "gitops", h.remote, "job-token");
    let repository = Repository::parse("bank-org/gitops", "https://github.com").unwrap();
    let temp = tempfile::tempdir().unwrap();
    let history =
        History::for_repository(&repository, Some(api(&github)), None, temp.path()).unwrap();
    assert!(matches!(history, History::GitHub(_)));
    let h = Lines {
        remote: GitRemote::with_files(&[]),
        seed,
        a,
        b,
        side,
    };
    assert_answers(&history, &h).await;
    assert!(!history.contains(&h.b, &"2".repeat(40)).await.unwrap());
}

/// `main` of [`history`] plus two commits touching `a.txt` on top: the
/// file's history, newest first, is those two and `a`.
fn touch_a_twice(h: &Lines) -> Vec<String> {
    let first = h
        .remote
        .commit_file("main", "a.txt", "a2\n", "a again\n\nHoist-Source: o/r@1");
    let second = h.remote.commit_file("main", "a.txt", "a3\n", "a once more");
    vec![second, first, h.a.clone()]
}

fn shas(commits: &[hoist_gitops::PathCommit]) -> Vec<String> {
    commits.iter().map(|c| c.sha.clone()).collect()
}

#[tokio::test]
async fn git_lists_the_commits_that_touched_a_file_newest_first() {
    let h = lines();
    let expected = touch_a_twice(&h);
    let temp = tempfile::tempdir().unwrap();
    let git = git_history(&h, &temp);
    let path = hoist_gitops::RepoPath::new("a.txt").unwrap();
    let head = h.remote.head("main");
    let commits = git.commits_touching(&head, &path, 100).await.unwrap();
    assert_eq!(shas(&commits), expected);
    assert!(
        commits[1].message.contains("Hoist-Source: o/r@1"),
        "{commits:?}"
    );
    // The depth bounds the walk.
    let temp = tempfile::tempdir().unwrap();
    let shallow = git_history(&h, &temp);
    let commits = shallow.commits_touching(&head, &path, 2).await.unwrap();
    assert_eq!(shas(&commits), expected[..2]);
}

#[tokio::test]
async fn github_lists_the_same_commits() {
    let h = lines();
    let expected = touch_a_twice(&h);
    let head = h.remote.head("main");
    let github = GitHubStandIn::start("bank-org", "gitops", h.remote, "job-token");
    let history = History::for_repository(
        &Repository::parse("bank-org/gitops", "https://github.com").unwrap(),
        Some(api(&github)),
        None,
        tempfile::tempdir().unwrap().path(),
    )
    .unwrap();
    let path = hoist_gitops::RepoPath::new("a.txt").unwrap();
    let commits = history.commits_touching(&head, &path, 100).await.unwrap();
    assert_eq!(shas(&commits), expected);
    assert!(
        commits[1].message.contains("Hoist-Source: o/r@1"),
        "{commits:?}"
    );
}
