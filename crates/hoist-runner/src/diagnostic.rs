//! How a failure is explained: the error, its chain of causes, and a hint.

use std::error::Error;

/// An error that can say what the user should change.
///
/// Every action's top-level error implements this; the runner renders it as
/// one `::error::` annotation: the message, each `Caused by:` in the chain,
/// then the hint.
pub trait Diagnostic: Error + 'static {
    /// What to change so the next run works.
    fn hint(&self) -> Option<String> {
        None
    }

    /// Where in the user's files the fault is, when it is in one.
    fn location(&self) -> Option<Location> {
        None
    }
}

/// A place in a file of the user's repository, for an annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, relative to the repository root.
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
}

/// The error's message followed by `Caused by:` lines for its sources and a
/// `Hint:` line.
pub fn render(error: &dyn Diagnostic) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // thiserror's `#[error(transparent)]` and hand-written messages that
        // already embed the cause would print the same words twice.
        if !text.contains(&cause_text) {
            text.push_str("\nCaused by: ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    if let Some(hint) = error.hint() {
        text.push_str("\nHint: ");
        text.push_str(&hint);
    }
    text
}

/// The error and its causes on one line, `: `-joined (a cause whose words
/// the text already holds is not repeated): for a warning or a debug line,
/// where an error is reported but does not end the step.
pub fn one_line(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("could not read the profile")]
    struct Outer(#[source] std::io::Error);

    impl Diagnostic for Outer {
        fn hint(&self) -> Option<String> {
            Some("check the path".into())
        }
    }

    #[test]
    fn render_chains_causes_and_ends_with_the_hint() {
        let error = Outer(std::io::Error::other("permission denied"));
        assert_eq!(
            render(&error),
            "could not read the profile\nCaused by: permission denied\nHint: check the path"
        );
    }
}
