//! Inputs that must be refused, with a message that says what to change.

mod common;

use std::time::{Duration, Instant};

use common::{edit, edit_creating, key};
use hoist_manifest::{EditError, Limits, Options, apply, read};

const BILLION_LAUGHS: &str = "\
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
tag: abc
";

#[test]
fn yaml_bomb_is_refused_quickly() {
    let started = Instant::now();
    let error = edit(BILLION_LAUGHS, key("tag", "def")).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(
            error,
            EditError::TooManyExpandedNodes {
                limit: 100_000,
                line: 6
            }
        ),
        "{error}"
    );
    assert!(error.to_string().starts_with("YAML bomb"), "{error}");
    assert!(read(BILLION_LAUGHS, &"tag".parse().unwrap(), &Limits::default()).is_err());
}

#[test]
fn too_many_aliases() {
    let text = format!("a: &a x\nlist: [{}]\n", vec!["*a"; 300].join(", "));
    let error = edit(&text, key("a", "y")).unwrap_err();
    assert!(
        matches!(
            error,
            EditError::TooManyAliases {
                limit: 256,
                line: 2
            }
        ),
        "{error}"
    );
    assert!(error.to_string().starts_with("YAML bomb"), "{error}");
}

#[test]
fn too_large() {
    let options = Options {
        limits: Limits {
            max_bytes: 10,
            ..Limits::default()
        },
        ..Options::default()
    };
    let error = apply("image:\n  tag: abc\n", &[key("image.tag", "x")], &options).unwrap_err();
    assert_eq!(
        error,
        EditError::TooLarge {
            bytes: 18,
            limit: 10
        }
    );
    assert_eq!(error.line(), None);
}

#[test]
fn too_deep() {
    let error = edit(
        &format!("a: {}1{}\n", "[".repeat(200), "]".repeat(200)),
        key("a", "x"),
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            EditError::TooDeep {
                limit: 128,
                line: 1
            }
        ),
        "{error}"
    );
    let mut nested = String::new();
    for depth in 0..200 {
        nested.push_str(&format!("{}a:\n", "  ".repeat(depth)));
    }
    let error = edit(&nested, key("a", "x")).unwrap_err();
    assert!(
        matches!(
            error,
            EditError::TooDeep {
                limit: 128,
                line: 129
            }
        ),
        "{error}"
    );
    // Far deeper than any stack could recurse.
    let error = edit(&format!("a: {}", "[".repeat(1_000_000)), key("a", "x")).unwrap_err();
    assert!(matches!(error, EditError::TooDeep { .. }), "{error}");
}

#[test]
fn not_yaml() {
    let error = edit("a: [1, 2\nb: 3\n", key("a", "x")).unwrap_err();
    let EditError::NotYaml { line, .. } = &error else {
        panic!("{error}")
    };
    assert!(*line >= 1);
    assert_eq!(error.line(), Some(*line));
    assert!(matches!(
        edit("a: 1\n  b: 2\n", key("a", "x")),
        Err(EditError::NotYaml { line: 2, .. })
    ));
    assert!(matches!(
        edit("a: *nowhere\n", key("a", "x")),
        Err(EditError::NotYaml { .. })
    ));
}

#[test]
fn aliases_and_anchors() {
    let text = "defaults: &defaults\n  tag: v1\nprod: *defaults\nlone: &lone v1\nref: *lone\n";
    let error = edit(text, key("ref", "v2")).unwrap_err();
    assert_eq!(
        error,
        EditError::TargetIsAlias {
            path: "ref".into(),
            alias: "lone".into(),
            line: 5
        }
    );
    let error = edit(text, key("lone", "v2")).unwrap_err();
    assert_eq!(
        error,
        EditError::SharedAnchor {
            path: "lone".into(),
            at: "lone".into(),
            anchor: "lone".into(),
            line: 4
        }
    );
    let error = edit(text, key("defaults.tag", "v2")).unwrap_err();
    assert!(
        matches!(&error, EditError::SharedAnchor { at, line: 1, .. } if at == "defaults"),
        "{error}"
    );
    let error = edit(text, key("prod.tag", "v2")).unwrap_err();
    assert!(
        matches!(&error, EditError::ThroughAlias { at, line: 3, .. } if at == "prod"),
        "{error}"
    );
    // Creating under a shared mapping would change the aliases too.
    let error = edit_creating(text, key("defaults.pull", "Always")).unwrap_err();
    assert!(matches!(error, EditError::SharedAnchor { .. }), "{error}");
    for error in [
        edit(text, key("ref", "v2")).unwrap_err(),
        edit(text, key("prod.tag", "v2")).unwrap_err(),
    ] {
        assert!(error.to_string().contains("anchor"), "{error}");
    }
}

