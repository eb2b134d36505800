//! The README's demo runs to the end: each action does what the demo says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn the_demo_runs_every_stage() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hoist-demo"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for needle in [
        "0. The CI half in one workflow, under act",
        "── job summary, ship/ship/build",
        "### sign",
        "── job summary, ship/ship/deploy",
        "**myshop-api-dev** — healthy",
        "+  tag: \"main-",
        "myshop-api-dev: \"Healthy\"",
        "pull request #1 \"Promote myshop-api to staging\"",
        "1. oidc-assume",
        "output  aws-account-id = 123456789012",
        "did not admit this token",
        "2. ecr-push",
        "tags written: 1.4.2, sha-0123456",
        "tagged 1.4.2, sha-0123456; nothing written",
        "tag `1.4.2` already points at",
        "3. bump-manifest",
        "commit-sha = ",
        "+  tag: \"1.4.2\"   # set by CI",
        "+  digest: sha256:",
        "nothing to commit",
        "superseded = true",
        "4. wait-for-sync",
        "Argo CD runs ",
        "at canary step 1/5, weight 20%",
        "output  status = healthy",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} missing from the demo:\n{text}"
        );
    }
}
