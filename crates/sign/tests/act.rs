//! The real `actions/sign/action.yml` through `act`: one step signs the
//! image in the Debian `docker-registry` with a key from the environment
//! and logs it in the Rekor stand-in, a second verifies it with the public
//! key committed in the repository, and a later step reads both steps'
//! outputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{KEY_PASSWORD, PASSWORD, REPOSITORY, USER, World, binary};
use hoist_testkit::act::{Act, CHECKOUT_STEP};

const WORKFLOW: &str = r#"
name: release
on: push
jobs:
  sign:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: sign
        uses: ./actions/sign
        with:
          image: ${{ env.IMAGE }}
          key: env://COSIGN_PRIVATE_KEY
          rekor-url: ${{ env.REKOR_URL }}
          rekor-public-key: env://REKOR_PUBLIC_KEY
          insecure-registry: true
          registry-username: ${{ env.REGISTRY_USER }}
          registry-password: ${{ env.REGISTRY_PASSWORD }}
      - id: verify
        uses: ./actions/sign
        with:
          mode: verify
          image: ${{ env.IMAGE }}
          key: cosign.pub
          rekor-public-key: env://REKOR_PUBLIC_KEY
          insecure-registry: true
          registry-username: ${{ env.REGISTRY_USER }}
          registry-password: ${{ env.REGISTRY_PASSWORD }}
      - name: later step
        shell: bash
        env:
          SIGNATURE_REF: ${{ steps.sign.outputs.signature-ref }}
          BUNDLE_REF: ${{ steps.sign.outputs.bundle-ref }}
          SIGNED_DIGEST: ${{ steps.sign.outputs.digest }}
          VERIFIED: ${{ steps.verify.outputs.verified }}
          FORMATS: ${{ steps.verify.outputs.verified-formats }}
        run: |
          test "$SIGNED_DIGEST" = "$DIGEST"
          test "$SIGNATURE_REF" = "$REPOSITORY_REF:sha256-${DIGEST#sha256:}.sig"
          case "$BUNDLE_REF" in "$REPOSITORY_REF@sha256:"*) ;; *) exit 1 ;; esac
          test "$VERIFIED" = true
          test "$FORMATS" = bundle,legacy
          echo "signed-and-verified-${DIGEST#sha256:}"
"#;

/// A value for act's `--env-file` (dotenv): a PEM's lines as `\n` in
/// double quotes.
fn dotenv_quoted(text: &str) -> String {
    format!("\"{}\"", text.trim_end().replace('\n', "\\n"))
}

#[test]
fn the_action_signs_verifies_and_a_later_step_reads_the_outputs() {
    let world = World::new();
    let act = Act::new();
    act.copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/sign"),
        "actions/sign",
    );
    act.file("cosign.pub", &world.key.public_key().to_pem());
    act.file(
        ".github/workflows/release.yml",
        &WORKFLOW.replace("@CHECKOUT@", CHECKOUT_STEP),
    );
    let private_key = world.key.to_encrypted_pem(KEY_PASSWORD).unwrap();
    let bin_dir = Path::new(binary()).parent().unwrap().display().to_string();
    let host = world.registry.host();
    let result = act.run(
        ".github/workflows/release.yml",
        &[
            ("HOIST_BIN_DIR", &bin_dir),
            ("IMAGE", &world.image()),
            ("DIGEST", &world.digest),
            ("REPOSITORY_REF", &format!("{host}/{REPOSITORY}")),
            ("REKOR_URL", &world.rekor.url()),
            (
                "REKOR_PUBLIC_KEY",
                &dotenv_quoted(&world.rekor.public_key_pem()),
            ),
            ("COSIGN_PRIVATE_KEY", &dotenv_quoted(&private_key)),
            ("COSIGN_PASSWORD", KEY_PASSWORD),
            ("REGISTRY_USER", USER),
            ("REGISTRY_PASSWORD", PASSWORD),
        ],
    );
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    assert!(
        result
            .log
            .contains(&format!("signed-and-verified-{}", world.hex())),
        "{}",
        result.log
    );

    // Both formats went to the registry, both signatures to Rekor.
    assert!(
        world
            .inspect(&format!("sha256-{}.sig", world.hex()))
            .is_some()
    );
    assert!(world.inspect(&format!("sha256-{}", world.hex())).is_some());
    assert_eq!(world.rekor.entries().len(), 2);

    // No secret reached the log: not the passwords, not a line of the key.
    for secret in [PASSWORD, KEY_PASSWORD] {
        assert!(
            !result.log.contains(secret),
            "a password reached the log:\n{}",
            result.log
        );
    }
    for line in private_key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            !result.log.contains(line),
            "a line of the private key reached the log: {line}\n{}",
            result.log
        );
    }
}

#[test]
fn action_yml_and_readme_match_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/sign");
    hoist_testkit::action_yml::assert_action_matches_spec(&sign::SPEC, &dir);
}
