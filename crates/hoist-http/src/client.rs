//! The HTTP client every hoist action uses.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use reqwest::{Client, Proxy, RequestBuilder, Response, redirect};

use crate::endpoint::check_scheme;
use crate::error::HttpError;
use crate::redact::redact_url;
use crate::retry::{Clock, RetryPolicy, Verdict, parse_retry_after, retry, status_is_retryable};
use crate::tls;

/// A snapshot of the process environment (proxies, `SSL_CERT_FILE`).
pub type Environment = BTreeMap<String, String>;

/// How the client connects.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// An extra PEM bundle to trust (the `ca-bundle` input), on top of the
    /// system's roots and `SSL_CERT_FILE`.
    pub ca_bundle: Option<PathBuf>,
    /// The longest a TCP and TLS connect may take.
    pub connect_timeout: Duration,
    /// The longest a whole request may take; large uploads set their own.
    pub request_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl HttpOptions {
    /// Defaults for an action called `name` at `version`.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            ca_bundle: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            user_agent: format!("hoist-{name}/{version}"),
        }
    }
}

/// A reqwest client set up by hoist's policy: verified TLS over the system
/// roots plus extra CAs, plain HTTP to loopback only (redirects included),
/// proxies from the environment, timeouts on every call.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: Client,
    request_timeout: Duration,
}

/// What [`HttpClient::send`] records on each response it returns (in the
/// response's extensions), so an error reading the body later is reported
/// like one during the exchange: a body that stops coming is a timeout
/// ("did not answer within …"), not a decode error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The method.
    pub method: String,
    /// The redacted URL.
    pub url: String,
    /// The time the answering attempt had for connect, headers and the
    /// whole body: the per-request timeout or what was left of the retry
    /// policy's deadline, whichever was shorter.
    pub within: Duration,
    /// How many attempts were made, the answering one included.
    pub attempts: u32,
}

impl Exchange {
    /// The record [`HttpClient::send`] left on `response`, if it sent it.
    pub fn of(response: &Response) -> Option<Self> {
        response.extensions().get::<Self>().cloned()
    }

    /// The error for a body that could not be read whole: a
    /// [`HttpError::Timeout`] when the attempt's time ran out while reading
    /// it, else a [`HttpError::Send`] (a broken body can pass, so it is
    /// retryable).
    pub fn body_error(&self, source: reqwest::Error) -> HttpError {
        if source.is_timeout() {
            HttpError::Timeout {
                method: self.method.clone(),
                url: self.url.clone(),
                within: self.within,
                attempts: self.attempts,
            }
        } else {
            HttpError::Send {
                method: self.method.clone(),
                url: self.url.clone(),
                attempts: self.attempts,
                source: source.without_url(),
            }
        }
    }
}

/// The time one attempt may take: its own timeout (the request's, else the
/// client's), cut to what is left before `deadline` when there is one.
/// `None` when the deadline has passed: no attempt starts then.
fn attempt_timeout(
    own: Duration,
    deadline: Option<Duration>,
    elapsed: Duration,
) -> Option<Duration> {
    match deadline {
        None => Some(own),
        Some(deadline) => {
            let left = deadline.saturating_sub(elapsed);
            (!left.is_zero()).then(|| own.min(left))
        }
    }
}

/// One failed attempt, before it is known whether it is the last.
enum Attempt {
    Transport(reqwest::Error),
    /// The deadline had passed before the attempt could start.
    Expired,
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    Refused(HttpError),
}

impl HttpClient {
    /// Builds the client; `env` supplies `SSL_CERT_FILE`, `HTTPS_PROXY`,
    /// `HTTP_PROXY` and `NO_PROXY`.
    pub fn new(options: &HttpOptions, env: &Environment) -> Result<Self, HttpError> {
        let roots = tls::TrustedBundles::new(env, options.ca_bundle.as_deref()).root_store()?;
        let config = tls::client_config(roots)?;

        let mut builder = Client::builder()
            .tls_backend_preconfigured(config)
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(&options.user_agent)
            .redirect(redirect::Policy::custom(|attempt| {
                if attempt.previous().len() >= 10 {
                    attempt.error("too many redirects")
                } else if check_scheme(attempt.url()).is_err() {
                    let target = redact_url(attempt.url());
                    attempt.error(format!("refusing a redirect to {target}: plain HTTP is allowed to loopback hosts only"))
                } else {
                    attempt.follow()
                }
            }))
            .no_proxy();
        for proxy in proxies(env)? {
            builder = builder.proxy(proxy);
        }
        Ok(Self {
            client: builder.build().map_err(HttpError::Client)?,
            request_timeout: options.request_timeout,
        })
    }

