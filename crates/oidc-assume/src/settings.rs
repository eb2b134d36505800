//! The inputs, read and checked before anything touches the network, so a
//! configuration error fails in milliseconds.

use std::path::PathBuf;
use std::time::Duration;

use hoist_runner::{InputError, Runner};
use url::Url;

/// AWS partitions an IAM ARN may name.
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// An IAM role ARN, split into the parts hoist uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    /// The whole ARN.
    pub arn: String,
    /// The 12-digit account ID.
    pub account: String,
}

/// Everything the inputs say, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The region for STS and the exported `AWS_REGION`.
    pub region: String,
    /// The role to assume.
    pub role: RoleArn,
    /// The OIDC token's audience.
    pub audience: String,
    /// The session name, already in STS's alphabet.
    pub session_name: String,
    /// The session name as given, when it had to be changed.
    pub session_name_given: Option<String>,
    /// The session length in seconds.
    pub duration_seconds: i32,
    /// The external ID, for AssumeRole.
    pub external_id: Option<String>,
    /// Assume with the credentials in the environment instead of a token.
    pub chaining: bool,
    /// A compact JSON session policy.
    pub inline_policy: Option<String>,
    /// Managed session policy ARNs.
    pub managed_policies: Vec<String>,
    /// Read the token from this file instead of asking GitHub.
    pub token_file: Option<PathBuf>,
    /// Write the credentials to this profile.
    pub profile: Option<String>,
    /// Set the credentials as step outputs.
    pub output_credentials: bool,
    /// Export the static `AWS_*` keys.
    pub export_env: bool,
    /// Mask the account ID and ARN.
    pub mask_account: bool,
    /// Accounts the role may belong to; empty for any.
    pub allowed_accounts: Vec<String>,
    /// A custom STS endpoint.
    pub sts_endpoint: Option<Url>,
    /// Attempts for errors that can pass.
    pub attempts: u32,
    /// The overall deadline.
    pub timeout: Duration,
    /// Call GetCallerIdentity with the new credentials.
    pub validate: bool,
    /// Write a `credential_process` profile instead of static credentials.
    pub refreshable: bool,
    /// Extra CA certificates for STS.
    pub ca_bundle: Option<PathBuf>,
}

/// The profile `refreshable` writes when `aws-profile` is not given.
pub const DEFAULT_REFRESHABLE_PROFILE: &str = "oidc-assume";

impl Settings {
    /// Reads and checks every input.
    pub fn read(runner: &Runner) -> Result<Self, InputError> {
        let inputs = runner.inputs();
        let region = inputs.required("aws-region")?.to_owned();
        if !is_region(&region) {
            return Err(InputError::invalid(
                "aws-region",
                format!("`{region}` is not an AWS region"),
                "write a region code such as `eu-west-1` or `us-gov-west-1`",
            ));
        }
        let role = parse_role_arn(inputs.required("role-to-assume")?)?;
        let audience = inputs.required("audience")?.to_owned();
        if audience.len() > 256
            || audience
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(InputError::invalid(
                "audience",
                "it must be one word without spaces",
                "the default, `sts.amazonaws.com`, fits AWS",
            ));
        }

        let (session_name, session_name_given) = match inputs.get("role-session-name") {
            Some(given) => {
                let name = sanitize_session_name("role-session-name", given)?;
                let changed = (name != given).then(|| given.to_owned());
                (name, changed)
            }
            None => {
                let run_id = runner.env("GITHUB_RUN_ID").unwrap_or("local");
                let attempt = runner.env("GITHUB_RUN_ATTEMPT").unwrap_or("1");
                (
                    sanitize_session_name(
                        "role-session-name",
                        &format!("GitHubActions-{run_id}-{attempt}"),
                    )?,
                    None,
                )
            }
        };

        let chaining = inputs.bool("role-chaining")?;
        let max_duration = if chaining { 3600 } else { 43_200 };
        let duration_seconds = inputs
            .number("role-duration-seconds", 900, 43_200)?
            .unwrap_or(3600);
        if duration_seconds > max_duration {
            return Err(InputError::OutOfRange {
                name: "role-duration-seconds".into(),
                value: duration_seconds.to_string(),
                min: "900".into(),
                max: "3600 (STS limits chained sessions to one hour)".into(),
            });
        }

        let external_id = inputs.get("role-external-id").map(String::from);
        if let Some(id) = &external_id {
            let ok = (2..=1224).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
            if !ok {
                return Err(InputError::invalid(
                    "role-external-id",
                    "it must be 2 to 1224 characters of letters, digits and _+=,.@:/-",
                    "use the external ID from the role's trust policy",
                ));
            }
        }

