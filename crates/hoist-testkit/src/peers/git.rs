//! Real git: bare repositories that accept pushes with git's own
//! fast-forward rules.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

    /// `branch`'s commits, newest first, with their messages and people.
    pub fn commits(&self, branch: &str) -> Vec<Commit> {
        let format = "--format=%H%x1f%P%x1f%an <%ae>%x1f%cn <%ce>%x1f%s%x1f%b%x1e";
        git(
            &self.path(),
            &["log", format, &format!("refs/heads/{branch}")],
        )
        .split('\x1e')
        .filter_map(|record| {
            let fields: Vec<&str> = record.trim_start_matches('\n').split('\x1f').collect();
            let [sha, parents, author, committer, subject, body] = fields[..] else {
                return None;
            };
            Some(Commit {
                sha: sha.to_owned(),
                parents: parents.split_whitespace().map(String::from).collect(),
                author: author.to_owned(),
                committer: committer.to_owned(),
                subject: subject.to_owned(),
                body: body.trim_end().to_owned(),
            })
        })
        .collect()
    }

    /// Commits `contents` as `path` on `branch` straight into the bare
    /// repository (plumbing, no work tree, no hooks) and returns the new
    /// commit: how a test moves a branch under a writer's feet. The branch is
    /// created if it does not exist.
    pub fn commit_file(&self, branch: &str, path: &str, contents: &str, message: &str) -> String {
        let repo = self.path();
        let reference = format!("refs/heads/{branch}");
        let parent = git_output(
            &repo,
            &["rev-parse", "--verify", "--quiet", &reference],
            &[],
            b"",
        );
        let parent = String::from_utf8_lossy(&parent.stdout).trim().to_owned();
        let blob = git_with(
            &repo,
            &["hash-object", "-w", "--stdin"],
            &[],
            contents.as_bytes(),
        );
        let index = tempfile::tempdir().expect("temp dir");
        let index = index.path().join("index");
        let env = [("GIT_INDEX_FILE", path_str(&index))];
        if !parent.is_empty() {
            git_with(&repo, &["read-tree", &parent], &env, b"");
        }
        let entry = format!("100644,{},{path}", blob.trim());
        git_with(
            &repo,
            &["update-index", "--add", "--replace", "--cacheinfo", &entry],
            &env,
            b"",
        );
        let tree = git_with(&repo, &["write-tree"], &env, b"");
        let mut args = vec!["commit-tree", tree.trim()];
        if !parent.is_empty() {
            args.extend(["-p", parent.as_str()]);
        }
        let commit = git_with(&repo, &args, &[], message.as_bytes());
        let commit = commit.trim();
        git(&repo, &["update-ref", &reference, commit, &parent]);
        commit.to_owned()
    }

    /// Installs a `pre-receive` hook that refuses every push to `branch` the
    /// way GitHub words it (`error: GH006: Protected branch update failed for
    /// refs/heads/<branch>.`); git reports `! [remote rejected] … (pre-receive
    /// hook declined)`. Writes straight into the repository (plumbing, the
    /// GitHub stand-in's API) do not run hooks.
    pub fn protect_branch(&self, branch: &str) {
        let hooks = self.path().join("hooks");
        std::fs::create_dir_all(&hooks).expect("hooks dir");
        let mut protected = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(hooks.join("protected-refs"))
            .expect("protected refs list");
        writeln!(protected, "refs/heads/{branch}").expect("protected refs list");
        let hook = hooks.join("pre-receive");
        std::fs::write(&hook, PRE_RECEIVE).expect("pre-receive hook");
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&hook, mode).expect("hook is executable");
    }
}

/// Refuses updates to the refs listed in `protected-refs` next to it.
const PRE_RECEIVE: &str = r#"#!/bin/sh
list="$(dirname "$0")/protected-refs"
status=0
while read -r old new ref; do
    if grep -qxF "$ref" "$list"; then
        echo "error: GH006: Protected branch update failed for $ref." >&2
        status=1
    fi
done
exit $status
"#;

/// One commit as [`GitRemote::commits`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The commit's sha.
    pub sha: String,
    /// Its parents' shas.
    pub parents: Vec<String>,
    /// `Name <email>` of the author.
    pub author: String,
    /// `Name <email>` of the committer.
    pub committer: String,
    /// The message's first line.
    pub subject: String,
    /// The rest of the message, trimmed.
    pub body: String,
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Runs git with a fixed identity and no user or system config; panics on
/// failure with git's stderr.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_with(dir, args, &[], b"")
}

/// [`git`] with more environment (which wins over the fixed identity) and
/// `stdin`; panics on failure with git's stderr.
pub fn git_with(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> String {
    let output = git_output(dir, args, env, stdin);
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs git as [`git_with`] does and hands back what it did, failure
/// included: for tests that expect git to fail, and for stand-ins that turn
/// git's refusals into answers.
pub fn git_output(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(require("git", "the Debian package `git`"))
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "hoist test")
        .env("GIT_AUTHOR_EMAIL", "test@hoist.invalid")
        .env("GIT_COMMITTER_NAME", "hoist test")
        .env("GIT_COMMITTER_EMAIL", "test@hoist.invalid")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git runs");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    // A thread, so a git that answers before it has read everything cannot
    // block on a full pipe while we block writing.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("git runs");
    let _ = writer.join();
    output
}
