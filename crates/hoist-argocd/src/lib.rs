//! Argo CD for hoist: a client for the REST API Argo CD's UI and CLI use
//! (grpc-gateway JSON under `/api/v1`), and [`Application`], a reading of
//! an Application's status that names the fields wait-for-sync decides on.
//!
//! The Application is kept as JSON and read through accessors, so fields
//! newer or older Argo CD versions add or drop never break the parse.

pub mod application;
pub mod client;
pub mod error;

pub use application::{Application, Resource};
pub use client::{AppRef, ArgoCd, Events};
pub use error::ArgoError;
