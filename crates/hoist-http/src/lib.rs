//! hoist's one HTTP and retry policy.
//!
//! - [`client`]: a reqwest client with verified TLS (the system's roots plus
//!   an optional extra bundle; no switch skips verification), plain HTTP to
//!   loopback hosts only, `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, and connect
//!   and request timeouts on every call.
//! - [`retry`]: retries only for errors that can pass, with full-jitter
//!   exponential backoff, `Retry-After`, a deadline, and an injectable clock.
//! - [`redact`]: credentials out of every URL and header that is printed.
//! - [`endpoint`]: the scheme policy for endpoint inputs and registries.

pub mod body;
pub mod client;
pub mod endpoint;
pub mod error;
pub mod id_token;
pub mod proxy;
pub mod redact;
pub mod retry;
pub mod tls;

pub use client::{Environment, HttpClient, HttpOptions};
pub use endpoint::{is_loopback_host, parse_endpoint, registry_base};
pub use error::HttpError;
pub use proxy::ProxyEnv;
pub use retry::{
    Backoff, Clock, ManualClock, RetryError, RetryPolicy, Stop, SystemClock, Verdict, retry,
};
pub use tls::TrustedBundles;
