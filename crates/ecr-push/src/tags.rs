//! The image tags ecr-push writes: the `tags` input (a subset of docker/metadata-action's
//! syntax) evaluated against the git context, or a default convention when it is empty.

/// What the job was triggered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitContext {
    /// GITHUB_REF: `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/12/merge`.
    pub git_ref: String,
    /// GITHUB_SHA, 40 hex chars.
    pub sha: String,
}

/// A tag rule or tag that cannot be used. Messages say what is wrong; `hint()` says what to
/// write instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TagError {
    /// An error in one line of the `tags` input.
    #[error("tags line {line} `{rule}`: {error}")]
    Line {
        /// 1-based position of the line.
        line: usize,
        /// The line as written.
        rule: String,
        /// What is wrong with it.
        error: Box<Self>,
    },
    /// A rule (a line with `=`) without a `type=` attribute.
    #[error("the rule has no `type=` attribute")]
    MissingType,
    /// A `type=` that is not sha, semver, ref or raw.
    #[error("unknown rule type `{0}`")]
    UnknownType(String),
    /// An attribute that is not `key=value`.
    #[error("attribute `{0}` has no `=`")]
    MalformedAttribute(String),
    /// An attribute the rule type does not take.
    #[error("`{key}` is not an attribute of type={kind}")]
    UnknownAttribute {
        /// The rule type.
        kind: &'static str,
        /// The attribute.
        key: String,
    },
    /// The same attribute twice in one rule.
    #[error("attribute `{0}` is given more than once")]
    DuplicateAttribute(String),
    /// An attribute that needs a value has none.
    #[error("attribute `{0}` has an empty value")]
    EmptyValue(String),
    /// A required attribute is missing.
    #[error("type={kind} needs a `{key}=` attribute")]
    MissingAttribute {
        /// The rule type.
        kind: &'static str,
        /// The missing attribute.
        key: &'static str,
    },
    /// An attribute value outside its allowed choices.
    #[error("`{key}={value}` is not valid, expected {expected}")]
    InvalidValue {
        /// The attribute.
        key: &'static str,
        /// The value given.
        value: String,
        /// The allowed values.
        expected: String,
    },
    /// A tag outside the OCI tag grammar.
    #[error("`{tag}` is not a valid image tag: {reason}")]
    InvalidTag {
        /// The tag.
        tag: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A rule other than `type=raw` produced `latest`.
    #[error("the rule produced `latest`, which only a literal line or type=raw may produce")]
    LatestFromRule,
    /// The lines produced no tag for this ref.
    #[error("the tags input produces no tag for ref `{git_ref}`")]
    NoTags {
        /// GITHUB_REF.
        git_ref: String,
    },
    /// GITHUB_SHA is not a commit SHA.
    #[error("GITHUB_SHA `{0}` is not a commit SHA (40 or 64 hex characters)")]
    InvalidSha(String),
}

impl TagError {
    /// What to write instead (one sentence, ends without a period is fine).
    pub fn hint(&self) -> String {
        match self {
            Self::Line { error, .. } => error.hint(),
            Self::MissingType => "start the rule with `type=sha`, `type=semver`, `type=ref` or \
                `type=raw`, or remove the `=` to write a literal tag"
                .into(),
            Self::UnknownType(_) => {
                "use `type=sha`, `type=semver`, `type=ref` or `type=raw`".into()
            }
            Self::MalformedAttribute(_) => {
                "write attributes as `key=value`, separated by commas".into()
            }
            Self::UnknownAttribute { kind, .. } => {
                let keys: Vec<_> = attributes(kind)
                    .iter()
                    .chain(&COMMON)
                    .map(|k| format!("`{k}`"))
                    .collect();
                format!("type={kind} takes {}", keys.join(", "))
            }
            Self::DuplicateAttribute(key) => format!("keep one `{key}=` in the rule"),
            Self::EmptyValue(key) => format!("give `{key}=` a value or remove it"),
            Self::MissingAttribute { key, .. } => match *key {
                "pattern" => {
                    "add `pattern={{version}}` (or `{{major}}.{{minor}}`, `{{major}}`)".into()
                }
                "event" => "add `event=branch`, `event=tag` or `event=pr`".into(),
                _ => format!("add `{key}=<tag>`"),
            },
            Self::InvalidValue { key, expected, .. } => format!("write `{key}=` with {expected}"),
            Self::InvalidTag { .. } => "use at most 128 letters, digits, `_`, `.` and `-`, not \
                starting with `.` or `-`"
                .into(),
            Self::LatestFromRule => "write `latest` as its own line if you want it".into(),
            Self::NoTags { .. } => {
                "add a literal tag or `type=sha`, which apply on every ref".into()
            }
            Self::InvalidSha(_) => "run on an event that sets GITHUB_SHA to a commit".into(),
        }
    }
}

