//! The runner's file commands: `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_STATE`,
//! `GITHUB_PATH` and the job summary in `GITHUB_STEP_SUMMARY`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// The runner rejects a step summary larger than this.
pub const SUMMARY_LIMIT: u64 = 1024 * 1024;

/// The four key/value file commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileCommand {
    /// Step outputs, `GITHUB_OUTPUT`.
    Output,
    /// Environment for later steps, `GITHUB_ENV`.
    Env,
    /// State for the post step, `GITHUB_STATE`.
    State,
}

impl FileCommand {
    /// The environment variable that names the file.
    pub fn variable(self) -> &'static str {
        match self {
            Self::Output => "GITHUB_OUTPUT",
            Self::Env => "GITHUB_ENV",
            Self::State => "GITHUB_STATE",
        }
    }
}

/// A file command that could not be written. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum FileCommandError {
    /// The name would not parse back as one key.
    #[error(
        "cannot write `{name}` to {variable}: the name is empty or contains `=`, `<<`, or a line break"
    )]
    BadName {
        /// The file's variable.
        variable: &'static str,
        /// The offending name.
        name: String,
    },
    /// The name is not a valid environment variable name.
    #[error(
        "cannot export `{name}`: an environment variable name is letters, digits and `_`, not starting with a digit"
    )]
    BadEnvName {
        /// The offending name.
        name: String,
    },
    /// The value contains the heredoc delimiter, so later lines would be
    /// read as new entries.
    #[error("cannot write `{name}` to {variable}: the value contains the delimiter `{delimiter}`")]
    ValueHasDelimiter {
        /// The file's variable.
        variable: &'static str,
        /// The entry's name.
        name: String,
        /// The delimiter chosen for this write.
        delimiter: String,
    },
    /// A `GITHUB_PATH` entry contains a line break.
    #[error("cannot add `{path}` to GITHUB_PATH: it contains a line break")]
    PathHasNewline {
        /// The offending path.
        path: String,
    },
    /// The variable names a file that does not exist.
    #[error("{variable} names `{path}`, which does not exist")]
    MissingFile {
        /// The file's variable.
        variable: &'static str,
        /// The path it holds.
        path: PathBuf,
    },
    /// Writing the file failed.
    #[error("could not append to {variable} (`{path}`)")]
    Write {
        /// The file's variable.
        variable: &'static str,
        /// The path it holds.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Diagnostic for FileCommandError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::BadName { .. } | Self::BadEnvName { .. } => {
                "this is a bug in hoist: please report it with the step's log".to_owned()
            }
            Self::ValueHasDelimiter { .. } | Self::PathHasNewline { .. } => {
                "an input carried a value that would inject extra entries: check the inputs for stray lines".to_owned()
            }
            Self::MissingFile { variable, .. } | Self::Write { variable, .. } => {
                format!("the runner sets {variable}; when running by hand, unset it or point it at a writable file")
            }
        })
    }
}

/// The heredoc entry `name<<DELIM\nvalue\nDELIM\n` with a fresh random
/// delimiter, refused when the name or value could break out of it.
pub fn key_value_entry(
    command: FileCommand,
    name: &str,
    value: &str,
) -> Result<String, FileCommandError> {
    let variable = command.variable();
    if name.is_empty() || name.contains(['=', '\n', '\r']) || name.contains("<<") {
        return Err(FileCommandError::BadName {
            variable,
            name: name.to_owned(),
        });
    }
    if command == FileCommand::Env && !is_env_name(name) {
        return Err(FileCommandError::BadEnvName {
            name: name.to_owned(),
        });
    }
    let delimiter = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
    if name.contains(&delimiter) || value.contains(&delimiter) {
        return Err(FileCommandError::ValueHasDelimiter {
            variable,
            name: name.to_owned(),
            delimiter,
        });
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Appends `text` to the file named by `variable` in one write.
pub(crate) fn append(
    variable: &'static str,
    path: &Path,
    text: &str,
) -> Result<(), FileCommandError> {
    if !path.exists() {
        return Err(FileCommandError::MissingFile {
            variable,
            path: path.to_owned(),
        });
    }
    let write = |path: &Path| -> std::io::Result<()> {
        let mut file = OpenOptions::new().append(true).open(path)?;
        file.write_all(text.as_bytes())?;
        file.flush()
    };
    write(path).map_err(|source| FileCommandError::Write {
        variable,
        path: path.to_owned(),
        source,
    })
}

/// A `GITHUB_PATH` line, refused when it holds a line break.
pub fn path_entry(path: &str) -> Result<String, FileCommandError> {
    if path.contains(['\n', '\r']) {
        return Err(FileCommandError::PathHasNewline {
            path: path.to_owned(),
        });
    }
    Ok(format!("{path}\n"))
}

/// `markdown`, cut so that a summary file already `used` bytes long stays
/// under [`SUMMARY_LIMIT`], with a closing note when it was cut.
pub fn fit_summary(markdown: &str, used: u64) -> String {
    const NOTE: &str = "\n\n_…summary cut to stay under GitHub's 1 MiB limit._\n";
    let room = SUMMARY_LIMIT.saturating_sub(used);
    if markdown.len() as u64 <= room {
        return markdown.to_owned();
    }
    let keep = (room as usize).saturating_sub(NOTE.len());
    let mut cut = keep.min(markdown.len());
    while !markdown.is_char_boundary(cut) {
        cut -= 1;
    }
    if keep == 0 {
        return String::new();
    }
    format!("{}{NOTE}", &markdown[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_uses_a_fresh_delimiter_each_time() {
        let a = key_value_entry(FileCommand::Output, "digest", "sha256:abc").unwrap_or_default();
        let b = key_value_entry(FileCommand::Output, "digest", "sha256:abc").unwrap_or_default();
        assert!(a.starts_with("digest<<ghadelimiter_"));
        assert!(a.contains("\nsha256:abc\nghadelimiter_"));
        assert_ne!(a, b);
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", "a=b", "a\nb", "a<<b", "a\rb"] {
            assert!(
                matches!(
                    key_value_entry(FileCommand::Output, name, "v"),
                    Err(FileCommandError::BadName { .. })
                ),
                "{name:?}"
            );
        }
        for name in ["1AWS", "AWS-KEY", "A B"] {
            assert!(
                matches!(
                    key_value_entry(FileCommand::Env, name, "v"),
                    Err(FileCommandError::BadEnvName { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn path_with_newline_is_refused() {
        assert!(path_entry("/opt/bin\nBASH_ENV=/tmp/x").is_err());
        assert_eq!(path_entry("/opt/bin").unwrap_or_default(), "/opt/bin\n");
    }

    #[test]
    fn summary_is_cut_under_the_limit() {
        let big = "é".repeat(600_000);
        let fitted = fit_summary(&big, 1000);
        assert!(fitted.len() as u64 + 1000 <= SUMMARY_LIMIT);
        assert!(fitted.ends_with("limit._\n"));
        assert_eq!(fit_summary("small", 0), "small");
        assert_eq!(fit_summary("x", SUMMARY_LIMIT), "");
    }
}
