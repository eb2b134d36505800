//! Files that hold credentials (AWS profiles, the Docker config): written
//! whole or not at all, readable by the owner only, never through a
//! symbolic link.

use std::io::Write as _;
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Why a credentials file was not written.
#[derive(Debug, thiserror::Error)]
pub enum PrivateFileError {
    /// The file or its directory is a symbolic link.
    #[error("refusing `{0}`: it is a symbolic link")]
    Symlink(PathBuf),
    /// Reading or writing failed.
    #[error("could not write `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Fails when `path` or its directory is a symbolic link (a link could
/// send credentials anywhere on the runner).
pub fn refuse_symlinks(path: &Path) -> Result<(), PrivateFileError> {
    for candidate in [Some(path), path.parent()].into_iter().flatten() {
        if std::fs::symlink_metadata(candidate).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(PrivateFileError::Symlink(candidate.to_owned()));
        }
    }
    Ok(())
}

/// The file's text, or `None` when it does not exist.
pub fn read(path: &Path) -> Result<Option<String>, PrivateFileError> {
    refuse_symlinks(path)?;
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PrivateFileError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Replaces the file with `contents`: mode 0600 (its directory 0700 when
/// created) on Unix, the user profile's own ACLs on Windows, through a temp
/// file and `rename`, so a reader never sees half.
pub fn write(path: &Path, contents: &[u8]) -> Result<(), PrivateFileError> {
    refuse_symlinks(path)?;
    let io_error = |source| PrivateFileError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(dir).map_err(io_error)?;
    }
    let temp = path.with_extension(format!("hoist-{}", std::process::id()));
    let attempt = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    attempt().map_err(|error| {
        let _ = std::fs::remove_file(&temp);
        io_error(error)
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn files_are_private_whole_and_never_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/credentials");
        write(&path, b"secret").unwrap();
        assert_eq!(read(&path).unwrap().as_deref(), Some("secret"));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(
            write(&link, b"x"),
            Err(PrivateFileError::Symlink(_))
        ));
        assert!(matches!(read(&link), Err(PrivateFileError::Symlink(_))));
        assert_eq!(read(&dir.path().join("missing")).unwrap(), None);
    }
}
