//! The git backend: any git server, through the `git` command.
//!
//! hoist keeps a scratch bare repository with no work tree. Each attempt
//! fetches just the branch tip (`--depth 1`, blobs on demand where the
//! server allows filters), reads the files it needs with `cat-file`, builds
//! the new tree in a scratch index from the tip's tree, and pushes a commit
//! whose only parent is that tip. A plain push is a compare-and-swap: the
//! server refuses it unless the branch still points at the parent.
//!
//! The token reaches git only through the environment
//! (`GIT_CONFIG_*` → `http.<server>.extraHeader`), never argv or a URL.
//!
//! git starts with a cleared environment: nothing the runner or an earlier
//! step set (`GIT_SSL_NO_VERIFY`, `GIT_CONFIG_PARAMETERS`, `GIT_SSH_COMMAND`,
//! `GIT_ASKPASS`, a `~/.gitconfig` with `url.<x>.insteadOf` or a credential
//! helper, …) reaches it. It gets `PATH`, `TMPDIR` and the proxy variables,
//! no system or global config, `http.sslVerify=true` and hoist's trust store
//! (the system's roots plus `SSL_CERT_FILE`) as `http.sslCAInfo`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use std::process::{Command, Stdio};

use base64::Engine;
use tempfile::TempDir;

use crate::RepoPath;
use crate::error::StoreError;
use crate::remote::Repository;
use crate::store::{Advance, Identity, NewCommit, Store};

