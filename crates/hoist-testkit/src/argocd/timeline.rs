//! Timelines: an app's successive states, and what moves it from one to
//! the next — reads, a refresh, a sync request, a read of its Rollout, or
//! the test — never the wall clock.

use serde_json::Value;

use super::model::{App, Time};

/// Seconds the builder's clock moves for each new state.
const STEP_SECONDS: Time = 5;

/// What keeps an app in a state until it moves on to the next one.
///
/// Reads are `GET`s of the app and events a stream delivers. A stream whose
/// app has not changed "looks" again (no event is sent); looks count as
/// reads only for [`Hold::Reads`] and [`Hold::Refresh`], so a client that
/// only listens sees those states pass, but waits at the others until it
/// (or the test) acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Moves on after this many reads.
    Reads(usize),
    /// Moves on at a `GET …?refresh=normal|hard` (which then answers with the
    /// next state, as Argo CD answers after the refresh), or after
    /// `or_reads` reads when given.
    Refresh {
        /// Reads that do as well as a refresh.
        or_reads: Option<usize>,
    },
    /// Moves on when a sync is POSTed (to `revision`, or to any revision
    /// when `None`; an empty revision means the target and matches); the
    /// POST answers with the next state.
    Sync {
        /// The revision the sync must name.
        revision: Option<String>,
    },
    /// Moves on once the app's Rollout is read through `…/resource`, or
    /// after `or_reads` reads (`GET`s and delivered events, not looks).
    RolloutRead {
        /// Reads that do as well as reading the Rollout.
        or_reads: Option<usize>,
    },
    /// Moves on only when the test calls `advance`.
    Manual,
}

/// How a state was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// A `GET` of the app.
    Get,
    /// An event a stream delivered.
    Event,
    /// A stream looking again at an unchanged app.
    Look,
}

impl Hold {
    /// The reads that move the app on, if reads can.
    fn reads_needed(&self, read: Read) -> Option<usize> {
        match self {
            Self::Reads(n) => Some(*n),
            Self::Refresh { or_reads } => *or_reads,
            Self::RolloutRead { or_reads } if read != Read::Look => *or_reads,
            _ => None,
        }
    }
}

/// An app's states in order, built on a clock that moves five seconds per
/// state. Each state keeps the app until its [`Hold`] is met (by default,
/// one read — see [`Timeline::reads_per_step`]); the last state stays.
#[derive(Debug, Clone)]
pub struct Timeline {
    states: Vec<(App, Option<Hold>)>,
    reads_per_step: usize,
    start: Time,
    clock: Time,
}

impl Timeline {
    /// A timeline that starts with `app`, its clock at the current time.
    pub fn new(app: App) -> Self {
        Self::at(app, i64::try_from(crate::github::unix_now()).unwrap_or(0))
    }

    /// A timeline that starts with `app`, its clock at `start`.
    pub fn at(app: App, start: Time) -> Self {
        Self {
            states: vec![(app, None)],
            reads_per_step: 1,
            start,
            clock: start,
        }
    }

    /// When the first state is.
    pub fn start(&self) -> Time {
        self.start
    }

    /// The clock: when the last state is.
    pub fn now(&self) -> Time {
        self.clock
    }

    /// The last state so far.
    pub fn last(&self) -> &App {
        &self.states.last().expect("a timeline has a state").0
    }

    /// Every state so far, in order.
    pub fn states(&self) -> Vec<App> {
        self.states.iter().map(|(app, _)| app.clone()).collect()
    }

    /// Sets what keeps the app in the last state so far.
    pub fn hold(mut self, hold: Hold) -> Self {
        self.states.last_mut().expect("a state").1 = Some(hold);
        self
    }

    /// Adds a state: the last one, changed by `change`, which gets the
    /// clock (moved on five seconds) to stamp times with.
    pub fn then(mut self, change: impl FnOnce(&mut App, Time)) -> Self {
        self.clock += STEP_SECONDS;
        let mut app = self.last().clone();
        change(&mut app, self.clock);
        self.states.push((app, None));
        self
    }

    /// Moves the clock on without a new state.
    pub fn wait(mut self, seconds: Time) -> Self {
        self.clock += seconds;
        self
    }

    /// How many reads move the app on from a state with no [`Hold`] set.
    pub fn reads_per_step(mut self, reads: usize) -> Self {
        self.reads_per_step = reads.max(1);
        self
    }

