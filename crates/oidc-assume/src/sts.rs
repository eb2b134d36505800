//! STS through the official AWS SDK: AssumeRoleWithWebIdentity, AssumeRole
//! for chaining, GetCallerIdentity on request; and which of its errors can
//! pass.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_sts::config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::types::PolicyDescriptorType;
use hoist_http::Verdict;

use crate::error::AssumeError;
use crate::settings::Settings;

/// Short-lived credentials and who they are.
#[derive(Debug, Clone)]
pub struct Session {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The secret key.
    pub secret_access_key: String,
    /// The session token.
    pub session_token: String,
    /// Expiry, RFC 3339.
    pub expiration: String,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub arn: String,
    /// The account the role belongs to.
    pub account: String,
}

/// One failed STS call, reduced to what classification and messages need.
#[derive(Debug, Clone)]
pub struct StsFailure {
    /// The STS error code (`AccessDenied`, …), when STS answered.
    pub code: Option<String>,
    /// STS's message.
    pub message: String,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// STS answered, but not with a well-formed answer (an unreadable body, a bad ARN, empty
    /// keys, an expiry in the past): asking again gets the same answer, so it is not retried.
    pub malformed: bool,
}

/// What to change when STS's answer is malformed: it rarely comes from AWS itself.
pub(crate) const MALFORMED_HINT: &str =
    "check that `sts-endpoint` (or AWS_ENDPOINT_URL_STS) and any proxy in between lead to AWS STS";

impl StsFailure {
    fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static>(
        operation: &'static str,
    ) -> impl FnOnce(SdkError<E>) -> Self {
        move |error| {
            let status = error.raw_response().map(|r| r.status().as_u16());
            // An answer over hoist's cap is no STS answer: asking again
            // gets the same one.
            if too_large(&error) {
                return malformed(operation, &hoist_runner::one_line(&error));
            }
            match &error {
                // A success status whose body the SDK could not read as the answer.
                SdkError::ServiceError(_) if status.is_some_and(|s| (200..300).contains(&s)) => {
                    malformed(
                        operation,
                        &format!(
                            "the body is not a valid {operation} response ({})",
                            hoist_runner::one_line(&error)
                        ),
                    )
                }
                SdkError::ServiceError(service) => Self {
                    code: service.err().code().map(String::from),
                    message: match (service.err().message(), status) {
                        (Some(message), _) => message.to_owned(),
                        (None, Some(status)) => {
                            format!("STS answered HTTP {status} without an error message")
                        }
                        (None, None) => "STS answered without an error message".to_owned(),
                    },
                    status,
                    malformed: false,
                },
                _ => Self {
                    code: None,
                    message: hoist_runner::one_line(&error),
                    status,
                    malformed: false,
                },
            }
        }
    }

    /// Whether a retry can help: throttling, 5xx, network, IdP trouble.
    pub fn verdict(&self) -> Verdict {
        let retry = Verdict::Retry { after: None };
        if self.malformed {
            return Verdict::Fail;
        }
        match self.code.as_deref() {
            Some("IDPCommunicationError") => retry,
            Some("InvalidIdentityToken")
                if self.message.contains("Couldn't retrieve verification key") =>
            {
                retry
            }
            // The JWT lives five minutes; the next attempt mints a fresh one.
            Some("ExpiredTokenException") => retry,
            Some(
                "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "TooManyRequestsException"
                | "ServiceUnavailable"
                | "InternalFailure"
                | "InternalError",
            ) => retry,
            Some(_) if self.status.is_some_and(|s| s >= 500) => retry,
            Some(_) => Verdict::Fail,
            None if self
                .status
                .is_some_and(|s| (400..500).contains(&s) && s != 429) =>
            {
                Verdict::Fail
            }
            None => retry,
        }
    }
}

/// An STS client with hoist's trust store, proxies and timeouts, and the
/// SDK's own retries off (hoist classifies and retries itself).
pub fn client(
    settings: &Settings,
    env: &hoist_http::Environment,
    credentials: Option<Credentials>,
) -> Result<aws_sdk_sts::Client, AssumeError> {
    let plain_http = settings
        .sts_endpoint
        .as_ref()
        .is_some_and(|u| u.scheme() == "http");
    let http = hoist_aws::http_client(env, settings.ca_bundle.as_deref(), plain_http)?;
    let mut config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(endpoint) = &settings.sts_endpoint {
        config = config.endpoint_url(endpoint.as_str().trim_end_matches('/'));
    }
    if let Some(credentials) = credentials {
        config = config.credentials_provider(credentials);
    }
    Ok(aws_sdk_sts::Client::from_conf(config.build()))
}

