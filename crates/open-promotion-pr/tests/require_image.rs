//! require-image against the Debian `docker-registry` (htpasswd): an image
//! that is there lets the promotion open; one that is not fails before any
//! branch or pull request exists. The image is pushed with skopeo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use hoist_testkit::github::{GitHubStandIn, TokenKind};
use hoist_testkit::oci::{Layout, layer};
use hoist_testkit::peers::require;
use hoist_testkit::{GitRemote, Registry, RegistryAuth, Sandbox};

const TOKEN: &str = "ghp_promoterPersonalToken0123456789";
const USER: &str = "ci";
const PASSWORD: &str = "registry-password-0123456789";

/// Pushes a one-layer image to `host/payments:tag` and gives its digest.
fn push(host: &str, tag: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(&dir.path().join("image"));
    let root = layout.image("linux/amd64", &[layer("app/server", b"payments build")]);
    layout.finish(&root);
    let digest_file = dir.path().join("digest");
    let status = Command::new(require("skopeo", "the Debian package `skopeo`"))
        .args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            &format!("{USER}:{PASSWORD}"),
        ])
        .arg("--digestfile")
        .arg(&digest_file)
        .arg(format!("oci:{}", layout.dir().display()))
        .arg(format!("docker://{host}/payments:{tag}"))
        .status()
        .unwrap();
    assert!(status.success(), "skopeo copy failed");
    std::fs::read_to_string(digest_file)
        .unwrap()
        .trim()
        .to_owned()
}

fn world(registry: &Registry, digest: &str) -> (GitHubStandIn, Sandbox) {
    let overlay = |tag: &str, digest: Option<&str>| {
        let mut text = format!(
            "images:\n  - name: payments\n    newName: {}/payments\n    newTag: {tag}\n",
            registry.host()
        );
        if let Some(digest) = digest {
            text.push_str(&format!("    digest: {digest}\n"));
        }
        text
    };
    let remote = GitRemote::with_files(&[
        (
            "apps/payments/overlays/dev/kustomization.yaml",
            &overlay("v1.1.0", Some(digest)),
        ),
        (
            "apps/payments/overlays/staging/kustomization.yaml",
            &overlay("v1.0.0", None),
        ),
    ]);
    let github = GitHubStandIn::start("bank-org", "gitops-repo", remote, "ghs_unused");
    github.add_token(TOKEN, TokenKind::Pat);
    let mut sandbox = Sandbox::new();
    sandbox
        .env("HOIST_BACKOFF_SCALE", "0")
        .env("GITHUB_API_URL", &github.url())
        .input("repository", "bank-org/gitops-repo")
        .input("token", TOKEN)
        .input("from-env", "dev")
        .input("to-env", "staging")
        .input("apps", "payments")
        .input("require-image", "true")
        .input("insecure-registry", "true")
        .input("registry-username", USER)
        .input("registry-password", PASSWORD);
    (github, sandbox)
}

#[test]
fn an_image_in_the_registry_lets_the_promotion_open() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    let digest = push(&registry.host(), "v1.1.0");
    let (_github, sandbox) = world(&registry, &digest);
    let result = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    assert_eq!(result.code, Some(0), "{}", result.stdout);
    assert_eq!(result.outputs()["pull-request-operation"], "created");
    result.assert_masked(&[TOKEN, PASSWORD]);
}

#[test]
fn a_missing_image_fails_before_any_branch_is_pushed() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: USER.into(),
        password: PASSWORD.into(),
    });
    push(&registry.host(), "v1.1.0");
    let missing = format!("sha256:{}", "0".repeat(64));
    let (github, sandbox) = world(&registry, &missing);
    let result = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
    result.assert_failed_cleanly(&["is not in its registry", &missing, "push the image first"]);
    assert_eq!(
        github.request_count("POST", "/repos/bank-org/gitops-repo/git/refs"),
        0
    );
    assert_eq!(
        github.request_count("POST", "/repos/bank-org/gitops-repo/pulls"),
        0
    );
}
