//! What can go wrong, each with a hint what to change.

/// A key path that cannot be parsed (see [`crate::KeyPath`] for the grammar).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path is empty.
    #[error("the key path is empty; write keys separated by dots, e.g. `image.tag`")]
    Empty,
    /// The path is longer than 1 KiB.
    #[error("the key path is {bytes} bytes long, more than the limit of {limit}; shorten it")]
    TooLong {
        /// Length of the path in bytes.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The path has more than 64 segments.
    #[error("the key path has more than {limit} segments; shorten it")]
    TooManySegments {
        /// The limit.
        limit: usize,
    },
    /// Two dots in a row, a leading or trailing dot, or a dot before `[`.
    #[error(
        "empty key at byte {position} of `{path}`; write keys separated by single dots, e.g. `image.tag` (no `..`, no leading or trailing `.`)"
    )]
    EmptyKey {
        /// The whole path.
        path: String,
        /// Byte offset of the empty key.
        position: usize,
    },
    /// A key holds a character that keys may not hold.
    #[error(
        "key `{key}` in `{path}` holds {character:?}; keys may not contain `.`, `[`, `]`, `=`, whitespace or control characters (use `[field=value]` to select list items)"
    )]
    BadKeyCharacter {
        /// The whole path.
        path: String,
        /// The key as far as it was read.
        key: String,
        /// The character that is not allowed.
        character: char,
    },
    /// A `[` without its `]`.
    #[error("`[` at byte {position} of `{path}` is never closed; write `[0]` or `[name=value]`")]
    Unclosed {
        /// The whole path.
        path: String,
        /// Byte offset of the `[`.
        position: usize,
    },
    /// The text between `[` and `]` is neither an index nor a selector.
    #[error(
        "`[{inside}]` in `{path}` is neither an index nor a selector; write `[0]` (a decimal index) or `[name=value]`"
    )]
    BadBracket {
        /// The whole path.
        path: String,
        /// The text between the brackets.
        inside: String,
    },
    /// The value of a `[field=value]` selector holds a newline or another control character.
    #[error(
        "the selector value in `{path}` holds a control character; selector values may hold anything but `]` and control characters"
    )]
    BadSelectorValue {
        /// The whole path.
        path: String,
    },
    /// Something other than `.`, `[` or the end follows a `]`.
    #[error(
        "`{path}` has {character:?} right after `]` at byte {position}; follow `]` with `.key`, `[...]` or nothing"
    )]
    AfterBracket {
        /// The whole path.
        path: String,
        /// Byte offset of the character.
        position: usize,
        /// The character.
        character: char,
    },
}

