//! `scripts/release-pin`, which turns a checkout into a release commit's
//! tree: the manifest (every asset, sorted, with its checksum) the installer
//! then installs from, every nested hoist ref pinned and nothing else
//! changed, the container image pinned by digest, and a table of bad inputs
//! that leave the tree untouched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::{VERSION, release_server, sha256_hex};

const NAMES: &[&str] = &[
    "bump-manifest",
    "ecr-push",
    "oidc-assume",
    "open-promotion-pr",
    "sign",
    "wait-for-sync",
];
const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
];
const DIGEST: &str = "sha256:4c0ffee4c0ffee4c0ffee4c0ffee4c0ffee4c0ffee4c0ffee4c0ffee4c0ffee0";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir`, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, into: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, into);
            } else {
                let name = path.strip_prefix(base).unwrap().display().to_string();
                into.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Whether `text` names any hoist ref at `@main`.
fn names_hoist_at_main(text: &str) -> bool {
    text.match_indices("hoist-actions/hoist").any(|(at, _)| {
        text[at..]
            .split(|c: char| c.is_whitespace() || c == '\'' || c == '"')
            .next()
            .is_some_and(|reference| reference.ends_with("@main"))
    })
}

/// A checkout of hoist's release-relevant files, and the build's assets.
struct Checkout {
    dir: tempfile::TempDir,
    assets: BTreeMap<String, Vec<u8>>,
}

impl Checkout {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("hoist");
        for sub in ["actions", "dist"] {
            copy_tree(&root().join(sub), &tree.join(sub));
        }
        std::fs::create_dir_all(tree.join("scripts")).unwrap();
        std::fs::create_dir_all(tree.join(".github/workflows")).unwrap();
        for file in [
            "action.yml",
            "scripts/release-pin",
            ".github/workflows/ship.yml",
            ".github/workflows/promote.yml",
            ".github/workflows/update-image.yml",
            ".github/workflows/ci.yml",
        ] {
            std::fs::copy(root().join(file), tree.join(file)).unwrap();
        }
        let mut assets = BTreeMap::new();
        let asset_dir = dir.path().join("assets");
        std::fs::create_dir_all(&asset_dir).unwrap();
        for name in NAMES {
            for target in TARGETS {
                let suffix = if target.contains("windows") {
                    ".exe"
                } else {
                    ""
                };
                let asset = format!("{name}-{VERSION}-{target}{suffix}");
                let bytes = format!("#!/bin/sh\necho {name} for {target}\n").into_bytes();
                std::fs::write(asset_dir.join(&asset), &bytes).unwrap();
                std::fs::write(
                    asset_dir.join(format!("{asset}.sha256")),
                    format!("{}  {asset}\n", sha256_hex(&bytes)),
                )
                .unwrap();
                assets.insert(asset, bytes);
            }
        }
        // The container entrypoint, built for linux only.
        for target in &TARGETS[..2] {
            let asset = format!("hoist-{VERSION}-{target}");
            let bytes = format!("#!/bin/sh\necho hoist for {target}\n").into_bytes();
            std::fs::write(asset_dir.join(&asset), &bytes).unwrap();
            assets.insert(asset, bytes);
        }
        Self { dir, assets }
    }

    fn tree(&self) -> PathBuf {
        self.dir.path().join("hoist")
    }

    fn pin(&self, args: &[&str]) -> Output {
        Command::new("bash")
            .arg("scripts/release-pin")
            .args(args)
            .current_dir(self.tree())
            .output()
            .unwrap()
    }

    fn asset_dir(&self) -> String {
        self.dir.path().join("assets").display().to_string()
    }
}

#[test]
fn the_release_tree_has_the_manifest_and_every_hoist_ref_pinned() {
    let checkout = Checkout::new();
    let before = snapshot(&checkout.tree());
    let at_main = |files: &BTreeMap<String, Vec<u8>>| {
        files
            .values()
            .filter(|bytes| names_hoist_at_main(&String::from_utf8_lossy(bytes)))
            .count()
    };
    assert!(
        at_main(&before) >= 5,
        "main's tree names its hoist refs @main"
    );
    let output = checkout.pin(&[VERSION, &checkout.asset_dir(), DIGEST]);
    assert!(output.status.success(), "{output:?}");
    let after = snapshot(&checkout.tree());

    // The manifest: the version, the base URL, every asset's checksum.
    let manifest = String::from_utf8(after["dist/manifest"].clone()).unwrap();
    assert!(
        manifest.contains(&format!("\nversion {VERSION}\n")),
        "{manifest}"
    );
    assert!(
        manifest.contains("\nbase-url https://github.com/hoist-actions/hoist/releases/download\n")
    );
    let lines: Vec<&str> = manifest
        .lines()
        .filter(|l| {
            l.split_once("  ").is_some_and(|(sum, _)| {
                sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit())
            })
        })
        .collect();
    // One line per asset (the six actions on five targets, the entrypoint on
    // two), in the order of the asset names (BTreeMap's), nothing else.
    let expected: Vec<String> = checkout
        .assets
        .iter()
        .map(|(asset, bytes)| format!("{}  {asset}", sha256_hex(bytes)))
        .collect();
    assert_eq!(lines, expected);
    assert_eq!(lines.len(), NAMES.len() * TARGETS.len() + 2);
    assert_eq!(
        manifest.lines().count(),
        lines.len() + 3,
        "a comment, the version, the base URL and the assets: {manifest}"
    );

    // Every other change is a hoist ref moved from @main to the version, or
    // the container image pinned by digest; the rest is byte for byte.
    let mut pinned_refs = 0;
    for (path, old) in &before {
        let old = String::from_utf8(old.clone()).unwrap_or_default();
        let new = String::from_utf8(after[path].clone()).unwrap_or_default();
        pinned_refs += new.matches(&format!("@{VERSION}")).count();
        let undone = new.replace(&format!("@{VERSION}"), "@main").replace(
            &format!("image: docker://ghcr.io/hoist-actions/hoist@{DIGEST}"),
            "image: Dockerfile",
        );
        assert_eq!(undone, old, "{path} changed beyond its pins");
        if path != ".github/workflows/ci.yml" {
            assert!(
                !names_hoist_at_main(&new),
                "{path} still names a hoist ref @main"
            );
        }
    }
    assert!(pinned_refs >= 10, "only {pinned_refs} refs pinned");
    let container = String::from_utf8(after["actions/container/action.yml"].clone()).unwrap();
    assert!(container.contains(&format!(
        "image: docker://ghcr.io/hoist-actions/hoist@{DIGEST}"
    )));

    // Idempotent.
    let again = checkout.pin(&[VERSION, &checkout.asset_dir(), DIGEST]);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(snapshot(&checkout.tree()), after);
}

#[test]
fn the_installer_of_the_release_tree_installs_the_released_bytes() {
    let checkout = Checkout::new();
    let output = checkout.pin(&[VERSION, &checkout.asset_dir()]);
    assert!(output.status.success(), "{output:?}");
    let server = release_server(&Arc::new(Mutex::new(checkout.assets.clone())));
    let cache = checkout.dir.path().join("tool-cache");
    let installed = Command::new("bash")
        .arg(checkout.tree().join("dist/install.sh"))
        .arg("open-promotion-pr")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", checkout.dir.path())
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "ARM64")
        .env("RUNNER_TOOL_CACHE", &cache)
        .env("HOIST_DOWNLOAD_URL", server.url())
        .output()
        .unwrap();
    assert!(installed.status.success(), "{installed:?}");
    let path = String::from_utf8(installed.stdout).unwrap();
    assert_eq!(
        std::fs::read(path.trim()).unwrap(),
        checkout.assets[&format!("open-promotion-pr-{VERSION}-aarch64-unknown-linux-gnu")]
    );
}

#[test]
fn a_tree_without_the_reusable_workflows_is_pinned_too() {
    let checkout = Checkout::new();
    std::fs::remove_dir_all(checkout.tree().join(".github")).unwrap();
    let output = checkout.pin(&[VERSION, &checkout.asset_dir()]);
    assert!(output.status.success(), "{output:?}");
    let one_step = std::fs::read_to_string(checkout.tree().join("action.yml")).unwrap();
    assert!(!names_hoist_at_main(&one_step), "{one_step}");
    assert!(one_step.contains(&format!("hoist-actions/hoist/actions/sign@{VERSION}")));
    assert!(checkout.tree().join("dist/manifest").is_file());
    assert!(!checkout.tree().join(".github").exists());
}

#[test]
fn bad_inputs_are_refused_with_one_error_and_the_tree_untouched() {
    // (what, the arguments, after preparing the checkout; the error's words)
    type Row<'a> = (&'a str, &'a dyn Fn(&Checkout) -> Vec<String>, &'a str);
    let rows: &[Row] = &[
        (
            "a version without its v",
            &|c| vec!["1.2.3".into(), c.asset_dir()],
            "not a release version",
        ),
        (
            "a version with two parts",
            &|c| vec!["v1.2".into(), c.asset_dir()],
            "not a release version",
        ),
        (
            "a version that is a path",
            &|c| vec!["v1.2.3/../x".into(), c.asset_dir()],
            "not a release version",
        ),
        (
            "no asset directory",
            &|c| {
                vec![
                    VERSION.into(),
                    c.dir.path().join("nowhere").display().to_string(),
                ]
            },
            "does not exist",
        ),
        (
            "an asset missing",
            &|c| {
                std::fs::remove_file(
                    Path::new(&c.asset_dir())
                        .join(format!("sign-{VERSION}-x86_64-pc-windows-msvc.exe")),
                )
                .unwrap();
                vec![VERSION.into(), c.asset_dir()]
            },
            "sign-v1.2.3-x86_64-pc-windows-msvc.exe is missing",
        ),
        (
            "an empty asset directory",
            &|c| {
                let empty = c.dir.path().join("empty");
                std::fs::create_dir(&empty).unwrap();
                vec![VERSION.into(), empty.display().to_string()]
            },
            "holds no assets",
        ),
        (
            "another version's asset among them",
            &|c| {
                std::fs::write(
                    Path::new(&c.asset_dir()).join("sign-v1.2.2-x86_64-unknown-linux-gnu"),
                    b"old",
                )
                .unwrap();
                vec![VERSION.into(), c.asset_dir()]
            },
            "'sign-v1.2.2-x86_64-unknown-linux-gnu', which is not an asset of v1.2.3",
        ),
        (
            "an asset that differs from its .sha256",
            &|c| {
                std::fs::write(
                    Path::new(&c.asset_dir())
                        .join(format!("ecr-push-{VERSION}-aarch64-apple-darwin")),
                    b"swapped after the build",
                )
                .unwrap();
                vec![VERSION.into(), c.asset_dir()]
            },
            "but ecr-push-v1.2.3-aarch64-apple-darwin.sha256 says",
        ),
        (
            "a malformed digest",
            &|c| vec![VERSION.into(), c.asset_dir(), "sha256:xyz".into()],
            "not an image digest",
        ),
        (
            "a digest in upper case",
            &|c| {
                vec![
                    VERSION.into(),
                    c.asset_dir(),
                    DIGEST.to_uppercase().replace("SHA256", "sha256"),
                ]
            },
            "not an image digest",
        ),
        (
            "a digest without its algorithm",
            &|c| {
                vec![
                    VERSION.into(),
                    c.asset_dir(),
                    DIGEST.trim_start_matches("sha256:").into(),
                ]
            },
            "not an image digest",
        ),
        (
            "a digest and a container action pinned elsewhere",
            &|c| {
                let path = c.tree().join("actions/container/action.yml");
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(
                    &path,
                    text.replace(
                        "image: Dockerfile",
                        "image: docker://example.test/other@sha256:00",
                    ),
                )
                .unwrap();
                vec![VERSION.into(), c.asset_dir(), DIGEST.into()]
            },
            "nothing to pin",
        ),
    ];
    for (what, args, words) in rows {
        let checkout = Checkout::new();
        let args = args(&checkout);
        let before = snapshot(&checkout.tree());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = checkout.pin(&args);
        assert_eq!(output.status.code(), Some(1), "{what}: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let errors: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("::error"))
            .collect();
        assert_eq!(errors.len(), 1, "{what}: {stdout}");
        assert!(
            errors[0].contains(words) && errors[0].contains("Hint:"),
            "{what}: {stdout}"
        );
        assert_eq!(
            snapshot(&checkout.tree()),
            before,
            "{what}: the tree changed"
        );
    }
}
