//! A job's life, driven by tokio time (so tests can pause the clock): queued for
//! `Latency::queued`, processing for `Latency::processing` (while its images are rendered on the
//! blocking pool), then succeeded or failed; then its webhook, if it has one.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use image::RgbImage;
use tokio::time::Instant;

use super::images::{self, RenderParams};
use super::jobs::{JobRequest, Phase, TestMode};
use super::providers;
use super::state::{Shared, lock};
use super::webhooks;

/// Runs job `id` to its end.
pub(crate) async fn run(shared: Arc<Shared>, id: String, base: Option<RgbImage>) {
    let Some(job) = providers::snapshot(&shared, &id) else {
        return;
    };
    let request = job.request.clone();
    let outcome = match request.test_mode {
        Some(TestMode::Fail) => Err("test mode: mock TASK_STATUS_FAILED event".to_owned()),
        Some(TestMode::Succeed) => render_on_pool(&request, base, &id).await,
        None => {
            tokio::time::sleep(job.queued).await;
            let started = Instant::now();
            update(&shared, &id, |job| {
                job.phase = Phase::Processing;
                job.processing_started = Some((started, SystemTime::now()));
            });
            if shared.config.defects.stall_jobs {
                return;
            }
            let outcome = match &request.fail {
                Some(reason) => Err(reason.clone()),
                None => render_on_pool(&request, base, &id).await,
            };
            tokio::time::sleep_until(started + job.processing).await;
            outcome
        }
    };
    finish(&shared, &id, outcome);
    let Some(job) = providers::snapshot(&shared, &id) else {
        return;
    };
    if let Some((url, body, retries)) = providers::webhook(&shared, &job) {
        let delivery = webhooks::deliver(&shared, &url, &body, retries).await;
        update(&shared, &id, |job| {
            job.webhook_status = delivery.status_text()
        });
    }
}

fn update(shared: &Shared, id: &str, change: impl FnOnce(&mut super::jobs::Job)) {
    if let Some(job) = lock(&shared.jobs).get_mut(id) {
        change(job);
    }
}

async fn render_on_pool(
    request: &JobRequest,
    base: Option<RgbImage>,
    id: &str,
) -> Result<Vec<(String, Bytes)>, String> {
    let request = request.clone();
    let id = id.to_owned();
    tokio::task::spawn_blocking(move || render_all(&request, base, &id))
        .await
        .unwrap_or_else(|e| Err(format!("rendering stopped: {e}")))
}

/// Every output of a job, encoded: image `i` uses `seed + i`.
fn render_all(
    request: &JobRequest,
    base: Option<RgbImage>,
    id: &str,
) -> Result<Vec<(String, Bytes)>, String> {
    let params = &request.render;
    let base = match base {
        Some(base) if base.dimensions() == (params.width, params.height) => base,
        other => images::base_image(other.as_ref(), params.width, params.height, &params.prompt),
    };
    (0..request.count)
        .map(|i| {
            let one = RenderParams {
                seed: params.seed.wrapping_add(u64::from(i)) ^ request.salt,
                ..params.clone()
            };
            let image = images::render(&base, &one);
            let bytes = images::encode(&image, request.format)?;
            Ok((
                format!("{id}-{i}.{}", request.format.ext()),
                Bytes::from(bytes),
            ))
        })
        .collect()
}

fn finish(shared: &Shared, id: &str, outcome: Result<Vec<(String, Bytes)>, String>) {
    let now = Instant::now();
    let expires = now
        + shared.url_ttl(match providers::snapshot(shared, id) {
            Some(job) => job.provider,
            None => return,
        });
    let (phase, names) = match outcome {
        Ok(outputs) => {
            let mut store = lock(&shared.images);
            let names = outputs
                .into_iter()
                .map(|(name, bytes)| {
                    let format = lock_free_format(&name);
                    store.insert(name.clone(), bytes, format, expires);
                    name
                })
                .collect();
            (Phase::Succeeded, names)
        }
        Err(reason) => (Phase::Failed(reason), Vec::new()),
    };
    let mut jobs = lock(&shared.jobs);
    if let Some(job) = jobs.get_mut(id) {
        job.phase = phase;
        job.outputs = names;
        job.finished = Some((now, SystemTime::now()));
        if job.processing_started.is_none() {
            job.processing_started = Some((now, SystemTime::now()));
        }
        job.done.send_replace(true);
    }
}

/// The format of a stored output, from its file name.
fn lock_free_format(name: &str) -> images::Format {
    name.rsplit_once('.')
        .and_then(|(_, ext)| images::Format::from_name(ext))
        .unwrap_or(images::Format::Png)
}
