//! The world a bump-manifest test runs in: a real bare GitOps repository
//! holding the seed documents' three layouts, and a runner sandbox.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hoist_testkit::peers::git_with;
use hoist_testkit::{GitRemote, RunResult, Sandbox};

/// The binary under test.
pub(crate) fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_bump-manifest")
}

/// The Helm values of the myshop-api document (000).
pub(crate) const HELM_DEV: &str = "\
# myshop-api in dev: CI writes image.tag
replicaCount: 1

image:
  repository: 123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api
  tag: \"abc1233\"   # set by CI
  pullPolicy: IfNotPresent

resources:
  requests: {cpu: 100m, memory: 128Mi}
";

/// The prod values, on a semver tag.
pub(crate) const HELM_PROD: &str = "\
replicaCount: 6
image:
  repository: 123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api
  tag: v1.4.0
";

/// The payments-api dev overlay of the Kustomize document (002).
pub(crate) const KUSTOMIZE_DEV: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
patches:
  - path: replicas.yaml
images:
  - name: payments-api
    newName: 111111111111.dkr.ecr.me-south-1.amazonaws.com/payments-api
    newTag: latest # overridden per environment
";

/// The order-service staging overlay of the promotion script (001).
pub(crate) const SERVICES_STAGING: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: order-service
resources:
- ../../base
images:
- name: order-service
  newName: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-service
  newTag: abc1233
";

/// The seed repository's files.
pub(crate) const SEED: &[(&str, &str)] = &[
    ("charts/myshop-api/values-dev.yaml", HELM_DEV),
    ("charts/myshop-api/values-prod.yaml", HELM_PROD),
    (
        "apps/payments/overlays/dev/kustomization.yaml",
        KUSTOMIZE_DEV,
    ),
    (
        "services/order-service/overlays/staging/kustomization.yaml",
        SERVICES_STAGING,
    ),
    ("README.md", "the GitOps repository\n"),
];

/// A sandbox whose backoff waits are zero, so retries never sleep.
pub(crate) fn sandbox() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.env("HOIST_BACKOFF_SCALE", "0");
    sandbox
}

/// A sandbox set up to bump `remote` over `file://`.
pub(crate) fn sandbox_for(remote: &GitRemote) -> Sandbox {
    let mut sandbox = sandbox();
    sandbox.input("repository", &remote.url());
    sandbox
}

/// Runs the binary with the sandbox's inputs.
pub(crate) fn bump(sandbox: &Sandbox) -> RunResult {
    sandbox.run(binary(), &[])
}

/// Asserts a successful run and hands back its outputs.
pub(crate) fn succeeded(result: &RunResult) -> std::collections::BTreeMap<String, String> {
    assert_eq!(
        result.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        result.stdout,
        result.stderr
    );
    result.outputs()
}

/// `text` with exactly one occurrence of `old` replaced by `new`.
pub(crate) fn replaced_once(text: &str, old: &str, new: &str) -> String {
    assert_eq!(
        text.matches(old).count(),
        1,
        "{old:?} is not unique in the fixture"
    );
    text.replacen(old, new, 1)
}

/// Commits a symbolic link `path` → `target` on the bare repository's `main`.
pub(crate) fn commit_symlink(remote: &GitRemote, path: &str, target: &str) {
    let bare = remote.path();
    let index = bare.join("hoist-test-index");
    let index = index.to_str().unwrap();
    let env = [("GIT_INDEX_FILE", index)];
    let blob = git_with(
        &bare,
        &["hash-object", "-w", "--stdin"],
        &[],
        target.as_bytes(),
    );
    git_with(&bare, &["read-tree", "main"], &env, b"");
    let info = format!("120000,{},{path}", blob.trim());
    git_with(
        &bare,
        &["update-index", "--add", "--cacheinfo", &info],
        &env,
        b"",
    );
    let tree = git_with(&bare, &["write-tree"], &env, b"");
    let commit = git_with(
        &bare,
        &["commit-tree", tree.trim(), "-p", "main", "-m", "add a link"],
        &[],
        b"",
    );
    git_with(
        &bare,
        &["update-ref", "refs/heads/main", commit.trim()],
        &[],
        b"",
    );
    std::fs::remove_file(Path::new(index)).unwrap();
}
