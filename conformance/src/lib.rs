//! Conformance tooling for the three image-to-image providers, all derived from `specs/`.
//!
//! - [`strategy`]: proptest strategies and deterministic samples generated from a request schema:
//!   valid requests that respect every range, enum, length, `maxItems` and required mark (boundary
//!   values favoured), and requests that break exactly one [`strategy::Constraint`].
//! - [`clients`]: the generated clients driven from JSON, for differential checks and round trips.
//! - [`emulator`]: faithful local emulators of the three providers (real HTTP, real images, the
//!   job lifecycle, faults on demand), in-process or as the `emulator` binary.
//! - [`results`]: the types of `results.json`, with their derived JSON Schema.
//! - [`report`]: the provider compatibility report (capability matrix, ranges, results) as
//!   Markdown, JSON with its schema, and one self-contained HTML page.
//! - [`harness`]: the named checks, run against the emulators, a live provider or cassettes.
#![deny(missing_docs)]

pub mod clients;
pub mod emulator;
pub mod harness;
pub mod report;
pub mod results;
pub mod strategy;
