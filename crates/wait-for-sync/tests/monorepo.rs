//! wait-for-sync in a monorepo GitOps repository: many services bump one
//! branch, and Argo CD compares and syncs whatever the tip is at its poll,
//! so the commit it runs is usually a later one than ours. The apps follow
//! a real bare repository ([`ArgoCdStandIn::follow_with`]); ancestry is
//! answered by git itself (a `file://` repository, no `github-token`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use hoist_testkit::argocd::{ArgoCdStandIn, Follow, Timeline, presets, steps};
use hoist_testkit::peers::{git, git_output, git_with};
use hoist_testkit::{GitRemote, RunResult, Sandbox};

const TOKEN: &str = "argocd-monorepo-token-0123456789";
const SERVICES: usize = 20;

fn service(i: usize) -> String {
    format!("svc-{i:02}")
}

fn values(i: usize, tag: &str) -> String {
    format!(
        "image:\n  repository: registry.example.com/{}\n  tag: \"{tag}\"\n",
        service(i)
    )
}

/// Commits `contents` as `path` on main with git plumbing, moving the
/// branch by compare-and-swap and starting again from the new tip on a
/// lost race, as bump-manifest's `land` does. Returns the commit and the
/// races lost.
fn land(repo: &std::path::Path, path: &str, contents: &str, message: &str) -> (String, usize) {
    // An index of this writer's own, beside the bare repository.
    let index = repo.with_file_name(format!("index-{}", path.replace('/', "_")));
    let env = [("GIT_INDEX_FILE", index.to_str().unwrap())];
    let blob = git_with(
        repo,
        &["hash-object", "-w", "--stdin"],
        &[],
        contents.as_bytes(),
    );
    for lost in 0..200 {
        let parent = git(repo, &["rev-parse", "refs/heads/main"])
            .trim()
            .to_owned();
        git_with(repo, &["read-tree", &parent], &env, b"");
        let entry = format!("100644,{},{path}", blob.trim());
        git_with(
            repo,
            &["update-index", "--add", "--replace", "--cacheinfo", &entry],
            &env,
            b"",
        );
        let tree = git_with(repo, &["write-tree"], &env, b"");
        let commit = git_with(
            repo,
            &["commit-tree", tree.trim(), "-p", &parent],
            &[],
            message.as_bytes(),
        );
        let commit = commit.trim();
        let swapped = git_output(
            repo,
            &["update-ref", "refs/heads/main", commit, &parent],
            &[],
            b"",
        );
        if swapped.status.success() {
            return (commit.to_owned(), lost);
        }
    }
    panic!("lost 200 races in a row");
}

fn waiting(argocd: &ArgoCdStandIn, app: &str, commit: &str) -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox
        .env("HOIST_BACKOFF_SCALE", "0.005")
        .env("HOIST_GITOPS_COMMIT", commit)
        .input("argocd-server", &argocd.url())
        .input("argocd-token", TOKEN)
        .input("application", app)
        .input("timeout", "60s");
    sandbox
}

/// One service's bump and wait.
struct Wait {
    service: String,
    commit: String,
    lost_races: usize,
    result: RunResult,
    /// From the app coming to rest (Healthy at a commit containing ours)
    /// to the verdict, in ms; negative when the verdict came first.
    after_healthy_ms: Option<i128>,
}

