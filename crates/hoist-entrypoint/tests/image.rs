//! The container action's image without Docker: `actions/container/
//! Dockerfile`'s filesystem assembled as an OCI layout from the freshly
//! built binaries, pushed by the real `ecr-push` into `docker-registry`,
//! read back by skopeo, unpacked, and its entrypoint run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use hoist_testkit::action_yml::declared;
use hoist_testkit::oci::{Layout, files_layer};
use hoist_testkit::peers::require;
use hoist_testkit::{Registry, RegistryAuth, Sandbox};
use serde_json::{Value, json};

const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn container_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/container")
}

/// The Dockerfile, read as the instructions the test knows; any other
/// instruction fails the test, so the Dockerfile cannot grow what this
/// check would miss.
#[derive(Debug, Default)]
struct Dockerfile {
    /// (sources, destination) per COPY, `${TARGETARCH}` substituted.
    copies: Vec<(Vec<String>, String)>,
    env: Vec<String>,
    labels: BTreeMap<String, String>,
    entrypoint: Vec<String>,
}

fn parse_dockerfile(text: &str, arch: &str) -> Dockerfile {
    let mut parsed = Dockerfile::default();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let line = line.replace("${TARGETARCH}", arch);
        let (instruction, rest) = line.split_once(' ').unwrap();
        match instruction {
            "FROM" => assert_eq!(rest, "scratch", "the image must be FROM scratch"),
            "ARG" => assert_eq!(rest, "TARGETARCH"),
            "LABEL" => {
                let (key, value) = rest.split_once('=').unwrap();
                parsed
                    .labels
                    .insert(key.into(), value.trim_matches('"').into());
            }
            "ENV" => parsed.env.push(rest.to_owned()),
            "COPY" => {
                let mut words: Vec<String> = rest.split_whitespace().map(String::from).collect();
                let destination = words.pop().unwrap();
                parsed.copies.push((words, destination));
            }
            "ENTRYPOINT" => parsed.entrypoint = serde_json::from_str(rest).unwrap(),
            other => panic!("the image test does not know the instruction {other}"),
        }
    }
    parsed
}

/// The build context the release stages: the linux binaries under
/// `bin/<arch>/` (here, this build's) and the CA bundle.
fn stage_context(dir: &Path, arch: &str) -> PathBuf {
    let context = dir.join("context");
    let bin = context.join("bin").join(arch);
    std::fs::create_dir_all(&bin).unwrap();
    let built = Path::new(env!("CARGO_BIN_EXE_hoist")).parent().unwrap();
    for name in hoist_entrypoint::COMMANDS.iter().chain(&["hoist"]) {
        let binary = built.join(name);
        assert!(
            binary.is_file(),
            "{} is not built: run `cargo build --workspace`",
            binary.display()
        );
        std::fs::copy(&binary, bin.join(name)).unwrap();
    }
    assert!(
        Path::new(CA_BUNDLE).is_file(),
        "{CA_BUNDLE} is missing: install the Debian package `ca-certificates`"
    );
    std::fs::copy(CA_BUNDLE, context.join("ca-certificates.crt")).unwrap();
    context
}

/// Each file of the image by path: its mode and bytes.
type Files = BTreeMap<String, (u32, Vec<u8>)>;

/// The image's filesystem as `COPY` makes it: one layer per instruction,
/// each file with its source's mode.
fn layers(dockerfile: &Dockerfile, context: &Path) -> (Vec<Vec<u8>>, Files) {
    let mut files = BTreeMap::new();
    let layers = dockerfile
        .copies
        .iter()
        .map(|(sources, destination)| {
            let entries: Vec<(String, u32, Vec<u8>)> = sources
                .iter()
                .map(|source| {
                    let path = context.join(source);
                    let target = if destination.ends_with('/') {
                        format!(
                            "{destination}{}",
                            path.file_name().unwrap().to_string_lossy()
                        )
                    } else {
                        destination.clone()
                    };
                    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
                    (target, mode, std::fs::read(&path).unwrap())
                })
                .collect();
            for (path, mode, bytes) in &entries {
                files.insert(path.clone(), (*mode, bytes.clone()));
            }
            files_layer(&entries)
        })
        .collect();
    (layers, files)
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let output = Command::new(require("skopeo", "the Debian package `skopeo`"))
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "skopeo {args:?}: {output:?}");
    output.stdout
}

/// Unpacks the layers of the image skopeo copied to `dir` (its `dir:`
/// transport: `manifest.json` and each blob named by its hex digest), as
/// the registry served them.
fn unpack(dir: &Path, rootfs: &Path) {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    for layer in manifest["layers"].as_array().unwrap() {
        let digest = layer["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:");
        let mut archive = tar::Archive::new(std::fs::File::open(dir.join(digest)).unwrap());
        archive.set_preserve_permissions(true);
        archive.unpack(rootfs).unwrap();
    }
}

