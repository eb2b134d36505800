//! hoist's `dist/` directory holds what ships with a release rather than
//! in a binary: `install.sh`, the installer every composite action gets its
//! binary through (pinned version, checksum from the release manifest, tool
//! cache, `HOIST_BIN_DIR` override). This crate holds no code, only its
//! tests (`tests/installer.rs`), run against a local HTTP server.