    /// The underlying reqwest client, for building requests.
    pub fn inner(&self) -> &Client {
        &self.client
    }

    /// Sends the request `build` makes, again for each attempt, retrying
    /// transport errors and the statuses in
    /// [`status_is_retryable`](crate::retry::status_is_retryable). Any other
    /// answer, 4xx included, is returned for the caller to read.
    ///
    /// Each attempt gets its own timeout (the request's, else the client's
    /// `request_timeout`) cut to what is left of `policy.deadline`; it
    /// covers connecting, the headers and reading the whole body. A
    /// response carries an [`Exchange`] so a body that stops coming can be
    /// reported as the timeout it is ([`Exchange::body_error`]).
    pub async fn send(
        &self,
        policy: &RetryPolicy,
        clock: &dyn Clock,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, HttpError> {
        let mut target = (String::new(), String::new());
        let mut within = self.request_timeout;
        let result = retry(
            policy,
            clock,
            |attempt| {
                let mut request = build(&self.client).build();
                let timeout = match &mut request {
                    Ok(request) => {
                        target = (request.method().to_string(), redact_url(request.url()));
                        let own = request.timeout().copied().unwrap_or(self.request_timeout);
                        let timeout = attempt_timeout(own, policy.deadline, clock.elapsed());
                        if let Some(timeout) = timeout {
                            *request.timeout_mut() = Some(timeout);
                            within = timeout;
                        }
                        timeout
                    }
                    Err(_) => Some(self.request_timeout),
                };
                let exchange = Exchange {
                    method: target.0.clone(),
                    url: target.1.clone(),
                    within,
                    attempts: attempt,
                };
                async move {
                    let request = request
                        .map_err(|e| Attempt::Refused(HttpError::Client(e.without_url())))?;
                    check_scheme(request.url()).map_err(Attempt::Refused)?;
                    if timeout.is_none() {
                        return Err(Attempt::Expired);
                    }
                    let mut response = self
                        .client
                        .execute(request)
                        .await
                        .map_err(Attempt::Transport)?;
                    let status = response.status().as_u16();
                    if status_is_retryable(status) {
                        let retry_after = response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| parse_retry_after(v, SystemTime::now()));
                        return Err(Attempt::Status {
                            status,
                            retry_after,
                        });
                    }
                    response.extensions_mut().insert(exchange);
                    Ok(response)
                }
            },
            |attempt| match attempt {
                Attempt::Transport(error) if is_transient(error) => Verdict::Retry { after: None },
                Attempt::Status { retry_after, .. } => Verdict::Retry {
                    after: *retry_after,
                },
                Attempt::Transport(_) | Attempt::Refused(_) | Attempt::Expired => Verdict::Fail,
            },
        )
        .await;
        result.map_err(|failure| {
            let (method, url) = target;
            match failure.last {
                Attempt::Transport(source) if source.is_timeout() => HttpError::Timeout {
                    method,
                    url,
                    within,
                    attempts: failure.attempts,
                },
                Attempt::Expired => HttpError::Timeout {
                    method,
                    url,
                    within: policy.deadline.unwrap_or(within),
                    attempts: failure.attempts.saturating_sub(1),
                },
                Attempt::Transport(source) => HttpError::Send {
                    method,
                    url,
                    attempts: failure.attempts,
                    source: source.without_url(),
                },
                Attempt::Status {
                    status,
                    retry_after,
                } => HttpError::Status {
                    method,
                    url,
                    status,
                    attempts: failure.attempts,
                    retry_after,
                },
                Attempt::Refused(error) => error,
            }
        })
    }
}

/// Connection failures, timeouts and broken exchanges can pass; a refused
/// redirect or a malformed request cannot.
pub(crate) fn is_transient(error: &reqwest::Error) -> bool {
    !error.is_redirect()
        && !error.is_builder()
        && (error.is_connect() || error.is_timeout() || error.is_request() || error.is_body())
}

/// The proxies the environment names, each honouring `NO_PROXY`.
fn proxies(env: &Environment) -> Result<Vec<Proxy>, HttpError> {
    let settings = crate::proxy::ProxyEnv::read(env);
    let no_proxy = settings
        .no_proxy
        .as_deref()
        .and_then(reqwest::NoProxy::from_string);
    let mut proxies = Vec::new();
    for (setting, https) in [(&settings.https, true), (&settings.http, false)] {
        if let Some((variable, url)) = setting {
            let proxy = if https {
                Proxy::https(url)
            } else {
                Proxy::http(url)
            };
            let proxy = proxy.map_err(|source| HttpError::Proxy {
                variable,
                source: source.without_url(),
            })?;
            proxies.push(proxy.no_proxy(no_proxy.clone()));
        }
    }
    Ok(proxies)
}