/// The tags for these lines; with no lines, the default convention.
pub fn derive_tags(lines: &[String], context: &GitContext) -> Result<Vec<String>, TagError> {
    if lines.is_empty() {
        return default_tags(context);
    }
    let mut tags: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let at = |error: TagError| TagError::Line {
            line: i + 1,
            rule: line.clone(),
            error: Box::new(error),
        };
        let produced = if line.contains('=') {
            let rule = parse_rule(line).map_err(at)?;
            match evaluate(&rule, context).map_err(at)? {
                Some(tag) if tag == "latest" && rule.kind != "raw" => {
                    return Err(at(TagError::LatestFromRule));
                }
                produced => produced,
            }
        } else {
            Some(line.clone())
        };
        if let Some(tag) = produced {
            validate_tag(&tag).map_err(at)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    if tags.is_empty() {
        return Err(TagError::NoTags {
            git_ref: context.git_ref.clone(),
        });
    }
    Ok(tags)
}

/// The default convention: on `refs/tags/vX.Y.Z` (a semver tag with a leading `v`, optionally
/// without it) → `X.Y.Z`; otherwise `<branch>-<7-char short sha>` (branch from refs/heads/,
/// sanitized), and for pull requests `pr-<n>-<short sha>`.
///
/// A tag ref that is not semver gives the sanitized tag name; any other ref `sha-<short sha>`.
pub fn default_tags(context: &GitContext) -> Result<Vec<String>, TagError> {
    let tag = match parse_ref(&context.git_ref) {
        Ref::Tag(name) => parse_semver(name).map_or_else(|| sanitize(name), |v| v.version()),
        Ref::Branch(name) => {
            let branch = sanitize(name);
            // Sanitized names are ASCII; keep room for `-` and the short sha.
            format!(
                "{}-{}",
                &branch[..branch.len().min(120)],
                short_sha(context)?
            )
        }
        Ref::Pr(n) => format!("pr-{n}-{}", short_sha(context)?),
        Ref::Other => format!("sha-{}", short_sha(context)?),
    };
    validate_tag(&tag)?;
    Ok(vec![tag])
}

/// Checks a tag against the OCI distribution tag grammar `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), TagError> {
    hoist_oci::reference::validate_tag(tag).map_err(|reason| TagError::InvalidTag {
        tag: tag.to_string(),
        reason,
    })
}

const COMMON: [&str; 3] = ["prefix", "suffix", "enable"];

/// The attributes a rule type takes besides `type` and [`COMMON`].
fn attributes(kind: &str) -> &'static [&'static str] {
    match kind {
        "sha" => &["format"],
        "semver" => &["pattern", "value"],
        "ref" => &["event"],
        _ => &["value"],
    }
}

struct Rule {
    kind: &'static str,
    attrs: Vec<(String, String)>,
}

impl Rule {
    fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn check_choice(&self, key: &'static str, choices: &[&str]) -> Result<(), TagError> {
        match self.get(key) {
            Some(value) if !choices.contains(&value) => Err(TagError::InvalidValue {
                key,
                value: value.to_string(),
                expected: choices
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" or "),
            }),
            _ => Ok(()),
        }
    }
}

