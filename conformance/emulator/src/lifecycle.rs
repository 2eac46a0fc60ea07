//! A job's life, driven by tokio time (so tests can pause the clock): admitted (rate limits, the
//! bounded table), queued for `Latency::queued`, processing for `Latency::processing`, then
//! succeeded or failed; then its webhook, if it has one; then, after its TTL, swept away. Nothing
//! is rendered here: a succeeded job's outputs go into the image store as its parameters and
//! input, and each image is rendered when first asked for ([`Images`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use img2img_specs::extensions::Cause;
use img2img_specs::template::Template;
use tokio::sync::watch;
use tokio::time::Instant;

use super::answers::job_answer;
use super::catalog::{Catalog, ProviderInfo};
use super::config::{Config, Defects, Latency};
use super::error::ApiError;
use super::inputs::Input;
use super::jobs::{AdmitError, Job, JobRequest, Jobs, Phase, TestMode};
use super::rendering::Images;
use super::webhooks::{Webhook, Webhooks};

/// What runs jobs: the parts a job touches during its life.
#[derive(Debug, Clone)]
pub(crate) struct Runner {
    pub catalog: Arc<Catalog>,
    pub jobs: Arc<Jobs>,
    pub images: Arc<Images>,
    pub webhooks: Arc<Webhooks>,
    latency: Latency,
    job_ttl: Duration,
    defects: Defects,
    sweeper_started: Arc<AtomicBool>,
}

impl Runner {
    pub fn new(catalog: Arc<Catalog>, config: &Config) -> Runner {
        Runner {
            catalog,
            jobs: Arc::new(Jobs::new(config.max_jobs, config.defects.forget_jobs)),
            images: Arc::new(Images::new(config.max_stored_bytes)),
            webhooks: Arc::new(Webhooks::new(config.webhooks)),
            latency: config.latency,
            job_ttl: config.job_ttl,
            defects: config.defects,
            sweeper_started: Arc::default(),
        }
    }

    /// Admits a job of `info`'s provider (its rate limits, the table's bound) and starts its
    /// life; returns a copy of it.
    pub fn start(
        &self,
        info: &ProviderInfo,
        key: u64,
        request: JobRequest,
        input: Option<Arc<Input>>,
    ) -> Result<Job, ApiError> {
        let now = Instant::now();
        let settings = info.settings;
        if let Some(limit) = settings.images_per_minute
            && let Err(wait) = self
                .jobs
                .take_images(info.provider, key, request.count, limit, now)
        {
            return Err(ApiError::rate_limited(
                u32::try_from(wait).unwrap_or(u32::MAX),
                format!(
                    "rate limit exceeded: at most {limit} images per minute per key (this request asks for {}); retry in {wait} s",
                    request.count
                ),
            ));
        }
        let (done, _) = watch::channel(false);
        let job = Job {
            id: info.new_id(|| self.jobs.next_number()).into(),
            provider: info.provider,
            key_hash: key,
            request: Arc::new(request),
            phase: Phase::Queued,
            created: now,
            created_wall: SystemTime::now(),
            processing_started: None,
            finished: None,
            url_ttl: info.url_ttl,
            webhook_status: String::new(),
            processing: self.latency.processing,
            queued: self.latency.queued,
            done: Arc::new(done),
        };
        let copy = job.clone();
        let evicted = self
            .jobs
            .admit(job, settings.queued_requests)
            .map_err(|e| match e {
                AdmitError::Full(max) => ApiError::new(
                    Cause::Unavailable,
                    format!("service not available: all {max} job slots hold running jobs (Config::max_jobs)"),
                ),
                AdmitError::QueuedLimit(limit) => ApiError::rate_limited(
                    settings.retry_after_secs,
                    format!("Rate limit exceeded. Maximum {limit} queued requests allowed."),
                ),
            })?;
        self.images.remove(&evicted);
        self.ensure_sweeper();
        tokio::spawn(self.clone().run(Arc::clone(&copy.id), input));
        Ok(copy)
    }

    /// Renders `template` for `job` (reading its images inline where the template asks).
    pub async fn answer(&self, info: &ProviderInfo, template: &Template, job: &Job) -> Vec<u8> {
        let url = || info.result_url(job);
        let stages = &info.family_job(&job.request.family).stages;
        job_answer(template, job, stages, &url, |name| self.images.bytes(name)).await
    }

