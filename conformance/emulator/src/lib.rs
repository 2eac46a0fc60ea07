//! Faithful local emulators of the three providers: real HTTP, real images, the whole job
//! lifecycle, faults on demand. Usable in-process ([`Emulator::start`], [`router`]) and as the
//! `emulator` binary.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use img2img_emulator::{Config, Emulator};
//! use img2img_specs::Provider;
//! let emulator = Emulator::start(&Provider::ALL, Config::default()).await?;
//! let base = emulator.base_url(); // http://127.0.0.1:PORT; every spec path lives under it
//! # emulator.shutdown().await; Ok(()) }
//! ```
//!
//! # The contract
//! Paths, methods and request schemas come from the specs (`img2img_specs::Spec::embedded`); the
//! create and result operations from each spec's `x-job`; what each request field means from its
//! `x-feature` and `x-media` marks. A request goes through, in order:
//! 1. faults (below);
//! 2. the key where `x-auth` puts it (GPTProto `Authorization` raw or `Bearer`; Novita `Bearer` or
//!    bare; ModelsLab the body's `key`): missing → 401, wrong → 401 (Novita 403 `INVALID_API_KEY`);
//! 3. `Content-Type` not JSON → 415; body above the limit → 413 (Novita: the base64 length of
//!    `x-limits.max-input-bytes` plus 1 MiB; others, which give no limit, 20 MiB); not JSON → 400;
//! 4. the request schema: every violation named, e.g. `request.width = 4096 is above the maximum
//!    2048`, answered 400 in the provider's error shape (GPTProto `{"error": {"message", "type"}}`,
//!    Novita `{code, reason: "INVALID_REQUEST_BODY", message, metadata}`, ModelsLab `{"status":
//!    "error", "message"}` with HTTP 400, one of the codes its spec documents);
//! 5. output pixels (`width * height * count`) above [`Config::pixel_budget`] → 400 naming the size
//!    and the budget, before anything is allocated; every image field (`x-media`) must be base64, a
//!    `data:` URL or an image URL this emulator served (any other URL → 400, never fetched); the
//!    init image must decode (PNG, JPEG, WebP) within `x-limits.max-input-pixels`;
//! 6. rate limits, when [`Config::rate_limit`] is set: Novita images per key per minute, ModelsLab
//!    running jobs per key (429 with `retry_after`), each in the provider's 429 body.
//!
//! The specs document neither 413 nor 415 for any operation: those answers carry the provider's
//! error shape (the one of its 400).
//!
//! # Jobs
//! Queued for [`Latency::queued`], processing for [`Latency::processing`] (eta falling, progress
//! rising), then succeeded or failed, on tokio time (tests can pause the clock). Outputs are real
//! images of the requested size, count and format (see [`images`]: the
//! transformation is deterministic in prompt, seed, strength, noise, steps and guidance; image `i`
//! uses `seed + i`; a random seed is drawn and reported where the provider reports it), served at
//! `/emulator/images/{job}-{i}.{ext}` until the provider's URL TTL (Novita 3600 s, ModelsLab 24 h)
//! or [`Config::job_ttl`] ends, or inline (ModelsLab `base64: "yes"`). A sweeper evicts finished jobs
//! after the job TTL; the stores are bounded ([`Config::max_jobs`], [`Config::max_stored_bytes`]).
//!
//! # Faults
//! Per request, the `x-emulator-fault` header holds a comma-separated list:
//!
//! | fault | effect |
//! | --- | --- |
//! | `status=503` | answer that status with the provider's error body for it |
//! | `latency=250ms` (or `2s`) | wait before answering |
//! | `fail=<reason>` | the job created fails with that reason (no commas in it) |
//! | `malformed` | the body is not JSON |
//! | `truncate` | the JSON body is cut in half |
//! | `drop` | the connection is closed without a response |
//! | `drop-after` | the request is served (a create makes its job), then the connection is closed before the answer |
//! | `retry-after=2` | the answer carries `Retry-After: 2`; with `status=429`, the body is the provider's rate-limit body (ModelsLab: `retry_after` too) |
//! | `content-type=<type>` | the response carries that `Content-Type` |
//!
//! Per run, [`Config::faults`] holds [`FaultRule`]s (operationId or any, every n-th request, at
//! most `times` times), set from the binary's flags or a scenario file.
//!
//! # Journal
//! With [`Config::journal`], every exchange (request headers and body, the answer or the dropped
//! connection, arrival and end times) is kept in a [`Journal`] ([`Emulator::journal`]): what a
//! grader of clients reads.
//!
//! # Scenario file
//! `--scenario FILE` reads JSON; every key is optional:
//!
//! ```json
//! {
//!   "api_keys": ["sk-test"],
//!   "latency_ms": {"queued": 200, "processing": 800},
//!   "modelslab_mode": "queued",
//!   "rate_limit": {"novita_images_per_minute": 10, "modelslab_queued_requests": 5},
//!   "pixel_budget": 4194304,
//!   "job_ttl_secs": 600,
//!   "faults": [
//!     {"operation": "create_img2img", "every_nth": 3, "fault": "status=503"},
//!     {"operation": "create_img2img", "times": 1, "fault": "drop-after"},
//!     {"fault": "latency=100ms"}
//!   ],
//!   "defects": {"stall_jobs": false}
//! }
//! ```
//! `latency_ms` may also be one number (each stage); `rate_limit` may be `true` (the specs'
//! `x-limits`) or `false`.
//!
//! # Webhooks
//! Novita: `{"event_type": "ASYNC_TASK_RESULT", "payload": <task result>}`, 5 s timeout, up to 5
//! retries on timeout or non-2xx, doubling backoff; `test_mode` ends the task at once with the
//! chosen status. ModelsLab: its success or failure payload with `track_id`, one attempt. Only
//! loopback receivers unless [`WebhookConfig::allow_remote`]; others are skipped with a warning.
//!
//! # Defects
//! [`Defects`] switch on deliberate breaches of the spec, so that the conformance harness can show
//! each of its checks failing.

mod auth;
mod config;
mod error;
mod faults;
mod features;
pub mod images;
mod jobs;
mod journal;
mod lifecycle;
mod providers;
mod rate_limit;
mod server;
mod state;
mod storage;
mod validation;
mod webhooks;

pub use config::{
    Config, DEFAULT_PIXEL_BUDGET, Defects, Fault, FaultRule, Latency, ModelslabMode,
    ParseFaultError, RateLimit, Scenario, ScenarioFault, ScenarioLatency, ScenarioRateLimit,
    WebhookConfig, parse_fault_list,
};
pub use faults::FAULT_HEADER;
pub use features::media_fields;
pub use journal::{Answer, Exchange, Journal, Outcome};
pub use server::{Emulator, HEALTH_PATH, Handle, STATS_PATH, router, router_with_handle};
pub use state::{DEFAULT_BODY_LIMIT, Stats};
