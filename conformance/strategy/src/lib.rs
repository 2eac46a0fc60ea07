//! Requests generated from a JSON Schema (as compiled from a spec by `img2img_specs`): never from a
//! hand-kept list of fields.
//!
//! - [`sample`]: one deterministic valid instance (every optional field present, or only the
//!   required ones).
//! - [`constraints`]: every constraint a schema places on an instance, each able to say which values
//!   sit on its boundary and how to break it, and nothing else.
//! - [`arbitrary`]: proptest strategies for valid instances and for exactly-one-invalid ones.
#![deny(missing_docs)]

pub mod arbitrary;
pub mod constraints;
mod regex;
pub mod sample;

pub use arbitrary::{breaks_only, ground, invalid, valid};
pub use constraints::{Constraint, ConstraintKind, constraints};
pub use sample::{Fill, sample};

/// Where a generated `format: uri` string points: loopback's discard port, which refuses
/// connections at once, so a server calling it back (a webhook) neither waits nor reaches out.
pub const URI_BASE: &str = "http://127.0.0.1:9/";
