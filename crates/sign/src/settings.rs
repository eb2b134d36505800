//! Everything the inputs say, checked before the registry is called.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ecr_push::RegistryLogin;
use hoist_cosign::Formats;
use hoist_oci::reference::{self, ImageReference};
use hoist_runner::{InputError, Runner};
use url::Url;

/// Sign or verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Make signatures.
    Sign,
    /// Check them.
    Verify,
}

/// The checked inputs.
#[derive(Debug)]
pub struct Settings {
    /// Sign or verify.
    pub mode: Mode,
    /// The image: registry, repository, and a tag or digest.
    pub image: ImageReference,
    /// The registry host.
    pub host: String,
    /// The repository on it.
    pub repository: String,
    /// The key input's value (path, env:// or PEM).
    pub key: String,
    /// The key's password.
    pub password: Option<String>,
    /// The formats.
    pub formats: Formats,
    /// The annotations.
    pub annotations: BTreeMap<String, String>,
    /// Where to log signatures, when logging.
    pub rekor: Option<Url>,
    /// The Rekor key input's value, when given.
    pub rekor_key: Option<String>,
    /// How long Rekor may be retried.
    pub rekor_timeout: Duration,
    /// How to log in to the registry.
    pub login: RegistryLogin,
    /// Plain HTTP to a loopback registry.
    pub insecure: bool,
    /// Where relative key paths start.
    pub workspace: Option<PathBuf>,
}

/// The default annotations: the commit and the run, as the documents sign.
fn default_annotations(runner: &Runner) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    if let Some(sha) = runner.env("GITHUB_SHA").filter(|s| !s.is_empty()) {
        annotations.insert("git-sha".to_owned(), sha.to_owned());
    }
    if let (Some(server), Some(repository), Some(run)) = (
        runner.env("GITHUB_SERVER_URL"),
        runner.env("GITHUB_REPOSITORY"),
        runner.env("GITHUB_RUN_ID"),
    ) {
        annotations.insert(
            "pipeline-url".to_owned(),
            format!("{server}/{repository}/actions/runs/{run}"),
        );
    }
    annotations
}

fn parse_annotations(lines: &[String]) -> Result<BTreeMap<String, String>, InputError> {
    let mut annotations = BTreeMap::new();
    for line in lines {
        let bad = |reason: &str| {
            InputError::invalid(
                "annotations",
                format!("`{line}` {reason}"),
                "write one key=value per line, such as `git-sha=${{ github.sha }}`",
            )
        };
        let (key, value) = line.split_once('=').ok_or_else(|| bad("has no `=`"))?;
        let key = key.trim();
        if key.is_empty() || key.len() > 256 || key.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad("has no usable key"));
        }
        if value.chars().any(char::is_control) {
            return Err(bad("has control characters in its value"));
        }
        if annotations
            .insert(key.to_owned(), value.trim().to_owned())
            .is_some()
        {
            return Err(bad("repeats a key"));
        }
    }
    Ok(annotations)
}

impl Settings {
    /// Reads and checks the inputs.
    pub fn read(runner: &Runner) -> Result<Self, InputError> {
        let inputs = runner.inputs();
        let mode = match inputs.choice("mode", &["sign", "verify"])? {
            Some("verify") => Mode::Verify,
            _ => Mode::Sign,
        };
        let text = inputs.required("image")?;
        let image = ImageReference::parse(text).map_err(|reason| {
            InputError::invalid(
                "image",
                reason,
                "write registry/repository@sha256:<64 hex>, such as ecr-push's `image` output",
            )
        })?;
        let (host, repository) = match image.name.split_once('/') {
            Some((host, repository))
                if host.contains('.') || host.contains(':') || host == "localhost" =>
            {
                (host.to_owned(), repository.to_owned())
            }
            _ => {
                return Err(InputError::invalid(
                    "image",
                    format!("`{text}` names no registry"),
                    "write the full reference, such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:…",
                ));
            }
        };
        reference::validate_registry(&host).map_err(|reason| {
            InputError::invalid("image", reason, "write registry/repository@sha256:…")
        })?;
        if image.digest.is_none() && image.tag.is_none() {
            return Err(InputError::invalid(
                "image",
                format!("`{text}` has neither a digest nor a tag"),
                "add the digest: @sha256:… (ecr-push's `digest` output)",
            ));
        }
        if image.digest.is_none() && inputs.bool("require-digest")? {
            return Err(InputError::invalid(
                "image",
                format!("`{text}` is a tag, and require-digest is on"),
                "pass the digest (ecr-push's `image` output is registry/repository@sha256:…), or set `require-digest: false` to have the tag resolved",
            ));
        }
        let formats = Formats::parse(inputs.get("format").unwrap_or("both")).ok_or_else(|| {
            InputError::invalid(
                "format",
                format!(
                    "`{}` is not a format",
                    inputs.get("format").unwrap_or_default()
                ),
                "write `legacy`, `bundle` or `both`",
            )
        })?;
        let given = parse_annotations(&inputs.lines("annotations"))?;
        let annotations = match (mode, given.is_empty()) {
            (Mode::Sign, true) => default_annotations(runner),
            _ => given,
        };
        let rekor = if mode == Mode::Sign && inputs.bool("tlog-upload")? {
            let url = inputs
                .get("rekor-url")
                .unwrap_or(hoist_cosign::rekor::PUBLIC_REKOR);
            Some(hoist_http::parse_endpoint("rekor-url", url).map_err(|e| {
                InputError::invalid(
                    "rekor-url",
                    e.to_string(),
                    "write an https:// URL (http:// only for loopback)",
                )
            })?)
        } else {
            None
        };
        let username = inputs.get("registry-username").map(String::from);
        let password = inputs.get("registry-password").map(String::from);
        if username.is_some() != password.is_some() {
            return Err(InputError::invalid(
                "registry-password",
                "registry-username and registry-password go together",
                "set both, or neither to use ECR or the Docker config",
            ));
        }
        let rekor_timeout = inputs
            .duration("rekor-timeout")?
            .unwrap_or(Duration::from_secs(600));
        Ok(Self {
            mode,
            login: RegistryLogin {
                registry: Some(host.clone()),
                region: inputs.get("aws-region").map(String::from),
                username,
                password,
                ca_bundle: inputs.get("ca-bundle").map(PathBuf::from),
            },
            image,
            host,
            repository,
            key: inputs.required("key")?.to_owned(),
            password: inputs
                .get("key-password")
                .or_else(|| runner.env("COSIGN_PASSWORD"))
                .map(String::from),
            formats,
            annotations,
            rekor,
            rekor_key: inputs.get("rekor-public-key").map(String::from),
            rekor_timeout,
            insecure: inputs.bool("insecure-registry")?,
            workspace: runner.env("GITHUB_WORKSPACE").map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_key_value_lines() {
        let parsed = parse_annotations(&["a=1".into(), "b = x=y".into()]).unwrap();
        assert_eq!(parsed["a"], "1");
        assert_eq!(parsed["b"], "x=y");
        for bad in ["novalue", "=x", "a b=1", "a=\u{7}"] {
            assert!(parse_annotations(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_annotations(&["a=1".into(), "a=2".into()]).is_err());
    }
}
