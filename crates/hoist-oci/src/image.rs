//! Reading an image to push: an OCI image layout directory, an OCI archive
//! (a tar of a layout), or a `docker save` tar. Blobs are read straight from
//! the directory or from their offset in the tar; nothing is unpacked.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::digest::{Digest, Hasher};
use crate::media;

/// The largest manifest, index or config hoist reads into memory: 4 MiB,
/// the limit distribution (`docker-registry`) and ECR put on a manifest
/// PUT, so nothing larger could be pushed anyway. Every such read is
/// bounded by it, whatever the file claims to be (a symlink to `/dev/zero`
/// has a size of 0 and never ends).
pub const MAX_DOCUMENT: u64 = 4 * 1024 * 1024;

/// An image that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The path does not exist.
    #[error("the image source `{0}` does not exist")]
    Missing(String),
    /// A file could not be read.
    #[error("could not read `{path}`")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The source is neither a layout nor a known tar.
    #[error("`{0}` is not an OCI image layout, an OCI archive or a docker save tar")]
    NotAnImage(String),
    /// A JSON document is malformed.
    #[error("`{document}` is not valid: {reason}")]
    Corrupt {
        /// Which document.
        document: String,
        /// What is wrong.
        reason: String,
    },
    /// A blob the image needs is not in the source.
    #[error("blob {0} is missing from the image source")]
    MissingBlob(String),
    /// A blob's bytes do not hash to its digest.
    #[error("blob {expected} does not match its digest: its bytes hash to {actual}")]
    DigestMismatch {
        /// The digest the manifest names.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// A blob's size differs from its descriptor.
    #[error("blob {digest} is {actual} bytes, but its descriptor says {expected}")]
    SizeMismatch {
        /// The blob.
        digest: String,
        /// The descriptor's size.
        expected: u64,
        /// The actual size.
        actual: u64,
    },
    /// No child of the index matches the requested platforms.
    #[error("no image in the index is for {wanted}; it has {available}")]
    NoPlatform {
        /// The platforms asked for.
        wanted: String,
        /// The platforms the index has.
        available: String,
    },
    /// A path the image needs is not a regular file (a FIFO, a device, a
    /// socket): reading one could block forever or never end.
    #[error(
        "`{path}` is a {kind}, not a regular file; an image source holds regular files only: replace it with the file itself"
    )]
    NotRegular {
        /// The file, as the source names it.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// A symlink in a layout directory resolves outside the layout.
    #[error(
        "`{path}` resolves to `{target}`, outside the image layout `{root}`; a layout's symlinks must stay inside it: copy the file in instead"
    )]
    Escapes {
        /// The member, as the source names it.
        path: String,
        /// Where it resolves to.
        target: String,
        /// The layout directory.
        root: String,
    },
    /// A manifest, index or config is larger than hoist reads.
    #[error(
        "`{path}` is larger than {} MiB, the most a manifest, index or config may be (registries refuse larger manifests): the source is damaged, build it again", cap / (1024 * 1024)
    )]
    TooLarge {
        /// The file, as the source names it.
        path: String,
        /// The cap, in bytes.
        cap: u64,
    },
    /// The archive holds several images and none was chosen.
    #[error("the source holds {0} images without platforms; hoist pushes one image or one index")]
    Ambiguous(usize),
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// The media type.
    pub media_type: String,
    /// The digest.
    pub digest: Digest,
    /// The size in bytes.
    pub size: u64,
}

impl Descriptor {
    fn from_json(value: &Value, document: &str) -> Result<Self, SourceError> {
        let corrupt = |reason: String| SourceError::Corrupt {
            document: document.to_owned(),
            reason,
        };
        let digest = value["digest"]
            .as_str()
            .ok_or_else(|| corrupt("a descriptor has no digest".into()))?;
        let digest = Digest::parse(digest).map_err(|e| corrupt(e.to_string()))?;
        let size = value["size"]
            .as_u64()
            .ok_or_else(|| corrupt(format!("descriptor {digest} has no size")))?;
        let media_type = value["mediaType"].as_str().unwrap_or_default().to_owned();
        Ok(Self {
            media_type,
            digest,
            size,
        })
    }
}

