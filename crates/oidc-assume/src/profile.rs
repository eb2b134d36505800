//! AWS shared config and credentials files: one section replaced or removed,
//! everything else kept byte for byte; files 0600, symlinks refused, every
//! write atomic.

use std::path::{Path, PathBuf};

use hoist_runner::private_file;

use crate::error::AssumeError;

/// The two files, as the AWS SDKs find them.
#[derive(Debug, Clone)]
pub struct ProfileFiles {
    /// `AWS_CONFIG_FILE` or `~/.aws/config`.
    pub config: PathBuf,
    /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    pub credentials: PathBuf,
}

impl ProfileFiles {
    /// The files for this environment.
    pub fn locate(env: &hoist_http::Environment) -> Self {
        let home = env
            .get("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let pick = |variable: &str, default: &str| {
            env.get(variable)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".aws").join(default))
        };
        Self {
            config: pick("AWS_CONFIG_FILE", "config"),
            credentials: pick("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        }
    }
}

/// The config file's header for `profile`.
pub fn config_header(profile: &str) -> String {
    if profile == "default" {
        "[default]".to_owned()
    } else {
        format!("[profile {profile}]")
    }
}

/// The credentials file's header for `profile`.
pub fn credentials_header(profile: &str) -> String {
    format!("[{profile}]")
}

/// Sets the section `header` of `path` to `lines` (or removes it for
/// `None`), keeping every other byte.
pub fn set_section(path: &Path, header: &str, lines: Option<&[String]>) -> Result<(), AssumeError> {
    let old = private_file::read(path)?.unwrap_or_default();
    let new = replace_section(&old, header, lines);
    if new != old {
        private_file::write(path, new.as_bytes())?;
    }
    Ok(())
}

/// The text with section `header` replaced by `lines`, appended when absent,
/// or removed when `lines` is `None`.
pub fn replace_section(text: &str, header: &str, lines: Option<&[String]>) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut found = false;
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            skipping = trimmed == header;
            if skipping && !found {
                found = true;
                if let Some(lines) = lines {
                    out.push_str(&section(header, lines));
                }
            }
        }
        if !skipping {
            out.push_str(line);
        }
    }
    if !found && let Some(lines) = lines {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&section(header, lines));
    }
    out
}

fn section(header: &str, lines: &[String]) -> String {
    let mut text = format!("{header}\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_section_changes_and_the_rest_is_kept() {
        let old = "# mine\n[default]\nregion = us-east-1\n\n[profile deploy]\nregion = old\n[profile other]\nx = 1\n";
        let new = replace_section(
            old,
            "[profile deploy]",
            Some(&["region = eu-west-1".to_owned()]),
        );
        assert_eq!(
            new,
            "# mine\n[default]\nregion = us-east-1\n\n[profile deploy]\nregion = eu-west-1\n[profile other]\nx = 1\n"
        );
        let removed = replace_section(&new, "[profile deploy]", None);
        assert_eq!(
            removed,
            "# mine\n[default]\nregion = us-east-1\n\n[profile other]\nx = 1\n"
        );
        let added = replace_section("[a]\nk = v", "[b]", Some(&["k = w".to_owned()]));
        assert_eq!(added, "[a]\nk = v\n[b]\nk = w\n");
    }

    #[test]
    fn files_are_private_and_symlinks_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".aws/credentials");
        set_section(&path, "[p]", Some(&["a = b".to_owned()])).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(
            set_section(&link, "[p]", None),
            Err(AssumeError::PrivateFile(_))
        ));
    }
}
