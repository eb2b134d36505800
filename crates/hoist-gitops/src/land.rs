//! Landing a change on a branch that others write too.
//!
//! Each attempt starts from the branch's current tip: read the files, let
//! the caller decide what they should become, commit on that tip, move the
//! branch by compare-and-swap. When someone else landed first, the edit is
//! made again on the fresh files — never a textual rebase — after a
//! full-jitter backoff. A lost race is someone else's progress, so it is
//! retried as long as others keep landing ([`MAX_LOST_RACES`]); errors
//! that may pass are retried up to `max_attempts`; errors that cannot pass
//! (credentials, protected branches, hooks, bad files) end the loop at once.

use std::collections::BTreeMap;

use hoist_http::{Backoff, Clock};

use crate::RepoPath;
use crate::error::StoreError;
use crate::store::{Advance, Identity, NewCommit, Store};

/// The files an attempt starts from.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The commit the branch pointed at.
    pub commit: String,
    /// Each requested file's text; `None` when it does not exist there.
    pub files: BTreeMap<RepoPath, Option<String>>,
}

/// What the caller decided, given a [`Snapshot`].
#[derive(Debug, Clone)]
pub enum Plan {
    /// Nothing to write: every target already holds its value.
    Unchanged,
    /// Nothing to write: the branch holds something newer.
    Superseded,
    /// Write these files in one commit.
    Write {
        /// The changed files with their whole new text.
        files: Vec<(RepoPath, String)>,
        /// The commit message.
        message: String,
        /// The author; `None` for the backend's default.
        author: Option<Identity>,
    },
}

/// How a landing ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The commit is on the branch.
    Landed {
        /// The new commit.
        commit: String,
        /// Attempts used, 1 when nobody else was landing.
        attempts: u32,
    },
    /// Nothing was written; the branch's tip.
    Unchanged {
        /// The tip the files were read at.
        tip: String,
    },
    /// Nothing was written because the branch holds something newer.
    Superseded {
        /// The tip the files were read at.
        tip: String,
    },
}

/// Races a writer may lose before it gives up: each lost race is another
/// writer's commit landing, so a writer loses at most as many as there are
/// writers racing it; 256 is GitHub's largest matrix. The bound holds when
/// something keeps moving the branch for ever.
pub const MAX_LOST_RACES: u32 = 256;

/// What a landing that kept losing races says.
pub const LOST_EVERY_RACE: &str = "another writer moved the branch first, every time";

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LandOptions {
    /// Attempts that end in an error that may pass (the network, a 5xx).
    pub max_attempts: u32,
    /// Races lost to another writer (see [`MAX_LOST_RACES`]).
    pub max_lost_races: u32,
    /// The wait between attempts.
    pub backoff: Backoff,
}

/// Why a landing failed.
#[derive(Debug, thiserror::Error)]
pub enum LandError<E: std::error::Error + 'static> {
    /// The caller's edit failed (a missing key, a bad file).
    #[error(transparent)]
    Plan(E),
    /// Reading or writing the repository failed in a way that cannot pass.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Too many attempts failed transiently, or lost the race to another
    /// writer.
    #[error("gave up after {attempts} attempts: {}", last.as_ref().map_or_else(|| LOST_EVERY_RACE.to_owned(), ToString::to_string))]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// What the last attempt ran into: an error that may pass, or
        /// `None` when other writers kept landing first.
        last: Option<StoreError>,
    },
}

/// Reads `paths` at the branch's current tip.
pub async fn snapshot<S: Store>(store: &mut S, paths: &[RepoPath]) -> Result<Snapshot, StoreError> {
    let commit = store.tip().await?;
    let mut files = BTreeMap::new();
    for path in paths {
        let text = store.read(&commit, path).await?;
        files.insert(path.clone(), text);
    }
    Ok(Snapshot { commit, files })
}

/// Lands the change `plan` describes on the store's branch; see the module
/// documentation.
pub async fn land<S: Store, E: std::error::Error + 'static>(
    store: &mut S,
    paths: &[RepoPath],
    options: &LandOptions,
    clock: &dyn Clock,
    mut plan: impl FnMut(&Snapshot) -> Result<Plan, E>,
) -> Result<Outcome, LandError<E>> {
    let (mut failed, mut lost) = (0, 0);
    let mut attempt = 0;
    loop {
        attempt += 1;
        if attempt > 1 {
            // The ceiling stops growing long before the exponent matters.
            clock
                .sleep(options.backoff.delay((attempt - 1).min(16)))
                .await;
        }
        let last = match try_once(store, paths, &mut plan).await {
            Ok(Some(outcome)) => {
                return Ok(match outcome {
                    Outcome::Landed { commit, .. } => Outcome::Landed {
                        commit,
                        attempts: attempt,
                    },
                    other => other,
                });
            }
            Ok(None) => {
                lost += 1;
                (lost >= options.max_lost_races.max(1)).then_some(None)
            }
            Err(LandError::Store(error)) if error.is_transient() => {
                failed += 1;
                (failed >= options.max_attempts.max(1)).then_some(Some(error))
            }
            Err(error) => return Err(error),
        };
        if let Some(last) = last {
            return Err(LandError::GaveUp {
                attempts: attempt,
                last,
            });
        }
    }
}

/// One attempt; `Ok(None)` when the race was lost.
async fn try_once<S: Store, E: std::error::Error + 'static>(
    store: &mut S,
    paths: &[RepoPath],
    plan: &mut impl FnMut(&Snapshot) -> Result<Plan, E>,
) -> Result<Option<Outcome>, LandError<E>> {
    let snapshot = snapshot(store, paths).await?;
    let (files, message, author) = match plan(&snapshot).map_err(LandError::Plan)? {
        Plan::Unchanged => {
            return Ok(Some(Outcome::Unchanged {
                tip: snapshot.commit,
            }));
        }
        Plan::Superseded => {
            return Ok(Some(Outcome::Superseded {
                tip: snapshot.commit,
            }));
        }
        Plan::Write {
            files,
            message,
            author,
        } => (files, message, author),
    };
    let commit = store
        .commit(&NewCommit {
            parent: &snapshot.commit,
            files: &files,
            message: &message,
            author: author.as_ref(),
        })
        .await?;
    Ok(match store.advance(&snapshot.commit, &commit).await? {
        Advance::Landed => Some(Outcome::Landed {
            commit,
            attempts: 0,
        }),
        Advance::Lost => None,
    })
}
