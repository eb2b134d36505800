//! Everything the inputs say, checked before anything is called.

use std::sync::Arc;

use hoist_cosign::PublicKey;
use hoist_cosign::identity::{Claim, Identity, Pin};
use hoist_cosign::key;
use hoist_cosign::trust::TrustedRoot;
use hoist_cosign::verify::{Keyless, Trust};
use hoist_github::RepoName;
use hoist_runner::{InputError, Runner};
use url::Url;

use crate::PromoteError;
use crate::github::Extras;

/// How the pull requests are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One pull request for every app.
    Single,
    /// One pull request per app.
    PerApp,
}

/// How require-image reaches registries.
#[derive(Debug, Clone)]
pub struct ImageCheck {
    /// `registry-username` and `registry-password`, when given.
    pub credentials: Option<(String, String)>,
    /// Plain HTTP (loopback registries only).
    pub insecure: bool,
    /// require-signature: what each image's signature must satisfy.
    pub signature: Option<hoist_cosign::Policy>,
}

/// The checked inputs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The GitOps repository.
    pub repository: RepoName,
    /// The API's base URL.
    pub api: Url,
    /// The token, when given.
    pub token: Option<String>,
    /// A GitHub App's ID and private key.
    pub app: Option<(String, String)>,
    /// The environment promoted from.
    pub from_env: String,
    /// The environment promoted to.
    pub to_env: String,
    /// The apps, or `None` for `all`.
    pub apps: Option<Vec<String>>,
    /// The grouping.
    pub grouping: Grouping,
    /// The base branch.
    pub base: String,
    /// The layout, when set.
    pub layout: Option<String>,
    /// The kustomization images entry name, when set.
    pub image_name: Option<String>,
    /// The branch template.
    pub branch: String,
    /// The title template.
    pub title: String,
    /// Text above the table.
    pub body: Option<String>,
    /// Labels, assignees, reviewers, milestone.
    pub extras: Extras,
    /// Open as a draft.
    pub draft: bool,
    /// Enable auto-merge with this method.
    pub auto_merge: Option<String>,
    /// Close a stale promotion PR.
    pub close_stale: bool,
    /// Check each image exists (and, with require-signature, is signed)
    /// first, with these registry settings.
    pub require_image: Option<ImageCheck>,
    /// The commit message template.
    pub commit_message: String,
}

/// A public key input (path, `env://`, PEM), read and parsed.
fn public_key(runner: &Runner, input: &str) -> Result<Option<PublicKey>, InputError> {
    let Some(value) = runner.inputs().get(input) else {
        return Ok(None);
    };
    let workspace = runner.env("GITHUB_WORKSPACE").map(std::path::Path::new);
    key::read_key_text(value, runner.environment(), workspace)
        .and_then(|text| PublicKey::from_pem(&text))
        .map(Some)
        .map_err(|error| InputError::invalid(input, error.to_string(), error.hint()))
}

/// require-signature's policy, either format: a key (with Rekor's key when
/// given), or keyless — an identity and issuer, checked against the
/// `signature-trusted-root` (the public-good root by default).
fn signature_policy(runner: &Runner) -> Result<hoist_cosign::Policy, InputError> {
    let inputs = runner.inputs();
    let exact = inputs.get("signature-certificate-identity");
    let regexp = inputs.get("signature-certificate-identity-regexp");
    let pins = certificate_pins(runner)?;
    if let Some(pin) = pins.first()
        && exact.is_none()
        && regexp.is_none()
    {
        return Err(InputError::invalid(
            &format!("{PIN_PREFIX}{}", pin.claim.input()),
            "certificate pins only apply to keyless signatures, and no signature certificate identity is set",
            "set `signature-certificate-identity` to the signing workflow (for a reusable workflow, the called one), or remove the pin",
        ));
    }
    let trust = match public_key(runner, "signature-key")? {
        Some(key) if exact.is_none() && regexp.is_none() => Trust::Key(key),
        Some(_) => {
            return Err(InputError::invalid(
                "signature-key",
                "signature-key and a signature certificate identity are both set",
                "set `signature-key` for key-signed images, or `signature-certificate-identity` for keyless ones",
            ));
        }
        None if exact.is_none() && regexp.is_none() => {
            return Err(InputError::invalid(
                "signature-key",
                "require-signature needs the signer: a public key, or the identity of keyless signatures",
                "set `signature-key` to cosign.pub (a path, env://VARIABLE or the PEM), or `signature-certificate-identity` to the signing workflow (https://github.com/ORG/REPO/.github/workflows/FILE@refs/heads/main)",
            ));
        }
        None => {
            let issuer = inputs
                .get("signature-certificate-oidc-issuer")
                .unwrap_or(hoist_cosign::fulcio::GITHUB_ISSUER);
            let identity = Identity::new(exact, regexp, issuer).map_err(|error| {
                InputError::invalid(
                    "signature-certificate-identity",
                    error.to_string(),
                    error.hint(),
                )
            })?;
            Trust::Keyless(Arc::new(Keyless {
                root: trusted_root(runner)?,
                identity: identity.with_pins(pins),
            }))
        }
    };
    Ok(hoist_cosign::Policy {
        trust,
        rekor_key: public_key(runner, "signature-rekor-public-key")?,
        annotations: Default::default(),
        formats: hoist_cosign::Formats::Both,
    })
}

