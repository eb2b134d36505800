//! The table of bad inputs: each fails with exit 1 and exactly one
//! `::error::` that says what is wrong and what to change, before any
//! request is made.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hoist_testkit::Sandbox;

const REVISION: &str = "8c2f4b1e9d0a7c3b5e6f1a2d4c8b9e0f1a2b3c4d";

struct Row {
    set: &'static [(&'static str, &'static str)],
    unset_revision: bool,
    says: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        set: &[],
        unset_revision: true,
        says: &["no revision to wait for", "HOIST_GITOPS_COMMIT"],
    },
    Row {
        set: &[("revision", "main")],
        unset_revision: false,
        says: &["`main` is not a full commit SHA"],
    },
    Row {
        set: &[("revision", "8c2f4b1")],
        unset_revision: false,
        says: &["not a full commit SHA", "40-character"],
    },
    Row {
        set: &[("argocd-server", "argocd.example.com")],
        unset_revision: false,
        says: &["argocd-server", "not a valid URL"],
    },
    Row {
        set: &[("argocd-server", "http://argocd.example.com")],
        unset_revision: false,
        says: &["plain HTTP is allowed to loopback hosts only"],
    },
    Row {
        set: &[("argocd-server", "https://admin:pw@argocd.example.com")],
        unset_revision: false,
        says: &["credentials in the URL"],
    },
    Row {
        set: &[("argocd-token", "")],
        unset_revision: false,
        says: &["input `argocd-token` is required"],
    },
    Row {
        set: &[("application", "")],
        unset_revision: false,
        says: &["input `application` is required"],
    },
    Row {
        set: &[("application", "Payments Prod")],
        unset_revision: false,
        says: &["is not an application name"],
    },
    Row {
        set: &[("timeout", "ten minutes")],
        unset_revision: false,
        says: &["input `timeout` must be a duration"],
    },
    Row {
        set: &[("timeout", "0s")],
        unset_revision: false,
        says: &["longer than zero"],
    },
    Row {
        set: &[("suspended", "maybe")],
        unset_revision: false,
        says: &["input `suspended` must be one of"],
    },
    Row {
        set: &[("superseded", "ignore")],
        unset_revision: false,
        says: &["input `superseded` must be one of"],
    },
    Row {
        set: &[("refresh", "soft")],
        unset_revision: false,
        says: &["input `refresh` must be one of"],
    },
    Row {
        set: &[("backend", "flux")],
        unset_revision: false,
        says: &["input `backend` must be one of"],
    },
    Row {
        set: &[("backend", "commit-status")],
        unset_revision: false,
        says: &["needs `github-token` and `repository`"],
    },
    Row {
        set: &[("github-token", "ghs_x"), ("repository", "not-a-repo")],
        unset_revision: false,
        says: &["neither a git URL nor `owner/name`", "input `repository`"],
    },
    Row {
        set: &[("repository", "ssh://git@git.example.com/org/gitops.git")],
        unset_revision: false,
        says: &["scheme `ssh:` is not allowed", "file://"],
    },
    Row {
        set: &[("sync", "yes")],
        unset_revision: false,
        says: &["input `sync` must be a boolean"],
    },
];

#[test]
fn every_bad_input_fails_cleanly_before_any_request() {
    assert!(ROWS.len() >= 15);
    for row in ROWS {
        let mut sandbox = Sandbox::new();
        sandbox
            .input("argocd-server", "https://argocd.example.com")
            .input("argocd-token", "argocd-token-value")
            .input("application", "payments-dev")
            .env("HOIST_GITOPS_COMMIT", REVISION);
        if row.unset_revision {
            sandbox.unset("HOIST_GITOPS_COMMIT");
        }
        for (name, value) in row.set {
            sandbox.input(name, value);
        }
        let result = sandbox.run(env!("CARGO_BIN_EXE_wait-for-sync"), &[]);
        let message = result.assert_failed_cleanly(row.says);
        assert!(
            message.contains("Hint: "),
            "no hint for {:?}:\n{message}",
            row.set
        );
        if !row.set.iter().any(|(name, _)| *name == "argocd-token") {
            result.assert_masked(&["argocd-token-value"]);
        }
    }
}
