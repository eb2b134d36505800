//! Attestations: the in-toto statements hoist signs about an image — an
//! SBOM (SPDX JSON or CycloneDX JSON) read from a file, or SLSA provenance
//! v1 built from the GitHub Actions run the way GitHub's own
//! `actions/attest-build-provenance` builds it — and the checks a verifier
//! makes of a statement it finds.

use std::collections::BTreeMap;

use hoist_oci::Digest;
use serde_json::{Value, json};

use crate::payload::STATEMENT_TYPE;

/// cosign's predicate type for an SPDX JSON SBOM (`--type spdxjson`).
pub const SPDX_PREDICATE_TYPE: &str = "https://spdx.dev/Document";
/// cosign's predicate type for a CycloneDX SBOM (`--type cyclonedx`).
pub const CYCLONEDX_PREDICATE_TYPE: &str = "https://cyclonedx.org/bom";
/// The predicate type of SLSA provenance v1 (`--type slsaprovenance1`).
pub const SLSA_PROVENANCE_V1_PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// The SLSA build type of a GitHub Actions workflow run.
pub const GITHUB_WORKFLOW_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
/// The older in-toto statement type, which `cosign attest` still writes.
pub const STATEMENT_V01_TYPE: &str = "https://in-toto.io/Statement/v0.1";
/// The GitHub server URL used when none is given.
pub const DEFAULT_SERVER_URL: &str = "https://github.com";
/// The largest SBOM read, in bytes. The whole SBOM goes into the signed
/// statement, so every verifier downloads it too.
pub const MAX_SBOM_SIZE: u64 = 64 * 1024 * 1024;

/// An SBOM, a provenance context or a statement that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestError {
    /// `sbom-format` names a format hoist does not know.
    #[error(
        "`sbom-format` is `{given}`, which is not a known SBOM format: use `spdxjson` or \
         `cyclonedx`, or leave it unset to detect the format"
    )]
    UnknownSbomFormat {
        /// The value given.
        given: String,
    },
    /// The SBOM file is larger than [`MAX_SBOM_SIZE`].
    #[error(
        "the SBOM is {size} bytes, more than the {limit}-byte limit: the whole SBOM is signed \
         and downloaded by every verifier, so attach a smaller one (for example without \
         per-file entries)"
    )]
    SbomTooLarge {
        /// The SBOM's size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The SBOM file is empty.
    #[error(
        "the SBOM file is empty: point `sbom` at the JSON file your SBOM tool wrote (for \
         example `syft -o spdx-json`)"
    )]
    SbomEmpty,
    /// The SBOM file is not JSON.
    #[error("the SBOM is not JSON: {reason}")]
    SbomNotJson {
        /// What it looks like instead, and what to do.
        reason: String,
    },
    /// The SBOM is JSON, but not an object.
    #[error(
        "the SBOM is a JSON {found}, not an object: an SPDX JSON or CycloneDX JSON document is \
         a single JSON object"
    )]
    SbomNotAnObject {
        /// What kind of JSON value it is.
        found: &'static str,
    },
    /// The SBOM is a JSON object of neither format.
    #[error(
        "the SBOM is neither SPDX JSON (`spdxVersion`) nor CycloneDX JSON (`bomFormat`): \
         write it with `syft -o spdx-json` or `syft -o cyclonedx-json`"
    )]
    NotAnSbom,
    /// The SBOM carries the marks of both formats, and no format was given.
    #[error(
        "the SBOM has both `spdxVersion` (SPDX) and `bomFormat` (CycloneDX): set \
         `sbom-format` to say which it is"
    )]
    SbomAmbiguous,
    /// The SBOM is of the format given or detected, but lacks what that
    /// format requires.
    #[error("the SBOM looks like {format} but {reason}; check the tool that wrote it")]
    SbomIncomplete {
        /// The format (`SPDX JSON`, `CycloneDX JSON`).
        format: &'static str,
        /// What is missing or wrong.
        reason: String,
    },
    /// The SBOM is of the other format than the one given.
    #[error(
        "the SBOM is {found}, but `sbom-format` is `{declared}`: set `sbom-format: {found_name}` \
         or leave it unset to detect the format"
    )]
    SbomFormatMismatch {
        /// What the SBOM is (`an SPDX JSON document`, `a CycloneDX document`).
        found: &'static str,
        /// The `sbom-format` value that fits the SBOM.
        found_name: &'static str,
        /// The `sbom-format` given.
        declared: &'static str,
    },
    /// The OIDC token lacks a claim provenance needs.
    #[error(
        "the OIDC token has no `{claim}` claim, which provenance needs: request the token \
         from GitHub Actions (`permissions: id-token: write`)"
    )]
    MissingClaim {
        /// The claim.
        claim: &'static str,
    },
    /// The environment lacks a variable provenance needs.
    #[error(
        "`{variable}` is not set, and provenance needs it: build provenance inside a GitHub \
         Actions job, which sets it"
    )]
    MissingVariable {
        /// The variable.
        variable: &'static str,
    },
    /// The statement is not an in-toto statement.
    #[error("the attestation is not an in-toto statement: {reason}")]
    StatementMalformed {
        /// What is wrong.
        reason: String,
    },
    /// The statement is about other artifacts than the image.
    #[error("the attestation is about {found}, not {expected}: it was made for another image")]
    StatementOtherImage {
        /// The image digest expected.
        expected: String,
        /// The subject digests the statement names.
        found: String,
    },
    /// The statement has another predicate type.
    #[error("the attestation's predicate type is `{found}`, not `{expected}`")]
    PredicateTypeMismatch {
        /// The predicate type expected.
        expected: String,
        /// The statement's predicate type.
        found: String,
    },
}

