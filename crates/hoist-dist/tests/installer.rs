//! `dist/install.sh` against a local release server (a stand-in serving
//! assets by version and name): the asset for each OS and architecture, a
//! tampered download refused, the `HOIST_BIN_DIR` override, an offline
//! cache hit, and the error for a ref without a release manifest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::{Assets, VERSION, release_server, sha256_hex};
use hoist_testkit::standin::StandIn;

const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
];

/// A fake `sign` for a target: a script that says which it is.
fn asset(target: &str) -> Vec<u8> {
    format!("#!/bin/sh\necho sign for {target}\n").into_bytes()
}

/// A release server and a checkout of hoist whose `dist/` holds the
/// installer and (unless `with_manifest` is false) a manifest for it.
struct Release {
    server: StandIn,
    served: Assets,
    dir: tempfile::TempDir,
}

impl Release {
    fn new(with_manifest: bool) -> Self {
        let served: BTreeMap<String, Vec<u8>> = TARGETS
            .iter()
            .map(|t| (format!("sign-{VERSION}-{t}"), asset(t)))
            .collect();
        let served: Assets = Arc::new(Mutex::new(served));
        let server = release_server(&served);
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("checkout/dist");
        std::fs::create_dir_all(&dist).unwrap();
        let installer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist/install.sh");
        std::fs::copy(&installer, dist.join("install.sh")).unwrap();
        if with_manifest {
            let mut manifest = format!(
                "# written by the release workflow\nversion {VERSION}\nbase-url {}\n",
                server.url()
            );
            for (name, bytes) in served.lock().unwrap().iter() {
                manifest.push_str(&format!("{}  {name}\n", sha256_hex(bytes)));
            }
            std::fs::write(dist.join("manifest"), manifest).unwrap();
        }
        Self {
            server,
            served,
            dir,
        }
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("tool-cache")
    }

    /// Runs the installer for `sign` as a runner on `os`/`arch` would.
    fn install(&self, os: &str, arch: &str, extra: &[(&str, &str)]) -> Output {
        let mut command = Command::new("bash");
        command
            .arg(self.dir.path().join("checkout/dist/install.sh"))
            .arg("sign")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("HOME", self.dir.path())
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TOOL_CACHE", self.cache());
        for (name, value) in extra {
            command.env(name, value);
        }
        command.output().unwrap()
    }

    fn downloads(&self) -> usize {
        self.server.requests().len()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The installed binary's own answer.
fn run(path: &str) -> String {
    let output = Command::new(path).output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn each_runner_gets_its_own_asset_checked_and_cached() {
    let release = Release::new(true);
    for (os, arch, target) in [
        ("Linux", "X64", "x86_64-unknown-linux-gnu"),
        ("Linux", "ARM64", "aarch64-unknown-linux-gnu"),
        ("macOS", "ARM64", "aarch64-apple-darwin"),
        ("macOS", "X64", "x86_64-apple-darwin"),
    ] {
        let output = release.install(os, arch, &[]);
        assert!(output.status.success(), "{os}/{arch}: {output:?}");
        let path = stdout(&output);
        assert_eq!(
            Path::new(&path),
            release
                .cache()
                .join(format!("hoist/{VERSION}/{target}/sign"))
        );
        assert_eq!(run(&path), format!("sign for {target}"));
    }
    assert_eq!(release.downloads(), 4);
    let requested: Vec<String> = release
        .server
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(requested.contains(&format!("/{VERSION}/sign-{VERSION}-aarch64-apple-darwin")));
}

#[test]
fn a_cached_binary_is_used_offline() {
    let release = Release::new(true);
    let first = release.install("Linux", "X64", &[]);
    assert!(first.status.success(), "{first:?}");
    // Offline: the download URL leads nowhere, so only the cache can answer.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let again = release.install("Linux", "X64", &[("HOIST_DOWNLOAD_URL", &nowhere)]);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(stdout(&again), stdout(&first));
    assert_eq!(release.downloads(), 1);
    // And without the cache, the same call fails: the URL really is dead.
    std::fs::remove_dir_all(release.cache()).unwrap();
    let uncached = release.install("Linux", "X64", &[("HOIST_DOWNLOAD_URL", &nowhere)]);
    assert_eq!(uncached.status.code(), Some(1));
    assert!(
        stdout(&uncached).contains("could not download"),
        "{uncached:?}"
    );
}

#[test]
fn a_tampered_download_is_refused_and_nothing_is_installed() {
    let release = Release::new(true);
    release.served.lock().unwrap().insert(
        format!("sign-{VERSION}-x86_64-unknown-linux-gnu"),
        b"#!/bin/sh\necho pwned\n".to_vec(),
    );
    let output = release.install("Linux", "X64", &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("::error"), "{text}");
    assert!(text.contains("refused, nothing was installed"), "{text}");
    let cached = release
        .cache()
        .join(format!("hoist/{VERSION}/x86_64-unknown-linux-gnu"));
    let left: Vec<_> = std::fs::read_dir(&cached).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // A cached binary that no longer matches is fetched again, not run.
    release.served.lock().unwrap().insert(
        format!("sign-{VERSION}-x86_64-unknown-linux-gnu"),
        asset("x86_64-unknown-linux-gnu"),
    );
    std::fs::write(cached.join("sign"), b"#!/bin/sh\necho stale\n").unwrap();
    let output = release.install("Linux", "X64", &[]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(run(&stdout(&output)), "sign for x86_64-unknown-linux-gnu");
}

#[test]
fn hoist_bin_dir_overrides_the_release() {
    let release = Release::new(false);
    let bin = release.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let local = bin.join("sign");
    std::fs::write(&local, "#!/bin/sh\necho local build\n").unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(&local)
        .status()
        .unwrap();
    let output = release.install("Linux", "X64", &[("HOIST_BIN_DIR", bin.to_str().unwrap())]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(run(&stdout(&output)), "local build");
    assert_eq!(release.downloads(), 0);

    let empty = release.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let output = release.install(
        "Linux",
        "X64",
        &[("HOIST_BIN_DIR", empty.to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("is not an executable"),
        "{output:?}"
    );
}

#[test]
fn a_ref_without_a_release_manifest_says_how_to_pin_one() {
    let release = Release::new(false);
    let output = release.install("Linux", "X64", &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("::error"), "{text}");
    assert!(text.contains("no release manifest"), "{text}");
    assert!(text.contains("pin a release"), "{text}");
    assert!(text.contains("HOIST_BIN_DIR"), "{text}");
    assert_eq!(release.downloads(), 0);
}

#[test]
fn unknown_platforms_and_plain_http_elsewhere_are_refused() {
    let release = Release::new(true);
    let windows = release.install("Windows", "X64", &[]);
    assert_eq!(windows.status.code(), Some(1));
    assert!(
        stdout(&windows).contains("has no sign-v1.2.3-x86_64-pc-windows-msvc.exe"),
        "{windows:?}"
    );
    let riscv = release.install("Linux", "riscv64", &[]);
    assert!(
        stdout(&riscv).contains("no hoist build for the architecture"),
        "{riscv:?}"
    );
    let http = release.install(
        "Linux",
        "X64",
        &[("HOIST_DOWNLOAD_URL", "http://releases.example.com")],
    );
    assert_eq!(http.status.code(), Some(1));
    assert!(
        stdout(&http).contains("neither https:// nor loopback"),
        "{http:?}"
    );
    assert_eq!(release.downloads(), 0);
}
