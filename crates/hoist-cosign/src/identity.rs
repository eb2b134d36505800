//! Whose keyless signatures count: what cosign's
//! `--certificate-identity[-regexp]` and `--certificate-oidc-issuer` check.
//!
//! A regular expression must match the *whole* identity (it is anchored
//! here as `^(?:…)$`), where cosign matches any part of it: `acme/shop`
//! would admit `https://github.com/evil/acme/shop-fork/…` under cosign's
//! rule. This is stricter than cosign on purpose; a pattern written for
//! hoist works unchanged in cosign.
//!
//! A reusable workflow signs as the *called* workflow (the token's
//! `job_workflow_ref`), the same for every repository that calls it, so the
//! identity alone cannot tell callers apart. [`Pin`]s check the Fulcio
//! extensions that name the caller, as cosign's
//! `--certificate-github-workflow-*` flags do: the source repository
//! (`.12`, or the deprecated `.5`), its ref (`.14`/`.6`), the trigger
//! (`.20`/`.2`), and the build config URI (`.18`, the caller's workflow
//! file; cosign has no flag for it).

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
                     (its job_workflow_ref), not as the caller: expect the called workflow, and \
                     pin the caller with certificate-github-workflow-repository"
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
    /// The Fulcio extensions the certificate must carry, with their values.
    pub pins: Vec<Pin>,
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
            pins: Vec::new(),
        })
    }

    /// This identity, with `pins` on the certificate's extensions too.
    pub fn with_pins(mut self, pins: Vec<Pin>) -> Self {
        self.pins = pins;
        self
    }

    /// Checks the certificate carries every pinned extension with the
    /// pinned value (the first pin that fails is reported).
    pub fn check_pins(&self, certificate: &Certificate) -> Result<(), PinMismatch> {
        self.pins.iter().try_for_each(|pin| pin.check(certificate))
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

/// A Fulcio certificate extension that names the caller of a (reusable)
/// workflow, and can be pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Source Repository URI, `1.3.6.1.4.1.57264.1.12` (a URL), or the
    /// deprecated GitHub Workflow Repository `.5` (`owner/name`).
    SourceRepository,
    /// Source Repository Ref `.14`, or the deprecated GitHub Workflow Ref
    /// `.6`: the ref the run was for, such as `refs/heads/main`.
    SourceRef,
    /// Build Trigger `.20`, or the deprecated GitHub Workflow Trigger `.2`:
    /// the event, such as `push`.
    Trigger,
    /// Build Config URI `.18`: the top-level (calling) workflow file at its
    /// ref. No deprecated equivalent.
    BuildConfig,
}

impl Claim {
    /// Every claim, in the order they are checked.
    pub const ALL: [Self; 4] = [
        Self::SourceRepository,
        Self::SourceRef,
        Self::Trigger,
        Self::BuildConfig,
    ];

    /// The input (and cosign flag) name: `certificate-github-workflow-…`,
    /// or `certificate-build-config-uri`, which cosign lacks.
    pub fn input(self) -> &'static str {
        match self {
            Self::SourceRepository => "certificate-github-workflow-repository",
            Self::SourceRef => "certificate-github-workflow-ref",
            Self::Trigger => "certificate-github-workflow-trigger",
            Self::BuildConfig => "certificate-build-config-uri",
        }
    }

    /// What it is, in words.
    pub fn what(self) -> &'static str {
        match self {
            Self::SourceRepository => "source repository",
            Self::SourceRef => "source repository ref",
            Self::Trigger => "build trigger",
            Self::BuildConfig => "build config URI",
        }
    }

    /// Fulcio's extension number (`1.3.6.1.4.1.57264.1.N`, DER UTF8String).
    pub fn extension(self) -> u32 {
        match self {
            Self::SourceRepository => 12,
            Self::SourceRef => 14,
            Self::Trigger => 20,
            Self::BuildConfig => 18,
        }
    }

    /// The deprecated extension (raw bytes) read when the new one is absent.
    pub fn deprecated_extension(self) -> Option<u32> {
        match self {
            Self::SourceRepository => Some(5),
            Self::SourceRef => Some(6),
            Self::Trigger => Some(2),
            Self::BuildConfig => None,
        }
    }

    /// An example value.
    fn example(self) -> &'static str {
        match self {
            Self::SourceRepository => {
                "bank-org/payments-api (or https://github.com/bank-org/payments-api)"
            }
            Self::SourceRef => "refs/heads/main or refs/tags/v1.2.3",
            Self::Trigger => "push, release or workflow_dispatch",
            Self::BuildConfig => {
                "https://github.com/bank-org/payments-api/.github/workflows/ci.yaml@refs/heads/main"
            }
        }
    }

    /// The extensions read, for messages.
    fn extensions_text(self) -> String {
        let new = format!("1.3.6.1.4.1.57264.1.{}", self.extension());
        match self.deprecated_extension() {
            Some(old) => format!("Fulcio extension {new}, nor the deprecated .{old}"),
            None => format!("Fulcio extension {new}"),
        }
    }
}

