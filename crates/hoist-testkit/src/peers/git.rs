//! Real git: bare repositories that accept pushes with git's own
//! fast-forward rules.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::require;

/// A bare repository in a temp directory, reached by a `file://` URL.
pub struct GitRemote {
    dir: TempDir,
}

impl GitRemote {
    /// A bare repository whose `main` holds `files` in one commit.
    pub fn with_files(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let bare = dir.path().join("remote.git");
        git(
            dir.path(),
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                path_str(&bare),
            ],
        );
        let seed = dir.path().join("seed");
        git(
            dir.path(),
            &["init", "--quiet", "--initial-branch=main", path_str(&seed)],
        );
        for (name, contents) in files {
            let path = seed.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
            std::fs::write(path, contents).expect("seed file");
        }
        git(&seed, &["add", "--all"]);
        git(&seed, &["commit", "--quiet", "--allow-empty", "-m", "seed"]);
        git(&seed, &["push", "--quiet", path_str(&bare), "main"]);
        Self { dir }
    }

    /// The bare repository's path.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    /// The `file://` URL of the bare repository.
    pub fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    /// The commit `branch` points at.
    pub fn head(&self, branch: &str) -> String {
        git(
            &self.path(),
            &["rev-parse", &format!("refs/heads/{branch}")],
        )
        .trim()
        .to_owned()
    }

    /// A file's contents at the tip of `branch`.
    pub fn read(&self, branch: &str, file: &str) -> String {
        git(&self.path(), &["show", &format!("{branch}:{file}")])
    }

    /// The subjects of `branch`'s commits, newest first.
    pub fn log(&self, branch: &str) -> Vec<String> {
        git(&self.path(), &["log", "--format=%s", branch])
            .lines()
            .map(String::from)
            .collect()
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Runs git with a fixed identity and no user or system config; panics on
/// failure with git's stderr.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(require("git", "the Debian package `git`"))
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "hoist test")
        .env("GIT_AUTHOR_EMAIL", "test@hoist.invalid")
        .env("GIT_COMMITTER_NAME", "hoist test")
        .env("GIT_COMMITTER_EMAIL", "test@hoist.invalid")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