/// A manifest to push, with the blobs and child manifests under it.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Its media type.
    pub media_type: String,
    /// Its bytes, pushed exactly as they are.
    pub bytes: Vec<u8>,
    /// The digest of the bytes.
    pub digest: Digest,
    /// The config and layers (for an image manifest).
    pub blobs: Vec<Descriptor>,
    /// The child manifests (for an index).
    pub children: Vec<Self>,
}

impl Manifest {
    /// Every blob under this manifest, each once, in order.
    pub fn all_blobs(&self) -> Vec<Descriptor> {
        let mut seen = std::collections::HashSet::new();
        let mut blobs = Vec::new();
        self.walk(&mut |manifest| {
            for blob in &manifest.blobs {
                if seen.insert(blob.digest.clone()) {
                    blobs.push(blob.clone());
                }
            }
        });
        blobs
    }

    /// Every manifest under and including this one, children before parents.
    pub fn push_order(&self) -> Vec<&Self> {
        let mut order = Vec::new();
        for child in &self.children {
            for manifest in child.push_order() {
                if !order.iter().any(|m: &&Self| m.digest == manifest.digest) {
                    order.push(manifest);
                }
            }
        }
        order.push(self);
        order
    }

    fn walk(&self, visit: &mut impl FnMut(&Self)) {
        for child in &self.children {
            child.walk(visit);
        }
        visit(self);
    }
}

/// Where the blobs are.
#[derive(Debug)]
enum Store {
    /// A layout directory, its symlinks resolved.
    Dir(PathBuf),
    /// A tar file: each member's data offset and size.
    Tar {
        file: PathBuf,
        members: HashMap<String, (u64, u64)>,
    },
}

/// An image source, opened.
#[derive(Debug)]
pub struct ImageSource {
    path: String,
    store: Store,
    /// Where a digest's bytes are, when not at `blobs/sha256/<hex>`
    /// (docker save's own layout).
    paths: HashMap<Digest, String>,
    /// Documents hoist made (a docker save image's manifest).
    made: HashMap<Digest, Vec<u8>>,
    /// The index hoist made for a docker save tar that has none.
    made_index: Option<Vec<u8>>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl ImageSource {
    /// Opens a layout directory or an image tar.
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let shown = path.display().to_string();
        // `metadata` only: opening a FIFO would block until a writer comes.
        let meta = std::fs::metadata(path).map_err(|_| SourceError::Missing(shown.clone()))?;
        let store = if meta.is_dir() {
            if !path.join("index.json").is_file() {
                return Err(SourceError::NotAnImage(shown));
            }
            Store::Dir(path.canonicalize().map_err(io(path))?)
        } else {
            regular(&meta, &shown)?;
            Store::Tar {
                file: path.to_owned(),
                members: tar_members(path)?,
            }
        };
        let mut source = Self {
            path: shown.clone(),
            store,
            paths: HashMap::new(),
            made: HashMap::new(),
            made_index: None,
        };
        if !source.has_member("index.json") {
            if source.has_member("manifest.json") {
                source.adopt_docker_save()?;
            } else {
                return Err(SourceError::NotAnImage(shown));
            }
        }
        Ok(source)
    }

    fn has_member(&self, name: &str) -> bool {
        match &self.store {
            Store::Dir(dir) => dir.join(name).is_file(),
            Store::Tar { members, .. } => members.contains_key(name),
        }
    }

    fn member_path(&self, digest: &Digest) -> String {
        self.paths
            .get(digest)
            .cloned()
            .unwrap_or_else(|| format!("blobs/sha256/{}", digest.hex()))
    }

