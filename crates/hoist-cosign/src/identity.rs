//! Whose keyless signatures count: what cosign's
//! `--certificate-identity[-regexp]` and `--certificate-oidc-issuer` check.
//!
//! A regular expression must match the *whole* identity (it is anchored
//! here), where cosign matches any part of it: `acme/shop` would admit
//! `https://github.com/evil/acme/shop-fork/…` under cosign's rule. A
//! pattern written for hoist works unchanged in cosign.

use regex_lite::Regex;

use crate::certificate::Certificate;

/// The identity inputs do not make an identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Neither an identity nor a regexp was given.
    #[error("no certificate identity was given")]
    Missing,
    /// Both were given.
    #[error("both a certificate identity and an identity regexp were given")]
    Both,
    /// The regexp does not compile.
    #[error("the identity regexp `{pattern}` is not a regular expression: {reason}")]
    BadRegexp {
        /// The pattern.
        pattern: String,
        /// The compiler's message.
        reason: String,
    },
}

impl IdentityError {
    /// What to change.
    pub fn hint(&self) -> String {
        match self {
            Self::Missing | Self::Both => "set exactly one of the identity and the identity \
                 regexp, such as https://github.com/ORG/REPO/.github/workflows/ci.yaml@refs/heads/main"
                .into(),
            Self::BadRegexp { .. } => "write a regular expression for the whole identity, such \
                 as https://github\\.com/ORG/REPO/\\.github/workflows/.*@refs/tags/v.*"
                .into(),
        }
    }
}

/// A certificate that names someone else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the certificate's identity is {found} issued by `{found_issuer}`, but {expected} issued by \
     `{issuer}` was expected (the identity carries the exact ref: refs/heads/… or refs/tags/…; \
     a reusable workflow signs as the called workflow, its job_workflow_ref)"
)]
pub struct IdentityMismatch {
    /// The SANs found, quoted.
    pub found: String,
    /// The issuer found.
    pub found_issuer: String,
    /// The identity or pattern expected, quoted.
    pub expected: String,
    /// The issuer expected.
    pub issuer: String,
}

/// How a SAN is matched.
#[derive(Debug, Clone)]
pub enum SubjectMatcher {
    /// Exactly this identity.
    Exact(String),
    /// A regular expression matching the whole identity.
    Regexp(Regex),
}

/// An identity and the OIDC issuer that must vouch for it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The SAN rule.
    pub subject: SubjectMatcher,
    /// The issuer, exactly.
    pub issuer: String,
}

impl Identity {
    /// An identity from `exact` or `regexp` (exactly one) and `issuer`.
    pub fn new(
        exact: Option<&str>,
        regexp: Option<&str>,
        issuer: &str,
    ) -> Result<Self, IdentityError> {
        let subject = match (exact, regexp) {
            (Some(_), Some(_)) => return Err(IdentityError::Both),
            (None, None) => return Err(IdentityError::Missing),
            (Some(exact), None) => SubjectMatcher::Exact(exact.to_owned()),
            (None, Some(pattern)) => {
                SubjectMatcher::Regexp(Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                    IdentityError::BadRegexp {
                        pattern: pattern.to_owned(),
                        reason: e.to_string(),
                    }
                })?)
            }
        };
        Ok(Self {
            subject,
            issuer: issuer.to_owned(),
        })
    }

    fn expected(&self) -> String {
        match &self.subject {
            SubjectMatcher::Exact(exact) => format!("`{exact}`"),
            SubjectMatcher::Regexp(regex) => {
                let source = regex.as_str();
                let pattern = source
                    .strip_prefix("^(?:")
                    .and_then(|s| s.strip_suffix(")$"))
                    .unwrap_or(source);
                format!("an identity matching `{pattern}`")
            }
        }
    }

    /// Checks `certificate` names this identity, vouched for by this
    /// issuer.
    pub fn check(&self, certificate: &Certificate) -> Result<(), IdentityMismatch> {
        let sans: Vec<String> = certificate
            .san_uris()
            .into_iter()
            .chain(certificate.san_emails())
            .collect();
        let found_issuer = certificate.oidc_issuer().unwrap_or_default();
        let matches = |san: &String| match &self.subject {
            SubjectMatcher::Exact(exact) => san == exact,
            SubjectMatcher::Regexp(regex) => regex.is_match(san),
        };
        if found_issuer == self.issuer && sans.iter().any(matches) {
            return Ok(());
        }
        Err(IdentityMismatch {
            found: match sans.is_empty() {
                true => "empty (no URI or email SAN)".into(),
                false => sans
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            found_issuer,
            expected: self.expected(),
            issuer: self.issuer.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_subject_rule_is_taken() {
        assert_eq!(
            Identity::new(None, None, "i").unwrap_err(),
            IdentityError::Missing
        );
        assert_eq!(
            Identity::new(Some("a"), Some("b"), "i").unwrap_err(),
            IdentityError::Both
        );
        assert!(matches!(
            Identity::new(None, Some("("), "i").unwrap_err(),
            IdentityError::BadRegexp { .. }
        ));
    }

    #[test]
    fn regexps_match_the_whole_identity() {
        let identity = Identity::new(None, Some("https://github\\.com/acme/.*"), "i").unwrap();
        let SubjectMatcher::Regexp(regex) = &identity.subject else {
            panic!("a regexp");
        };
        assert!(
            regex
                .is_match("https://github.com/acme/shop/.github/workflows/ci.yaml@refs/heads/main")
        );
        assert!(!regex.is_match("x https://github.com/acme/shop"));
        let part = Identity::new(None, Some("acme/shop"), "i").unwrap();
        let SubjectMatcher::Regexp(regex) = &part.subject else {
            panic!("a regexp");
        };
        assert!(!regex.is_match("https://github.com/acme/shop"));
        assert_eq!(part.expected(), "an identity matching `acme/shop`");
    }
}
