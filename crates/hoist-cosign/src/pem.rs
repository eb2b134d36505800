//! Minimal PEM (RFC 7468): the blocks of a text, and one block written as
//! Go's `encoding/pem` writes it. Text around and between blocks is
//! ignored; RFC 1421 headers (`Proc-Type:`, `DEK-Info:`, the legacy
//! OpenSSL encryption) are refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// One PEM block: its label and the DER bytes of its body.
#[derive(Clone, PartialEq, Eq)]
pub struct Block {
    /// The label between `-----BEGIN ` and `-----`, e.g. `PUBLIC KEY`.
    pub label: String,
    /// The decoded body.
    pub der: Vec<u8>,
}

impl std::fmt::Debug for Block {
    // The body may be a private key: show its size, never its bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("label", &self.label)
            .field("der_len", &self.der.len())
            .finish()
    }
}

/// A text that is not the PEM expected. Messages name labels, never the
/// body, which may be a private key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PemError {
    /// No `-----BEGIN <label>-----` line at all.
    #[error("no PEM block (a `-----BEGIN …-----` line) found")]
    NoBlock,
    /// A block that is never closed.
    #[error("the PEM block `{label}` has no `-----END {label}-----` line")]
    Unterminated {
        /// The block's label.
        label: String,
    },
    /// A block closed with another label.
    #[error("the PEM block `{begin}` ends with `-----END {end}-----`")]
    MismatchedEnd {
        /// The BEGIN line's label.
        begin: String,
        /// The END line's label.
        end: String,
    },
    /// A block with RFC 1421 headers (the legacy OpenSSL encryption).
    #[error(
        "the PEM block `{label}` has headers (such as `Proc-Type:`), which hoist does not support"
    )]
    Headers {
        /// The block's label.
        label: String,
    },
    /// A body that is not standard, padded base64.
    #[error("the body of the PEM block `{label}` is not valid base64")]
    Base64 {
        /// The block's label.
        label: String,
    },
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// The label of a `-----BEGIN <label>-----` (or END) line.
fn label_of<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix(DASHES)
}

/// Every block of `text`, in order. Lines may end in CRLF and be indented;
/// text before, between and after blocks is ignored. A text without any
/// block is an error.
pub fn decode(text: &str) -> Result<Vec<Block>, PemError> {
    let mut blocks = Vec::new();
    // The open block: its label and its base64 so far.
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim();
        match open.take() {
            None => {
                if let Some(label) = label_of(line, BEGIN) {
                    open = Some((label.to_owned(), String::new()));
                }
            }
            Some((label, mut body)) => {
                if let Some(end) = label_of(line, END) {
                    if end != label {
                        return Err(PemError::MismatchedEnd {
                            begin: label,
                            end: end.to_owned(),
                        });
                    }
                    let der = STANDARD
                        .decode(body.as_bytes())
                        .map_err(|_| PemError::Base64 {
                            label: label.clone(),
                        })?;
                    blocks.push(Block { label, der });
                } else if line.starts_with(BEGIN) {
                    return Err(PemError::Unterminated { label });
                } else if line.contains(':') {
                    return Err(PemError::Headers { label });
                } else {
                    body.push_str(line);
                    open = Some((label, body));
                }
            }
        }
    }
    if let Some((label, _)) = open {
        return Err(PemError::Unterminated { label });
    }
    if blocks.is_empty() {
        return Err(PemError::NoBlock);
    }
    Ok(blocks)
}

/// `der` as a PEM block: base64 in 64-column lines, each line (the last
/// too) ending in `\n`, as Go's `pem.Encode` writes it.
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 32);
    out.push_str(BEGIN);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str(END);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_writes_64_columns_and_a_trailing_newline() {
        let der: Vec<u8> = (0..=255).collect();
        let text = encode("TEST", &der);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN TEST-----");
        assert_eq!(lines[lines.len() - 1], "-----END TEST-----");
        assert!(text.ends_with("-----\n"));
        // 256 bytes are 344 base64 characters: five full lines and 24.
        let body = &lines[1..lines.len() - 1];
        assert_eq!(body.len(), 6);
        assert!(body[..5].iter().all(|l| l.len() == 64));
        assert_eq!(body[5].len(), 24);
    }

    #[test]
    fn encode_matches_go_for_a_short_body_and_an_empty_one() {
        assert_eq!(
            encode("PUBLIC KEY", b"hoist"),
            "-----BEGIN PUBLIC KEY-----\naG9pc3Q=\n-----END PUBLIC KEY-----\n"
        );
        assert_eq!(encode("X", b""), "-----BEGIN X-----\n-----END X-----\n");
    }

    #[test]
    fn round_trips() {
        for len in [0usize, 1, 47, 48, 49, 200] {
            let der: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let blocks = decode(&encode("SOME LABEL", &der)).unwrap();
            assert_eq!(
                blocks,
                vec![Block {
                    label: "SOME LABEL".into(),
                    der
                }]
            );
        }
    }

    #[test]
    fn tolerates_crlf_indentation_and_surrounding_text() {
        let text = "key for prod:\r\n  -----BEGIN PUBLIC KEY-----\r\n  aG9p\r\n  c3Q=\r\n\r\n  \
                    -----END PUBLIC KEY-----  \r\ntrailing words\r\n";
        let blocks = decode(text).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "PUBLIC KEY");
        assert_eq!(blocks[0].der, b"hoist");
    }

    #[test]
    fn reads_several_blocks_in_order() {
        let text = format!("{}between\n{}", encode("A", b"one"), encode("B", b"two"));
        let blocks = decode(&text).unwrap();
        let labels: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["A", "B"]);
        assert_eq!(blocks[1].der, b"two");
    }

    #[test]
    fn refuses_what_is_not_pem() {
        assert_eq!(decode("just words\n"), Err(PemError::NoBlock));
        assert_eq!(decode(""), Err(PemError::NoBlock));
        assert_eq!(
            decode("-----BEGIN A-----\naG9pc3Q=\n"),
            Err(PemError::Unterminated { label: "A".into() })
        );
        assert_eq!(
            decode("-----BEGIN A-----\naG9pc3Q=\n-----BEGIN B-----\n"),
            Err(PemError::Unterminated { label: "A".into() })
        );
        assert_eq!(
            decode("-----BEGIN A-----\naG9pc3Q=\n-----END B-----\n"),
            Err(PemError::MismatchedEnd {
                begin: "A".into(),
                end: "B".into()
            })
        );
        assert_eq!(
            decode("-----BEGIN A-----\nnot base64!\n-----END A-----\n"),
            Err(PemError::Base64 { label: "A".into() })
        );
        // Unpadded base64 is refused, as Go refuses it.
        assert_eq!(
            decode("-----BEGIN A-----\naG9pc3Q\n-----END A-----\n"),
            Err(PemError::Base64 { label: "A".into() })
        );
    }

    #[test]
    fn refuses_legacy_encrypted_headers() {
        let text = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                    DEK-Info: AES-128-CBC,0011\n\naG9pc3Q=\n-----END EC PRIVATE KEY-----\n";
        assert_eq!(
            decode(text),
            Err(PemError::Headers {
                label: "EC PRIVATE KEY".into()
            })
        );
    }

    #[test]
    fn debug_hides_the_body() {
        let block = Block {
            label: "PRIVATE KEY".into(),
            der: vec![0xAB; 4],
        };
        let shown = format!("{block:?}");
        assert!(shown.contains("der_len: 4"));
        assert!(!shown.contains("171"));
    }
}
