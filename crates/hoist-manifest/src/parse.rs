//! From saphyr-parser's events to a [`Tree`].
//!
//! The events carry character-indexed spans, and some span ends run on past the node (a
//! quoted scalar's span includes trailing spaces and comments; a block sequence starts after
//! its first `- `), so the exact bytes are worked out here: properties (`&anchor`, `!tag`) are
//! skipped, quoted scalars are scanned to their closing quote, and a missing value (`key:`
//! and nothing) is placed right after its colon. The limits are enforced on the way: the
//! depth, the number of aliases, and the nodes the aliases would add when expanded (each
//! node knows its expanded size, so nothing is ever expanded).

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};

use crate::error::EditError;
use crate::target::Limits;
use crate::text::{CharToByte, Source};
use crate::tree::{Document, Kind, Node, NodeId, ScalarTag, Tree};

/// Parses `text`, enforcing the alias, expansion and depth limits (not the size limit).
pub(crate) fn parse<'a>(text: &'a str, limits: &Limits) -> Result<Tree<'a>, EditError> {
    let mut builder = Builder::new(text, limits);
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| builder.not_yaml(&error))?;
        let start = builder.byte(span.start.index());
        let end = builder.byte(span.end.index());
        builder.event(event, start, end)?;
    }
    Ok(builder.finish())
}

/// An open collection while its children are parsed.
struct Open {
    id: NodeId,
    children: Vec<NodeId>,
}

/// Builds a [`Tree`] from parser events.
struct Builder<'a, 'l> {
    text: &'a str,
    chars: CharToByte,
    source: Source<'a>,
    limits: &'l Limits,
    nodes: Vec<Node>,
    documents: Vec<Document>,
    anchors: HashMap<usize, NodeId>,
    aliased: HashSet<usize>,
    open: Vec<Open>,
    marker_end: Option<usize>,
    aliases: usize,
    /// How many nodes the aliases seen so far add when expanded.
    alias_nodes: usize,
}

impl<'a, 'l> Builder<'a, 'l> {
    fn new(text: &'a str, limits: &'l Limits) -> Self {
        Self {
            text,
            chars: CharToByte::new(text),
            source: Source::new(text),
            limits,
            nodes: Vec::new(),
            documents: Vec::new(),
            anchors: HashMap::new(),
            aliased: HashSet::new(),
            open: Vec::new(),
            marker_end: None,
            aliases: 0,
            alias_nodes: 0,
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.chars.byte(char_index, self.text.len())
    }

    fn not_yaml(&self, error: &ScanError) -> EditError {
        // The scanner's own bound on flow nesting (`[[[[…`), met before the events are seen.
        if error.info() == "recursion limit exceeded" {
            return EditError::TooDeep {
                limit: self.limits.max_depth,
                line: error.marker().line(),
            };
        }
        EditError::NotYaml {
            message: error.info().to_owned(),
            line: error.marker().line(),
            column: error.marker().col() + 1,
        }
    }

    fn finish(self) -> Tree<'a> {
        Tree {
            source: self.source,
            nodes: self.nodes,
            documents: self.documents,
            anchors: self.anchors,
            aliased: self.aliased,
        }
    }

