//! The world a sign test runs in: the Debian `docker-registry` with an
//! htpasswd user, an image pushed there by skopeo, the Rekor stand-in, a
//! cosign-format key, and a runner sandbox wired to them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hoist_cosign::SigningKey;
use hoist_testkit::fulcio::{FulcioStandIn, trusted_root};
use hoist_testkit::oci::{Layout, layer};
use hoist_testkit::oidc::OidcIssuer;
use hoist_testkit::peers::require;
use hoist_testkit::rekor::RekorStandIn;
use hoist_testkit::{Registry, RegistryAuth, RunResult, Sandbox};
use serde_json::Value;

pub(crate) const USER: &str = "ci";
pub(crate) const PASSWORD: &str = "pw-7c1e0b";
pub(crate) const REPOSITORY: &str = "myshop/order-service";
pub(crate) const KEY_PASSWORD: &str = "key-pw-93d1";

pub(crate) struct World {
    pub(crate) registry: Registry,
    pub(crate) rekor: RekorStandIn,
    pub(crate) sandbox: Sandbox,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) key: SigningKey,
    /// The image's manifest digest.
    pub(crate) digest: String,
}

impl World {
    /// A registry holding one image tagged `v1`, a Rekor log, a key, and
    /// a sandbox set up to sign that image by digest with the key.
    pub(crate) fn new() -> Self {
        let registry = Registry::start(RegistryAuth::Htpasswd {
            username: USER.into(),
            password: PASSWORD.into(),
        });
        let rekor = RekorStandIn::start();
        let dir = tempfile::tempdir().unwrap();
        let digest = push_image(&registry.host(), dir.path(), "v1", "order-service v1");
        let key = SigningKey::generate().unwrap();
        let mut world = Self {
            sandbox: Sandbox::new(),
            registry,
            rekor,
            dir,
            key,
            digest,
        };
        world.sandbox = world.job();
        world
    }

    /// A fresh sandbox signing the world's image.
    pub(crate) fn job(&self) -> Sandbox {
        let mut sandbox = Sandbox::new();
        sandbox
            .env("HOIST_BACKOFF_SCALE", "0")
            .env("COSIGN_PASSWORD", KEY_PASSWORD)
            .input("image", &self.image())
            .input("key", &self.key.to_encrypted_pem(KEY_PASSWORD).unwrap())
            .input("rekor-url", &self.rekor.url())
            .input("rekor-public-key", &self.rekor.public_key_pem())
            .input("insecure-registry", "true")
            .input("registry-username", USER)
            .input("registry-password", PASSWORD);
        sandbox
    }

    /// A sandbox verifying the world's image with `key`'s public half.
    pub(crate) fn verifier(&self, key: &SigningKey) -> Sandbox {
        let mut sandbox = self.job();
        sandbox
            .input("mode", "verify")
            .input("key", &key.public_key().to_pem());
        sandbox
    }

    /// `registry/repository@digest`.
    pub(crate) fn image(&self) -> String {
        format!("{}/{REPOSITORY}@{}", self.registry.host(), self.digest)
    }

    pub(crate) fn hex(&self) -> &str {
        &self.digest["sha256:".len()..]
    }

    pub(crate) fn run(&self) -> RunResult {
        self.sandbox.run(binary(), &[])
    }

    /// The raw manifest a tag or digest names, read back by skopeo.
    pub(crate) fn inspect(&self, reference: &str) -> Option<Value> {
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
            &["inspect", "--raw", "--tls-verify=false", &image],
            self.dir.path(),
        )
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
    }

    /// A blob's bytes, straight from the registry's storage directory.
    pub(crate) fn blob(&self, digest: &str) -> Vec<u8> {
        let hex = &digest["sha256:".len()..];
        let path = self
            .registry
            .storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// A private Sigstore for keyless tests: GitHub's OIDC issuer, Fulcio
/// (trusting that issuer), and a trusted_root.json describing Fulcio and
/// the world's Rekor.
pub(crate) struct Sigstore {
    pub(crate) issuer: OidcIssuer,
    pub(crate) fulcio: FulcioStandIn,
    /// The trusted_root.json file.
    pub(crate) root: PathBuf,
}

/// The identity the issuer's default claims get from Fulcio.
pub(crate) const IDENTITY: &str =
    "https://github.com/acme/shop/.github/workflows/ci.yaml@refs/heads/main";
/// GitHub's OIDC issuer.
pub(crate) const ISSUER: &str = "https://token.actions.githubusercontent.com";

impl World {
    /// Starts a Sigstore around the world's Rekor.
    pub(crate) fn sigstore(&self) -> Sigstore {
        let issuer = OidcIssuer::start();
        let fulcio = FulcioStandIn::start(&issuer);
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = self.dir.path().join(format!("trusted_root-{n}.json"));
        std::fs::write(&root, trusted_root(&fulcio, &self.rekor).to_string()).unwrap();
        Sigstore {
            issuer,
            fulcio,
            root,
        }
    }

    /// A sandbox signing the world's image keyless: no key, the job's OIDC
    /// token, the Sigstore's Fulcio and root.
    pub(crate) fn keyless_job(&self, sigstore: &Sigstore) -> Sandbox {
        let mut sandbox = self.job();
        sandbox
            .input("key", "")
            .input("rekor-public-key", "")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                &sigstore.issuer.request_url(),
            )
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                &sigstore.issuer.request_token(),
            )
            .input("fulcio-url", &sigstore.fulcio.url())
            .input("trusted-root", sigstore.root.to_str().unwrap());
        sandbox
    }

    /// A sandbox verifying keyless signatures of the world's image made by
    /// `identity`.
    pub(crate) fn keyless_verifier(&self, sigstore: &Sigstore, identity: &str) -> Sandbox {
        let mut sandbox = self.keyless_job(sigstore);
        sandbox
            .input("mode", "verify")
            .input("certificate-identity", identity);
        sandbox
    }
}

pub(crate) fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_sign")
}

/// Builds a one-layer image and pushes it with skopeo as `tag`; returns
/// its manifest digest.
pub(crate) fn push_image(host: &str, scratch: &Path, tag: &str, content: &str) -> String {
    let dir: PathBuf = scratch.join(format!("image-{tag}"));
    let layout = Layout::new(&dir);
    let root = layout.image(
        "linux/amd64",
        &[layer("app/version.txt", content.as_bytes())],
    );
    let digest = layout.finish(&root);
    skopeo(
        &[
            "copy",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &format!("oci:{}", dir.display()),
            &format!("docker://{host}/{REPOSITORY}:{tag}"),
        ],
        scratch,
    )
    .expect("skopeo pushes the test image");
    digest
}

/// Runs skopeo with an auth file for the test user (credentials stay out
/// of argv); `None` when it fails.
pub(crate) fn skopeo(args: &[&str], scratch: &Path) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let auth = scratch.join("skopeo-auth.json");
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let hosts: Vec<String> = args
        .iter()
        .filter_map(|a| a.strip_prefix("docker://"))
        .filter_map(|a| a.split('/').next())
        .map(|h| format!(r#""{h}":{{"auth":"{token}"}}"#))
        .collect();
    std::fs::write(&auth, format!(r#"{{"auths":{{{}}}}}"#, hosts.join(","))).unwrap();
    let program = require("skopeo", "the Debian package `skopeo`");
    let output = Command::new(program)
        .arg(args[0])
        .args(["--authfile", auth.to_str().unwrap()])
        .args(&args[1..])
        .output()
        .unwrap();
    output.status.success().then_some(output.stdout)
}
