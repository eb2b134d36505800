//! The one-step action (the repository's root `action.yml`) refuses bad
//! input with one clear error before a later stage can run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hoist_testkit::act::Act;

/// A job with one step: the one-step action with `with` (YAML lines).
fn job(with: &str) -> String {
    format!(
        "name: ship\non: push\njobs:\n  ship:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: hoist-actions/hoist@main\n        with:\n{with}"
    )
}

/// Runs the one-step action with `with`, as a caller of hoist@main would.
fn run(with: &str) -> hoist_testkit::act::ActResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut act = Act::new();
    act.file(
        "action.yml",
        &std::fs::read_to_string(root.join("action.yml")).unwrap(),
    );
    act.copy_dir(&root.join("actions"), "actions");
    act.copy_dir(&root.join("dist"), "dist");
    act.file(".github/workflows/ship.yml", &job(with));
    act.serve_as("hoist-actions/hoist@main");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hoist-demo"))
        .parent()
        .unwrap();
    act.run(
        ".github/workflows/ship.yml",
        &[
            ("HOIST_BIN_DIR", &bin_dir.display().to_string()),
            ("HOIST_BACKOFF_SCALE", "0"),
        ],
    )
}

#[test]
fn bad_inputs_fail_with_one_error_before_later_stages() {
    // (with:, the error's words, a stage that must not have started)
    let rows: &[(&str, &[&str], &str)] = &[
        (
            "          stages: push, deploy\n",
            &[
                "unknown stage deploy in `stages`",
                "name stages from assume, push, sign, bump, wait",
            ],
            "actions/ecr-push@main",
        ),
        (
            "          stages: '*'\n",
            &["unknown stage \\* in `stages`"],
            "actions/oidc-assume@main",
        ),
        (
            "          stages: assume push\n          aws-region: eu-west-1\n",
            &["role-to-assume"],
            "actions/ecr-push@main",
        ),
        (
            "          stages: sign bump\n",
            &["image"],
            "actions/bump-manifest@main",
        ),
        (
            "          stages: bump wait\n          image: 127.0.0.1:5000/myshop/api@sha256:0000000000000000000000000000000000000000000000000000000000000000\n          tag: v1\n",
            &["repository"],
            "actions/wait-for-sync@main",
        ),
    ];
    for (with, words, never) in rows {
        let result = run(with);
        assert_eq!(result.code, Some(1), "{with}\n{}", result.log);
        let errors = result.errors();
        assert_eq!(errors.len(), 1, "{with}: {errors:#?}\n{}", result.log);
        for word in *words {
            assert!(
                errors[0].contains(word),
                "{with}: {:?} lacks {word:?}",
                errors[0]
            );
        }
        assert!(
            !result
                .log
                .contains(&format!("Run Main hoist-actions/hoist/{never}")),
            "{with}: {never} ran after the error:\n{}",
            result.log
        );
    }
}
