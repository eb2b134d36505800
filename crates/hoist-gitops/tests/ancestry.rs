//! `Ancestry::contains` against real git (`file://`) and against the GitHub
//! stand-in's compare API, which computes its answer with git: the same
//! history must get the same answers from both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use hoist_github::{GitHubApi, RepoName};
use hoist_gitops::{Ancestry, Repository, StoreError};
use hoist_http::{Backoff, HttpClient, HttpOptions, RetryPolicy, SystemClock};
use hoist_testkit::github::GitHubStandIn;
use hoist_testkit::peers::GitRemote;

/// A repository whose `main` is seed → a → b, and a branch `side` that
/// forks from the seed.
struct History {
    remote: GitRemote,
    seed: String,
    a: String,
    b: String,
    side: String,
}

fn history() -> History {
    let remote = GitRemote::with_files(&[("README.md", "seed\n")]);
    let seed = remote.head("main");
    let a = remote.commit_file("main", "a.txt", "a\n", "a");
    let b = remote.commit_file("main", "b.txt", "b\n", "b");
    hoist_testkit::peers::git(&remote.path(), &["branch", "side", &seed]);
    let side = remote.commit_file("side", "s.txt", "s\n", "side");
    History {
        remote,
        seed,
        a,
        b,
        side,
    }
}

fn git_ancestry(history: &History, temp: &tempfile::TempDir) -> Ancestry {
    let repository = Repository::parse(&history.remote.url(), "https://github.com").unwrap();
    Ancestry::for_repository(&repository, None, None, temp.path()).unwrap()
}

/// Every question and its answer, for both backends.
async fn assert_answers(ancestry: &Ancestry, h: &History) {
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
            ancestry.contains(newer, older).await.unwrap(),
            expected,
            "{what}"
        );
    }
}

#[tokio::test]
async fn git_answers_from_the_history_it_fetches() {
    let h = history();
    let temp = tempfile::tempdir().unwrap();
    assert_answers(&git_ancestry(&h, &temp), &h).await;
}

#[tokio::test]
async fn git_says_an_unknown_commit_is_not_contained_and_names_a_missing_newer_one() {
    let h = history();
    let temp = tempfile::tempdir().unwrap();
    let ancestry = git_ancestry(&h, &temp);
    let unknown = "1".repeat(40);
    assert!(!ancestry.contains(&h.b, &unknown).await.unwrap());
    let error = ancestry.contains(&unknown, &h.a).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::CommitMissing(c) if *c == unknown),
        "{error:?}"
    );
}

#[tokio::test]
async fn anything_but_a_full_commit_id_is_refused_before_git_runs() {
    let h = history();
    let temp = tempfile::tempdir().unwrap();
    let ancestry = git_ancestry(&h, &temp);
    for bad in ["--upload-pack=touch /tmp/x", "HEAD", "main", "b~1"] {
        let error = ancestry.contains(bad, &h.a).await.unwrap_err();
        assert!(
            matches!(error, StoreError::BadCommit(ref c) if c == bad),
            "{error:?}"
        );
        let error = ancestry.contains(&h.b, bad).await.unwrap_err();
        assert!(
            matches!(error, StoreError::BadCommit(ref c) if c == bad),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn github_compare_gives_the_same_answers() {
    let h = history();
    let (seed, a, b, side) = (h.seed.clone(), h.a.clone(), h.b.clone(), h.side.clone());
    let github = GitHubStandIn::start("bank-org", "gitops", h.remote, "job-token");
    let env = BTreeMap::new();
    let api = GitHubApi::new(
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
    );
    let repository = Repository::parse("bank-org/gitops", "https://github.com").unwrap();
    let temp = tempfile::tempdir().unwrap();
    let ancestry = Ancestry::for_repository(&repository, Some(api), None, temp.path()).unwrap();
    assert!(matches!(ancestry, Ancestry::GitHub(_)));
    let h = History {
        remote: GitRemote::with_files(&[]),
        seed,
        a,
        b,
        side,
    };
    assert_answers(&ancestry, &h).await;
    assert!(!ancestry.contains(&h.b, &"2".repeat(40)).await.unwrap());
}
