//! Property tests over untrusted input: OCI manifests and indexes of any shape, and any bytes
//! as an OCI archive or `docker save` tar, end in a value or an error — never a panic or a hang.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use hoist_oci::digest::Digest;
use hoist_oci::{ImageSource, Manifest, SourceError, media};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

const CONFIG: &[u8] =
    br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
const LAYER: &[u8] = b"not really a tar, but a blob all the same";

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..Config::default()
    }
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": Digest::of(bytes).as_str(), "size": bytes.len()})
}

/// The well-formed image manifest of the seed layout.
fn seed_manifest() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": descriptor(media::OCI_CONFIG, CONFIG),
        "layers": [descriptor(media::OCI_LAYER_TAR, LAYER)],
    }))
    .unwrap()
}

/// An index over `manifest` for two platforms, with an attestation for one of them.
fn seed_index(manifest: &[u8]) -> Vec<u8> {
    let mut amd64 = descriptor(media::OCI_MANIFEST, manifest);
    amd64["platform"] = json!({"os": "linux", "architecture": "amd64"});
    let mut arm64 = descriptor(media::OCI_MANIFEST, manifest);
    arm64["platform"] = json!({"os": "linux", "architecture": "arm64", "variant": "v8"});
    let mut attestation = descriptor(media::OCI_MANIFEST, manifest);
    attestation["platform"] = json!({"os": "unknown", "architecture": "unknown"});
    attestation["annotations"] =
        json!({"vnd.docker.reference.digest": Digest::of(manifest).as_str()});
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": [amd64, arm64, attestation],
    }))
    .unwrap()
}

/// Strings an OCI document is made of: its keys, media types, digests of blobs that exist.
fn word() -> impl Strategy<Value = String> {
    let words: Vec<String> = [
        "schemaVersion",
        "mediaType",
        "manifests",
        "config",
        "layers",
        "digest",
        "size",
        "platform",
        "os",
        "architecture",
        "variant",
        "annotations",
        "vnd.docker.reference.digest",
        "linux",
        "amd64",
        "arm64",
        "sha256:",
        media::OCI_INDEX,
        media::OCI_MANIFEST,
        media::DOCKER_LIST,
        media::DOCKER_MANIFEST,
        media::OCI_CONFIG,
        media::OCI_LAYER_TAR,
    ]
    .into_iter()
    .map(String::from)
    .chain([CONFIG, LAYER].map(|bytes| Digest::of(bytes).to_string()))
    .chain([Digest::of(&seed_manifest()).to_string()])
    .collect();
    prop_oneof![4 => prop::sample::select(words), 1 => any::<String>()]
}

/// JSON values in the shape of OCI documents (keys and strings from [`word`]).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop_oneof![
            Just(0u64),
            Just(CONFIG.len() as u64),
            Just(LAYER.len() as u64),
            any::<u64>()
        ]
        .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        word().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// One edit of a document's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation(alphabet: &'static [u8]) -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![prop::sample::select(alphabet), any::<u8>()];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Mutation::Set(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len();
        match *mutation {
            Mutation::Set(at, b) if len > 0 => bytes[at % len] = b,
            Mutation::Insert(at, b) => bytes.insert(at % (len + 1), b),
            Mutation::Delete(at, n) if len > 0 => {
                let at = at % len;
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Truncate(at) => bytes.truncate(at % (len + 1)),
            _ => {}
        }
    }
    bytes
}

const JSON_BYTES: &[u8] = b"{}[]:,\"\\0123456789-.eE ntfl\n";

/// A document: the seed mutated, or a generated value.
fn document(seed: fn() -> Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(mutation(JSON_BYTES), 0..6).prop_map(move |m| mutate(seed(), &m)),
        json_value().prop_map(|value| serde_json::to_vec(&value).unwrap()),
    ]
}

fn write_blob(root: &Path, bytes: &[u8]) {
    std::fs::write(
        root.join("blobs/sha256").join(Digest::of(bytes).hex()),
        bytes,
    )
    .unwrap();
}

/// A layout directory holding the config, the layer, the seed manifest, `extra` as a blob, and
/// `index` as `index.json`.
fn layout(extra: &[u8], index: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
    std::fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    for bytes in [CONFIG, LAYER, &seed_manifest(), extra] {
        write_blob(root, bytes);
    }
    std::fs::write(root.join("index.json"), index).unwrap();
    dir
}

