//! Finds the example binary the tests drive.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// The `echo` example, built by `cargo test` next to the test binaries:
/// `target/<triple>/<profile>/deps/<test>` → `…/<profile>/examples/echo`.
pub(crate) fn echo_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("profile dir");
    let binary = profile_dir.join("examples").join("echo");
    assert!(
        binary.is_file(),
        "{} is missing: run the tests with `cargo test`, which builds examples",
        binary.display()
    );
    binary
}