fn parse_rule(line: &str) -> Result<Rule, TagError> {
    let mut attrs: Vec<(String, String)> = Vec::new();
    for part in line.split(',').map(str::trim) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| TagError::MalformedAttribute(part.to_string()))?;
        let (key, value) = (key.trim(), value.trim());
        if attrs.iter().any(|(k, _)| k == key) {
            return Err(TagError::DuplicateAttribute(key.to_string()));
        }
        if value.is_empty() && key != "prefix" && key != "suffix" {
            return Err(TagError::EmptyValue(key.to_string()));
        }
        attrs.push((key.to_string(), value.to_string()));
    }
    let kind = match attrs
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| v.as_str())
    {
        None => return Err(TagError::MissingType),
        Some("sha") => "sha",
        Some("semver") => "semver",
        Some("ref") => "ref",
        Some("raw") => "raw",
        Some(other) => return Err(TagError::UnknownType(other.to_string())),
    };
    let allowed = attributes(kind);
    if let Some((key, _)) = attrs.iter().find(|(k, _)| {
        k != "type" && !COMMON.contains(&k.as_str()) && !allowed.contains(&k.as_str())
    }) {
        return Err(TagError::UnknownAttribute {
            kind,
            key: key.clone(),
        });
    }
    let rule = Rule { kind, attrs };
    let required = match kind {
        "semver" => Some("pattern"),
        "ref" => Some("event"),
        "raw" => Some("value"),
        _ => None,
    };
    if let Some(key) = required
        && rule.get(key).is_none()
    {
        return Err(TagError::MissingAttribute { kind, key });
    }
    rule.check_choice("enable", &["true", "false"])?;
    rule.check_choice("format", &["short", "long"])?;
    rule.check_choice("event", &["branch", "tag", "pr"])?;
    Ok(rule)
}

/// The tag a parsed rule produces on this ref, if any (not yet validated).
fn evaluate(rule: &Rule, context: &GitContext) -> Result<Option<String>, TagError> {
    if rule.get("enable") == Some("false") {
        return Ok(None);
    }
    let value = match rule.kind {
        "sha" if rule.get("format") == Some("long") => Some(full_sha(context)?.to_string()),
        "sha" => Some(short_sha(context)?.to_string()),
        "semver" => semver_tag(
            rule.get("pattern").unwrap_or_default(),
            rule.get("value"),
            context,
        ),
        "ref" => match (rule.get("event"), parse_ref(&context.git_ref)) {
            (Some("branch"), Ref::Branch(name)) | (Some("tag"), Ref::Tag(name)) => {
                Some(sanitize(name))
            }
            (Some("pr"), Ref::Pr(n)) => Some(format!("pr-{n}")),
            _ => None,
        },
        _ => rule.get("value").map(str::to_string),
    };
    let prefix = rule
        .get("prefix")
        .unwrap_or(if rule.kind == "sha" { "sha-" } else { "" });
    let suffix = rule.get("suffix").unwrap_or_default();
    Ok(value.map(|value| format!("{prefix}{value}{suffix}")))
}

fn semver_tag(pattern: &str, value: Option<&str>, context: &GitContext) -> Option<String> {
    let raw = match (value, parse_ref(&context.git_ref)) {
        (Some(value), _) => value,
        (None, Ref::Tag(name)) => name,
        _ => return None,
    };
    let v = parse_semver(raw)?;
    if v.pre.is_some() && !pattern.contains("{{version}}") && !pattern.contains("{{raw}}") {
        return None;
    }
    Some(
        pattern
            .replace("{{version}}", &v.version())
            .replace("{{major}}", v.major)
            .replace("{{minor}}", v.minor)
            .replace("{{patch}}", v.patch)
            .replace("{{raw}}", raw),
    )
}

enum Ref<'a> {
    Branch(&'a str),
    Tag(&'a str),
    Pr(&'a str),
    Other,
}

fn parse_ref(git_ref: &str) -> Ref<'_> {
    if let Some(name) = git_ref.strip_prefix("refs/heads/") {
        return Ref::Branch(name);
    }
    if let Some(name) = git_ref.strip_prefix("refs/tags/") {
        return Ref::Tag(name);
    }
    git_ref
        .strip_prefix("refs/pull/")
        .and_then(|rest| {
            rest.strip_suffix("/merge")
                .or_else(|| rest.strip_suffix("/head"))
        })
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .map_or(Ref::Other, Ref::Pr)
}

struct Version<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    pre: Option<&'a str>,
}

