//! Registry hosts and repository names, checked against the distribution
//! grammar before they reach a URL.

/// Checks a repository name: lower-case components of `[a-z0-9]` joined by
/// `.`, `_`, `__` or runs of `-`, separated by `/`; at most 255 characters.
pub fn validate_repository(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{name}` is not a valid repository name: {why}"));
    if name.is_empty() || name.len() > 255 {
        return bad("it must be 1 to 255 characters");
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return bad("repository names are lower-case");
    }
    for component in name.split('/') {
        let bytes = component.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
            return bad("each path component must start and end with a letter or digit");
        }
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b if alnum(b) => i += 1,
                b'.' | b'_' | b'-' => {
                    let start = i;
                    while i < bytes.len() && !alnum(bytes[i]) {
                        i += 1;
                    }
                    let separator = &component[start..i];
                    if !(separator == "."
                        || separator == "_"
                        || separator == "__"
                        || separator.bytes().all(|b| b == b'-'))
                    {
                        return bad("separators are `.`, `_`, `__` or dashes");
                    }
                }
                _ => return bad("only a-z, 0-9, `.`, `_`, `-` and `/` are allowed"),
            }
        }
    }
    Ok(())
}

/// Checks a registry given as `host[:port]`.
pub fn validate_registry(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(']') || host.starts_with('[') => (name, Some(port)),
        _ => (host, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && (name.starts_with('[') && name.ends_with(']')
            || name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if name_ok && port_ok {
        Ok(())
    } else {
        Err(format!(
            "`{host}` is not a registry host (write `host` or `host:port`, without a scheme or path)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        for ok in [
            "payments-api",
            "myshop/myshop-api",
            "a",
            "a__b",
            "a---b",
            "team.x/app_1",
        ] {
            assert!(validate_repository(ok).is_ok(), "{ok}");
        }
        for bad in ["", "UPPER", "a/", "/a", "-a", "a_-b", "a b", "a..b", "a:b"] {
            assert!(validate_repository(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registries() {
        for ok in [
            "127.0.0.1:5000",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "localhost:5000",
            "ghcr.io",
        ] {
            assert!(validate_registry(ok).is_ok(), "{ok}");
        }
        for bad in ["https://ghcr.io", "ghcr.io/x", "host:99999", "", "a b"] {
            assert!(validate_registry(bad).is_err(), "{bad}");
        }
    }
}
