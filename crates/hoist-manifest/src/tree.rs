//! A small tree of the document's nodes, each knowing its exact bytes in the source.
//!
//! Built by [`crate::parse`]; read by everything else.

use std::collections::{HashMap, HashSet};

use saphyr_parser::ScalarStyle;

use crate::error::EditError;
use crate::target::Limits;
use crate::text::Source;

/// Index of a node in the tree.
pub(crate) type NodeId = usize;

/// One node of the document, with its bytes in the source.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// First byte of the node's properties (`&anchor`, `!tag`), or of its content.
    pub(crate) props_start: usize,
    /// First byte of the content: a scalar's first character or quote, `{`, `[`,
    /// or the first key of a block mapping.
    pub(crate) start: usize,
    /// The byte after the content; for a block collection, the end of its last child.
    pub(crate) end: usize,
    /// The parser's anchor id when the node carries `&name`.
    pub(crate) anchor: Option<usize>,
    /// The collection holding this node.
    pub(crate) parent: Option<NodeId>,
    /// How many nodes this one stands for with every alias in it expanded.
    pub(crate) expanded: usize,
    /// The scalar's explicit tag (`!!int 5`, `!!str 5`, `!custom x`), when it has one.
    pub(crate) tag: Option<ScalarTag>,
}

/// What an explicit tag on a scalar makes of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarTag {
    /// `!!str` or the non-specific `!`: the scalar is a string whatever its text.
    Str,
    /// Any other tag (`!!int`, `!!bool`, `!!float`, `!!null`, `!!binary`, `!local`, …): the
    /// scalar is not a plain string, or not one hoist can vouch for.
    Other,
}

/// What a node is.
#[derive(Debug)]
pub(crate) enum Kind {
    Scalar {
        value: String,
        style: ScalarStyle,
    },
    Mapping {
        entries: Vec<(NodeId, NodeId)>,
        flow: bool,
    },
    Sequence {
        items: Vec<NodeId>,
        flow: bool,
    },
    Alias {
        anchor: usize,
    },
}

/// One document of the stream.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) root: NodeId,
    /// The byte after the document's `---`, when it has one.
    pub(crate) marker_end: Option<usize>,
}

/// A parsed file: its documents as nodes with byte spans.
#[derive(Debug)]
pub(crate) struct Tree<'a> {
    pub(crate) source: Source<'a>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) documents: Vec<Document>,
    /// Anchor id → the node carrying it.
    pub(crate) anchors: HashMap<usize, NodeId>,
    /// Anchor ids some alias refers to.
    pub(crate) aliased: HashSet<usize>,
}

impl<'a> Tree<'a> {
    /// Parses `text`, enforcing the alias, expansion and depth limits (not the size limit).
    pub(crate) fn parse(text: &'a str, limits: &Limits) -> Result<Self, EditError> {
        crate::parse::parse(text, limits)
    }

    pub(crate) fn text(&self) -> &'a str {
        self.source.text()
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Every node id, parents before their children.
    pub(crate) fn node_ids(&self) -> std::ops::Range<NodeId> {
        0..self.nodes.len()
    }

    /// The 1-based line where the node's content starts.
    pub(crate) fn line(&self, id: NodeId) -> usize {
        self.source.line(self.nodes[id].start)
    }

    /// The 1-based line where the node's properties (`&anchor`, `!tag`) start.
    pub(crate) fn properties_line(&self, id: NodeId) -> usize {
        self.source.line(self.nodes[id].props_start)
    }

    /// The 0-based column of a byte offset, in characters.
    pub(crate) fn column(&self, offset: usize) -> usize {
        self.source.column(offset)
    }

    /// The scalar's value, or `None` for collections and aliases.
    pub(crate) fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[id].kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The node an alias refers to; any other node is returned as it is.
    pub(crate) fn dereference(&self, id: NodeId) -> NodeId {
        match self.nodes[id].kind {
            Kind::Alias { anchor } => self.anchors.get(&anchor).copied().unwrap_or(id),
            _ => id,
        }
    }