/// Opens and loads `path` (whole, then narrowed to one platform) on a thread with a bound, so
/// that a hang fails the property instead of the suite. Every manifest loaded names blobs the
/// source can locate, and lists itself last in push order.
fn open_and_load(path: &Path) -> Result<Result<Manifest, SourceError>, TestCaseError> {
    let path = path.to_owned();
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let loaded = ImageSource::open(&path).and_then(|source| {
            let _ = source.load(&["linux/arm64".to_owned()]);
            let manifest = source.load(&[])?;
            for blob in manifest.all_blobs() {
                source.blob_location(&blob.digest)?;
            }
            Ok(manifest)
        });
        let _ = done.send(loaded);
    });
    let loaded = result
        .recv_timeout(Duration::from_secs(20))
        .map_err(|e| TestCaseError::fail(format!("open/load did not finish: {e}")))?;
    if let Ok(manifest) = &loaded {
        let order = manifest.push_order();
        prop_assert_eq!(&order.last().unwrap().digest, &manifest.digest);
        prop_assert_eq!(&Digest::of(&manifest.bytes), &manifest.digest);
    }
    Ok(loaded)
}

/// A tar of `members` (name, bytes).
fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

fn blob_name(bytes: &[u8]) -> String {
    format!("blobs/sha256/{}", Digest::of(bytes).hex())
}

/// An OCI archive of the seed layout (a single-manifest index).
fn oci_archive() -> Vec<u8> {
    let manifest = seed_manifest();
    let index = serde_json::to_vec(
        &json!({"schemaVersion": 2, "manifests": [descriptor(media::OCI_MANIFEST, &manifest)]}),
    )
    .unwrap();
    let names = [blob_name(CONFIG), blob_name(LAYER), blob_name(&manifest)];
    tar(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("index.json", &index),
        (&names[0], CONFIG),
        (&names[1], LAYER),
        (&names[2], &manifest),
    ])
}

/// A Docker < 25 `docker save` tar: `manifest.json`, a config, one layer.
fn docker_save() -> Vec<u8> {
    let listing = serde_json::to_vec(
        &json!([{"Config": "config.json", "RepoTags": ["api:1"], "Layers": ["abc/layer.tar"]}]),
    )
    .unwrap();
    tar(&[
        ("manifest.json", &listing),
        ("config.json", CONFIG),
        ("abc/layer.tar", LAYER),
    ])
}

#[test]
fn the_seeds_load() {
    let manifest = seed_manifest();
    let dir = layout(&manifest, &seed_index(&manifest));
    let root = open_and_load(dir.path()).unwrap().unwrap();
    assert_eq!(root.children.len(), 3);
    for archive in [oci_archive(), docker_save()] {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), archive).unwrap();
        let loaded = open_and_load(file.path()).unwrap().unwrap();
        assert_eq!(loaded.all_blobs().len(), 2);
    }
}

proptest! {
    #![proptest_config(config())]

    /// Any manifest bytes, listed with their true digest and size by a well-formed index.
    #[test]
    fn any_manifest_loads_or_errs(
        manifest in document(seed_manifest),
        media_type in prop_oneof![
            Just(media::OCI_MANIFEST), Just(media::OCI_INDEX), Just(media::DOCKER_LIST), Just(""),
        ],
    ) {
        let index = serde_json::to_vec(
            &json!({"schemaVersion": 2, "manifests": [descriptor(media_type, &manifest)]}),
        ).unwrap();
        let dir = layout(&manifest, &index);
        open_and_load(dir.path())?.ok();
    }

    /// Any `index.json` over a layout holding the seed manifest and an arbitrary blob.
    #[test]
    fn any_index_loads_or_errs(
        index in document(|| seed_index(&seed_manifest())),
        extra in document(seed_manifest),
    ) {
        let dir = layout(&extra, &index);
        open_and_load(dir.path())?.ok();
    }

    /// Arbitrary bytes as an archive: opening it is an error.
    #[test]
    fn arbitrary_bytes_are_not_an_image(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &bytes).unwrap();
        prop_assert!(open_and_load(file.path())?.is_err());
    }

    /// An OCI archive or a `docker save` tar with bytes changed, inserted, deleted or cut off:
    /// it loads or errs.
    #[test]
    fn damaged_archives_load_or_err(
        docker in any::<bool>(),
        mutations in prop::collection::vec(mutation(b"0123456789 \0/.{}\"ustar"), 1..8),
    ) {
        let archive = if docker { docker_save() } else { oci_archive() };
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), mutate(archive, &mutations)).unwrap();
        open_and_load(file.path())?.ok();
    }
}