#[test]
fn block_scalars() {
    for text in ["tag: |\n  abc\n", "tag: >-\n  abc\n"] {
        let error = edit(text, key("tag", "def")).unwrap_err();
        assert_eq!(
            error,
            EditError::BlockScalar {
                path: "tag".into(),
                line: 1
            }
        );
    }
}

#[test]
fn not_a_scalar() {
    let error = edit("image:\n  tag: abc\n", key("image", "def")).unwrap_err();
    assert_eq!(
        error,
        EditError::NotAScalar {
            path: "image".into(),
            found: "mapping",
            line: 2
        }
    );
    let error = edit("list:\n- a\n", key("list", "def")).unwrap_err();
    assert!(
        matches!(
            error,
            EditError::NotAScalar {
                found: "sequence",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn ambiguous_selector() {
    let text = "parameters:\n- name: image.tag\n  value: a\n- name: image.tag\n  value: b\n";
    let error = edit(text, key("parameters[name=image.tag].value", "c")).unwrap_err();
    assert_eq!(
        error,
        EditError::AmbiguousSelector {
            path: "parameters[name=image.tag].value".into(),
            selector: "[name=image.tag]".into(),
            count: 2,
            line: 2,
        }
    );
}

#[test]
fn every_error_names_its_line_when_it_has_one() {
    let error = edit("a:\n  b: |\n    x\n", key("a.b", "y")).unwrap_err();
    assert_eq!(error.line(), Some(2));
    let error = edit("a:\n  b: 1\n", key("a.c", "y")).unwrap_err();
    assert_eq!(error.line(), Some(2));
}

#[test]
fn duplicate_keys_are_refused_naming_both_lines() {
    let text = "image:\n  repository: api\n  tag: old\n  tag: other\n";
    let error = edit(text, key("image.tag", "v2")).unwrap_err();
    assert_eq!(
        error,
        EditError::DuplicateKey {
            key: "tag".into(),
            first_line: 3,
            line: 4
        }
    );
    assert_eq!(error.line(), Some(4));
    let message = error.to_string();
    assert!(message.contains("lines 3 and 4"), "{message}");
    assert!(message.contains("remove one of them"), "{message}");
    // Whatever the target, wherever the repeat: quoted, in flow style, in a later document.
    for text in [
        "tag: old\n'tag': other\n",
        "image: {tag: a, tag: b}\n",
        "a: 1\n---\nb: 1\nb: 2\n",
    ] {
        let error = edit(text, key("tag", "v2")).unwrap_err();
        assert!(matches!(error, EditError::DuplicateKey { .. }), "{error}");
        assert!(read(text, &"tag".parse().unwrap(), &Limits::default()).is_err());
    }
    // The same key in two mappings, or repeated merge keys, are fine.
    let edited = edit("a:\n  tag: x\nb:\n  tag: y\n", key("a.tag", "z")).unwrap();
    assert_eq!(edited.text, "a:\n  tag: z\nb:\n  tag: y\n");
}

#[test]
fn tagged_scalars_that_would_not_hold_a_string_are_refused() {
    for (text, tag) in [
        ("tag: !!int 5\n", "!!int"),
        ("tag: !!float 1.5 # c\n", "!!float"),
        ("tag: !!bool true\n", "!!bool"),
        ("tag: &a !custom v1\n", "!custom"),
        (
            "tag: !<tag:yaml.org,2002:int> 5\n",
            "!<tag:yaml.org,2002:int>",
        ),
    ] {
        let error = edit(text, key("tag", "v9")).unwrap_err();
        assert_eq!(
            error,
            EditError::TaggedScalar {
                path: "tag".into(),
                tag: tag.into(),
                value: "v9".into(),
                line: 1
            },
            "{text:?}"
        );
        assert!(error.to_string().contains("remove the tag"), "{error}");
    }
    // Even when the text would not change: `!!int 5` is not the string "5".
    assert!(matches!(
        edit("tag: !!int 5\n", key("tag", "5")),
        Err(EditError::TaggedScalar { .. })
    ));
    // `!!str` and the non-specific `!` hold any string; the tag is kept.
    let edited = edit("tag: !!str 5 # c\n", key("tag", "v9")).unwrap();
    assert_eq!(edited.text, "tag: !!str v9 # c\n");
    let edited = edit("tag: ! 5\n", key("tag", "6")).unwrap();
    assert_eq!(edited.text, "tag: ! \"6\"\n");
}