/// The SBOM formats hoist attests, as `sbom-format` and cosign's `--type`
/// name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    /// SPDX 2.x, JSON (`spdxjson`).
    SpdxJson,
    /// CycloneDX, JSON (`cyclonedx`).
    CycloneDx,
}

impl SbomFormat {
    /// The format named `spdxjson` or `cyclonedx` (surrounding whitespace
    /// ignored).
    pub fn parse(text: &str) -> Result<Self, AttestError> {
        match text.trim() {
            "spdxjson" => Ok(Self::SpdxJson),
            "cyclonedx" => Ok(Self::CycloneDx),
            other => Err(AttestError::UnknownSbomFormat {
                given: other.to_owned(),
            }),
        }
    }

    /// The predicate type cosign gives attestations of this format.
    pub fn predicate_type(self) -> &'static str {
        match self {
            Self::SpdxJson => SPDX_PREDICATE_TYPE,
            Self::CycloneDx => CYCLONEDX_PREDICATE_TYPE,
        }
    }

    /// The format's name, as [`parse`](Self::parse) takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::SpdxJson => "spdxjson",
            Self::CycloneDx => "cyclonedx",
        }
    }

    /// The format as a person calls it.
    fn title(self) -> &'static str {
        match self {
            Self::SpdxJson => "SPDX JSON",
            Self::CycloneDx => "CycloneDX JSON",
        }
    }

    /// A document of this format, in a sentence.
    fn a_document(self) -> &'static str {
        match self {
            Self::SpdxJson => "an SPDX JSON document",
            Self::CycloneDx => "a CycloneDX document",
        }
    }

    /// The other format.
    fn other(self) -> Self {
        match self {
            Self::SpdxJson => Self::CycloneDx,
            Self::CycloneDx => Self::SpdxJson,
        }
    }

    /// `None` when `document` has none of this format's marks; otherwise
    /// whether it has all it needs, or what it lacks.
    fn check(self, document: &serde_json::Map<String, Value>) -> Option<Result<(), String>> {
        match self {
            Self::SpdxJson => {
                let version = document.get("spdxVersion")?;
                Some(match version.as_str() {
                    Some(v) if v.starts_with("SPDX-") => {
                        if document.contains_key("SPDXID") {
                            Ok(())
                        } else {
                            Err("it has no `SPDXID`".to_owned())
                        }
                    }
                    _ => Err(format!(
                        "its `spdxVersion` is {version}, not a string beginning `SPDX-`"
                    )),
                })
            }
            Self::CycloneDx => {
                let bom_format = document.get("bomFormat")?;
                Some(if bom_format != "CycloneDX" {
                    Err(format!(
                        "its `bomFormat` is {bom_format}, not \"CycloneDX\""
                    ))
                } else if !document.contains_key("specVersion") {
                    Err("it has no `specVersion`".to_owned())
                } else {
                    Ok(())
                })
            }
        }
    }
}

/// An SBOM read and recognised.
#[derive(Debug, Clone, PartialEq)]
pub struct Sbom {
    /// Its format.
    pub format: SbomFormat,
    /// The document: the attestation's predicate.
    pub document: Value,
}