#[test]
fn twenty_concurrent_bumps_each_end_healthy_or_superseded_without_configuration() {
    let files: Vec<(String, String)> = (0..SERVICES)
        .map(|i| {
            (
                format!("apps/{}/values.yaml", service(i)),
                values(i, "1.0.0"),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let remote = GitRemote::with_files(&files);
    let argocd = ArgoCdStandIn::start(TOKEN);
    for i in 0..SERVICES {
        // Argo CD's 3-minute poll, as every 7th request to the stand-in.
        let follow = Follow::path(&format!("apps/{}", service(i)), 7);
        argocd.follow_with(&service(i), &remote.path(), "main", follow);
    }
    let repo = remote.path();
    let url = remote.url();
    let started = Instant::now();
    let waits: Vec<Wait> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..SERVICES)
            .map(|i| {
                let (argocd, repo, url) = (&argocd, &repo, &url);
                scope.spawn(move || {
                    let name = service(i);
                    let path = format!("apps/{name}/values.yaml");
                    let message = format!("{name}: bump to 1.1.0");
                    let (commit, lost_races) = land(repo, &path, &values(i, "1.1.0"), &message);
                    let mut sandbox = waiting(argocd, &name, &commit);
                    // What bump-manifest exports; no github-token.
                    sandbox.env("HOIST_GITOPS_REPOSITORY", url);
                    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
                    let ended = Instant::now();
                    let after_healthy_ms = argocd.settled_at(&name).map(|at| {
                        if ended >= at {
                            (ended - at).as_millis() as i128
                        } else {
                            -((at - ended).as_millis() as i128)
                        }
                    });
                    Wait {
                        service: name,
                        commit,
                        lost_races,
                        result,
                        after_healthy_ms,
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total = started.elapsed();

    println!("service  verdict     commit   lost-races  wait-s  after-healthy-ms  syncs  compared");
    for wait in &waits {
        let outputs = wait.result.outputs();
        println!(
            "{:<8} {:<11} {:<8} {:>10}  {:>6}  {:>16}  {:>5}  {}",
            wait.service,
            outputs.get("status").map_or("-", String::as_str),
            &wait.commit[..7],
            wait.lost_races,
            outputs.get("duration-seconds").map_or("-", String::as_str),
            wait.after_healthy_ms
                .map_or_else(|| "still-rolling".to_owned(), |ms| ms.to_string()),
            argocd.syncs_started(&wait.service),
            argocd.compared(&wait.service).len(),
        );
    }
    println!("all {SERVICES} waits in {:.2}s", total.as_secs_f64());

    let mut verdicts = std::collections::BTreeMap::new();
    for wait in &waits {
        let status = wait.result.outputs().get("status").cloned();
        assert!(
            matches!(status.as_deref(), Some("healthy" | "superseded")),
            "{} ended {status:?}:\n{}",
            wait.service,
            wait.result.stdout
        );
        assert_eq!(wait.result.code, Some(0), "{}", wait.result.stdout);
        *verdicts.entry(status.unwrap()).or_insert(0) += 1;
        // Argo CD ran a commit containing ours, healthy.
        let app = argocd.app_json(&wait.service);
        let synced = app["status"]["operationState"]["syncResult"]["revision"]
            .as_str()
            .unwrap()
            .to_owned();
        let contains = git_output(
            &repo,
            &["merge-base", "--is-ancestor", &wait.commit, &synced],
            &[],
            b"",
        );
        assert!(
            contains.status.success(),
            "{} synced {synced}",
            wait.service
        );
    }
    println!("verdicts: {verdicts:?}");
    // Every bump landed once, on one line of history.
    assert_eq!(remote.log("main").len(), SERVICES + 1);
}

const X0: &str = "3b9d0e2f7a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d";
const X: &str = "8c2f4b1e9d0a7c3b5e6f1a2d4c8b9e0f1a2b3c4d";
const Y: &str = "f00dfeed9d0a7c3b5e6f1a2d4c8b9e0f1a2b3c4d";

#[test]
fn ours_synced_then_a_newer_commit_of_other_apps_compared_is_healthy() {
    // Our sync Succeeds; Argo CD then compares Y, which changed other apps
    // only: Synced at Y, no new operation, reconciled, Healthy.
    let timeline = presets::stale_then_auto_sync(X0, X).then(|app, now| {
        Y.clone_into(&mut app.sync.revision);
        app.reconciled_at = Some(now);
    });
    let argocd = ArgoCdStandIn::start(TOKEN);
    argocd.add_app("payments-dev", timeline);
    // Polling, one state a read: the wait sees every state.
    argocd.set_stream_refused(true);
    // Seen only at Y, as a wait that starts late sees it.
    while argocd.app_json("payments-dev")["status"]["sync"]["revision"] != Y {
        assert!(argocd.advance("payments-dev"));
    }
    let mut sandbox = waiting(&argocd, "payments-dev", X);
    sandbox.input("refresh", "none");
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert_eq!(result.outputs()["status"], "healthy", "{}", result.stdout);
    let app = argocd.app_json("payments-dev");
    assert_eq!(app["status"]["sync"]["revision"], Y);
    assert_eq!(app["status"]["operationState"]["syncResult"]["revision"], X);
}

#[test]
fn at_a_newer_commit_on_github_without_a_token_the_wait_says_at_once_what_would_tell() {
    // Synced at Y (which may contain ours) on a GitHub repository, and no
    // `github-token`: the first waiting line names the input.
    let argocd = ArgoCdStandIn::start(TOKEN);
    let start = 1_787_000_000;
    let mut app = steps::deployed("payments-dev", Y, start);
    app.reconciled_at = Some(start);
    argocd.add_app("payments-dev", Timeline::at(app, start));
    let mut sandbox = waiting(&argocd, "payments-dev", X);
    sandbox
        .env("HOIST_GITOPS_REPOSITORY", "bank-org/gitops-repo")
        .input("timeout", "1s");
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    assert_eq!(result.outputs()["status"], "timeout", "{}", result.stdout);
    let first = result
        .stdout
        .lines()
        .find(|l| l.contains("Argo CD runs f00dfee"))
        .unwrap_or_else(|| panic!("no waiting line:\n{}", result.stdout));
    assert!(
        first.contains("cannot tell whether f00dfee contains it")
            && first.contains("`github-token`")
            && first.contains("bank-org/gitops-repo"),
        "{first}"
    );
}

#[test]
fn at_a_newer_commit_of_a_git_repository_git_tells_superseded_without_a_token() {
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "tag: v1\n")]);
    let x = remote.commit_file("main", "apps/pay/values.yaml", "tag: v2\n", "v2");
    let y = remote.commit_file("main", "apps/pay/values.yaml", "tag: v3\n", "v3");
    let argocd = ArgoCdStandIn::start(TOKEN);
    argocd.add_app("payments-dev", presets::superseded(X0, &x, &y));
    let mut sandbox = waiting(&argocd, "payments-dev", &x);
    sandbox.env("HOIST_GITOPS_REPOSITORY", &remote.url());
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert_eq!(result.outputs()["status"], "superseded");

    // A newer commit that does not contain ours is not superseding.
    let side = remote.commit_file("side", "apps/pay/values.yaml", "tag: v9\n", "side");
    let argocd = ArgoCdStandIn::start(TOKEN);
    argocd.add_app("payments-dev", presets::superseded(X0, &x, &side));
    let mut sandbox = waiting(&argocd, "payments-dev", &x);
    sandbox
        .env("HOIST_GITOPS_REPOSITORY", &remote.url())
        .input("timeout", "1s");
    let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
    assert_eq!(result.outputs()["status"], "timeout", "{}", result.stdout);
}
