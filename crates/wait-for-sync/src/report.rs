//! Outputs, the log and the job summary: a timeline per application.

use std::time::Duration;

use hoist_runner::{Outside, Runner};

use crate::watch::AppReport;
use crate::{Settings, Verdict, WaitError};

/// Whether a verdict passes the step, under the policies.
fn passes(verdict: &Verdict, settings: &Settings) -> bool {
    match verdict {
        Verdict::Healthy | Verdict::Suspended(_) => true,
        Verdict::Superseded(_) => !settings.superseded_fails,
        _ => false,
    }
}

/// The worst verdict's status, for the `status` output.
fn overall(reports: &[AppReport]) -> &'static str {
    let rank = |status: &str| {
        [
            "healthy",
            "suspended",
            "superseded",
            "timeout",
            "degraded",
            "failed",
        ]
        .iter()
        .position(|s| *s == status)
        .unwrap_or(0)
    };
    reports
        .iter()
        .map(|r| r.verdict.status())
        .max_by_key(|s| rank(s))
        .unwrap_or("healthy")
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// Logs each application's timeline, sets the outputs and the summary,
/// and fails the step when an application did not pass.
pub(crate) fn finish(
    runner: &mut Runner,
    settings: &Settings,
    reports: &[AppReport],
    elapsed: Duration,
) -> Result<(), WaitError> {
    let mut failures = Vec::new();
    let mut summary = format!("### wait-for-sync: `{}`\n\n", settings.revision);
    for report in reports {
        let verdict = match &report.verdict {
            Verdict::Healthy => "deployed and Healthy".to_owned(),
            Verdict::Superseded(newer) => {
                format!("superseded: {newer} contains it and is deployed")
            }
            Verdict::Suspended(what) => format!("accepted while {what}"),
            Verdict::Degraded(what) | Verdict::Failed(what) => what.clone(),
            Verdict::Timeout(last) => format!(
                "timed out after {}; still waiting for: {last}",
                seconds(elapsed)
            ),
        };
        runner.console().group(
            &format!("{}: {}", report.name, report.verdict.status()),
            |console| {
                for (at, line) in &report.timeline {
                    // Argo CD's operation, health and resource messages:
                    // whoever deploys a workload writes them.
                    console.outside(Outside::new(&format!("+{:>7} {line}", seconds(*at))));
                }
            },
        );
        summary.push_str(&format!(
            "**{}** — {}\n\n| after | state |\n| ---: | --- |\n",
            report.name,
            report.verdict.status()
        ));
        for (at, line) in &report.timeline {
            summary.push_str(&format!(
                "| {} | {} |\n",
                seconds(*at),
                line.lines().next().unwrap_or_default().replace('|', "\\|")
            ));
        }
        summary.push('\n');
        if !passes(&report.verdict, settings) {
            failures.push(format!("{}: {verdict}", report.name));
        } else {
            runner.console().outside(Outside::new(&format!(
                "{}: {verdict} ({}).",
                report.name,
                seconds(elapsed)
            )));
        }
    }
    summary.push_str(&format!(
        "From the start of the wait to the verdict: {}.\n",
        seconds(elapsed)
    ));
    let applications =
        serde_json::Value::Array(reports.iter().map(|r| r.json(&settings.revision)).collect());
    runner.set_output("status", overall(reports))?;
    runner.set_output("revision", &settings.revision)?;
    runner.set_output("duration-seconds", &elapsed.as_secs().to_string())?;
    runner.set_output("applications", &applications.to_string())?;
    runner.summary(&summary)?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(WaitError::NotDeployed(failures.join("\n")))
    }
}
