//! The real `actions/ecr-push/action.yml` through `act`, pushing to the
//! Debian `docker-registry`, and a later step reading its outputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{PASSWORD, USER, World, binary};
use hoist_testkit::act::{Act, CHECKOUT_STEP};
use hoist_testkit::oci::sha256;

const WORKFLOW: &str = r#"
name: build
on: push
jobs:
  push:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: push
        uses: ./actions/ecr-push
        with:
          source: image
          registry: ${{ env.REGISTRY }}
          repository: myshop/myshop-api
          insecure-registry: true
          registry-username: ${{ env.REGISTRY_USER }}
          registry-password: ${{ env.REGISTRY_PASSWORD }}
          tags: |
            type=sha
            stable
      - name: later step
        shell: bash
        env:
          IMAGE: ${{ steps.push.outputs.image }}
          TAGS: ${{ steps.push.outputs.tags }}
        run: |
          case "$IMAGE" in "$REGISTRY/myshop/myshop-api@sha256:"*) ;; *) exit 1 ;; esac
          test "$TAGS" = "$(printf 'sha-%s\nstable' "${GITHUB_SHA::7}")"
          echo "image-reached-the-next-step"
"#;

#[test]
fn the_action_pushes_and_a_later_step_reads_the_image() {
    let world = World::new();
    let (_, digest) = world.simple_image("image", "from act");
    let act = Act::new();
    act.copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/ecr-push"),
        "actions/ecr-push",
    );
    act.copy_dir(&world.path("image"), "image");
    act.file(
        ".github/workflows/build.yml",
        &WORKFLOW.replace("@CHECKOUT@", CHECKOUT_STEP),
    );
    let bin_dir = Path::new(binary()).parent().unwrap().display().to_string();
    let result = act.run(
        ".github/workflows/build.yml",
        &[
            ("HOIST_BIN_DIR", &bin_dir),
            ("REGISTRY", &world.registry.host()),
            ("REGISTRY_USER", USER),
            ("REGISTRY_PASSWORD", PASSWORD),
        ],
    );
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    assert!(
        result.log.contains("image-reached-the-next-step"),
        "{}",
        result.log
    );
    assert!(
        !result.log.contains(PASSWORD),
        "the password reached the log"
    );
    assert_eq!(sha256(&world.inspect("stable").unwrap()), digest);
}
