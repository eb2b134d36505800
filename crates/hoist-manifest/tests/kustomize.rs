//! `Target::KustomizeImage`: kustomize's `images:` semantics, spliced.

mod common;

use common::{assert_only_lines_changed, change, edit, kustomize};
use hoist_manifest::EditError;

const OVERLAY: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: payments-api
    newName: 111111111111.dkr.ecr.me-south-1.amazonaws.com/payments-api
    newTag: latest # overridden per environment
";

/// `services/order-service/overlays/staging/kustomization.yaml`: indentless, quoted tag.
const STAGING: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: order-staging
resources:
- ../../base
patches:
- path: replicas.yaml
images:
- name: order-service
  newName: 222222222222.dkr.ecr.eu-west-1.amazonaws.com/order-service
  newTag: \"1.4.0\"
- name: busybox
  newTag: \"1.36\"
";

#[test]
fn sets_the_tag_of_the_overlay_seed() {
    let edited = edit(
        OVERLAY,
        kustomize("payments-api", None, Some("abc1234"), None),
    )
    .unwrap();
    assert_eq!(
        edited.text,
        OVERLAY.replace("newTag: latest", "newTag: abc1234")
    );
    assert_only_lines_changed(OVERLAY, &edited.text, &[8]);
    assert_eq!(
        edited.changes,
        [change(
            "images[name=payments-api].newTag",
            8,
            Some("latest"),
            Some("abc1234")
        )]
    );
}

#[test]
fn sets_the_tag_of_the_staging_seed() {
    let edited = edit(
        STAGING,
        kustomize("order-service", None, Some("1.5.0"), None),
    )
    .unwrap();
    assert_eq!(edited.text, STAGING.replace("\"1.4.0\"", "\"1.5.0\""));
    assert_eq!(
        edited.changes,
        [change(
            "images[name=order-service].newTag",
            11,
            Some("1.4.0"),
            Some("1.5.0")
        )]
    );
}

#[test]
fn sets_the_name() {
    let edited = edit(
        OVERLAY,
        kustomize("payments-api", Some("registry.local/payments"), None, None),
    )
    .unwrap();
    assert_eq!(
        edited.text,
        OVERLAY.replace(
            "111111111111.dkr.ecr.me-south-1.amazonaws.com/payments-api",
            "registry.local/payments"
        )
    );
}

/// (what, input, new tag, digest, expected output, expected changes as (key, line, old, new)).
type Case = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static [(
        &'static str,
        usize,
        Option<&'static str>,
        Option<&'static str>,
    )],
);

