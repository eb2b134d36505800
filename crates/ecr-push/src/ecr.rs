//! Amazon ECR: its registry hosts, login through `GetAuthorizationToken`,
//! repositories created right, and the Docker config for later steps.

use std::path::Path;

use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::types::{
    ImageScanningConfiguration, ImageTagMutability, ImageTagMutabilityExclusionFilter,
    ImageTagMutabilityExclusionFilterType,
};
use base64::Engine as _;

/// What went wrong talking to ECR's API.
#[derive(Debug, thiserror::Error)]
pub enum EcrError {
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
    /// The credentials may not do this.
    #[error("{operation} was denied: {message}")]
    Denied {
        /// The ECR operation.
        operation: &'static str,
        /// ECR's message.
        message: String,
    },
    /// The repository does not exist and may not be created.
    #[error("the ECR repository `{0}` does not exist")]
    RepositoryNotFound(String),
    /// Any other ECR error.
    #[error("{operation} failed: {message}")]
    Api {
        /// The ECR operation.
        operation: &'static str,
        /// The error, with its code.
        message: String,
    },
    /// The authorization token did not decode to `AWS:<password>`.
    #[error("ECR's authorization token is not base64 of user:password")]
    BadToken,
    /// The lifecycle policy file cannot be used.
    #[error("the lifecycle policy `{path}` cannot be used: {reason}")]
    LifecyclePolicy {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The Docker config could not be written.
    #[error("could not write the Docker config `{path}`: {reason}")]
    DockerConfig {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

impl EcrError {
    /// What to change.
    pub fn hint(&self) -> String {
        match self {
            Self::NoCredentials(_) => "run hoist's oidc-assume (or configure-aws-credentials) before this step, or pass registry-username and registry-password for a registry that is not ECR".into(),
            Self::BadCredentials { .. } => "the credentials are invalid or expired: assume the role again (oidc-assume with `refreshable: true` keeps long jobs fresh)".into(),
            Self::Denied { operation, .. } => format!("allow ecr:{operation} for the role, on the repository (ecr:GetAuthorizationToken on `*`)"),
            Self::RepositoryNotFound(_) => "set `create-repository: true`, or create the repository with your infrastructure code".into(),
            Self::Api { .. } => "check the region and the role's ECR permissions".into(),
            Self::BadToken => "re-run the job; if it persists, report it with the step's log".into(),
            Self::LifecyclePolicy { .. } => "point `lifecycle-policy` at a JSON file with a `rules` list (see actions/ecr-push/README.md)".into(),
            Self::DockerConfig { .. } => "check that DOCKER_CONFIG (or ~/.docker) is writable and not a symbolic link".into(),
        }
    }

    fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static>(
        operation: &'static str,
        error: SdkError<E>,
    ) -> Self {
        if let SdkError::ServiceError(service) = &error {
            let code = service.err().code().unwrap_or_default().to_owned();
            let message = service.err().message().unwrap_or_default().to_owned();
            return match code.as_str() {
                "UnrecognizedClientException"
                | "ExpiredTokenException"
                | "InvalidSignatureException" => Self::BadCredentials { code, message },
                "AccessDeniedException" => Self::Denied { operation, message },
                _ => Self::Api {
                    operation,
                    message: format!("{code}: {message}"),
                },
            };
        }
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        if text.contains("credentials") {
            Self::NoCredentials(text)
        } else {
            Self::Api {
                operation,
                message: text,
            }
        }
    }
}

pub use hoist_aws::ecr::EcrHost;

/// The registry host and password `GetAuthorizationToken` hands out.
/// `expiresAt` is not trusted: a token is used only by this run.
pub async fn login(client: &aws_sdk_ecr::Client) -> Result<(String, String), EcrError> {
    let output = client
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| EcrError::from_sdk("GetAuthorizationToken", e))?;
    let data = output
        .authorization_data()
        .first()
        .ok_or(EcrError::BadToken)?;
    let token = data.authorization_token().ok_or(EcrError::BadToken)?;
    let password = hoist_aws::ecr::password_of(token).ok_or(EcrError::BadToken)?;
    let host = data
        .proxy_endpoint()
        .map(|endpoint| {
            endpoint
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_owned()
        })
        .unwrap_or_default();
    Ok((host, password))
}

/// Makes sure the repository exists; creates it when `create`, with tags
/// immutable except `sha256-*` (signature tags), scan on push, and the
/// lifecycle policy. Returns whether it was created.
pub async fn ensure_repository(
    client: &aws_sdk_ecr::Client,
    name: &str,
    create: bool,
    lifecycle: Option<&str>,
) -> Result<bool, EcrError> {
    match client
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(_) => return Ok(false),
        Err(SdkError::ServiceError(service))
            if service.err().is_repository_not_found_exception() => {}
        Err(error) => return Err(EcrError::from_sdk("DescribeRepositories", error)),
    }
    if !create {
        return Err(EcrError::RepositoryNotFound(name.to_owned()));
    }
    let filter = ImageTagMutabilityExclusionFilter::builder()
        .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
        .filter("sha256-*")
        .build()
        .map_err(|e| EcrError::Api {
            operation: "CreateRepository",
            message: e.to_string(),
        })?;
    client
        .create_repository()
        .repository_name(name)
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
        .image_tag_mutability_exclusion_filters(filter)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| EcrError::from_sdk("CreateRepository", e))?;
    if let Some(policy) = lifecycle {
        client
            .put_lifecycle_policy()
            .repository_name(name)
            .lifecycle_policy_text(policy)
            .send()
            .await
            .map_err(|e| EcrError::from_sdk("PutLifecyclePolicy", e))?;
    }
    Ok(true)
}

