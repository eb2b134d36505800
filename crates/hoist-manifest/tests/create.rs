//! Inserting what is missing: `create_missing` for `Target::Key`.

mod common;

use common::{change, edit, edit_creating, key};
use hoist_manifest::EditError;

/// (what, input, path, value, expected output).
const CREATIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "a key after its siblings",
        "image:\n  repository: api # c\nother: 1\n",
        "image.tag",
        "abc",
        "image:\n  repository: api # c\n  tag: abc\nother: 1\n",
    ),
    (
        "after the whole value of the last entry, before blank lines and the next comment",
        "image:\n  repository: api\n  pull:\n    policy: Always\n\n# the next section\nother: 1\n",
        "image.tag",
        "abc",
        "image:\n  repository: api\n  pull:\n    policy: Always\n  tag: abc\n\n# the next section\nother: 1\n",
    ),
    (
        "nested keys at the end of the top-level mapping",
        "a: 1\n",
        "image.tag",
        "abc",
        "a: 1\nimage:\n  tag: abc\n",
    ),
    (
        "the file's indent step",
        "a:\n    b: 1\n",
        "image.tag",
        "1.10",
        "a:\n    b: 1\nimage:\n    tag: \"1.10\"\n",
    ),
    (
        "CRLF line endings",
        "image:\r\n  repository: api\r\n",
        "image.tag",
        "abc",
        "image:\r\n  repository: api\r\n  tag: abc\r\n",
    ),
    (
        "no final line break, kept so",
        "image:\n  repository: api",
        "image.tag",
        "abc",
        "image:\n  repository: api\n  tag: abc",
    ),
    (
        "under a key with no value",
        "helm: # overrides\nother: 1\n",
        "helm.parameters[name=image.tag].value",
        "abc",
        "helm: # overrides\n  parameters:\n  - name: image.tag\n    value: abc\nother: 1\n",
    ),
    (
        "a new item in the existing items' style",
        "helm:\n  parameters:\n    - name: other\n      value: x\n",
        "helm.parameters[name=image.tag].value",
        "abc",
        "helm:\n  parameters:\n    - name: other\n      value: x\n    - name: image.tag\n      value: abc\n",
    ),
    (
        "a key in an existing item",
        "helm:\n  parameters:\n  - name: image.tag\n    forceString: true\n",
        "helm.parameters[name=image.tag].value",
        "abc",
        "helm:\n  parameters:\n  - name: image.tag\n    forceString: true\n    value: abc\n",
    ),
    (
        "a new sequence copies the file's sequence style",
        "resources:\n  - a.yaml\n",
        "helm.parameters[name=image.tag].value",
        "abc",
        "resources:\n  - a.yaml\nhelm:\n  parameters:\n    - name: image.tag\n      value: abc\n",
    ),
    (
        "in the first document only",
        "a: 1\n---\nb: 2\n",
        "image.tag",
        "abc",
        "a: 1\nimage:\n  tag: abc\n---\nb: 2\n",
    ),
    (
        "an empty file",
        "",
        "image.tag",
        "abc",
        "image:\n  tag: abc\n",
    ),
    (
        "a byte order mark only",
        "\u{feff}",
        "image.tag",
        "abc",
        "\u{feff}image:\n  tag: abc\n",
    ),
    (
        "a comment-only file",
        "# Argo CD overrides\n",
        "image.tag",
        "abc",
        "# Argo CD overrides\nimage:\n  tag: abc\n",
    ),
    (
        "a comment-only file without a final line break",
        "# Argo CD overrides",
        "image.tag",
        "abc",
        "# Argo CD overrides\nimage:\n  tag: abc",
    ),
    (
        "an empty document",
        "---\n# nothing yet\n",
        "image.tag",
        "abc",
        "---\nimage:\n  tag: abc\n# nothing yet\n",
    ),
];

#[test]
fn creates_what_is_missing() {
    for &(what, input, path, value, expected) in CREATIONS {
        let edited =
            edit_creating(input, key(path, value)).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(edited.text, expected, "{what}");
        assert_eq!(edited.changes.len(), 1, "{what}");
        assert_eq!(edited.changes[0].old, None, "{what}");
        assert!(edited.changes[0].key.ends_with(path), "{what}");
        let line = expected.lines().nth(edited.changes[0].line - 1).unwrap();
        assert!(
            line.contains(value.trim_matches('"')) || line.contains("1.10"),
            "{what}: line {line:?}"
        );
    }
}

#[test]
fn argocd_source_from_an_empty_file() {
    let edited =
        edit_creating("", key("helm.parameters[name=image.tag].value", "abc1234")).unwrap();
    assert_eq!(
        edited.text,
        "helm:\n  parameters:\n  - name: image.tag\n    value: abc1234\n"
    );
    assert_eq!(
        edited.changes,
        [change(
            "helm.parameters[name=image.tag].value",
            4,
            None,
            Some("abc1234")
        )]
    );
}

#[test]
fn without_create_missing_says_what_is_missing() {
    let error = edit("image:\n  repository: api\n", key("image.tag", "abc")).unwrap_err();
    assert_eq!(
        error,
        EditError::PathNotFound {
            path: "image.tag".into(),
            missing: "tag".into(),
            parent: "image".into(),
            line: Some(2),
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("create-missing") && message.contains("spelling"),
        "{message}"
    );
    assert!(matches!(
        edit("", key("image.tag", "abc")),
        Err(EditError::PathNotFound { line: None, .. })
    ));
    assert!(matches!(
        edit("image:\n", key("image.tag", "abc")),
        Err(EditError::PathNotFound { .. })
    ));
}

#[test]
fn refuses_what_cannot_be_created() {
    let error = edit_creating("list:\n- a\n", key("list[3]", "x")).unwrap_err();
    assert!(matches!(error, EditError::CannotCreate { .. }), "{error}");
    let error = edit_creating("c:\n- name: a\n", key("c[5].image", "x")).unwrap_err();
    assert!(matches!(error, EditError::CannotCreate { .. }), "{error}");
    let error = edit_creating("image: {repository: x}\n", key("image.tag", "x")).unwrap_err();
    assert_eq!(
        error,
        EditError::FlowCollection {
            path: "image.tag".into(),
            line: 1
        }
    );
    let error = edit_creating("list: [{name: a}]\n", key("list[name=b].value", "x")).unwrap_err();
    assert!(matches!(error, EditError::FlowCollection { .. }), "{error}");
    let error = edit_creating("image: abc\n", key("image.tag", "x")).unwrap_err();
    assert_eq!(
        error,
        EditError::NotAMapping {
            at: "image".into(),
            found: "scalar",
            line: 1
        }
    );
    let error = edit_creating("- a\n- b\n", key("image.tag", "x")).unwrap_err();
    assert_eq!(
        error,
        EditError::NotAMapping {
            at: "the document".into(),
            found: "sequence",
            line: 1
        }
    );
}
