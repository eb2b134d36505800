//! Everything the inputs say, checked before the registry is called.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ecr_push::RegistryLogin;
use hoist_cosign::Formats;
use hoist_cosign::attest::SbomFormat;
use hoist_cosign::identity::{Claim, Pin};
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

/// Who signs, or whose signatures count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A key: the key input's value (path, env:// or PEM).
    Key(String),
    /// Keyless: an ephemeral key certified by Fulcio for the job's OIDC
    /// identity (sign), or certificates naming an identity (verify).
    Keyless,
}

/// The identity a keyless signature must name (verify).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedIdentity {
    /// The exact SAN, when given.
    pub exact: Option<String>,
    /// A regular expression the whole SAN must match, when given.
    pub regexp: Option<String>,
    /// The OIDC issuer.
    pub issuer: String,
    /// The certificate extensions pinned (`certificate-github-workflow-*`,
    /// `certificate-build-config-uri`): who called a reusable workflow.
    pub pins: Vec<Pin>,
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
    /// A key, or keyless.
    pub signer: Signer,
    /// Fulcio, for keyless signing.
    pub fulcio: Url,
    /// The `trusted-root` file, when given (else the public-good root).
    pub trusted_root: Option<PathBuf>,
    /// The identity keyless signatures must name (verify), when keyless.
    pub identity: Option<ExpectedIdentity>,
    /// The SBOM to attest (sign), with its format.
    pub sbom: Option<PathBuf>,
    /// The SBOM's declared format (sign), or the SBOM attestation required
    /// (verify).
    pub sbom_format: Option<SbomFormat>,
    /// Attest (sign), or require (verify), SLSA provenance.
    pub provenance: bool,
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
        let signer = match inputs.get("key") {
            Some(key) => Signer::Key(key.to_owned()),
            None => Signer::Keyless,
        };
        let identity = expected_identity(runner, mode, &signer)?;
        let sbom_format = match inputs.get("sbom-format") {
            Some(text) => Some(SbomFormat::parse(text).map_err(|_| {
                InputError::invalid(
                    "sbom-format",
                    format!("`{text}` is not an SBOM format"),
                    "write `spdxjson` or `cyclonedx`",
                )
            })?),
            None => None,
        };
        let sbom = inputs.get("sbom").map(PathBuf::from);
        if mode == Mode::Verify && sbom.is_some() {
            return Err(InputError::invalid(
                "sbom",
                "verify does not read an SBOM file",
                "to require an SBOM attestation when verifying, set `sbom-format` instead",
            ));
        }
        let tlog_upload = inputs.bool("tlog-upload")?;
        if mode == Mode::Sign && signer == Signer::Keyless && !tlog_upload {
            return Err(InputError::invalid(
                "tlog-upload",
                "keyless signatures must be logged in Rekor: the log's time is what proves the short-lived certificate was valid",
                "remove `tlog-upload: false`, or pass `key` to sign with a key",
            ));
        }
        let fulcio = hoist_http::parse_endpoint(
            "fulcio-url",
            inputs
                .get("fulcio-url")
                .unwrap_or(hoist_cosign::fulcio::PUBLIC_FULCIO),
        )
        .map_err(|e| {
            InputError::invalid(
                "fulcio-url",
                e.to_string(),
                "write an https:// URL (http:// only for loopback)",
            )
        })?;
        let rekor = if mode == Mode::Sign && tlog_upload {
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
            signer,
            fulcio,
            trusted_root: inputs.get("trusted-root").map(PathBuf::from),
            identity,
            sbom,
            sbom_format,
            provenance: inputs.bool("provenance")?,
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

/// The identity inputs: required for keyless verify, refused elsewhere.
fn expected_identity(
    runner: &Runner,
    mode: Mode,
    signer: &Signer,
) -> Result<Option<ExpectedIdentity>, InputError> {
    let inputs = runner.inputs();
    let exact = inputs.get("certificate-identity").map(String::from);
    let regexp = inputs.get("certificate-identity-regexp").map(String::from);
    let pins = certificate_pins(runner, "")?;
    let given = exact.is_some() || regexp.is_some();
    if let Some(pin) = pins.first()
        && !(mode == Mode::Verify && *signer == Signer::Keyless)
    {
        return Err(InputError::invalid(
            pin.claim.input(),
            "certificate pins only apply when verifying keyless signatures",
            "remove it, or use `mode: verify` without `key`",
        ));
    }
    match (mode, signer) {
        (Mode::Verify, Signer::Keyless) if !given => Err(InputError::invalid(
            "key",
            "verify needs the signer: a public key, or the identity of keyless signatures",
            "pass `key` (the cosign public key), or `certificate-identity` (such as https://github.com/ORG/REPO/.github/workflows/ci.yaml@refs/heads/main) with `certificate-oidc-issuer`",
        )),
        (Mode::Verify, Signer::Keyless) if exact.is_some() && regexp.is_some() => {
            Err(InputError::invalid(
                "certificate-identity-regexp",
                "certificate-identity and certificate-identity-regexp are both set",
                "set one of them",
            ))
        }
        (Mode::Verify, Signer::Keyless) => Ok(Some(ExpectedIdentity {
            exact,
            regexp,
            issuer: inputs
                .get("certificate-oidc-issuer")
                .unwrap_or(hoist_cosign::fulcio::GITHUB_ISSUER)
                .to_owned(),
            pins,
        })),
        _ if given => Err(InputError::invalid(
            if exact.is_some() {
                "certificate-identity"
            } else {
                "certificate-identity-regexp"
            },
            "a certificate identity only applies when verifying keyless signatures",
            "remove it, or use `mode: verify` without `key`",
        )),
        _ => Ok(None),
    }
}

/// The certificate pins given, in [`Claim::ALL`]'s order; each input is
/// named `prefix` + the claim's cosign flag name.
pub fn certificate_pins(runner: &Runner, prefix: &str) -> Result<Vec<Pin>, InputError> {
    let inputs = runner.inputs();
    let mut pins = Vec::new();
    for claim in Claim::ALL {
        let name = format!("{prefix}{}", claim.input());
        if let Some(value) = inputs.get(&name) {
            let pin = Pin::parse(claim, value)
                .map_err(|error| InputError::invalid(&name, error.to_string(), error.hint()))?;
            pins.push(pin);
        }
    }
    Ok(pins)
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
