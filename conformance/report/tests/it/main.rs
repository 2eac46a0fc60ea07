//! The report's integration tests.

mod clients;
mod coverage;
mod report;
