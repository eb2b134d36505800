//! The proxy settings the environment gives, read once for every client
//! (reqwest here, the AWS SDK's in `hoist-aws`).

use crate::client::Environment;

/// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, upper-case first, then
/// lower-case; blank values count as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// The proxy for `https://` URLs, with the variable it came from.
    pub https: Option<(&'static str, String)>,
    /// The proxy for `http://` URLs, with the variable it came from.
    pub http: Option<(&'static str, String)>,
    /// Hosts that go direct.
    pub no_proxy: Option<String>,
}

impl ProxyEnv {
    /// Reads the settings from `env`.
    pub fn read(env: &Environment) -> Self {
        let get = |upper: &'static str, lower: &'static str| {
            [upper, lower].into_iter().find_map(|name| {
                env.get(name)
                    .map(|v| (name, v.trim().to_owned()))
                    .filter(|(_, v)| !v.is_empty())
            })
        };
        Self {
            https: get("HTTPS_PROXY", "https_proxy"),
            http: get("HTTP_PROXY", "http_proxy"),
            no_proxy: get("NO_PROXY", "no_proxy").map(|(_, value)| value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_case_wins_and_blanks_are_unset() {
        let env = Environment::from([
            ("https_proxy".to_owned(), "http://lower:1".to_owned()),
            ("HTTPS_PROXY".to_owned(), "http://upper:1".to_owned()),
            ("HTTP_PROXY".to_owned(), "  ".to_owned()),
            ("no_proxy".to_owned(), "localhost".to_owned()),
        ]);
        let proxies = ProxyEnv::read(&env);
        assert_eq!(
            proxies.https,
            Some(("HTTPS_PROXY", "http://upper:1".to_owned()))
        );
        assert_eq!(proxies.http, None);
        assert_eq!(proxies.no_proxy.as_deref(), Some("localhost"));
    }
}
