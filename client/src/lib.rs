//! A client layer people can trust with paid calls, over the generated clients of GPTProto,
//! Novita and ModelsLab: submit and wait, retries, typed errors, secrets, and the `img2img`
//! command.
//!
//! - [`ClientConfig`] → [`Client`]: the key explicit or from the environment variable the spec
//!   names (`GPTPROTO_API_KEY`, `NOVITA_API_KEY`, `MODELSLAB_API_KEY`); base URL, request timeout
//!   and user agent overridable (emulator, proxy, staging).
//! - [`ImageRequest`]: one job said the same way for every provider; [`Client::prepare`] maps it
//!   onto the provider's body through the spec's `x-feature`s and validates it against the spec,
//!   so a value out of range is refused before anything is sent.
//! - [`Client::submit`] → [`JobHandle`] (serde: a process that dies can resume polling later);
//!   [`Client::wait`] → [`JobResult`]; [`Client::fetch_images`] → [`GeneratedImage`]s;
//!   [`Client::generate`] does all three.
//! - [`Error`]: one typed error across providers; every error body shape listed in
//!   `specs/PROVIDERS.md` parses into it.
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
//! what the server asks (`Retry-After`, ModelsLab's `retry_after`) or else an exponential,
//! jittered backoff — and never past the `wait` deadline.
//!
//! The create call is **paid**. Sending it twice can mean paying twice for one job, and none of
//! the three APIs offers an idempotency key to make a repeat harmless. So a create is retried only
//! when it **certainly was not accepted**:
//!
//! - the connection failed before the request was sent ([`TransportStage::Connect`]: refused,
//!   DNS, connect timeout) — the server never saw it;
//! - HTTP 429 — the server said it did not take the job.
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
//! scrubbed of it (a server echoing the request body cannot leak it), and ModelsLab's
//! `fetch_result` URL — where the key travels in the body — is followed only on the base URL's
//! origin.
//!
//! # Observability
//!
//! Every HTTP attempt runs in a `tracing` span `request` with `provider`, `operation`, `attempt`,
//! `status` and `latency_ms`, and ends with a `response` or `request failed` event.
#![deny(missing_docs)]

mod cli;
mod config;
mod errors;
mod fields;
mod handle;
mod images;
mod poll;
mod providers;
mod request;
mod retry;

pub use cli::main as run_command;
pub use config::{ClientConfig, DEFAULT_USER_AGENT};
pub use errors::{Error, SNIPPET_CHARS, TransportStage};
pub use fields::FieldSetting;
pub use handle::JobHandle;
pub use images::{GeneratedImage, ImageFormat, ImageSource};
pub use img2img_specs::{ApiKey, Provider};
pub use poll::{PollPolicy, StatusClass};
pub use providers::{Client, JobResult, PollState, Progress};
pub use request::{ImageRequest, PreparedRequest, ProviderOptions, Size};
pub use retry::{CallKind, RetryPolicy};