const SEMANTICS: &[Case] = &[
    (
        "a tag drops the digest",
        "images:\n- name: api\n  newTag: v1\n  digest: sha256:aaa # pinned\nother: 1\n",
        Some("v2"),
        None,
        "images:\n- name: api\n  newTag: v2\nother: 1\n",
        &[
            ("images[name=api].newTag", 3, Some("v1"), Some("v2")),
            ("images[name=api].digest", 4, Some("sha256:aaa"), None),
        ],
    ),
    (
        "a tag drops the digest that is the item's first key",
        "images:\n  - digest: sha256:aaa\n    name: api\n    newTag: v1\n",
        Some("v2"),
        None,
        "images:\n  - name: api\n    newTag: v2\n",
        &[
            ("images[name=api].digest", 2, Some("sha256:aaa"), None),
            ("images[name=api].newTag", 3, Some("v1"), Some("v2")),
        ],
    ),
    (
        "a digest drops the tag",
        "images:\n- name: api\n  newTag: v1\n",
        None,
        Some("sha256:bbb"),
        "images:\n- name: api\n  digest: sha256:bbb\n",
        &[
            ("images[name=api].newTag", 3, Some("v1"), None),
            ("images[name=api].digest", 3, None, Some("sha256:bbb")),
        ],
    ),
    (
        "a tag and a digest set both",
        "images:\n- name: api\n  newTag: v1\n  digest: sha256:aaa\n",
        Some("v2"),
        Some("sha256:bbb"),
        "images:\n- name: api\n  newTag: v2\n  digest: sha256:bbb\n",
        &[
            ("images[name=api].newTag", 3, Some("v1"), Some("v2")),
            (
                "images[name=api].digest",
                4,
                Some("sha256:aaa"),
                Some("sha256:bbb"),
            ),
        ],
    ),
    (
        "missing fields are added after the item's last key",
        "images:\n  - name: api\n    newName: repo/api # r\n  - name: web\n",
        Some("v2"),
        Some("sha256:bbb"),
        "images:\n  - name: api\n    newName: repo/api # r\n    newTag: v2\n    digest: sha256:bbb\n  - name: web\n",
        &[
            ("images[name=api].newTag", 4, None, Some("v2")),
            ("images[name=api].digest", 5, None, Some("sha256:bbb")),
        ],
    ),
    (
        "a missing entry is appended in the items' style",
        "images:\n  - name: web\n    newTag: v1\n\n# end\n",
        Some("1.10"),
        None,
        "images:\n  - name: web\n    newTag: v1\n  - name: api\n    newTag: \"1.10\"\n\n# end\n",
        &[("images[name=api].newTag", 5, None, Some("1.10"))],
    ),
    (
        "a missing entry is appended to an indentless sequence",
        "images:\n- name: web\n  newTag: v1\nresources:\n- a.yaml\n",
        Some("v2"),
        None,
        "images:\n- name: web\n  newTag: v1\n- name: api\n  newTag: v2\nresources:\n- a.yaml\n",
        &[("images[name=api].newTag", 5, None, Some("v2"))],
    ),
    (
        "`images:` is added at the end, in the file's sequence style",
        "resources:\n  - a.yaml\n# trailing comment\n",
        Some("v2"),
        Some("sha256:bbb"),
        "resources:\n  - a.yaml\nimages:\n  - name: api\n    newTag: v2\n    digest: sha256:bbb\n# trailing comment\n",
        &[
            ("images[name=api].newTag", 5, None, Some("v2")),
            ("images[name=api].digest", 6, None, Some("sha256:bbb")),
        ],
    ),
    (
        "`images:` with no value",
        "images:\nresources:\n- a.yaml\n",
        Some("v2"),
        None,
        "images:\n- name: api\n  newTag: v2\nresources:\n- a.yaml\n",
        &[("images[name=api].newTag", 3, None, Some("v2"))],
    ),
    (
        "CRLF and no final line break",
        "resources:\r\n- a.yaml",
        Some("v2"),
        None,
        "resources:\r\n- a.yaml\r\nimages:\r\n- name: api\r\n  newTag: v2",
        &[("images[name=api].newTag", 5, None, Some("v2"))],
    ),
    (
        "the entry in a flow mapping, nothing to add or remove",
        "images:\n- {name: api, newTag: v1}\n",
        Some("v2"),
        None,
        "images:\n- {name: api, newTag: v2}\n",
        &[("images[name=api].newTag", 2, Some("v1"), Some("v2"))],
    ),
    (
        "CRLF, a removal in the middle",
        "images:\r\n- name: api\r\n  digest: sha256:aaa\r\n  newName: repo/api\r\n",
        Some("v2"),
        None,
        "images:\r\n- name: api\r\n  newName: repo/api\r\n  newTag: v2\r\n",
        &[
            ("images[name=api].digest", 3, Some("sha256:aaa"), None),
            ("images[name=api].newTag", 4, None, Some("v2")),
        ],
    ),
    (
        "a removal at the end of a file without a final line break",
        "images:\n- name: api\n  digest: sha256:aaa",
        Some("v2"),
        None,
        "images:\n- name: api\n  newTag: v2",
        &[
            ("images[name=api].digest", 2, Some("sha256:aaa"), None),
            ("images[name=api].newTag", 3, None, Some("v2")),
        ],
    ),
    (
        "the entry in another document",
        "a: 1\n---\nimages:\n- name: api\n",
        Some("v2"),
        None,
        "a: 1\n---\nimages:\n- name: api\n  newTag: v2\n",
        &[("[doc 2] images[name=api].newTag", 5, None, Some("v2"))],
    ),
    (
        "an empty file",
        "",
        Some("v2"),
        None,
        "images:\n- name: api\n  newTag: v2\n",
        &[("images[name=api].newTag", 3, None, Some("v2"))],
    ),
];

#[test]
fn follows_kustomize_semantics() {
    for &(what, input, new_tag, digest, expected, changes) in SEMANTICS {
        let edited = edit(input, kustomize("api", None, new_tag, digest))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(edited.text, expected, "{what}");
        let expected_changes: Vec<_> = changes
            .iter()
            .map(|&(key, line, old, new)| change(key, line, old, new))
            .collect();
        assert_eq!(edited.changes, expected_changes, "{what}");
    }
}

#[test]
fn no_op_when_the_entry_already_holds_the_fields() {
    let text = "images:\n- name: api\n  newTag: v2 # c\n";
    let edited = edit(text, kustomize("api", None, Some("v2"), None)).unwrap();
    assert_eq!(edited.text, text);
    assert!(edited.changes.is_empty());
}

#[test]
fn refusals() {
    let twice = "images:\n- name: api\n  newTag: v1\n- name: api\n  newTag: v2\n";
    let error = edit(twice, kustomize("api", None, Some("v3"), None)).unwrap_err();
    assert!(
        matches!(
            error,
            EditError::AmbiguousSelector {
                count: 2,
                line: 2,
                ..
            }
        ),
        "{error}"
    );

    let flow = "images: []\n";
    let error = edit(flow, kustomize("api", None, Some("v3"), None)).unwrap_err();
    assert!(
        matches!(error, EditError::FlowCollection { line: 1, .. }),
        "{error}"
    );

    let flow_entry = "images:\n- {name: api, newTag: v1, digest: sha256:a}\n";
    let error = edit(flow_entry, kustomize("api", None, Some("v3"), None)).unwrap_err();
    assert!(matches!(error, EditError::FlowCollection { .. }), "{error}");

    let not_a_list = "images: api\n";
    let error = edit(not_a_list, kustomize("api", None, Some("v3"), None)).unwrap_err();
    assert_eq!(
        error,
        EditError::NotASequence {
            at: "images".into(),
            found: "scalar",
            line: 1
        }
    );
}
