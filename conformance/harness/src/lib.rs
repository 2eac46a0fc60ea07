//! The conformance harness: the named [`checks`] run against the emulators (default), a live
//! provider, or recorded cassettes, with results written for CI and people ([`output`]).
//!
//! Every target is a base URL: emulators start in process on ephemeral loopback ports; a live run
//! goes to the provider (through a loopback [`proxy::RecordingProxy`] with `--record`); a replay
//! goes to a loopback [`proxy::ReplayServer`]. So every check, including those that go through the
//! generated clients, runs unchanged everywhere.
#![deny(missing_docs)]

pub mod clients;

pub mod budget;
pub mod cassette;
pub mod checks;
pub mod client_grading;
pub mod http;
pub mod output;
pub mod payload;
pub mod provider_flag;
pub mod proxy;
pub mod runner;
pub mod sdk;

pub use checks::CheckId;
pub use runner::{Event, Polling, RunError, RunOptions, Target, plan, run};
