//! [`crate::Target::WorkloadImage`]: the `image` of containers in Deployments, CronJobs, Pods,
//! … at any depth, in every document.

use crate::error::EditError;
use crate::lookup::{Mode, lookup};
use crate::path::{KeyPath, Segment};
use crate::splice::{Splice, replace_scalar};
use crate::tree::{NodeId, Tree};

/// The keys whose value is a list of containers.
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// An image reference split into its parts: `repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageRef<'a> {
    pub(crate) repository: &'a str,
    pub(crate) tag: Option<&'a str>,
    pub(crate) digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Splits at the first `@` (digest) and the last `:` after the last `/` (tag).
    pub(crate) fn parse(reference: &'a str) -> Self {
        let (name, digest) = match reference.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (reference, None),
        };
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        match name[last_slash..].rfind(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                Self {
                    repository: &name[..colon],
                    tag: Some(&name[colon + 1..]),
                    digest,
                }
            }
            None => Self {
                repository: name,
                tag: None,
                digest,
            },
        }
    }

    /// This reference with a new tag and/or digest, like kustomize: a tag alone drops the
    /// digest, a digest alone drops the tag.
    pub(crate) fn with(&self, tag: Option<&str>, digest: Option<&str>) -> String {
        let repository = self.repository;
        match (tag, digest) {
            (Some(tag), None) => format!("{repository}:{tag}"),
            (None, Some(digest)) => format!("{repository}@{digest}"),
            (Some(tag), Some(digest)) => format!("{repository}:{tag}@{digest}"),
            (None, None) => {
                let tag = self.tag.map(|tag| format!(":{tag}")).unwrap_or_default();
                let digest = self
                    .digest
                    .map(|digest| format!("@{digest}"))
                    .unwrap_or_default();
                format!("{repository}{tag}{digest}")
            }
        }
    }
}

/// One container's `image` scalar.
struct Site {
    doc: usize,
    path: KeyPath,
    node: NodeId,
}

/// The splices that point every container image of `repository` at the new tag/digest.
pub(crate) fn plan(
    tree: &Tree<'_>,
    repository: &str,
    tag: Option<&str>,
    digest: Option<&str>,
) -> Result<Vec<Splice>, EditError> {
    let mut sites = Vec::new();
    for (doc, document) in tree.documents.iter().enumerate() {
        find_images(tree, document.root, doc, &mut Vec::new(), &mut sites);
    }
    let mut seen = Vec::new();
    let mut splices = Vec::new();
    let mut matched = false;
    for site in &sites {
        let Some(reference) = tree.scalar(tree.dereference(site.node)) else {
            continue;
        };
        let image = ImageRef::parse(reference);
        if !seen.iter().any(|r| r == image.repository) {
            seen.push(image.repository.to_owned());
        }
        if image.repository != repository {
            continue;
        }
        matched = true;
        // Refuses anchors that aliases share, anywhere on the way.
        let root = tree.documents[site.doc].root;
        lookup(tree, root, &site.path, Mode::Edit)?;
        let new_image = image.with(tag, digest);
        splices.extend(replace_scalar(
            tree, site.node, &new_image, site.doc, &site.path,
        )?);
    }
    if !matched {
        return Err(EditError::NoMatchingImage {
            repository: repository.to_owned(),
            found: seen,
        });
    }
    Ok(splices)
}

/// Collects the `image` scalars (and aliases) of container lists below `node`, which `trail`
/// leads to. Aliases are not followed.
fn find_images(
    tree: &Tree<'_>,
    node: NodeId,
    doc: usize,
    trail: &mut Vec<Segment>,
    sites: &mut Vec<Site>,
) {
    if let Some(entries) = tree.entries(node) {
        for &(key, value) in entries {
            let Some(key) = tree.scalar(key) else {
                continue;
            };
            trail.push(Segment::Key(key.to_owned()));
            if CONTAINER_LISTS.contains(&key) {
                container_images(tree, value, doc, trail, sites);
            }
            find_images(tree, value, doc, trail, sites);
            trail.pop();
        }
    } else if let Some(items) = tree.items(node) {
        for (index, &item) in items.iter().enumerate() {
            trail.push(Segment::Index(index));
            find_images(tree, item, doc, trail, sites);
            trail.pop();
        }
    }
}

/// The `image` of each container in the list `containers`.
fn container_images(
    tree: &Tree<'_>,
    containers: NodeId,
    doc: usize,
    trail: &[Segment],
    sites: &mut Vec<Site>,
) {
    for (index, &container) in tree
        .items(containers)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some((_, image)) = tree.entry(container, "image") else {
            continue;
        };
        if tree.scalar(tree.dereference(image)).is_none() {
            continue;
        }
        let mut path = trail.to_vec();
        path.extend([Segment::Index(index), Segment::Key("image".to_owned())]);
        sites.push(Site {
            doc,
            path: KeyPath::from_segments(path),
            node: image,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        let cases = [
            ("nginx", "nginx", None, None),
            ("nginx:1.25", "nginx", Some("1.25"), None),
            ("localhost:5000/app", "localhost:5000/app", None, None),
            (
                "localhost:5000/app:v1",
                "localhost:5000/app",
                Some("v1"),
                None,
            ),
            ("repo/app@sha256:abc", "repo/app", None, Some("sha256:abc")),
            (
                "repo/app:v1@sha256:abc",
                "repo/app",
                Some("v1"),
                Some("sha256:abc"),
            ),
        ];
        for (reference, repository, tag, digest) in cases {
            assert_eq!(
                ImageRef::parse(reference),
                ImageRef {
                    repository,
                    tag,
                    digest
                },
                "{reference}"
            );
        }
    }

    #[test]
    fn replaces_like_kustomize() {
        let image = ImageRef::parse("repo/app:v1@sha256:abc");
        assert_eq!(image.with(Some("v2"), None), "repo/app:v2");
        assert_eq!(image.with(None, Some("sha256:def")), "repo/app@sha256:def");
        assert_eq!(
            image.with(Some("v2"), Some("sha256:def")),
            "repo/app:v2@sha256:def"
        );
        assert_eq!(image.with(None, None), "repo/app:v1@sha256:abc");
    }
}
