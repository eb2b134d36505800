//! Image sources whose files are not what they claim: symlinks to devices
//! or out of the layout, FIFOs, oversized manifests. Each ends with one
//! clear error, and none blocks: every read runs on a thread the test
//! gives a bound, so a regression fails instead of hanging the suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use hoist_oci::digest::Digest;
use hoist_oci::image::MAX_DOCUMENT;
use hoist_oci::{ImageSource, Manifest, SourceError};

/// A well-formed layout: a config, one layer, a manifest, and the index
/// naming it. Returns the manifest's blob path.
struct Layout {
    dir: tempfile::TempDir,
    manifest: PathBuf,
    layer: PathBuf,
}

fn blob(root: &Path, bytes: &[u8]) -> (Digest, PathBuf) {
    let digest = Digest::of(bytes);
    let path = root.join("blobs/sha256").join(digest.hex());
    std::fs::write(&path, bytes).unwrap();
    (digest, path)
}

fn layout() -> Layout {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
    std::fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let (config_digest, _) = blob(root, config);
    let layer = b"not really a tar, but a blob all the same";
    let (layer_digest, layer_path) = blob(root, layer);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.as_str(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest.as_str(), "size": layer.len()}],
    }))
    .unwrap();
    let (manifest_digest, manifest_path) = blob(root, &manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest.as_str(), "size": manifest.len()}],
    });
    std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    Layout {
        dir,
        manifest: manifest_path,
        layer: layer_path,
    }
}

/// Opens and loads `path` on a thread; a read that blocks fails the test
/// after a generous bound instead of hanging it.
fn load(path: &Path) -> Result<Manifest, SourceError> {
    let path = path.to_owned();
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let loaded = ImageSource::open(&path).and_then(|source| source.load(&[]));
        let _ = done.send(loaded);
    });
    result
        .recv_timeout(Duration::from_secs(60))
        .expect("reading the source blocked")
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn replace_with_symlink(path: &Path, target: &Path) {
    std::fs::remove_file(path).unwrap();
    std::os::unix::fs::symlink(target, path).unwrap();
}

#[test]
fn the_well_formed_layout_loads() {
    let layout = layout();
    let manifest = load(layout.dir.path()).unwrap();
    assert_eq!(manifest.blobs.len(), 2);
}

#[test]
fn a_symlink_inside_the_layout_is_followed() {
    let layout = layout();
    let copy = layout.dir.path().join("manifest-copy");
    std::fs::rename(&layout.manifest, &copy).unwrap();
    std::os::unix::fs::symlink(&copy, &layout.manifest).unwrap();
    let manifest = load(layout.dir.path()).unwrap();
    assert_eq!(manifest.blobs.len(), 2);
}

#[test]
fn a_manifest_blob_that_is_a_symlink_to_dev_zero_is_refused_at_once() {
    let layout = layout();
    replace_with_symlink(&layout.manifest, Path::new("/dev/zero"));
    let error = load(layout.dir.path()).unwrap_err();
    match &error {
        SourceError::Escapes { target, .. } => assert_eq!(target, "/dev/zero"),
        other => panic!("expected Escapes, got {other:?}"),
    }
    assert!(
        error.to_string().contains("outside the image layout"),
        "{error}"
    );
}

#[test]
fn a_manifest_blob_that_is_a_fifo_is_refused_without_opening_it() {
    let layout = layout();
    std::fs::remove_file(&layout.manifest).unwrap();
    mkfifo(&layout.manifest);
    let error = load(layout.dir.path()).unwrap_err();
    match &error {
        SourceError::NotRegular { path, kind } => {
            assert!(path.starts_with("blobs/sha256/"), "{path}");
            assert_eq!(*kind, "FIFO (named pipe)");
        }
        other => panic!("expected NotRegular, got {other:?}"),
    }
    assert!(error.to_string().contains("not a regular file"), "{error}");
}

#[test]
fn a_blob_symlink_out_of_the_layout_is_refused_even_with_the_right_bytes() {
    let layout = layout();
    let outside = tempfile::tempdir().unwrap();
    let elsewhere = outside.path().join("manifest");
    std::fs::copy(&layout.manifest, &elsewhere).unwrap();
    replace_with_symlink(&layout.manifest, &elsewhere);
    let error = load(layout.dir.path()).unwrap_err();
    let SourceError::Escapes { target, root, .. } = &error else {
        panic!("expected Escapes, got {error:?}");
    };
    assert_eq!(Path::new(target), elsewhere.canonicalize().unwrap());
    assert_eq!(Path::new(root), layout.dir.path().canonicalize().unwrap());
}

#[test]
fn a_layer_symlink_out_of_the_layout_is_refused() {
    let layout = layout();
    let outside = tempfile::tempdir().unwrap();
    let elsewhere = outside.path().join("layer");
    std::fs::copy(&layout.layer, &elsewhere).unwrap();
    replace_with_symlink(&layout.layer, &elsewhere);
    let error = load(layout.dir.path()).unwrap_err();
    assert!(matches!(error, SourceError::Escapes { .. }), "{error:?}");
}

#[test]
fn a_manifest_over_the_cap_is_refused_naming_the_file_and_the_cap() {
    let layout = layout();
    std::fs::write(&layout.manifest, vec![b' '; MAX_DOCUMENT as usize + 1]).unwrap();
    let error = load(layout.dir.path()).unwrap_err();
    let SourceError::TooLarge { path, cap } = &error else {
        panic!("expected TooLarge, got {error:?}");
    };
    assert!(path.starts_with("blobs/sha256/"), "{path}");
    assert_eq!(*cap, MAX_DOCUMENT);
    assert!(error.to_string().contains("larger than 4 MiB"), "{error}");
}

#[test]
fn a_source_that_is_a_fifo_is_refused_without_opening_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("image.tar");
    mkfifo(&fifo);
    let error = load(&fifo).unwrap_err();
    assert!(
        matches!(
            error,
            SourceError::NotRegular {
                kind: "FIFO (named pipe)",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_source_that_is_a_character_device_is_refused() {
    let error = load(Path::new("/dev/zero")).unwrap_err();
    assert!(
        matches!(
            error,
            SourceError::NotRegular {
                kind: "character device",
                ..
            }
        ),
        "{error:?}"
    );
}