impl Version<'_> {
    /// `MAJOR.MINOR.PATCH[-prerelease]`, without build metadata.
    fn version(&self) -> String {
        let pre = self.pre.map(|p| format!("-{p}")).unwrap_or_default();
        format!("{}.{}.{}{pre}", self.major, self.minor, self.patch)
    }
}

/// `[v]MAJOR.MINOR.PATCH[-prerelease][+build]`.
fn parse_semver(s: &str) -> Option<Version<'_>> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let (s, build) = s.split_once('+').map_or((s, None), |(s, b)| (s, Some(b)));
    let (core, pre) = s.split_once('-').map_or((s, None), |(c, p)| (c, Some(p)));
    let idents_ok = |p: &str| {
        p.split('.')
            .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    let number_ok = |n: &&str| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (*n == "0" || !n.starts_with('0'))
    };
    if !pre.is_none_or(idents_ok) || !build.is_none_or(idents_ok) {
        return None;
    }
    let mut numbers = core.split('.');
    let (major, minor, patch) = (numbers.next()?, numbers.next()?, numbers.next()?);
    if numbers.next().is_some() || ![major, minor, patch].iter().all(number_ok) {
        return None;
    }
    Some(Version {
        major,
        minor,
        patch,
        pre,
    })
}

fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Replaces every run of characters outside `[a-zA-Z0-9._-]` with one `-`.
fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if allowed_char(c) {
            out.push(c);
        } else if !in_run {
            out.push('-');
        }
        in_run = !allowed_char(c);
    }
    out
}

fn full_sha(context: &GitContext) -> Result<&str, TagError> {
    let sha = context.sha.as_str();
    if matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha)
    } else {
        Err(TagError::InvalidSha(sha.to_string()))
    }
}

