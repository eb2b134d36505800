//! Splices: byte ranges of the source replaced by new text, and the changes they make.
//!
//! Everything outside the spliced ranges stays byte for byte as it was.

use std::ops::Range;

use saphyr_parser::ScalarStyle;

use crate::error::EditError;
use crate::lookup::not_a_scalar;
use crate::path::KeyPath;
use crate::scalar::render;
use crate::text::{after_line_of, line_start};
use crate::tree::{Kind, NodeId, ScalarTag, Tree};

/// One scalar a splice adds, changes or removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// Index of the document, from 0.
    pub(crate) doc: usize,
    pub(crate) path: KeyPath,
    /// `None`: the key is added.
    pub(crate) old: Option<String>,
    /// `None`: the key is removed.
    pub(crate) new: Option<String>,
}

/// Replace the bytes `start..end` of the source with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Splice {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) text: String,
    /// What the splice changes, each with its offset inside `text`.
    pub(crate) changes: Vec<(usize, Record)>,
}

/// The text after splicing, and where each change landed in it.
#[derive(Debug)]
pub(crate) struct Spliced {
    pub(crate) text: String,
    /// The changes in text order, each with its offset in the new text.
    pub(crate) changes: Vec<(usize, Record)>,
    moves: Vec<Move>,
}

/// Where one splice moved: `old_start..old_end` became `new_start..new_end`.
#[derive(Debug)]
struct Move {
    old_start: usize,
    old_end: usize,
    new_start: usize,
    new_end: usize,
}

impl Spliced {
    /// Maps an offset in the old text to the new text (offsets inside a replaced range map to
    /// its start).
    pub(crate) fn map(&self, old: usize) -> usize {
        let (mut old_base, mut new_base) = (0, 0);
        for moved in &self.moves {
            if old < moved.old_start {
                break;
            }
            if old < moved.old_end {
                return moved.new_start;
            }
            (old_base, new_base) = (moved.old_end, moved.new_end);
        }
        new_base + (old - old_base)
    }
}

/// Applies `splices` (which must not overlap) to `text`.
pub(crate) fn apply(text: &str, mut splices: Vec<Splice>) -> Result<Spliced, EditError> {
    splices.sort_by_key(|splice| (splice.start, splice.end));
    if let Some(pair) = splices.windows(2).find(|pair| pair[0].end > pair[1].start) {
        return Err(EditError::Verification {
            path: pair[1]
                .changes
                .first()
                .map(|(_, record)| record.path.to_string())
                .unwrap_or_default(),
            detail: "two edits overlap".to_owned(),
        });
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut changes = Vec::new();
    let mut moves = Vec::new();
    let mut cursor = 0;
    for splice in splices {
        out.push_str(&text[cursor..splice.start]);
        let new_start = out.len();
        out.push_str(&splice.text);
        moves.push(Move {
            old_start: splice.start,
            old_end: splice.end,
            new_start,
            new_end: out.len(),
        });
        changes.extend(
            splice
                .changes
                .into_iter()
                .map(|(offset, record)| (new_start + offset, record)),
        );
        cursor = splice.end;
    }
    out.push_str(&text[cursor..]);
    changes.sort_by_key(|(offset, _)| *offset);
    Ok(Spliced {
        text: out,
        changes,
        moves,
    })
}

/// Sets the scalar `node` (reached by `path` in document `doc`) to `value`, keeping its style.
/// `None` when it already holds the value.
pub(crate) fn replace_scalar(
    tree: &Tree<'_>,
    node: NodeId,
    value: &str,
    doc: usize,
    path: &KeyPath,
) -> Result<Option<Splice>, EditError> {
    let Kind::Scalar { value: old, style } = &tree.node(node).kind else {
        return Err(not_a_scalar(tree, path, node));
    };
    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
        // The line of its key (where `|` or `>` is), not of its first content line.
        let line = tree
            .key_of(node)
            .map_or(tree.line(node), |key| tree.line(key));
        return Err(EditError::BlockScalar {
            path: path.to_string(),
            line,
        });
    }
    // A tag other than `!!str` would make the new text something else than the string
    // asked for (`!!int v9` does not even parse): refused, never dropped silently.
    if tree.node(node).tag == Some(ScalarTag::Other) {
        return Err(EditError::TaggedScalar {
            path: path.to_string(),
            tag: tree.tag_text(node).unwrap_or_else(|| "!".to_owned()),
            value: value.to_owned(),
            line: tree.properties_line(node),
        });
    }
    // A plain `1.10` is a number, not the string "1.10": rewrite it quoted.
    if old == value && tree.reads_as_string(node) {
        return Ok(None);
    }
    let Range { start, end } = tree.node(node).start..tree.node(node).end;
    let mut text = render(value, *style);
    // `key:` with nothing after it: the value goes after the colon, with a space.
    if start == end && !tree.text()[..start].ends_with([' ', '\t']) {
        text.insert(0, ' ');
    }
    let offset = usize::from(text.starts_with(' '));
    let record = Record {
        doc,
        path: path.clone(),
        old: Some(old.clone()),
        new: Some(value.to_owned()),
    };
    Ok(Some(Splice {
        start,
        end,
        text,
        changes: vec![(offset, record)],
    }))
}

