//! ecr-push against the real Debian `docker-registry`, read back by skopeo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DEFAULT_TAG, PASSWORD, REPOSITORY, USER, World, json, skopeo};
use hoist_testkit::oci::{Layout, archive, docker_save, layer, sha256};
use hoist_testkit::peers::require;

#[test]
fn a_layout_is_pushed_read_back_and_secrets_are_masked() {
    let mut world = World::new();
    let (dir, digest) = world.simple_image("app", "v1");
    world.sandbox.input("source", dir.to_str().unwrap());
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let outputs = run.outputs();
    assert_eq!(outputs["digest"], digest);
    assert_eq!(
        outputs["image"],
        format!("{}/{REPOSITORY}@{digest}", world.registry.host())
    );
    assert_eq!(outputs["tags"], DEFAULT_TAG);
    assert_eq!(outputs["registry"], world.registry.host());
    assert_eq!(outputs["reused-blobs"], "0");
    assert!(outputs["pushed-bytes"].parse::<u64>().unwrap() > 2048);

    let manifest = world.inspect(DEFAULT_TAG).expect("skopeo reads the tag");
    assert_eq!(
        sha256(&manifest),
        digest,
        "the tag points at the pushed bytes"
    );
    let copy = world.path("copy");
    let target = format!("oci:{}:x", copy.display());
    // --preserve-digests: skopeo would otherwise compress uncompressed layers on the way.
    skopeo(
        &world.registry.host(),
        &[
            "copy",
            "--preserve-digests",
            &format!("docker://{}/{REPOSITORY}@{digest}", world.registry.host()),
            &target,
        ],
        world.images.path(),
    )
    .expect("skopeo copies every blob back");
    for blob in json(&manifest)["layers"].as_array().unwrap() {
        let hex = &blob["digest"].as_str().unwrap()[7..];
        assert_eq!(
            std::fs::read(copy.join("blobs/sha256").join(hex)).unwrap(),
            std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap()
        );
    }
    run.assert_masked(&[PASSWORD]);
    assert!(run.file("GITHUB_STEP_SUMMARY").contains(&digest));
}

#[test]
fn a_second_push_of_the_same_image_writes_nothing() {
    let mut world = World::new();
    let (dir, _) = world.simple_image("app", "v1");
    world.sandbox.input("source", dir.to_str().unwrap());
    assert_eq!(world.run().code, Some(0));
    let again = world.run();
    assert_eq!(again.code, Some(0), "{}", again.stdout);
    assert_eq!(again.outputs()["pushed-bytes"], "0");
    assert!(
        again
            .stdout
            .contains("tagged main-0123456; nothing written"),
        "{}",
        again.stdout
    );
}

#[test]
fn existing_layers_are_reused_not_uploaded() {
    let mut world = World::new();
    let (first, _) = world.simple_image("one", "v1");
    world
        .sandbox
        .input("source", first.to_str().unwrap())
        .input("tags", "one");
    assert_eq!(world.run().code, Some(0));
    let (second, digest) = world.simple_image("two", "v2");
    world
        .sandbox
        .input("source", second.to_str().unwrap())
        .input("tags", "two");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(
        run.outputs()["reused-blobs"],
        "1",
        "the shared layer was already there"
    );
    assert_eq!(sha256(&world.inspect("two").unwrap()), digest);
}

#[test]
fn a_two_platform_index_is_pushed_whole_or_narrowed() {
    let mut world = World::new();
    let dir = world.path("multi");
    let layout = Layout::new(&dir);
    let amd = layout.image("linux/amd64", &[layer("bin/app", b"amd64 build")]);
    let arm = layout.image("linux/arm64", &[layer("bin/app", b"arm64 build")]);
    let index = layout.index(&[amd.clone(), arm.clone()]);
    let index_digest = layout.finish(&index);

    world
        .sandbox
        .input("source", dir.to_str().unwrap())
        .input("tags", "multi");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.outputs()["digest"], index_digest);
    let pushed = world.inspect("multi").unwrap();
    assert_eq!(sha256(&pushed), index_digest);
    assert_eq!(json(&pushed)["manifests"].as_array().unwrap().len(), 2);

    world
        .sandbox
        .input("platforms", "linux/arm64")
        .input("tags", "arm-only");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.outputs()["digest"], arm["digest"].as_str().unwrap());
    assert_eq!(
        sha256(&world.inspect("arm-only").unwrap()),
        arm["digest"].as_str().unwrap()
    );
}

