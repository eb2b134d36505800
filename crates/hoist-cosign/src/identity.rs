//! Whose keyless signatures count: what cosign's
//! `--certificate-identity[-regexp]` and `--certificate-oidc-issuer` check.
//!
//! A regular expression must match the *whole* identity (it is anchored
//! here as `^(?:…)$`), where cosign matches any part of it: `acme/shop`
//! would admit `https://github.com/evil/acme/shop-fork/…` under cosign's
//! rule. This is stricter than cosign on purpose; a pattern written for
//! hoist works unchanged in cosign.

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
    /// No OIDC issuer was given.
    #[error("no OIDC issuer was given for the certificate identity")]
    NoIssuer,
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
            Self::NoIssuer => "set the OIDC issuer: https://token.actions.githubusercontent.com \
                 for GitHub Actions"
                .into(),
            Self::BadRegexp { .. } => "write a regular expression for the whole identity, such \
                 as https://github\\.com/ORG/REPO/\\.github/workflows/.*@refs/tags/v.*"
                .into(),
        }
    }
}

/// A certificate that names someone else. The message names what was
/// expected and what was found, and ends with what to change (it is the
/// whole of what a verification report shows).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the certificate's identity is {found}{}, but {expected}{} was expected ({})",
    self.found_issuer_text(),
    self.expected_issuer(),
    self.hint()
)]
pub struct IdentityMismatch {
    /// The SANs found, quoted.
    pub found: String,
    /// The issuer found (empty when the certificate names none).
    pub found_issuer: String,
    /// The identity or pattern expected, quoted.
    pub expected: String,
    /// The issuer expected.
    pub issuer: String,
}

impl IdentityMismatch {
    fn found_issuer_text(&self) -> String {
        match self.found_issuer.is_empty() {
            true => " with no OIDC issuer (no Fulcio issuer extension)".into(),
            false => format!(" issued by `{}`", self.found_issuer),
        }
    }

    fn expected_issuer(&self) -> String {
        match self.issuer == self.found_issuer {
            true => String::new(),
            false => format!(" issued by `{}`", self.issuer),
        }
    }

    /// What to change (also the end of the message).
    pub fn hint(&self) -> String {
        match self.issuer == self.found_issuer {
            true => "the identity carries the exact ref, refs/heads/… for a branch or \
                     refs/tags/… for a tag; a reusable workflow signs as the called workflow \
                     (its job_workflow_ref), not as the caller"
                .into(),
            false => "the issuer must be the OIDC provider that vouched for the signer: \
                      https://token.actions.githubusercontent.com for GitHub Actions"
                .into(),
        }
    }
}

/// How a SAN is matched.
#[derive(Debug, Clone)]
pub enum SubjectMatcher {
    /// Exactly this identity.
    Exact(String),
    /// A regular expression matching the whole identity: the anchored
    /// expression, and the pattern as given.
    Regexp(Regex, String),
}

