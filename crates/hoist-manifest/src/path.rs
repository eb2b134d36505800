//! Key paths: `image.tag`, `spec.template.spec.containers[0].image`,
//! `helm.parameters[name=image.tag].value`.

use std::fmt;
use std::str::FromStr;

use crate::error::PathError;

/// The longest path accepted, in bytes.
pub(crate) const MAX_PATH_BYTES: usize = 1024;
/// The most segments a path may have.
pub(crate) const MAX_SEGMENTS: usize = 64;

/// A key path: `image.tag`, `services.api.image.tag`, `spec.template.spec.containers[0].image`,
/// `images[name=payments-api].newTag`, `helm.parameters[name=image.tag].value`.
///
/// Grammar: segments separated by `.`; a key is non-empty and holds no `.`, `[`, `]`, `=`,
/// whitespace or control characters; `[N]` is a decimal index into a sequence; `[field=value]`
/// selects the sequence item whose `field` equals `value` (the value runs to the next `]`,
/// so it may hold dots). A path may start with `[…]` when the document is a sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPath {
    segments: Vec<Segment>,
}

/// One step of a [`KeyPath`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index, from 0.
    Index(usize),
    /// The sequence item (a mapping) whose `field` holds `value`.
    Select {
        /// The key looked up in each item, e.g. `name`.
        field: String,
        /// The value it must hold, e.g. `image.tag`.
        value: String,
    },
}

impl KeyPath {
    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// A path made of `segments` as they are (no validation: used for paths found in a file).
    pub(crate) fn from_segments(segments: Vec<Segment>) -> Self {
        Self { segments }
    }

    /// The first `len` segments.
    pub(crate) fn prefix(&self, len: usize) -> Self {
        Self::from_segments(self.segments[..len.min(self.segments.len())].to_vec())
    }

    /// This path with `segment` appended.
    pub(crate) fn child(&self, segment: Segment) -> Self {
        let mut segments = self.segments.clone();
        segments.push(segment);
        Self::from_segments(segments)
    }

    /// The path for messages: its display, or `the document` when it is empty.
    pub(crate) fn describe(&self) -> String {
        if self.segments.is_empty() {
            "the document".to_owned()
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(key) => f.write_str(key),
            Self::Index(index) => write!(f, "[{index}]"),
            Self::Select { field, value } => write!(f, "[{field}={value}]"),
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 && matches!(segment, Segment::Key(_)) {
                f.write_str(".")?;
            }
            write!(f, "{segment}")?;
        }
        Ok(())
    }
}

impl FromStr for KeyPath {
    type Err = PathError;

    fn from_str(path: &str) -> Result<Self, PathError> {
        if path.is_empty() {
            return Err(PathError::Empty);
        }
        if path.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong {
                bytes: path.len(),
                limit: MAX_PATH_BYTES,
            });
        }
        let mut segments = Vec::new();
        let mut position = 0;
        // A key is expected at the start, after a `.`, and nowhere else.
        let mut expect_key = !path.starts_with('[');
        while position < path.len() {
            let rest = &path[position..];
            if expect_key {
                let len = rest.find(['.', '[']).unwrap_or(rest.len());
                segments.push(Segment::Key(parse_key(path, position, &rest[..len])?));
                position += len;
            } else if rest.starts_with('[') {
                let Some(close) = rest.find(']') else {
                    return Err(PathError::Unclosed {
                        path: path.to_owned(),
                        position,
                    });
                };
                segments.push(parse_bracket(path, &rest[1..close])?);
                position += close + 1;
            } else {
                let character = rest.chars().next().unwrap_or('.');
                return Err(PathError::AfterBracket {
                    path: path.to_owned(),
                    position,
                    character,
                });
            }
            if segments.len() > MAX_SEGMENTS {
                return Err(PathError::TooManySegments {
                    limit: MAX_SEGMENTS,
                });
            }
            // What comes next: `.key`, `[...]` or the end.
            let rest = &path[position..];
            if let Some(after_dot) = rest.strip_prefix('.') {
                position += 1;
                if after_dot.is_empty() || after_dot.starts_with(['.', '[']) {
                    return Err(PathError::EmptyKey {
                        path: path.to_owned(),
                        position,
                    });
                }
                expect_key = true;
            } else {
                expect_key = false;
            }
        }
        Ok(Self { segments })
    }
}

