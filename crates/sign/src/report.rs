//! Outputs, log lines and the job summary: what was signed or verified,
//! the `cosign verify` command that checks it, and a Kyverno attestor entry
//! that admits it.

use hoist_cosign::Formats;
use hoist_cosign::attest;
use hoist_cosign::sign::{FormatOutcome, Signed};
use hoist_cosign::signer::Signer;
use hoist_cosign::store::Written;
use hoist_cosign::verify::{Finding, Location, Report, Tlog};
use hoist_oci::Digest;
use hoist_runner::Runner;

use crate::{Settings, SignActionError};

/// Now, for the referrer's creation annotation.
pub fn now_rfc3339() -> String {
    hoist_runner::values::now_rfc3339()
}

/// The findings, one per line, for an error message.
pub fn reasons(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return ": no signatures were found".to_owned();
    }
    let lines: Vec<String> = findings
        .iter()
        .map(|f| match &f.outcome {
            Ok(_) => format!("{}: verified", f.location),
            Err(why) => format!("{}: {why}", f.location),
        })
        .collect();
    format!(": {}", lines.join("; "))
}

fn state(outcome: &FormatOutcome) -> &'static str {
    match outcome.written {
        Written::Added => "added",
        Written::AlreadyThere => "already there (this key, same payload)",
    }
}

/// cosign's `--type` name for a predicate type.
fn cosign_type(predicate_type: &str) -> &str {
    match predicate_type {
        attest::SPDX_PREDICATE_TYPE => "spdxjson",
        attest::CYCLONEDX_PREDICATE_TYPE => "cyclonedx",
        attest::SLSA_PROVENANCE_V1_PREDICATE_TYPE => "slsaprovenance1",
        other => other,
    }
}

/// Outputs and summary after signing.
pub fn signed(
    runner: &mut Runner,
    settings: &Settings,
    image: &str,
    digest: &Digest,
    signer: &Signer,
    signed: &Signed,
) -> Result<(), SignActionError> {
    let pinned = format!("{image}@{digest}");
    runner.set_output("digest", digest.as_str())?;
    let mut rows = String::new();
    let mut show = |runner: &mut Runner, what: &str, outcome: &FormatOutcome| {
        let reference = match outcome.reference.starts_with("sha256:") {
            true => format!("{image}@{}", outcome.reference),
            false => format!("{image}:{}", outcome.reference),
        };
        rows.push_str(&row(what, &reference, outcome));
        let via = if outcome.via_fallback {
            " (listed in the sha256-<hex> fallback index: the registry has no Referrers API)"
        } else {
            ""
        };
        runner
            .console()
            .info(&format!("{what} {reference}: {}{via}", state(outcome)));
        reference
    };
    if let Some(legacy) = &signed.legacy {
        let reference = show(runner, "legacy `.sig`", legacy);
        runner.set_output("signature-ref", &reference)?;
    }
    if let Some(bundle) = &signed.bundle {
        let reference = show(runner, "bundle v0.3 referrer", bundle);
        runner.set_output("bundle-ref", &reference)?;
    }
    let mut attestation_refs = Vec::new();
    for attestation in &signed.attestations {
        let kind = cosign_type(&attestation.predicate_type);
        for (format, outcome) in [
            ("`.att`", &attestation.legacy),
            ("bundle", &attestation.bundle),
        ] {
            if let Some(outcome) = outcome {
                let reference = show(runner, &format!("{kind} attestation ({format})"), outcome);
                attestation_refs.push(format!("{} {reference}", attestation.predicate_type));
            }
        }
    }
    if !attestation_refs.is_empty() {
        runner.set_output("attestation-refs", &attestation_refs.join("\n"))?;
    }
    if let Some(entry) = signed.log_entries().next() {
        runner.set_output("rekor-log-index", &entry.log_index.to_string())?;
    }
    let rekor_url = settings
        .rekor
        .as_ref()
        .map(|url| url.as_str().trim_end_matches('/').to_owned());
    let mut flags = String::new();
    let attestor = match signer.certified() {
        Some(certified) => {
            let (identity, issuer) = (certified.identity(), certified.issuer());
            runner.set_output("certificate-identity", &identity)?;
            flags.push_str(&format!(
                " --certificate-identity '{identity}' --certificate-oidc-issuer '{issuer}'"
            ));
            // A reusable workflow signs as the called workflow for every
            // caller: the command and the attestor pin the caller too.
            let caller = reusable_caller(certified.leaf(), &identity);
            if let Some(repository) = &caller {
                flags.push_str(&format!(
                    " --certificate-github-workflow-repository '{repository}'"
                ));
            }
            if settings.trusted_root.is_some() {
                flags.push_str(" --trusted-root trusted_root.json");
            }
            let extensions = match &caller {
                Some(repository) => format!(
                    "          additionalExtensions:\n            githubWorkflowRepository: '{repository}'\n"
                ),
                None => String::new(),
            };
            format!(
                "      - keyless:\n          subject: '{identity}'\n          issuer: '{issuer}'\n{extensions}"
            )
        }
        None => {
            flags.push_str(" --key cosign.pub");
            let indented: String = signer
                .public_key()
                .to_pem()
                .lines()
                .map(|l| format!("              {l}\n"))
                .collect();
            format!("      - keys:\n          publicKeys: |-\n{indented}")
        }
    };
    match &rekor_url {
        None => flags.push_str(" --insecure-ignore-tlog=true"),
        Some(url) if url != hoist_cosign::rekor::PUBLIC_REKOR => {
            flags.push_str(&format!(" --rekor-url {url}"));
        }
        Some(_) => {}
    }
    if settings.formats == Formats::Legacy {
        flags.push_str(" --new-bundle-format=false");
    }
    let mut verify = format!("cosign verify{flags}");
    for (k, v) in &settings.annotations {
        verify.push_str(&format!(" -a '{k}={v}'"));
    }
    verify.push_str(&format!(" {pinned}"));
    for attestation in &signed.attestations {
        let kind = cosign_type(&attestation.predicate_type);
        verify.push_str(&format!(
            "\ncosign verify-attestation --type {kind}{flags} {pinned}"
        ));
    }
    let rekor = match &rekor_url {
        Some(url) => format!("          rekor:\n            url: {url}\n"),
        None => "          rekor:\n            ignoreTlog: true\n".to_owned(),
    };
    let summary = format!(
        "### sign\n\n`{pinned}`\n\n| what | where | |\n|---|---|---|\n{rows}\n\
         Verify with cosign:\n\n```sh\n{verify}\n```\n\n\
         Admit it with Kyverno (`verifyImages[].attestors`):\n\n```yaml\n\
         attestors:\n  - count: 1\n    entries:\n{attestor}{rekor}```\n"
    );
    runner.summary(&summary)?;
    Ok(())
}