impl SubjectMatcher {
    /// Whether `san` is matched.
    pub fn matches(&self, san: &str) -> bool {
        match self {
            Self::Exact(exact) => san == exact,
            Self::Regexp(regex, _) => regex.is_match(san),
        }
    }
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
    /// An identity from `exact` or `regexp` (exactly one; empty counts as
    /// absent) and `issuer`. The regexp is anchored to the whole SAN.
    pub fn new(
        exact: Option<&str>,
        regexp: Option<&str>,
        issuer: &str,
    ) -> Result<Self, IdentityError> {
        let (exact, regexp) = (
            exact.filter(|v| !v.is_empty()),
            regexp.filter(|v| !v.is_empty()),
        );
        let subject = match (exact, regexp) {
            (Some(_), Some(_)) => return Err(IdentityError::Both),
            (None, None) => return Err(IdentityError::Missing),
            (Some(exact), None) => SubjectMatcher::Exact(exact.to_owned()),
            (None, Some(pattern)) => {
                let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                    IdentityError::BadRegexp {
                        pattern: pattern.to_owned(),
                        reason: e.to_string(),
                    }
                })?;
                SubjectMatcher::Regexp(regex, pattern.to_owned())
            }
        };
        if issuer.is_empty() {
            return Err(IdentityError::NoIssuer);
        }
        Ok(Self {
            subject,
            issuer: issuer.to_owned(),
        })
    }

    fn expected(&self) -> String {
        match &self.subject {
            SubjectMatcher::Exact(exact) => format!("`{exact}`"),
            SubjectMatcher::Regexp(_, pattern) => format!("an identity matching `{pattern}`"),
        }
    }

    /// Checks `certificate` names this identity (a URI SAN, then an email
    /// SAN), vouched for by this issuer (Fulcio's issuer extension).
    pub fn check(&self, certificate: &Certificate) -> Result<(), IdentityMismatch> {
        let sans: Vec<String> = certificate
            .san_uris()
            .into_iter()
            .chain(certificate.san_emails())
            .collect();
        let found_issuer = certificate.oidc_issuer();
        if found_issuer.as_deref() == Some(self.issuer.as_str())
            && sans.iter().any(|san| self.subject.matches(san))
        {
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
            found_issuer: found_issuer.unwrap_or_default(),
            expected: self.expected(),
            issuer: self.issuer.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::tests::{IDENTITY, ISSUER, LeafSpec, Pki};

    fn leaf(spec: LeafSpec<'_>) -> Certificate {
        Pki::new().leaf(&spec)
    }

    #[test]
    fn exactly_one_subject_rule_and_an_issuer_are_taken() {
        assert_eq!(
            Identity::new(None, None, "i").unwrap_err(),
            IdentityError::Missing
        );
        assert_eq!(
            Identity::new(Some(""), Some(""), "i").unwrap_err(),
            IdentityError::Missing
        );
        assert_eq!(
            Identity::new(Some("a"), Some("b"), "i").unwrap_err(),
            IdentityError::Both
        );
        assert_eq!(
            Identity::new(Some("a"), None, "").unwrap_err(),
            IdentityError::NoIssuer
        );
        let error = Identity::new(None, Some("("), "i").unwrap_err();
        assert!(matches!(error, IdentityError::BadRegexp { .. }), "{error}");
        assert!(error.to_string().contains("`(`"), "{error}");
        for error in [IdentityError::Missing, IdentityError::NoIssuer, error] {
            assert!(!error.hint().is_empty());
        }
    }

    #[test]
    fn an_exact_identity_matches_the_uri_san_and_the_issuer() {
        let certificate = leaf(LeafSpec::default());
        Identity::new(Some(IDENTITY), None, ISSUER)
            .unwrap()
            .check(&certificate)
            .unwrap();
        let prefix = &IDENTITY[..IDENTITY.len() - 1];
        assert!(
            Identity::new(Some(prefix), None, ISSUER)
                .unwrap()
                .check(&certificate)
                .is_err()
        );
    }

    #[test]
    fn an_email_san_counts_too() {
        let certificate = leaf(LeafSpec {
            uri: None,
            email: Some("dev@acme.example"),
            issuer: Some("https://accounts.google.com"),
            ..LeafSpec::default()
        });
        Identity::new(
            Some("dev@acme.example"),
            None,
            "https://accounts.google.com",
        )
        .unwrap()
        .check(&certificate)
        .unwrap();
        Identity::new(
            None,
            Some(r".*@acme\.example"),
            "https://accounts.google.com",
        )
        .unwrap()
        .check(&certificate)
        .unwrap();
    }

    #[test]
    fn a_regexp_matches_the_whole_identity() {
        let certificate = leaf(LeafSpec::default());
        Identity::new(
            None,
            Some(r"https://github\.com/acme/.+@refs/heads/main"),
            ISSUER,
        )
        .unwrap()
        .check(&certificate)
        .unwrap();
        // An alternation is anchored as a whole, not per branch.
        Identity::new(None, Some("nothing|https://github.com/acme/.*"), ISSUER)
            .unwrap()
            .check(&certificate)
            .unwrap();
    }

    #[test]
    fn a_regexp_that_would_match_only_unanchored_is_rejected() {
        let certificate = leaf(LeafSpec::default());
        for pattern in [
            "acme/shop",
            r"https://github\.com/acme/shop",
            "ci.yaml@refs/heads/main",
            "main|x",
        ] {
            // cosign's unanchored rule would admit it.
            assert!(regex_lite::Regex::new(pattern).unwrap().is_match(IDENTITY));
            let identity = Identity::new(None, Some(pattern), ISSUER).unwrap();
            let error = identity.check(&certificate).unwrap_err();
            assert_eq!(error.expected, format!("an identity matching `{pattern}`"));
            assert!(error.to_string().contains(IDENTITY), "{error}");
        }
    }

    #[test]
    fn another_ref_names_what_was_found_and_expected() {
        let certificate = leaf(LeafSpec::default());
        let main = IDENTITY;
        let dev = IDENTITY.replace("refs/heads/main", "refs/heads/dev");
        let error = Identity::new(Some(&dev), None, ISSUER)
            .unwrap()
            .check(&certificate)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "the certificate's identity is `{main}` issued by `{ISSUER}`, but `{dev}` was \
                 expected ({})",
                error.hint()
            )
        );
        assert!(error.hint().contains("refs/tags/"), "{}", error.hint());
        assert!(
            error.hint().contains("job_workflow_ref"),
            "{}",
            error.hint()
        );
    }

    #[test]
    fn a_wrong_issuer_names_both_issuers() {
        let certificate = leaf(LeafSpec::default());
        let error = Identity::new(Some(IDENTITY), None, "https://accounts.google.com")
            .unwrap()
            .check(&certificate)
            .unwrap_err();
        assert_eq!(error.found_issuer, ISSUER);
        let text = error.to_string();
        assert!(
            text.contains(&format!("issued by `{ISSUER}`"))
                && text.contains("issued by `https://accounts.google.com` was expected"),
            "{text}"
        );

        let no_issuer = leaf(LeafSpec {
            issuer: None,
            ..LeafSpec::default()
        });
        let error = Identity::new(Some(IDENTITY), None, ISSUER)
            .unwrap()
            .check(&no_issuer)
            .unwrap_err();
        assert!(error.to_string().contains("no OIDC issuer"), "{error}");
    }

    #[test]
    fn a_certificate_without_a_san_is_described_as_such() {
        let certificate = leaf(LeafSpec {
            uri: None,
            ..LeafSpec::default()
        });
        let error = Identity::new(None, Some(".*"), ISSUER)
            .unwrap()
            .check(&certificate)
            .unwrap_err();
        assert!(error.to_string().contains("no URI or email SAN"), "{error}");
    }
}
