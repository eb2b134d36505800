//! [`apply`] and [`read`]: parse, plan splices, splice, re-parse to verify.

use crate::error::EditError;
use crate::insert::Layout;
use crate::lookup::{Lookup, Mode, lookup, not_a_scalar};
use crate::path::{KeyPath, Segment};
use crate::splice::{self, Record, Splice};
use crate::target::{Limits, Options, Target};
use crate::text::Source;
use crate::tree::{Kind, Tree};
use crate::{key, kustomize, workload};

/// One scalar that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The path, e.g. `images[name=x].newTag` or `spec.template.spec.containers[0].image`,
    /// prefixed with `[doc N] ` (N from 1) when the file has more than one document.
    pub key: String,
    /// The 1-based line in the new text (for a removal: where the removed lines were).
    pub line: usize,
    /// The old value; `None` when the key was added.
    pub old: Option<String>,
    /// The new value; `None` when the key was removed.
    pub new: Option<String>,
}

/// The edited text and what changed in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edited {
    /// The whole file after the edit.
    pub text: String,
    /// The scalars that changed, target by target, in text order within a target.
    pub changes: Vec<Change>,
}

/// Applies every target in order to `text` (the whole file). Only real differences are listed
/// in `changes`; if every target already holds its value, `text` is returned unchanged and
/// `changes` is empty.
pub fn apply(text: &str, targets: &[Target], options: &Options) -> Result<Edited, EditError> {
    check_size(text, &options.limits)?;
    let mut current = text.to_owned();
    // Each change with its byte offset in `current`.
    let mut changes: Vec<(usize, Record)> = Vec::new();
    let mut documents = 0;
    for target in targets {
        let tree = Tree::parse(&current, &options.limits)?;
        documents = tree.documents.len();
        let splices = plan(&tree, target, options)?;
        if splices.is_empty() {
            continue;
        }
        let spliced = splice::apply(&current, splices)?;
        verify(&spliced.text, &spliced.changes, documents, &options.limits)?;
        documents = documents.max(1);
        for (offset, _) in &mut changes {
            *offset = spliced.map(*offset);
        }
        changes.extend(spliced.changes);
        current = spliced.text;
    }
    let source = Source::new(&current);
    let changes = changes
        .into_iter()
        .map(|(offset, record)| Change {
            key: match documents {
                0 | 1 => record.path.to_string(),
                _ => format!("[doc {}] {}", record.doc + 1, record.path),
            },
            line: source.line(offset),
            old: record.old,
            new: record.new,
        })
        .collect();
    Ok(Edited {
        text: current,
        changes,
    })
}

/// Reads the scalar values at `path` (one per document where it resolves; aliases are
/// followed) — used to compare versions. A plain null reads as it is written (``, `~`, `null`).
pub fn read(text: &str, path: &KeyPath, limits: &Limits) -> Result<Vec<String>, EditError> {
    check_size(text, limits)?;
    let tree = Tree::parse(text, limits)?;
    let mut values = Vec::new();
    for document in &tree.documents {
        if let Lookup::Found(node) = lookup(&tree, document.root, path, Mode::Read)? {
            let value = tree
                .scalar(node)
                .ok_or_else(|| not_a_scalar(&tree, path, node))?;
            values.push(value.to_owned());
        }
    }
    Ok(values)
}

