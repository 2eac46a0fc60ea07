//! The strategies' integration tests.

mod strategies;
