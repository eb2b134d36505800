//! Waiting on one Argo CD application: events from the stream (polling
//! when the stream is refused or breaks), each state decided, every change
//! recorded on a timeline, until a verdict or the deadline.

use std::time::{Duration, Instant};

use hoist_argocd::{AppRef, Application, ArgoCd, ArgoError, Events};
use hoist_http::Clock;
use serde_json::{Value, json};

use crate::decide::{State, decide, short};
use crate::lineage::Lineage;
use crate::{Verdict, WaitError};

/// How often a broken event stream is opened again before polling only.
const MAX_RECONNECTS: u32 = 3;

/// Where states come from: the event stream while it is open.
struct Feed {
    events: Option<Events>,
    reconnects_left: u32,
}

/// The `suspended` input: what a Suspended app (a paused canary) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSuspended {
    /// Keep waiting until it is promoted (or the deadline).
    Wait,
    /// Accept it: the step passes with status `suspended`.
    Succeed,
    /// Fail the step.
    Fail,
}

/// What to do with the states that are policy, not fact.
#[derive(Debug, Clone)]
pub struct Policies {
    /// What a Suspended app means.
    pub suspended: OnSuspended,
    /// Whether to request a sync for a manual-sync app.
    pub sync: bool,
    /// The refresh to ask for at the start (`normal`, `hard`), if any.
    pub refresh: Option<String>,
}

/// How one application's wait ended.
#[derive(Debug, Clone)]
pub struct AppReport {
    /// The application.
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Each state change: time since the start, and what it was.
    pub timeline: Vec<(Duration, String)>,
    /// The last state seen.
    pub last: Option<Application>,
}

impl AppReport {
    /// The `applications` output entry.
    pub fn json(&self, revision: &str) -> Value {
        let app = self.last.as_ref();
        json!({
            "name": self.name,
            "status": self.verdict.status(),
            "revision": revision,
            "sync": app.map(|a| a.sync_status()),
            "health": app.map(|a| a.health()),
            "operation": app.and_then(|a| a.operation_phase()),
            "images": app.map(|a| a.images()).unwrap_or_default(),
        })
    }
}

/// Everything one wait needs.
pub struct Waiter<'a> {
    /// The Argo CD client.
    pub argocd: &'a ArgoCd,
    /// Whether a newer commit contains ours: superseded, or not yet synced.
    pub lineage: &'a Lineage,
    /// The revision waited for.
    pub revision: &'a str,
    /// The policies.
    pub policies: &'a Policies,
    /// The wait between polls.
    pub poll_interval: Duration,
    /// The clock polls wait on.
    pub clock: &'a dyn Clock,
    /// When the wait started.
    pub started: Instant,
    /// When to give up.
    pub deadline: Instant,
}

