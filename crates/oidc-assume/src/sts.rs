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
}

impl StsFailure {
    fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static>(error: SdkError<E>) -> Self {
        let status = error.raw_response().map(|r| r.status().as_u16());
        match &error {
            SdkError::ServiceError(service) => Self {
                code: service.err().code().map(String::from),
                message: service.err().message().unwrap_or("no message").to_owned(),
                status,
            },
            _ => Self {
                code: None,
                message: hoist_runner::one_line(&error),
                status,
            },
        }
    }

    /// Whether a retry can help: throttling, 5xx, network, IdP trouble.
    pub fn verdict(&self) -> Verdict {
        let retry = Verdict::Retry { after: None };
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

fn session(
    credentials: Option<&aws_sdk_sts::types::Credentials>,
    arn: Option<&str>,
) -> Result<Session, StsFailure> {
    let missing = || StsFailure {
        code: None,
        message: "STS answered without credentials".into(),
        status: Some(200),
    };
    let credentials = credentials.ok_or_else(missing)?;
    let arn = arn.ok_or_else(missing)?.to_owned();
    Ok(Session {
        access_key_id: credentials.access_key_id().to_owned(),
        secret_access_key: credentials.secret_access_key().to_owned(),
        session_token: credentials.session_token().to_owned(),
        expiration: credentials
            .expiration()
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_default(),
        account: account_of(&arn).unwrap_or_default(),
        arn,
    })
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
        .map_err(StsFailure::from_sdk)?;
    session(
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
        .map_err(StsFailure::from_sdk)?;
    session(
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
        .map_err(StsFailure::from_sdk)?;
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
        };
        assert_eq!(network.verdict(), retry);
    }

    #[test]
    fn the_account_comes_from_the_assumed_role_arn() {
        assert_eq!(
            account_of("arn:aws:sts::123456789012:assumed-role/deploy/s").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of("garbage"), None);
    }
}