/// Reads and checks a lifecycle policy file: JSON with a `rules` list.
pub fn read_lifecycle_policy(path: &Path) -> Result<String, EcrError> {
    let shown = path.display().to_string();
    let bad = |reason: String| EcrError::LifecyclePolicy {
        path: shown.clone(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("it is not JSON ({e})")))?;
    if !value["rules"].is_array() {
        return Err(bad("it has no `rules` list".into()));
    }
    Ok(value.to_string())
}

/// Merges `auths.<host>` into the Docker config, keeping every other entry
/// (written as a private file: 0600, atomic, no symbolic links).
pub fn write_docker_login(
    path: &Path,
    host: &str,
    username: &str,
    password: &str,
) -> Result<(), EcrError> {
    use hoist_runner::private_file;
    let fail = |reason: String| EcrError::DockerConfig {
        path: path.display().to_string(),
        reason,
    };
    let existing = private_file::read(path).map_err(|e| fail(e.to_string()))?;
    let mut config: serde_json::Value = match existing {
        Some(text) => {
            serde_json::from_str(&text).map_err(|_| fail("the existing file is not JSON".into()))?
        }
        None => serde_json::json!({}),
    };
    if !config.is_object() {
        return Err(fail("the existing file is not a JSON object".into()));
    }
    if !config["auths"].is_object() {
        config["auths"] = serde_json::json!({});
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    config["auths"][host] = serde_json::json!({ "auth": auth });
    let text = serde_json::to_string_pretty(&config).unwrap_or_default();
    private_file::write(path, text.as_bytes()).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_login_merges_and_keeps_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"ghcr.io":{"auth":"eA=="}},"credsStore":"desktop"}"#,
        )
        .unwrap();
        write_docker_login(&path, "1.dkr.ecr.eu-west-1.amazonaws.com", "AWS", "pw").unwrap();
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(config["auths"]["ghcr.io"]["auth"], "eA==");
        assert_eq!(config["credsStore"], "desktop");
        assert_eq!(
            config["auths"]["1.dkr.ecr.eu-west-1.amazonaws.com"]["auth"],
            "QVdTOnB3"
        );
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