fn row(format: &str, reference: &str, outcome: &FormatOutcome) -> String {
    let logged = outcome
        .log_entry
        .as_ref()
        .map(|e| format!(", Rekor log index {}", e.log_index))
        .unwrap_or_default();
    format!(
        "| {format} | `{reference}` | {}{logged} |\n",
        state(outcome)
    )
}

fn tlog_text(tlog: &Tlog) -> String {
    match tlog {
        Tlog::Verified(index) => format!("Rekor entry {index} verified offline"),
        Tlog::NotChecked(index) => {
            format!("Rekor entry {index} present, not checked (no rekor-public-key)")
        }
        Tlog::Absent => "not in a transparency log".to_owned(),
    }
}

/// Outputs and summary after verifying: the signatures, then each
/// attestation type required.
pub fn verified(
    runner: &mut Runner,
    image: &str,
    digest: &Digest,
    report: &Report,
    attested: &[(&str, Report)],
) -> Result<(), SignActionError> {
    let formats = report.verified_formats();
    runner.set_output("digest", digest.as_str())?;
    runner.set_output("verified", "true")?;
    runner.set_output("verified-formats", &formats.join(","))?;
    let mut rows = String::new();
    let findings = report.findings.iter().map(|f| ("signature", f)).chain(
        attested
            .iter()
            .flat_map(|(kind, r)| r.findings.iter().map(|f| (cosign_type(kind), f))),
    );
    for (what, finding) in findings {
        let outcome = match &finding.outcome {
            Ok(tlog) => format!("verified; {}", tlog_text(tlog)),
            Err(why) => format!("rejected: {why}"),
        };
        runner
            .console()
            .info(&format!("{what}, {}: {outcome}", finding.location));
        let (format, reference) = match &finding.location {
            Location::Legacy { tag, layer } => ("legacy", format!("{image}:{tag} (layer {layer})")),
            Location::Bundle { referrer } => ("bundle", format!("{image}@{referrer}")),
        };
        rows.push_str(&format!(
            "| {what} | {format} | `{reference}` | {outcome} |\n"
        ));
    }
    runner.summary(&format!(
        "### sign: verified\n\n`{image}@{digest}` has {} verified signature(s) ({}).\n\n| what | format | where | |\n|---|---|---|---|\n{rows}",
        report.verified().count(),
        formats.join(", ")
    ))?;
    Ok(())
}

/// The calling repository (`owner/name`) when `leaf` was issued to a
/// reusable workflow: its build config (`.18`, the top-level workflow) is
/// not its identity (the called workflow). `None` otherwise.
fn reusable_caller(
    leaf: &hoist_cosign::certificate::Certificate,
    identity: &str,
) -> Option<String> {
    let config = leaf.fulcio_extension(18)?;
    if config == identity {
        return None;
    }
    leaf.fulcio_extension(5).or_else(|| {
        let url = leaf.fulcio_extension(12)?;
        let rest = url.strip_prefix("https://")?;
        rest.split_once('/').map(|(_, path)| path.to_owned())
    })
}
