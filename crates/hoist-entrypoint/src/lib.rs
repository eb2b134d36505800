//! The container action's entrypoint. The image holds the six action
//! binaries side by side; `hoist` picks one by the `command` input
//! (`INPUT_COMMAND`, as the runner passes a Docker action's inputs) or its
//! first argument, and replaces itself with it. The chosen binary reads its
//! own `INPUT_*` variables, so every other input passes through untouched.

use std::path::{Path, PathBuf};

/// The actions the image holds, which `command` may name.
pub const COMMANDS: &[&str] = &[
    "oidc-assume",
    "ecr-push",
    "sign",
    "bump-manifest",
    "open-promotion-pr",
    "wait-for-sync",
];

/// What the entrypoint was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Run the action `command` with `args`.
    Run {
        /// One of [`COMMANDS`].
        command: &'static str,
        /// The arguments after the command, passed on.
        args: Vec<String>,
    },
    /// Print the entrypoint's version.
    Version,
}

/// Why there is nothing to run.
#[derive(Debug, PartialEq, Eq)]
pub enum DispatchError {
    /// Neither `INPUT_COMMAND` nor an argument names an action.
    Missing,
    /// The command is not one of the six actions.
    Unknown(String),
}

impl DispatchError {
    /// The `::error::` line for this error, with its hint.
    pub fn annotation(&self) -> String {
        let what = match self {
            Self::Missing => {
                "the `command` input is not set, so there is no action to run".to_owned()
            }
            Self::Unknown(command) => {
                format!("`command` is {command:?}, which is not a hoist action")
            }
        };
        format!(
            "::error title=hoist::{what}%0AHint: set `command` to one of {}",
            COMMANDS.join(", ")
        )
    }
}

/// Picks the action: `INPUT_COMMAND` when set (the container action), else
/// the first argument (`hoist ecr-push --help`); `--version` alone asks for
/// the version.
pub fn dispatch(
    input_command: Option<&str>,
    mut args: Vec<String>,
) -> Result<Invocation, DispatchError> {
    let from_input = input_command.map(str::trim).filter(|c| !c.is_empty());
    let name = match from_input {
        Some(name) => name.to_owned(),
        None if args.first().is_some_and(|a| a == "--version" || a == "-V") => {
            return Ok(Invocation::Version);
        }
        None if args.is_empty() => return Err(DispatchError::Missing),
        None => args.remove(0),
    };
    let command = COMMANDS
        .iter()
        .find(|known| **known == name)
        .ok_or_else(|| DispatchError::Unknown(name.clone()))?;
    Ok(Invocation::Run { command, args })
}

/// The path of `command`'s binary: beside the entrypoint's own.
pub fn binary_beside(entrypoint: &Path, command: &str) -> PathBuf {
    entrypoint.with_file_name(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn the_input_wins_and_the_arguments_pass_through() {
        assert_eq!(
            dispatch(Some(" sign "), args(&["--dry-run"])),
            Ok(Invocation::Run {
                command: "sign",
                args: args(&["--dry-run"])
            })
        );
        assert_eq!(
            dispatch(None, args(&["ecr-push", "--help"])),
            Ok(Invocation::Run {
                command: "ecr-push",
                args: args(&["--help"])
            })
        );
        assert_eq!(
            dispatch(Some(""), args(&["--version"])),
            Ok(Invocation::Version)
        );
    }

    #[test]
    fn bad_commands_are_refused_naming_the_six() {
        for (input, argv, error) in [
            (None, args(&[]), DispatchError::Missing),
            (Some("  "), args(&[]), DispatchError::Missing),
            (
                Some("deploy"),
                args(&[]),
                DispatchError::Unknown("deploy".into()),
            ),
            (
                Some("../bin/sh"),
                args(&[]),
                DispatchError::Unknown("../bin/sh".into()),
            ),
            (
                None,
                args(&["hoist"]),
                DispatchError::Unknown("hoist".into()),
            ),
            (
                Some("SIGN"),
                args(&[]),
                DispatchError::Unknown("SIGN".into()),
            ),
        ] {
            let refused = dispatch(input, argv).unwrap_err();
            assert_eq!(refused, error);
            let line = refused.annotation();
            assert!(line.starts_with("::error title=hoist::"), "{line}");
            assert!(line.ends_with(
                "oidc-assume, ecr-push, sign, bump-manifest, open-promotion-pr, wait-for-sync"
            ));
        }
    }
}
