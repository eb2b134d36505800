//! Every action's README documents exactly its action.yml: the inputs and
//! outputs tables list the same names in the same order, with the same
//! required flags, defaults and descriptions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use hoist_testkit::action_yml::assert_readme_matches;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn each_action_readme_matches_its_action_yml() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("actions")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("action.yml").is_file() {
            assert_readme_matches(&dir.join("action.yml"), &dir.join("README.md"));
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} actions found");
}

#[test]
fn the_one_step_action_is_documented_in_the_readme() {
    assert_readme_matches(&root().join("action.yml"), &root().join("README.md"));
}
