//! The harness's integration tests, in one binary: against in-process emulators on loopback.

mod cli;
mod client_grading;
mod clients;
mod docs_examples;
mod harness_checks;
mod record_replay;
mod request_guard;
mod request_ranges;
mod scratch;
mod sdk;
mod sdk_env;
mod sdk_grading;
mod snapshots;
