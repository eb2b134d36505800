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

/// Checks a tag against the OCI distribution grammar
/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), String> {
    let reason = if tag.is_empty() {
        "it is empty".to_owned()
    } else if let Some(c) = tag
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        format!("character {c:?} is not allowed")
    } else if tag.starts_with(['.', '-']) {
        "it starts with `.` or `-`".to_owned()
    } else if tag.len() > 128 {
        format!("it is {} characters long, the limit is 128", tag.len())
    } else {
        return Ok(());
    };
    Err(reason)
}

/// Checks an image name without tag or digest, as a manifest writes it:
/// `[registry/]repository`, such as
/// `111111111111.dkr.ecr.me-south-1.amazonaws.com/payments-api`. The first
/// component is a registry when it holds a `.` or `:` or is `localhost`.
pub fn validate_image_name(name: &str) -> Result<(), String> {
    match name.split_once('/') {
        Some((host, path)) if host.contains(['.', ':']) || host == "localhost" => {
            validate_registry(host)?;
            validate_repository(path)
        }
        _ => validate_repository(name),
    }
}

/// An image reference split into its parts: `name[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// `[registry/]repository`.
    pub name: String,
    /// The tag, when there is one.
    pub tag: Option<String>,
    /// The digest, when there is one.
    pub digest: Option<String>,
}

impl ImageReference {
    /// Splits `text`: the digest after `@`, the tag after the last `:` that
    /// follows the last `/`. Nothing is validated.
    pub fn split(text: &str) -> Self {
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_owned())),
            None => (text, None),
        };
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(colon) => (
                &rest[..slash + colon],
                Some(rest[slash + colon + 1..].to_owned()),
            ),
            None => (rest, None),
        };
        Self {
            name: name.to_owned(),
            tag,
            digest,
        }
    }

    /// Splits and validates `text`: name, tag and digest by their grammars.
    pub fn parse(text: &str) -> Result<Self, String> {
        let reference = Self::split(text);
        validate_image_name(&reference.name)?;
        if let Some(tag) = &reference.tag {
            validate_tag(tag).map_err(|why| format!("`{tag}` is not a valid tag: {why}"))?;
        }
        if let Some(digest) = &reference.digest {
            crate::Digest::parse(digest).map_err(|e| e.to_string())?;
        }
        Ok(reference)
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

    #[test]
    fn tags_and_image_names() {
        assert!(validate_tag("abc1234").is_ok());
        assert!(validate_tag("v1.2.3").is_ok());
        for bad in ["", ".x", "-x", "v1\nevil: true", "a b", &"x".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad:?}");
        }
        assert!(
            validate_image_name("111111111111.dkr.ecr.me-south-1.amazonaws.com/payments-api")
                .is_ok()
        );
        assert!(validate_image_name("localhost:5000/a/b").is_ok());
        assert!(validate_image_name("payments-api").is_ok());
        assert!(validate_image_name("Payments").is_err());
        assert!(validate_image_name("https://x/y").is_err());
    }

    #[test]
    fn references_split_at_the_tag_colon_not_the_port_colon() {
        let r = ImageReference::split("localhost:5000/app:v1@sha256:abc");
        assert_eq!(r.name, "localhost:5000/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(ImageReference::split("localhost:5000/app").tag, None);
        assert!(ImageReference::parse("app:v1\nevil").is_err());
    }
}