impl Waiter<'_> {
    /// Waits for `app`. Errors that end the wait at once (401, 403, 404)
    /// are returned; everything else is a verdict.
    pub async fn wait(&self, app: &AppRef) -> Result<AppReport, WaitError> {
        let mut report = AppReport {
            name: app.name.clone(),
            verdict: Verdict::Timeout(String::new()),
            timeline: Vec::new(),
            last: None,
        };
        let mut current = self
            .argocd
            .application(app, self.policies.refresh.as_deref())
            .await
            .map_err(|e| fatal(app, e))?;
        let mut feed = Feed {
            events: self.argocd.watch(app).await.ok(),
            reconnects_left: MAX_RECONNECTS,
        };
        let mut sync_requested = false;
        loop {
            let mut state = decide(&current, self.revision);
            let mut line = state.describe();
            if let State::AtOther(deployed) = &state {
                let contains = self.lineage.contains(deployed, self.revision).await?;
                if contains == Some(true) {
                    report.last = Some(current);
                    report.verdict = Verdict::Superseded(deployed.clone());
                    report.timeline.push((
                        self.started.elapsed(),
                        format!(
                            "Argo CD runs {}, which contains {}",
                            short(deployed),
                            short(self.revision)
                        ),
                    ));
                    return Ok(report);
                }
                line = format!(
                    "Argo CD runs {}, not {} yet",
                    short(deployed),
                    short(self.revision)
                );
                if let Some(why) = self.lineage.cannot_tell() {
                    line = format!(
                        "{line}; cannot tell whether {} contains it: {why}",
                        short(deployed)
                    );
                }
            }
            if let State::OutOfSync { automated } = state {
                line = match self
                    .sync_or_explain(app, automated, &mut sync_requested)
                    .await
                {
                    Ok(line) => line,
                    // The deadline passed while explaining: the verdict is
                    // the timeout, with what was known last.
                    Err(_) if Instant::now() >= self.deadline => {
                        let last = report.timeline.last().map_or_else(
                            || format!("OutOfSync at {}", short(self.revision)),
                            |(_, line)| line.clone(),
                        );
                        report.verdict = Verdict::Timeout(last);
                        return Ok(report);
                    }
                    Err(error) => return Err(error),
                };
            }
            if let State::Suspended(message) = &state {
                let detail = self.rollout(app, &current).await;
                if let Some(aborted) = detail.as_ref().and_then(|d| d.aborted.clone()) {
                    state = State::Unhealthy(aborted);
                } else {
                    line = format!(
                        "Suspended: {}",
                        detail.map_or_else(|| message.clone(), |d| d.progress)
                    );
                }
            }
            if matches!(state, State::Unhealthy(_))
                && let Some(detail) = self.rollout(app, &current).await
                && let Some(aborted) = detail.aborted
            {
                state = State::Unhealthy(aborted);
            }
            if report.timeline.last().is_none_or(|(_, last)| *last != line) {
                report.timeline.push((self.started.elapsed(), line.clone()));
            }
            report.last = Some(current.clone());
            if let Some(verdict) = self.verdict(&state, &line) {
                report.verdict = verdict;
                return Ok(report);
            }
            if Instant::now() >= self.deadline {
                report.verdict = Verdict::Timeout(line);
                return Ok(report);
            }
            // Sync windows open and close without an application event, so
            // an app held out of sync is looked at again every poll.
            let patient = !matches!(state, State::OutOfSync { .. });
            current = match self.next(app, &mut feed, patient).await {
                Ok(next) => next,
                Err(error) if error.is_transient() => continue,
                Err(error) => return Err(fatal(app, error)),
            };
        }
    }

    /// The verdict a state gives under the policies, `None` to go on.
    fn verdict(&self, state: &State, line: &str) -> Option<Verdict> {
        match state {
            State::Healthy => Some(Verdict::Healthy),
            State::SyncFailed(message) => Some(Verdict::Failed(message.clone())),
            State::Unhealthy(message) => Some(Verdict::Degraded(message.clone())),
            State::Suspended(_) => match self.policies.suspended {
                OnSuspended::Succeed => Some(Verdict::Suspended(line.to_owned())),
                OnSuspended::Fail => Some(Verdict::Failed(format!("the application is {line}"))),
                OnSuspended::Wait => None,
            },
            _ => None,
        }
    }

    /// The next state: from the stream while it lasts (waiting on it until
    /// the deadline, or one poll interval unless `patient`), else a poll.
    /// A stream that ends or breaks is opened again, a few times, after a
    /// poll has caught up with what it missed.
    async fn next(
        &self,
        app: &AppRef,
        feed: &mut Feed,
        patient: bool,
    ) -> Result<Application, ArgoError> {
        if let Some(stream) = &mut feed.events {
            let mut wait = self.deadline.saturating_duration_since(Instant::now());
            if !patient {
                wait = wait.min(self.poll_interval);
            }
            match tokio::time::timeout(wait, stream.next()).await {
                Ok(Some(Ok(next))) => return Ok(next),
                Ok(_) => feed.events = None, // ended or broke
                Err(_) => {}                 // no news in time: poll for the state
            }
        } else {
            self.clock.sleep(self.poll_interval).await;
        }
        let current = self.argocd.application(app, None).await?;
        if feed.events.is_none() && feed.reconnects_left > 0 {
            feed.reconnects_left -= 1;
            feed.events = self.argocd.watch(app).await.ok();
        }
        Ok(current)
    }

    /// For an app out of sync at our revision: say when a sync window
    /// holds it; for a manual-sync app, request the sync once (with
    /// `sync: true`); and say why it waits.
    async fn sync_or_explain(
        &self,
        app: &AppRef,
        automated: bool,
        requested: &mut bool,
    ) -> Result<String, WaitError> {
        let (can_sync, windows) = self
            .argocd
            .sync_windows(app)
            .await
            .map_err(|e| fatal(app, e))?;
        if !can_sync {
            return Ok(format!(
                "OutOfSync; blocked by a sync window ({})",
                windows.join(", ")
            ));
        }
        if automated {
            return Ok(format!(
                "OutOfSync at {}; waiting for the automated sync",
                short(self.revision)
            ));
        }
        if !self.policies.sync {
            return Ok(format!(
                "OutOfSync at {}; waiting for someone to sync it (or set `sync: true`)",
                short(self.revision)
            ));
        }
        if !*requested {
            match self.argocd.sync(app, self.revision).await {
                Ok(()) => *requested = true,
                // Another operation started first: wait for it, then ask again.
                Err(ArgoError::Api { status: 400, .. }) => {}
                Err(error) => return Err(fatal(app, error)),
            }
        }
        Ok(format!("sync of {} requested", short(self.revision)))
    }

    /// The Argo Rollout behind a Suspended or Degraded app, read live.
    async fn rollout(&self, app: &AppRef, current: &Application) -> Option<RolloutDetail> {
        let resource = current.0["status"]["resources"]
            .as_array()?
            .iter()
            .find(|r| r["kind"] == "Rollout" && r["group"] == "argoproj.io")?;
        let text = |key: &str| resource[key].as_str().unwrap_or_default();
        let live = self
            .argocd
            .resource(
                app,
                "argoproj.io",
                text("version"),
                "Rollout",
                text("namespace"),
                text("name"),
            )
            .await
            .ok()?;
        Some(RolloutDetail::read(&live))
    }
}

/// What a Rollout's status says about the canary.
struct RolloutDetail {
    progress: String,
    aborted: Option<String>,
}

impl RolloutDetail {
    fn read(rollout: &Value) -> Self {
        let status = &rollout["status"];
        let steps = rollout["spec"]["strategy"]["canary"]["steps"]
            .as_array()
            .map_or(0, Vec::len);
        let step = status["currentStepIndex"].as_u64().unwrap_or(0);
        let weight = status["canary"]["weights"]["canary"]["weight"]
            .as_u64()
            .unwrap_or(0);
        let mut progress = format!(
            "Rollout {} at canary step {step}/{steps}, weight {weight}%",
            rollout["metadata"]["name"].as_str().unwrap_or("?")
        );
        if let Some(analysis) = status["canary"]["currentStepAnalysisRunStatus"]["status"].as_str()
        {
            progress.push_str(&format!(", analysis {analysis}"));
        }
        let aborted = (status["abort"].as_bool() == Some(true)).then(|| {
            format!(
                "the canary was aborted: {}",
                status["message"].as_str().unwrap_or("(no message)")
            )
        });
        Self { progress, aborted }
    }
}

fn fatal(app: &AppRef, error: ArgoError) -> WaitError {
    WaitError::Argo {
        application: app.name.clone(),
        source: error,
    }
}
