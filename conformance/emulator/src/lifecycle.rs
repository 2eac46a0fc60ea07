//! A job's life, driven by tokio time (so tests can pause the clock): queued for
//! `Latency::queued`, processing for `Latency::processing`, then succeeded or failed; then its
//! webhook, if it has one. Nothing is rendered here: a succeeded job's outputs go into the image
//! store as its parameters and input, and each image is rendered when first asked for
//! ([`rendering`](super::rendering)).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::inputs::Input;
use super::jobs::{Job, Phase, TestMode};
use super::providers;
use super::state::{Shared, lock};
use super::webhooks;

/// Runs job `id` to its end; `input` is its decoded init image.
pub(crate) async fn run(shared: Arc<Shared>, id: Arc<str>, input: Option<Arc<Input>>) {
    let Some(job) = providers::snapshot(&shared, &id) else {
        return;
    };
    let outcome = match job.request.test_mode {
        Some(TestMode::Fail) => Err("test mode: mock TASK_STATUS_FAILED event".to_owned()),
        Some(TestMode::Succeed) => Ok(()),
        None => {
            sleep(job.queued).await;
            let started = Instant::now();
            lock(&shared.jobs).update(&id, |job| {
                job.phase = Phase::Processing;
                job.processing_started = Some((started, SystemTime::now()));
            });
            if shared.config.defects.stall_jobs {
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
    if !finish(&shared, &job, input, outcome) {
        return;
    }
    let Some(job) = providers::snapshot(&shared, &id) else {
        return;
    };
    if let Some((url, body, retries)) = providers::webhook(&shared, &job).await {
        let delivery = webhooks::deliver(&shared, &url, &body, retries).await;
        lock(&shared.jobs).update(&id, |job| job.webhook_status = delivery.status_text());
    }
}

/// Waits `duration` on tokio time (not at all for zero, so that a job without latency ends at
/// once rather than at the timer's next tick).
async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// Ends the job: its outputs go into the image store (to be rendered on demand), then its phase
/// changes, so that any answer listing an output can serve it. False if the job is gone.
fn finish(
    shared: &Shared,
    job: &Job,
    input: Option<Arc<Input>>,
    outcome: Result<(), String>,
) -> bool {
    if lock(&shared.jobs).get(&job.id).is_none() {
        return false;
    }
    let now = Instant::now();
    let phase = match outcome {
        Ok(()) => {
            let expires = now + shared.url_ttl(job.provider);
            lock(&shared.images).insert(
                Arc::clone(&job.id),
                Arc::clone(&job.request),
                input,
                expires,
            );
            Phase::Succeeded
        }
        Err(reason) => Phase::Failed(reason),
    };
    lock(&shared.jobs).update(&job.id, |job| {
        job.phase = phase;
        job.finished = Some((now, SystemTime::now()));
        if job.processing_started.is_none() {
            job.processing_started = Some((now, SystemTime::now()));
        }
        job.done.send_replace(true);
    });
    true
}
