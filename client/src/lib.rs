//! A client layer people can trust with paid calls, over the generated client of any provider
//! with a spec in `specs/`: submit and wait, retries, typed errors, secrets, and the `img2img`
//! command. A provider is its spec: nothing here names one.
//!
//! - [`ClientConfig`] → [`Client`]: the key explicit or from the environment variable the spec
//!   names (`x-provider.key-env`); the base URL (the spec's first server unless given), request
//!   timeout and user agent overridable (emulator, proxy, staging).
//! - [`ImageRequest`]: one job said the same way for every provider; [`Client::prepare`] maps it
//!   onto the provider's body through the spec's `x-feature`s (and any other field by path,
//!   [`FieldSetting`]) and validates it against the spec, so a value out of range is refused
//!   before anything is sent.
//! - [`Client::submit`] → [`JobHandle`] (serde: a process that dies can resume polling later);
//!   [`Client::wait`] → [`JobResult`]; [`Client::fetch_images`] → [`GeneratedImage`]s;
//!   [`Client::generate`] does all three. Each is read from the spec's `x-job`.
//! - [`Error`]: one typed error across providers; every error body a spec's `x-errors` describes
//!   parses into it, by the rules of its `decide-by`.
//!
//! ```no_run
//! # async fn run() -> Result<(), img2img_client::Error> {
//! use img2img_client::{Client, ClientConfig, ImageRequest, Provider};
//!
//! let client = Client::new(ClientConfig::new(Provider::named("novita")).base_url("http://127.0.0.1:8080"))?;
//! let mut request = ImageRequest {
//!     prompt: "a watercolour fox".into(),
//!     image: std::fs::read("fox.png").unwrap(),
//!     ..ImageRequest::default()
//! };
//! request.options.model = Some("sd_xl_base_1.0.safetensors".into());
//! let handle = client.submit(&request).await?;       // the paid call
//! std::fs::write("job.json", handle.to_json()).unwrap(); // resumable from here
//! let result = client.wait(&handle).await?;
//! for image in client.fetch_images(&result).await? {
//!     println!("{:?} {}x{}", image.format, image.width, image.height);
//! }
//! # Ok(()) }
//! ```
//!
//! # Retries, and why a create call is different
//!
//! Polls, fetches and image downloads are free and idempotent: they are retried on HTTP 429, on
//! 5xx, on any transport error (connection refused or reset, timeout) and on a body whose status
//! the generated client could not report, up to [`RetryPolicy::max_attempts`] attempts, waiting
//! what the server asks (`Retry-After`, or a wait in the body at `x-errors.retry-after-pointers`)
//! or else an exponential,
//! jittered backoff — and never past the `wait` deadline.
//!
//! The create call is **paid**. Sending it twice can mean paying twice for one job, and none of
//! the APIs this project knows offers an idempotency key to make a repeat harmless. So a create is
//! retried only
//! when it **certainly was not accepted**:
//!
//! - the connection failed before the request was sent ([`TransportStage::Connect`]: refused,
//!   DNS, connect timeout) — the server never saw it;
//! - a rate limit (HTTP 429, or a body `x-errors` reads as one) — the server said it did not take
//!   the job.
//!
//! It is never retried after a timeout or a broken connection once the request may have been
//! sent, nor on a 5xx: the server may have queued the job before failing to answer, and a retry
//! could start (and bill) a second one. Such a failure is returned as it is, for the caller to
//! decide. `reqwest`'s own retries are switched off, so every repeat is one of these decisions.
//!
//! # Secrets
//!
//! Keys are [`ApiKey`]s: `Debug` and `Display` print `[redacted]`. The key is never part of an
//! error, a log line, a panic message or a [`JobHandle`]; provider text kept in errors is
//! scrubbed of it (a server echoing the request body cannot leak it), and a URL the provider asks
//! to be polled at (`x-job.poll-url-pointer`) — where the key travels too — is followed only on the
//! base URL's origin or an `https` host the spec lists (`x-job.poll-url-hosts`).
//!
//! # Observability
//!
//! Every HTTP attempt runs in a `tracing` span `request` with `provider`, `operation`, `attempt`,
//! `status` and `latency_ms`, and ends with a `response` or `request failed` event.
#![deny(missing_docs)]

mod cli;
mod client;
mod config;
mod errors;
mod fields;
mod handle;
mod images;
mod poll;
mod request;
mod retry;

pub use cli::main as run_command;
pub use client::{Client, JobResult, PollState, Progress};
pub use config::{ClientConfig, DEFAULT_USER_AGENT};
pub use errors::{Error, SNIPPET_CHARS, TransportStage};
pub use fields::FieldSetting;
pub use handle::JobHandle;
pub use images::{GeneratedImage, ImageFormat, ImageSource};
pub use img2img_specs::{ApiKey, JobStatus, Provider};
pub use poll::PollPolicy;
pub use request::{ImageRequest, PreparedRequest, ProviderOptions, Size};
pub use retry::{CallKind, RetryPolicy};
