//! Whether a newer commit contains ours: what tells "superseded" from "not
//! deployed yet". The question goes to `hoist_gitops::History` (GitHub's
//! compare API, or git itself for any other server), the one source of
//! that contract; when nothing can answer, the wait says which input
//! would let it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hoist_gitops::{History, StoreError};

use crate::WaitError;

/// How a wait tells whether a newer commit contains ours.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per run
pub enum Lineage {
    /// The repository answers; each answer is kept (commits do not change).
    Known {
        /// Where the question goes.
        history: History,
        /// Answers so far, by the newer commit.
        answers: Mutex<BTreeMap<String, bool>>,
    },
    /// Nothing can answer; says what would fix that.
    Unknown(String),
}

impl Lineage {
    /// A lineage asking `history`.
    pub fn new(history: History) -> Self {
        Self::Known {
            history,
            answers: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether `newer` contains `ours`, `None` when this cannot be told. A
    /// commit the server does not have contains nothing.
    pub async fn contains(&self, newer: &str, ours: &str) -> Result<Option<bool>, WaitError> {
        let Self::Known { history, answers } = self else {
            return Ok(None);
        };
        let key = newer.to_ascii_lowercase();
        if let Some(known) = answers.lock().ok().and_then(|a| a.get(&key).copied()) {
            return Ok(Some(known));
        }
        let answer = match history.contains(newer, ours).await {
            Ok(answer) => answer,
            Err(StoreError::CommitMissing(_)) => false,
            Err(source) => return Err(WaitError::Ancestry(source)),
        };
        if let Ok(mut answers) = answers.lock() {
            answers.insert(key, answer);
        }
        Ok(Some(answer))
    }

    /// Why this lineage cannot tell, if it cannot.
    pub fn cannot_tell(&self) -> Option<&str> {
        match self {
            Self::Known { .. } => None,
            Self::Unknown(why) => Some(why),
        }
    }
}
