//! AWS SDK plumbing shared by hoist's actions.
//!
//! Every AWS client in hoist talks through [`http_client`]: rustls with ring
//! (the suite's one TLS provider), the same trust store as `hoist-http`
//! (system roots, `SSL_CERT_FILE`, `ca-bundle`), and the proxy the
//! environment names. [`sdk_config`] loads region and credentials the way
//! the AWS SDKs do (environment keys, `AWS_PROFILE`, `credential_process`,
//! `AWS_ENDPOINT_URL_<SERVICE>`), over that client. [`ecr`] logs in to an
//! ECR registry through `GetAuthorizationToken`. Every answer is read with a
//! cap ([`capped`]).

pub mod capped;
pub mod ecr;

use std::path::Path;

use aws_config::BehaviorVersion;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, Connector};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use hoist_http::{Environment, ProxyEnv, TrustedBundles};

/// AWS client set-up that failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsSetupError {
    /// The trust store could not be read.
    #[error(transparent)]
    Trust(#[from] hoist_http::HttpError),
    /// The TLS context could not be built.
    #[error("could not set up TLS for AWS: {0}")]
    Tls(String),
    /// A proxy variable is not a proxy URL.
    #[error("`{variable}` is not a valid proxy URL")]
    Proxy {
        /// The variable.
        variable: &'static str,
    },
}

/// An HTTP client for AWS SDK clients. `plain_http` selects `HTTP_PROXY`
/// (for a loopback `http://` endpoint) instead of `HTTPS_PROXY`. Answers
/// over [`capped::ANSWER_CAP`] fail with [`capped::AnswerTooLarge`].
pub fn http_client(
    env: &Environment,
    ca_bundle: Option<&Path>,
    plain_http: bool,
) -> Result<SharedHttpClient, AwsSetupError> {
    let pem = TrustedBundles::new(env, ca_bundle).pem()?;
    let context = TlsContext::builder()
        .with_trust_store(
            TrustStore::empty()
                .with_native_roots(false)
                .with_pem_certificate(pem),
        )
        .build()
        .map_err(|e| AwsSetupError::Tls(e.to_string()))?;
    let proxy = proxy_config(env, plain_http)?;
    let client = Builder::new().build_with_connector_fn(move |settings, components| {
        let mut builder = Connector::builder();
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder
            .proxy_config(proxy.clone())
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(context.clone())
            .build()
    });
    Ok(SharedHttpClient::new(capped::CappedClient::new(
        client,
        capped::ANSWER_CAP,
    )))
}

/// The proxy from the environment: `HTTPS_PROXY`, or `HTTP_PROXY` for a
/// plain loopback endpoint, with `NO_PROXY` honoured.
fn proxy_config(env: &Environment, plain_http: bool) -> Result<ProxyConfig, AwsSetupError> {
    let settings = ProxyEnv::read(env);
    let chosen = if plain_http {
        &settings.http
    } else {
        &settings.https
    };
    let Some((variable, url)) = chosen else {
        return Ok(ProxyConfig::disabled());
    };
    let proxy = if plain_http {
        ProxyConfig::http(url.as_str())
    } else {
        ProxyConfig::https(url.as_str())
    }
    .map_err(|_| AwsSetupError::Proxy { variable })?;
    Ok(match settings.no_proxy {
        Some(rules) => proxy.no_proxy(rules),
        None => proxy,
    })
}

/// SDK config as the AWS SDKs load it from the environment, over
/// [`http_client`]; `region` overrides `AWS_REGION`.
pub async fn sdk_config(http: SharedHttpClient, region: Option<String>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    loader.load().await
}