#[test]
fn an_oci_archive_and_a_docker_save_tar_are_pushed() {
    let mut world = World::new();
    let (dir, digest) = world.simple_image("app", "archived");
    let tar = world.path("image.tar");
    archive(&dir, &tar);
    world
        .sandbox
        .input("source", tar.to_str().unwrap())
        .input("tags", "from-archive");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.outputs()["digest"], digest);

    let save = world.path("save.tar");
    let layers = [
        layer("etc/os-release", b"ID=demo"),
        layer("app/run", b"#!/bin/sh"),
    ];
    let config_digest = docker_save(&save, &layers);
    world
        .sandbox
        .input("source", save.to_str().unwrap())
        .input("tags", "from-save");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let manifest = json(&world.inspect("from-save").unwrap());
    assert_eq!(manifest["config"]["digest"], config_digest);
    let layer_digests: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap())
        .collect();
    assert_eq!(layer_digests, vec![sha256(&layers[0]), sha256(&layers[1])]);
}

#[test]
fn an_image_made_by_umoci_and_one_with_an_empty_layer_are_pushed() {
    let mut world = World::new();
    let dir = world.path("umoci");
    let umoci = require("umoci", "the Debian package `umoci`");
    let run_umoci = |args: &[&str]| {
        let status = std::process::Command::new(&umoci)
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "umoci {args:?}");
    };
    let layout = format!("{}:app", dir.display());
    run_umoci(&["init", "--layout", dir.to_str().unwrap()]);
    run_umoci(&["new", "--image", &layout]);
    let file = world.path("hello.txt");
    std::fs::write(&file, "hello from umoci").unwrap();
    run_umoci(&[
        "insert",
        "--rootless",
        "--image",
        &layout,
        file.to_str().unwrap(),
        "/hello.txt",
    ]);
    world
        .sandbox
        .input("source", dir.to_str().unwrap())
        .input("tags", "umoci");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(
        sha256(&world.inspect("umoci").unwrap()),
        run.outputs()["digest"]
    );

    let dir = world.path("empty-layer");
    let layout = Layout::new(&dir);
    let root = layout.image("linux/amd64", &[Vec::new(), layer("a", b"x")]);
    let digest = layout.finish(&root);
    world
        .sandbox
        .input("source", dir.to_str().unwrap())
        .input("tags", "empty-layer");
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(sha256(&world.inspect("empty-layer").unwrap()), digest);
}

#[test]
fn the_guard_refuses_to_move_a_tag_and_leaves_the_registry_unchanged() {
    let mut world = World::new();
    let (first, first_digest) = world.simple_image("first", "v1");
    world
        .sandbox
        .input("source", first.to_str().unwrap())
        .input("tags", "1.0.0");
    assert_eq!(world.run().code, Some(0));
    let (second, second_digest) = world.simple_image("second", "v2");
    world.sandbox.input("source", second.to_str().unwrap());
    let run = world.run();
    run.assert_failed_cleanly(&[
        &format!("tag `1.0.0` already points at {first_digest}, not at {second_digest}; nothing was written"),
        "immutable-guard: false",
    ]);
    assert_eq!(sha256(&world.inspect("1.0.0").unwrap()), first_digest);
    assert!(
        world.inspect(&second_digest).is_none(),
        "not even the manifest was pushed"
    );

    world.sandbox.input("immutable-guard", "false");
    assert_eq!(world.run().code, Some(0));
    assert_eq!(sha256(&world.inspect("1.0.0").unwrap()), second_digest);
}

#[test]
fn credentials_come_from_the_docker_config_too() {
    let mut world = World::new();
    let (dir, digest) = world.simple_image("app", "v1");
    let config = world.sandbox.path().join("docker");
    std::fs::create_dir_all(&config).unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        config.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            world.registry.host()
        ),
    )
    .unwrap();
    world
        .sandbox
        .unset("INPUT_REGISTRY-USERNAME")
        .unset("INPUT_REGISTRY-PASSWORD")
        .env("DOCKER_CONFIG", config.to_str().unwrap())
        .input("source", dir.to_str().unwrap());
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.outputs()["digest"], digest);
    run.assert_masked(&[PASSWORD, &auth]);
}

#[test]
fn action_yml_and_readme_match_the_binary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/ecr-push");
    hoist_testkit::action_yml::assert_action_matches_spec(&ecr_push::SPEC, &dir);
}

#[test]
fn blobs_are_mounted_from_a_sibling_repository() {
    let mut world = World::new();
    let (dir, digest) = world.simple_image("app", "v1");
    world
        .sandbox
        .input("source", dir.to_str().unwrap())
        .input("tags", "base");
    assert_eq!(world.run().code, Some(0));

    world
        .sandbox
        .input("repository", "myshop/other")
        .input("mount-from", REPOSITORY);
    let run = world.run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.outputs()["pushed-bytes"], "0", "every blob was mounted");
    assert_eq!(run.outputs()["reused-blobs"], "3");
    assert_eq!(
        run.outputs()["image"],
        format!("{}/myshop/other@{digest}", world.registry.host())
    );
}
