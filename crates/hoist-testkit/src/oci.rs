//! Test images: OCI layouts, OCI archives and docker save tars made by test
//! code, with real tar layers.

use std::path::{Path, PathBuf};

use ring::digest::{SHA256, digest};
use serde_json::{Value, json};

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let hex: String = digest(&SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A tar holding one file, as a layer.
pub fn layer(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    builder
        .append_data(&mut header, name, contents)
        .expect("tar layer");
    builder.into_inner().expect("tar bytes")
}

/// A tar of files with their modes (`path`, `mode`, bytes), as a layer;
/// parents are implied, as in the layers `COPY` makes.
pub fn files_layer(files: &[(String, u32, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, mode, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                path.trim_start_matches('/'),
                contents.as_slice(),
            )
            .expect("tar layer");
    }
    builder.into_inner().expect("tar bytes")
}

/// An OCI image layout being written.
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// An empty layout at `dir`.
    pub fn new(dir: &Path) -> Self {
        std::fs::create_dir_all(dir.join("blobs/sha256")).expect("layout dirs");
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("oci-layout");
        Self {
            dir: dir.to_owned(),
        }
    }

    /// The layout's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a blob and returns its descriptor.
    pub fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = sha256(bytes);
        std::fs::write(self.dir.join("blobs/sha256").join(&digest[7..]), bytes).expect("blob");
        json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    }

    /// Writes an image with these layers (uncompressed tars) for `platform`
    /// (`os/arch`), returning the manifest's descriptor.
    pub fn image(&self, platform: &str, layers: &[Vec<u8>]) -> Value {
        self.image_with_config(platform, layers, json!({}))
    }

    /// [`Layout::image`] with the image config's `config` object
    /// (`Entrypoint`, `Env`, `Labels`…).
    pub fn image_with_config(&self, platform: &str, layers: &[Vec<u8>], run: Value) -> Value {
        let (os, arch) = platform.split_once('/').expect("os/arch");
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
        let config = json!({"architecture": arch, "os": os, "rootfs": {"type": "layers", "diff_ids": diff_ids}, "config": run});
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            config.to_string().as_bytes(),
        );
        let layers: Vec<Value> = layers
            .iter()
            .map(|l| self.blob("application/vnd.oci.image.layer.v1.tar", l))
            .collect();
        let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": layers});
        let mut descriptor = self.blob(
            "application/vnd.oci.image.manifest.v1+json",
            manifest.to_string().as_bytes(),
        );
        descriptor["platform"] = json!({"os": os, "architecture": arch});
        descriptor
    }

    /// Writes an index of `manifests` as a blob, returning its descriptor.
    pub fn index(&self, manifests: &[Value]) -> Value {
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        self.blob(
            "application/vnd.oci.image.index.v1+json",
            index.to_string().as_bytes(),
        )
    }

    /// Writes `index.json` pointing at `root`, as buildx does.
    pub fn finish(&self, root: &Value) -> String {
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [root]});
        std::fs::write(self.dir.join("index.json"), index.to_string()).expect("index.json");
        root["digest"].as_str().expect("digest").to_owned()
    }
}

/// A tar of `dir`'s contents (an OCI archive, as `type=oci` writes).
pub fn archive(dir: &Path, tar_path: &Path) {
    let file = std::fs::File::create(tar_path).expect("archive file");
    let mut builder = tar::Builder::new(file);
    builder.append_dir_all(".", dir).expect("archive contents");
    builder.finish().expect("archive");
}

/// A `docker save` tar in the format before Docker 25: `manifest.json`, a
/// config JSON and one `layer.tar` per layer. Returns the config's digest.
pub fn docker_save(tar_path: &Path, layers: &[Vec<u8>]) -> String {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let config = json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}).to_string();
    let config_name = format!("{}.json", &sha256(config.as_bytes())[7..]);
    let layer_names: Vec<String> = (0..layers.len())
        .map(|i| format!("layer{i}/layer.tar"))
        .collect();
    let manifest =
        json!([{"Config": config_name, "RepoTags": ["demo:latest"], "Layers": layer_names}])
            .to_string();
    let mut builder = tar::Builder::new(std::fs::File::create(tar_path).expect("save file"));
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, bytes)
            .expect("save member");
    };
    add(&config_name, config.as_bytes());
    for (name, bytes) in layer_names.iter().zip(layers) {
        add(name, bytes);
    }
    add("manifest.json", manifest.as_bytes());
    builder.finish().expect("save tar");
    sha256(config.as_bytes())
}
