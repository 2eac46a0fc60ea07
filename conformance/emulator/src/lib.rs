//! Faithful local emulators of the providers whose specs are in `specs/`: real HTTP, real images,
//! the whole job lifecycle, faults on demand, driven by each spec alone. Usable in-process
//! ([`Emulator::start`], [`router`]) and as the `emulator` binary.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use img2img_emulator::{Config, Emulator};
//! use img2img_specs::Provider;
//! let emulator = Emulator::start(&Provider::all().collect::<Vec<_>>(), Config::default()).await?;
//! let base = emulator.base_url(); // http://127.0.0.1:PORT; every spec path lives under it
//! # emulator.shutdown().await; Ok(()) }
//! ```
//!
//! Everything a provider answers comes from its spec (`specs/README.md`): paths, methods and
//! request schemas (validated in the accepting reading), the job's operations and status words
//! (`x-job`), the key (`x-auth`), limits (`x-limits`), error reasons (`x-errors`), not-found
//! answers (`x-not-found`), and every body it sends, from the answer templates of
//! `x-emulator.answers`. No module knows a provider.
//!
//! Main types: [`Emulator`] (a server on a socket) and [`router`] (the same as an axum router);
//! [`Config`] (keys, latency, limits, [`ProviderSettings`] per provider id, faults, [`Defects`]);
//! [`Scenario`] (the `--scenario` file); [`Fault`] and the [`FAULT_HEADER`] a request asks for
//! faults with; [`Journal`] (every exchange, for graders of clients). A request goes through
//! faults, the key, the body (content type, size, JSON, the schema), then the operation; a job is
//! queued for [`Latency::queued`], processes for [`Latency::processing`], then succeeds or fails,
//! on tokio time; its images are rendered on first download ([`images`]), deterministic in the
//! request and seed.
//! The [`Journal`] is bounded: bodies above [`BODY_CUT`] are held cut (the cut marked), at most
//! [`HELD_BYTES`] are held (the oldest let go first), and a grader that must see every exchange
//! whole takes each as it finishes ([`Journal::stream_to`]).

mod answers;
mod auth;
mod catalog;
mod config;
mod error;
mod faults;
mod features;
pub mod images;
mod inputs;
mod jobs;
mod journal;
mod lifecycle;
mod operations;
mod origin;
mod rate_limit;
mod rendering;
mod request;
mod scenario;
mod server;
mod state;
mod storage;
mod sync;
mod validation;
mod webhooks;

pub use catalog::DEFAULT_BODY_LIMIT;
pub use config::{
    AnswerStyle, Config, DEFAULT_PIXEL_BUDGET, Defects, Latency, ProviderSettings,
    UnknownAnswerStyle, WebhookConfig,
};
pub use faults::{FAULT_HEADER, Fault, FaultRule, KeyFault, ParseFaultError, parse_fault_list};
pub use journal::{Answer, BODY_CUT, Exchange, HELD_BYTES, Journal, Outcome, REDACTED};
pub use scenario::{Scenario, ScenarioFault, ScenarioKeyFault, ScenarioLatency};
pub use server::{Emulator, HEALTH_PATH, Handle, STATS_PATH, router, router_with_handle};
pub use state::Stats;
