//! Thirty bumps at once into one repository: twenty apps each bumping
//! their own overlay, and ten jobs of one app with increasing versions.
//! No update may be lost, none may report success without landing, and the
//! contested key must end at the newest version. Backoff waits are scaled
//! to zero, so nothing sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use hoist_testkit::GitRemote;
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
