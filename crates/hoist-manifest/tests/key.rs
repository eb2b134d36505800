//! `Target::Key`: setting one scalar must change only that scalar's bytes.

mod common;

use common::{assert_only_lines_changed, change, edit, key};
use hoist_manifest::{Limits, Options, apply, read};

/// (what, input, path, value, expected output). The changed line is found by the test.
const SPLICES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "plain with a comment on the same line",
        "image:\n  tag: abc # set by CI\n",
        "image.tag",
        "def5678",
        "image:\n  tag: def5678 # set by CI\n",
    ),
    (
        "aligned comments keep their bytes after the value",
        "image:\n  repository: api     # the repository\n  tag: abc            # the tag\n  pullPolicy: Always  # the policy\n",
        "image.tag",
        "abc1234",
        "image:\n  repository: api     # the repository\n  tag: abc1234            # the tag\n  pullPolicy: Always  # the policy\n",
    ),
    (
        "single-quoted stays single-quoted",
        "tag: 'abc'  # c\n",
        "tag",
        "it's",
        "tag: 'it''s'  # c\n",
    ),
    (
        "double-quoted stays double-quoted, with escapes",
        "tag: \"abc\"  # c\n",
        "tag",
        "a\"b\\c",
        "tag: \"a\\\"b\\\\c\"  # c\n",
    ),
    (
        "a number-like tag is quoted",
        "tag: abc\n",
        "tag",
        "1.10",
        "tag: \"1.10\"\n",
    ),
    (
        "a bool-like tag is quoted",
        "tag: abc\n",
        "tag",
        "yes",
        "tag: \"yes\"\n",
    ),
    (
        "a plain tag stays plain",
        "tag: 1.2.2\n",
        "tag",
        "v1.2.3",
        "tag: v1.2.3\n",
    ),
    (
        "into an empty double-quoted string",
        "tag: \"\"\n",
        "tag",
        "abc",
        "tag: \"abc\"\n",
    ),
    (
        "into an empty value",
        "tag:\nother: 1\n",
        "tag",
        "abc",
        "tag: abc\nother: 1\n",
    ),
    (
        "into an empty value with a comment",
        "tag:   # set by CI\n",
        "tag",
        "abc",
        "tag: abc   # set by CI\n",
    ),
    (
        "into a null tilde",
        "tag: ~ # c\n",
        "tag",
        "abc",
        "tag: abc # c\n",
    ),
    (
        "into a null word",
        "tag: null\n",
        "tag",
        "abc",
        "tag: abc\n",
    ),
    (
        "inside a flow mapping",
        "image: {repository: x, tag: y}  # flow\n",
        "image.tag",
        "z1",
        "image: {repository: x, tag: z1}  # flow\n",
    ),
    (
        "inside a flow mapping, quoted, with spaces",
        "image: { repository: x, tag: \"y\" , pull: IfNotPresent }\n",
        "image.tag",
        "z1",
        "image: { repository: x, tag: \"z1\" , pull: IfNotPresent }\n",
    ),
    (
        "inside a flow mapping, empty value",
        "image: {repository: x, tag: }\n",
        "image.tag",
        "z1",
        "image: {repository: x, tag: z1 }\n",
    ),
    (
        "inside a flow sequence",
        "tags: [a, b, c]\n",
        "tags[1]",
        "x",
        "tags: [a, x, c]\n",
    ),
    (
        "CRLF line endings",
        "image:\r\n  tag: abc # c\r\nx: 1\r\n",
        "image.tag",
        "def",
        "image:\r\n  tag: def # c\r\nx: 1\r\n",
    ),
    (
        "a byte order mark",
        "\u{feff}image:\n  tag: abc\n",
        "image.tag",
        "def",
        "\u{feff}image:\n  tag: def\n",
    ),
    (
        "no final line break",
        "image:\n  tag: abc",
        "image.tag",
        "def",
        "image:\n  tag: def",
    ),
    (
        "a key that looks like a number",
        "1: x\n\"2\": y\n",
        "1",
        "z",
        "1: z\n\"2\": y\n",
    ),
    (
        "a quoted key that looks like a number",
        "1: x\n\"2\": y\n",
        "2",
        "z",
        "1: x\n\"2\": z\n",
    ),
    (
        "non-ASCII text around the value",
        "# ünïcödé 🚀\nname: \"é\"\ntag: abc # ✓ ok\n",
        "tag",
        "déf",
        "# ünïcödé 🚀\nname: \"é\"\ntag: \"déf\" # ✓ ok\n",
    ),
    (
        "nested lists",
        "services:\n  api:\n    containers:\n    - name: a\n      image: x:1\n    - name: b\n      image: y:1 # b\n",
        "services.api.containers[1].image",
        "y:2",
        "services:\n  api:\n    containers:\n    - name: a\n      image: x:1\n    - name: b\n      image: y:2 # b\n",
    ),
    (
        "anchors and aliases elsewhere stay",
        "base: &base\n  pull: Always\nprod:\n  <<: *base\n  tag: abc\nlist: [*base, {a: 1}]\n",
        "prod.tag",
        "def",
        "base: &base\n  pull: Always\nprod:\n  <<: *base\n  tag: def\nlist: [*base, {a: 1}]\n",
    ),
    (
        "an anchor nobody uses stays",
        "tag: &t abc # c\n",
        "tag",
        "def",
        "tag: &t def # c\n",
    ),
    (
        "a tag stays",
        "tag: !!str 1.0\n",
        "tag",
        "1.10",
        "tag: !!str \"1.10\"\n",
    ),
    (
        "a quoted value spanning lines",
        "tag: \"a\n  b\" # c\nx: 1\n",
        "tag",
        "c",
        "tag: \"c\" # c\nx: 1\n",
    ),
    (
        "an Argo CD parameter",
        "helm:\n  parameters:\n  - name: image.tag\n    value: abc\n    forceString: true\n",
        "helm.parameters[name=image.tag].value",
        "def",
        "helm:\n  parameters:\n  - name: image.tag\n    value: def\n    forceString: true\n",
    ),
];

