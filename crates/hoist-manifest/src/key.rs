//! [`crate::Target::Key`]: set the scalar at a path, in every document where it exists.

use crate::error::EditError;
use crate::insert::{InsertAt, Layout, insert};
use crate::lookup::{Lookup, Mode, lookup, not_found, wrong_kind};
use crate::path::{KeyPath, Segment};
use crate::splice::{Splice, replace_scalar};
use crate::tree::Tree;

/// The splices that set `path` to `value`: in every document where the path exists; if it
/// exists nowhere and `create_missing`, by adding what is missing to the first document.
pub(crate) fn plan(
    tree: &Tree<'_>,
    layout: Layout,
    path: &KeyPath,
    value: &str,
    create_missing: bool,
) -> Result<Vec<Splice>, EditError> {
    let mut splices = Vec::new();
    let mut found_any = false;
    let mut in_first_document = None;
    for (doc, document) in tree.documents.iter().enumerate() {
        let found = lookup(tree, document.root, path, Mode::Edit)?;
        if let Lookup::Found(node) = found {
            found_any = true;
            splices.extend(replace_scalar(tree, node, value, doc, path)?);
        }
        if doc == 0 {
            in_first_document = Some(found);
        }
    }
    if found_any {
        return Ok(splices);
    }
    let segments = path.segments();
    let (at, matched) = match in_first_document {
        None if create_missing => (InsertAt::EmptyDocument(None), 0),
        None => {
            return Err(EditError::PathNotFound {
                path: path.to_string(),
                missing: segments
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                parent: "the document".to_owned(),
                line: None,
            });
        }
        Some(Lookup::Missing { matched, parent }) if create_missing => {
            let at = match tree.items(parent) {
                Some(_) => InsertAt::Sequence(parent),
                None => InsertAt::Mapping(parent),
            };
            (at, matched)
        }
        Some(Lookup::Missing { matched, parent }) => {
            return Err(not_found(tree, path, matched, parent));
        }
        Some(Lookup::WrongKind { matched, node }) if tree.is_missing_value(node) => {
            if !create_missing {
                return Err(not_found(tree, path, matched, node));
            }
            let is_root = tree
                .documents
                .first()
                .is_some_and(|document| document.root == node);
            let at = if is_root {
                InsertAt::EmptyDocument(Some(0))
            } else {
                InsertAt::MissingValue(node)
            };
            (at, matched)
        }
        Some(Lookup::WrongKind { matched, node }) => {
            return Err(wrong_kind(tree, path, matched, node));
        }
        Some(Lookup::Found(_)) => return Ok(splices),
    };
    let Some((Segment::Key(leaf), before_leaf)) = segments.split_last() else {
        return Err(EditError::CannotCreate {
            path: path.to_string(),
            reason: "only a path that ends in a key can be created",
            line: None,
        });
    };
    let rest = &before_leaf[matched.min(before_leaf.len())..];
    let leaves = [(leaf.clone(), value.to_owned())];
    Ok(vec![insert(
        tree,
        layout,
        at,
        0,
        &path.prefix(matched),
        rest,
        &leaves,
    )?])
}
