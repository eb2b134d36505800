//! What every hoist test stands on.
//!
//! - [`sandbox`]: a fake runner around one binary: temp `GITHUB_*` files, a
//!   scrubbed environment, captured output, and checks that secrets were
//!   masked before they first appeared.
//! - [`peers`]: real servers started on ephemeral loopback ports (moto, the
//!   Debian `docker-registry`, git by `file://` and over smart HTTP). A
//!   missing one fails the test and names the package to install.
//! - [`standin`]: a small framework for stand-in HTTP servers (scripted
//!   routes, state, fault injection) for the services that cannot run here.
//! - [`github`]: GitHub's REST API (Git Data, contents, commit statuses,
//!   compare, pull requests with labels, assignees, milestones and review
//!   requests) over a real bare repository, GraphQL auto-merge, a GitHub
//!   App's JWTs and installation tokens, and scripted rate limits.
//! - [`argocd`]: Argo CD's REST API with scripted Applications (timelines
//!   that move per read, refresh or sync), its SSE watch stream, and Dex's
//!   token exchange.
//! - [`fulcio`]: Sigstore's certificate authority (Fulcio v2): GitHub
//!   tokens and proofs of possession checked and refused as Fulcio does,
//!   code-signing certificates with Fulcio's extensions and an embedded
//!   SCT, and a `trusted_root.json` (and sigstore-python trust config)
//!   describing it.
//! - [`rekor`]: Sigstore's transparency log (Rekor v1): `hashedrekord`
//!   and `dsse` entries checked like Rekor checks them, signed entry
//!   timestamps, inclusion proofs over a real Merkle tree, checkpoints.
//! - [`act`]: runs a real `action.yml` through `act` on the host.
//!
//! Panics are this crate's error style: it only runs inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

pub mod act;
pub mod action_yml;
pub mod argocd;
pub mod fulcio;
pub mod github;
pub mod oci;
pub mod oidc;
pub mod peers;
pub mod pipeline;
pub mod proxy;
pub mod rekor;
pub mod sandbox;
pub mod standin;
pub mod sts;
pub mod tls;
pub mod workflows;

pub use github::GitHubStandIn;
pub use peers::{GitHttpServer, GitRemote, Moto, Registry, RegistryAuth};
pub use rekor::RekorStandIn;

pub use sandbox::{RunResult, Sandbox};
pub use standin::{Fault, Request, Response, Router, StandIn};

/// A plain reqwest client for tests that speak to a peer directly, not
/// through hoist's policy (ring installed as the process's TLS provider).
pub fn raw_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Runs a future to completion on a fresh current-thread runtime, for tests
/// that call async code.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}
