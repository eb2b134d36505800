//! The table of bad inputs: each fails with exit 1 and exactly one
//! `::error::` that says what is wrong and what to change, and writes
//! nothing — no output, no environment, no profile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, binary};
use hoist_testkit::Sandbox;

/// One row: what to set (inputs by name; `$NAME` for an environment
/// variable), and what the error must say.
struct Row {
    set: &'static [(&'static str, &'static str)],
    says: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        set: &[("aws-region", "")],
        says: &["input `aws-region` is required", "under the step's `with:`"],
    },
    Row {
        set: &[("aws-region", "europe")],
        says: &["`europe` is not an AWS region", "such as `eu-west-1`"],
    },
    Row {
        set: &[("role-to-assume", "github-deploy")],
        says: &[
            "`github-deploy` is not an IAM role ARN",
            "arn:aws:iam::123456789012:role/github-deploy",
        ],
    },
    Row {
        set: &[("role-to-assume", "arn:aws:iam::12345:role/x")],
        says: &["is not an IAM role ARN"],
    },
    Row {
        set: &[(
            "role-to-assume",
            "arn:aws:iam::123456789012:role/x\nAWS_SECRET_ACCESS_KEY=stolen",
        )],
        says: &["is not an IAM role ARN"],
    },
    Row {
        set: &[("role-duration-seconds", "100")],
        says: &["must be between 900 and 43200, got `100`"],
    },
    Row {
        set: &[("role-duration-seconds", "1h")],
        says: &["`role-duration-seconds` must be a whole number"],
    },
    Row {
        set: &[
            ("role-duration-seconds", "7200"),
            ("role-chaining", "true"),
            ("$AWS_ACCESS_KEY_ID", "AKIA"),
            ("$AWS_SECRET_ACCESS_KEY", "x"),
        ],
        says: &["3600 (STS limits chained sessions to one hour)"],
    },
    Row {
        set: &[("role-session-name", "deploy\tprod")],
        says: &[
            "`role-session-name` is invalid: it contains a line break or another control character",
        ],
    },
    Row {
        set: &[("allowed-account-ids", "12345")],
        says: &["`12345` is not a 12-digit AWS account ID"],
    },
    Row {
        set: &[("allowed-account-ids", "111122223333, 444455556666")],
        says: &[
            "the role's account 123456789012 is not in allowed-account-ids (111122223333, 444455556666)",
            "add the account",
        ],
    },
    Row {
        set: &[("aws-profile", "deploy\nghadelimiter_0000")],
        says: &["is not a usable profile name", "letters, digits"],
    },
    Row {
        set: &[("aws-profile", "deploy"), ("@symlink", "credentials")],
        says: &["is a symbolic link", "real path"],
    },
    Row {
        set: &[("web-identity-token-file", "no/such/token")],
        says: &["could not read the token file", "web-identity-token-file"],
    },
    Row {
        set: &[("web-identity-token-file", "@symlink")],
        says: &["is a symbolic link"],
    },
    Row {
        set: &[("inline-session-policy", "{\"Version\": ")],
        says: &["`inline-session-policy` is invalid: it is not valid JSON"],
    },
    Row {
        set: &[("managed-session-policies", "ReadOnlyAccess")],
        says: &[
            "`ReadOnlyAccess` is not an IAM policy ARN",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ],
    },
    Row {
        set: &[("sts-endpoint", "http://sts.example.com")],
        says: &["plain HTTP is allowed to loopback hosts only"],
    },
    Row {
        set: &[("retry-max-attempts", "0")],
        says: &["must be between 1 and 20, got `0`"],
    },
    Row {
        set: &[("timeout", "forever")],
        says: &[
            "input `timeout` must be a duration, got `forever`",
            "`90s`, `10m`, `1h`",
        ],
    },
    Row {
        set: &[("action-timeout-s", "99999")],
        says: &["input `action-timeout-s` must be between 0 and 3600, got `99999`"],
    },
    Row {
        set: &[("output-credentials", "yes")],
        says: &[
            "input `output-credentials` must be a boolean, got `yes`",
            "`true` or `false`",
        ],
    },
    Row {
        set: &[("refreshable", "true"), ("role-chaining", "true")],
        says: &["a refreshable profile cannot be chained"],
    },
    Row {
        set: &[("refreshable", "true"), ("output-env-credentials", "true")],
        says: &["would stop SDKs from using the refreshable profile"],
    },
    Row {
        set: &[("role-chaining", "true")],
        says: &[
            "role-chaining needs AWS credentials in the environment",
            "without role-chaining first",
        ],
    },
    Row {
        set: &[("ca-bundle", "/no/such/ca.pem")],
        says: &[
            "could not read the CA bundle `/no/such/ca.pem`",
            "PEM certificates",
        ],
    },
];

#[test]
fn every_bad_input_fails_cleanly() {
    assert!(ROWS.len() >= 15);
    let world = World::new();
    for row in ROWS {
        let mut sandbox = world.fresh_sandbox();
        apply(&mut sandbox, row);
        let run = sandbox.run(binary(), &[]);
        run.assert_failed_cleanly(row.says);
        assert!(
            run.errors()[0].starts_with("::error title=oidc-assume::"),
            "{}",
            run.stdout
        );
        let config = sandbox.home().join(".aws/config");
        assert!(!config.exists(), "{:?}: a profile was written", row.says);
        run.assert_masked(&[&world.issuer.request_token()]);
    }
}

fn apply(sandbox: &mut Sandbox, row: &Row) {
    for (name, value) in row.set {
        if let Some(variable) = name.strip_prefix('$') {
            sandbox.env(variable, value);
        } else if *name == "@symlink" {
            // A credentials file that is a link to a file elsewhere.
            let aws = sandbox.home().join(".aws");
            std::fs::create_dir_all(&aws).unwrap();
            let target = sandbox.path().join("elsewhere");
            std::fs::write(&target, "").unwrap();
            std::os::unix::fs::symlink(&target, aws.join(value)).unwrap();
        } else if *value == "@symlink" {
            let target = sandbox.path().join("token-target");
            std::fs::write(&target, "a.b.c").unwrap();
            std::os::unix::fs::symlink(&target, sandbox.workspace().join("token")).unwrap();
            sandbox.input(name, "token");
        } else {
            sandbox.input(name, value);
        }
    }
}