/// The largest file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The variables git is given from the environment; everything else is
/// cleared. Proxies in both cases, as curl reads them.
const PASSED_THROUGH: [&str; 8] = [
    "PATH",
    "TMPDIR",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The trust store file written into the scratch directory.
const CA_FILE: &str = "hoist-ca.pem";

/// A branch of a git repository, written through `git`.
#[derive(Debug)]
pub struct GitStore {
    scratch: TempDir,
    branch: String,
    env: Vec<(String, String)>,
}

impl GitStore {
    /// Prepares a scratch repository for `branch` of `repository` in a new
    /// directory under `temp`. `token`, when given, is sent as HTTP basic
    /// auth (`x-access-token:<token>`) to the repository's server only.
    /// What git is given from the process environment is
    /// [`open_with_env`](Self::open_with_env)'s.
    pub fn open(
        repository: &Repository,
        branch: &str,
        token: Option<&str>,
        temp: &Path,
    ) -> Result<Self, StoreError> {
        let env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self::open_with_env(repository, branch, token, temp, &env)
    }

    /// [`open`](Self::open), with `env` as the environment: git is given
    /// only `PATH`, `TMPDIR` and the proxy variables from it, and trusts
    /// what hoist trusts (the system's roots plus `SSL_CERT_FILE`), with
    /// certificate checks forced on.
    pub fn open_with_env(
        repository: &Repository,
        branch: &str,
        token: Option<&str>,
        temp: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, StoreError> {
        let scratch = tempfile::Builder::new()
            .prefix("hoist-gitops-")
            .tempdir_in(temp)
            .map_err(StoreError::Scratch)?;
        let ca_file = trust_store(repository, env, scratch.path())?;
        let mut config = vec![
            // A helper from the runner's config must not answer for us.
            ("credential.helper".to_owned(), String::new()),
            // No switch skips certificate checks.
            ("http.sslVerify".into(), "true".into()),
            ("core.repositoryformatversion".into(), "1".into()),
            ("extensions.partialClone".into(), "origin".into()),
            ("remote.origin.url".into(), repository.git_url.clone()),
            ("remote.origin.promisor".into(), "true".into()),
            (
                "remote.origin.partialclonefilter".into(),
                "blob:none".into(),
            ),
        ];
        if let Some(ca_file) = ca_file {
            config.push(("http.sslCAInfo".into(), ca_file.display().to_string()));
        }
        if let (Some(token), Some(scope)) = (token, repository.http_scope()) {
            let basic =
                base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
            config.push((
                format!("http.{scope}.extraHeader"),
                format!("Authorization: Basic {basic}"),
            ));
        }
        let scratch_dir = scratch.path().display().to_string();
        let mut git_env: Vec<(String, String)> = PASSED_THROUGH
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), env.get(*name)?.clone())))
            .collect();
        git_env.extend([
            ("GIT_DIR".to_owned(), scratch_dir.clone()),
            // No ~/.gitconfig, ~/.config/git/config or /etc/gitconfig.
            ("HOME".into(), scratch_dir),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
            ("GIT_ATTR_NOSYSTEM".into(), "1".into()),
            ("GIT_TERMINAL_PROMPT".into(), "0".into()),
            ("GIT_ALLOW_PROTOCOL".into(), "file:http:https".into()),
            ("LC_ALL".into(), "C".into()),
            ("GIT_CONFIG_COUNT".into(), config.len().to_string()),
        ]);
        for (i, (key, value)) in config.into_iter().enumerate() {
            git_env.push((format!("GIT_CONFIG_KEY_{i}"), key));
            git_env.push((format!("GIT_CONFIG_VALUE_{i}"), value));
        }
        let store = Self {
            scratch,
            branch: branch.to_owned(),
            env: git_env,
        };
        store.git(&["init", "--quiet", "--bare"], None)?;
        Ok(store)
    }

    /// Runs git in the scratch repository; a failure becomes a classified
    /// [`StoreError`].
    fn git(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, StoreError> {
        self.git_with(args, stdin, &[])
    }

    fn git_with(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        extra_env: &[(&str, &str)],
    ) -> Result<Vec<u8>, StoreError> {
        let output = self.spawn(args, stdin, extra_env)?;
        if output.status.success() {
            return Ok(output.stdout);
        }
        Err(classify(
            args,
            &String::from_utf8_lossy(&output.stderr),
            &self.branch,
        ))
    }

    fn spawn(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        extra_env: &[(&str, &str)],
    ) -> Result<std::process::Output, StoreError> {
        let mut command = Command::new("git");
        command
            .args(args)
            .current_dir(self.scratch.path())
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(extra_env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(StoreError::NoGit)?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input).map_err(StoreError::NoGit)?;
        }
        child.wait_with_output().map_err(StoreError::NoGit)
    }

    /// Whether `newer` contains `older`, by git: fetches `newer`'s history
    /// (commits only where the server allows filters; a scratch repository
    /// that never fetched before, so it is not shallow) and asks
    /// `merge-base --is-ancestor`. `older` missing from that history means
    /// `newer` does not contain it. Both must be full commit ids.
    pub fn contains(&self, newer: &str, older: &str) -> Result<bool, StoreError> {
        self.git(
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--filter=tree:0",
                "origin",
                newer,
            ],
            None,
        )
        .map_err(|error| match error {
            StoreError::Git { stderr, .. } if stderr.contains("not our ref") => {
                StoreError::CommitMissing(newer.to_owned())
            }
            other => other,
        })?;
        let output = self.spawn(&["merge-base", "--is-ancestor", older, newer], None, &[])?;
        // 0: an ancestor; 1: not one; 128: `older` is not in the history
        // fetched, so not an ancestor either.
        match output.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ if self
                .git(&["cat-file", "-e", &format!("{older}^{{commit}}")], None)
                .is_err() =>
            {
                Ok(false)
            }
            _ => Err(classify(
                &["merge-base"],
                &String::from_utf8_lossy(&output.stderr),
                &self.branch,
            )),
        }
    }

    /// The commits among the last `depth` of `commit`'s history that
    /// touched `path`, newest first: a fetch of that history (trees, no
    /// blobs where the server allows filters), then `git log`.
    pub fn commits_touching(
        &self,
        commit: &str,
        path: &RepoPath,
        depth: usize,
    ) -> Result<Vec<crate::PathCommit>, StoreError> {
        let depth_arg = format!("--depth={depth}");
        self.git(
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                &depth_arg,
                "--filter=blob:none",
                "origin",
                commit,
            ],
            None,
        )?;
        let count = depth.to_string();
        let log = self.git_with(
            &[
                "log",
                "-z",
                "--format=%H%n%B",
                "-n",
                &count,
                commit,
                "--",
                path.as_str(),
            ],
            None,
            &[("GIT_LITERAL_PATHSPECS", "1")],
        )?;
        Ok(log
            .split(|b| *b == 0)
            .filter_map(|entry| {
                let entry = String::from_utf8_lossy(entry);
                let (sha, message) = entry.trim_start_matches('\n').split_once('\n')?;
                Some(crate::PathCommit {
                    sha: sha.to_owned(),
                    message: message.to_owned(),
                })
            })
            .collect())
    }

    fn remote_ref(&self) -> String {
        format!("refs/remotes/origin/{}", self.branch)
    }

    fn index_path(&self) -> PathBuf {
        self.scratch.path().join("hoist-index")
    }
}