        let inline_policy = inputs
            .get("inline-session-policy")
            .map(compact_policy)
            .transpose()?;
        let managed_policies = inputs.lines("managed-session-policies");
        if managed_policies.len() > 10 {
            return Err(InputError::invalid(
                "managed-session-policies",
                "STS takes at most 10 policies",
                "merge some of the policies",
            ));
        }
        for arn in &managed_policies {
            if !is_policy_arn(arn) {
                return Err(InputError::invalid(
                    "managed-session-policies",
                    format!("`{arn}` is not an IAM policy ARN"),
                    "write one ARN per line, such as `arn:aws:iam::aws:policy/ReadOnlyAccess`",
                ));
            }
        }

        let token_file = inputs.get("web-identity-token-file").map(|file| {
            let path = PathBuf::from(file);
            match runner.env("GITHUB_WORKSPACE") {
                Some(workspace) if path.is_relative() => PathBuf::from(workspace).join(path),
                _ => path,
            }
        });

        let refreshable = inputs.bool("refreshable")?;
        let mut profile = inputs.get("aws-profile").map(String::from);
        if let Some(name) = &profile {
            let ok = name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok || name.is_empty() {
                return Err(InputError::invalid(
                    "aws-profile",
                    format!("`{name}` is not a usable profile name"),
                    "use letters, digits, `_`, `.` and `-` only, such as `deploy-prod`",
                ));
            }
        }
        if refreshable {
            if chaining {
                return Err(InputError::invalid(
                    "refreshable",
                    "a refreshable profile cannot be chained: the credentials it would start from expire",
                    "drop `role-chaining`, or `refreshable`",
                ));
            }
            profile.get_or_insert_with(|| DEFAULT_REFRESHABLE_PROFILE.to_owned());
        }
        let export_env = match inputs.get("output-env-credentials") {
            None => profile.is_none(),
            Some(_) => inputs.bool("output-env-credentials")?,
        };
        if refreshable && export_env {
            return Err(InputError::invalid(
                "output-env-credentials",
                "static AWS_* keys in the environment would stop SDKs from using the refreshable profile",
                "remove `output-env-credentials: true` when `refreshable: true`",
            ));
        }

        let allowed_accounts = inputs.names("allowed-account-ids");
        if let Some(bad) = allowed_accounts.iter().find(|id| !is_account_id(id)) {
            return Err(InputError::invalid(
                "allowed-account-ids",
                format!("`{bad}` is not a 12-digit AWS account ID"),
                "list account IDs such as `123456789012`, separated by commas or newlines",
            ));
        }

        let sts_endpoint = inputs
            .get("sts-endpoint")
            .map(|text| {
                hoist_http::parse_endpoint("sts-endpoint", text).map_err(|error| {
                    InputError::invalid(
                        "sts-endpoint",
                        error.to_string(),
                        "write `https://sts.<region>.amazonaws.com` or a VPC endpoint URL",
                    )
                })
            })
            .transpose()?;

        let attempts = inputs.number("retry-max-attempts", 1, 20)?.unwrap_or(5) as u32;
        // configure-aws-credentials reads `action-timeout-s: 0` as "no limit";
        // here the longest a step may take is an hour.
        let timeout = match inputs.number("action-timeout-s", 0, 3600)? {
            Some(0) => Duration::from_secs(3600),
            Some(seconds) => Duration::from_secs(seconds),
            None => inputs
                .duration("timeout")?
                .unwrap_or(Duration::from_secs(120)),
        };
        if timeout.is_zero() || timeout > Duration::from_secs(3600) {
            return Err(InputError::OutOfRange {
                name: "timeout".into(),
                value: inputs.get("timeout").unwrap_or_default().to_owned(),
                min: "1s".into(),
                max: "1h".into(),
            });
        }

        Ok(Self {
            region,
            role,
            audience,
            session_name,
            session_name_given,
            duration_seconds: duration_seconds as i32,
            external_id,
            chaining,
            inline_policy,
            managed_policies,
            token_file,
            profile,
            output_credentials: inputs.bool("output-credentials")?,
            export_env,
            mask_account: inputs.bool("mask-aws-account-id")?,
            allowed_accounts,
            sts_endpoint,
            attempts,
            timeout,
            validate: inputs.bool("validate-credentials")?,
            refreshable,
            ca_bundle: inputs.get("ca-bundle").map(PathBuf::from),
        })
    }
}

