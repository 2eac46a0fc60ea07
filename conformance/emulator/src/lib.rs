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
//! create and result operations of every API family from each spec's `x-job` (ModelsLab's docs
//! pair and its `aliases`; a queued answer's `fetch_result` points at the result operation of the
//! family the create came from); what each request field means from its `x-feature` and `x-media`
//! marks. Requests are validated in the accepting reading of the spec (`img2img_specs::Reading`:
//! nulls read as absent and fields the provider tolerates, where the spec says so). A request goes
//! through, in order:
//! 1. faults (below);
//! 2. the key where `x-auth` puts it (GPTProto `Authorization` raw or `Bearer`; Novita `Bearer` or
//!    bare; ModelsLab the body's `key`): missing → 401, wrong → 401 (Novita 403 `INVALID_API_KEY`);
//! 3. `Content-Type` not JSON → 400 (no spec documents a 415); body above the limit → 413 (Novita: the base64 length of
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
//! The specs document no 413 for any operation: that answer carries the provider's error shape
//! (the one of its 400).
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
//! Accepting a job costs what a poll costs: validation, an id and an entry in the job table (the
//! input is decoded, to refuse one that does not decode, but nothing is rendered). An image is
//! rendered when first asked for (a download, a ModelsLab answer with `base64: "yes"`, or a request
//! naming the image's URL as its input), from the job's stored parameters, and its encoded bytes
//! are kept in the image store, so the next download is a copy. What a status or webhook reports
//! (sizes, counts, URLs, seeds) comes from the parameters, never from rendering. The image store
//! counts the decoded inputs (once however many jobs share one) and the encoded images; above
//! [`Config::max_stored_bytes`] it drops the oldest encoded images first (they render again to
//! the same bytes), then the oldest jobs' outputs (whose URLs then answer 404). Beside the stores,
//! fixed allowances: a memo of the last 8 decoded inputs (16 MiB at most), the last resized
//! inputs (8 MiB) and colour tables (1.5 MiB); one rendering per core at a time.
//!
//! What a client can rely on: every image decodes, has the requested size, count and format, and
//! is the same bytes for the same request (and seed) on every run and machine of the same build.
//! What it cannot: the file size, which depends on the encoder settings (chosen for speed: PNG
//! with fast deflate and the `Up` filter, lossless WebP, JPEG quality 90) and may change between
//! versions.
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
//! Per run, [`Config::faults`] holds [`FaultRule`]s (an operationId of any provider, `novita:<id>`
//! or `modelslab:*` for one provider's, or every operation; every n-th request, at most `times`
//! times), set from the binary's flags or a scenario file. [`Config::key_faults`] binds faults to a
//! key (`--key-fault KEY=FAULT`): every request carrying it gets them, after its key is read, so a
//! client that cannot add a header (modelslab-py) can still ask for a failed job.
//!
//! # Journal
//! With [`Config::journal`], every exchange (request headers and body, the operation it reached,
//! the answer or the dropped connection, arrival and end times) is kept in a [`Journal`]
//! ([`Emulator::journal`]): what a grader of clients and the SDK suite read. Its
//! [`Journal::redacted`] form has every key replaced. It is bounded: bodies above [`BODY_CUT`] are
//! held cut (the cut marked), at most [`HELD_BYTES`] are held (the oldest let go first), and a
//! grader that must see every exchange whole takes each as it finishes ([`Journal::stream_to`]).
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
//!     {"operation": "novita:create_img2img", "every_nth": 3, "fault": "status=503"},
//!     {"operation": "create_img2img", "times": 1, "fault": "drop-after"},
//!     {"fault": "latency=100ms"}
//!   ],
//!   "key_faults": [{"key": "sk-fail", "fault": "fail=nsfw detected"}],
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
mod inputs;
mod jobs;
mod journal;
mod lifecycle;
mod providers;
mod rate_limit;
mod rendering;
mod server;
mod state;
mod storage;
mod validation;
mod webhooks;

pub use config::{
    Config, DEFAULT_PIXEL_BUDGET, Defects, Fault, FaultRule, KeyFault, Latency, ModelslabMode,
    ParseFaultError, RateLimit, Scenario, ScenarioFault, ScenarioKeyFault, ScenarioLatency,
    ScenarioRateLimit, WebhookConfig, parse_fault_list,
};
pub use faults::FAULT_HEADER;
pub use journal::{Answer, BODY_CUT, Exchange, HELD_BYTES, Journal, Outcome, REDACTED};
pub use server::{Emulator, HEALTH_PATH, Handle, STATS_PATH, router, router_with_handle};
pub use state::{DEFAULT_BODY_LIMIT, Stats};
