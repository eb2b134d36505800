//! oidc-assume's inputs and outputs, named as configure-aws-credentials names
//! them wherever the meaning is the same.

use hoist_runner::{ActionSpec, InputKind, InputSpec, OutputSpec, SwitchSpec};

/// The action's declaration; `actions/oidc-assume/action.yml` mirrors it.
pub static SPEC: ActionSpec = ActionSpec {
    name: "oidc-assume",
    about: "Exchanges the job's GitHub OIDC token for short-lived AWS credentials (AssumeRoleWithWebIdentity).",
    inputs: &[
        InputSpec::new("aws-region", "AWS region for STS and for the exported AWS_REGION, e.g. eu-west-1").required(),
        InputSpec::new("role-to-assume", "ARN of the IAM role to assume, arn:aws:iam::<account>:role/<name>").required(),
        InputSpec::new("audience", "Audience of the GitHub OIDC token").default("sts.amazonaws.com"),
        InputSpec::new(
            "role-session-name",
            "Session name; characters STS does not accept become `-` and it is cut to 64 [default: GitHubActions-<run id>-<run attempt>]",
        ),
        InputSpec::new("role-duration-seconds", "Session length in seconds, 900 to 43200 (at most 3600 with role-chaining)")
            .default("3600"),
        InputSpec::new("role-external-id", "External ID for AssumeRole (with role-chaining)"),
        InputSpec::new("role-chaining", "Assume the role with the AWS credentials already in the environment instead of the OIDC token")
            .kind(InputKind::Bool),
        InputSpec::new("inline-session-policy", "A JSON IAM policy that further restricts the session"),
        InputSpec::new("managed-session-policies", "ARNs of managed policies that further restrict the session, one per line"),
        InputSpec::new("web-identity-token-file", "Read the web identity token from this file instead of asking GitHub"),
        InputSpec::new("aws-profile", "Write the credentials to this named profile in ~/.aws instead of environment variables"),
        InputSpec::new("output-credentials", "Also set the credentials as step outputs").kind(InputKind::Bool),
        InputSpec::new(
            "output-env-credentials",
            "Export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN [default: true, false with aws-profile or refreshable]",
        )
        .kind(InputKind::Bool),
        InputSpec::new("mask-aws-account-id", "Mask the account ID and the role ARN in logs").kind(InputKind::Bool),
        InputSpec::new("allowed-account-ids", "Fail unless the role's account is one of these (comma or newline separated)"),
        InputSpec::new("sts-endpoint", "STS endpoint URL, for VPC endpoints and tests (http only to loopback)"),
        InputSpec::new("retry-max-attempts", "Attempts for errors that can pass (1 to 20)").default("5"),
        InputSpec::new("action-timeout-s", "Give up after this many seconds (same as `timeout`)"),
        InputSpec::new("timeout", "Give up after this long: 90s, 2m, 1h").default("2m"),
        InputSpec::new("validate-credentials", "Call GetCallerIdentity with the new credentials before finishing").kind(InputKind::Bool),
        InputSpec::new(
            "refreshable",
            "Write a profile whose credential_process runs oidc-assume again, so SDKs refresh credentials in long jobs",
        )
        .kind(InputKind::Bool),
        InputSpec::new("ca-bundle", "A PEM file of extra CA certificates to trust for STS"),
    ],
    outputs: &[
        OutputSpec { name: "aws-account-id", description: "The AWS account ID of the assumed role" },
        OutputSpec { name: "authenticated-arn", description: "The ARN of the assumed-role session" },
        OutputSpec { name: "aws-expiration", description: "When the credentials expire (RFC 3339)" },
        OutputSpec { name: "aws-access-key-id", description: "The access key ID (with output-credentials)" },
        OutputSpec { name: "aws-secret-access-key", description: "The secret access key (with output-credentials)" },
        OutputSpec { name: "aws-session-token", description: "The session token (with output-credentials)" },
    ],
    switches: &[
        SwitchSpec {
            name: "credential-process",
            description: "Print credentials as AWS credential_process JSON (what a refreshable profile runs)",
            stdout_is_data: true,
        },
        SwitchSpec {
            name: "cleanup",
            description: "Blank the credentials an earlier run exported (the post step)",
            stdout_is_data: false,
        },
    ],
    dry_run: false,
};