/// `eu-west-1`, `us-gov-west-1`, `cn-north-1`: two letters, words, a number.
pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Parses `arn:<partition>:iam::<account>:role/<path/>name`.
pub fn parse_role_arn(arn: &str) -> Result<RoleArn, InputError> {
    let bad = || {
        InputError::invalid(
            "role-to-assume",
            format!("`{arn}` is not an IAM role ARN"),
            "write the full ARN, such as `arn:aws:iam::123456789012:role/github-deploy`",
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err(bad());
    };
    let name = resource.strip_prefix("role/").ok_or_else(bad)?;
    let name_ok = !name.is_empty()
        && arn.len() <= 2048
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c))
        && name
            .rsplit('/')
            .next()
            .is_some_and(|last| !last.is_empty() && last.len() <= 64);
    if prefix != "arn"
        || !PARTITIONS.contains(&partition)
        || service != "iam"
        || !region.is_empty()
        || !is_account_id(account)
        || !name_ok
    {
        return Err(bad());
    }
    Ok(RoleArn {
        arn: arn.to_owned(),
        account: account.to_owned(),
    })
}

fn is_policy_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts[..], ["arn", partition, "iam", "", account, resource]
        if PARTITIONS.contains(&partition)
            && (account == "aws" || is_account_id(account))
            && resource.strip_prefix("policy/").is_some_and(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c))))
}

/// Puts `name` into STS's alphabet (`[\w+=,.@-]`, 2 to 64 characters):
/// other characters become `-`, and it is cut to 64. Control characters
/// mean a templating mistake and are refused.
pub fn sanitize_session_name(input: &str, name: &str) -> Result<String, InputError> {
    if name.chars().any(char::is_control) {
        return Err(InputError::invalid(
            input,
            "it contains a line break or another control character",
            "write the name on one line",
        ));
    }
    let sanitized: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if sanitized.len() < 2 {
        return Err(InputError::invalid(
            input,
            "STS needs at least 2 characters",
            "write a name such as `deploy-${{ github.run_id }}`",
        ));
    }
    Ok(sanitized)
}

/// Checks a session policy is a JSON object and returns it compact, as STS
/// counts its characters.
fn compact_policy(text: &str) -> Result<String, InputError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|error| {
        InputError::invalid(
            "inline-session-policy",
            format!("it is not valid JSON ({error})"),
            "write an IAM policy document: {\"Version\": \"2012-10-17\", \"Statement\": [...]}",
        )
    })?;
    if !value.is_object() {
        return Err(InputError::invalid(
            "inline-session-policy",
            "it must be a JSON object",
            "write an IAM policy document: {\"Version\": \"2012-10-17\", \"Statement\": [...]}",
        ));
    }
    let compact = value.to_string();
    if compact.len() > 2048 {
        return Err(InputError::invalid(
            "inline-session-policy",
            format!(
                "it is {} characters once compacted; STS allows 2048",
                compact.len()
            ),
            "move statements into a managed policy",
        ));
    }
    Ok(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "eu-west-1",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-2",
            "il-central-1",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "eu-west",
            "EU-WEST-1",
            "eu_west_1",
            "europe-west-1",
            "eu-west-1 ",
            "eu--1",
            "us-east-1a",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn role_arns() {
        let role = parse_role_arn("arn:aws:iam::123456789012:role/ci/github-deploy").unwrap();
        assert_eq!(role.account, "123456789012");
        assert!(parse_role_arn("arn:aws-cn:iam::123456789012:role/x").is_ok());
        for bad in [
            "github-deploy",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam:eu-west-1:123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/bad name",
            "arn:azure:iam::123456789012:role/x",
        ] {
            assert!(parse_role_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn session_names_are_sanitized_not_just_checked() {
        assert_eq!(
            sanitize_session_name("n", "acme/shop#12 [bot]").unwrap(),
            "acme-shop-12--bot-"
        );
        assert_eq!(
            sanitize_session_name("n", &"x".repeat(100)).unwrap().len(),
            64
        );
        assert!(sanitize_session_name("n", "a\tb").is_err());
        assert!(sanitize_session_name("n", "a").is_err());
    }

    #[test]
    fn policies() {
        assert_eq!(
            compact_policy("{ \"Version\" : \"2012-10-17\" }").unwrap(),
            "{\"Version\":\"2012-10-17\"}"
        );
        assert!(compact_policy("[1]").is_err());
        assert!(compact_policy("{").is_err());
        assert!(is_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess"));
        assert!(is_policy_arn(
            "arn:aws:iam::123456789012:policy/team/deploy"
        ));
        assert!(!is_policy_arn("arn:aws:iam::aws:role/x"));
    }
}
