//! `cargo xtask diff --against THEIRS`: our spec against a provider's own published one.
//!
//! - `cases`: the comparison as a library, on the fixtures of `tests/fixtures/parity/` (our spec,
//!   the provider's as OpenAPI 3.1 JSON and as OpenAPI 3.0 YAML): every field's verdict, the
//!   same verdicts from either of their documents, marks that keep a difference and what happens
//!   without them, operation pairing.
//! - `cli`: the built binary: golden output in each format, exit codes, `--save`, usage errors,
//!   each real spec against itself.

mod cases;
mod cli;
#[path = "../diff/edit.rs"]
mod edit;