#[test]
fn splices_only_the_scalar() {
    for &(what, input, path, value, expected) in SPLICES {
        let edited = edit(input, key(path, value)).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(edited.text, expected, "{what}");
        assert_eq!(edited.changes.len(), 1, "{what}");
        // A quoted value spanning lines becomes one line: compare the other cases line by line.
        if input.lines().count() == expected.lines().count() {
            let line = edited.changes[0].line;
            assert_only_lines_changed(input, &edited.text, &[line]);
        }
        assert_eq!(
            read(&edited.text, &path.parse().unwrap(), &Limits::default()).unwrap(),
            [value],
            "{what}"
        );
    }
}

#[test]
fn helm_values_seed() {
    let values = "\
# charts/myshop-api/values-dev.yaml
replicaCount: 1

image:
  repository: 1234.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api
  tag: \"abc1234\"   # set by CI
  pullPolicy: IfNotPresent

resources: {}
";
    let edited = edit(values, key("image.tag", "def5678")).unwrap();
    assert_eq!(edited.text, values.replace("\"abc1234\"", "\"def5678\""));
    assert_eq!(
        edited.changes,
        [change("image.tag", 6, Some("abc1234"), Some("def5678"))]
    );
}

#[test]
fn every_document_where_the_path_exists() {
    let text = "image:\n  tag: a\n---\nother: 1\n---\nimage:\n  tag: b # c\n";
    let edited = edit(text, key("image.tag", "v2")).unwrap();
    assert_eq!(
        edited.text,
        "image:\n  tag: v2\n---\nother: 1\n---\nimage:\n  tag: v2 # c\n"
    );
    assert_eq!(
        edited.changes,
        [
            change("[doc 1] image.tag", 2, Some("a"), Some("v2")),
            change("[doc 3] image.tag", 7, Some("b"), Some("v2")),
        ]
    );
}

#[test]
fn no_op_returns_the_text_unchanged() {
    for (text, value) in [
        ("image:\n  tag: abc # c\n", "abc"),
        ("image:\n  tag: \"1.10\"\n", "1.10"),
        ("image:\n  tag: '1.10'\n", "1.10"),
        ("image: {tag: v1.2.3}\n", "v1.2.3"),
    ] {
        let edited = edit(text, key("image.tag", value)).unwrap();
        assert_eq!(edited.text, text);
        assert!(edited.changes.is_empty(), "{text}");
    }
}

