//! `Target::WorkloadImage`: container images in every document, at any depth.

mod common;

use common::{assert_only_lines_changed, change, edit, workload};
use hoist_manifest::EditError;

const REPO: &str = "1234.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api";

const MANIFEST: &str = "\
# myshop-api workloads
apiVersion: apps/v1
kind: Deployment
metadata:
  name: myshop-api
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: 1234.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api:abc1234 # same image
      containers:
        - name: api
          image: \"1234.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api:abc1234\"
          ports: [{containerPort: 8080}]
        - name: proxy
          image: envoyproxy/envoy:v1.30.1
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: myshop-cleanup
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: cleanup
            image: 1234.dkr.ecr.ap-northeast-2.amazonaws.com/myshop-api@sha256:0000
          restartPolicy: OnFailure
";

#[test]
fn bumps_every_container_of_the_repository() {
    let edited = edit(MANIFEST, workload(REPO, Some("def5678"), None)).unwrap();
    let expected = MANIFEST
        .replace("myshop-api:abc1234", "myshop-api:def5678")
        .replace("myshop-api@sha256:0000", "myshop-api:def5678");
    assert_eq!(edited.text, expected);
    assert_only_lines_changed(MANIFEST, &edited.text, &[11, 14, 31]);
    let old = format!("{REPO}:abc1234");
    let new = format!("{REPO}:def5678");
    assert_eq!(
        edited.changes,
        [
            change(
                "[doc 1] spec.template.spec.initContainers[0].image",
                11,
                Some(&old),
                Some(&new)
            ),
            change(
                "[doc 1] spec.template.spec.containers[0].image",
                14,
                Some(&old),
                Some(&new)
            ),
            change(
                "[doc 2] spec.jobTemplate.spec.template.spec.containers[0].image",
                31,
                Some(&format!("{REPO}@sha256:0000")),
                Some(&new)
            ),
        ]
    );
}

#[test]
fn a_digest_drops_the_tag_and_both_keep_both() {
    let text = "containers:\n- image: repo/app:v1\n";
    let edited = edit(text, workload("repo/app", None, Some("sha256:1111"))).unwrap();
    assert_eq!(edited.text, "containers:\n- image: repo/app@sha256:1111\n");
    let edited = edit(text, workload("repo/app", Some("v2"), Some("sha256:1111"))).unwrap();
    assert_eq!(
        edited.text,
        "containers:\n- image: repo/app:v2@sha256:1111\n"
    );
    assert_eq!(edited.changes[0].key, "containers[0].image");
}

#[test]
fn registry_ports_are_not_tags() {
    let text = "containers:\n- image: localhost:5000/app\n- image: localhost:5000/app:v1\n";
    let edited = edit(text, workload("localhost:5000/app", Some("v2"), None)).unwrap();
    assert_eq!(
        edited.text,
        "containers:\n- image: localhost:5000/app:v2\n- image: localhost:5000/app:v2\n"
    );
}

#[test]
fn no_op_when_already_bumped() {
    let edited = edit(
        MANIFEST,
        workload("envoyproxy/envoy", Some("v1.30.1"), None),
    )
    .unwrap();
    assert_eq!(edited.text, MANIFEST);
    assert!(edited.changes.is_empty());
}

#[test]
fn no_match_lists_the_repositories_found() {
    let error = edit(MANIFEST, workload("myshop-api", Some("v2"), None)).unwrap_err();
    assert_eq!(
        error,
        EditError::NoMatchingImage {
            repository: "myshop-api".into(),
            found: vec![REPO.into(), "envoyproxy/envoy".into()],
        }
    );
    assert!(error.to_string().contains("`envoyproxy/envoy`"), "{error}");
}

#[test]
fn refuses_shared_images() {
    let aliased = "x-image: &img repo/app:v1\ncontainers:\n- image: *img\n";
    let error = edit(aliased, workload("repo/app", Some("v2"), None)).unwrap_err();
    assert!(
        matches!(
            error,
            EditError::SharedAnchor { .. } | EditError::TargetIsAlias { .. }
        ),
        "{error}"
    );
    let error = edit(
        "containers:\n- image: &img repo/app:v1\nsidecar: *img\n",
        workload("repo/app", Some("v2"), None),
    )
    .unwrap_err();
    assert!(
        matches!(error, EditError::SharedAnchor { line: 2, .. }),
        "{error}"
    );
}
