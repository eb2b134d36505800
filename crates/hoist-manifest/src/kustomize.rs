//! [`crate::Target::KustomizeImage`]: a kustomization's `images:` entry, with the semantics of
//! kustomize's `api/types/image.go` and `kustomize edit set image`.

use crate::error::EditError;
use crate::insert::{InsertAt, Layout, insert};
use crate::lookup::{Lookup, Mode, lookup, wrong_kind};
use crate::path::{KeyPath, Segment};
use crate::splice::{Splice, remove_entry, replace_scalar};
use crate::tree::{NodeId, Tree};

/// What to do with one field of the entry: set it, or (`None`) remove it.
type FieldChange<'v> = (&'static str, Option<&'v str>);

/// The changes kustomize makes: a tag alone drops the digest, a digest alone drops the tag.
fn field_changes<'v>(
    new_name: Option<&'v str>,
    new_tag: Option<&'v str>,
    digest: Option<&'v str>,
) -> Vec<FieldChange<'v>> {
    let mut fields = Vec::new();
    if let Some(new_name) = new_name {
        fields.push(("newName", Some(new_name)));
    }
    match (new_tag, digest) {
        (Some(tag), None) => fields.extend([("newTag", Some(tag)), ("digest", None)]),
        (None, Some(digest)) => fields.extend([("newTag", None), ("digest", Some(digest))]),
        (Some(tag), Some(digest)) => {
            fields.extend([("newTag", Some(tag)), ("digest", Some(digest))])
        }
        (None, None) => {}
    }
    fields
}

/// The splices that make the `images:` entry `name` hold the given fields, adding the entry
/// (and `images:`) when missing. Uses the first document with a top-level `images:`, else the
/// first document.
pub(crate) fn plan(
    tree: &Tree<'_>,
    layout: Layout,
    name: &str,
    new_name: Option<&str>,
    new_tag: Option<&str>,
    digest: Option<&str>,
) -> Result<Vec<Splice>, EditError> {
    let fields = field_changes(new_name, new_tag, digest);
    let sets: Vec<(String, String)> = fields
        .iter()
        .filter_map(|&(field, value)| Some((field.to_owned(), value?.to_owned())))
        .collect();
    let entry_path = KeyPath::from_segments(vec![
        Segment::Key("images".to_owned()),
        Segment::Select {
            field: "name".to_owned(),
            value: name.to_owned(),
        },
    ]);
    let doc = tree
        .documents
        .iter()
        .position(|document| tree.entry(document.root, "images").is_some())
        .unwrap_or(0);
    let Some(document) = tree.documents.get(doc) else {
        if sets.is_empty() {
            return Ok(Vec::new());
        }
        let at = InsertAt::EmptyDocument(None);
        let root_path = KeyPath::from_segments(Vec::new());
        return Ok(vec![insert(
            tree,
            layout,
            at,
            doc,
            &root_path,
            entry_path.segments(),
            &sets,
        )?]);
    };
    let at = match lookup(tree, document.root, &entry_path, Mode::Edit)? {
        Lookup::Found(entry) => {
            return update_entry(tree, layout, doc, entry, &entry_path, &fields);
        }
        Lookup::Missing { matched: 0, parent } => (InsertAt::Mapping(parent), 0),
        Lookup::Missing { matched, parent } => (InsertAt::Sequence(parent), matched),
        Lookup::WrongKind { matched, node } if tree.is_missing_value(node) => {
            let at = if node == document.root {
                InsertAt::EmptyDocument(Some(doc))
            } else {
                InsertAt::MissingValue(node)
            };
            (at, matched)
        }
        Lookup::WrongKind { matched, node } => {
            return Err(wrong_kind(tree, &entry_path, matched, node));
        }
    };
    if sets.is_empty() {
        return Ok(Vec::new());
    }
    let (at, matched) = at;
    let rest = &entry_path.segments()[matched..];
    Ok(vec![insert(
        tree,
        layout,
        at,
        doc,
        &entry_path.prefix(matched),
        rest,
        &sets,
    )?])
}

/// Sets, removes and adds the fields of an existing entry.
fn update_entry(
    tree: &Tree<'_>,
    layout: Layout,
    doc: usize,
    entry: NodeId,
    entry_path: &KeyPath,
    fields: &[FieldChange<'_>],
) -> Result<Vec<Splice>, EditError> {
    let root = tree.documents[doc].root;
    let mut splices = Vec::new();
    let mut missing = Vec::new();
    for &(field, value) in fields {
        let path = entry_path.child(Segment::Key(field.to_owned()));
        match (lookup(tree, root, &path, Mode::Edit)?, value) {
            (Lookup::Found(node), Some(value)) => {
                splices.extend(replace_scalar(tree, node, value, doc, &path)?)
            }
            (Lookup::Found(_), None) => {
                if let Some(key_value) = tree.entry(entry, field) {
                    splices.push(remove_entry(tree, entry, key_value, doc, &path)?);
                }
            }
            (Lookup::Missing { .. }, Some(value)) => {
                missing.push((field.to_owned(), value.to_owned()))
            }
            (Lookup::Missing { .. }, None) => {}
            (Lookup::WrongKind { matched, node }, _) => {
                return Err(wrong_kind(tree, &path, matched, node));
            }
        }
    }
    if !missing.is_empty() {
        splices.push(insert(
            tree,
            layout,
            InsertAt::Mapping(entry),
            doc,
            entry_path,
            &[],
            &missing,
        )?);
    }
    Ok(splices)
}
