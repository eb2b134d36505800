//! Amazon ECR registry login: what an ECR host is, the password
//! `GetAuthorizationToken` hands out, and a login with the AWS credentials
//! in the environment for actions that only read an ECR registry
//! (open-promotion-pr's require-image and require-signature). ecr-push
//! manages repositories with its own client and shares the host and token
//! rules here.

use std::path::Path;

use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use base64::Engine as _;
use hoist_http::Environment;

use crate::AwsSetupError;

/// Why an ECR login failed.
#[derive(Debug, thiserror::Error)]
pub enum EcrLoginError {
    /// The AWS client could not be set up.
    #[error(transparent)]
    Setup(#[from] AwsSetupError),
    /// An `AWS_ENDPOINT_URL*` variable is not a usable endpoint.
    #[error(transparent)]
    Endpoint(#[from] hoist_http::HttpError),
    /// No region was given, in the host or the environment.
    #[error("no AWS region for ECR: the registry host names none and AWS_REGION is unset")]
    NoRegion,
    /// No AWS credentials were found.
    #[error("no AWS credentials were found for ECR ({0})")]
    NoCredentials(String),
    /// The credentials were refused as invalid or expired.
    #[error("ECR refused the AWS credentials ({code}: {message})")]
    BadCredentials {
        /// The error code.
        code: String,
        /// ECR's message.
        message: String,
    },
    /// The credentials may not call `GetAuthorizationToken`.
    #[error("GetAuthorizationToken was denied: {0}")]
    Denied(String),
    /// Any other ECR error.
    #[error("GetAuthorizationToken failed: {0}")]
    Api(String),
    /// The authorization token did not decode to `AWS:<password>`.
    #[error("ECR's authorization token is not base64 of AWS:password")]
    BadToken,
}

impl EcrLoginError {
    /// What to change.
    pub fn hint(&self) -> String {
        match self {
            Self::Setup(_) | Self::Endpoint(_) => {
                "check `ca-bundle`, the proxy variables and AWS_ENDPOINT_URL*".into()
            }
            Self::NoRegion => "set AWS_REGION (oidc-assume's `aws-region` does)".into(),
            Self::NoCredentials(_) => "run hoist's oidc-assume (or configure-aws-credentials) \
                 before this step, or pass registry-username and registry-password"
                .into(),
            Self::BadCredentials { .. } => {
                "the credentials are invalid or expired: assume the role again".into()
            }
            Self::Denied(_) => "allow ecr:GetAuthorizationToken on `*` for the role (and \
                 ecr:BatchGetImage, ecr:GetDownloadUrlForLayer on the repository)"
                .into(),
            Self::Api(_) => "check the region and the role's ECR permissions".into(),
            Self::BadToken => {
                "re-run the job; if it persists, report it with the step's log".into()
            }
        }
    }

    fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static>(error: SdkError<E>) -> Self {
        if let SdkError::ServiceError(service) = &error {
            let code = service.err().code().unwrap_or_default().to_owned();
            let message = service.err().message().unwrap_or_default().to_owned();
            return match code.as_str() {
                "UnrecognizedClientException"
                | "ExpiredTokenException"
                | "InvalidSignatureException" => Self::BadCredentials { code, message },
                "AccessDeniedException" => Self::Denied(message),
                _ => Self::Api(format!("{code}: {message}")),
            };
        }
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        match text.contains("credentials") {
            true => Self::NoCredentials(text),
            false => Self::Api(text),
        }
    }
}

/// An ECR private registry host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrHost {
    /// The 12-digit account.
    pub account: String,
    /// The region.
    pub region: String,
}

impl EcrHost {
    /// `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`, split; `None`
    /// for any other host.
    pub fn parse(host: &str) -> Option<Self> {
        let rest = host
            .strip_suffix(".amazonaws.com")
            .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
        let mut parts = rest.split('.');
        let (account, dkr, ecr, region) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let ok = parts.next().is_none()
            && dkr == "dkr"
            && (ecr == "ecr" || ecr == "ecr-fips")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !region.is_empty();
        ok.then(|| Self {
            account: account.to_owned(),
            region: region.to_owned(),
        })
    }
}

/// The password in an ECR authorization token (base64 of `AWS:<password>`);
/// `None` when it is not one.
pub fn password_of(authorization_token: &str) -> Option<String> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(authorization_token)
        .ok()?;
    String::from_utf8(decoded)
        .ok()?
        .strip_prefix("AWS:")
        .map(String::from)
}

/// Whether the environment holds AWS credentials of some kind.
pub fn has_credentials(env: &Environment) -> bool {
    [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|name| env.get(*name).is_some_and(|v| !v.is_empty()))
}

/// The registry password `GetAuthorizationToken` hands out (the user is
/// `AWS`), asked in `host`'s region (else AWS_REGION), through the endpoint
/// the environment names. `expiresAt` is not trusted: the password is used
/// by this run only.
pub async fn login(
    env: &Environment,
    ca_bundle: Option<&Path>,
    host: &str,
) -> Result<String, EcrLoginError> {
    let mut plain_http = false;
    for variable in ["AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"] {
        if let Some(url) = env.get(variable).filter(|v| !v.is_empty()) {
            plain_http |= hoist_http::parse_endpoint(variable, url)?.scheme() == "http";
        }
    }
    let http = crate::http_client(env, ca_bundle, plain_http)?;
    let config = crate::sdk_config(http, EcrHost::parse(host).map(|h| h.region)).await;
    if config.region().is_none() {
        return Err(EcrLoginError::NoRegion);
    }
    let output = aws_sdk_ecr::Client::new(&config)
        .get_authorization_token()
        .send()
        .await
        .map_err(EcrLoginError::from_sdk)?;
    let token = output
        .authorization_data()
        .first()
        .and_then(|data| data.authorization_token())
        .ok_or(EcrLoginError::BadToken)?;
    password_of(token).ok_or(EcrLoginError::BadToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_hosts_are_split_and_others_refused() {
        assert_eq!(
            EcrHost::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(EcrHost {
                account: "123456789012".into(),
                region: "eu-west-1".into()
            })
        );
        assert_eq!(
            EcrHost::parse("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com").map(|h| h.region),
            Some("us-east-1".to_owned())
        );
        assert!(EcrHost::parse("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn").is_some());
        for other in [
            "ghcr.io",
            "127.0.0.1:5000",
            "12345.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.com",
            "public.ecr.aws",
        ] {
            assert_eq!(EcrHost::parse(other), None, "{other}");
        }
    }

    #[test]
    fn an_authorization_token_is_base64_of_aws_and_the_password() {
        assert_eq!(password_of("QVdTOnNlY3JldA==").as_deref(), Some("secret"));
        for bad in ["not base64!", "dXNlcjpzZWNyZXQ=", ""] {
            assert_eq!(password_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_error_has_a_hint() {
        for error in [
            EcrLoginError::NoRegion,
            EcrLoginError::NoCredentials("x".into()),
            EcrLoginError::Denied("x".into()),
            EcrLoginError::BadToken,
        ] {
            assert!(!error.hint().is_empty(), "{error}");
        }
    }
}
