//! The real peers start, answer, and stop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hoist_testkit::block_on;
use hoist_testkit::peers::git;
use hoist_testkit::{GitRemote, Moto, Registry, RegistryAuth};

#[test]
fn moto_answers_sts() {
    let moto = Moto::start();
    let body = block_on(async {
        hoist_testkit::raw_client()
            .post(format!("{}/", moto.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleSessionName=test\
                 &RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy&WebIdentityToken=a.b.c",
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(body.contains("<AssumeRoleWithWebIdentityResult>"), "{body}");
    assert!(body.contains("<AccessKeyId>"), "{body}");
}

#[test]
fn the_registry_demands_the_htpasswd_user() {
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: "ci".into(),
        password: "pw-123".into(),
    });
    let (anonymous, authorised) = block_on(async {
        let client = hoist_testkit::raw_client();
        let url = format!("{}/v2/", registry.url());
        let anonymous = client.get(&url).send().await.unwrap();
        let challenge = anonymous
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let authorised = client
            .get(&url)
            .basic_auth("ci", Some("pw-123"))
            .send()
            .await
            .unwrap()
            .status();
        ((anonymous.status(), challenge), authorised)
    });
    assert_eq!(anonymous.0, 401);
    assert!(
        anonymous
            .1
            .unwrap()
            .starts_with("Basic realm=\"hoist-test\"")
    );
    assert_eq!(authorised, 200);
}

#[test]
fn an_anonymous_registry_takes_a_blob() {
    let registry = Registry::start(RegistryAuth::Anonymous);
    let status = block_on(async {
        let client = hoist_testkit::raw_client();
        let start = client
            .post(format!("{}/v2/demo/blobs/uploads/", registry.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 202);
        let location = start.headers()["location"].to_str().unwrap().to_owned();
        let digest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", registry.url())
        };
        client
            .put(format!("{url}{separator}digest={digest}"))
            .body("hello")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 201);
    assert!(
        registry
            .storage()
            .join("docker/registry/v2/blobs/sha256/2c")
            .is_dir()
    );
}

#[test]
fn a_git_remote_refuses_non_fast_forward_pushes() {
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "image:\n  tag: v1\n")]);
    assert_eq!(
        remote.read("main", "apps/pay/values.yaml"),
        "image:\n  tag: v1\n"
    );
    let work = tempfile::tempdir().unwrap();
    let clone = |name: &str| {
        git(work.path(), &["clone", "--quiet", &remote.url(), name]);
        work.path().join(name)
    };
    let (a, b) = (clone("a"), clone("b"));
    for (dir, tag) in [(&a, "v2"), (&b, "v3")] {
        std::fs::write(
            dir.join("apps/pay/values.yaml"),
            format!("image:\n  tag: {tag}\n"),
        )
        .unwrap();
        git(dir, &["commit", "--quiet", "-am", &format!("bump {tag}")]);
    }
    git(&a, &["push", "--quiet", "origin", "main"]);
    let status = std::process::Command::new("git")
        .args(["push", "--quiet", "origin", "main"])
        .current_dir(&b)
        .output()
        .unwrap();
    assert!(!status.status.success(), "the second push must be refused");
    assert_eq!(remote.log("main"), vec!["bump v2", "seed"]);
}
