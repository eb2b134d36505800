//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use hoist_manifest::{Change, EditError, Edited, Options, Target, apply};

pub fn key(path: &str, value: &str) -> Target {
    Target::Key {
        path: path.parse().unwrap(),
        value: value.to_owned(),
    }
}

pub fn kustomize(
    name: &str,
    new_name: Option<&str>,
    new_tag: Option<&str>,
    digest: Option<&str>,
) -> Target {
    Target::KustomizeImage {
        name: name.to_owned(),
        new_name: new_name.map(str::to_owned),
        new_tag: new_tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    }
}

pub fn workload(repository: &str, tag: Option<&str>, digest: Option<&str>) -> Target {
    Target::WorkloadImage {
        repository: repository.to_owned(),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    }
}

/// Applies one target with the default options.
pub fn edit(text: &str, target: Target) -> Result<Edited, EditError> {
    apply(text, &[target], &Options::default())
}

/// Applies one target with `create_missing`.
pub fn edit_creating(text: &str, target: Target) -> Result<Edited, EditError> {
    apply(
        text,
        &[target],
        &Options {
            create_missing: true,
            ..Options::default()
        },
    )
}

pub fn change(key: &str, line: usize, old: Option<&str>, new: Option<&str>) -> Change {
    Change {
        key: key.to_owned(),
        line,
        old: old.map(str::to_owned),
        new: new.map(str::to_owned),
    }
}

/// Asserts that `after` has the same lines as `before` except the 1-based `changed` ones.
pub fn assert_only_lines_changed(before: &str, after: &str, changed: &[usize]) {
    let before: Vec<&str> = before.split_inclusive('\n').collect();
    let after: Vec<&str> = after.split_inclusive('\n').collect();
    assert_eq!(before.len(), after.len(), "line count changed:\n{after:?}");
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        if changed.contains(&(i + 1)) {
            assert_ne!(b, a, "line {} should have changed", i + 1);
        } else {
            assert_eq!(b, a, "line {} should not have changed", i + 1);
        }
    }
}
