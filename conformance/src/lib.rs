//! Conformance tooling for the three image-to-image providers, all derived from `specs/`.
//!
//! - [`strategy`]: proptest strategies and deterministic samples generated from a request schema:
//!   valid requests that respect every range, enum, length, `maxItems` and required mark (boundary
//!   values favoured), and requests that break exactly one [`strategy::Constraint`].
//! - [`clients`]: the generated clients driven from JSON, for differential checks and round trips.
//! - [`results`]: the types of `results.json`, with their derived JSON Schema.
#![deny(missing_docs)]

pub mod clients;
pub mod results;
pub mod strategy;
