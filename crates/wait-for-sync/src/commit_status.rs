//! The commit-status backend: Flux's notification-controller (or Argo CD
//! notifications) posts a status on the GitOps commit it applied. Absence
//! and `pending` mean "not yet"; `success` is done; `failure` and `error`
//! fail with the description. Flux posts only on the revision it applied,
//! so when a later commit on the branch gets a success and contains ours,
//! ours was superseded.

use std::time::{Duration, Instant};

use hoist_http::Clock;

use crate::github::{GitHub, Status};
use crate::lineage::Lineage;
use crate::watch::AppReport;
use crate::{Verdict, WaitError};

/// Whether `context` matches `pattern`, where a trailing `*` matches any
/// suffix (`kustomization/*`).
pub fn context_matches(pattern: &str, context: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => context.starts_with(prefix),
        None => context == pattern,
    }
}

/// The latest status of each matching context (the list is newest first).
fn latest<'a>(statuses: &'a [Status], pattern: &str) -> Vec<&'a Status> {
    let mut seen = Vec::new();
    let mut latest = Vec::new();
    for status in statuses
        .iter()
        .filter(|s| context_matches(pattern, &s.context))
    {
        if !seen.contains(&status.context.as_str()) {
            seen.push(status.context.as_str());
            latest.push(status);
        }
    }
    latest
}

/// Everything the commit-status wait needs.
pub struct StatusWaiter<'a> {
    /// The GitOps repository.
    pub github: &'a GitHub,
    /// Whether the branch's head contains ours.
    pub lineage: &'a Lineage,
    /// The revision waited for.
    pub revision: &'a str,
    /// The contexts that count.
    pub context: &'a str,
    /// The branch, for the superseded check.
    pub branch: &'a str,
    /// The wait between polls.
    pub poll_interval: Duration,
    /// The clock polls wait on.
    pub clock: &'a dyn Clock,
    /// When the wait started.
    pub started: Instant,
    /// When to give up.
    pub deadline: Instant,
}

impl StatusWaiter<'_> {
    /// Polls until a verdict or the deadline.
    pub async fn wait(&self) -> Result<AppReport, WaitError> {
        let mut report = AppReport {
            name: self.context.to_owned(),
            verdict: Verdict::Timeout(String::new()),
            timeline: Vec::new(),
            last: None,
        };
        loop {
            let statuses = self.github.statuses(self.revision).await?;
            let latest = latest(&statuses, self.context);
            let line = if let Some(failed) = latest
                .iter()
                .find(|s| matches!(s.state.as_str(), "failure" | "error"))
            {
                report.verdict = Verdict::Failed(format!(
                    "{} reported {}: {}",
                    failed.context, failed.state, failed.description
                ));
                Some(format!("{} {}", failed.context, failed.state))
            } else if !latest.is_empty() && latest.iter().all(|s| s.state == "success") {
                report.verdict = Verdict::Healthy;
                Some(
                    latest
                        .iter()
                        .map(|s| format!("{}: {}", s.context, s.description))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            } else if let Some(newer) = self.superseded_by().await? {
                report.verdict = Verdict::Superseded(newer.clone());
                Some(format!(
                    "a later commit {} was applied",
                    crate::decide::short(&newer)
                ))
            } else {
                None
            };
            let waiting = match latest.first() {
                Some(status) => format!(
                    "{} {}: {}",
                    status.context, status.state, status.description
                ),
                None => format!(
                    "no `{}` status on {} yet",
                    self.context,
                    crate::decide::short(self.revision)
                ),
            };
            let line = line.unwrap_or(waiting);
            if report.timeline.last().is_none_or(|(_, last)| *last != line) {
                report.timeline.push((self.started.elapsed(), line.clone()));
            }
            if !matches!(report.verdict, Verdict::Timeout(_)) {
                return Ok(report);
            }
            if Instant::now() >= self.deadline {
                report.verdict = Verdict::Timeout(line);
                return Ok(report);
            }
            self.clock.sleep(self.poll_interval).await;
        }
    }

    /// The branch's head, when it is not ours, has a success on a
    /// matching context, and contains ours.
    async fn superseded_by(&self) -> Result<Option<String>, WaitError> {
        let Some(head) = self.github.branch_head(self.branch).await? else {
            return Ok(None);
        };
        if head.eq_ignore_ascii_case(self.revision) {
            return Ok(None);
        }
        let statuses = self.github.statuses(&head).await?;
        let applied = latest(&statuses, self.context)
            .iter()
            .any(|s| s.state == "success");
        let contains = applied && self.lineage.contains(&head, self.revision).await? == Some(true);
        Ok(contains.then_some(head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_match_by_prefix_with_a_star() {
        assert!(context_matches(
            "kustomization/*",
            "kustomization/apps/0c9c2e41"
        ));
        assert!(!context_matches(
            "kustomization/*",
            "continuous-delivery/pay"
        ));
        assert!(context_matches(
            "continuous-delivery/pay",
            "continuous-delivery/pay"
        ));
    }

    #[test]
    fn only_the_latest_status_of_each_context_counts() {
        let status = |state: &str, context: &str| Status {
            state: state.into(),
            context: context.into(),
            description: String::new(),
        };
        let list = [
            status("success", "kustomization/a"),
            status("failure", "kustomization/a"),
            status("pending", "kustomization/b"),
        ];
        let latest = latest(&list, "kustomization/*");
        assert_eq!(latest.len(), 2);
        assert_eq!(latest[0].state, "success");
    }
}