fn parse_key(path: &str, position: usize, key: &str) -> Result<String, PathError> {
    if key.is_empty() {
        return Err(PathError::EmptyKey {
            path: path.to_owned(),
            position,
        });
    }
    if let Some(character) = key.chars().find(|&c| !is_key_char(c)) {
        return Err(PathError::BadKeyCharacter {
            path: path.to_owned(),
            key: key.to_owned(),
            character,
        });
    }
    Ok(key.to_owned())
}

fn is_key_char(c: char) -> bool {
    !(matches!(c, '.' | '[' | ']' | '=') || c.is_whitespace() || c.is_control())
}

/// Parses the inside of `[…]`: a decimal index or `field=value`.
fn parse_bracket(path: &str, inside: &str) -> Result<Segment, PathError> {
    let bad = || PathError::BadBracket {
        path: path.to_owned(),
        inside: inside.to_owned(),
    };
    if let Some((field, value)) = inside.split_once('=') {
        if field.is_empty() || value.is_empty() || !field.chars().all(is_key_char) {
            return Err(bad());
        }
        if value.chars().any(char::is_control) {
            return Err(PathError::BadSelectorValue {
                path: path.to_owned(),
            });
        }
        return Ok(Segment::Select {
            field: field.to_owned(),
            value: value.to_owned(),
        });
    }
    if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    inside.parse().map(Segment::Index).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    #[test]
    fn parses_keys_indexes_and_selectors() {
        let path: KeyPath = "helm.parameters[name=image.tag].value".parse().unwrap();
        assert_eq!(
            path.segments(),
            [
                key("helm"),
                key("parameters"),
                Segment::Select {
                    field: "name".into(),
                    value: "image.tag".into()
                },
                key("value"),
            ]
        );
        let path: KeyPath = "spec.containers[0].image".parse().unwrap();
        assert_eq!(path.segments()[2], Segment::Index(0));
        let path: KeyPath = "[1][2].a".parse().unwrap();
        assert_eq!(
            path.segments(),
            [Segment::Index(1), Segment::Index(2), key("a")]
        );
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "image.tag",
            "1.\"2\"",
            "a[0][1].b",
            "[3].x",
            "images[name=payments-api].newTag",
            "helm.parameters[name=image.tag].value",
            "x[name=a[b]",
            "x[name=my app]",
        ] {
            let path: KeyPath = text.parse().unwrap();
            assert_eq!(path.to_string(), text);
            assert_eq!(path.to_string().parse::<KeyPath>().unwrap(), path);
        }
    }

    #[test]
    fn rejects_bad_paths() {
        for text in [
            "",
            ".",
            "a.",
            ".a",
            "a..b",
            "a.[0]",
            "[x",
            "a[1",
            "[=v]",
            "[f=]",
            "[]",
            "a[-1]",
            "a b",
            "a\tb",
            "a=b",
            "a]",
            "a[0]b",
            "a[0].",
            "a[n=x\ny]",
            "a[99999999999999999999999]",
        ] {
            assert!(text.parse::<KeyPath>().is_err(), "accepted {text:?}");
        }
    }

    #[test]
    fn errors_say_how_to_write_a_path() {
        let message = "a..b".parse::<KeyPath>().unwrap_err().to_string();
        assert!(message.contains("image.tag"), "{message}");
        let message = "a[1".parse::<KeyPath>().unwrap_err().to_string();
        assert!(message.contains("never closed"), "{message}");
        let message = "a b".parse::<KeyPath>().unwrap_err().to_string();
        assert!(message.contains("whitespace"), "{message}");
    }

    #[test]
    fn bounds_the_length() {
        let long = vec!["a"; MAX_SEGMENTS + 1].join(".");
        assert_eq!(
            long.parse::<KeyPath>().unwrap_err(),
            PathError::TooManySegments {
                limit: MAX_SEGMENTS
            }
        );
        let huge = "a".repeat(MAX_PATH_BYTES + 1);
        assert!(matches!(
            huge.parse::<KeyPath>(),
            Err(PathError::TooLong { .. })
        ));
    }
}