/// What open-promotion-pr's pin inputs start with, before cosign's name.
const PIN_PREFIX: &str = "signature-";

/// The certificate pins given (`signature-certificate-github-workflow-*`,
/// `signature-certificate-build-config-uri`), in [`Claim::ALL`]'s order.
fn certificate_pins(runner: &Runner) -> Result<Vec<Pin>, InputError> {
    let inputs = runner.inputs();
    let mut pins = Vec::new();
    for claim in Claim::ALL {
        let name = format!("{PIN_PREFIX}{}", claim.input());
        if let Some(value) = inputs.get(&name) {
            let pin = Pin::parse(claim, value)
                .map_err(|error| InputError::invalid(&name, error.to_string(), error.hint()))?;
            pins.push(pin);
        }
    }
    Ok(pins)
}

/// `signature-trusted-root`, or the public-good root built in.
fn trusted_root(runner: &Runner) -> Result<TrustedRoot, InputError> {
    let input = "signature-trusted-root";
    let bad = |reason: String, hint: String| InputError::invalid(input, reason, hint);
    let Some(path) = runner.inputs().get(input) else {
        return TrustedRoot::public_good().map_err(|e| bad(e.to_string(), e.hint()));
    };
    let path = match runner.env("GITHUB_WORKSPACE") {
        Some(workspace) if std::path::Path::new(path).is_relative() => {
            std::path::Path::new(workspace).join(path)
        }
        _ => std::path::PathBuf::from(path),
    };
    let bytes = std::fs::read(&path).map_err(|e| {
        bad(
            format!("cannot read {}: {e}", path.display()),
            "check the path (relative paths start at the workspace)".into(),
        )
    })?;
    TrustedRoot::from_json(&bytes).map_err(|e| bad(e.to_string(), e.hint()))
}

/// Checks a name that goes into paths and branch names.
fn check_name(input: &str, value: &str) -> Result<(), InputError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && !value.starts_with('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(InputError::invalid(
            input,
            format!("`{}` is not a name", value.escape_debug()),
            "use letters, digits, `-`, `_` and `.`",
        ))
    }
}

