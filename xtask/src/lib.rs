//! The library half of `xtask`: what the `cargo xtask` binary and its tests share.
//!
//! - [`diff`]: what changed between two versions of a spec, each change classed breaking or not.
//! - [`project`]: where things are in the repository.

pub mod diff;
pub mod project;
