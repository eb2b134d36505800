//! What the installer's and release-pin's tests share: the version they
//! release, checksums, and a release server.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hoist_testkit::standin::{Response, Router, StandIn};

/// The version every test releases.
pub(crate) const VERSION: &str = "v1.2.3";

/// Assets by name, shared with the server that serves them.
pub(crate) type Assets = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// The lowercase hex SHA-256 of `bytes`, as manifests write it.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A release server: `GET /VERSION/ASSET` answers the asset's bytes (as
/// they are when asked), anything else 404.
pub(crate) fn release_server(assets: &Assets) -> StandIn {
    let assets = Arc::clone(assets);
    StandIn::start(
        Router::new().route("GET", "/{version}/{asset}", move |request| {
            let assets = assets.lock().unwrap();
            match (request.param("version"), assets.get(request.param("asset"))) {
                (VERSION, Some(bytes)) => Response::new(200).body(bytes.clone()),
                _ => Response::text(404, "Not Found"),
            }
        }),
    )
}