impl Store for GitStore {
    async fn tip(&mut self) -> Result<String, StoreError> {
        let refspec = format!("+refs/heads/{}:{}", self.branch, self.remote_ref());
        self.git(
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--depth=1",
                "--filter=blob:none",
                "origin",
                &refspec,
            ],
            None,
        )?;
        let tip = self.git(&["rev-parse", "--verify", &self.remote_ref()], None)?;
        Ok(String::from_utf8_lossy(&tip).trim().to_owned())
    }

    async fn read(&mut self, commit: &str, path: &RepoPath) -> Result<Option<String>, StoreError> {
        let listing = self.git(
            &["ls-tree", "-z", "--full-tree", commit, "--", path.as_str()],
            None,
        )?;
        let listing = String::from_utf8_lossy(&listing);
        let Some(entry) = listing.split('\0').find(|e| !e.is_empty()) else {
            return Ok(None);
        };
        // `<mode> <type> <object>\t<path>`
        let mut fields = entry.split(['\t', ' ']);
        let (mode, object) = (fields.next().unwrap_or(""), fields.nth(1).unwrap_or(""));
        let kind = match mode {
            "100644" | "100755" => None,
            "120000" => Some("symbolic link"),
            "040000" => Some("directory"),
            "160000" => Some("submodule"),
            _ => Some("special entry"),
        };
        if let Some(kind) = kind {
            return Err(StoreError::NotAFile {
                path: path.to_string(),
                kind,
            });
        }
        let size: u64 = String::from_utf8_lossy(&self.git(&["cat-file", "-s", object], None)?)
            .trim()
            .parse()
            .unwrap_or(u64::MAX);
        if size > MAX_FILE_BYTES {
            return Err(StoreError::TooLarge {
                path: path.to_string(),
                size,
                limit: MAX_FILE_BYTES,
            });
        }
        let bytes = self.git(&["cat-file", "blob", object], None)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::NotText(path.to_string()))
    }

    async fn commit(&mut self, commit: &NewCommit<'_>) -> Result<String, StoreError> {
        let index = self.index_path();
        let _ = std::fs::remove_file(&index);
        let index = index.display().to_string();
        let with_index = [("GIT_INDEX_FILE", index.as_str())];
        self.git_with(&["read-tree", commit.parent], None, &with_index)?;
        for (path, contents) in commit.files {
            let blob = self.git(&["hash-object", "-w", "--stdin"], Some(contents.as_bytes()))?;
            let blob = String::from_utf8_lossy(&blob).trim().to_owned();
            let info = format!("100644,{blob},{path}");
            self.git_with(
                &["update-index", "--add", "--cacheinfo", &info],
                None,
                &with_index,
            )?;
        }
        let tree = self.git_with(&["write-tree", "--missing-ok"], None, &with_index)?;
        let tree = String::from_utf8_lossy(&tree).trim().to_owned();
        let author = commit.author.cloned().unwrap_or_else(Identity::actions_bot);
        let identity = [
            ("GIT_AUTHOR_NAME", author.name.as_str()),
            ("GIT_AUTHOR_EMAIL", author.email.as_str()),
            ("GIT_COMMITTER_NAME", author.name.as_str()),
            ("GIT_COMMITTER_EMAIL", author.email.as_str()),
        ];
        let made = self.git_with(
            &["commit-tree", &tree, "-p", commit.parent, "-F", "-"],
            Some(commit.message.as_bytes()),
            &identity,
        )?;
        Ok(String::from_utf8_lossy(&made).trim().to_owned())
    }

    async fn advance(&mut self, _parent: &str, commit: &str) -> Result<Advance, StoreError> {
        let refspec = format!("{commit}:refs/heads/{}", self.branch);
        let output = self.spawn(&["push", "--porcelain", "origin", &refspec], None, &[])?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The server's own words (`remote: …`) say why a ref update failed.
        let remote_said = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("remote: "))
            .collect::<Vec<_>>()
            .join(" ");
        match push_status(&stdout, &remote_said) {
            Some(PushStatus::Pushed) => Ok(Advance::Landed),
            Some(PushStatus::Lost) => Ok(Advance::Lost),
            Some(PushStatus::Refused(reason)) => {
                let reason = match remote_said.trim() {
                    "" => reason,
                    said => format!("{reason}: {said}"),
                };
                Err(StoreError::Rejected { reason })
            }
            None if output.status.success() => Ok(Advance::Landed),
            None => Err(classify(&["push"], &stderr, &self.branch)),
        }
    }
}

/// What `git push --porcelain` said about the one ref pushed.
#[derive(Debug, PartialEq, Eq)]
enum PushStatus {
    Pushed,
    Lost,
    Refused(String),
}

