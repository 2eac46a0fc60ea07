//! One [`Client`] over the three generated clients: `submit`, `wait`, `fetch_images`, `generate`.
//!
//! Each provider module does only what differs: build the typed body, call the create and result
//! operations, and read the outputs and failure reason of a result. The loop around them (retries,
//! backoff, deadline, downloads) is shared and lives here.

mod gptproto;
mod modelslab;
mod novita;

use std::time::Duration;

use chrono::Utc;
use img2img_specs::{ApiKey, Provider};
use serde::Serialize;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::errors::{Error, ErrorOrResponse, Phase, Scrub};
use crate::handle::JobHandle;
use crate::images::{self, GeneratedImage, ImageSource};
use crate::poll::{Backoff, PollPolicy, StatusClass};
use crate::request::{ImageRequest, PreparedRequest};
use crate::retry::{self, Attempt, CallKind, RetryPolicy};

/// What one poll saw.
#[derive(Debug, Clone, PartialEq)]
pub struct PollState {
    /// The provider's status word.
    pub status: String,
    /// What the spec's `x-job` makes of it.
    pub class: StatusClass,
    /// The provider's estimate of the time left.
    pub eta: Option<Duration>,
    /// Progress in percent, where the provider says.
    pub progress: Option<u8>,
    /// The outputs, once succeeded.
    pub outputs: Vec<ImageSource>,
    /// The provider's reason, once failed.
    pub failure: Option<String>,
}

/// Progress reported while `wait` polls.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Polls made so far.
    pub polls: u32,
    /// The last status.
    pub status: String,
    /// The provider's estimate of the time left.
    pub eta: Option<Duration>,
    /// Progress in percent, where the provider says.
    pub percent: Option<u8>,
    /// Time since `wait` started.
    pub elapsed: Duration,
    /// The wait before the next poll.
    pub next_poll_in: Duration,
}

/// A finished job: its outputs, not yet downloaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobResult {
    /// The job.
    pub handle: JobHandle,
    /// The final status word.
    pub status: String,
    /// Where the images are.
    pub outputs: Vec<ImageSource>,
    /// Polls made.
    pub polls: u32,
}

enum Backend {
    Gptproto(img2img_gptproto_client::Client),
    Novita(img2img_novita_client::Client),
    Modelslab(img2img_modelslab_client::Client),
}

