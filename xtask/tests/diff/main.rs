//! `cargo xtask diff`: the comparison as a library and the command around it.
//!
//! - `cases`: one base spec (`tests/fixtures/diff/base.yaml`), one small edit per case, and the
//!   changes (kind, class, JSON path) the edit must yield — every kind of change, on each side of
//!   the wire where its class depends on it.
//! - `cli`: the built binary: output byte for byte in each format, exit codes per `--fail-on`,
//!   usage and IO errors, each real spec against itself, `--rev`.

mod cases;
mod cli;
mod edit;
