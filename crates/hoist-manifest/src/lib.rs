//! Byte-exact YAML splicing for GitOps manifests.
//!
//! A GitOps bump must change only the bytes of the scalar it bumps: comments, blank lines, key
//! order, indentation, quote style, CRLF line endings, a byte order mark, a missing final line
//! break, flow collections and anchors elsewhere all stay as they were. So the document is
//! never re-serialized:
//!
//! 1. the text is parsed (saphyr-parser's events) into a small tree of nodes that know their
//!    exact byte spans, within [`Limits`];
//! 2. each [`Target`] is located in that tree and turned into splices — byte ranges replaced
//!    by a new scalar in the old quote style, or whole lines inserted or removed;
//! 3. the spliced text is parsed again and every changed path is read back; if it does not
//!    hold the new value, [`apply`] fails instead of returning a broken file.
//!
//! What cannot be done safely is refused with an [`EditError`] that says what to change, never
//! guessed: editing block scalars (`|`, `>`), aliases or anchors that aliases share, paths
//! through aliases, adding or removing lines inside flow collections (`{…}`, `[…]`), files
//! with a duplicate key in a mapping, and scalars tagged other than `!!str` (`!!int 5`: the new
//! value would not read back as a string, and dropping the author's tag would be a guess).
//!
//! ```
//! use hoist_manifest::{Options, Target, apply};
//!
//! let values = "image:\n  repository: api\n  tag: \"abc1234\"   # set by CI\n";
//! let target = Target::Key { path: "image.tag".parse()?, value: "def5678".into() };
//! let edited = apply(values, &[target], &Options::default())?;
//! assert_eq!(edited.text, "image:\n  repository: api\n  tag: \"def5678\"   # set by CI\n");
//! assert_eq!(edited.changes[0].line, 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod edit;
mod error;
mod insert;
mod key;
mod kustomize;
mod lookup;
mod parse;
mod path;
mod scalar;
mod splice;
mod target;
mod text;
mod tree;
mod workload;

pub use edit::{Change, Edited, apply, read};
pub use error::{EditError, PathError};
pub use path::{KeyPath, Segment};
pub use target::{Limits, Options, Target};
