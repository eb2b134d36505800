//! OCI images for hoist: digests, names, image sources (layouts and
//! archives), and a streaming registry client.

pub mod digest;
pub mod docker_config;
pub mod image;
pub mod media;
pub mod push;
pub mod reference;
pub mod registry;

pub use digest::Digest;
pub use image::{Descriptor, ImageSource, Manifest, SourceError};
