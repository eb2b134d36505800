//! Credentials out of everything hoist prints: URLs and headers.

use url::Url;

/// Query parameters whose values are credentials (compared
/// case-insensitively, by substring).
const SECRET_QUERY_WORDS: [&str; 6] = [
    "token",
    "signature",
    "credential",
    "secret",
    "password",
    "code",
];

/// Headers whose values are credentials.
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-amz-security-token",
    "x-registry-auth",
];

/// `url` with its user name, password and credential-bearing query values
/// replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() {
        let _ = url.set_username("***");
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let lower = key.to_ascii_lowercase();
                let secret = SECRET_QUERY_WORDS.iter().any(|word| lower.contains(word));
                (
                    key.into_owned(),
                    if secret {
                        "***".to_owned()
                    } else {
                        value.into_owned()
                    },
                )
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// A header value safe to print: `***` for credential headers.
pub fn redact_header<'a>(name: &str, value: &'a str) -> &'a str {
    if SECRET_HEADERS
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
    {
        "***"
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_signed_query_values_are_hidden() {
        let url = Url::parse(
            "https://AKIA:pw@bucket.s3.amazonaws.com/x?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&X-Amz-Security-Token=t&part=2&audience=sts",
        )
        .unwrap();
        let shown = redact_url(&url);
        for secret in ["AKIA", "pw@", "abc", "=t&"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("part=2") && shown.contains("audience=sts"),
            "{shown}"
        );
        assert!(shown.starts_with("https://***:***@bucket"), "{shown}");
    }

    #[test]
    fn credential_headers_are_hidden() {
        assert_eq!(redact_header("Authorization", "Bearer x"), "***");
        assert_eq!(redact_header("x-amz-security-token", "x"), "***");
        assert_eq!(redact_header("content-type", "text/plain"), "text/plain");
    }
}
