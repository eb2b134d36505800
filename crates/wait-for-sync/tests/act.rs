//! The real `actions/wait-for-sync/action.yml` through `act`: an earlier
//! step exports HOIST_GITOPS_COMMIT as bump-manifest does, the action waits
//! on the Argo CD stand-in, and a later step reads its outputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hoist_testkit::act::{Act, CHECKOUT_STEP};
use hoist_testkit::argocd::{ArgoCdStandIn, presets};

const TOKEN: &str = "argocd-act-token-0123456789";
const X0: &str = "3b9d0e2f7a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d";
const X: &str = "8c2f4b1e9d0a7c3b5e6f1a2d4c8b9e0f1a2b3c4d";

const WORKFLOW: &str = r#"
name: deploy
on: push
jobs:
  wait:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - name: bump (stands in for bump-manifest's export)
        shell: bash
        run: echo "HOIST_GITOPS_COMMIT=@X@" >> "$GITHUB_ENV"
      - id: wait
        uses: ./actions/wait-for-sync
        with:
          argocd-server: ${{ env.ARGOCD_SERVER }}
          argocd-token: ${{ env.ARGOCD_TOKEN }}
          application: payments-dev
          timeout: 60s
      - name: later step
        shell: bash
        env:
          STATUS: ${{ steps.wait.outputs.status }}
          REVISION: ${{ steps.wait.outputs.revision }}
        run: |
          test "$STATUS" = healthy
          test "$REVISION" = "$HOIST_GITOPS_COMMIT"
          echo "deployed-$REVISION"
"#;

/// Runs `workflow` (its `@CHECKOUT@` and `@X@` filled in) with the real
/// action and binary against `argocd`.
fn run(workflow: &str, argocd: &ArgoCdStandIn) -> hoist_testkit::act::ActResult {
    let act = Act::new();
    act.copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/wait-for-sync"),
        "actions/wait-for-sync",
    );
    act.file(
        ".github/workflows/deploy.yml",
        &workflow
            .replace("@CHECKOUT@", CHECKOUT_STEP)
            .replace("@X@", X),
    );
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_wait-for-sync"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    act.run(
        ".github/workflows/deploy.yml",
        &[
            ("HOIST_BIN_DIR", &bin_dir),
            ("ARGOCD_SERVER", &argocd.url()),
            ("ARGOCD_TOKEN", TOKEN),
            ("HOIST_BACKOFF_SCALE", "0.005"),
        ],
    )
}

#[test]
fn the_action_waits_for_the_exported_commit_and_a_later_step_reads_the_verdict() {
    let argocd = ArgoCdStandIn::start(TOKEN);
    argocd.add_app("payments-dev", presets::stale_then_auto_sync(X0, X));
    let result = run(WORKFLOW, &argocd);
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    assert!(
        result.log.contains(&format!("deployed-{X}")),
        "{}",
        result.log
    );
    assert!(!result.log.contains(TOKEN), "the token reached the log");
}

#[test]
fn action_yml_and_readme_match_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/wait-for-sync");
    hoist_testkit::action_yml::assert_action_matches_spec(&wait_for_sync::SPEC, &dir);
}

/// Whoever can deploy a workload writes its health message; it reaches
/// the log as text, never as a workflow command.
const HOSTILE: &str =
    "::error title=forged::x\n##[set-output name=forged;]yes\n  ::warning title=forged::y";

const HOSTILE_WORKFLOW: &str = r#"
name: deploy
on: push
jobs:
  wait:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: wait
        uses: ./actions/wait-for-sync
        with:
          argocd-server: ${{ env.ARGOCD_SERVER }}
          argocd-token: ${{ env.ARGOCD_TOKEN }}
          application: payments-dev
          revision: @X@
          timeout: 60s
      - name: later step
        if: always()
        shell: bash
        env:
          FORGED: ${{ steps.wait.outputs.forged }}
          STATUS: ${{ steps.wait.outputs.status }}
        run: echo "later forged=[$FORGED] status=[$STATUS]"
"#;

#[test]
fn argo_cd_messages_reach_the_log_as_text_not_as_commands() {
    use hoist_testkit::argocd::{Timeline, model::Initiator, steps};
    let argocd = ArgoCdStandIn::start(TOKEN);
    let now = 1_767_000_000;
    argocd.add_app(
        "payments-dev",
        Timeline::at(steps::deployed("payments-dev", X0, now), now)
            .then(|app, now| steps::compared(app, X, now))
            .then(|app, now| steps::sync_started(app, X, Initiator::Automated, now))
            .then(steps::sync_succeeded)
            .then(|app, now| {
                steps::reconciled(app, "Degraded", Some(HOSTILE), now);
                steps::workload_health(app, "Degraded", Some(HOSTILE));
            }),
    );
    let result = run(HOSTILE_WORKFLOW, &argocd);
    let log = &result.log;
    // The wait fails (Degraded) with its own one error, and nothing else.
    assert_ne!(result.code, Some(0), "{log}");
    let errors = result.errors();
    assert_eq!(errors.len(), 1, "{errors:?}\n{log}");
    assert!(errors[0].starts_with(" title=wait-for-sync"), "{errors:?}");
    // No forged annotation, output or warning was parsed.
    assert!(!log.contains("❗  ::error title=forged"), "{log}");
    assert!(!log.contains("::set-output:: forged"), "{log}");
    assert!(log.contains("later forged=[] status=[degraded]"), "{log}");
    // The text is still readable: a line that would start with `::` is
    // escaped, `##[` never stands whole, and `::` mid-line is only text.
    assert!(log.contains("\\::warning title=forged::y"), "{log}");
    assert!(log.contains("##\\[set-output name=forged;]yes"), "{log}");
    assert!(log.contains("Degraded: ::error title=forged::x"), "{log}");
}
