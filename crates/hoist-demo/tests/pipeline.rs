//! End to end under `act`: a service's push to main calls hoist's reusable
//! `ship.yml` (its prebuilt-image path: buildx cannot run here), which runs
//! the one-step action (assume → push → sign, then bump → wait), then
//! `promote.yml`; the final state is read back from each peer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hoist_testkit::pipeline::{ARGOCD_TOKEN, DEV_APP, GITOPS_TOKEN, PROD_APP, Pipeline};

#[test]
fn ship_then_promote_lands_the_image_signed_in_dev_and_opens_the_staging_pr() {
    let pipeline = Pipeline::start();
    let before = pipeline.gitops().head("main");
    let hoist_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hoist-demo"))
        .parent()
        .unwrap();
    let outcome = pipeline.run(&hoist_root, bin_dir);
    let log = &outcome.act.log;
    if std::env::var_os("HOIST_SHOW_LOG").is_some() {
        eprintln!("{log}");
    }
    assert_eq!(outcome.act.code, Some(0), "act failed:\n{log}");
    for secret in [GITOPS_TOKEN, ARGOCD_TOKEN] {
        assert!(!log.contains(secret), "a secret reached the log:\n{log}");
    }

    // The registry: the image under its branch tag, and its signature.
    let digest = outcome.field("digest").expect("report").to_owned();
    let tag = outcome.field("tag").unwrap().to_owned();
    assert!(digest.starts_with("sha256:"), "{outcome:?}");
    assert!(tag.starts_with("main-"), "{tag}");
    let tags = pipeline.registry_tags();
    assert!(tags.contains(&tag), "{tags:?}");
    let signature_tag = format!("sha256-{}.sig", &digest[7..]);
    assert!(
        tags.contains(&signature_tag),
        "no signature tag in {tags:?}"
    );
    assert!(
        !pipeline.rekor.entries().is_empty(),
        "nothing was logged in Rekor"
    );

    // The GitOps repository: one commit on main writing the tag into dev.
    let commit = outcome.field("commit").unwrap();
    assert_eq!(pipeline.gitops().head("main"), commit);
    assert_ne!(commit, before);
    let dev = pipeline
        .gitops()
        .read("main", "charts/myshop-api/values-dev.yaml");
    assert!(
        dev.contains(&format!("tag: \"{tag}\" # CI writes this")),
        "{dev}"
    );
    assert!(
        pipeline
            .gitops()
            .read("main", "charts/myshop-api/values-staging.yaml")
            .contains("tag: \"1.4.1\""),
        "staging changed on main"
    );

    // Argo CD ran exactly that commit, healthy.
    assert_eq!(outcome.field("status"), Some("healthy"), "{log}");
    let app = pipeline.argocd.app_json(DEV_APP);
    assert_eq!(app["status"]["sync"]["revision"], commit);
    assert_eq!(app["status"]["health"]["status"], "Healthy");

    // The staging promotion: one pull request from its branch, carrying dev's tag.
    let pulls = pipeline.github.open_pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let pull = &pulls[0];
    assert_eq!(outcome.field("pr"), Some(pull.number.to_string().as_str()));
    assert_eq!(
        (pull.base.as_str(), outcome.field("branch")),
        ("main", Some(pull.head.as_str()))
    );
    let staging = pipeline
        .gitops()
        .read(&pull.head, "charts/myshop-api/values-staging.yaml");
    assert!(staging.contains(&format!("tag: \"{tag}\"")), "{staging}");
}

#[test]
fn a_release_tag_ships_the_version_to_prod_and_opens_no_promotion() {
    let pipeline = Pipeline::start();
    let hoist_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hoist-demo"))
        .parent()
        .unwrap();
    let outcome = pipeline.run_at("refs/tags/v1.4.2", &hoist_root, bin_dir);
    let log = &outcome.act.log;
    assert_eq!(outcome.act.code, Some(0), "act failed:\n{log}");

    // The semver tag, not a branch tag; written into prod only.
    assert_eq!(outcome.field("tag"), Some("1.4.2"), "{log}");
    assert!(pipeline.registry_tags().contains(&"1.4.2".to_owned()));
    let read = |env: &str| {
        pipeline
            .gitops()
            .read("main", &format!("charts/myshop-api/values-{env}.yaml"))
    };
    assert!(
        read("prod").contains("tag: \"1.4.2\" # CI writes this"),
        "{}",
        read("prod")
    );
    assert!(
        read("dev").contains("tag: \"1.4.1\""),
        "dev changed on a tag"
    );

    let commit = outcome.field("commit").unwrap();
    assert_eq!(outcome.field("status"), Some("healthy"), "{log}");
    let app = pipeline.argocd.app_json(PROD_APP);
    assert_eq!(app["status"]["sync"]["revision"], commit);
    assert!(pipeline.github.open_pulls().is_empty());
    assert_eq!(outcome.field("pr"), Some(""));
}
