//! Inserting new lines: mapping entries, sequence items, whole structures.
//!
//! New lines copy the file's layout: its line ending, the indentation of their siblings (or the
//! parent's plus the file's indent step), and the style of the sequence items next to them.

use crate::error::EditError;
use crate::path::{KeyPath, Segment};
use crate::scalar::plain_or_double_quoted;
use crate::splice::{Record, Splice};
use crate::text::{after_line_of, is_blank_file, line_ending};
use crate::tree::{NodeId, Tree};

/// How the file lays out its blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// `\n` or `\r\n`.
    eol: &'static str,
    /// How far a nested mapping is indented (2 unless the file shows otherwise).
    step: usize,
    /// Whether sequences under a key start at the key's column (`key:\n- item`).
    indentless: bool,
}

impl Layout {
    /// The layout of the first nested mapping and the first sequence under a key.
    pub(crate) fn detect(tree: &Tree<'_>) -> Self {
        let mut step = None;
        let mut indentless = None;
        for id in tree.node_ids() {
            if step.is_some() && indentless.is_some() {
                break;
            }
            let wanted = (step.is_none() && tree.entries(id).is_some())
                || (indentless.is_none() && tree.items(id).is_some());
            if !wanted || tree.is_flow(id) {
                continue;
            }
            let Some(key) = tree.key_of(id) else { continue };
            let key_column = tree.column(tree.node(key).props_start);
            if step.is_none() && tree.entries(id).is_some() {
                let column = tree.column(tree.node(id).start);
                step = column.checked_sub(key_column).filter(|&step| step > 0);
            }
            if indentless.is_none() && tree.items(id).is_some() {
                indentless = Some(item_columns(tree, id).0 == key_column);
            }
        }
        Self {
            eol: line_ending(tree.text()),
            step: step.unwrap_or(2),
            indentless: indentless.unwrap_or(true),
        }
    }
}

/// Where new lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertAt {
    /// After the last entry of a block mapping, at its keys' indentation.
    Mapping(NodeId),
    /// After the last item of a block sequence, in its items' style.
    Sequence(NodeId),
    /// Under `key:` whose value is missing (no bytes at all).
    MissingValue(NodeId),
    /// Into a document with an empty root, or (`None`) a file with no document at all.
    EmptyDocument(Option<usize>),
}

/// Inserts lines at `at` (reached by `base` in document `doc`): the keys and `[field=value]`
/// items of `rest`, nested, ending in a mapping that gets the `leaves` (key, value) in order.
pub(crate) fn insert(
    tree: &Tree<'_>,
    layout: Layout,
    at: InsertAt,
    doc: usize,
    base: &KeyPath,
    rest: &[Segment],
    leaves: &[(String, String)],
) -> Result<Splice, EditError> {
    let mut full = base.clone();
    for segment in rest {
        full = full.child(segment.clone());
    }
    if let InsertAt::Mapping(node) | InsertAt::Sequence(node) = at
        && tree.is_flow(node)
    {
        let added = leaves.first().map_or(full.clone(), |(key, _)| {
            full.child(Segment::Key(key.clone()))
        });
        return Err(EditError::FlowCollection {
            path: added.to_string(),
            line: tree.line(node),
        });
    }
    let mut lines = Vec::new();
    let position = Writer { layout }
        .write_at(tree, at, rest, leaves, &mut lines)
        .map_err(|reason| {
            let line = match at {
                InsertAt::Mapping(node)
                | InsertAt::Sequence(node)
                | InsertAt::MissingValue(node) => Some(tree.line(node)),
                InsertAt::EmptyDocument(_) => None,
            };
            EditError::CannotCreate {
                path: full.to_string(),
                reason,
                line,
            }
        })?;

    // At the end of a file without a final line break: break the last line, and keep the
    // file without a final line break.
    let text = tree.text();
    let at_unterminated_end =
        position == text.len() && !is_blank_file(text) && !text.ends_with('\n');
    let mut inserted = String::new();
    let mut changes = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if at_unterminated_end || i > 0 {
            inserted.push_str(layout.eol);
        }
        if let Some(leaf) = line.leaf {
            let (key, value) = &leaves[leaf];
            let path = full.child(Segment::Key(key.clone()));
            let record = Record {
                doc,
                path,
                old: None,
                new: Some(value.clone()),
            };
            changes.push((inserted.len(), record));
        }
        inserted.push_str(&line.text);
    }
    if !at_unterminated_end {
        inserted.push_str(layout.eol);
    }
    Ok(Splice {
        start: position,
        end: position,
        text: inserted,
        changes,
    })
}

/// The columns of the dash and of the content of a block sequence's first item.
fn item_columns(tree: &Tree<'_>, sequence: NodeId) -> (usize, usize) {
    let Some(&first) = tree.items(sequence).and_then(|items| items.first()) else {
        return (0, 2);
    };
    let start = tree.node(first).props_start;
    let content = tree.column(start);
    let before = tree.text()[..start].trim_end_matches([' ', '\t']);
    if before.ends_with('-') {
        (tree.column(before.len() - 1), content)
    } else {
        (content.saturating_sub(2), content)
    }
}

