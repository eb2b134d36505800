//! Property tests over untrusted input: the YAML splicer and key paths never panic, and an
//! edit of a generated mapping reads back the value written and leaves every other byte as it was.

use hoist_manifest::{KeyPath, Limits, Options, Target, apply, read};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// A small corpus in the shapes the targets meet: Helm values, a kustomization, a workload,
/// an Argo CD override, and the awkward corners (anchors, flow collections, block scalars,
/// several documents, CRLF, a byte order mark).
const SEEDS: &[&str] = &[
    "image:\n  repository: api     # the repository\n  tag: \"abc1234\"   # set by CI\n  pullPolicy: Always\n",
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: api\n    newName: 1234.dkr.ecr.eu-west-1.amazonaws.com/api\n    newTag: '1.2.3'\n",
    "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: registry.example/api:1.0@sha256:0000000000000000000000000000000000000000000000000000000000000000\n      initContainers: [{name: init, image: registry.example/init:2}]\n",
    "helm:\n  parameters:\n    - name: image.tag\n      value: v1\n",
    "base: &b {a: 1, b: [x, y]}\nother: *b\ntext: |\n  line\n  line\nfolded: >-\n  a\n  b\n",
    "---\na: 1\n---\na: 2\n...\n",
    "\u{feff}a:\r\n  b: c\r\n",
    "- name: x\n  value: !!str 1\n- name: y\n  value: !!int 2\n",
    "k: \"esc\\x41\\u00e9\\n\"\nk2: 'it''s'\n? complex\n: value\n",
];

/// Characters that matter to YAML's grammar, mixed into the mutations.
const YAML_CHARS: &[char] = &[
    ':', '-', ' ', '\n', '\r', '\t', '#', '&', '*', '!', '|', '>', '\'', '"', '\\', '[', ']', '{',
    '}', ',', '?', '%', '@', '`', '.', '=', '~', '\u{feff}', '\u{0}', '\u{85}', 'é', '0', 'a',
];

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..Config::default()
    }
}

/// One edit of a seed: at a char position, insert a character, delete a run, or duplicate a run.
#[derive(Clone, Debug)]
enum Mutation {
    Insert(usize, char),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (
            any::<usize>(),
            prop_oneof![prop::sample::select(YAML_CHARS), any::<char>()]
        )
            .prop_map(|(at, c)| Mutation::Insert(at, c)),
        (any::<usize>(), 1usize..8).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<usize>(), 1usize..16).prop_map(|(at, len)| Mutation::Duplicate(at, len)),
    ]
}