/// A client of one provider, over its generated client.
pub struct Client {
    provider: Provider,
    base_url: String,
    key: ApiKey,
    scrub: Scrub,
    http: reqwest::Client,
    poll: PollPolicy,
    retry: RetryPolicy,
    backend: Backend,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client from `config`: the key explicit or from the environment, the base URL, the
    /// timeouts and the user agent applied to the generated client's HTTP client.
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        let key = config.resolve_key()?;
        let http = config.http_client()?;
        let base_url = config.effective_base_url();
        let backend = match config.provider.id() {
            "gptproto" => Backend::Gptproto(img2img_gptproto_client::Client::new_with_client(
                &base_url,
                http.clone(),
                img2img_gptproto_client::Credentials::new(key.clone()),
            )),
            "modelslab" => Backend::Modelslab(img2img_modelslab_client::Client::new_with_client(
                &base_url,
                http.clone(),
                img2img_modelslab_client::Credentials::new(key.clone()),
            )),
            _ => Backend::Novita(img2img_novita_client::Client::new_with_client(
                &base_url,
                http.clone(),
                img2img_novita_client::Credentials::new(key.clone()),
            )),
        };
        Ok(Client {
            provider: config.provider,
            scrub: Scrub::new(Some(&key)),
            key,
            base_url,
            http,
            poll: config.poll,
            retry: config.retry,
            backend,
        })
    }

    /// The provider.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Builds and validates the create body; sends nothing.
    pub fn prepare(&self, request: &ImageRequest) -> Result<PreparedRequest, Error> {
        request.prepare(self.provider)
    }

    /// Validates and submits a job (the paid call) and returns its handle.
    pub async fn submit(&self, request: &ImageRequest) -> Result<JobHandle, Error> {
        let prepared = self.prepare(request)?;
        self.submit_prepared(prepared).await
    }

    /// Submits an already prepared body (see [`Client::prepare`]).
    pub async fn submit_prepared(&self, prepared: PreparedRequest) -> Result<JobHandle, Error> {
        if prepared.provider() != self.provider {
            return Err(Error::config(format!(
                "a request prepared for {} cannot be sent to {}",
                prepared.provider(),
                self.provider
            )));
        }
        let mut rng = fastrand::Rng::new();
        let created = match &self.backend {
            Backend::Gptproto(c) => {
                gptproto::submit(self, c, prepared.into_body(), &mut rng).await?
            }
            Backend::Novita(c) => novita::submit(self, c, prepared.into_body(), &mut rng).await?,
            Backend::Modelslab(c) => {
                modelslab::submit(self, c, prepared.into_body(), &mut rng).await?
            }
        };
        let created_at = Utc::now();
        let handle = JobHandle {
            provider: self.provider,
            id: created.id,
            base_url: self.base_url.clone(),
            fetch_url: created.fetch_url,
            ready_outputs: created.ready_outputs,
            created_at,
            first_poll_at: created
                .eta
                .and_then(|eta| chrono::Duration::from_std(eta).ok())
                .map(|eta| created_at + eta),
        };
        tracing::info!(provider = self.provider.id(), job = %handle.id, "submitted");
        Ok(handle)
    }

    /// Polls the job until it succeeds, fails, or the deadline passes.
    pub async fn wait(&self, handle: &JobHandle) -> Result<JobResult, Error> {
        self.wait_with_progress(handle, |_| {}).await
    }

    /// [`Client::wait`], calling `progress` after each poll that leaves the job pending.
    pub async fn wait_with_progress(
        &self,
        handle: &JobHandle,
        mut progress: impl FnMut(&Progress),
    ) -> Result<JobResult, Error> {
        if handle.provider != self.provider {
            return Err(Error::config(format!(
                "the handle is a {} job; this client speaks to {}",
                handle.provider, self.provider
            )));
        }
        if !handle.ready_outputs.is_empty() {
            return Ok(JobResult {
                handle: handle.clone(),
                status: crate::poll::job_info(self.provider)
                    .succeeded
                    .first()
                    .cloned()
                    .unwrap_or_default(),
                outputs: handle
                    .ready_outputs
                    .iter()
                    .map(|o| ImageSource::from_output(o))
                    .collect(),
                polls: 0,
            });
        }
        let started = Instant::now();
        let deadline = started + self.poll.deadline;
        // The provider said when the job should be ready: the first poll waits until then.
        if let Some(wait) = handle
            .first_poll_at
            .and_then(|at| (at - Utc::now()).to_std().ok())
        {
            tokio::time::sleep(wait.min(self.poll.max).min(self.poll.deadline)).await;
        }
        let mut backoff = Backoff::new(self.poll.clone());
        let mut rng = self
            .poll
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        let mut polls = 0u32;
        let mut last_status = "submitted".to_owned();
        loop {
            polls += 1;
            let state = match self.poll_once(handle, deadline, &mut rng).await {
                Ok(state) => state,
                Err(error)
                    if Instant::now() >= deadline
                        && RetryPolicy::is_retryable(CallKind::Poll, &error) =>
                {
                    return Err(Error::DeadlineExceeded {
                        deadline: self.poll.deadline,
                        last_status,
                    });
                }
                Err(error) => return Err(error),
            };
            last_status = state.status.clone();
            match state.class {
                StatusClass::Succeeded => {
                    return Ok(JobResult {
                        handle: handle.clone(),
                        status: state.status,
                        outputs: state.outputs,
                        polls,
                    });
                }
                StatusClass::Failed => {
                    return Err(Error::TaskFailed {
                        reason: state
                            .failure
                            .filter(|r| !r.is_empty())
                            .unwrap_or_else(|| format!("status {}", state.status)),
                    });
                }
                StatusClass::Pending => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::DeadlineExceeded {
                    deadline: self.poll.deadline,
                    last_status,
                });
            }
            // The last wait is cut to the deadline, but never below the first (shortest) wait: a
            // poll a few milliseconds after the previous one would only repeat its answer.
            let (next, remaining) = (backoff.next_delay(state.eta), deadline - now);
            let wait = if next > remaining {
                remaining.max(self.poll.initial)
            } else {
                next
            };
            progress(&Progress {
                polls,
                status: state.status.clone(),
                eta: state.eta,
                percent: state.progress,
                elapsed: now - started,
                next_poll_in: wait,
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// One poll of the result operation (with retries of transient failures).
    pub async fn poll_once(
        &self,
        handle: &JobHandle,
        until: Instant,
        rng: &mut fastrand::Rng,
    ) -> Result<PollState, Error> {
        match &self.backend {
            Backend::Gptproto(c) => gptproto::poll(self, c, handle, until, rng).await,
            Backend::Novita(c) => novita::poll(self, c, handle, until, rng).await,
            Backend::Modelslab(c) => modelslab::poll(self, c, handle, until, rng).await,
        }
    }

    /// Downloads (or decodes) the images of a finished job, in order.
    pub async fn fetch_images(&self, result: &JobResult) -> Result<Vec<GeneratedImage>, Error> {
        let mut images = Vec::with_capacity(result.outputs.len());
        let mut rng = fastrand::Rng::new();
        for source in &result.outputs {
            let image = match source {
                ImageSource::Base64(data) => {
                    let bytes = images::decode_base64(data).map_err(|e| Error::UnexpectedBody {
                        status: None,
                        snippet: format!("an inline image: {e}"),
                    })?;
                    images::image_from_bytes(bytes, None, &self.scrub)?
                }
                ImageSource::Url(url) => {
                    let bytes = retry::run(
                        &self.retry,
                        CallKind::Download,
                        self.provider,
                        "download_image",
                        None,
                        &mut rng,
                        || images::download_once(&self.http, url, &self.scrub),
                    )
                    .await?;
                    images::image_from_bytes(bytes, Some(url.clone()), &self.scrub)?
                }
            };
            images.push(image);
        }
        Ok(images)
    }

    /// Submits, waits and fetches the images: one whole job.
    pub async fn generate(&self, request: &ImageRequest) -> Result<Vec<GeneratedImage>, Error> {
        let handle = self.submit(request).await?;
        let result = self.wait(&handle).await?;
        self.fetch_images(&result).await
    }

    /// Runs one attempt-counted call of a generated client under the retry policy.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        kind: CallKind,
        operation: &'static str,
        until: Option<Instant>,
        rng: &mut fastrand::Rng,
        call: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Attempt<T>>,
    {
        retry::run(
            &self.retry,
            kind,
            self.provider,
            operation,
            until,
            rng,
            call,
        )
        .await
    }

    /// A generated client's error as a typed error (reading the body of an undocumented status).
    pub(crate) async fn error_of<E: Serialize>(
        &self,
        error: progenitor_client::Error<E>,
        phase: Phase,
    ) -> Error {
        if let Some(status) = error.status() {
            record_status(status.as_u16());
        }
        match crate::errors::from_progenitor(self.provider, error, phase, &self.scrub) {
            ErrorOrResponse::Error(error) => error,
            ErrorOrResponse::Response(response) => self.error_of_response(response, phase).await,
        }
    }

    /// The typed error of an error response read by hand.
    pub(crate) async fn error_of_response(
        &self,
        response: reqwest::Response,
        phase: Phase,
    ) -> Error {
        let status = response.status().as_u16();
        record_status(status);
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(bytes) => crate::errors::from_body(
                self.provider,
                status,
                &headers,
                &bytes,
                phase,
                &self.scrub,
            ),
            Err(e) => crate::errors::transport(&e, &self.scrub),
        }
    }

    pub(crate) fn scrub(&self) -> &Scrub {
        &self.scrub
    }
}

/// Records the HTTP status an error answer came with on the attempt's `request` span, so the log
/// says the status received (a 403 stays 403 even when its reason reads as a bad key).
fn record_status(status: u16) {
    tracing::Span::current().record("status", status);
}

/// `body` as the generated client's request type `T`; a body that does not fit it is an invalid
/// request (the guard has already checked it against the spec, so this names a gap between the two).
pub(crate) fn typed<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, Error> {
    serde_json::from_value(body).map_err(|e| Error::InvalidRequest {
        field: None,
        message: format!("the body does not fit the generated type: {e}"),
    })
}

/// What a create call left to remember.
pub(crate) struct Created {
    pub id: String,
    pub fetch_url: Option<String>,
    pub ready_outputs: Vec<String>,
    /// The create answer's estimate of the time left: the first poll waits for it.
    pub eta: Option<Duration>,
}
