//! Never go backwards: whether a new value would replace a newer one.

use hoist_oci::reference::ImageReference;
use semver::Version;

/// How old and new values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Compare as semver when both values parse as semver.
    Auto,
    /// Compare as semver; values that do not parse are replaced.
    Semver,
    /// Write whatever is given (rollbacks).
    Always,
}

impl Policy {
    /// Reads the `policy` input's value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "auto" => Some(Self::Auto),
            "semver" => Some(Self::Semver),
            "always" => Some(Self::Always),
            _ => None,
        }
    }

    /// Whether writing `new` over `old` would go backwards.
    pub fn is_downgrade(self, old: &str, new: &str) -> bool {
        if self == Self::Always {
            return false;
        }
        matches!((version(old), version(new)), (Some(old), Some(new)) if new < old)
    }
}

/// The semver in a tag (`v1.2.3`, `1.2.3-rc.1`) or in the tag of an image
/// reference (`repo:1.2.3`).
pub fn version(value: &str) -> Option<Version> {
    let tag = if value.contains(['/', '@']) || value.matches(':').count() == 1 {
        ImageReference::split(value).tag?
    } else {
        value.to_owned()
    };
    Version::parse(tag.strip_prefix('v').unwrap_or(&tag)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_versions_are_downgrades_unless_the_policy_is_always() {
        assert!(Policy::Auto.is_downgrade("1.10.0", "1.9.3"));
        assert!(Policy::Semver.is_downgrade("v2.0.0", "v2.0.0-rc.1"));
        assert!(!Policy::Auto.is_downgrade("1.9.3", "1.10.0"));
        assert!(!Policy::Always.is_downgrade("1.10.0", "1.9.3"));
        assert!(Policy::Auto.is_downgrade(
            "registry.example.com/app:1.2.3",
            "registry.example.com/app:1.2.0"
        ));
    }

    #[test]
    fn values_that_are_not_versions_are_never_downgrades() {
        assert!(!Policy::Auto.is_downgrade("abc1234", "abc1233"));
        assert!(!Policy::Auto.is_downgrade("latest", "1.0.0"));
        assert!(!Policy::Semver.is_downgrade("1.0.0", "main-abc1234"));
    }
}
