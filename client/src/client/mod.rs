//! One [`Client`] for any provider, over its generated client called by operation id
//! ([`Operations`], from the `img2img-registry` crate): `submit`, `wait`, `fetch_images`,
//! `generate`.
//!
//! What a provider does differently is read from its spec: the create call is `x-job.create`
//! (`answer`: id, eta, outputs and errors of its answer), a poll is `x-job.result` or the URL the
//! provider asked for (`poll_target`), the key travels where `x-auth` says (the generated client's
//! guard puts it there). The loop around them (retries, backoff, deadline, downloads) lives here.

mod answer;
mod poll_target;

use std::time::Duration;

use chrono::Utc;
use img2img_specs::guard::Credentials;
use img2img_specs::operations::{CallInput, Operations, Outcome};
use img2img_specs::{ApiKey, JobStatus, Provider};
use serde::Serialize;
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::errors::{self, Error, Scrub};
use crate::handle::JobHandle;
use crate::images::{self, GeneratedImage, ImageSource};
use crate::poll::{Backoff, PollPolicy, job_info};
use crate::request::{ImageRequest, PreparedRequest};
use crate::retry::{self, Attempt, CallKind, RetryPolicy};

use answer::{Answer, Polled};

/// What one poll saw.
#[derive(Debug, Clone, PartialEq)]
pub struct PollState {
    /// The provider's status word.
    pub status: String,
    /// What the spec's `x-job` makes of it (a word in none of its lists: the job goes on).
    pub class: JobStatus,
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

/// A client of one provider, over its generated client.
pub struct Client {
    provider: Provider,
    base_url: String,
    key: ApiKey,
    scrub: Scrub,
    http: reqwest::Client,
    poll: PollPolicy,
    retry: RetryPolicy,
    operations: Box<dyn Operations>,
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
        let operations = connect(config.provider, &base_url, &http, &key)?;
        Ok(Client {
            provider: config.provider,
            scrub: Scrub::new(Some(&key)),
            key,
            base_url,
            http,
            poll: config.poll,
            retry: config.retry,
            operations,
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
        let create: &'static str = &job_info(self.provider).create;
        let body = prepared.into_body();
        let created = self
            .call(CallKind::Create, create, None, &mut rng, || async {
                let input = CallInput::with_body(body.clone());
                let answer = self.answer(&*self.operations, create, input).await?;
                let created = answer::created(self.provider, create, &answer, &self.scrub)?;
                Ok((answer.status, created))
            })
            .await?;
        let created_at = Utc::now();
        let handle = JobHandle {
            provider: self.provider,
            id: created.id,
            base_url: self.base_url.clone(),
            fetch_url: created.poll_url,
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
        let mut poll_url = handle.fetch_url.clone();
        loop {
            polls += 1;
            let polled = self
                .poll_at(handle, poll_url.as_deref(), deadline, &mut rng)
                .await;
            let state = match polled {
                Ok(Polled {
                    state,
                    poll_url: next,
                }) => {
                    poll_url = next.or(poll_url);
                    state
                }
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
                JobStatus::Succeeded => {
                    return Ok(JobResult {
                        handle: handle.clone(),
                        status: state.status,
                        outputs: state.outputs,
                        polls,
                    });
                }
                JobStatus::Failed => {
                    return Err(Error::TaskFailed {
                        reason: state
                            .failure
                            .filter(|r| !r.is_empty())
                            .unwrap_or_else(|| format!("status {}", state.status)),
                    });
                }
                JobStatus::Pending | JobStatus::Unknown => {}
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

    /// One poll of the job (with retries of transient failures): at the URL its create answer
    /// asked for, where that may be followed, else at the spec's result operation.
    pub async fn poll_once(
        &self,
        handle: &JobHandle,
        until: Instant,
        rng: &mut fastrand::Rng,
    ) -> Result<PollState, Error> {
        let polled = self
            .poll_at(handle, handle.fetch_url.as_deref(), until, rng)
            .await?;
        Ok(polled.state)
    }

    /// One poll, at `poll_url` where it may be followed.
    async fn poll_at(
        &self,
        handle: &JobHandle,
        poll_url: Option<&str>,
        until: Instant,
        rng: &mut fastrand::Rng,
    ) -> Result<Polled, Error> {
        let call = poll_target::poll_call(self.provider, &self.base_url, &handle.id, poll_url)?;
        let elsewhere = match &call.origin {
            Some(origin) => Some(connect(self.provider, origin, &self.http, &self.key)?),
            None => None,
        };
        let operations = elsewhere.as_deref().unwrap_or(&*self.operations);
        self.call(CallKind::Poll, call.operation, Some(until), rng, || async {
            let answer = self
                .answer(operations, call.operation, call.input.clone())
                .await?;
            let polled = answer::polled(self.provider, call.operation, &answer, &self.scrub)?;
            Ok((answer.status, polled))
        })
        .await
    }

    /// One call of `operation`: its 2xx answer, or the typed error of anything else.
    async fn answer(
        &self,
        operations: &dyn Operations,
        operation: &str,
        input: CallInput,
    ) -> Result<Answer, Error> {
        let outcome = operations
            .call(operation, input)
            .map_err(|e| Error::config(e.to_string()))?
            .await;
        match outcome {
            Outcome::Success {
                status,
                headers,
                body,
            } => Ok(Answer {
                status,
                headers,
                body,
            }),
            other => Err(errors::from_outcome(self.provider, other, &self.scrub)),
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
}

/// `provider`'s generated client at `base_url`, over `http`, with `key`.
fn connect(
    provider: Provider,
    base_url: &str,
    http: &reqwest::Client,
    key: &ApiKey,
) -> Result<Box<dyn Operations>, Error> {
    img2img_registry::connect(
        provider,
        base_url,
        http.clone(),
        Credentials::new(key.clone()),
    )
    .map_err(|e| Error::config(e.to_string()))
}