/// Whether `error` (or a cause) is hoist's cap on an AWS answer.
fn too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<hoist_aws::capped::AnswerTooLarge>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// A malformed answer to `operation`: `what` was wrong with it.
fn malformed(operation: &str, what: &str) -> StsFailure {
    StsFailure {
        code: None,
        message: format!("STS's {operation} answer is malformed: {what}"),
        status: Some(200),
        malformed: true,
    }
}

/// The session in a successful answer, checked before anything is exported: non-empty keys,
/// an expiry in the future, an assumed-role ARN of the right shape (no control characters,
/// which would break the step's outputs) and its 12-digit account.
fn session(
    operation: &'static str,
    credentials: Option<&aws_sdk_sts::types::Credentials>,
    arn: Option<&str>,
) -> Result<Session, StsFailure> {
    let bad = |what: &str| malformed(operation, what);
    let credentials = credentials.ok_or_else(|| bad("it holds no Credentials"))?;
    let arn = arn.ok_or_else(|| bad("it holds no AssumedRoleUser.Arn"))?;
    for (name, value) in [
        ("AccessKeyId", credentials.access_key_id()),
        ("SecretAccessKey", credentials.secret_access_key()),
        ("SessionToken", credentials.session_token()),
    ] {
        if value.trim().is_empty() {
            return Err(bad(&format!("Credentials.{name} is empty")));
        }
        if value.chars().any(char::is_control) {
            return Err(bad(&format!(
                "Credentials.{name} holds a control character"
            )));
        }
    }
    let expiry = credentials.expiration();
    let expiration = expiry
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .map_err(|_| bad("Credentials.Expiration is not a valid time"))?;
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    if expiry.secs() <= now.secs() {
        return Err(bad(&format!(
            "Credentials.Expiration {expiration} is not in the future"
        )));
    }
    let account = check_assumed_role_arn(arn).map_err(|what| bad(&what))?;
    Ok(Session {
        access_key_id: credentials.access_key_id().to_owned(),
        secret_access_key: credentials.secret_access_key().to_owned(),
        session_token: credentials.session_token().to_owned(),
        expiration,
        account,
        arn: arn.to_owned(),
    })
}

/// Checks `arn:aws[-cn|-us-gov]:sts::<12 digits>:assumed-role/<role>/<session>` (role and
/// session of `[\w+=,.@-]`) and returns the account, or says what is wrong.
fn check_assumed_role_arn(arn: &str) -> Result<String, String> {
    let shape = "arn:aws:sts::<12-digit account>:assumed-role/<role>/<session>";
    if arn.chars().any(char::is_control) {
        return Err(format!(
            "the assumed-role ARN {arn:?} holds a control character"
        ));
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(format!(
            "the assumed-role ARN {arn:?} is not of the form {shape}"
        ));
    };
    let name_ok = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    };
    let resource_ok = resource
        .strip_prefix("assumed-role/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(role, session)| name_ok(role) && name_ok(session));
    let shape_ok = *prefix == "arn"
        && matches!(*partition, "aws" | "aws-cn" | "aws-us-gov")
        && *service == "sts"
        && region.is_empty()
        && resource_ok;
    if !shape_ok {
        return Err(format!(
            "the assumed-role ARN {arn:?} is not of the form {shape}"
        ));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "the account {account:?} in the assumed-role ARN is not 12 digits"
        ));
    }
    Ok((*account).to_owned())
}

/// The account in `arn:<partition>:sts::<account>:assumed-role/…`.
pub fn account_of(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12)
        .map(String::from)
}

fn policy_arns(settings: &Settings) -> Option<Vec<PolicyDescriptorType>> {
    (!settings.managed_policies.is_empty()).then(|| {
        settings
            .managed_policies
            .iter()
            .map(|arn| PolicyDescriptorType::builder().arn(arn).build())
            .collect()
    })
}

/// AssumeRoleWithWebIdentity (unsigned: the token is the credential).
pub async fn assume_with_token(
    client: &aws_sdk_sts::Client,
    settings: &Settings,
    token: &str,
) -> Result<Session, StsFailure> {
    let output = client
        .assume_role_with_web_identity()
        .role_arn(&settings.role.arn)
        .role_session_name(&settings.session_name)
        .web_identity_token(token)
        .duration_seconds(settings.duration_seconds)
        .set_policy(settings.inline_policy.clone())
        .set_policy_arns(policy_arns(settings))
        .send()
        .await
        .map_err(StsFailure::from_sdk("AssumeRoleWithWebIdentity"))?;
    session(
        "AssumeRoleWithWebIdentity",
        output.credentials(),
        output.assumed_role_user().map(|u| u.arn()),
    )
}

