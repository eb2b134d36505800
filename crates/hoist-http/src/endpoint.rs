//! Which URLs hoist will talk to: `https://` anywhere, `http://` only to
//! loopback hosts.

use std::net::IpAddr;

use url::Url;

use crate::error::HttpError;

/// Whether `host` is `localhost`, in 127.0.0.0/8, or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Parses an endpoint given in input `input` and applies the scheme policy:
/// `https` always, `http` for loopback only, nothing else; no credentials
/// in the URL.
pub fn parse_endpoint(input: &str, text: &str) -> Result<Url, HttpError> {
    let url = Url::parse(text).map_err(|source| HttpError::InvalidUrl {
        input: input.to_owned(),
        reason: source.to_string(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(HttpError::CredentialsInUrl {
            input: input.to_owned(),
        });
    }
    check_scheme(&url)?;
    Ok(url)
}

/// Refuses any URL that is not `https`, or `http` to a loopback host.
pub fn check_scheme(url: &Url) -> Result<(), HttpError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host_str().is_some_and(is_loopback_host) => Ok(()),
        _ => Err(HttpError::InsecureUrl {
            url: crate::redact::redact_url(url),
        }),
    }
}

/// The base URL of an OCI registry named `host[:port]`: `https://` unless
/// `insecure` is asked for, which only loopback hosts may be.
pub fn registry_base(host: &str, insecure: bool) -> Result<Url, HttpError> {
    let scheme = if insecure { "http" } else { "https" };
    let url =
        Url::parse(&format!("{scheme}://{host}/")).map_err(|source| HttpError::InvalidUrl {
            input: "registry".to_owned(),
            reason: source.to_string(),
        })?;
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(HttpError::InvalidUrl {
            input: "registry".to_owned(),
            reason: format!("`{host}` is not a host or host:port"),
        });
    }
    if insecure && !url.host_str().is_some_and(is_loopback_host) {
        return Err(HttpError::InsecureRegistry {
            host: host.to_owned(),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "example.com",
            "localhost.example.com",
            "128.0.0.1",
            "::2",
            "0.0.0.0",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(parse_endpoint("e", "https://sts.amazonaws.com").is_ok());
        assert!(parse_endpoint("e", "http://127.0.0.1:8080/x").is_ok());
        assert!(parse_endpoint("e", "http://[::1]:8080").is_ok());
        assert!(matches!(
            parse_endpoint("e", "http://argocd.internal"),
            Err(HttpError::InsecureUrl { .. })
        ));
        assert!(matches!(
            parse_endpoint("e", "ftp://127.0.0.1"),
            Err(HttpError::InsecureUrl { .. })
        ));
        assert!(matches!(
            parse_endpoint("e", "not a url"),
            Err(HttpError::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse_endpoint("e", "https://user:pw@example.com"),
            Err(HttpError::CredentialsInUrl { .. })
        ));
    }

    #[test]
    fn insecure_registries_only_on_loopback() {
        assert_eq!(
            registry_base("127.0.0.1:5000", true)
                .map(|u| u.to_string())
                .ok()
                .as_deref(),
            Some("http://127.0.0.1:5000/")
        );
        assert_eq!(
            registry_base("123.dkr.ecr.eu-west-1.amazonaws.com", false)
                .map(|u| u.to_string())
                .ok()
                .as_deref(),
            Some("https://123.dkr.ecr.eu-west-1.amazonaws.com/")
        );
        assert!(matches!(
            registry_base("registry.example.com", true),
            Err(HttpError::InsecureRegistry { .. })
        ));
        assert!(registry_base("host/path", false).is_err());
        assert!(registry_base("user@host", false).is_err());
    }
}