fn short_sha(context: &GitContext) -> Result<&str, TagError> {
    Ok(&full_sha(context)?[..7])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn ctx(git_ref: &str) -> GitContext {
        GitContext {
            git_ref: git_ref.into(),
            sha: SHA.into(),
        }
    }

    fn tags(lines: &[&str], git_ref: &str) -> Result<Vec<String>, TagError> {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        derive_tags(&lines, &ctx(git_ref))
    }

    fn ok(lines: &[&str], git_ref: &str) -> Vec<String> {
        tags(lines, git_ref).unwrap()
    }

    fn default(git_ref: &str) -> Vec<String> {
        default_tags(&ctx(git_ref)).unwrap()
    }

    /// The line number and inner error of a per-line error.
    fn line_error(lines: &[&str], git_ref: &str) -> (usize, TagError) {
        match tags(lines, git_ref).unwrap_err() {
            TagError::Line { line, error, .. } => (line, *error),
            other => panic!("not a line error: {other:?}"),
        }
    }

    /// The inner error of a single rule evaluated on a branch.
    fn err(line: &str) -> TagError {
        line_error(&[line], "refs/heads/main").1
    }

    #[test]
    fn default_on_branch_sanitizes_and_appends_short_sha() {
        assert_eq!(default("refs/heads/feature/a b"), ["feature-a-b-0123456"]);
        assert_eq!(
            derive_tags(&[], &ctx("refs/heads/main")).unwrap(),
            ["main-0123456"]
        );
    }

    #[test]
    fn default_on_semver_tag_strips_v() {
        assert_eq!(default("refs/tags/v1.2.3"), ["1.2.3"]);
        assert_eq!(default("refs/tags/1.2.3+build.5"), ["1.2.3"]);
    }

    #[test]
    fn default_on_non_semver_tag_is_sanitized_name() {
        assert_eq!(default("refs/tags/release/2024"), ["release-2024"]);
    }

    #[test]
    fn default_on_pr_and_other_refs() {
        assert_eq!(default("refs/pull/12/merge"), ["pr-12-0123456"]);
        assert_eq!(default("refs/remotes/x"), ["sha-0123456"]);
    }

    #[test]
    fn default_truncates_long_branch() {
        assert_eq!(
            default(&format!("refs/heads/{}", "b".repeat(200)))[0].len(),
            128
        );
    }

    #[test]
    fn sanitize_replaces_each_run_with_one_dash() {
        assert_eq!(sanitize("a//b c-/d_é.e"), "a-b-c--d_-.e");
        assert_eq!(
            ok(&["type=ref,event=tag,suffix=-x"], "refs/tags/rel/ü1"),
            ["rel-1-x"]
        );
    }

    #[test]
    fn literal_lines_keep_case_and_order() {
        let lines = ["v1.2.3", "Stable", "latest"];
        assert_eq!(ok(&lines, "refs/heads/main"), lines);
    }

    #[test]
    fn sha_short_long_and_prefix() {
        assert_eq!(ok(&["type=sha"], "refs/heads/main"), ["sha-0123456"]);
        assert_eq!(ok(&["type=sha,format=long,prefix="], "x"), [SHA]);
        assert_eq!(
            ok(&["type=sha,prefix=git-,suffix=-amd64"], "x"),
            ["git-0123456-amd64"]
        );
    }

    #[test]
    fn semver_patterns_on_tag_ref() {
        let lines = [
            "type=semver,pattern={{version}}",
            "type=semver,pattern={{major}}.{{minor}}",
        ];
        assert_eq!(ok(&lines, "refs/tags/v1.2.3"), ["1.2.3", "1.2"]);
        let lines = [
            "type=semver,pattern=v{{patch}}",
            "type=semver,pattern={{raw}}",
        ];
        assert_eq!(ok(&lines, "refs/tags/v1.2.3"), ["v3", "v1.2.3"]);
    }

    #[test]
    fn semver_prerelease_only_full_version() {
        let lines = [
            "type=semver,pattern={{version}}",
            "type=semver,pattern={{major}}",
        ];
        assert_eq!(ok(&lines, "refs/tags/v2.0.0-rc.1+b7"), ["2.0.0-rc.1"]);
    }

    #[test]
    fn semver_value_overrides_ref() {
        let lines = ["type=semver,pattern={{major}},value=v4.5.6,prefix=v"];
        assert_eq!(ok(&lines, "refs/heads/main"), ["v4"]);
    }

    #[test]
    fn semver_on_branch_or_non_semver_tag_yields_nothing() {
        let lines = ["type=semver,pattern={{version}}", "type=sha"];
        assert_eq!(ok(&lines, "refs/heads/main"), ["sha-0123456"]);
        assert_eq!(ok(&lines, "refs/tags/v01.2"), ["sha-0123456"]);
    }

    #[test]
    fn ref_events_match_their_ref() {
        let lines = [
            "type=ref,event=branch",
            "type=ref,event=tag",
            "type=ref,event=pr",
        ];
        assert_eq!(
            ok(&lines, "refs/heads/dependabot/npm/x@1"),
            ["dependabot-npm-x-1"]
        );
        assert_eq!(ok(&lines, "refs/tags/v1.0"), ["v1.0"]);
        assert_eq!(ok(&lines, "refs/pull/7/head"), ["pr-7"]);
    }

    #[test]
    fn raw_with_prefix_suffix_and_enable() {
        let lines = [
            "type=raw,value=edge,prefix=x-,suffix=-y",
            "type=sha,enable=false",
        ];
        assert_eq!(ok(&lines, "refs/heads/main"), ["x-edge-y"]);
        assert_eq!(ok(&["type=raw,enable=true,value=latest"], "x"), ["latest"]);
    }

    #[test]
    fn duplicates_removed_keeping_first() {
        let lines = ["b", "type=raw,value=a", "b", "type=ref,event=branch", "a"];
        assert_eq!(ok(&lines, "refs/heads/a"), ["b", "a"]);
    }

    #[test]
    fn no_tags_names_the_ref() {
        let err = tags(&["type=semver,pattern={{version}}"], "refs/heads/main").unwrap_err();
        assert_eq!(
            err,
            TagError::NoTags {
                git_ref: "refs/heads/main".into()
            }
        );
        assert!(err.to_string().contains("refs/heads/main"));
        assert!(err.hint().contains("type=sha"));
    }

    #[test]
    fn latest_from_branch_is_an_error() {
        let err = tags(&["type=ref,event=branch"], "refs/heads/latest").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert_eq!(err.hint(), "write `latest` as its own line if you want it");
        let (line, error) = line_error(&["v1", "type=ref,event=branch"], "refs/heads/latest");
        assert_eq!((line, error), (2, TagError::LatestFromRule));
    }

    #[test]
    fn bad_literal_tags() {
        let long = "a".repeat(129);
        for bad in ["bad tag", "a:b", "a/b", "-x", ".x", long.as_str()] {
            let (line, error) = line_error(&["ok", bad], "refs/heads/main");
            assert_eq!(line, 2);
            assert!(
                matches!(error, TagError::InvalidTag { ref tag, .. } if tag == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn validate_tag_accepts_the_grammar() {
        assert!(validate_tag(&"A_b.9-".repeat(22)[..128]).is_ok());
        assert!(validate_tag("_x").is_ok());
        assert!(validate_tag("").is_err());
        let reason = |tag| match validate_tag(tag) {
            Err(TagError::InvalidTag { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason("a b"), "character ' ' is not allowed");
    }

    #[test]
    fn produced_tag_error_names_tag_and_line() {
        let err = tags(&["x", "type=raw,value=a,prefix=-"], "refs/heads/main").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 2") && msg.contains("`-a`"), "{msg}");
    }

    #[test]
    fn unknown_and_missing_type() {
        let (line, error) = line_error(&["a", "b", "type=edge"], "refs/heads/main");
        assert_eq!((line, error), (3, TagError::UnknownType("edge".into())));
        assert!(err("type=nope").hint().contains("type=raw"));
        assert_eq!(err("value=x"), TagError::MissingType);
    }

    #[test]
    fn missing_required_attributes() {
        let missing = |kind, key| TagError::MissingAttribute { kind, key };
        assert_eq!(err("type=semver"), missing("semver", "pattern"));
        assert_eq!(err("type=ref,enable=false"), missing("ref", "event"));
        assert_eq!(err("type=raw"), missing("raw", "value"));
        assert!(missing("semver", "pattern").hint().contains("{{version}}"));
    }

    #[test]
    fn malformed_unknown_duplicate_and_empty_attributes() {
        assert_eq!(
            err("type=sha,short"),
            TagError::MalformedAttribute("short".into())
        );
        let unknown = TagError::UnknownAttribute {
            kind: "raw",
            key: "pattern".into(),
        };
        assert_eq!(err("type=raw,value=a,pattern=b"), unknown);
        assert!(unknown.hint().contains("`value`"));
        let duplicate = TagError::DuplicateAttribute("prefix".into());
        assert_eq!(err("type=sha,prefix=a,prefix=b"), duplicate);
        assert_eq!(err("type=raw,value="), TagError::EmptyValue("value".into()));
    }

    #[test]
    fn invalid_attribute_values() {
        let key = |line| match err(line) {
            TagError::InvalidValue { key, .. } => key,
            other => panic!("{other:?}"),
        };
        assert_eq!(key("type=sha,enable=yes"), "enable");
        assert_eq!(key("type=sha,format=medium"), "format");
        assert_eq!(key("type=ref,event=push"), "event");
        assert!(
            err("type=ref,event=push")
                .to_string()
                .contains("`branch` or `tag` or `pr`")
        );
    }

    #[test]
    fn invalid_sha() {
        let context = GitContext {
            git_ref: "refs/heads/main".into(),
            sha: "abc".into(),
        };
        assert_eq!(
            default_tags(&context).unwrap_err(),
            TagError::InvalidSha("abc".into())
        );
        let lines = ["type=sha".to_string()];
        assert!(matches!(
            derive_tags(&lines, &context),
            Err(TagError::Line { .. })
        ));
    }
}