/// One new line, and which leaf it sets (if any).
struct Line {
    text: String,
    leaf: Option<usize>,
}

/// Writes new lines in the file's layout. Errors are reasons for [`EditError::CannotCreate`].
struct Writer {
    layout: Layout,
}

const INDEX_REASON: &str = "an index `[N]` can only point at an item that exists; use a `[field=value]` selector to add one";
const NESTED_SEQUENCE_REASON: &str =
    "a sequence directly inside a sequence cannot be created; add the outer item by hand";

impl Writer {
    /// Writes the lines for `at` and returns the offset where they go.
    fn write_at(
        &self,
        tree: &Tree<'_>,
        at: InsertAt,
        rest: &[Segment],
        leaves: &[(String, String)],
        out: &mut Vec<Line>,
    ) -> Result<usize, &'static str> {
        let text = tree.text();
        match at {
            InsertAt::Mapping(mapping) => {
                let first_key = tree.entries(mapping).and_then(|entries| entries.first());
                let indent =
                    first_key.map_or(0, |&(key, _)| tree.column(tree.node(key).props_start));
                self.mapping(rest, leaves, indent, out)?;
                Ok(after_line_of(text, tree.node(mapping).end))
            }
            InsertAt::Sequence(sequence) => {
                let (dash, content) = item_columns(tree, sequence);
                self.item(rest, leaves, dash, content, out)?;
                Ok(after_line_of(text, tree.node(sequence).end))
            }
            InsertAt::MissingValue(value) => {
                let key = tree.key_of(value);
                let key_column = key.map_or(0, |key| tree.column(tree.node(key).props_start));
                self.nested(rest, leaves, key_column, out)?;
                Ok(after_line_of(text, tree.node(value).end))
            }
            InsertAt::EmptyDocument(document) => {
                match rest.first() {
                    Some(Segment::Select { .. }) => self.item(rest, leaves, 0, 2, out)?,
                    _ => self.mapping(rest, leaves, 0, out)?,
                }
                let document = document.and_then(|d| tree.documents.get(d));
                let marker_end = document.and_then(|d| d.marker_end);
                Ok(marker_end.map_or(text.len(), |end| after_line_of(text, end)))
            }
        }
    }

    /// A mapping at `indent`: the keys of `rest`, each nested in the one before, then `leaves`.
    fn mapping(
        &self,
        rest: &[Segment],
        leaves: &[(String, String)],
        indent: usize,
        out: &mut Vec<Line>,
    ) -> Result<(), &'static str> {
        match rest.split_first() {
            None => {
                for (i, (key, value)) in leaves.iter().enumerate() {
                    let text = format!(
                        "{}{}: {}",
                        " ".repeat(indent),
                        plain_or_double_quoted(key),
                        plain_or_double_quoted(value)
                    );
                    out.push(Line {
                        text,
                        leaf: Some(i),
                    });
                }
                Ok(())
            }
            Some((Segment::Key(key), tail)) => {
                let text = format!("{}{}:", " ".repeat(indent), plain_or_double_quoted(key));
                out.push(Line { text, leaf: None });
                self.nested(tail, leaves, indent, out)
            }
            Some((Segment::Index(_), _)) => Err(INDEX_REASON),
            Some((Segment::Select { .. }, _)) => Err(NESTED_SEQUENCE_REASON),
        }
    }

    /// The value of a key at `key_indent`: a nested mapping, or a sequence of one item.
    fn nested(
        &self,
        rest: &[Segment],
        leaves: &[(String, String)],
        key_indent: usize,
        out: &mut Vec<Line>,
    ) -> Result<(), &'static str> {
        if let Some(Segment::Select { .. }) = rest.first() {
            let dash = if self.layout.indentless {
                key_indent
            } else {
                key_indent + self.layout.step
            };
            return self.item(rest, leaves, dash, dash + 2, out);
        }
        self.mapping(rest, leaves, key_indent + self.layout.step, out)
    }

    /// A sequence item `- field: value` for the `[field=value]` that starts `rest`, with its
    /// dash at column `dash` and its keys at column `content`; then the rest of the path in it.
    fn item(
        &self,
        rest: &[Segment],
        leaves: &[(String, String)],
        dash: usize,
        content: usize,
        out: &mut Vec<Line>,
    ) -> Result<(), &'static str> {
        let Some((Segment::Select { field, value }, tail)) = rest.split_first() else {
            return Err(INDEX_REASON);
        };
        let content = content.max(dash + 2);
        let text = format!(
            "{}-{}{}: {}",
            " ".repeat(dash),
            " ".repeat(content - dash - 1),
            plain_or_double_quoted(field),
            plain_or_double_quoted(value)
        );
        out.push(Line { text, leaf: None });
        self.mapping(tail, leaves, content, out)
    }
}
