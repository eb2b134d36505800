//! The table of bad inputs: each fails with exit 1 and exactly one
//! `::error::` that says what to change, and leaves no branch and no PR.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hoist_testkit::github::GitHubStandIn;
use hoist_testkit::{GitRemote, Sandbox};

const TOKEN: &str = "ghp_promoterPersonalToken0123456789";

#[derive(Clone, Copy, PartialEq)]
enum Setup {
    None,
    ForbidActionsPullRequests,
    RestrictedToken,
}

struct Row {
    setup: Setup,
    set: &'static [(&'static str, &'static str)],
    says: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        setup: Setup::None,
        set: &[("to-env", "qa")],
        says: &["found no file for `payments` in `qa`"],
    },
    Row {
        setup: Setup::None,
        set: &[("apps", "unknown-app")],
        says: &["found no file for `unknown-app` in `dev`"],
    },
    Row {
        setup: Setup::None,
        set: &[("apps", "broken")],
        says: &[
            "`apps/broken/overlays/dev/kustomization.yaml` holds a bad image value",
            "not valid",
        ],
    },
    Row {
        setup: Setup::None,
        set: &[("apps", "noimage")],
        says: &["holds no image tag or digest for `noimage`"],
    },
    Row {
        setup: Setup::None,
        set: &[("apps", "nostaging")],
        says: &["found no file for `nostaging` in `staging`"],
    },
    Row {
        setup: Setup::None,
        set: &[("base", "release")],
        says: &["branch `release` does not exist"],
    },
    Row {
        setup: Setup::None,
        set: &[("reviewers", "stranger")],
        says: &[
            "Reviews may only be requested from collaborators",
            "people with access",
        ],
    },
    Row {
        setup: Setup::None,
        set: &[("from-env", "../dev")],
        says: &["input `from-env`", "not a name"],
    },
    Row {
        setup: Setup::None,
        set: &[("to-env", "dev")],
        says: &["same as from-env"],
    },
    Row {
        setup: Setup::None,
        set: &[("repository", "not-a-repo")],
        says: &["is not owner/name"],
    },
    Row {
        setup: Setup::None,
        set: &[("grouping", "by-team")],
        says: &["input `grouping` must be one of"],
    },
    Row {
        setup: Setup::None,
        set: &[("milestone", "v1")],
        says: &["is not a milestone number"],
    },
    Row {
        setup: Setup::None,
        set: &[("app-id", "424242")],
        says: &["app-id and app-private-key go together"],
    },
    Row {
        setup: Setup::None,
        set: &[
            ("token", ""),
            ("app-id", "424242"),
            ("app-private-key", "not a key"),
        ],
        says: &["not an RSA private key"],
    },
    Row {
        setup: Setup::None,
        set: &[("branch", "promote/{group} x")],
        says: &["is not a branch name"],
    },
    Row {
        setup: Setup::None,
        set: &[
            ("require-signature", "true"),
            (
                "signature-certificate-identity",
                "https://github.com/hoist-actions/hoist/.github/workflows/ship.yml@refs/tags/v1",
            ),
            (
                "signature-certificate-github-workflow-repository",
                "bank-org/payments-api/extra",
            ),
        ],
        says: &[
            "input `signature-certificate-github-workflow-repository`",
            "is not a source repository",
            "owner/name",
        ],
    },
    Row {
        setup: Setup::None,
        set: &[
            ("require-signature", "true"),
            ("signature-key", "env://UNUSED"),
            (
                "signature-certificate-github-workflow-repository",
                "bank-org/payments-api",
            ),
        ],
        says: &[
            "signature-certificate-github-workflow-repository",
            "only apply to keyless signatures",
            "signature-certificate-identity",
        ],
    },
    Row {
        setup: Setup::ForbidActionsPullRequests,
        set: &[],
        says: &[
            "not permitted to create or approve pull requests",
            "Allow GitHub Actions to create and approve pull requests",
        ],
    },
    Row {
        setup: Setup::RestrictedToken,
        set: &[],
        says: &["Resource not accessible", "pull-requests: write"],
    },
];

fn overlay(app: &str, tag: &str) -> String {
    format!("images:\n  - name: {app}\n    newTag: {tag}\n")
}

#[test]
fn every_bad_input_fails_cleanly_with_no_branch_and_no_pr() {
    assert!(ROWS.len() >= 12);
    for row in ROWS {
        let files = [
            (
                "apps/payments/overlays/dev/kustomization.yaml".to_owned(),
                overlay("payments", "v1.1.0"),
            ),
            (
                "apps/payments/overlays/staging/kustomization.yaml".to_owned(),
                overlay("payments", "v1.0.0"),
            ),
            (
                "apps/broken/overlays/dev/kustomization.yaml".to_owned(),
                "images:\n  - name: broken\n    newTag: \"v1 evil\"\n".to_owned(),
            ),
            (
                "apps/broken/overlays/staging/kustomization.yaml".to_owned(),
                overlay("broken", "v1.0.0"),
            ),
            (
                "apps/noimage/overlays/dev/kustomization.yaml".to_owned(),
                "resources:\n  - ../../base\n".to_owned(),
            ),
            (
                "apps/noimage/overlays/staging/kustomization.yaml".to_owned(),
                overlay("noimage", "v1.0.0"),
            ),
            (
                "apps/nostaging/overlays/dev/kustomization.yaml".to_owned(),
                overlay("nostaging", "v1.0.0"),
            ),
        ];
        let seed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let github = GitHubStandIn::start(
            "bank-org",
            "gitops-repo",
            GitRemote::with_files(&seed),
            TOKEN,
        );
        github.add_token(TOKEN, hoist_testkit::github::TokenKind::Pat);
        match row.setup {
            Setup::ForbidActionsPullRequests => {
                github.add_token(TOKEN, hoist_testkit::github::TokenKind::GitHubActions);
                github.forbid_actions_pull_requests(true);
            }
            Setup::RestrictedToken => github.restrict_token(TOKEN, &[("contents", "write")]),
            Setup::None => {}
        }
        let mut sandbox = Sandbox::new();
        sandbox
            .env("HOIST_BACKOFF_SCALE", "0")
            .env("GITHUB_API_URL", &github.url())
            .input("repository", "bank-org/gitops-repo")
            .input("token", TOKEN)
            .input("from-env", "dev")
            .input("to-env", "staging")
            .input("apps", "payments");
        for (name, value) in row.set {
            sandbox.input(name, value);
        }
        let result = sandbox.run(env!("CARGO_BIN_EXE_open-promotion-pr"), &[]);
        let message = result.assert_failed_cleanly(row.says);
        assert!(
            message.contains("Hint: "),
            "no hint for {:?}:\n{message}",
            row.set
        );
        let remote = github.remote();
        let branches =
            hoist_testkit::peers::git(&remote.path(), &["branch", "--list", "promote/*"]);
        assert_eq!(branches.trim(), "", "{:?} left a branch behind", row.set);
        let open = github.request_count("POST", "/repos/bank-org/gitops-repo/pulls");
        if open > 0 {
            let pulls = hoist_testkit::block_on(async {
                let url = format!(
                    "{}/repos/bank-org/gitops-repo/pulls?state=open",
                    github.url()
                );
                let answer = hoist_testkit::raw_client()
                    .get(url)
                    .bearer_auth(TOKEN)
                    .send()
                    .await
                    .unwrap();
                answer.json::<serde_json::Value>().await.unwrap()
            });
            assert_eq!(
                pulls.as_array().map(Vec::len),
                Some(0),
                "{:?} left a pull request open",
                row.set
            );
        }
    }
}
