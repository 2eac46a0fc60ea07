//! The report's integration tests.

mod report;