/// Reads the ref line of `git push --porcelain`
/// (`<flag>\t<from>:<to>\t<summary>`) and what the server said with it.
/// Writes hoist's trust store (the system's roots plus `SSL_CERT_FILE`) into
/// `scratch` for `http.sslCAInfo`. A repository not reached over HTTPS
/// needs none, so a machine without roots can still use `file://`.
fn trust_store(
    repository: &Repository,
    env: &BTreeMap<String, String>,
    scratch: &Path,
) -> Result<Option<PathBuf>, StoreError> {
    let https = repository.git_url.starts_with("https://");
    let pem = match hoist_http::TrustedBundles::new(env, None).pem() {
        Ok(pem) => pem,
        Err(error) if https => return Err(error.into()),
        Err(_) => return Ok(None),
    };
    let path = scratch.join(CA_FILE);
    std::fs::write(&path, pem).map_err(StoreError::Scratch)?;
    Ok(Some(path))
}

fn push_status(stdout: &str, remote_said: &str) -> Option<PushStatus> {
    let line = stdout.lines().find(|l| l.split('\t').count() >= 3)?;
    let mut fields = line.split('\t');
    let flag = fields.next()?;
    let summary = fields.nth(1)?.to_owned();
    if flag != "!" {
        return Some(PushStatus::Pushed);
    }
    // The reasons a lost race gives, as git and servers word them: the
    // client's check, or the server's compare-and-swap of the ref (whose
    // summary is only "failed to update ref", the reason in `remote:` lines).
    let lost = [
        "fetch first",
        "non-fast-forward",
        "cannot lock ref",
        "incorrect old value",
        "stale info",
        "but expected",
    ];
    Some(
        if lost
            .iter()
            .any(|l| summary.contains(l) || remote_said.contains(l))
        {
            PushStatus::Lost
        } else {
            PushStatus::Refused(summary)
        },
    )
}