impl Settings {
    /// Reads and checks every input.
    pub fn read(runner: &Runner) -> Result<Self, PromoteError> {
        let inputs = runner.inputs();
        let repository_text = inputs.required("repository")?;
        let repository = RepoName::parse(repository_text).ok_or_else(|| {
            InputError::invalid(
                "repository",
                format!("`{repository_text}` is not owner/name"),
                "write the GitOps repository as owner/name",
            )
        })?;
        let (api_input, api_text) = match inputs.get("github-api-url") {
            Some(url) => ("github-api-url", url),
            None => (
                "GITHUB_API_URL",
                runner
                    .env("GITHUB_API_URL")
                    .filter(|v| !v.is_empty())
                    .unwrap_or("https://api.github.com"),
            ),
        };
        let api = hoist_http::parse_endpoint(api_input, api_text)?;
        let token = inputs.get("token").map(String::from);
        let app = match (inputs.get("app-id"), inputs.get("app-private-key")) {
            (Some(id), Some(key)) => {
                if !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(InputError::invalid(
                        "app-id",
                        format!("`{id}` is not a number"),
                        "write the App's numeric ID",
                    )
                    .into());
                }
                Some((id.to_owned(), key.to_owned()))
            }
            (None, None) => None,
            _ => {
                return Err(InputError::invalid(
                    "app-id",
                    "app-id and app-private-key go together",
                    "set both, or neither to use `token`",
                )
                .into());
            }
        };
        if token.is_none() && app.is_none() {
            return Err(InputError::Missing {
                name: "token".into(),
            }
            .into());
        }
        let from_env = inputs.required("from-env")?.to_owned();
        let to_env = inputs.required("to-env")?.to_owned();
        check_name("from-env", &from_env)?;
        check_name("to-env", &to_env)?;
        if from_env == to_env {
            return Err(InputError::invalid(
                "to-env",
                "it is the same as from-env",
                "promote to the next environment, such as staging",
            )
            .into());
        }
        let names = inputs.names("apps");
        let apps = if names == ["all"] {
            None
        } else {
            for app in &names {
                check_name("apps", app)?;
            }
            Some(names)
        };
        if apps.as_ref().is_some_and(Vec::is_empty) {
            return Err(InputError::Missing {
                name: "apps".into(),
            }
            .into());
        }
        let grouping = match inputs.choice("grouping", &["single", "per-app"])? {
            Some("per-app") => Grouping::PerApp,
            _ => Grouping::Single,
        };
        let base = inputs.get("base").unwrap_or("main").to_owned();
        let branch = inputs
            .get("branch")
            .unwrap_or("promote/{group}-{to_env}")
            .to_owned();
        for (name, value) in [("base", base.as_str()), ("branch", branch.as_str())] {
            if !hoist_gitops::is_branch_name(value) {
                return Err(InputError::invalid(
                    name,
                    format!("`{}` is not a branch name", value.escape_debug()),
                    "write a branch name such as `main` or `promote/{group}-{to_env}`",
                )
                .into());
            }
        }
        let milestone = match inputs.get("milestone") {
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                InputError::invalid(
                    "milestone",
                    format!("`{text}` is not a milestone number"),
                    "write the milestone's number, as in its URL",
                )
            })?),
            None => None,
        };
        let labels = inputs
            .names("labels")
            .into_iter()
            .map(|l| l.replace("{to_env}", &to_env))
            .collect();
        let auto_merge = if inputs.bool("auto-merge")? {
            Some(
                inputs
                    .choice("merge-method", &["merge", "squash", "rebase"])?
                    .unwrap_or("squash")
                    .to_owned(),
            )
        } else {
            None
        };
        let layout = inputs.get("layout").map(String::from);
        let signature = if inputs.bool("require-signature")? {
            Some(signature_policy(runner)?)
        } else {
            None
        };
        let require_image = if inputs.bool("require-image")? || signature.is_some() {
            let credentials = match (
                inputs.get("registry-username"),
                inputs.get("registry-password"),
            ) {
                (Some(user), Some(password)) => Some((user.to_owned(), password.to_owned())),
                (None, None) => None,
                _ => {
                    return Err(InputError::invalid(
                        "registry-password",
                        "registry-username and registry-password go together",
                        "set both, or neither to use the Docker config",
                    )
                    .into());
                }
            };
            Some(ImageCheck {
                credentials,
                insecure: inputs.bool("insecure-registry")?,
                signature,
            })
        } else {
            None
        };
        Ok(Self {
            repository,
            api,
            token,
            app,
            from_env,
            to_env,
            apps,
            grouping,
            base,
            layout,
            image_name: inputs.get("image-name").map(String::from),
            branch,
            title: inputs
                .get("title")
                .unwrap_or("Promote {apps} to {to_env}")
                .to_owned(),
            body: inputs.get("body").map(String::from),
            extras: Extras {
                labels,
                assignees: inputs.names("assignees"),
                reviewers: inputs.names("reviewers"),
                team_reviewers: inputs.names("team-reviewers"),
                milestone,
            },
            draft: inputs.bool("draft")?,
            auto_merge,
            close_stale: inputs.bool("close-stale")?,
            require_image,
            commit_message: inputs
                .get("commit-message")
                .unwrap_or("chore({to_env}): promote {apps} from {from_env}")
                .to_owned(),
        })
    }

    /// `template` with `{apps}`, `{group}`, `{from_env}`, `{to_env}` filled.
    pub fn fill(&self, template: &str, apps: &str, group: &str) -> String {
        template
            .replace("{apps}", apps)
            .replace("{group}", group)
            .replace("{from_env}", &self.from_env)
            .replace("{to_env}", &self.to_env)
    }
}
