//! Outputs, log lines and the job summary: what was signed or verified,
//! the `cosign verify` command that checks it, and a Kyverno attestor entry
//! that admits it.

use hoist_cosign::sign::{FormatOutcome, Signed};
use hoist_cosign::store::Written;
use hoist_cosign::verify::{Finding, Location, Report, Tlog};
use hoist_cosign::{Formats, SigningKey};
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
        Written::AlreadyThere => "already there (this key, same annotations)",
    }
}

/// Outputs and summary after signing.
pub fn signed(
    runner: &mut Runner,
    settings: &Settings,
    image: &str,
    digest: &Digest,
    key: &SigningKey,
    signed: &Signed,
) -> Result<(), SignActionError> {
    let pinned = format!("{image}@{digest}");
    runner.set_output("digest", digest.as_str())?;
    let mut rows = String::new();
    if let Some(legacy) = &signed.legacy {
        let reference = format!("{image}:{}", legacy.reference);
        runner.set_output("signature-ref", &reference)?;
        rows.push_str(&row("legacy `.sig`", &reference, legacy));
        runner
            .console()
            .info(&format!("Legacy signature {reference}: {}", state(legacy)));
    }
    if let Some(bundle) = &signed.bundle {
        let reference = format!("{image}@{}", bundle.reference);
        runner.set_output("bundle-ref", &reference)?;
        rows.push_str(&row("bundle v0.3 referrer", &reference, bundle));
        let via = if bundle.via_fallback {
            " (listed in the sha256-<hex> fallback index: the registry has no Referrers API)"
        } else {
            ""
        };
        runner
            .console()
            .info(&format!("Bundle {reference}: {}{via}", state(bundle)));
    }
    if let Some(index) = signed
        .legacy
        .iter()
        .chain(signed.bundle.iter())
        .find_map(|f| f.log_entry.as_ref())
        .map(|e| e.log_index)
    {
        runner.set_output("rekor-log-index", &index.to_string())?;
    }
    let rekor_url = settings
        .rekor
        .as_ref()
        .map(|url| url.as_str().trim_end_matches('/').to_owned());
    let mut verify = "cosign verify --key cosign.pub".to_owned();
    match &rekor_url {
        None => verify.push_str(" --insecure-ignore-tlog=true"),
        Some(url) if url != hoist_cosign::rekor::PUBLIC_REKOR => {
            verify.push_str(&format!(" --rekor-url {url}"));
        }
        Some(_) => {}
    }
    if settings.formats == Formats::Legacy {
        verify.push_str(" --new-bundle-format=false");
    }
    for (k, v) in &settings.annotations {
        verify.push_str(&format!(" -a '{k}={v}'"));
    }
    verify.push_str(&format!(" {pinned}"));
    let public_pem = key.public_key().to_pem();
    let indented: String = public_pem
        .lines()
        .map(|l| format!("              {l}\n"))
        .collect();
    let rekor = match &rekor_url {
        Some(url) => format!("            rekor:\n              url: {url}\n"),
        None => "            rekor:\n              ignoreTlog: true\n".to_owned(),
    };
    let summary = format!(
        "### sign\n\n`{pinned}`\n\n| format | where | |\n|---|---|---|\n{rows}\n\
         Verify with cosign:\n\n```sh\n{verify}\n```\n\n\
         Admit it with Kyverno (`verifyImages[].attestors`):\n\n```yaml\n\
         attestors:\n  - count: 1\n    entries:\n      - keys:\n          publicKeys: |-\n{indented}{rekor}\
         ```\n"
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

/// Outputs and summary after verifying.
pub fn verified(
    runner: &mut Runner,
    image: &str,
    digest: &Digest,
    report: &Report,
) -> Result<(), SignActionError> {
    let formats = report.verified_formats();
    runner.set_output("digest", digest.as_str())?;
    runner.set_output("verified", "true")?;
    runner.set_output("verified-formats", &formats.join(","))?;
    let mut rows = String::new();
    for finding in &report.findings {
        let outcome = match &finding.outcome {
            Ok(tlog) => format!("verified; {}", tlog_text(tlog)),
            Err(why) => format!("rejected: {why}"),
        };
        runner
            .console()
            .info(&format!("{}: {outcome}", finding.location));
        let (format, reference) = match &finding.location {
            Location::Legacy { tag, layer } => ("legacy", format!("{image}:{tag} (layer {layer})")),
            Location::Bundle { referrer } => ("bundle", format!("{image}@{referrer}")),
        };
        rows.push_str(&format!("| {format} | `{reference}` | {outcome} |\n"));
    }
    runner.summary(&format!(
        "### sign: verified\n\n`{image}@{digest}` has {} verified signature(s) ({}).\n\n| format | where | |\n|---|---|---|\n{rows}",
        report.verified().count(),
        formats.join(", ")
    ))?;
    Ok(())
}