#[test]
fn the_dockerfile_image_holds_the_actions_and_runs_the_one_command_names() {
    let dir = tempfile::tempdir().unwrap();
    let dockerfile = parse_dockerfile(
        &std::fs::read_to_string(container_dir().join("Dockerfile")).unwrap(),
        "amd64",
    );
    let context = stage_context(dir.path(), "amd64");
    let (layers, files) = layers(&dockerfile, &context);
    let layout = Layout::new(&dir.path().join("layout"));
    let config = json!({
        "Entrypoint": dockerfile.entrypoint,
        "Env": dockerfile.env,
        "Labels": dockerfile.labels,
    });
    let image = layout.image_with_config("linux/amd64", &layers, config);
    layout.finish(&image);

    // Pushed by hoist's own ecr-push.
    let registry = Registry::start(RegistryAuth::Anonymous);
    let ecr_push = Path::new(env!("CARGO_BIN_EXE_hoist")).with_file_name("ecr-push");
    let mut push = Sandbox::new();
    push.input("source", &layout.dir().display().to_string())
        .input("registry", &registry.host())
        .input("repository", "hoist-actions/hoist")
        .input("tags", "v0.0.0-test")
        .input("insecure-registry", "true");
    let pushed = push.run(&ecr_push, &[]);
    assert_eq!(pushed.code, Some(0), "{}", pushed.stdout);
    let reference = format!(
        "docker://{}/hoist-actions/hoist:v0.0.0-test",
        registry.host()
    );

    // Read back: the config says how it runs.
    let config: Value = serde_json::from_slice(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--config",
        &reference,
    ]))
    .unwrap();
    assert_eq!(
        config["config"]["Entrypoint"],
        json!(["/usr/local/bin/hoist"])
    );
    let env = config["config"]["Env"].as_array().unwrap();
    assert!(
        env.contains(&json!("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")),
        "{env:?}"
    );
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.source"],
        "https://github.com/hoist-actions/hoist"
    );

    // And holds exactly the files, bytes and modes the Dockerfile copies.
    let pulled = dir.path().join("pulled");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &reference,
        &format!("dir:{}", pulled.display()),
    ]);
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    unpack(&pulled, &rootfs);
    for name in hoist_entrypoint::COMMANDS.iter().chain(&["hoist"]) {
        let path = format!("/usr/local/bin/{name}");
        let unpacked = rootfs.join(path.trim_start_matches('/'));
        assert_eq!(std::fs::read(&unpacked).unwrap(), files[&path].1, "{path}");
        let mode = std::fs::metadata(&unpacked).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "{path}");
    }
    assert_eq!(
        std::fs::read(rootfs.join("etc/ssl/certs/ca-certificates.crt")).unwrap(),
        std::fs::read(CA_BUNDLE).unwrap()
    );
    assert_eq!(files.len(), 8, "{:?}", files.keys());

    // The entrypoint runs the action `command` names, with its own inputs.
    let entrypoint = rootfs.join("usr/local/bin/hoist");
    let mut job = Sandbox::new();
    job.input("command", "wait-for-sync");
    let waited = job.run(&entrypoint, &[]);
    assert_eq!(waited.code, Some(1), "{}", waited.stdout);
    assert!(
        waited.stdout.contains("::error title=wait-for-sync::"),
        "{}",
        waited.stdout
    );

    let mut job = Sandbox::new();
    job.input("command", "ecr-push");
    let help = job.run(&entrypoint, &["--version"]);
    assert_eq!(help.code, Some(0), "{}", help.stdout);
    assert!(help.stdout.starts_with("ecr-push "), "{}", help.stdout);

    for bad in ["deploy", "../../bin/sh", "hoist"] {
        let mut job = Sandbox::new();
        job.input("command", bad);
        let refused = job.run(&entrypoint, &[]);
        assert_eq!(refused.code, Some(1), "{bad}");
        let errors: Vec<&str> = refused
            .stdout
            .lines()
            .filter(|l| l.starts_with("::error"))
            .collect();
        assert_eq!(errors.len(), 1, "{bad}: {}", refused.stdout);
        assert!(errors[0].contains("not a hoist action"), "{}", errors[0]);
    }
}

#[test]
fn the_container_action_declares_every_input_and_output_of_the_six() {
    let container = container_dir().join("action.yml");
    let inputs: BTreeMap<String, Option<String>> =
        declared(&container, "inputs").into_iter().collect();
    let outputs: Vec<String> = declared(&container, "outputs")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(inputs.get("command"), Some(&None));
    for action in hoist_entrypoint::COMMANDS {
        let path = container_dir().join(format!("../{action}/action.yml"));
        for (name, default) in declared(&path, "inputs") {
            let Some(ours) = inputs.get(&name) else {
                panic!("the container action lacks {action}'s input `{name}`");
            };
            // Ours is the action's default, or none (the binary applies it).
            assert!(
                ours.is_none() || *ours == default,
                "`{name}`: the container says {ours:?}, {action} says {default:?}"
            );
        }
        for (name, _) in declared(&path, "outputs") {
            assert!(
                outputs.contains(&name),
                "the container action lacks {action}'s output `{name}`"
            );
        }
    }
}