/// A pin input that cannot be a value of its claim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a {}: {reason}", claim.what())]
pub struct PinError {
    /// The claim.
    pub claim: Claim,
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl PinError {
    /// What to write instead.
    pub fn hint(&self) -> String {
        format!("write it as {}", self.claim.example())
    }
}

/// A value one of the certificate's extensions must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The claim pinned.
    pub claim: Claim,
    /// The value as given.
    pub expected: String,
    /// A repository's host, when given as a URL.
    host: Option<String>,
    /// A repository's `owner/name`.
    path: String,
}

/// A GitHub owner: 1–39 letters, digits and `-`.
fn is_owner(text: &str) -> bool {
    (1..=39).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A GitHub repository name: 1–100 letters, digits, `-`, `_` and `.`,
/// neither `.` nor `..`.
fn is_repository_name(text: &str) -> bool {
    (1..=100).contains(&text.len())
        && text != "."
        && text != ".."
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// `https://host/owner/name` split as (host, path), for a repository URL.
fn split_repository_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("https://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    rest.split_once('/')
}

impl Pin {
    /// Reads `value` as a pin on `claim`. A repository is `owner/name` or
    /// `https://host/owner/name`; a ref starts with `refs/`; a trigger is an
    /// event name; a build config URI is an https URL with its `@ref`.
    pub fn parse(claim: Claim, value: &str) -> Result<Self, PinError> {
        let value = value.trim();
        let bad = |reason: &str| PinError {
            claim,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it is empty or has spaces"));
        }
        let (host, path) = match claim {
            Claim::SourceRepository => {
                let (host, path) = match value.strip_prefix("http://") {
                    Some(_) => return Err(bad("a repository URL is https://")),
                    None => match value.contains("://") {
                        true => {
                            let (host, path) = split_repository_url(value).ok_or_else(|| {
                                bad("it is neither owner/name nor https://HOST/owner/name")
                            })?;
                            (Some(host.to_ascii_lowercase()), path)
                        }
                        false => (None, value),
                    },
                };
                if host.as_deref().is_some_and(|h| {
                    h.is_empty()
                        || !h
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
                }) {
                    return Err(bad("its host is not a host name"));
                }
                match path.split_once('/') {
                    Some((owner, name)) if is_owner(owner) && is_repository_name(name) => {}
                    _ => {
                        return Err(bad(
                            "it must name exactly one repository, owner/name, without wildcards",
                        ));
                    }
                }
                (host, path.to_owned())
            }
            Claim::SourceRef if !value.starts_with("refs/") => {
                return Err(bad("a ref is written in full, starting with refs/"));
            }
            Claim::Trigger
                if value.len() > 64
                    || !value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                return Err(bad("an event name is lower-case letters and `_`"));
            }
            Claim::BuildConfig if !value.starts_with("https://") || !value.contains('@') => {
                return Err(bad("it is the workflow file's https URL with its @ref"));
            }
            _ => (None, value.to_owned()),
        };
        Ok(Self {
            claim,
            expected: value.to_owned(),
            host,
            path,
        })
    }

    /// Whether `found`, read from `extension`, is the pinned value.
    fn matches(&self, extension: u32, found: &str) -> bool {
        match self.claim {
            Claim::SourceRepository if extension == self.claim.extension() => {
                split_repository_url(found).is_some_and(|(host, path)| {
                    path.eq_ignore_ascii_case(&self.path)
                        && self
                            .host
                            .as_deref()
                            .is_none_or(|pinned| host.eq_ignore_ascii_case(pinned))
                })
            }
            // The deprecated `.5` is `owner/name`, with no host.
            Claim::SourceRepository => found.eq_ignore_ascii_case(&self.path),
            _ => found == self.expected,
        }
    }

    /// Checks `certificate`: the claim's extension, or its deprecated one
    /// when the new one is absent, must hold the pinned value.
    pub fn check(&self, certificate: &Certificate) -> Result<(), PinMismatch> {
        let found = std::iter::once(self.claim.extension())
            .chain(self.claim.deprecated_extension())
            .find_map(|n| certificate.fulcio_extension(n).map(|value| (n, value)));
        match found {
            Some((n, value)) if self.matches(n, &value) => Ok(()),
            found => Err(PinMismatch {
                claim: self.claim,
                found: found.map(|(_, value)| value),
                expected: self.expected.clone(),
            }),
        }
    }
}

/// A certificate whose pinned extension holds another value, or none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({})", self.text(), self.hint())]
pub struct PinMismatch {
    /// The claim.
    pub claim: Claim,
    /// The value found; `None` when the certificate lacks the extension.
    pub found: Option<String>,
    /// The value pinned.
    pub expected: String,
}

impl PinMismatch {
    fn text(&self) -> String {
        let what = self.claim.what();
        match &self.found {
            Some(found) => format!(
                "the certificate's {what} is `{found}`, but `{}` was expected",
                self.expected
            ),
            None => format!(
                "the certificate has no {what} ({}), but `{}` was expected",
                self.claim.extensions_text(),
                self.expected
            ),
        }
    }

    /// What to change (also the end of the message).
    pub fn hint(&self) -> String {
        match (&self.found, self.claim) {
            (None, _) => "the certificate was not issued for a GitHub Actions token by a Fulcio \
                          that records this claim: drop the pin, or sign in GitHub Actions"
                .into(),
            (Some(_), Claim::SourceRepository | Claim::BuildConfig) => "a reusable workflow \
                 signs as the called workflow whoever calls it, so this pin is what tells callers \
                 apart: this image was signed for another repository; pin that one only if you \
                 trust it"
                .into(),
            (Some(_), Claim::SourceRef) => "the ref is the caller's full ref (refs/heads/… or \
                 refs/tags/…) the signing run was for: sign from that ref, or pin the ref it was \
                 signed from"
                .into(),
            (Some(_), Claim::Trigger) => "the trigger is the event that started the signing run \
                 (push, release, workflow_dispatch…): pin that event, or sign from it"
                .into(),
        }
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

    const SHIP: &str =
        "https://github.com/hoist-actions/hoist/.github/workflows/ship.yml@refs/tags/v1";
    const CALLER_CONFIG: &str =
        "https://github.com/bank-org/payments-api/.github/workflows/ci.yaml@refs/heads/main";

    /// A certificate as Fulcio issues it for ship.yml called by `caller`.
    fn reusable_leaf(caller: &str) -> Certificate {
        let url = format!("https://github.com/{caller}");
        let config = format!("{url}/.github/workflows/ci.yaml@refs/heads/main");
        leaf(LeafSpec {
            uri: Some(SHIP),
            extensions: &[
                (2, "push"),
                (5, caller),
                (6, "refs/heads/main"),
                (12, &url),
                (14, "refs/heads/main"),
                (18, &config),
                (20, "push"),
            ],
            ..LeafSpec::default()
        })
    }

    fn pinned(pins: &[(Claim, &str)]) -> Identity {
        let pins = pins
            .iter()
            .map(|(claim, value)| Pin::parse(*claim, value).unwrap())
            .collect();
        Identity::new(Some(SHIP), None, ISSUER)
            .unwrap()
            .with_pins(pins)
    }

    #[test]
    fn a_repository_pin_accepts_the_caller_as_owner_name_or_url() {
        let certificate = reusable_leaf("bank-org/payments-api");
        for value in [
            "bank-org/payments-api",
            "Bank-Org/Payments-API",
            "https://github.com/bank-org/payments-api",
            "https://github.com/bank-org/payments-api/",
        ] {
            let identity = pinned(&[(Claim::SourceRepository, value)]);
            identity.check(&certificate).unwrap();
            identity.check_pins(&certificate).unwrap();
        }
        pinned(&[
            (Claim::SourceRepository, "bank-org/payments-api"),
            (Claim::SourceRef, "refs/heads/main"),
            (Claim::Trigger, "push"),
            (Claim::BuildConfig, CALLER_CONFIG),
        ])
        .check_pins(&certificate)
        .unwrap();
    }

    #[test]
    fn another_caller_of_the_same_workflow_is_refused_naming_what_was_found() {
        let certificate = reusable_leaf("other-org/app");
        let identity = pinned(&[(Claim::SourceRepository, "bank-org/payments-api")]);
        // The identity alone cannot tell them apart.
        identity.check(&certificate).unwrap();
        let error = identity.check_pins(&certificate).unwrap_err();
        assert_eq!(
            error.found.as_deref(),
            Some("https://github.com/other-org/app")
        );
        assert_eq!(
            error.to_string(),
            format!(
                "the certificate's source repository is `https://github.com/other-org/app`, but \
                 `bank-org/payments-api` was expected ({})",
                error.hint()
            )
        );
        assert!(
            error.hint().contains("reusable workflow"),
            "{}",
            error.hint()
        );

        // Another host is another repository.
        let error = pinned(&[(
            Claim::SourceRepository,
            "https://ghe.example.com/other-org/app",
        )])
        .check_pins(&certificate)
        .unwrap_err();
        assert!(error.to_string().contains("ghe.example.com"), "{error}");

        let error = pinned(&[(Claim::BuildConfig, CALLER_CONFIG)])
            .check_pins(&certificate)
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("other-org/app/.github/workflows/ci.yaml"),
            "{error}"
        );
    }

    #[test]
    fn ref_and_trigger_pins_compare_exactly() {
        let certificate = reusable_leaf("bank-org/payments-api");
        let error = pinned(&[(Claim::SourceRef, "refs/tags/v1")])
            .check_pins(&certificate)
            .unwrap_err();
        assert_eq!(error.claim, Claim::SourceRef);
        assert!(
            error.to_string().starts_with(
                "the certificate's source repository ref is `refs/heads/main`, but \
                 `refs/tags/v1` was expected ("
            ),
            "{error}"
        );
        let error = pinned(&[(Claim::Trigger, "release")])
            .check_pins(&certificate)
            .unwrap_err();
        assert!(
            error.to_string().contains("build trigger is `push`"),
            "{error}"
        );
    }

    #[test]
    fn old_certificates_are_read_through_the_deprecated_raw_extensions() {
        let certificate = leaf(LeafSpec {
            uri: Some(SHIP),
            extensions: &[
                (2, "push"),
                (5, "bank-org/payments-api"),
                (6, "refs/heads/main"),
            ],
            ..LeafSpec::default()
        });
        pinned(&[
            (Claim::SourceRepository, "bank-org/payments-api"),
            (
                Claim::SourceRepository,
                "https://github.com/bank-org/payments-api",
            ),
            (Claim::SourceRef, "refs/heads/main"),
            (Claim::Trigger, "push"),
        ])
        .check_pins(&certificate)
        .unwrap();
        let error = pinned(&[(Claim::SourceRepository, "other-org/app")])
            .check_pins(&certificate)
            .unwrap_err();
        assert_eq!(error.found.as_deref(), Some("bank-org/payments-api"));
        // No deprecated form of the build config: missing.
        let error = pinned(&[(Claim::BuildConfig, CALLER_CONFIG)])
            .check_pins(&certificate)
            .unwrap_err();
        assert_eq!(error.found, None);
    }

    #[test]
    fn a_certificate_without_the_pinned_extension_is_refused_saying_so() {
        let certificate = leaf(LeafSpec::default());
        let error = pinned(&[(Claim::SourceRepository, "bank-org/payments-api")])
            .check_pins(&certificate)
            .unwrap_err();
        assert_eq!(error.found, None);
        let text = error.to_string();
        assert!(
            text.starts_with(
                "the certificate has no source repository (Fulcio extension \
                 1.3.6.1.4.1.57264.1.12, nor the deprecated .5), but `bank-org/payments-api` \
                 was expected ("
            ),
            "{text}"
        );
        assert!(text.ends_with(&format!("({})", error.hint())), "{text}");
    }

    #[test]
    fn malformed_pins_are_refused_with_a_hint() {
        for (claim, value) in [
            (Claim::SourceRepository, ""),
            (Claim::SourceRepository, "payments-api"),
            (Claim::SourceRepository, "bank-org/payments-api/extra"),
            (Claim::SourceRepository, "bank-org/*"),
            (Claim::SourceRepository, "bank org/payments-api"),
            (
                Claim::SourceRepository,
                "http://github.com/bank-org/payments-api",
            ),
            (Claim::SourceRepository, "https://github.com/bank-org"),
            (Claim::SourceRepository, "bank-org/.."),
            (Claim::SourceRef, "main"),
            (Claim::Trigger, "Push"),
            (
                Claim::BuildConfig,
                "bank-org/payments-api/.github/workflows/ci.yaml",
            ),
        ] {
            let error = Pin::parse(claim, value).unwrap_err();
            assert_eq!(error.claim, claim);
            assert!(error.to_string().contains(claim.what()), "{error}");
            assert!(error.hint().starts_with("write it as "), "{}", error.hint());
        }
        let names: Vec<_> = Claim::ALL.iter().map(|c| c.input()).collect();
        assert_eq!(
            names,
            [
                "certificate-github-workflow-repository",
                "certificate-github-workflow-ref",
                "certificate-github-workflow-trigger",
                "certificate-build-config-uri",
            ]
        );
    }
}
