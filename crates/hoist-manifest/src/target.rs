//! What to write ([`Target`]) and how carefully ([`Options`], [`Limits`]).

use crate::path::KeyPath;

/// What to write into one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Set the scalar at `path` (Helm values, `.argocd-source-<app>.yaml`, any YAML file).
    Key {
        /// Where the scalar is.
        path: KeyPath,
        /// The new value.
        value: String,
    },
    /// A kustomization's `images:` entry, matched by `name`, with kustomize's semantics.
    KustomizeImage {
        /// The entry's `name` (the image name used in the resources).
        name: String,
        /// The new `newName`, if it changes.
        new_name: Option<String>,
        /// The new `newTag`; given without `digest`, it removes the entry's `digest`.
        new_tag: Option<String>,
        /// The new `digest`; given without `new_tag`, it removes the entry's `newTag`.
        digest: Option<String>,
    },
    /// Every `containers[].image` / `initContainers[].image` (at any depth, in every document)
    /// whose repository (the reference without `:tag` / `@digest`) equals `repository`.
    WorkloadImage {
        /// The repository to match, e.g. `1234.dkr.ecr.eu-west-1.amazonaws.com/api`.
        repository: String,
        /// The new tag; given without `digest`, an existing digest is dropped.
        tag: Option<String>,
        /// The new digest; given without `tag`, an existing tag is dropped.
        digest: Option<String>,
    },
}

/// Bounds on the input, so that a hostile file cannot exhaust memory or time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest file accepted, in bytes.
    pub max_bytes: usize,
    /// The most aliases (`*name`) a file may use.
    pub max_aliases: usize,
    /// The most nodes the aliases may add when expanded: each alias counts the size of the
    /// node it refers to, aliases in it included (computed without expanding anything).
    pub max_expanded_nodes: usize,
    /// The deepest nesting of collections.
    pub max_depth: usize,
}

impl Default for Limits {
    /// 4 MiB, 256 aliases, 100 000 expanded nodes, depth 128.
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024,
            max_aliases: 256,
            max_expanded_nodes: 100_000,
            max_depth: 128,
        }
    }
}

/// How [`crate::apply`] edits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Create the keys of a [`Target::Key`] path that do not exist yet.
    pub create_missing: bool,
    /// Bounds on the input.
    pub limits: Limits,
}
