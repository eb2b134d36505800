//! A cap on the size of every answer the AWS SDK clients read.
//!
//! The SDK reads a whole answer into memory before it parses it, whatever its
//! size: an STS endpoint (or a proxy in front of it) answering 2 GB grew
//! oidc-assume to 2.1 GB (issue 19). [`CappedClient`] wraps the SDK's HTTP
//! client so every connector it hands out reads the answer itself, at most
//! [`ANSWER_CAP`] bytes, and turns a larger one into one connector error
//! ([`AnswerTooLarge`]) that the SDK does not retry. A `Content-Length` over
//! the cap fails before a byte of the body is read; a body without one fails
//! as soon as it passes the cap, so a hostile endpoint costs at most the cap
//! plus one chunk.
//!
//! The answer is handed on to the SDK in memory, so this client does not
//! suit streaming operations (S3 `GetObject`); hoist calls none.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::ConfigBag;

/// The most of one AWS answer that is read: 1 MiB. The answers hoist reads
/// are small XML or JSON documents: STS's `AssumeRoleWithWebIdentity`
/// (credentials, a session token of at most a few KiB, an ARN), ECR's
/// `GetAuthorizationToken`, `DescribeRepositories` and `CreateRepository`,
/// and the credential providers' (IMDS, SSO, `credential_process` runs
/// locally); each is a few KiB, so 1 MiB leaves two orders of magnitude.
pub const ANSWER_CAP: u64 = 1024 * 1024;

/// An AWS endpoint answered more than the cap.
#[derive(Debug, thiserror::Error)]
#[error(
    "the AWS endpoint {host} answered more than {} MiB, hoist's cap on an AWS answer \
     (STS and ECR answer a few KiB); check that the endpoint (`sts-endpoint`, \
     AWS_ENDPOINT_URL_<SERVICE>) and any proxy in between lead to AWS",
    cap / (1024 * 1024)
)]
pub struct AnswerTooLarge {
    /// The endpoint's host (and port), without scheme, path or user info.
    pub host: String,
    /// The cap, in bytes.
    pub cap: u64,
}

/// An SDK HTTP client whose connectors read every answer whole, up to a cap.
#[derive(Debug, Clone)]
pub struct CappedClient {
    inner: SharedHttpClient,
    cap: u64,
}

impl CappedClient {
    /// Wraps `inner`; answers over `cap` bytes become [`AnswerTooLarge`].
    pub fn new(inner: SharedHttpClient, cap: u64) -> Self {
        Self { inner, cap }
    }
}

impl HttpClient for CappedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        CappedConnector {
            inner: self.inner.http_connector(settings, components),
            cap: self.cap,
        }
        .into_shared()
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// One connector of [`CappedClient`].
#[derive(Debug)]
struct CappedConnector {
    inner: SharedHttpConnector,
    cap: u64,
}

impl HttpConnector for CappedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let host = host_of(request.uri());
        let cap = self.cap;
        let answer = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let too_large = || ConnectorError::other(Box::new(AnswerTooLarge { host, cap }), None);
            let mut response = answer.await?;
            let declared = response
                .headers()
                .get("content-length")
                .and_then(|length| length.trim().parse::<u64>().ok());
            if declared.is_some_and(|length| length > cap) {
                return Err(too_large());
            }
            let capacity = declared.unwrap_or(0).min(cap);
            let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
            let mut stream = ByteStream::new(response.take_body());
            while let Some(chunk) = stream.next().await {
                // A body that breaks off is a broken exchange, as the SDK
                // classifies it when it reads the body itself.
                let chunk = chunk.map_err(|error| ConnectorError::io(Box::new(error)))?;
                if (body.len() + chunk.len()) as u64 > cap {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            *response.body_mut() = SdkBody::from(body);
            Ok(response)
        })
    }
}

/// `uri`'s host and port, for messages: no scheme, user info or path.
fn host_of(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_named_without_scheme_user_or_path() {
        assert_eq!(
            host_of("https://sts.eu-west-1.amazonaws.com/?Action=x"),
            "sts.eu-west-1.amazonaws.com"
        );
        assert_eq!(host_of("http://user:pw@127.0.0.1:8080/a"), "127.0.0.1:8080");
        assert_eq!(host_of("example.com"), "example.com");
    }

    #[test]
    fn the_message_names_the_cap_and_what_to_check() {
        let message = AnswerTooLarge {
            host: "127.0.0.1:1".to_owned(),
            cap: ANSWER_CAP,
        }
        .to_string();
        assert!(
            message.contains("127.0.0.1:1 answered more than 1 MiB"),
            "{message}"
        );
        assert!(message.contains("sts-endpoint"), "{message}");
    }
}
