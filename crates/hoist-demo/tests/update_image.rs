//! `update-image.yml` under act, as the GitOps repository's
//! `repository_dispatch` receiver: a dispatch lands one commit; the same
//! dispatch again lands none; a hostile payload is refused with nothing
//! written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hoist_testkit::GitRemote;
use hoist_testkit::act::{Act, ActResult};

/// The manifests repository's receiver, as the documents have it, calling
/// hoist's reusable workflow (here from the test repository).
const RECEIVER: &str = r#"name: Update image tag
on:
  repository_dispatch:
    types: [update-image]
jobs:
  update:
    uses: ./.github/workflows/update-image.yml
    with:
      app: ${{ github.event.client_payload.app }}
      tag: ${{ github.event.client_payload.tag }}
      env: ${{ github.event.client_payload.env }}
      layout: helm
      repository: @GITOPS_URL@
  report:
    needs: update
    runs-on: ubuntu-latest
    steps:
      - shell: bash
        env:
          CHANGED: ${{ needs.update.outputs.changed }}
          COMMIT: ${{ needs.update.outputs.commit-sha }}
        run: echo "update-report changed=$CHANGED commit=$COMMIT"
"#;

fn dispatch(remote: &GitRemote, payload: serde_json::Value) -> ActResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut act = Act::new();
    act.copy_dir(&root.join("actions/bump-manifest"), "actions/bump-manifest");
    act.file(
        ".github/workflows/update-image.yml",
        &std::fs::read_to_string(root.join(".github/workflows/update-image.yml")).unwrap(),
    );
    act.file(
        ".github/workflows/receiver.yml",
        &RECEIVER.replace("@GITOPS_URL@", &remote.url()),
    );
    act.serve_as("hoist-actions/hoist@main");
    act.event(
        "repository_dispatch",
        &serde_json::json!({"action": "update-image", "client_payload": payload}).to_string(),
    );
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hoist-demo"))
        .parent()
        .unwrap();
    act.run(
        ".github/workflows/receiver.yml",
        &[("HOIST_BIN_DIR", &bin_dir.display().to_string())],
    )
}

fn manifests() -> GitRemote {
    GitRemote::with_files(&[
        (
            "charts/myshop-api/values-dev.yaml",
            "image:\n  repository: 123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api\n  tag: \"main-1111111\"\n",
        ),
        (
            "charts/myshop-api/values-prod.yaml",
            "image:\n  repository: 123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api\n  tag: \"1.4.1\"\n",
        ),
    ])
}

#[test]
fn a_dispatch_lands_one_commit_and_the_same_dispatch_again_none() {
    let remote = manifests();
    let payload = serde_json::json!({"app": "myshop-api", "tag": "main-2222222", "env": "dev"});
    let first = dispatch(&remote, payload.clone());
    assert_eq!(first.code, Some(0), "{}", first.log);
    let head = remote.head("main");
    assert!(
        first
            .log
            .contains(&format!("update-report changed=true commit={head}")),
        "{}",
        first.log
    );
    assert!(
        remote
            .read("main", "charts/myshop-api/values-dev.yaml")
            .contains("tag: \"main-2222222\"")
    );

    let again = dispatch(&remote, payload);
    assert_eq!(again.code, Some(0), "{}", again.log);
    assert_eq!(
        remote.head("main"),
        head,
        "a second commit for the same image"
    );
    assert!(
        again.log.contains("update-report changed=false"),
        "{}",
        again.log
    );
}

#[test]
fn a_hostile_payload_is_refused_and_nothing_is_written() {
    let rows = [
        (
            serde_json::json!({"app": "myshop-api", "tag": "1.0\nimage:\n  evil: 1", "env": "dev"}),
            "Hint: fix input `tag`",
        ),
        (
            serde_json::json!({"app": "../../etc", "tag": "1.0", "env": "dev"}),
            "Hint: fix input `app`",
        ),
        (
            serde_json::json!({"app": "myshop-api", "tag": "1.0", "env": "prod/../../x"}),
            "Hint: fix input `env`",
        ),
        (
            serde_json::json!({"app": "myshop-api", "tag": "1.0", "env": "qa"}),
            "values-qa.yaml",
        ),
    ];
    for (payload, word) in rows {
        let remote = manifests();
        let before = remote.head("main");
        let result = dispatch(&remote, payload.clone());
        assert_eq!(result.code, Some(1), "{payload}\n{}", result.log);
        let errors = result.errors();
        assert!(errors.len() == 1, "{payload}: {errors:#?}");
        assert!(
            errors[0].contains(word),
            "{payload}: {:?} lacks {word:?}",
            errors[0]
        );
        assert_eq!(
            remote.head("main"),
            before,
            "{payload}: something was committed"
        );
    }
}