/// Why a file could not be read or edited.
///
/// Every message says what is wrong and what to change; [`EditError::line`] gives the
/// 1-based line when there is one (for `::error file=…,line=…::`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The text is not valid YAML.
    #[error("not valid YAML at line {line}, column {column}: {message}; fix the syntax there")]
    NotYaml {
        /// The parser's message.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
    },
    /// The file is larger than [`crate::Limits::max_bytes`].
    #[error(
        "the file has {bytes} bytes, more than the limit of {limit}; a manifest is rarely this big — check the file or raise the limit"
    )]
    TooLarge {
        /// Size of the file.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// YAML bomb: the file uses more aliases (`*name`) than [`crate::Limits::max_aliases`].
    #[error(
        "YAML bomb refused: more than {limit} aliases (at line {line}); a manifest needs few aliases — remove them or raise the alias limit"
    )]
    TooManyAliases {
        /// The limit.
        limit: usize,
        /// Line of the alias over the limit.
        line: usize,
    },
    /// YAML bomb: expanding the aliases would add more nodes than
    /// [`crate::Limits::max_expanded_nodes`] (or an alias refers to the node it is inside of).
    #[error(
        "YAML bomb refused: the aliases expand to more than {limit} nodes (at line {line}); remove the nested or recursive aliases"
    )]
    TooManyExpandedNodes {
        /// The limit.
        limit: usize,
        /// Line where the limit was crossed.
        line: usize,
    },
    /// Collections are nested deeper than [`crate::Limits::max_depth`].
    #[error(
        "collections are nested deeper than {limit} levels at line {line}; flatten the document or raise the depth limit"
    )]
    TooDeep {
        /// The limit.
        limit: usize,
        /// Line where the limit was crossed.
        line: usize,
    },
    /// A mapping holds the same key twice; which one a reader takes is undefined.
    #[error(
        "the key `{key}` appears twice in one mapping (lines {first_line} and {line}); YAML forbids duplicate keys and readers disagree on which one counts — remove one of them"
    )]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// Line of its first occurrence.
        first_line: usize,
        /// Line of the repeat.
        line: usize,
    },
    /// The value to edit carries an explicit tag other than `!!str` (`!!int 5`, `!!bool
    /// true`, `!custom x`): the new value would not read back as the string written.
    #[error(
        "`{path}` carries the tag `{tag}` (line {line}), under which `{value}` would not read as a string; remove the tag (or make it `!!str`) and run again"
    )]
    TaggedScalar {
        /// The whole path.
        path: String,
        /// The tag as written, e.g. `!!int`.
        tag: String,
        /// The value that was to be written.
        value: String,
        /// Line of the scalar.
        line: usize,
    },
    /// The path resolves in no document.
    #[error("`{path}` not found: {} has no `{missing}`{}; check the spelling, or set create-missing to add it", quoted(.parent), at_line(.line))]
    PathNotFound {
        /// The whole path.
        path: String,
        /// The first segment that is missing.
        missing: String,
        /// The part of the path that exists (`the document` for the top level).
        parent: String,
        /// Line of the part that exists.
        line: Option<usize>,
    },
    /// The missing part of the path cannot be created.
    #[error("cannot create `{path}`: {reason}")]
    CannotCreate {
        /// The whole path.
        path: String,
        /// Why, and what to write instead.
        reason: &'static str,
        /// Line of the part that exists.
        line: Option<usize>,
    },
    /// The path leads to a mapping or a sequence, not to a scalar.
    #[error(
        "`{path}` is a {found} (line {line}), not a single value; point the path at a scalar below it"
    )]
    NotAScalar {
        /// The whole path.
        path: String,
        /// What was found: `mapping` or `sequence`.
        found: &'static str,
        /// Line of the node.
        line: usize,
    },
    /// A key was needed but the node is not a mapping.
    #[error(
        "{} is a {found} (line {line}), but the path needs a mapping there; check the path",
        quoted(.at)
    )]
    NotAMapping {
        /// The part of the path that resolved (`the document` for the top level).
        at: String,
        /// What was found.
        found: &'static str,
        /// Line of the node.
        line: usize,
    },
    /// An index or selector was needed but the node is not a sequence.
    #[error(
        "{} is a {found} (line {line}), but the path needs a sequence there; check the path",
        quoted(.at)
    )]
    NotASequence {
        /// The part of the path that resolved (`the document` for the top level).
        at: String,
        /// What was found.
        found: &'static str,
        /// Line of the node.
        line: usize,
    },
    /// The value to edit is an alias (`*name`) of a value defined elsewhere.
    #[error(
        "`{path}` is the alias `*{alias}` (line {line}); editing it would change the anchor `&{alias}` instead — edit the anchored value, or replace the alias by a plain value"
    )]
    TargetIsAlias {
        /// The whole path.
        path: String,
        /// Name of the alias.
        alias: String,
        /// Line of the alias.
        line: usize,
    },
    /// The path goes through an alias (`*name`): the part below it is shared with the anchor.
    #[error(
        "`{path}` goes through the alias `*{alias}` at `{at}` (line {line}); the value lives under the anchor `&{alias}` — point the path there, or expand the alias by hand"
    )]
    ThroughAlias {
        /// The whole path.
        path: String,
        /// The part of the path that is the alias.
        at: String,
        /// Name of the alias.
        alias: String,
        /// Line of the alias.
        line: usize,
    },
    /// The target, or a node on the way to it, carries an anchor that an alias uses:
    /// editing it would silently change the other places too.
    #[error(
        "{} carries the anchor `&{anchor}` (line {line}) that an alias `*{anchor}` uses; editing `{path}` would change those places too — give it its own value first",
        quoted(.at)
    )]
    SharedAnchor {
        /// The whole path.
        path: String,
        /// The part of the path that carries the anchor.
        at: String,
        /// Name of the anchor.
        anchor: String,
        /// Line of the anchored node.
        line: usize,
    },
    /// The value to edit is a block scalar (`|` or `>`).
    #[error(
        "`{path}` is a block scalar (`|` or `>`, line {line}); write it as a one-line value first"
    )]
    BlockScalar {
        /// The whole path.
        path: String,
        /// Line of the scalar.
        line: usize,
    },
    /// Lines would have to be inserted into, or removed from, a flow collection (`{…}` or `[…]`).
    #[error(
        "cannot add or remove `{path}` inside a flow collection (`{{…}}` or `[…]`, line {line}); rewrite that collection in block style"
    )]
    FlowCollection {
        /// The path of what was to be added or removed.
        path: String,
        /// Line of the flow collection.
        line: usize,
    },
    /// A key that is the only key of a sequence item cannot be removed.
    #[error(
        "cannot remove `{path}` (line {line}): it is the only key of its sequence item; remove the item by hand"
    )]
    CannotRemove {
        /// The path of the key.
        path: String,
        /// Line of the key.
        line: usize,
    },
    /// A `[field=value]` selector matches several items.
    #[error(
        "`{selector}` in `{path}` matches {count} items (first at line {line}); make the names unique"
    )]
    AmbiguousSelector {
        /// The whole path.
        path: String,
        /// The selector, e.g. `[name=api]`.
        selector: String,
        /// How many items match.
        count: usize,
        /// Line of the first match.
        line: usize,
    },
    /// No container image has the repository to bump.
    #[error("no container image with repository `{repository}` found; the file has {}; check the repository", list_repositories(.found))]
    NoMatchingImage {
        /// The repository looked for.
        repository: String,
        /// The repositories of the images the file has, in order, without repeats.
        found: Vec<String>,
    },
    /// The edited text does not read back as intended (a bug in this crate; nothing was written).
    #[error(
        "bug: after editing, `{path}` does not read back as intended ({detail}); nothing was written — please report this with the file"
    )]
    Verification {
        /// The path that failed.
        path: String,
        /// What was wrong.
        detail: String,
    },
}

