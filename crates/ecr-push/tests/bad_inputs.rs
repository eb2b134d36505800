//! The table of bad inputs: each fails with exit 1 and exactly one
//! `::error::` that says what is wrong and what to change, and no tag is
//! written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, binary};
use hoist_testkit::oci::{Layout, layer};

/// One row: inputs to set (`@good`, `@corrupt-index`, `@bad-blob`, `@multi`
/// stand for prepared images), and what the error must say.
struct Row {
    set: &'static [(&'static str, &'static str)],
    says: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        set: &[("source", "")],
        says: &["input `source` is required"],
    },
    Row {
        set: &[("source", "no/such/layout")],
        says: &["does not exist", "docker buildx build --output type=oci"],
    },
    Row {
        set: &[("source", "@corrupt-index")],
        says: &["index.json` is not valid", "build it again"],
    },
    Row {
        set: &[("source", "@bad-blob")],
        says: &["does not match its digest", "build it again"],
    },
    Row {
        set: &[("source", "@good"), ("tags", "bad tag")],
        says: &["bad tag"],
    },
    Row {
        set: &[("source", "@good"), ("tags", "@129")],
        says: &["128"],
    },
    Row {
        set: &[("source", "@good"), ("tags", "v1:2")],
        says: &["v1:2"],
    },
    Row {
        set: &[("source", "@good"), ("tags", "type=nope")],
        says: &["nope"],
    },
    Row {
        set: &[("source", "@good"), ("repository", "MyShop/API")],
        says: &["repository names are lower-case"],
    },
    Row {
        set: &[
            ("source", "@good"),
            ("registry", "https://registry.example.com"),
        ],
        says: &["is not a registry host"],
    },
    Row {
        set: &[("source", "@good"), ("registry", "registry.example.com")],
        says: &[
            "plain HTTP is allowed to loopback registries only",
            "drop `insecure-registry`",
        ],
    },
    Row {
        set: &[("source", "@good"), ("registry-password", "wrong")],
        says: &["refused the credentials", "registry-username"],
    },
    Row {
        set: &[("source", "@good"), ("registry-username", "")],
        says: &["registry-username and registry-password go together"],
    },
    Row {
        set: &[("source", "@multi"), ("platforms", "linux/s390x")],
        says: &["no image in the index is for linux/s390x; it has linux/amd64, linux/arm64"],
    },
    Row {
        set: &[("source", "@good"), ("platforms", "amd64")],
        says: &["`amd64` is not os/arch[/variant]"],
    },
    Row {
        set: &[("source", "@good"), ("concurrency", "0")],
        says: &["must be between 1 and 16"],
    },
    Row {
        set: &[("source", "@good"), ("immutable-guard", "maybe")],
        says: &["must be a boolean"],
    },
    Row {
        set: &[("source", "@good"), ("timeout", "soon")],
        says: &["must be a duration"],
    },
    Row {
        set: &[("source", "@good"), ("mount-from", "Other/Repo")],
        says: &["lower-case"],
    },
    Row {
        set: &[
            ("source", "@good"),
            ("$DOCKER_CONFIG", "@broken-docker-config"),
            ("registry-username", ""),
            ("registry-password", ""),
        ],
        says: &["is not valid JSON"],
    },
];

#[test]
fn every_bad_input_fails_cleanly() {
    assert!(ROWS.len() >= 15);
    let world = World::new();
    let prepared = |name: &str| -> String {
        let dir = world.path(name.trim_start_matches('@'));
        match name {
            "@good" if !dir.exists() => {
                let layout = Layout::new(&dir);
                let root = layout.image("linux/amd64", &[layer("a", b"a")]);
                layout.finish(&root);
            }
            "@multi" if !dir.exists() => {
                let layout = Layout::new(&dir);
                let amd = layout.image("linux/amd64", &[layer("a", b"amd")]);
                let arm = layout.image("linux/arm64", &[layer("a", b"arm")]);
                let index = layout.index(&[amd, arm]);
                layout.finish(&index);
            }
            "@corrupt-index" if !dir.exists() => {
                Layout::new(&dir);
                std::fs::write(dir.join("index.json"), "{\"manifests\": [").unwrap();
            }
            "@bad-blob" if !dir.exists() => {
                let layout = Layout::new(&dir);
                let root = layout.image("linux/amd64", &[layer("a", b"original")]);
                layout.finish(&root);
                // Swap one layer's bytes for others of the same length.
                let manifest: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(
                        dir.join("blobs/sha256")
                            .join(&root["digest"].as_str().unwrap()[7..]),
                    )
                    .unwrap(),
                )
                .unwrap();
                let layer_path = dir
                    .join("blobs/sha256")
                    .join(&manifest["layers"][0]["digest"].as_str().unwrap()[7..]);
                let mut bytes = std::fs::read(&layer_path).unwrap();
                bytes[600] ^= 0xff;
                std::fs::write(layer_path, bytes).unwrap();
            }
            "@broken-docker-config" if !dir.exists() => {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("config.json"), "{not json").unwrap();
            }
            _ => {}
        }
        dir.display().to_string()
    };
    for row in ROWS {
        let mut sandbox = world.fresh_sandbox();
        sandbox.input("tags", "bad-input-test");
        for (name, value) in row.set {
            let value = match *value {
                "@129" => "a".repeat(129),
                v if v.starts_with('@') => prepared(v),
                v => v.to_owned(),
            };
            match name.strip_prefix('$') {
                Some(variable) => sandbox.env(variable, &value),
                None => sandbox.input(name, &value),
            };
        }
        let run = sandbox.run(binary(), &[]);
        run.assert_failed_cleanly(row.says);
        assert!(
            run.errors()[0].starts_with("::error title=ecr-push::"),
            "{}",
            run.stdout
        );
        assert!(
            world.inspect("bad-input-test").is_none(),
            "{:?} wrote a tag",
            row.says
        );
    }
}
