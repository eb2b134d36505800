//! The world an ecr-push test runs in: the Debian `docker-registry` with an
//! htpasswd user, images made by test code, skopeo to read back, and a
//! runner sandbox wired to them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hoist_testkit::oci::{Layout, layer};
use hoist_testkit::peers::require;
use hoist_testkit::{Registry, RegistryAuth, RunResult, Sandbox};
use serde_json::Value;

pub(crate) const USER: &str = "ci";
pub(crate) const PASSWORD: &str = "pw-4f9a1c";
pub(crate) const REPOSITORY: &str = "myshop/myshop-api";
/// `<branch>-<short sha>` for the sandbox's push to main.
pub(crate) const DEFAULT_TAG: &str = "main-0123456";

pub(crate) struct World {
    pub(crate) registry: Registry,
    pub(crate) sandbox: Sandbox,
    pub(crate) images: tempfile::TempDir,
}

impl World {
    pub(crate) fn new() -> Self {
        let registry = Registry::start(RegistryAuth::Htpasswd {
            username: USER.into(),
            password: PASSWORD.into(),
        });
        let sandbox = job(&registry.host());
        Self {
            registry,
            sandbox,
            images: tempfile::tempdir().unwrap(),
        }
    }

    /// Another job's sandbox against the same registry.
    pub(crate) fn fresh_sandbox(&self) -> Sandbox {
        job(&self.registry.host())
    }

    pub(crate) fn run(&self) -> RunResult {
        self.sandbox.run(binary(), &[])
    }

    /// A path for a new image under the world's temp dir.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.images.path().join(name)
    }

    /// A single-platform layout with two small layers; returns the manifest
    /// digest.
    pub(crate) fn simple_image(&self, name: &str, seed: &str) -> (PathBuf, String) {
        let dir = self.path(name);
        let layout = Layout::new(&dir);
        let root = layout.image(
            "linux/amd64",
            &[
                layer("app/a.txt", seed.as_bytes()),
                layer("app/b.txt", b"shared"),
            ],
        );
        let digest = layout.finish(&root);
        (dir, digest)
    }

    /// The manifest a reference points at, read back by skopeo.
    pub(crate) fn inspect(&self, reference: &str) -> Option<Vec<u8>> {
        let separator = if reference.starts_with("sha256:") {
            '@'
        } else {
            ':'
        };
        let image = format!(
            "docker://{}/{REPOSITORY}{separator}{reference}",
            self.registry.host()
        );
        skopeo(
            &self.registry.host(),
            &["inspect", "--raw", &image],
            self.images.path(),
        )
    }
}

fn job(host: &str) -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox
        .env("HOIST_BACKOFF_SCALE", "0")
        .input("registry", host)
        .input("repository", REPOSITORY)
        .input("insecure-registry", "true")
        .input("registry-username", USER)
        .input("registry-password", PASSWORD);
    sandbox
}

/// Runs skopeo as the test user; `None` when it fails.
pub(crate) fn skopeo(host: &str, args: &[&str], scratch: &Path) -> Option<Vec<u8>> {
    skopeo_as(host, USER, PASSWORD, args, scratch)
}

/// Runs skopeo with an auth file (credentials stay out of argv); `None` when
/// it fails.
pub(crate) fn skopeo_as(
    host: &str,
    user: &str,
    password: &str,
    args: &[&str],
    scratch: &Path,
) -> Option<Vec<u8>> {
    let auth = scratch.join("skopeo-auth.json");
    let token = base64_pair(user, password);
    std::fs::write(
        &auth,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{token}"}}}}}}"#),
    )
    .unwrap();
    let program = require("skopeo", "the Debian package `skopeo`");
    let mut command = Command::new(program);
    command
        .arg(args[0])
        .args(["--authfile", auth.to_str().unwrap()]);
    if args[0] == "copy" {
        command.args(["--src-tls-verify=false", "--dest-tls-verify=false"]);
    } else {
        command.arg("--tls-verify=false");
    }
    let output = command.args(&args[1..]).output().unwrap();
    output.status.success().then_some(output.stdout)
}

fn base64_pair(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

pub(crate) fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

pub(crate) fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_ecr-push")
}