    /// Runs job `id` to its end; `input` is its decoded init image.
    async fn run(self, id: Arc<str>, input: Option<Arc<Input>>) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        let info = self.catalog.get(job.provider);
        let outcome = match job.request.test_mode {
            Some(TestMode::Fail) => Err(format!(
                "test mode: mock {} event",
                info.family_job(&job.request.family).stages.failed
            )),
            Some(TestMode::Succeed) => Ok(()),
            None => {
                sleep(job.queued).await;
                let started = Instant::now();
                self.jobs.update(&id, |job| {
                    job.phase = Phase::Processing;
                    job.processing_started = Some((started, SystemTime::now()));
                });
                if self.defects.stall_jobs {
                    return;
                }
                let outcome = match &job.request.fail {
                    Some(reason) => Err(reason.clone()),
                    None => Ok(()),
                };
                sleep(job.processing).await;
                outcome
            }
        };
        if !self.finish(&job, input, outcome) {
            return;
        }
        if let Some(job) = self.jobs.get(&id) {
            self.send_webhook(info, &job).await;
        }
    }

    /// Ends the job: its outputs go into the image store (to be rendered on demand), then its
    /// phase changes, so that any answer listing an output can serve it. False if the job is
    /// gone.
    fn finish(&self, job: &Job, input: Option<Arc<Input>>, outcome: Result<(), String>) -> bool {
        if self.jobs.get(&job.id).is_none() {
            return false;
        }
        let now = Instant::now();
        let phase = match outcome {
            Ok(()) => {
                self.images.insert(
                    Arc::clone(&job.id),
                    Arc::clone(&job.request),
                    input,
                    now + job.url_ttl,
                );
                Phase::Succeeded
            }
            Err(reason) => Phase::Failed(reason),
        };
        self.jobs.update(&job.id, |job| {
            job.phase = phase;
            job.finished = Some((now, SystemTime::now()));
            if job.processing_started.is_none() {
                job.processing_started = Some((now, SystemTime::now()));
            }
            job.done.send_replace(true);
        });
        true
    }

    /// Sends the spec's webhook of a finished job, if the request named a receiver and the spec
    /// has one; records how it went.
    async fn send_webhook(&self, info: &ProviderInfo, job: &Job) {
        let (Some(url), Some(answer)) = (&job.request.webhook, &info.answers.webhook) else {
            return;
        };
        let mut headers = Vec::new();
        for (name, template) in &answer.headers {
            let value = self.answer(info, template, job).await;
            match serde_json::from_slice::<serde_json::Value>(&value) {
                Ok(serde_json::Value::Null) | Err(_) => {}
                Ok(serde_json::Value::String(text)) => headers.push((name.clone(), text)),
                Ok(other) => headers.push((name.clone(), other.to_string())),
            }
        }
        let webhook = Webhook {
            url: url.clone(),
            body: self.answer(info, &answer.body, job).await,
            headers,
            retries: info.settings.webhook_retries,
        };
        let delivery = self.webhooks.deliver(&webhook).await;
        self.jobs
            .update(&job.id, |job| job.webhook_status = delivery.status_text());
    }

    /// Evicts jobs and images whose TTL ended.
    fn sweep(jobs: &Jobs, images: &Images, now: Instant, job_ttl: Duration) {
        images.remove(&jobs.sweep(now, job_ttl));
        images.sweep(now);
    }

    /// Starts the background sweeper once (from inside a tokio runtime); it stops when the
    /// emulator is dropped. Under the `keep_expired_jobs` defect there is none.
    pub fn ensure_sweeper(&self) {
        if self.defects.keep_expired_jobs || self.sweeper_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let (jobs, images): (Weak<Jobs>, Weak<Images>) =
            (Arc::downgrade(&self.jobs), Arc::downgrade(&self.images));
        let shortest = self
            .catalog
            .shortest_url_ttl()
            .unwrap_or(self.job_ttl)
            .min(self.job_ttl);
        let job_ttl = self.job_ttl;
        let period = (shortest / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let (Some(jobs), Some(images)) = (jobs.upgrade(), images.upgrade()) else {
                    return;
                };
                Runner::sweep(&jobs, &images, Instant::now(), job_ttl);
            }
        });
    }
}

/// Waits `duration` on tokio time (not at all for zero, so that a job without latency ends at
/// once rather than at the timer's next tick).
async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}