/// AssumeRole with the client's credentials (role chaining).
pub async fn assume_chained(
    client: &aws_sdk_sts::Client,
    settings: &Settings,
) -> Result<Session, StsFailure> {
    let output = client
        .assume_role()
        .role_arn(&settings.role.arn)
        .role_session_name(&settings.session_name)
        .duration_seconds(settings.duration_seconds)
        .set_external_id(settings.external_id.clone())
        .set_policy(settings.inline_policy.clone())
        .set_policy_arns(policy_arns(settings))
        .send()
        .await
        .map_err(StsFailure::from_sdk("AssumeRole"))?;
    session(
        "AssumeRole",
        output.credentials(),
        output.assumed_role_user().map(|u| u.arn()),
    )
}

/// GetCallerIdentity: the ARN the client's credentials act as.
pub async fn caller_arn(client: &aws_sdk_sts::Client) -> Result<String, StsFailure> {
    let output = client
        .get_caller_identity()
        .send()
        .await
        .map_err(StsFailure::from_sdk("GetCallerIdentity"))?;
    Ok(output.arn().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: &str, message: &str, status: u16) -> StsFailure {
        StsFailure {
            code: Some(code.into()),
            message: message.into(),
            status: Some(status),
            malformed: false,
        }
    }

    #[test]
    fn only_errors_that_can_pass_are_retried() {
        let retry = Verdict::Retry { after: None };
        assert_eq!(
            failure("IDPCommunicationError", "slow", 400).verdict(),
            retry
        );
        assert_eq!(
            failure(
                "InvalidIdentityToken",
                "Couldn't retrieve verification key from your identity provider",
                400
            )
            .verdict(),
            retry
        );
        assert_eq!(failure("Throttling", "Rate exceeded", 400).verdict(), retry);
        assert_eq!(failure("InternalFailure", "", 500).verdict(), retry);
        assert_eq!(
            failure("AccessDenied", "Not authorized", 403).verdict(),
            Verdict::Fail
        );
        assert_eq!(
            failure("InvalidIdentityToken", "Incorrect token audience", 400).verdict(),
            Verdict::Fail
        );
        assert_eq!(
            failure("ValidationError", "bad", 400).verdict(),
            Verdict::Fail
        );
        let network = StsFailure {
            code: None,
            message: "connection refused".into(),
            status: None,
            malformed: false,
        };
        assert_eq!(network.verdict(), retry);
        assert_eq!(
            malformed("AssumeRole", "the body is empty").verdict(),
            Verdict::Fail
        );
    }

    #[test]
    fn the_account_comes_from_the_assumed_role_arn() {
        assert_eq!(
            account_of("arn:aws:sts::123456789012:assumed-role/deploy/s").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of("garbage"), None);
    }

    #[test]
    fn assumed_role_arns_are_checked() {
        for (arn, account) in [
            (
                "arn:aws:sts::123456789012:assumed-role/deploy/s",
                "123456789012",
            ),
            (
                "arn:aws-cn:sts::000000000001:assumed-role/r_1+=,.@-/sess-1",
                "000000000001",
            ),
            (
                "arn:aws-us-gov:sts::123456789012:assumed-role/deploy/s",
                "123456789012",
            ),
        ] {
            assert_eq!(check_assumed_role_arn(arn).as_deref(), Ok(account), "{arn}");
        }
        for (arn, needle) in [
            (
                "arn:aws:sts::123456789012:assumed-role/deploy/s\nevil",
                "control character",
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/deploy/s\u{7f}",
                "control character",
            ),
            (
                "arn:aws:sts::12345678901:assumed-role/deploy/s",
                "not 12 digits",
            ),
            (
                "arn:aws:sts::12345678901x:assumed-role/deploy/s",
                "not 12 digits",
            ),
            ("arn:aws:iam::123456789012:role/deploy", "not of the form"),
            (
                "arn:aws:sts::123456789012:assumed-role/deploy",
                "not of the form",
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/deploy/",
                "not of the form",
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/deploy/a/b",
                "not of the form",
            ),
            (
                "arn:aws:sts::123456789012:assumed-role//s",
                "not of the form",
            ),
            (
                "arn:aws:sts:eu-west-1:123456789012:assumed-role/deploy/s",
                "not of the form",
            ),
            (
                "arn:evil:sts::123456789012:assumed-role/deploy/s",
                "not of the form",
            ),
            ("arn:aws:sts::123456789012:user/deploy/s", "not of the form"),
            ("", "not of the form"),
        ] {
            let error = check_assumed_role_arn(arn).unwrap_err();
            assert!(error.contains(needle), "{arn:?}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