fn check_size(text: &str, limits: &Limits) -> Result<(), EditError> {
    if text.len() > limits.max_bytes {
        return Err(EditError::TooLarge {
            bytes: text.len(),
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

/// The splices for one target.
fn plan(tree: &Tree<'_>, target: &Target, options: &Options) -> Result<Vec<Splice>, EditError> {
    let layout = Layout::detect(tree);
    match target {
        Target::Key { path, value } => key::plan(tree, layout, path, value, options.create_missing),
        Target::KustomizeImage {
            name,
            new_name,
            new_tag,
            digest,
        } => kustomize::plan(
            tree,
            layout,
            name,
            new_name.as_deref(),
            new_tag.as_deref(),
            digest.as_deref(),
        ),
        Target::WorkloadImage {
            repository,
            tag,
            digest,
        } => workload::plan(tree, repository, tag.as_deref(), digest.as_deref()),
    }
}

/// Re-parses the edited text and reads every changed path back: a bug guard. The text had
/// `documents` documents before (none: the edit creates the first).
fn verify(
    text: &str,
    changes: &[(usize, Record)],
    documents: usize,
    limits: &Limits,
) -> Result<(), EditError> {
    let tree = Tree::parse(text, limits).map_err(|error| EditError::Verification {
        path: changes
            .first()
            .map(|(_, record)| record.path.to_string())
            .unwrap_or_default(),
        detail: format!("the edited text does not parse: {error}"),
    })?;
    if tree.documents.len() != documents.max(1) {
        return Err(EditError::Verification {
            path: String::new(),
            detail: format!("{} documents became {}", documents, tree.documents.len()),
        });
    }
    for (_, record) in changes {
        let failed = |detail: String| EditError::Verification {
            path: record.path.to_string(),
            detail,
        };
        let Some(document) = tree.documents.get(record.doc) else {
            return Err(failed(format!("document {} is gone", record.doc + 1)));
        };
        let found = lookup(&tree, document.root, &read_back_path(record), Mode::Read)
            .map_err(|error| failed(error.to_string()))?;
        match (found, &record.new) {
            (Lookup::Found(node), Some(expected)) => match &tree.node(node).kind {
                // The typed value: `!!int v9` or a plain `5` is not the string asked for.
                Kind::Scalar { value, .. } if value == expected => {
                    if !tree.reads_as_string(node) {
                        let written = tree.tag_text(node).unwrap_or_default();
                        return Err(failed(format!(
                            "`{written}{}{value}` does not read as a string",
                            if written.is_empty() { "" } else { " " }
                        )));
                    }
                }
                Kind::Scalar { value, .. } => {
                    return Err(failed(format!("reads `{value}` instead of `{expected}`")));
                }
                _ => return Err(failed(format!("is a {}", tree.kind_name(node)))),
            },
            (Lookup::Found(_), None) => {
                return Err(failed("is still there after removal".to_owned()));
            }
            (_, Some(_)) => return Err(failed("is missing".to_owned())),
            (_, None) => {}
        }
    }
    Ok(())
}

/// The path that reads a record back. When the edit changed the very field that a
/// `[field=value]` selector matches on (`list[name=a].name` set to `b`), the selector must
/// look for the new value.
fn read_back_path(record: &Record) -> KeyPath {
    let mut segments = record.path.segments().to_vec();
    if let [.., Segment::Select { field, value }, Segment::Key(key)] = segments.as_mut_slice()
        && field == key
        && let Some(new) = &record.new
    {
        value.clone_from(new);
    }
    KeyPath::from_segments(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, new: Option<&str>) -> (usize, Record) {
        let path = path.parse().unwrap();
        (
            0,
            Record {
                doc: 0,
                path,
                old: None,
                new: new.map(str::to_owned),
            },
        )
    }

    #[test]
    fn verification_catches_what_did_not_land() {
        let limits = Limits::default();
        let text = "image:\n  tag: 1.10\n  name: x\n";
        assert!(verify(text, &[record("image.name", Some("x"))], 1, &limits).is_ok());
        assert!(verify(text, &[record("image.absent", None)], 1, &limits).is_ok());
        for (record, documents) in [
            (record("image.name", Some("y")), 1),
            (record("image.tag", Some("1.10")), 1),
            (record("image", Some("x")), 1),
            (record("image.name", None), 1),
            (record("image.absent", Some("x")), 1),
            (record("image.name", Some("x")), 2),
        ] {
            let error = verify(text, &[record], documents, &limits).unwrap_err();
            assert!(matches!(error, EditError::Verification { .. }), "{error}");
            assert!(error.to_string().starts_with("bug:"), "{error}");
        }
        let error = verify("a: [", &[record("a", Some("x"))], 1, &limits).unwrap_err();
        assert!(matches!(error, EditError::Verification { .. }), "{error}");
    }

    #[test]
    fn verification_compares_the_typed_value() {
        let limits = Limits::default();
        for text in [
            "tag: !!int v9\n",
            "tag: !!int 5\n",
            "tag: !custom v9\n",
            "tag: 5\n",
        ] {
            let value = text.trim_end().rsplit(' ').next().unwrap();
            let error = verify(text, &[record("tag", Some(value))], 1, &limits).unwrap_err();
            assert!(
                error.to_string().contains("does not read as a string"),
                "{text:?}: {error}"
            );
        }
        for (text, value) in [
            ("tag: !!str 5\n", "5"),
            ("tag: ! 5\n", "5"),
            ("tag: \"5\"\n", "5"),
            ("tag: v9\n", "v9"),
        ] {
            assert!(
                verify(text, &[record("tag", Some(value))], 1, &limits).is_ok(),
                "{text:?}"
            );
        }
    }
}
