//! What can go wrong talking HTTP, each with a hint.

use hoist_runner::Diagnostic;

/// An HTTP failure. URLs in it are already redacted, and it never holds a
/// request or response body that could carry a credential.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// An endpoint input is not a URL.
    #[error("input `{input}` is not a valid URL: {reason}")]
    InvalidUrl {
        /// The input that held it.
        input: String,
        /// What the URL parser said.
        reason: String,
    },
    /// An endpoint URL carries a user name or password.
    #[error("input `{input}` has credentials in the URL")]
    CredentialsInUrl {
        /// The input that held it.
        input: String,
    },
    /// Plain HTTP (or another scheme) to a host that is not loopback.
    #[error("refusing `{url}`: plain HTTP is allowed to loopback hosts only")]
    InsecureUrl {
        /// The redacted URL.
        url: String,
    },
    /// `insecure-registry: true` for a registry that is not on loopback.
    #[error(
        "refusing `insecure-registry: true` for `{host}`: plain HTTP is allowed to loopback registries only"
    )]
    InsecureRegistry {
        /// The registry host.
        host: String,
    },
    /// The CA bundle could not be read.
    #[error("could not read the CA bundle `{path}`")]
    CaBundle {
        /// The bundle's path.
        path: String,
        /// The I/O or PEM error.
        #[source]
        source: std::io::Error,
    },
    /// The CA bundle holds no certificate.
    #[error("the CA bundle `{path}` holds no PEM certificate")]
    CaBundleEmpty {
        /// The bundle's path.
        path: String,
    },
    /// No trusted root certificate was found at all.
    #[error("found no trusted root certificates on this machine")]
    NoRoots,
    /// A proxy variable holds something that is not a proxy URL.
    #[error("`{variable}` is not a valid proxy URL")]
    Proxy {
        /// The environment variable.
        variable: &'static str,
        /// reqwest's complaint.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built.
    #[error("could not set up the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The TLS configuration could not be built.
    #[error("could not set up TLS")]
    Tls(#[source] rustls::Error),
    /// The request never got an answer: DNS, connection, TLS, timeout.
    #[error("{method} {url} failed after {attempts} attempt(s)")]
    Send {
        /// The method.
        method: String,
        /// The redacted URL.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The transport error, its URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// No attempt got a whole answer (headers and body) within the time it
    /// had: the per-request timeout, or what was left of the step's
    /// deadline if that was shorter.
    #[error("{method} {url} did not answer within {} after {attempts} attempt(s)", seconds(*.within))]
    Timeout {
        /// The method.
        method: String,
        /// The redacted URL.
        url: String,
        /// The time the last attempt was given.
        within: std::time::Duration,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The server kept answering with a status worth retrying.
    #[error("{method} {url} answered {status} after {attempts} attempt(s)")]
    Status {
        /// The method.
        method: String,
        /// The redacted URL.
        url: String,
        /// The last status.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// The wait the server asked for, if it did.
        retry_after: Option<std::time::Duration>,
    },
    /// An answer's body is larger than hoist reads for that kind of answer
    /// ([`crate::body::read_capped`]).
    #[error("{what} from {url} is larger than {} MiB; hoist stopped reading it", cap / (1024 * 1024))]
    BodyTooLarge {
        /// Which answer ("Argo CD's answer to reading the application", …).
        what: String,
        /// The redacted URL.
        url: String,
        /// The cap, in bytes.
        cap: u64,
    },
    /// An answer's body broke off while it was read.
    #[error("{what} from {url} could not be read")]
    Body {
        /// Which answer.
        what: String,
        /// The redacted URL.
        url: String,
        /// The transport error, its URL removed.
        #[source]
        source: reqwest::Error,
    },
}

impl HttpError {
    /// Whether another attempt could succeed: for callers that retry a
    /// sequence of requests as one operation.
    pub fn verdict(&self) -> crate::retry::Verdict {
        use crate::retry::Verdict;
        match self {
            Self::Status { retry_after, .. } => Verdict::Retry {
                after: *retry_after,
            },
            Self::Send { source, .. } if crate::client::is_transient(source) => {
                Verdict::Retry { after: None }
            }
            Self::Timeout { .. } => Verdict::Retry { after: None },
            _ => Verdict::Fail,
        }
    }

    /// The same error, counting `attempts` attempts: for callers that send
    /// each request once and retry a whole operation, so the message tells
    /// how many times the operation was tried.
    #[must_use]
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        if let Self::Send { attempts: n, .. }
        | Self::Status { attempts: n, .. }
        | Self::Timeout { attempts: n, .. } = &mut self
        {
            *n = attempts;
        }
        self
    }

    /// Whether the transport error was a certificate the trust store did not
    /// accept.
    fn is_certificate_problem(&self) -> bool {
        let Self::Send { source, .. } = self else {
            return false;
        };
        let mut cause: Option<&dyn std::error::Error> = Some(source);
        while let Some(error) = cause {
            let text = error.to_string();
            if text.contains("certificate") || text.contains("UnknownIssuer") {
                return true;
            }
            cause = error.source();
        }
        false
    }
}

impl Diagnostic for HttpError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::InvalidUrl { .. } => "write a full URL such as `https://host[:port]/path`".to_owned(),
            Self::CredentialsInUrl { input } => {
                format!("remove the user and password from `{input}` and pass the credential through its own secret input")
            }
            Self::InsecureUrl { .. } => {
                "use `https://`; hoist sends plain HTTP only to 127.0.0.1, ::1 or localhost".to_owned()
            }
            Self::InsecureRegistry { .. } => {
                "drop `insecure-registry`; if the registry uses a private CA, pass it with `ca-bundle`".to_owned()
            }
            Self::CaBundle { .. } | Self::CaBundleEmpty { .. } => {
                "point `ca-bundle` (or SSL_CERT_FILE) at a readable file of PEM certificates".to_owned()
            }
            Self::NoRoots => "install the ca-certificates package, or pass a bundle with `ca-bundle` or SSL_CERT_FILE".to_owned(),
            Self::Proxy { variable, .. } => format!("set {variable} to a URL such as `http://proxy.internal:3128`"),
            Self::Client(_) | Self::Tls(_) => "this is a bug in hoist: please report it with the step's log".to_owned(),
            Self::Send { .. } if self.is_certificate_problem() => {
                "the server's certificate is not trusted: add its CA with `ca-bundle` or SSL_CERT_FILE (hoist never skips verification)".to_owned()
            }
            Self::Send { .. } => {
                "check that the host is reachable from the runner, and the HTTPS_PROXY/NO_PROXY settings".to_owned()
            }
            Self::Timeout { .. } => {
                "the server sent no whole answer in time: check that it is healthy and reachable, or give the step a longer `timeout`".to_owned()
            }
            Self::Status { status, .. } if *status == 429 => {
                "the service is throttling this account: retry later or raise `retry-max-attempts`".to_owned()
            }
            Self::Status { .. } => "the service is failing: check its status page, then re-run the job".to_owned(),
            Self::BodyTooLarge { .. } => {
                "check that the URL points at the service itself and not at a proxy or file server; a real answer of this kind is far below the cap".to_owned()
            }
            Self::Body { .. } => {
                "the connection broke mid-answer: check proxies between the runner and the service, then re-run the job".to_owned()
            }
        })
    }
}

/// A duration as people write it: `200ms`, `10s`, `1.5s`.
fn seconds(duration: std::time::Duration) -> String {
    if duration < std::time::Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}