/// Removes the entry `key: value` of `mapping`: its whole lines, or — when the key shares its
/// line with a `- ` — from the key to the next key, so that the `- ` stays.
pub(crate) fn remove_entry(
    tree: &Tree<'_>,
    mapping: NodeId,
    (key, value): (NodeId, NodeId),
    doc: usize,
    path: &KeyPath,
) -> Result<Splice, EditError> {
    if tree.is_flow(mapping) {
        return Err(EditError::FlowCollection {
            path: path.to_string(),
            line: tree.line(mapping),
        });
    }
    let text = tree.text();
    let key_start = tree.node(key).props_start;
    let line = line_start(text, key_start);
    let Range { start, end } = if text[line..key_start].bytes().all(|b| b == b' ') {
        let mut start = line;
        let end = after_line_of(text, tree.node(value).end);
        // The last line has no line break: take the one before it instead.
        if end == text.len() && !text.ends_with('\n') && start > 0 {
            start -= if text[..start].ends_with("\r\n") {
                2
            } else {
                1
            };
        }
        start..end
    } else {
        let entries = tree.entries(mapping).unwrap_or_default();
        let next_key = entries
            .iter()
            .skip_while(|&&(k, _)| k != key)
            .nth(1)
            .map(|&(k, _)| k);
        let Some(next_key) = next_key else {
            return Err(EditError::CannotRemove {
                path: path.to_string(),
                line: tree.line(key),
            });
        };
        key_start..tree.node(next_key).props_start
    };
    let old = tree.scalar(value).map(str::to_owned);
    let record = Record {
        doc,
        path: path.clone(),
        old,
        new: None,
    };
    Ok(Splice {
        start,
        end,
        text: String::new(),
        changes: vec![(0, record)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splice(start: usize, end: usize, text: &str) -> Splice {
        Splice {
            start,
            end,
            text: text.to_owned(),
            changes: Vec::new(),
        }
    }

    #[test]
    fn applies_and_maps_offsets() {
        let spliced = apply("0123456789", vec![splice(6, 8, "x"), splice(2, 2, "ab")]).unwrap();
        assert_eq!(spliced.text, "01ab2345x89");
        assert_eq!(spliced.map(0), 0);
        assert_eq!(spliced.map(2), 4);
        assert_eq!(spliced.map(5), 7);
        assert_eq!(spliced.map(7), 8);
        assert_eq!(spliced.map(9), 10);
    }

    #[test]
    fn refuses_overlaps() {
        assert!(apply("0123456789", vec![splice(2, 5, ""), splice(4, 6, "")]).is_err());
    }
}
