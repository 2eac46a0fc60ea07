//! The client's integration tests, in one binary: against local wiremock servers on loopback.

mod cli;
mod errors;
mod jobs;
mod paid_create;
mod request;
mod secrets;
mod specs;
mod support;