/// Turns git's stderr into the error a user can act on.
fn classify(args: &[&str], stderr: &str, branch: &str) -> StoreError {
    let has = |needle: &str| stderr.contains(needle);
    let detail = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("warning:"))
        .collect::<Vec<_>>()
        .join(" / ");
    // Before the rest: a 500 page can say "not found" or "Authentication", and git quotes
    // the URL in every line.
    if has("returned error: 5") {
        return StoreError::ServerError { detail };
    }
    if has("SSL certificate problem")
        || has("server certificate verification failed")
        || has("SSL: no alternative certificate subject name")
        || has("SSL: certificate subject name")
        || has("certificate's owner does not match hostname")
        || has("certificate has expired")
        || has("unable to get local issuer certificate")
    {
        return StoreError::Tls { detail };
    }
    if has("appears as both a file and as a directory") || has("beyond a symbolic link") {
        // `update-index --add --cacheinfo <mode>,<object>,<path>`: the path is the last field.
        let path = args
            .last()
            .and_then(|info| info.splitn(3, ',').nth(2))
            .unwrap_or_default();
        return StoreError::ThroughNonDirectory {
            path: path.to_owned(),
        };
    }
    if has("Authentication failed")
        || has("could not read Username")
        || has("could not read Password")
        || has("returned error: 401")
        || has("returned error: 403")
    {
        StoreError::Auth { detail }
    } else if has("couldn't find remote ref") {
        StoreError::BranchMissing(branch.to_owned())
    } else if has("does not appear to be a git repository")
        || has("not found")
        || has("returned error: 404")
    {
        StoreError::RepositoryMissing { detail }
    } else if has("Could not resolve host")
        || has("Could not resolve proxy")
        || has("Connection refused")
        || has("Couldn't connect to server")
        || has("Network is unreachable")
        || has("No route to host")
        || (has("Failed to connect") && !has("timed out"))
    {
        StoreError::Unreachable { detail }
    } else if has("Failed to connect")
        || has("timed out")
        || has("RPC failed")
        || has("early EOF")
        || has("unexpected disconnect")
        || has("Connection reset")
    {
        StoreError::Transient(detail)
    } else {
        StoreError::Git {
            command: args.first().copied().unwrap_or("git").to_owned(),
            stderr: detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_push_lines_are_classified() {
        let ok = "To file:///r.git\n \tabc:refs/heads/main\t1111..2222\nDone\n";
        assert_eq!(push_status(ok, ""), Some(PushStatus::Pushed));
        let lost = "To file:///r.git\n!\tabc:refs/heads/main\t[rejected] (fetch first)\nDone\n";
        assert_eq!(push_status(lost, ""), Some(PushStatus::Lost));
        let swapped =
            "To r\n!\tabc:refs/heads/main\t[remote rejected] (failed to update ref)\nDone\n";
        let said = "error: cannot lock ref 'refs/heads/main': is at 1111 but expected 2222";
        assert_eq!(push_status(swapped, said), Some(PushStatus::Lost));
        let hook =
            "To r\n!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n";
        assert_eq!(
            push_status(hook, "error: GH006: Protected branch update failed"),
            Some(PushStatus::Refused(
                "[remote rejected] (pre-receive hook declined)".into()
            ))
        );
        assert_eq!(push_status("fatal: unable to access\n", ""), None);
    }

    #[test]
    fn stderr_is_classified_into_what_the_user_can_act_on() {
        let auth = classify(
            &["fetch"],
            "fatal: Authentication failed for 'https://h/r.git/'",
            "main",
        );
        assert!(matches!(auth, StoreError::Auth { .. }));
        let branch = classify(
            &["fetch"],
            "fatal: couldn't find remote ref refs/heads/nope",
            "nope",
        );
        assert!(matches!(branch, StoreError::BranchMissing(b) if b == "nope"));
        let net = classify(
            &["fetch"],
            "fatal: unable to access 'https://h/': Could not resolve host: h",
            "main",
        );
        assert!(net.is_transient());
    }

    /// git's own words (git 2.47 with curl 8 over GnuTLS and OpenSSL, and older curl).
    #[test]
    fn network_server_tls_and_path_failures_each_get_their_own_class() {
        let unreachable = [
            "fatal: unable to access 'http://127.0.0.1:9/x.git/': Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server",
            "fatal: unable to access 'https://h/x.git/': Failed to connect to h port 443: Connection refused",
            "fatal: unable to access 'https://h/x.git/': Failed to connect to h port 443 after 3 ms: Network is unreachable",
            "fatal: unable to access 'https://h/x.git/': Failed to connect to h port 443 after 3 ms: No route to host",
            "fatal: unable to access 'https://h/x.git/': Could not resolve host: h",
        ];
        for stderr in unreachable {
            let error = classify(&["fetch"], stderr, "main");
            assert!(
                matches!(error, StoreError::Unreachable { .. }),
                "{stderr}: {error:?}"
            );
            assert!(error.is_transient());
        }
        let timed_out = classify(
            &["fetch"],
            "fatal: unable to access 'https://h/x.git/': Failed to connect to h port 443 after 130001 ms: Connection timed out",
            "main",
        );
        assert!(
            matches!(timed_out, StoreError::Transient(_)),
            "{timed_out:?}"
        );
        for status in ["500", "502", "503"] {
            let stderr = format!(
                "fatal: unable to access 'http://h/x.git/': The requested URL returned error: {status}"
            );
            let error = classify(&["fetch"], &stderr, "main");
            assert!(
                matches!(error, StoreError::ServerError { .. }),
                "{stderr}: {error:?}"
            );
            assert!(error.is_transient());
        }
        for stderr in [
            "fatal: unable to access 'https://127.0.0.1:48443/x.git/': server certificate verification failed. CAfile: /etc/ssl/certs/ca-certificates.crt CRLfile: none",
            "fatal: unable to access 'https://h/x.git/': SSL certificate problem: unable to get local issuer certificate",
            "fatal: unable to access 'https://h/x.git/': SSL certificate problem: self-signed certificate",
            "fatal: unable to access 'https://h/x.git/': SSL certificate problem: certificate has expired",
            "fatal: unable to access 'https://h/x.git/': SSL: no alternative certificate subject name matches target host name 'h'",
        ] {
            let error = classify(&["fetch"], stderr, "main");
            assert!(
                matches!(error, StoreError::Tls { .. }),
                "{stderr}: {error:?}"
            );
            assert!(!error.is_transient());
            let hint = hoist_runner::Diagnostic::hint(&error).unwrap_or_default();
            assert!(hint.contains("SSL_CERT_FILE"), "{hint}");
            assert!(hint.contains("ca-bundle"), "{hint}");
        }
        let through_link = classify(
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                "100644,0123abcd,link/v.yaml",
            ],
            "error: 'link/v.yaml' appears as both a file and as a directory
error: link/v.yaml: cannot add to the index - missing --add option?
fatal: git update-index: --cacheinfo cannot add link/v.yaml",
            "main",
        );
        assert!(
            matches!(&through_link, StoreError::ThroughNonDirectory { path } if path == "link/v.yaml"),
            "{through_link:?}"
        );
        assert!(!through_link.is_transient());
        let hint = hoist_runner::Diagnostic::hint(&through_link).unwrap_or_default();
        assert!(
            hint.contains("hoist does not follow symbolic links"),
            "{hint}"
        );
    }
}
