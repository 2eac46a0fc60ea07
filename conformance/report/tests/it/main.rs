//! The report's integration tests.

mod clients;
mod report;