    fn event(&mut self, event: Event<'_>, start: usize, end: usize) -> Result<(), EditError> {
        match event {
            Event::DocumentStart(explicit) => self.marker_end = explicit.then_some(end),
            Event::Scalar(value, style, anchor, tag) => {
                let (content_start, content_end) = self.scalar_bounds(&value, style, start, end);
                let kind = Kind::Scalar {
                    value: value.into_owned(),
                    style,
                };
                self.add(kind, start, content_start, content_end, anchor, 1);
                if let Some(node) = self.nodes.last_mut() {
                    node.tag = tag.as_deref().map(scalar_tag);
                }
            }
            Event::Alias(anchor) => self.alias(anchor, start)?,
            Event::SequenceStart(anchor, _tag) => {
                self.open_collection(
                    Kind::Sequence {
                        items: Vec::new(),
                        flow: false,
                    },
                    start,
                    anchor,
                )?;
            }
            Event::MappingStart(anchor, _tag) => {
                self.open_collection(
                    Kind::Mapping {
                        entries: Vec::new(),
                        flow: false,
                    },
                    start,
                    anchor,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close_collection(end)?,
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Where a scalar's own bytes are, from the parser's span `start..end`.
    fn scalar_bounds(
        &self,
        value: &str,
        style: ScalarStyle,
        start: usize,
        end: usize,
    ) -> (usize, usize) {
        match style {
            // No bytes: placed after its properties, or (see `close_collection`) its colon.
            ScalarStyle::Plain if value.is_empty() => (end, end),
            ScalarStyle::Plain | ScalarStyle::Literal | ScalarStyle::Folded => {
                (skip_properties(self.text, start), end)
            }
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let content_start = skip_properties(self.text, start);
                (
                    content_start,
                    quoted_end(self.text, content_start).unwrap_or(end),
                )
            }
        }
    }

    fn alias(&mut self, anchor: usize, start: usize) -> Result<(), EditError> {
        self.aliases += 1;
        let line = self.source.line(start);
        if self.aliases > self.limits.max_aliases {
            return Err(EditError::TooManyAliases {
                limit: self.limits.max_aliases,
                line,
            });
        }
        let too_many = EditError::TooManyExpandedNodes {
            limit: self.limits.max_expanded_nodes,
            line,
        };
        let target = self.anchors.get(&anchor).copied();
        // An alias inside the node it refers to would expand forever.
        if target.is_none_or(|target| self.open.iter().any(|open| open.id == target)) {
            return Err(too_many);
        }
        let expanded = target.map_or(1, |target| self.nodes[target].expanded);
        self.alias_nodes = self.alias_nodes.saturating_add(expanded);
        if self.alias_nodes > self.limits.max_expanded_nodes {
            return Err(too_many);
        }
        self.aliased.insert(anchor);
        let end = alias_end(self.text, start);
        self.add(Kind::Alias { anchor }, start, start, end, 0, expanded);
        Ok(())
    }

    fn open_collection(
        &mut self,
        kind: Kind,
        start: usize,
        anchor: usize,
    ) -> Result<(), EditError> {
        let id = self.nodes.len();
        let content_start = skip_properties(self.text, start);
        self.nodes.push(Node {
            kind,
            props_start: start,
            start: content_start,
            end: content_start,
            anchor: (anchor != 0).then_some(anchor),
            parent: self.open.last().map(|open| open.id),
            expanded: 1,
            tag: None,
        });
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.open.push(Open {
            id,
            children: Vec::new(),
        });
        if self.open.len() > self.limits.max_depth {
            let line = self.source.line(content_start);
            return Err(EditError::TooDeep {
                limit: self.limits.max_depth,
                line,
            });
        }
        Ok(())
    }

    fn close_collection(&mut self, end: usize) -> Result<(), EditError> {
        let Some(Open { id, children }) = self.open.pop() else {
            return Ok(());
        };
        let start = self.nodes[id].start;
        let opener = self.text.as_bytes().get(start).copied();
        let first_child_starts_later = children
            .first()
            .is_none_or(|&child| self.nodes[child].props_start > start);
        let expanded = children.iter().fold(1usize, |sum, &child| {
            sum.saturating_add(self.nodes[child].expanded)
        });
        let kind = match self.nodes[id].kind {
            Kind::Mapping { .. } => {
                let entries: Vec<(NodeId, NodeId)> = children
                    .chunks_exact(2)
                    .map(|pair| (pair[0], pair[1]))
                    .collect();
                for &(key, value) in &entries {
                    self.place_missing_value(key, value);
                }
                self.refuse_duplicate_keys(&entries)?;
                Kind::Mapping {
                    entries,
                    flow: opener == Some(b'{') && first_child_starts_later,
                }
            }
            _ => Kind::Sequence {
                items: children.clone(),
                flow: opener == Some(b'[') && first_child_starts_later,
            },
        };
        let flow = matches!(
            kind,
            Kind::Mapping { flow: true, .. } | Kind::Sequence { flow: true, .. }
        );
        let content_end = match children.last() {
            _ if flow => end,
            Some(&last) => self.nodes[last].end,
            None => start,
        };
        let node = &mut self.nodes[id];
        node.kind = kind;
        node.end = content_end;
        node.expanded = expanded;
        self.attach(id);
        Ok(())
    }

    /// Refuses a mapping in which two keys read as the same scalar (`tag: a` … `tag: b`):
    /// YAML forbids it, and readers disagree on which one counts, so editing either would be a
    /// guess. A repeated merge key (`<<`) is let through: it names no value of its own.
    fn refuse_duplicate_keys(&self, entries: &[(NodeId, NodeId)]) -> Result<(), EditError> {
        let mut seen: HashMap<&str, NodeId> = HashMap::new();
        for &(key, _) in entries {
            let target = match self.nodes[key].kind {
                Kind::Alias { anchor } => self.anchors.get(&anchor).copied().unwrap_or(key),
                _ => key,
            };
            let Kind::Scalar { value, style } = &self.nodes[target].kind else {
                continue;
            };
            if *style == ScalarStyle::Plain && value == "<<" {
                continue;
            }
            if let Some(&first) = seen.get(value.as_str()) {
                return Err(EditError::DuplicateKey {
                    key: value.clone(),
                    first_line: self.source.line(self.nodes[first].start),
                    line: self.source.line(self.nodes[key].start),
                });
            }
            seen.insert(value, key);
        }
        Ok(())
    }

    /// Puts a value with no bytes (`key:` then nothing) right after its key's colon.
    fn place_missing_value(&mut self, key: NodeId, value: NodeId) {
        let node = &self.nodes[value];
        let no_bytes = node.props_start == node.end
            && matches!(&node.kind, Kind::Scalar { value, style: ScalarStyle::Plain } if value.is_empty());
        if !no_bytes {
            return;
        }
        let bytes = self.text.as_bytes();
        let mut i = self.nodes[key].end;
        while matches!(bytes.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if bytes.get(i) == Some(&b':') {
            let node = &mut self.nodes[value];
            node.props_start = i + 1;
            node.start = i + 1;
            node.end = i + 1;
        }
    }

    /// Adds a finished scalar or alias.
    fn add(
        &mut self,
        kind: Kind,
        props_start: usize,
        start: usize,
        end: usize,
        anchor: usize,
        expanded: usize,
    ) {
        let id = self.nodes.len();
        self.nodes.push(Node {
            kind,
            props_start,
            start,
            end,
            anchor: (anchor != 0).then_some(anchor),
            parent: self.open.last().map(|open| open.id),
            expanded,
            tag: None,
        });
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id);
    }

    /// Hands a finished node to its collection, or makes it a document's root.
    fn attach(&mut self, id: NodeId) {
        match self.open.last_mut() {
            Some(open) => open.children.push(id),
            None => self.documents.push(Document {
                root: id,
                marker_end: self.marker_end.take(),
            }),
        }
    }
}

/// What a scalar's explicit tag makes of it: `!!str` and the non-specific `!` keep it a string.
fn scalar_tag(tag: &Tag) -> ScalarTag {
    // `!!str`, the verbatim `!<tag:yaml.org,2002:str>`, and `!` (handle "", suffix "!").
    let is_str = format!("{}{}", tag.handle, tag.suffix) == "tag:yaml.org,2002:str"
        || (tag.handle.is_empty() && tag.suffix == "!");
    if is_str {
        ScalarTag::Str
    } else {
        ScalarTag::Other
    }
}

/// Skips whitespace, comments and node properties (`&anchor`, `!tag`) from `from`.
fn skip_properties(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    loop {
        while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'&' | b'!') => {
                while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
                    i += 1;
                }
            }
            Some(b'#') => {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
            }
            _ => return i.min(text.len()),
        }
    }
}

/// The byte after the closing quote of the quoted scalar starting at `start`.
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = *bytes.get(start)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        // `\x` in double quotes, `''` in single quotes: two bytes that do not close.
        let escape = (quote == b'"' && b == b'\\')
            || (quote == b'\'' && b == quote && bytes.get(i + 1) == Some(&b'\''));
        if escape {
            i += 2;
        } else if b == quote {
            return Some(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// The byte after the alias `*name` starting at `start`.
fn alias_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while bytes
        .get(i)
        .is_some_and(|&b| !b.is_ascii_whitespace() && !b",[]{}".contains(&b))
    {
        i += 1;
    }
    i
}