/// Reads an SBOM file's bytes: SPDX JSON or CycloneDX JSON, of the
/// `declared` format when one is given, else of whichever format it is.
pub fn read_sbom(bytes: &[u8], declared: Option<SbomFormat>) -> Result<Sbom, AttestError> {
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > MAX_SBOM_SIZE {
        return Err(AttestError::SbomTooLarge {
            size,
            limit: MAX_SBOM_SIZE,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AttestError::SbomEmpty);
    }
    let document: Value = serde_json::from_slice(bytes).map_err(|e| AttestError::SbomNotJson {
        reason: not_json_reason(bytes, &e),
    })?;
    let Value::Object(object) = &document else {
        return Err(AttestError::SbomNotAnObject {
            found: json_kind(&document),
        });
    };
    let format = match declared {
        Some(format) => match format.check(object) {
            Some(Ok(())) => format,
            Some(Err(reason)) => {
                return Err(AttestError::SbomIncomplete {
                    format: format.title(),
                    reason,
                });
            }
            None => {
                return Err(match format.other().check(object) {
                    Some(_) => AttestError::SbomFormatMismatch {
                        found: format.other().a_document(),
                        found_name: format.other().name(),
                        declared: format.name(),
                    },
                    None => AttestError::NotAnSbom,
                });
            }
        },
        None => {
            let spdx = SbomFormat::SpdxJson.check(object);
            let cyclonedx = SbomFormat::CycloneDx.check(object);
            match (spdx, cyclonedx) {
                (Some(_), Some(_)) => return Err(AttestError::SbomAmbiguous),
                (Some(Ok(())), None) => SbomFormat::SpdxJson,
                (None, Some(Ok(()))) => SbomFormat::CycloneDx,
                (Some(Err(reason)), None) => {
                    return Err(AttestError::SbomIncomplete {
                        format: SbomFormat::SpdxJson.title(),
                        reason,
                    });
                }
                (None, Some(Err(reason))) => {
                    return Err(AttestError::SbomIncomplete {
                        format: SbomFormat::CycloneDx.title(),
                        reason,
                    });
                }
                (None, None) => return Err(AttestError::NotAnSbom),
            }
        }
    };
    Ok(Sbom { format, document })
}

/// Why bytes that do not parse are not a JSON SBOM, and what to write
/// instead when they look like another SBOM encoding.
fn not_json_reason(bytes: &[u8], error: &serde_json::Error) -> String {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let head = String::from_utf8_lossy(&bytes[start..bytes.len().min(start + 4096)]);
    if head.starts_with("SPDXVersion:") || head.contains("\nSPDXVersion:") {
        return "it is SPDX tag-value text; write SPDX JSON instead (`syft -o spdx-json`)"
            .to_owned();
    }
    if head.starts_with('<') {
        let lower = head.to_ascii_lowercase();
        if lower.contains("cyclonedx") {
            return "it is CycloneDX XML; write CycloneDX JSON instead (`syft -o cyclonedx-json`)"
                .to_owned();
        }
        if lower.contains("spdx") {
            return "it is SPDX RDF/XML; write SPDX JSON instead (`syft -o spdx-json`)".to_owned();
        }
        return "it is XML; write SPDX JSON (`syft -o spdx-json`) or CycloneDX JSON \
                (`syft -o cyclonedx-json`)"
            .to_owned();
    }
    format!(
        "{error}; write SPDX JSON (`syft -o spdx-json`) or CycloneDX JSON (`syft -o cyclonedx-json`)"
    )
}

/// The kind of a JSON value, in a sentence.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An in-toto Statement v1 about one subject, the image `subject_name`
/// (its repository, `registry/name`) at `digest`.
pub fn statement(
    subject_name: &str,
    digest: &Digest,
    predicate_type: &str,
    predicate: &Value,
) -> Vec<u8> {
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": subject_name, "digest": { "sha256": digest.hex() } }],
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    serde_json::to_vec(&statement).unwrap_or_default()
}

/// Checks a statement (v1, or the v0.1 `cosign attest` writes) is about
/// `digest` and has `predicate_type`; returns its predicate.
pub fn check_statement(
    statement: &[u8],
    digest: &Digest,
    predicate_type: &str,
) -> Result<Value, AttestError> {
    let malformed = |reason: String| AttestError::StatementMalformed { reason };
    let statement: Value =
        serde_json::from_slice(statement).map_err(|e| malformed(format!("it is not JSON: {e}")))?;
    let Value::Object(mut statement) = statement else {
        return Err(malformed(format!(
            "it is a JSON {}, not an object",
            json_kind(&statement)
        )));
    };
    match statement.get("_type") {
        Some(Value::String(t)) if t == STATEMENT_TYPE || t == STATEMENT_V01_TYPE => {}
        Some(other) => {
            return Err(malformed(format!(
                "its `_type` is {other}, not `{STATEMENT_TYPE}` or `{STATEMENT_V01_TYPE}`"
            )));
        }
        None => return Err(malformed("it has no `_type`".to_owned())),
    }
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("it has no `subject` list".to_owned()))?;
    if !subjects
        .iter()
        .any(|s| s["digest"]["sha256"] == digest.hex())
    {
        let found: Vec<String> = subjects
            .iter()
            .filter_map(|s| s["digest"]["sha256"].as_str())
            .map(|hex| format!("sha256:{hex}"))
            .collect();
        return Err(AttestError::StatementOtherImage {
            expected: digest.to_string(),
            found: if found.is_empty() {
                "no sha256 digest".to_owned()
            } else {
                found.join(", ")
            },
        });
    }
    match statement.get("predicateType") {
        Some(Value::String(found)) if found == predicate_type => {}
        Some(found) => {
            return Err(AttestError::PredicateTypeMismatch {
                expected: predicate_type.to_owned(),
                found: found
                    .as_str()
                    .map_or_else(|| found.to_string(), str::to_owned),
            });
        }
        None => return Err(malformed("it has no `predicateType`".to_owned())),
    }
    statement
        .remove("predicate")
        .ok_or_else(|| malformed("it has no `predicate`".to_owned()))
}

