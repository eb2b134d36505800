//! Text from a GitOps file cannot become a workflow command: the real
//! `actions/bump-manifest/action.yml` under `act`, dry-running an edit next to
//! a block scalar that holds `::warning` and `##[set-output` lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use hoist_testkit::GitRemote;
use hoist_testkit::act::{Act, CHECKOUT_STEP};

/// A values file whose block scalar, three lines above the edited key, is
/// what an attacker with commit rights to the GitOps repository wrote.
const VALUES: &str = "\
notes: |
  ::warning title=forged::x
  ##[set-output name=forged;]yes
image:
  tag: v1.0.0
";

const WORKFLOW: &str = r#"
name: deploy
on: push
jobs:
  bump:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: bump
        uses: ./actions/bump-manifest
        with:
          repository: ${{ env.GITOPS_URL }}
          edits: values.yaml:image.tag=v1.1.0
          dry-run: true
      - name: later step
        shell: bash
        env:
          FORGED: ${{ steps.bump.outputs.forged }}
          CHANGED: ${{ steps.bump.outputs.changed }}
        run: |
          test "$CHANGED" = true
          test -z "$FORGED"
          echo "no-forged-output"
"#;

#[test]
fn a_dry_run_diff_of_forged_commands_forges_nothing_and_stays_readable() {
    let remote = GitRemote::with_files(&[("values.yaml", VALUES)]);
    let act = Act::new();
    act.copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/bump-manifest"),
        "actions/bump-manifest",
    );
    act.file(
        ".github/workflows/deploy.yml",
        &WORKFLOW.replace("@CHECKOUT@", CHECKOUT_STEP),
    );
    let bin_dir = Path::new(binary()).parent().unwrap().display().to_string();
    let result = act.run(
        ".github/workflows/deploy.yml",
        &[("HOIST_BIN_DIR", &bin_dir), ("GITOPS_URL", &remote.url())],
    );
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    assert!(result.log.contains("no-forged-output"), "{}", result.log);
    assert_eq!(result.errors(), Vec::<String>::new(), "{}", result.log);
    // act marks a `::warning` it parsed with 🚧 and a set-output with ⚙.
    for line in result.log.lines() {
        assert!(
            !(line.contains("forged") && (line.contains('🚧') || line.contains('⚙'))),
            "a forged command was parsed: {line}\n{}",
            result.log
        );
    }
    // The diff is still there to read, escaped where it would have parsed.
    for escaped in [
        r"   \::warning title=forged::x",
        r"   ##\[set-output name=forged;]yes",
        "-  tag: v1.0.0",
        "+  tag: v1.1.0",
    ] {
        assert!(result.log.contains(escaped), "{escaped}\n{}", result.log);
    }
}
