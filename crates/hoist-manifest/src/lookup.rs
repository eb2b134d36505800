//! Following a [`KeyPath`] through a [`Tree`].

use crate::error::EditError;
use crate::path::{KeyPath, Segment};
use crate::tree::{NodeId, Tree};

/// Why the path is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// To edit: refuse aliases and anchors that aliases use, anywhere on the path.
    Edit,
    /// To read: follow aliases.
    Read,
}

/// Where a path leads in one document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The whole path exists.
    Found(NodeId),
    /// The first `matched` segments lead to `parent`, which has no `segments[matched]`.
    Missing { matched: usize, parent: NodeId },
    /// The first `matched` segments lead to `node`, which is not the kind of collection
    /// `segments[matched]` needs (a mapping for a key, a sequence for `[…]`).
    WrongKind { matched: usize, node: NodeId },
}

/// Follows `path` from `root`.
pub(crate) fn lookup(
    tree: &Tree<'_>,
    root: NodeId,
    path: &KeyPath,
    mode: Mode,
) -> Result<Lookup, EditError> {
    let mut current = enter(tree, root, path, 0, mode)?;
    for (matched, segment) in path.segments().iter().enumerate() {
        let wrong_kind = Lookup::WrongKind {
            matched,
            node: current,
        };
        let child = match segment {
            Segment::Key(key) => {
                if tree.entries(current).is_none() {
                    return Ok(wrong_kind);
                }
                tree.entry(current, key).map(|(_, value)| value)
            }
            Segment::Index(index) => {
                let Some(items) = tree.items(current) else {
                    return Ok(wrong_kind);
                };
                items.get(*index).copied()
            }
            Segment::Select { field, value } => {
                let Some(items) = tree.items(current) else {
                    return Ok(wrong_kind);
                };
                select(tree, items, field, value, path, matched)?
            }
        };
        let Some(child) = child else {
            return Ok(Lookup::Missing {
                matched,
                parent: current,
            });
        };
        current = enter(tree, child, path, matched + 1, mode)?;
    }
    Ok(Lookup::Found(current))
}

/// Steps onto `node`, reached by the first `matched` segments of `path`.
fn enter(
    tree: &Tree<'_>,
    node: NodeId,
    path: &KeyPath,
    matched: usize,
    mode: Mode,
) -> Result<NodeId, EditError> {
    if mode == Mode::Read {
        return Ok(tree.dereference(node));
    }
    let line = tree.line(node);
    if tree.dereference(node) != node {
        let alias = tree.anchor_name(node);
        if matched == path.segments().len() {
            return Err(EditError::TargetIsAlias {
                path: path.to_string(),
                alias,
                line,
            });
        }
        let at = path.prefix(matched).describe();
        return Err(EditError::ThroughAlias {
            path: path.to_string(),
            at,
            alias,
            line,
        });
    }
    if tree.is_shared(node) {
        return Err(EditError::SharedAnchor {
            path: path.to_string(),
            at: path.prefix(matched).describe(),
            anchor: tree.anchor_name(node),
            line: tree.properties_line(node),
        });
    }
    Ok(node)
}

/// The one item whose `field` holds `value`; several are an error.
fn select(
    tree: &Tree<'_>,
    items: &[NodeId],
    field: &str,
    value: &str,
    path: &KeyPath,
    matched: usize,
) -> Result<Option<NodeId>, EditError> {
    let holds_value = |item: NodeId| {
        tree.entry(tree.dereference(item), field)
            .is_some_and(|(_, v)| tree.scalar(tree.dereference(v)) == Some(value))
    };
    let found: Vec<NodeId> = items
        .iter()
        .copied()
        .filter(|&item| holds_value(item))
        .collect();
    if found.len() > 1 {
        return Err(EditError::AmbiguousSelector {
            path: path.to_string(),
            selector: path.segments()[matched].to_string(),
            count: found.len(),
            line: tree.line(found[0]),
        });
    }
    Ok(found.first().copied())
}

/// The error for a path that stops at a missing segment.
pub(crate) fn not_found(
    tree: &Tree<'_>,
    path: &KeyPath,
    matched: usize,
    parent: NodeId,
) -> EditError {
    EditError::PathNotFound {
        path: path.to_string(),
        missing: path
            .segments()
            .get(matched)
            .map(ToString::to_string)
            .unwrap_or_default(),
        parent: path.prefix(matched).describe(),
        line: Some(tree.line(parent)),
    }
}

/// The error for a path that meets the wrong kind of node.
pub(crate) fn wrong_kind(
    tree: &Tree<'_>,
    path: &KeyPath,
    matched: usize,
    node: NodeId,
) -> EditError {
    let at = path.prefix(matched).describe();
    let found = tree.kind_name(node);
    let line = tree.line(node);
    match path.segments().get(matched) {
        Some(Segment::Key(_)) | None => EditError::NotAMapping { at, found, line },
        Some(_) => EditError::NotASequence { at, found, line },
    }
}

/// The error for a path that ends on a collection where a scalar was wanted.
pub(crate) fn not_a_scalar(tree: &Tree<'_>, path: &KeyPath, node: NodeId) -> EditError {
    EditError::NotAScalar {
        path: path.to_string(),
        found: tree.kind_name(node),
        line: tree.line(node),
    }
}