/// What SLSA provenance says about a GitHub Actions run: the values of the
/// job's OIDC token claims (or, without a token, of the runner's
/// environment) that `actions/attest-build-provenance` puts in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubContext {
    /// The GitHub server, `https://github.com`, without a trailing slash.
    pub server_url: String,
    /// `owner/repo`.
    pub repository: String,
    /// The repository's numeric ID.
    pub repository_id: String,
    /// The repository owner's numeric ID.
    pub repository_owner_id: String,
    /// The commit built.
    pub sha: String,
    /// The ref built (`refs/heads/main`).
    pub git_ref: String,
    /// The event that started the workflow (`push`).
    pub event_name: String,
    /// The run's ID.
    pub run_id: String,
    /// The run's attempt number.
    pub run_attempt: String,
    /// `github-hosted` or `self-hosted`.
    pub runner_environment: String,
    /// The workflow run: `owner/repo/.github/workflows/f.yml@refs/heads/main`.
    pub workflow_ref: String,
    /// The workflow the job's steps come from (a reusable workflow's, when
    /// the job calls one); the builder ID names it.
    pub job_workflow_ref: String,
}

impl GitHubContext {
    /// The context in the OIDC token's `claims`, on the GitHub server at
    /// `server_url` ([`DEFAULT_SERVER_URL`] when `None`; the token's `iss`
    /// is the token service's URL, not the server's). Numeric claims are
    /// taken as their decimal text.
    pub fn from_claims(claims: &Value, server_url: Option<&str>) -> Result<Self, AttestError> {
        let claim = |name: &'static str| -> Result<String, AttestError> {
            let text = match claims.get(name) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            if text.is_empty() {
                Err(AttestError::MissingClaim { claim: name })
            } else {
                Ok(text)
            }
        };
        Ok(Self {
            server_url: server(server_url.unwrap_or(DEFAULT_SERVER_URL)),
            job_workflow_ref: claim("job_workflow_ref")?,
            workflow_ref: claim("workflow_ref")?,
            repository: claim("repository")?,
            repository_id: claim("repository_id")?,
            repository_owner_id: claim("repository_owner_id")?,
            sha: claim("sha")?,
            git_ref: claim("ref")?,
            event_name: claim("event_name")?,
            run_id: claim("run_id")?,
            run_attempt: claim("run_attempt")?,
            runner_environment: claim("runner_environment")?,
        })
    }

    /// The context in the runner's environment (`GITHUB_*` and
    /// `RUNNER_ENVIRONMENT`). The environment has no job workflow ref, so
    /// the builder ID names `GITHUB_WORKFLOW_REF`, the calling workflow:
    /// for a job that calls a reusable workflow, the token's claims name
    /// the reusable workflow instead, and the two provenances differ there.
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Self, AttestError> {
        let var = |name: &'static str| -> Result<String, AttestError> {
            env.get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or(AttestError::MissingVariable { variable: name })
        };
        let server_url = server(&var("GITHUB_SERVER_URL")?);
        let repository = var("GITHUB_REPOSITORY")?;
        let repository_id = var("GITHUB_REPOSITORY_ID")?;
        let repository_owner_id = var("GITHUB_REPOSITORY_OWNER_ID")?;
        let sha = var("GITHUB_SHA")?;
        let git_ref = var("GITHUB_REF")?;
        let event_name = var("GITHUB_EVENT_NAME")?;
        let run_id = var("GITHUB_RUN_ID")?;
        let run_attempt = var("GITHUB_RUN_ATTEMPT")?;
        let runner_environment = var("RUNNER_ENVIRONMENT")?;
        let workflow_ref = var("GITHUB_WORKFLOW_REF")?;
        Ok(Self {
            server_url,
            repository,
            repository_id,
            repository_owner_id,
            sha,
            git_ref,
            event_name,
            run_id,
            run_attempt,
            runner_environment,
            job_workflow_ref: workflow_ref.clone(),
            workflow_ref,
        })
    }

    /// The workflow file's path and ref, split from the workflow ref as
    /// actions/toolkit does: drop the first `owner/repo/`, then split at the
    /// first `@` (a ref may itself hold `@`).
    fn workflow_path_and_ref(&self) -> (String, String) {
        let rest = self
            .workflow_ref
            .replacen(&format!("{}/", self.repository), "", 1);
        match rest.split_once('@') {
            Some((path, git_ref)) => (path.to_owned(), git_ref.to_owned()),
            None => (rest, String::new()),
        }
    }
}