    /// Makes every [`Hold::Refresh`] wait for a refresh, never for reads:
    /// the app stays stale until the client asks for a refresh.
    pub fn require_refresh(mut self) -> Self {
        for (_, hold) in &mut self.states {
            if let Some(Hold::Refresh { or_reads }) = hold {
                *or_reads = None;
            }
        }
        self
    }

    /// Renames the app in every state.
    pub(super) fn named(mut self, name: &str) -> Self {
        for (app, _) in &mut self.states {
            name.clone_into(&mut app.name);
        }
        self
    }
}

/// A timeline being played.
pub(super) struct Live {
    states: Vec<(App, Hold)>,
    index: usize,
    reads: usize,
    /// The `refresh` values asked for.
    pub(super) refreshes: Vec<String>,
    resource_version: u64,
    json: Value,
    /// When (wall clock, for reports only) the app reached its last state.
    pub(super) settled_at: Option<std::time::Instant>,
}

impl Live {
    pub(super) fn new(timeline: Timeline, resource_version: u64) -> Self {
        let per_step = timeline.reads_per_step;
        let states: Vec<(App, Hold)> = timeline
            .states
            .into_iter()
            .map(|(app, hold)| (app, hold.unwrap_or(Hold::Reads(per_step))))
            .collect();
        let json = states[0].0.to_json(resource_version);
        let settled_at = (states.len() == 1).then(std::time::Instant::now);
        Self {
            states,
            index: 0,
            reads: 0,
            refreshes: Vec::new(),
            resource_version,
            json,
            settled_at,
        }
    }

    /// The resource version of the state shown now.
    pub(super) fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// The current state.
    pub(super) fn app(&self) -> &App {
        &self.states[self.index].0
    }

    /// The current state as the API sends it.
    pub(super) fn json(&self) -> &Value {
        &self.json
    }

    /// Which state the app is in (0 is the first).
    pub(super) fn position(&self) -> usize {
        self.index
    }

    fn hold(&self) -> &Hold {
        &self.states[self.index].1
    }

    /// Whether the app is in its last state: nothing more will happen to
    /// it by itself (no operation runs, no reconcile is due).
    pub(super) fn settled(&self) -> bool {
        self.index + 1 >= self.states.len()
    }

    /// Counts a read; moves on if that meets the hold. True if it moved.
    pub(super) fn read(&mut self, read: Read) -> bool {
        let Some(needed) = self.hold().reads_needed(read) else {
            return false;
        };
        self.reads += 1;
        self.reads >= needed && self.advance()
    }

    /// A stream looks again at an unchanged app: if looks count for its
    /// hold, they go on until the app moves on. True if it moved.
    pub(super) fn look(&mut self) -> bool {
        while self.index + 1 < self.states.len() && self.hold().reads_needed(Read::Look).is_some() {
            if self.read(Read::Look) {
                return true;
            }
        }
        false
    }

    /// A refresh was asked for; moves on if the state waits for one.
    pub(super) fn refresh(&mut self, kind: &str) -> bool {
        self.refreshes.push(kind.to_owned());
        matches!(self.hold(), Hold::Refresh { .. }) && self.advance()
    }

    /// The Rollout was read; moves on if the state waits for that.
    pub(super) fn rollout_read(&mut self) -> bool {
        matches!(self.hold(), Hold::RolloutRead { .. }) && self.advance()
    }

    /// A sync to `revision` was POSTed; moves on if the state waits for it.
    pub(super) fn sync(&mut self, revision: &str) -> bool {
        let matches = match self.hold() {
            Hold::Sync { revision: None } => true,
            Hold::Sync {
                revision: Some(wanted),
            } => revision.is_empty() || revision == wanted,
            _ => false,
        };
        matches && self.advance()
    }

    /// Moves to the next state, if there is one; the resource version moves
    /// when the Application changed.
    pub(super) fn advance(&mut self) -> bool {
        if self.index + 1 >= self.states.len() {
            return false;
        }
        self.index += 1;
        self.reads = 0;
        if self.settled() {
            self.settled_at = Some(std::time::Instant::now());
        }
        let json = self.app().to_json(self.resource_version);
        if json != self.json {
            self.resource_version += 1;
            self.json = self.app().to_json(self.resource_version);
        }
        true
    }
}
