//! A fake runner around one process.
//!
//! The child gets a clean environment: nothing from the test's own
//! environment leaks in, so a test behaves the same on a laptop and when the
//! suite itself runs under GitHub Actions. `GITHUB_*`/`RUNNER_*` are set
//! afresh, pointing at files in a temp directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// A temp directory holding the runner's files, and the environment a step
/// would get.
pub struct Sandbox {
    dir: TempDir,
    env: BTreeMap<String, String>,
}

/// The variables a step sees that name the sandbox's files.
const FILE_VARIABLES: [(&str, &str); 5] = [
    ("GITHUB_OUTPUT", "output"),
    ("GITHUB_ENV", "env"),
    ("GITHUB_STATE", "state"),
    ("GITHUB_PATH", "path"),
    ("GITHUB_STEP_SUMMARY", "summary.md"),
];

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A sandbox with empty runner files and the environment of a push to
    /// `main` in `acme/shop`.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["workspace", "home", "temp", "files"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("sandbox dir");
        }
        let mut env = BTreeMap::new();
        for (variable, file) in FILE_VARIABLES {
            let path = dir.path().join("files").join(file);
            std::fs::write(&path, "").expect("runner file");
            env.insert(variable.to_owned(), path.display().to_string());
        }
        let path = |sub: &str| dir.path().join(sub).display().to_string();
        let defaults = [
            (
                "PATH",
                std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
            ),
            ("HOME", path("home")),
            ("GITHUB_ACTIONS", "true".into()),
            ("CI", "true".into()),
            ("GITHUB_WORKSPACE", path("workspace")),
            ("RUNNER_TEMP", path("temp")),
            ("RUNNER_OS", "Linux".into()),
            ("RUNNER_ARCH", "X64".into()),
            ("GITHUB_REPOSITORY", "acme/shop".into()),
            ("GITHUB_REPOSITORY_OWNER", "acme".into()),
            ("GITHUB_REF", "refs/heads/main".into()),
            ("GITHUB_REF_NAME", "main".into()),
            (
                "GITHUB_SHA",
                "0123456789abcdef0123456789abcdef01234567".into(),
            ),
            ("GITHUB_RUN_ID", "4242".into()),
            ("GITHUB_RUN_ATTEMPT", "1".into()),
            ("GITHUB_EVENT_NAME", "push".into()),
            (
                "GITHUB_WORKFLOW_REF",
                "acme/shop/.github/workflows/ci.yaml@refs/heads/main".into(),
            ),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
        ];
        env.extend(defaults.into_iter().map(|(k, v)| (k.to_owned(), v)));
        Self { dir, env }
    }

    /// The sandbox's root directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The step's `GITHUB_WORKSPACE`.
    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// The step's `HOME`.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Sets an input as the runner would: `INPUT_<NAME>`.
    pub fn input(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.insert(
            format!("INPUT_{}", name.replace(' ', "_").to_uppercase()),
            value.to_owned(),
        );
        self
    }

    /// Sets any environment variable.
    pub fn env(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Removes a variable, to run as a person would outside Actions.
    pub fn unset(&mut self, name: &str) -> &mut Self {
        self.env.remove(name);
        self
    }

    /// The environment the step gets.
    pub fn environment(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// Runs `program` with `args` in the workspace, with exactly the
    /// sandbox's environment. The result holds what this run appended to the
    /// runner files, not what earlier runs left there.
    pub fn run(&self, program: impl AsRef<Path>, args: &[&str]) -> RunResult {
        let read = |variable: &str| {
            self.env
                .get(variable)
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default()
        };
        let before: BTreeMap<&str, usize> = FILE_VARIABLES
            .iter()
            .map(|(v, _)| (*v, read(v).len()))
            .collect();
        let output = Command::new(program.as_ref())
            .args(args)
            .env_clear()
            .envs(&self.env)
            .current_dir(self.workspace())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", program.as_ref().display()));
        RunResult {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            files: FILE_VARIABLES
                .iter()
                .map(|(variable, _)| {
                    let text = read(variable);
                    let start = before.get(variable).copied().unwrap_or(0).min(text.len());
                    ((*variable).to_owned(), text[start..].to_owned())
                })
                .collect(),
        }
    }
}

/// What a run left behind.
#[derive(Debug)]
pub struct RunResult {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    files: BTreeMap<String, String>,
}

impl RunResult {
    /// The raw text of a runner file (`GITHUB_OUTPUT`, …) after the run.
    pub fn file(&self, variable: &str) -> &str {
        self.files.get(variable).map(String::as_str).unwrap_or("")
    }

    /// The step outputs, parsed as the runner parses `GITHUB_OUTPUT`.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        parse_key_values(self.file("GITHUB_OUTPUT")).expect("GITHUB_OUTPUT parses")
    }

    /// The variables exported to later steps, parsed from `GITHUB_ENV`.
    pub fn exported_env(&self) -> BTreeMap<String, String> {
        parse_key_values(self.file("GITHUB_ENV")).expect("GITHUB_ENV parses")
    }

    /// The state saved for the post step, parsed from `GITHUB_STATE`.
    pub fn state(&self) -> BTreeMap<String, String> {
        parse_key_values(self.file("GITHUB_STATE")).expect("GITHUB_STATE parses")
    }

    /// The `::error…::` lines on stdout.
    pub fn errors(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|line| line.starts_with("::error"))
            .collect()
    }

    /// Asserts the run failed with exit code 1 and exactly one `::error::`
    /// whose (unescaped) text contains every one of `needles`, and that it
    /// wrote no output, env, state or path entries. Returns the message.
    pub fn assert_failed_cleanly(&self, needles: &[&str]) -> String {
        assert_eq!(
            self.code,
            Some(1),
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        let errors = self.errors();
        assert_eq!(
            errors.len(),
            1,
            "want exactly one ::error::, got:\n{}",
            self.stdout
        );
        let message = unescape(
            errors[0]
                .split_once("::")
                .map(|(_, rest)| rest)
                .unwrap_or(""),
        );
        let message = message
            .split_once("::")
            .map(|(_, m)| m.to_owned())
            .unwrap_or(message);
        for needle in needles {
            assert!(
                message.contains(needle),
                "error lacks {needle:?}:\n{message}"
            );
        }
        for variable in ["GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STATE", "GITHUB_PATH"] {
            assert_eq!(
                self.file(variable),
                "",
                "{variable} was written by a failed run"
            );
        }
        message
    }

    /// Asserts that each secret was announced with `::add-mask::` before it
    /// first appeared on stdout, never appears unmasked anywhere else on
    /// stdout, and never appears on stderr.
    pub fn assert_masked(&self, secrets: &[&str]) {
        for secret in secrets {
            assert!(
                !self.stderr.contains(secret),
                "secret {secret:?} on stderr:\n{}",
                self.stderr
            );
            let mut announced = false;
            for line in self.stdout.lines() {
                if line == format!("::add-mask::{}", escape_data(secret)) {
                    announced = true;
                    continue;
                }
                assert!(
                    !line.contains(secret),
                    "secret {secret:?} printed {}: {line}",
                    if announced {
                        "after its mask (the runner would mask it, hoist must not rely on that)"
                    } else {
                        "before its mask"
                    }
                );
            }
            assert!(
                announced,
                "secret {secret:?} was never masked; stdout:\n{}",
                self.stdout
            );
        }
    }
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Undoes the workflow-command escaping of a message.
pub fn unescape(text: &str) -> String {
    text.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// Parses a file-command file the way the runner does
/// (`FileCommandManager.EnvFileKeyValuePairs`): `NAME=VALUE` when `=` comes
/// before `<<`, otherwise `NAME<<DELIM` with the value ending at a line equal
/// to `DELIM`.
pub fn parse_key_values(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut pairs = BTreeMap::new();
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                pairs.insert(line[..e].to_owned(), line[e + 1..].to_owned());
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("invalid entry {line:?}"));
                }
                let mut value = Vec::new();
                loop {
                    match lines.next() {
                        Some(l) if l == delimiter => break,
                        Some(l) => value.push(l),
                        None => return Err(format!("matching delimiter not found: {delimiter:?}")),
                    }
                }
                pairs.insert(name.to_owned(), value.join("\n"));
            }
            _ => return Err(format!("invalid entry {line:?}")),
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_entry_forms_like_the_runner() {
        let text = "a=1\nb<<EOF\nline1\nline2\nEOF\nc=x<<y\n";
        let pairs = parse_key_values(text).unwrap();
        assert_eq!(pairs["a"], "1");
        assert_eq!(pairs["b"], "line1\nline2");
        assert_eq!(pairs["c"], "x<<y");
        assert!(parse_key_values("b<<EOF\nno end\n").is_err());
    }
}