#[test]
fn a_plain_number_is_rewritten_as_a_string() {
    // `tag: 1.10` holds the float 1.1, not the string "1.10".
    let edited = edit("tag: 1.10\n", key("tag", "1.10")).unwrap();
    assert_eq!(edited.text, "tag: \"1.10\"\n");
    assert_eq!(
        edited.changes,
        [change("tag", 1, Some("1.10"), Some("1.10"))]
    );
}

#[test]
fn long_values() {
    let long = "x".repeat(5000);
    let edited = edit("a: 1\ntag: abc # c\nb: 2\n", key("tag", &long)).unwrap();
    assert_eq!(edited.text, format!("a: 1\ntag: {long} # c\nb: 2\n"));
}

#[test]
fn hostile_values_round_trip_as_one_scalar() {
    let values = [
        "v1\nevil: true",
        "v1\r\nx",
        "# not a comment",
        "a: b",
        "a #b",
        "'",
        "\"",
        "\\",
        "\t",
        "\u{0}",
        "\u{7f}",
        "\u{85}",
        "\u{2028}",
        "\u{feff}x",
        "",
        " lead",
        "trail ",
        "- x",
        "[x]",
        "{x}",
        "*x",
        "&x",
        "!x",
        "%x",
        "@x",
        "`x",
        "|",
        ">",
        "?",
        ":",
        "1.10",
        "yes",
        "~",
        "null",
        "0x1F",
        "1e5",
        ".inf",
        "2024-01-01",
        "1:20",
        "é",
        "😀",
        "---",
        "...",
    ];
    let layouts = [
        "tag: abc # c\n",
        "tag: 'abc' # c\n",
        "tag: \"abc\" # c\n",
        "tag: # c\n",
        "x: {tag: abc}\n",
    ];
    for layout in layouts {
        let path = if layout.starts_with("x:") {
            "x.tag"
        } else {
            "tag"
        };
        for value in values {
            let edited = edit(layout, key(path, value))
                .unwrap_or_else(|e| panic!("{value:?} in {layout:?}: {e}"));
            assert_only_lines_changed(layout, &edited.text, &[1]);
            let read_back = read(&edited.text, &path.parse().unwrap(), &Limits::default()).unwrap();
            assert_eq!(
                read_back,
                [value],
                "{value:?} in {layout:?}: {}",
                edited.text
            );
        }
    }
}

#[test]
fn targets_apply_in_order_and_lines_follow_later_insertions() {
    let text = "image:\n  repository: api\n  tag: a\n";
    let targets = [key("image.tag", "b"), key("image.pullPolicy", "Always")];
    let options = Options {
        create_missing: true,
        ..Options::default()
    };
    let edited = apply(text, &targets, &options).unwrap();
    assert_eq!(
        edited.text,
        "image:\n  repository: api\n  tag: b\n  pullPolicy: Always\n"
    );
    assert_eq!(
        edited.changes,
        [
            change("image.tag", 3, Some("a"), Some("b")),
            change("image.pullPolicy", 4, None, Some("Always"))
        ]
    );
}

#[test]
fn reads_values() {
    let text = "base: &b\n  tag: v1\nprod: *b\n---\nprod:\n  tag: v2\n---\nx: 1\n";
    let limits = Limits::default();
    assert_eq!(
        read(text, &"prod.tag".parse().unwrap(), &limits).unwrap(),
        ["v1", "v2"]
    );
    assert!(
        read(text, &"nope".parse().unwrap(), &limits)
            .unwrap()
            .is_empty()
    );
    assert!(read(text, &"prod".parse().unwrap(), &limits).is_err());
}

#[test]
fn can_change_the_field_a_selector_matches_on() {
    let text = "parameters:\n- name: image.tag\n  value: a\n";
    let edited = edit(text, key("parameters[name=image.tag].name", "image.digest")).unwrap();
    assert_eq!(
        edited.text,
        "parameters:\n- name: image.digest\n  value: a\n"
    );
}

#[test]
fn a_large_file_without_aliases_is_no_bomb() {
    let items = vec!["1"; 200_000].join(", ");
    let text = format!("list: [{items}]\ntag: abc\n");
    let edited = edit(&text, key("tag", "def")).unwrap();
    assert!(edited.text.ends_with("tag: def\n"));
}