fn mutate(seed: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for mutation in mutations {
        let len = chars.len();
        match *mutation {
            Mutation::Insert(at, c) => chars.insert(at % (len + 1), c),
            Mutation::Delete(at, n) if len > 0 => {
                let at = at % len;
                chars.drain(at..(at + n).min(len));
            }
            Mutation::Duplicate(at, n) if len > 0 => {
                let at = at % len;
                let run: Vec<char> = chars[at..(at + n).min(len)].to_vec();
                chars.splice(at..at, run);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// A file: a mutated seed, or arbitrary bytes read as lossy UTF-8.
fn file() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (prop::sample::select(SEEDS), prop::collection::vec(mutation(), 0..6))
            .prop_map(|(seed, mutations)| mutate(seed, &mutations)),
        1 => prop::collection::vec(any::<u8>(), 0..256)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

/// A key path string: a grammar-shaped one, or anything.
fn path_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z.\\[\\]=0-9 ]{0,24}",
        "(image|spec|helm|images|a|b|k)((\\.[a-z]{1,6})|(\\[[0-9]{1,3}\\])|(\\[name=[a-z.]{1,8}\\])){0,4}",
        any::<String>(),
    ]
}

fn small_limits() -> Limits {
    Limits {
        max_bytes: 64 * 1024,
        max_aliases: 16,
        max_expanded_nodes: 1_000,
        max_depth: 32,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Parsing a key path never panics; a parsed path prints as a path that parses back to it.
    #[test]
    fn key_paths_parse_or_err_and_round_trip(text in path_text()) {
        if let Ok(path) = text.parse::<KeyPath>() {
            let printed = path.to_string();
            let again: KeyPath = printed.parse().map_err(|e| TestCaseError::fail(format!("{printed:?}: {e}")))?;
            prop_assert_eq!(again.segments(), path.segments());
        }
    }

    /// Any text, any path, any target: `read` and `apply` return a value or an error. When a
    /// key edit succeeds, applying it again changes nothing (image targets take tags the
    /// actions validate first, so a tag like `:` may legitimately not match again).
    #[test]
    fn splicer_never_panics(
        text in file(),
        path in path_text(),
        value in prop_oneof!["[a-z0-9.:@-]{0,12}", any::<String>()],
        create_missing in any::<bool>(),
        which in 0u8..3,
    ) {
        let limits = small_limits();
        let options = Options { create_missing, limits: limits.clone() };
        let target = match (which, path.parse::<KeyPath>()) {
            (0, Ok(path)) => {
                let _ = read(&text, &path, &limits);
                Target::Key { path, value: value.clone() }
            }
            (1, _) => Target::KustomizeImage {
                name: "api".into(),
                new_name: Some(path.clone()),
                new_tag: Some(value.clone()),
                digest: None,
            },
            _ => Target::WorkloadImage {
                repository: "registry.example/api".into(),
                tag: Some(value.clone()),
                digest: None,
            },
        };
        let is_key = matches!(target, Target::Key { .. });
        if let (true, Ok(edited)) = (is_key, apply(&text, std::slice::from_ref(&target), &options)) {
            let again = apply(&edited.text, std::slice::from_ref(&target), &options)
                .map_err(|e| TestCaseError::fail(format!("re-apply failed: {e}")))?;
            prop_assert_eq!(&again.text, &edited.text);
            prop_assert!(again.changes.is_empty());
        }
    }
}

/// A generated block mapping: its text, and for each leaf its path and the byte span of its
/// value.
#[derive(Clone, Debug)]
struct Generated {
    text: String,
    leaves: Vec<(String, std::ops::Range<usize>)>,
}

/// Nested mappings (up to three levels) of distinct keys with scalar leaves in the three
/// flow styles, some with trailing comments, blank lines between entries, LF or CRLF.
fn generated() -> impl Strategy<Value = Generated> {
    let leaf = ("[a-z][a-z0-9]{0,7}", 0u8..3, any::<bool>());
    let tree = prop::collection::vec(
        (
            any::<bool>(),
            prop::collection::vec(
                (any::<bool>(), prop::collection::vec(leaf.clone(), 1..4)),
                1..4,
            ),
            leaf,
        ),
        1..5,
    );
    (tree, any::<bool>(), any::<bool>(), 1usize..5).prop_map(|(tree, crlf, blank, indent)| {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut out = Generated {
            text: String::new(),
            leaves: Vec::new(),
        };
        let pad = |depth: usize| " ".repeat(indent * depth);
        let push_leaf = |out: &mut Generated,
                         depth: usize,
                         prefix: &str,
                         key: String,
                         leaf: &(String, u8, bool)| {
            let (value, style, comment) = leaf;
            out.text.push_str(&format!("{}{key}: ", pad(depth)));
            let (open, close) = match style {
                0 => ("", ""),
                1 => ("'", "'"),
                _ => ("\"", "\""),
            };
            out.text.push_str(open);
            let start = out.text.len() - open.len();
            out.text.push_str(value);
            out.text.push_str(close);
            let end = out.text.len();
            if *comment {
                out.text.push_str("   # set by CI");
            }
            out.text.push_str(eol);
            let path = if prefix.is_empty() {
                key
            } else {
                format!("{prefix}.{key}")
            };
            out.leaves.push((path, start..end));
        };
        for (i, (nested, children, leaf)) in tree.iter().enumerate() {
            let top = format!("k{i}");
            if blank && i > 0 {
                out.text.push_str(eol);
            }
            if !nested {
                push_leaf(&mut out, 0, "", top, leaf);
                continue;
            }
            out.text.push_str(&format!("{top}:   # section{eol}"));
            for (j, (deeper, leaves)) in children.iter().enumerate() {
                let mid = format!("m{j}");
                if *deeper {
                    out.text.push_str(&format!("{}{mid}:{eol}", pad(1)));
                    for (l, leaf) in leaves.iter().enumerate() {
                        push_leaf(&mut out, 2, &format!("{top}.{mid}"), format!("v{l}"), leaf);
                    }
                } else {
                    push_leaf(&mut out, 1, &top, mid, &leaves[0]);
                }
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(config())]

    /// Setting one leaf of a generated mapping: the value reads back, and the bytes before and
    /// after the old scalar (quotes included) are unchanged.
    #[test]
    fn edit_of_a_generated_mapping_changes_only_that_scalar(
        generated in generated(),
        pick in any::<prop::sample::Index>(),
        value in prop_oneof![
            "[a-zA-Z0-9._-]{1,16}",
            "[ -~]{0,16}",
            "(yes|no|null|~|1.10|0x1F|true|-|#x|a: b| lead|trail )",
            any::<String>(),
        ],
    ) {
        let (path, span) = pick.get(&generated.leaves).clone();
        let key_path: KeyPath = path.parse().map_err(|e| TestCaseError::fail(format!("{path}: {e}")))?;
        let target = Target::Key { path: key_path.clone(), value: value.clone() };
        let limits = Limits::default();
        // The generated file itself reads back what was generated at this path.
        prop_assert_eq!(read(&generated.text, &key_path, &limits).map_err(|e| TestCaseError::fail(e.to_string()))?.len(), 1);
        // Some values cannot be written as one scalar (e.g. control characters): refusing
        // is fine, panicking is not.
        if let Ok(edited) = apply(&generated.text, &[target], &Options::default()) {
            let read_back = read(&edited.text, &key_path, &limits)
                .map_err(|e| TestCaseError::fail(format!("read back: {e}")))?;
            prop_assert_eq!(read_back, vec![value.clone()]);
            let (before, after) = (&generated.text[..span.start], &generated.text[span.end..]);
            prop_assert!(edited.text.starts_with(before), "bytes before the scalar changed");
            prop_assert!(edited.text.ends_with(after), "bytes after the scalar changed");
            prop_assert!(edited.text.len() >= before.len() + after.len());
        }
    }
}
