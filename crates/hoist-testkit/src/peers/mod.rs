//! Real peers, started on ephemeral loopback ports and stopped when dropped.
//!
//! A peer that is not installed fails the test with the package to install;
//! a test never skips silently.

mod git;
mod git_http;
mod moto;
mod registry;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::Duration;

pub use git::{Commit, GitRemote, git, git_output, git_with};
pub use git_http::{GitHttpRequest, GitHttpServer};
pub use moto::Moto;
pub use registry::{Registry, RegistryAuth};

/// How long a peer may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The full path of `program`, or a panic naming the package that provides
/// it.
pub fn require(program: &str, package: &str) -> PathBuf {
    find_program(program).unwrap_or_else(|| {
        panic!("test peer `{program}` is not installed: install {package} (`bash scripts/setup` installs every peer)")
    })
}

/// `program` on `PATH`, if it is there.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A child process that is killed when dropped.
pub struct Process {
    name: String,
    child: Child,
    output: mpsc::Receiver<String>,
}

impl Process {
    /// Starts `command` with stdout and stderr captured line by line.
    pub fn start(name: &str, mut command: Command) -> Self {
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        let (sender, output) = mpsc::channel();
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        for stream in [stdout, stderr].into_iter().flatten() {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self {
            name: name.to_owned(),
            child,
            output,
        }
    }

    /// Blocks until the process prints a line containing `needle`; panics
    /// with everything it printed if it exits or takes too long.
    pub fn wait_for(&mut self, needle: &str) {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.output.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(line) => seen.push(line),
                Err(_) => {
                    let status = self.child.try_wait().ok().flatten();
                    panic!(
                        "{} did not print {needle:?} (exit status {status:?}); it printed:\n{}",
                        self.name,
                        seen.join("\n")
                    );
                }
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(
        expected = "test peer `hoist-no-such-peer` is not installed: install the package `imaginary`"
    )]
    fn a_missing_peer_fails_and_names_its_package() {
        require("hoist-no-such-peer", "the package `imaginary`");
    }
}