    /// Reads a whole member, at most [`MAX_DOCUMENT`] bytes: the size the
    /// file claims is checked first, and the read itself is bounded too.
    fn read_member(&self, name: &str) -> Result<Vec<u8>, SourceError> {
        let too_large = || SourceError::TooLarge {
            path: name.to_owned(),
            cap: MAX_DOCUMENT,
        };
        let (reader, size) = self.open_member(name)?;
        if size > MAX_DOCUMENT {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        reader
            .take(MAX_DOCUMENT + 1)
            .read_to_end(&mut bytes)
            .map_err(io(Path::new(name)))?;
        if bytes.len() as u64 > MAX_DOCUMENT {
            return Err(too_large());
        }
        Ok(bytes)
    }

    fn open_member(&self, name: &str) -> Result<(Box<dyn Read + Send>, u64), SourceError> {
        match &self.store {
            Store::Dir(dir) => {
                let (path, _) = dir_member(dir, name)?;
                let file = std::fs::File::open(&path)
                    .map_err(|_| SourceError::MissingBlob(name.to_owned()))?;
                // The file checked is the file opened: a regular file still.
                let meta = file.metadata().map_err(io(&path))?;
                regular(&meta, name)?;
                Ok((Box::new(file), meta.len()))
            }
            Store::Tar { file, members } => {
                let (offset, size) = *members
                    .get(name)
                    .ok_or_else(|| SourceError::MissingBlob(name.to_owned()))?;
                let mut handle = std::fs::File::open(file).map_err(io(file))?;
                handle.seek(SeekFrom::Start(offset)).map_err(io(file))?;
                Ok((Box::new(handle.take(size)), size))
            }
        }
    }

    /// The file, offset and length of a blob, for streaming it.
    pub fn blob_location(&self, digest: &Digest) -> Result<(PathBuf, u64, u64), SourceError> {
        let name = self.member_path(digest);
        match &self.store {
            Store::Dir(dir) => {
                let (path, size) = dir_member(dir, &name).map_err(|error| match error {
                    SourceError::MissingBlob(_) => SourceError::MissingBlob(digest.to_string()),
                    other => other,
                })?;
                Ok((path, 0, size))
            }
            Store::Tar { file, members } => {
                let (offset, size) = *members
                    .get(&name)
                    .ok_or_else(|| SourceError::MissingBlob(digest.to_string()))?;
                Ok((file.clone(), offset, size))
            }
        }
    }

    /// A small document (manifest, config) by digest, checked against it.
    pub fn document(&self, digest: &Digest) -> Result<Vec<u8>, SourceError> {
        if let Some(bytes) = self.made.get(digest) {
            return Ok(bytes.clone());
        }
        let bytes = self
            .read_member(&self.member_path(digest))
            .map_err(|error| match error {
                SourceError::MissingBlob(_) => SourceError::MissingBlob(digest.to_string()),
                other => other,
            })?;
        let actual = Digest::of(&bytes);
        if &actual != digest {
            return Err(SourceError::DigestMismatch {
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(bytes)
    }

    /// The image to push: the single manifest or index the source holds,
    /// narrowed to `platforms` (`os/arch[/variant]`) when given.
    pub fn load(&self, platforms: &[String]) -> Result<Manifest, SourceError> {
        let index_bytes = match &self.made_index {
            Some(bytes) => bytes.clone(),
            None => self.read_member("index.json")?,
        };
        let index: Value =
            serde_json::from_slice(&index_bytes).map_err(|e| SourceError::Corrupt {
                document: format!("{}/index.json", self.path),
                reason: e.to_string(),
            })?;
        let entries = index["manifests"].as_array().cloned().unwrap_or_default();
        let root = match entries.len() {
            0 => {
                return Err(SourceError::Corrupt {
                    document: "index.json".into(),
                    reason: "it lists no manifest".into(),
                });
            }
            1 => self.manifest(&Descriptor::from_json(&entries[0], "index.json")?)?,
            _ if entries.iter().all(|e| e["platform"].is_object()) => {
                let mut value = index.clone();
                if value["mediaType"].is_null() {
                    value["mediaType"] = Value::from(media::OCI_INDEX);
                }
                let bytes = serde_json::to_vec(&value).unwrap_or_default();
                self.index(media::OCI_INDEX.to_owned(), bytes)?
            }
            n => return Err(SourceError::Ambiguous(n)),
        };
        if platforms.is_empty() || root.children.is_empty() {
            return Ok(root);
        }
        self.narrow(root, platforms)
    }

    fn manifest(&self, descriptor: &Descriptor) -> Result<Manifest, SourceError> {
        let bytes = self.document(&descriptor.digest)?;
        if bytes.len() as u64 != descriptor.size {
            return Err(SourceError::SizeMismatch {
                digest: descriptor.digest.to_string(),
                expected: descriptor.size,
                actual: bytes.len() as u64,
            });
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| SourceError::Corrupt {
            document: descriptor.digest.to_string(),
            reason: e.to_string(),
        })?;
        let media_type = value["mediaType"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| descriptor.media_type.clone());
        if media::is_index(&media_type) || value["manifests"].is_array() {
            return self.index(media_type, bytes);
        }
        let document = descriptor.digest.to_string();
        let mut blobs = vec![Descriptor::from_json(&value["config"], &document)?];
        for layer in value["layers"].as_array().into_iter().flatten() {
            blobs.push(Descriptor::from_json(layer, &document)?);
        }
        for blob in &blobs {
            let (_, _, size) = self.blob_location(&blob.digest)?;
            if size != blob.size {
                return Err(SourceError::SizeMismatch {
                    digest: blob.digest.to_string(),
                    expected: blob.size,
                    actual: size,
                });
            }
        }
        Ok(Manifest {
            media_type,
            digest: Digest::of(&bytes),
            bytes,
            blobs,
            children: Vec::new(),
        })
    }

    fn index(&self, media_type: String, bytes: Vec<u8>) -> Result<Manifest, SourceError> {
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| SourceError::Corrupt {
            document: "index".into(),
            reason: e.to_string(),
        })?;
        let mut children = Vec::new();
        for entry in value["manifests"].as_array().into_iter().flatten() {
            children.push(self.manifest(&Descriptor::from_json(entry, "index")?)?);
        }
        Ok(Manifest {
            media_type,
            digest: Digest::of(&bytes),
            bytes,
            blobs: Vec::new(),
            children,
        })
    }

    /// Keeps the index entries for `platforms` (and the attestations that
    /// refer to them); one image left is pushed on its own.
    fn narrow(&self, root: Manifest, platforms: &[String]) -> Result<Manifest, SourceError> {
        let mut value: Value = serde_json::from_slice(&root.bytes).unwrap_or_default();
        let entries = value["manifests"].as_array().cloned().unwrap_or_default();
        let platform_of = |entry: &Value| {
            let p = &entry["platform"];
            let mut name = format!(
                "{}/{}",
                p["os"].as_str().unwrap_or("?"),
                p["architecture"].as_str().unwrap_or("?")
            );
            if let Some(variant) = p["variant"].as_str() {
                name.push('/');
                name.push_str(variant);
            }
            name
        };
        let wanted = |entry: &Value| {
            let name = platform_of(entry);
            platforms.iter().any(|p| {
                *p == name || (p.matches('/').count() == 1 && name.starts_with(&format!("{p}/")))
            })
        };
        let kept: Vec<&Value> = entries.iter().filter(|e| wanted(e)).collect();
        if kept.is_empty() {
            let available: Vec<String> = entries
                .iter()
                .map(platform_of)
                .filter(|p| p != "unknown/unknown")
                .collect();
            return Err(SourceError::NoPlatform {
                wanted: platforms.join(", "),
                available: available.join(", "),
            });
        }
        let kept_digests: Vec<&str> = kept.iter().filter_map(|e| e["digest"].as_str()).collect();
        let attestations: Vec<&Value> = entries
            .iter()
            .filter(|e| {
                e["annotations"]["vnd.docker.reference.digest"]
                    .as_str()
                    .is_some_and(|d| kept_digests.contains(&d))
            })
            .collect();
        if kept.len() == 1 && attestations.is_empty() {
            let digest = kept_digests[0];
            return root
                .children
                .into_iter()
                .find(|child| child.digest.as_str() == digest)
                .ok_or_else(|| SourceError::MissingBlob(digest.to_owned()));
        }
        let chosen: Vec<Value> = kept.into_iter().chain(attestations).cloned().collect();
        value["manifests"] = Value::Array(chosen);
        let bytes = serde_json::to_vec(&value).unwrap_or_default();
        self.index(root.media_type, bytes)
    }

    /// A `docker save` tar without an OCI layout (Docker before 25): its
    /// `manifest.json` names a config and uncompressed layer tars; hoist
    /// writes the OCI manifest for them and hashes the layers once.
    fn adopt_docker_save(&mut self) -> Result<(), SourceError> {
        let listing: Value =
            serde_json::from_slice(&self.read_member("manifest.json")?).map_err(|e| {
                SourceError::Corrupt {
                    document: "manifest.json".into(),
                    reason: e.to_string(),
                }
            })?;
        let images = listing.as_array().cloned().unwrap_or_default();
        if images.len() != 1 {
            return Err(SourceError::Ambiguous(images.len()));
        }
        let corrupt = |reason: &str| SourceError::Corrupt {
            document: "manifest.json".into(),
            reason: reason.into(),
        };
        let config_name = images[0]["Config"]
            .as_str()
            .ok_or_else(|| corrupt("it names no Config"))?
            .to_owned();
        let config = self.read_member(&config_name)?;
        let config_digest = Digest::of(&config);
        self.paths.insert(config_digest.clone(), config_name);
        let mut layers = Vec::new();
        for layer in images[0]["Layers"]
            .as_array()
            .ok_or_else(|| corrupt("it names no Layers"))?
        {
            let name = layer
                .as_str()
                .ok_or_else(|| corrupt("a layer is not a path"))?
                .to_owned();
            let (mut reader, size) = self.open_member(&name)?;
            let mut hasher = Hasher::default();
            let mut buffer = vec![0; 64 * 1024];
            loop {
                let read = reader.read(&mut buffer).map_err(io(Path::new(&name)))?;
                if read == 0 {
                    break;
                }
                hasher.update(&buffer[..read]);
            }
            let digest = hasher.finish();
            layers.push(serde_json::json!({"mediaType": media::OCI_LAYER_TAR, "digest": digest.as_str(), "size": size}));
            self.paths.insert(digest, name);
        }
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": {"mediaType": media::OCI_CONFIG, "digest": config_digest.as_str(), "size": config.len()},
            "layers": layers,
        });
        let manifest = serde_json::to_vec(&manifest).unwrap_or_default();
        let digest = Digest::of(&manifest);
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": media::OCI_MANIFEST, "digest": digest.as_str(), "size": manifest.len()}]});
        self.made.insert(digest, manifest);
        self.made_index = Some(serde_json::to_vec(&index).unwrap_or_default());
        Ok(())
    }
}

/// The file behind member `name` of the layout at `root` (canonical), and
/// its size: it must resolve inside the layout and be a regular file. Only
/// metadata is read, so a FIFO is refused without being opened.
fn dir_member(root: &Path, name: &str) -> Result<(PathBuf, u64), SourceError> {
    let path = root.join(name);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(SourceError::MissingBlob(name.to_owned()));
    }
    // A dangling symlink is a missing blob too.
    let resolved = path
        .canonicalize()
        .map_err(|_| SourceError::MissingBlob(name.to_owned()))?;
    if !resolved.starts_with(root) {
        return Err(SourceError::Escapes {
            path: name.to_owned(),
            target: resolved.display().to_string(),
            root: root.display().to_string(),
        });
    }
    let meta = std::fs::metadata(&resolved).map_err(io(&resolved))?;
    regular(&meta, name)?;
    Ok((resolved, meta.len()))
}

/// Refuses anything but a regular file (`shown` names it in the error).
fn regular(meta: &std::fs::Metadata, shown: &str) -> Result<(), SourceError> {
    let file_type = meta.file_type();
    if file_type.is_file() {
        return Ok(());
    }
    let kind = if file_type.is_dir() {
        "directory"
    } else {
        special_kind(&file_type)
    };
    Err(SourceError::NotRegular {
        path: shown.to_owned(),
        kind,
    })
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if file_type.is_fifo() {
        "FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "special file"
}

/// Each regular member of a tar: the offset of its data and its size.
fn tar_members(path: &Path) -> Result<HashMap<String, (u64, u64)>, SourceError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    let not_tar = || SourceError::NotAnImage(path.display().to_string());
    for entry in archive.entries().map_err(|_| not_tar())? {
        let entry = entry.map_err(|_| not_tar())?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(|_| not_tar())?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        members.insert(name, (entry.raw_file_position(), entry.size()));
    }
    if members.is_empty() {
        return Err(not_tar());
    }
    Ok(members)
}