impl EditError {
    /// The 1-based line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::NotYaml { line, .. }
            | Self::TooManyAliases { line, .. }
            | Self::TooManyExpandedNodes { line, .. }
            | Self::TooDeep { line, .. }
            | Self::NotAScalar { line, .. }
            | Self::NotAMapping { line, .. }
            | Self::NotASequence { line, .. }
            | Self::TargetIsAlias { line, .. }
            | Self::ThroughAlias { line, .. }
            | Self::SharedAnchor { line, .. }
            | Self::BlockScalar { line, .. }
            | Self::FlowCollection { line, .. }
            | Self::CannotRemove { line, .. }
            | Self::AmbiguousSelector { line, .. }
            | Self::DuplicateKey { line, .. }
            | Self::TaggedScalar { line, .. } => Some(*line),
            Self::PathNotFound { line, .. } | Self::CannotCreate { line, .. } => *line,
            Self::TooLarge { .. } | Self::NoMatchingImage { .. } | Self::Verification { .. } => {
                None
            }
        }
    }
}

/// A path in backquotes; `the document` as it is.
fn quoted(path: &str) -> String {
    if path == "the document" {
        path.to_owned()
    } else {
        format!("`{path}`")
    }
}

fn at_line(line: &Option<usize>) -> String {
    match line {
        Some(line) => format!(" (line {line})"),
        None => String::new(),
    }
}

fn list_repositories(found: &[String]) -> String {
    if found.is_empty() {
        return "no container images".to_owned();
    }
    let quoted: Vec<String> = found.iter().map(|r| format!("`{r}`")).collect();
    format!("images of {}", quoted.join(", "))
}
