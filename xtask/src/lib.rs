//! The library half of `xtask`: what the `cargo xtask` binary and its tests share.
//!
//! - [`diff`]: what changed between two versions of a spec, each change classed breaking or not.
//! - [`peer`]: the peer check's schemathesis configuration of a spec.
//! - [`project`]: where things are in the repository.

pub mod diff;
pub mod peer;
pub mod project;
