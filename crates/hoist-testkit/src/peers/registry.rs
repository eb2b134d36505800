//! The Debian `docker-registry` (distribution v2): a real OCI registry.

use std::io::Write;
use std::process::{Command, Stdio};

use tempfile::TempDir;

use super::{Process, free_port, require};

/// How clients must authenticate to the registry.
#[derive(Debug, Clone)]
pub enum RegistryAuth {
    /// Anyone may push and pull.
    Anonymous,
    /// HTTP Basic against an htpasswd file with this one user.
    Htpasswd {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

/// A running registry with its storage in a temp directory.
pub struct Registry {
    port: u16,
    dir: TempDir,
    _process: Process,
}

impl Registry {
    /// Starts a registry on a free loopback port, plain HTTP.
    pub fn start(auth: RegistryAuth) -> Self {
        let program = require("docker-registry", "the Debian package `docker-registry`");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let auth_section = match &auth {
            RegistryAuth::Anonymous => String::new(),
            RegistryAuth::Htpasswd { username, password } => {
                let path = dir.path().join("htpasswd");
                std::fs::write(&path, htpasswd_line(username, password)).expect("htpasswd file");
                format!(
                    "auth:\n  htpasswd:\n    realm: hoist-test\n    path: {}\n",
                    path.display()
                )
            }
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: hoist-test-secret\n{auth_section}",
            root = dir.path().join("data").display(),
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("registry config");
        let mut command = Command::new(program);
        command.arg("serve").arg(&config_path);
        let mut process = Process::start("docker-registry", command);
        process.wait_for("listening on");
        Self {
            port,
            dir,
            _process: process,
        }
    }

    /// `127.0.0.1:PORT`, as a registry is named in an image reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// Where the registry keeps its data.
    pub fn storage(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

/// One bcrypt htpasswd line, made by `htpasswd` with the password on stdin.
fn htpasswd_line(username: &str, password: &str) -> String {
    let program = require("htpasswd", "the Debian package `apache2-utils`");
    let mut child = Command::new(program)
        .args(["-niB", username])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("htpasswd starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(password.as_bytes())
        .expect("password to htpasswd");
    let output = child.wait_with_output().expect("htpasswd runs");
    assert!(output.status.success(), "htpasswd failed");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
        + "\n"
}
