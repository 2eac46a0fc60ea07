//! The emulator's integration tests, in one binary: in-process and loopback only.

mod answers;
mod api_families;
mod bfl;
mod defects;
mod families;
mod faults;
mod hostile;
mod images;
mod journal;
mod lifecycle;
mod responses;
mod scenario;
mod support;
mod unified;
mod webhooks;