/// A server URL without its trailing slashes.
fn server(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

/// The SLSA provenance v1 predicate for the run in `github`, exactly as
/// actions/toolkit's `buildSLSAProvenancePredicate` builds it (the GitHub
/// Actions workflow build type).
pub fn provenance(github: &GitHubContext) -> Value {
    let server = &github.server_url;
    let repository = &github.repository;
    let (path, workflow_ref) = github.workflow_path_and_ref();
    json!({
        "buildDefinition": {
            "buildType": GITHUB_WORKFLOW_BUILD_TYPE,
            "externalParameters": {
                "workflow": {
                    "ref": workflow_ref,
                    "repository": format!("{server}/{repository}"),
                    "path": path,
                },
            },
            "internalParameters": {
                "github": {
                    "event_name": github.event_name,
                    "repository_id": github.repository_id,
                    "repository_owner_id": github.repository_owner_id,
                    "runner_environment": github.runner_environment,
                },
            },
            "resolvedDependencies": [{
                "uri": format!("git+{server}/{repository}@{}", github.git_ref),
                "digest": { "gitCommit": github.sha },
            }],
        },
        "runDetails": {
            "builder": { "id": format!("{server}/{}", github.job_workflow_ref) },
            "metadata": {
                "invocationId": format!(
                    "{server}/{repository}/actions/runs/{}/attempts/{}",
                    github.run_id, github.run_attempt
                ),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> Digest {
        Digest::of(b"manifest")
    }

    fn spdx() -> Value {
        json!({
            "spdxVersion": "SPDX-2.3",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": "app",
            "dataLicense": "CC0-1.0",
            "packages": [],
        })
    }

    fn cyclonedx() -> Value {
        json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "components": [],
        })
    }

    fn bytes(value: &Value) -> Vec<u8> {
        serde_json::to_vec_pretty(value).unwrap()
    }

    /// Claims shaped like a GitHub Actions OIDC token's.
    fn claims() -> Value {
        json!({
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "sigstore",
            "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
            "jti": "8ba5e1f5-54b1-4c2f-9a6f-5bd0c4a4e9d1",
            "ref": "refs/heads/main",
            "ref_type": "branch",
            "sha": "5a9c4f1e0d7b3a2c6e8f9b1d0a3c5e7f9b2d4a6c",
            "repository": "octo-org/octo-repo",
            "repository_id": "123456789",
            "repository_owner": "octo-org",
            "repository_owner_id": "987654",
            "repository_visibility": "public",
            "run_id": "10150383512",
            "run_number": "42",
            "run_attempt": "2",
            "runner_environment": "github-hosted",
            "actor": "octocat",
            "actor_id": "583231",
            "workflow": "release",
            "workflow_ref": "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
            "workflow_sha": "5a9c4f1e0d7b3a2c6e8f9b1d0a3c5e7f9b2d4a6c",
            "job_workflow_ref": "octo-org/build-tools/.github/workflows/build.yml@refs/tags/v3",
            "job_workflow_sha": "0b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4",
            "event_name": "push",
        })
    }

    fn env() -> BTreeMap<String, String> {
        [
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "octo-org/octo-repo"),
            ("GITHUB_REPOSITORY_ID", "123456789"),
            ("GITHUB_REPOSITORY_OWNER_ID", "987654"),
            ("GITHUB_SHA", "5a9c4f1e0d7b3a2c6e8f9b1d0a3c5e7f9b2d4a6c"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_RUN_ID", "10150383512"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("RUNNER_ENVIRONMENT", "github-hosted"),
            (
                "GITHUB_WORKFLOW_REF",
                "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn predicate_types_are_cosigns() {
        assert_eq!(
            SbomFormat::SpdxJson.predicate_type(),
            "https://spdx.dev/Document"
        );
        assert_eq!(
            SbomFormat::CycloneDx.predicate_type(),
            "https://cyclonedx.org/bom"
        );
        assert_eq!(
            SLSA_PROVENANCE_V1_PREDICATE_TYPE,
            "https://slsa.dev/provenance/v1"
        );
    }

    #[test]
    fn sbom_formats_parse_by_name() {
        for format in [SbomFormat::SpdxJson, SbomFormat::CycloneDx] {
            assert_eq!(SbomFormat::parse(format.name()).unwrap(), format);
        }
        assert_eq!(
            SbomFormat::parse(" cyclonedx\n").unwrap(),
            SbomFormat::CycloneDx
        );
        let error = SbomFormat::parse("spdx").unwrap_err();
        assert_eq!(
            error,
            AttestError::UnknownSbomFormat {
                given: "spdx".into()
            }
        );
        assert!(error.to_string().contains("`spdxjson` or `cyclonedx`"));
    }

    #[test]
    fn sboms_are_detected() {
        let sbom = read_sbom(&bytes(&spdx()), None).unwrap();
        assert_eq!(sbom.format, SbomFormat::SpdxJson);
        assert_eq!(sbom.document, spdx());
        let sbom = read_sbom(&bytes(&cyclonedx()), None).unwrap();
        assert_eq!(sbom.format, SbomFormat::CycloneDx);
        assert_eq!(sbom.document, cyclonedx());
        // A byte-order mark is tolerated.
        let mut marked = b"\xEF\xBB\xBF".to_vec();
        marked.extend(bytes(&spdx()));
        assert_eq!(
            read_sbom(&marked, None).unwrap().format,
            SbomFormat::SpdxJson
        );
    }

    #[test]
    fn declared_formats_are_checked() {
        let sbom = read_sbom(&bytes(&spdx()), Some(SbomFormat::SpdxJson)).unwrap();
        assert_eq!(sbom.format, SbomFormat::SpdxJson);
        let sbom = read_sbom(&bytes(&cyclonedx()), Some(SbomFormat::CycloneDx)).unwrap();
        assert_eq!(sbom.format, SbomFormat::CycloneDx);
        let error = read_sbom(&bytes(&spdx()), Some(SbomFormat::CycloneDx)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the SBOM is an SPDX JSON document, but `sbom-format` is `cyclonedx`: set \
             `sbom-format: spdxjson` or leave it unset to detect the format"
        );
    }

    #[test]
    fn bad_sboms_are_refused_with_what_was_found() {
        let mut both = spdx();
        both["bomFormat"] = json!("CycloneDX");
        both["specVersion"] = json!("1.6");
        let mut old_spdx = spdx();
        old_spdx["spdxVersion"] = json!("2.3");
        let mut no_spdxid = spdx();
        no_spdxid.as_object_mut().unwrap().remove("SPDXID");
        let mut no_spec = cyclonedx();
        no_spec.as_object_mut().unwrap().remove("specVersion");
        let mut other_bom = cyclonedx();
        other_bom["bomFormat"] = json!("SWID");
        let tag_value = b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n";
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"></bom>"#;
        let oversize = vec![b' '; usize::try_from(MAX_SBOM_SIZE).unwrap() + 1];

        // What the file is, its bytes, the format declared, the error, and
        // a phrase the message must carry.
        type Case = (
            &'static str,
            Vec<u8>,
            Option<SbomFormat>,
            AttestError,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                "empty file",
                Vec::new(),
                None,
                AttestError::SbomEmpty,
                "is empty",
            ),
            (
                "only whitespace",
                b" \n\t".to_vec(),
                None,
                AttestError::SbomEmpty,
                "is empty",
            ),
            (
                "JSON array",
                b"[]".to_vec(),
                None,
                AttestError::SbomNotAnObject { found: "array" },
                "a JSON array, not an object",
            ),
            (
                "JSON string",
                b"\"sbom\"".to_vec(),
                Some(SbomFormat::SpdxJson),
                AttestError::SbomNotAnObject { found: "string" },
                "a JSON string",
            ),
            (
                "SPDX tag-value text",
                tag_value.to_vec(),
                None,
                AttestError::SbomNotJson {
                    reason: "it is SPDX tag-value text; write SPDX JSON instead \
                             (`syft -o spdx-json`)"
                        .into(),
                },
                "not JSON",
            ),
            (
                "CycloneDX XML",
                xml.to_vec(),
                Some(SbomFormat::CycloneDx),
                AttestError::SbomNotJson {
                    reason: "it is CycloneDX XML; write CycloneDX JSON instead \
                             (`syft -o cyclonedx-json`)"
                        .into(),
                },
                "syft -o cyclonedx-json",
            ),
            (
                "CycloneDX declared as spdxjson",
                bytes(&cyclonedx()),
                Some(SbomFormat::SpdxJson),
                AttestError::SbomFormatMismatch {
                    found: "a CycloneDX document",
                    found_name: "cyclonedx",
                    declared: "spdxjson",
                },
                "the SBOM is a CycloneDX document, but `sbom-format` is `spdxjson`",
            ),
            (
                "neither format",
                b"{\"name\":\"app\"}".to_vec(),
                None,
                AttestError::NotAnSbom,
                "neither SPDX JSON (`spdxVersion`) nor CycloneDX JSON (`bomFormat`)",
            ),
            (
                "neither format, declared",
                b"{\"name\":\"app\"}".to_vec(),
                Some(SbomFormat::CycloneDx),
                AttestError::NotAnSbom,
                "neither SPDX JSON",
            ),
            (
                "both formats",
                bytes(&both),
                None,
                AttestError::SbomAmbiguous,
                "set `sbom-format`",
            ),
            (
                "SPDX version without SPDX-",
                bytes(&old_spdx),
                None,
                AttestError::SbomIncomplete {
                    format: "SPDX JSON",
                    reason: "its `spdxVersion` is \"2.3\", not a string beginning `SPDX-`".into(),
                },
                "looks like SPDX JSON",
            ),
            (
                "SPDX without SPDXID",
                bytes(&no_spdxid),
                Some(SbomFormat::SpdxJson),
                AttestError::SbomIncomplete {
                    format: "SPDX JSON",
                    reason: "it has no `SPDXID`".into(),
                },
                "no `SPDXID`",
            ),
            (
                "CycloneDX without specVersion",
                bytes(&no_spec),
                None,
                AttestError::SbomIncomplete {
                    format: "CycloneDX JSON",
                    reason: "it has no `specVersion`".into(),
                },
                "no `specVersion`",
            ),
            (
                "bomFormat not CycloneDX",
                bytes(&other_bom),
                None,
                AttestError::SbomIncomplete {
                    format: "CycloneDX JSON",
                    reason: "its `bomFormat` is \"SWID\", not \"CycloneDX\"".into(),
                },
                "\"SWID\"",
            ),
            (
                "oversize",
                oversize,
                None,
                AttestError::SbomTooLarge {
                    size: MAX_SBOM_SIZE + 1,
                    limit: MAX_SBOM_SIZE,
                },
                "67108864-byte limit",
            ),
        ];
        for (name, input, declared, expected, message) in cases {
            let error = read_sbom(&input, declared).unwrap_err();
            assert_eq!(error, expected, "{name}");
            let text = error.to_string();
            assert!(text.contains(message), "{name}: {text}");
        }
    }

    #[test]
    fn other_non_json_says_what_parse_failed() {
        let error = read_sbom(b"name: app\n", None).unwrap_err();
        let AttestError::SbomNotJson { reason } = &error else {
            panic!("{error:?}");
        };
        assert!(reason.contains("line 1"), "{reason}");
        assert!(reason.contains("syft -o spdx-json"), "{reason}");
        let error =
            read_sbom(b"<rdf:RDF xmlns:spdx=\"http://spdx.org/rdf/terms#\">", None).unwrap_err();
        assert!(error.to_string().contains("SPDX RDF/XML"), "{error}");
    }

    #[test]
    fn statements_are_in_toto_v1_about_one_subject() {
        let bytes = statement(
            "registry.example/shop/app",
            &digest(),
            SPDX_PREDICATE_TYPE,
            &spdx(),
        );
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            value,
            json!({
                "_type": "https://in-toto.io/Statement/v1",
                "subject": [{
                    "name": "registry.example/shop/app",
                    "digest": { "sha256": digest().hex() },
                }],
                "predicateType": "https://spdx.dev/Document",
                "predicate": spdx(),
            })
        );
        assert_eq!(
            check_statement(&bytes, &digest(), SPDX_PREDICATE_TYPE).unwrap(),
            spdx()
        );
    }

    #[test]
    fn statements_are_checked() {
        let bytes = statement("r/app", &digest(), CYCLONEDX_PREDICATE_TYPE, &cyclonedx());
        assert_eq!(
            check_statement(&bytes, &digest(), SPDX_PREDICATE_TYPE).unwrap_err(),
            AttestError::PredicateTypeMismatch {
                expected: SPDX_PREDICATE_TYPE.into(),
                found: CYCLONEDX_PREDICATE_TYPE.into(),
            }
        );
        let other = Digest::of(b"other");
        assert_eq!(
            check_statement(&bytes, &other, CYCLONEDX_PREDICATE_TYPE).unwrap_err(),
            AttestError::StatementOtherImage {
                expected: other.to_string(),
                found: digest().to_string(),
            }
        );

        // cosign attest's v0.1 statements, with several subjects, pass.
        let v01 = json!({
            "_type": STATEMENT_V01_TYPE,
            "subject": [
                { "name": "a", "digest": { "sha256": Digest::of(b"a").hex() } },
                { "name": "b", "digest": { "sha256": digest().hex() } },
            ],
            "predicateType": SLSA_PROVENANCE_V1_PREDICATE_TYPE,
            "predicate": { "x": 1 },
        });
        assert_eq!(
            check_statement(
                &serde_json::to_vec(&v01).unwrap(),
                &digest(),
                SLSA_PROVENANCE_V1_PREDICATE_TYPE
            )
            .unwrap(),
            json!({ "x": 1 })
        );

        let malformed = [
            (b"not json".to_vec(), "not JSON"),
            (b"[]".to_vec(), "a JSON array"),
            (
                serde_json::to_vec(&json!({ "_type": "https://in-toto.io/Statement/v2" })).unwrap(),
                "`_type` is \"https://in-toto.io/Statement/v2\"",
            ),
            (
                serde_json::to_vec(&json!({ "_type": STATEMENT_TYPE })).unwrap(),
                "no `subject` list",
            ),
            (
                serde_json::to_vec(&json!({
                    "_type": STATEMENT_TYPE,
                    "subject": [{ "digest": { "sha256": digest().hex() } }],
                    "predicateType": SPDX_PREDICATE_TYPE,
                }))
                .unwrap(),
                "no `predicate`",
            ),
        ];
        for (bytes, message) in malformed {
            let error = check_statement(&bytes, &digest(), SPDX_PREDICATE_TYPE).unwrap_err();
            assert!(
                matches!(error, AttestError::StatementMalformed { .. }),
                "{error:?}"
            );
            assert!(error.to_string().contains(message), "{error}");
        }
    }

    #[test]
    fn provenance_from_claims_is_githubs() {
        let github = GitHubContext::from_claims(&claims(), None).unwrap();
        assert_eq!(
            provenance(&github),
            json!({
                "buildDefinition": {
                    "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                    "externalParameters": {
                        "workflow": {
                            "ref": "refs/heads/main",
                            "repository": "https://github.com/octo-org/octo-repo",
                            "path": ".github/workflows/release.yml",
                        },
                    },
                    "internalParameters": {
                        "github": {
                            "event_name": "push",
                            "repository_id": "123456789",
                            "repository_owner_id": "987654",
                            "runner_environment": "github-hosted",
                        },
                    },
                    "resolvedDependencies": [{
                        "uri": "git+https://github.com/octo-org/octo-repo@refs/heads/main",
                        "digest": { "gitCommit": "5a9c4f1e0d7b3a2c6e8f9b1d0a3c5e7f9b2d4a6c" },
                    }],
                },
                "runDetails": {
                    "builder": {
                        "id": "https://github.com/octo-org/build-tools/.github/workflows/build.yml@refs/tags/v3",
                    },
                    "metadata": {
                        "invocationId": "https://github.com/octo-org/octo-repo/actions/runs/10150383512/attempts/2",
                    },
                },
            })
        );
    }

    #[test]
    fn provenance_follows_the_server_and_odd_refs() {
        let mut claims = claims();
        claims["workflow_ref"] =
            json!("octo-org/octo-repo/.github/workflows/release.yml@refs/tags/@scope/pkg@1.2.0");
        claims["run_id"] = json!(77);
        let github = GitHubContext::from_claims(&claims, Some("https://ghe.example.com/")).unwrap();
        assert_eq!(github.server_url, "https://ghe.example.com");
        assert_eq!(github.run_id, "77");
        let predicate = provenance(&github);
        let workflow = &predicate["buildDefinition"]["externalParameters"]["workflow"];
        assert_eq!(workflow["ref"], "refs/tags/@scope/pkg@1.2.0");
        assert_eq!(workflow["path"], ".github/workflows/release.yml");
        assert_eq!(
            workflow["repository"],
            "https://ghe.example.com/octo-org/octo-repo"
        );
        assert_eq!(
            predicate["runDetails"]["metadata"]["invocationId"],
            "https://ghe.example.com/octo-org/octo-repo/actions/runs/77/attempts/2"
        );
    }

    #[test]
    fn missing_claims_are_named() {
        for claim in [
            "job_workflow_ref",
            "workflow_ref",
            "repository",
            "repository_id",
            "repository_owner_id",
            "sha",
            "ref",
            "event_name",
            "run_id",
            "run_attempt",
            "runner_environment",
        ] {
            let mut claims = claims();
            claims.as_object_mut().unwrap().remove(claim);
            let error = GitHubContext::from_claims(&claims, None).unwrap_err();
            assert_eq!(error, AttestError::MissingClaim { claim }, "{claim}");
            assert!(error.to_string().contains(&format!("`{claim}`")));
            claims[claim] = json!("");
            assert_eq!(
                GitHubContext::from_claims(&claims, None).unwrap_err(),
                AttestError::MissingClaim { claim }
            );
        }
    }

    #[test]
    fn provenance_from_env_names_the_workflow_as_builder() {
        let github = GitHubContext::from_env(&env()).unwrap();
        assert_eq!(
            github.job_workflow_ref,
            "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main"
        );
        let predicate = provenance(&github);
        assert_eq!(
            predicate["runDetails"]["builder"]["id"],
            "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main"
        );
        // Everything else matches what the token's claims give.
        let from_claims = provenance(&GitHubContext::from_claims(&claims(), None).unwrap());
        assert_eq!(predicate["buildDefinition"], from_claims["buildDefinition"]);
        assert_eq!(
            predicate["runDetails"]["metadata"],
            from_claims["runDetails"]["metadata"]
        );
    }

    #[test]
    fn the_first_missing_variable_is_named() {
        let mut env = env();
        env.remove("GITHUB_RUN_ID");
        env.remove("RUNNER_ENVIRONMENT");
        assert_eq!(
            GitHubContext::from_env(&env).unwrap_err(),
            AttestError::MissingVariable {
                variable: "GITHUB_RUN_ID"
            }
        );
        let mut env = self::env();
        env.insert("GITHUB_SERVER_URL".into(), String::new());
        let error = GitHubContext::from_env(&env).unwrap_err();
        assert_eq!(
            error,
            AttestError::MissingVariable {
                variable: "GITHUB_SERVER_URL"
            }
        );
        assert!(
            error
                .to_string()
                .starts_with("`GITHUB_SERVER_URL` is not set")
        );
    }

    #[test]
    fn a_provenance_statement_round_trips() {
        let predicate = provenance(&GitHubContext::from_claims(&claims(), None).unwrap());
        let bytes = statement(
            "r/app",
            &digest(),
            SLSA_PROVENANCE_V1_PREDICATE_TYPE,
            &predicate,
        );
        assert_eq!(
            check_statement(&bytes, &digest(), SLSA_PROVENANCE_V1_PREDICATE_TYPE).unwrap(),
            predicate
        );
    }
}