    /// The entries of a mapping (`None` for any other node).
    pub(crate) fn entries(&self, id: NodeId) -> Option<&[(NodeId, NodeId)]> {
        match &self.nodes[id].kind {
            Kind::Mapping { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence (`None` for any other node).
    pub(crate) fn items(&self, id: NodeId) -> Option<&[NodeId]> {
        match &self.nodes[id].kind {
            Kind::Sequence { items, .. } => Some(items),
            _ => None,
        }
    }

    /// The first entry of a mapping whose key is the scalar `key`, as (key node, value node).
    pub(crate) fn entry(&self, mapping: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        self.entries(mapping)?
            .iter()
            .copied()
            .find(|&(k, _)| self.scalar(self.dereference(k)) == Some(key))
    }

    /// The key of the mapping entry whose value is `value`.
    pub(crate) fn key_of(&self, value: NodeId) -> Option<NodeId> {
        let parent = self.nodes[value].parent?;
        self.entries(parent)?
            .iter()
            .find(|&&(_, v)| v == value)
            .map(|&(k, _)| k)
    }

    /// Whether the node is a `{…}` or `[…]` collection.
    pub(crate) fn is_flow(&self, id: NodeId) -> bool {
        matches!(
            self.nodes[id].kind,
            Kind::Mapping { flow: true, .. } | Kind::Sequence { flow: true, .. }
        )
    }

    /// Whether the node carries an anchor that some alias uses.
    pub(crate) fn is_shared(&self, id: NodeId) -> bool {
        self.nodes[id]
            .anchor
            .is_some_and(|anchor| self.aliased.contains(&anchor))
    }

    /// The name of the node's anchor (`name` of `&name`) or, for an alias, of `*name`.
    pub(crate) fn anchor_name(&self, id: NodeId) -> String {
        let node = &self.nodes[id];
        let text = self.text();
        let (sigil, region) = match node.kind {
            Kind::Alias { .. } => ('*', &text[node.start..node.end]),
            _ => ('&', &text[node.props_start..node.start]),
        };
        region
            .split_whitespace()
            .find_map(|word| word.strip_prefix(sigil))
            .unwrap_or_default()
            .to_owned()
    }

    /// The explicit tag of the node as written (`!!int`, `!`, `!custom`), or `None`.
    pub(crate) fn tag_text(&self, id: NodeId) -> Option<String> {
        let node = &self.nodes[id];
        node.tag?;
        self.text()[node.props_start..node.start]
            .split_whitespace()
            .find(|word| word.starts_with('!'))
            .map(str::to_owned)
    }

    /// Whether the scalar `id` reads as a string: tagged `!!str`/`!`, quoted, or plain text
    /// that no YAML 1.1 or 1.2 reader takes for a null, bool, number or timestamp.
    pub(crate) fn reads_as_string(&self, id: NodeId) -> bool {
        let node = &self.nodes[id];
        match (&node.kind, node.tag) {
            (Kind::Scalar { .. }, Some(ScalarTag::Str)) => true,
            (Kind::Scalar { .. }, Some(ScalarTag::Other)) => false,
            (Kind::Scalar { value, style }, None) => {
                *style != ScalarStyle::Plain || !crate::scalar::resolves_as_non_string(value)
            }
            _ => false,
        }
    }

    /// A word for messages: `mapping`, `sequence`, `scalar`, `block scalar` or `alias`.
    pub(crate) fn kind_name(&self, id: NodeId) -> &'static str {
        match &self.nodes[id].kind {
            Kind::Mapping { .. } => "mapping",
            Kind::Sequence { .. } => "sequence",
            Kind::Scalar {
                style: ScalarStyle::Literal | ScalarStyle::Folded,
                ..
            } => "block scalar",
            Kind::Scalar {
                value,
                style: ScalarStyle::Plain,
            } if crate::scalar::resolves_as_null(value) => "null",
            Kind::Scalar { .. } => "scalar",
            Kind::Alias { .. } => "alias",
        }
    }

    /// Whether the node is a value with no bytes at all (`key:` and nothing after it).
    pub(crate) fn is_missing_value(&self, id: NodeId) -> bool {
        let node = &self.nodes[id];
        matches!(&node.kind, Kind::Scalar { value, style: ScalarStyle::Plain } if value.is_empty())
            && node.start == node.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Tree<'_> {
        Tree::parse(text, &Limits::default()).unwrap()
    }

    /// The source bytes of the value at top-level `key`.
    fn value_bytes<'t>(tree: &'t Tree<'_>, key: &str) -> &'t str {
        let root = tree.documents[0].root;
        let (_, value) = tree.entry(root, key).unwrap();
        let node = tree.node(value);
        &tree.text()[node.start..node.end]
    }

    #[test]
    fn scalar_spans_are_exact() {
        let text = "a: plain  # c\nb: 's''q'  # c\nc: \"d\\\"q\" # c\nd:\ne: ~\nf: &x é # c\ng: *x # c\nh: !!str 5\ni:  # c\n";
        let tree = parse(text);
        assert_eq!(value_bytes(&tree, "a"), "plain");
        assert_eq!(value_bytes(&tree, "b"), "'s''q'");
        assert_eq!(value_bytes(&tree, "c"), "\"d\\\"q\"");
        assert_eq!(value_bytes(&tree, "d"), "");
        assert_eq!(value_bytes(&tree, "e"), "~");
        assert_eq!(value_bytes(&tree, "f"), "é");
        assert_eq!(value_bytes(&tree, "g"), "*x");
        assert_eq!(value_bytes(&tree, "h"), "5");
        let (_, d) = tree.entry(tree.documents[0].root, "d").unwrap();
        assert_eq!(tree.node(d).start, text.find("d:").unwrap() + 2);
        let (_, i) = tree.entry(tree.documents[0].root, "i").unwrap();
        assert_eq!(tree.node(i).start, text.find("i:").unwrap() + 2);
    }

    #[test]
    fn collections_know_their_style_and_end() {
        let text = "\u{feff}m:\n  k: v # c\nf: {x: 1, y: [a]}\ns:\n- a\n- [b]\n";
        let tree = parse(text);
        let root = tree.documents[0].root;
        let (_, m) = tree.entry(root, "m").unwrap();
        assert!(!tree.is_flow(m));
        assert_eq!(&text[tree.node(m).start..tree.node(m).end], "k: v");
        let (_, f) = tree.entry(root, "f").unwrap();
        assert!(tree.is_flow(f));
        assert_eq!(
            &text[tree.node(f).start..tree.node(f).end],
            "{x: 1, y: [a]}"
        );
        let (_, s) = tree.entry(root, "s").unwrap();
        assert!(!tree.is_flow(s));
        assert_eq!(&text[tree.node(s).start..tree.node(s).end], "a\n- [b]");
    }

    #[test]
    fn anchors_and_aliases() {
        let tree = parse("a: &shared {x: 1}\nb: *shared\nc: &lonely 2\n");
        let root = tree.documents[0].root;
        let (_, a) = tree.entry(root, "a").unwrap();
        let (_, b) = tree.entry(root, "b").unwrap();
        let (_, c) = tree.entry(root, "c").unwrap();
        assert!(tree.is_shared(a));
        assert!(!tree.is_shared(c));
        assert_eq!(tree.anchor_name(a), "shared");
        assert_eq!(tree.anchor_name(b), "shared");
        assert_eq!(tree.dereference(b), a);
    }

    #[test]
    fn documents() {
        let tree = parse("a: 1\n---\n# empty\n---\nb: 2\n");
        assert_eq!(tree.documents.len(), 3);
        assert_eq!(tree.documents[0].marker_end, None);
        assert_eq!(tree.documents[1].marker_end, Some(8));
        assert!(parse("# only a comment\n").documents.is_empty());
    }

    #[test]
    fn recursive_alias_is_refused() {
        let error = Tree::parse("a: &x\n  b: *x\n", &Limits::default()).unwrap_err();
        assert!(
            matches!(error, EditError::TooManyExpandedNodes { .. }),
            "{error}"
        );
    }
}
