//! ModelsLab (enterprise): the key is the body's `key`. The create call answers `status: success`
//! with the images once they are ready (`ModelslabMode::Sync`; a job still running after its
//! latency plus 5 s is answered as queued, as ModelsLab does), or `status: processing` with `eta`,
//! `id` and `fetch_result` (`ModelslabMode::Queued`); the fetch call takes `{key, request_id}`.
//! Errors are `{"status": "error", "message"}` with the HTTP code the spec documents (400, 401,
//! 429 with `retry_after`, 503...); a failed job and an unknown `request_id` are answered with
//! HTTP 200 (`status: failed` / `error`), as the spec's 200 examples show. The webhook is the
//! success or failure payload with `track_id`, one attempt (no retries are documented).

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use img2img_specs::extensions::ErrorKind as Meaning;
use img2img_specs::{Provider, Spec};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Ctx, Reply, image_url, prepare, result_url, snapshot, start};
use crate::config::ModelslabMode;
use crate::error::{ApiError, ErrorKind, put};
use crate::images::BASE64;
use crate::jobs::{Job, Phase};
use crate::rendering;
use crate::state::Shared;
use base64::Engine as _;

/// How much longer than its latency a synchronous create waits before answering `processing`.
const SYNC_GRACE: Duration = Duration::from_secs(5);

/// `{status, message}` (with `retry_after` when rate limited), the status word from the spec's
/// `x-errors`: a server failure injected by a fault is answered like a failed job.
pub(crate) fn error_body(error: &ApiError) -> Value {
    let errors = &Spec::embedded(Provider::named("modelslab"))
        .extensions()
        .errors;
    let status = if error.status.is_server_error() && error.kind == ErrorKind::Fault {
        error.reason_meaning(Meaning::TaskFailed, errors)
    } else {
        error.reason(errors)
    };
    let mut body = json!({});
    put(&mut body, &errors.reason_pointers, json!(status));
    put(&mut body, &errors.message_pointers, json!(error.message));
    if let ErrorKind::RateLimited { retry_after } = error.kind {
        put(&mut body, &errors.retry_after_pointers, json!(retry_after));
    }
    body
}

pub(crate) async fn create(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    body: Value,
    key: u64,
) -> Result<Reply, ApiError> {
    let init_image = body
        .get("init_image")
        .and_then(Value::as_str)
        .filter(|s| s.starts_with("http://") || s.starts_with("https://"));
    let echo = json!({
        "model_id": body.get("model_id").cloned().unwrap_or(Value::Null),
        "scheduler": body.get("scheduler").cloned().unwrap_or(json!("DDPMScheduler")),
        "safetychecker": body.get("safety_checker").cloned().unwrap_or(json!("no")),
        "init_image": init_image,
        "track_id": body.get("track_id").cloned().unwrap_or(Value::Null),
    });
    let (request, input) = prepare(shared, Provider::named("modelslab"), ctx, &body, echo).await?;
    let job = start(shared, Provider::named("modelslab"), key, request, input)?;
    let job = match shared.config.modelslab_mode {
        ModelslabMode::Queued => job,
        ModelslabMode::Sync => {
            let mut done = job.done.subscribe();
            let wait = shared.config.latency.total() + SYNC_GRACE;
            // A timeout leaves the job running: it is answered as queued below.
            let _ = tokio::time::timeout(wait, done.wait_for(|done| *done)).await;
            snapshot(shared, &job.id).unwrap_or(job)
        }
    };
    Ok(Reply::created(answer(shared, &job).await))
}

/// The fetch of any family: the id from the path (`.../fetch/{id}`), or from the body's
/// `request_id` (the docs' `/api/v1/enterprise/fetch`).
pub(crate) async fn result(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    path_id: Option<String>,
    body: Option<Value>,
) -> Result<Reply, ApiError> {
    let id = match (path_id, body.as_ref().and_then(|b| b.get("request_id"))) {
        (Some(id), _) => id.trim().to_owned(),
        (None, Some(Value::Number(n))) => n.to_string(),
        (None, Some(Value::String(s))) => s.trim().to_owned(),
        _ => return Err(ApiError::invalid("request_id is required")),
    };
    match snapshot(shared, &id) {
        Some(job) => Ok(Reply::ok(answer(shared, &job).await)),
        None => unknown(shared, ctx, &id),
    }
}

/// The answer to an id the emulator does not hold, as the family's `x-not-found` says (ModelsLab:
/// HTTP 200 `{"status": "error", "message": "Request not found"}`); a 400 under the
/// `not_found_as_bad_request` defect.
fn unknown(shared: &Shared, ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let info = shared.info(Provider::named("modelslab"));
    let not_found = info
        .spec
        .not_found(&ctx.result_operation)
        .or_else(|| info.spec.not_found(&info.job.result));
    let message = not_found
        .as_ref()
        .and_then(|n| n.message.clone())
        .unwrap_or_else(|| format!("request {id} not found"));
    if shared.config.defects.not_found_as_bad_request {
        return Err(ApiError::invalid(message));
    }
    let status = not_found
        .as_ref()
        .and_then(|n| StatusCode::from_u16(n.status).ok())
        .unwrap_or(StatusCode::OK);
    let word = not_found
        .and_then(|n| n.job_status)
        .unwrap_or_else(|| info.stages.failed.clone());
    Ok(Reply {
        status,
        ..Reply::ok(json!({"status": word, "message": message}))
    })
}

/// The body of a create or fetch answer for a job.
pub(crate) async fn answer(shared: &Shared, job: &Job) -> Value {
    let mut body = match &job.phase {
        Phase::Succeeded => success(shared, job, inline_images(shared, job).await),
        Phase::Failed(reason) => {
            json!({"status": status(shared, job), "id": numeric_id(job), "message": reason})
        }
        Phase::Queued | Phase::Processing => processing(shared, job),
    };
    if shared.config.defects.break_response_schema && !matches!(job.phase, Phase::Failed(_)) {
        body["output"] = json!(42);
        body["eta"] = json!("soon");
    }
    if shared.config.defects.unlisted_status && job.phase == Phase::Succeeded {
        body["status"] = json!("done");
    }
    body
}

/// The status word of the job's stage (`x-job.stages`).
fn status(shared: &Shared, job: &Job) -> String {
    super::stage_word(shared.info(Provider::named("modelslab")).stages, &job.phase).to_owned()
}

fn numeric_id(job: &Job) -> Value {
    job.id
        .parse::<u64>()
        .map_or_else(|_| json!(&*job.id), |n| json!(n))
}

fn meta(job: &Job) -> Value {
    let render = &job.request.render;
    let mut meta = json!({
        "prompt": render.prompt,
        "negative_prompt": render.negative_prompt,
        "W": render.width,
        "H": render.height,
        "guidance_scale": render.guidance,
        "steps": render.steps,
        "n_samples": job.request.count,
        "strength": render.strength,
        "seed": super::seed_json(render.seed),
        "multi_lingual": "no",
        "full_url": "no",
        "upscale": "no",
        "outdir": "out",
        "file_prefix": &*job.id,
    });
    if let (Value::Object(meta), Value::Object(echo)) = (&mut meta, &job.request.echo) {
        for (name, value) in echo {
            if name != "track_id" {
                meta.insert(name.clone(), value.clone());
            }
        }
    }
    meta
}

/// With `base64: "yes"`, the base64 of each output still held (rendered now if need be).
async fn inline_images(shared: &Shared, job: &Job) -> Option<Vec<String>> {
    if !job.request.inline_base64 {
        return None;
    }
    let mut out = Vec::new();
    for name in job.outputs() {
        match rendering::image(shared, &name).await {
            Ok(Some((encoded, _))) => out.push(BASE64.encode(encoded.contiguous())),
            Ok(None) => {}
            Err(error) => tracing::warn!("{name} could not be rendered: {error}"),
        }
    }
    Some(out)
}

/// The success body; `inline` holds the images' base64 when the request asked for it.
fn success(shared: &Shared, job: &Job, inline: Option<Vec<String>>) -> Value {
    let base = &job.request.base_url;
    let urls: Vec<String> = job.outputs().map(|name| image_url(base, &name)).collect();
    let output: Vec<String> = inline.unwrap_or_else(|| urls.clone());
    let generation_time = match (job.processing_started, job.finished) {
        (Some((start, _)), Some((end, _))) => end.duration_since(start).as_secs_f64(),
        _ => 0.0,
    };
    json!({
        "status": shared.info(Provider::named("modelslab")).stages.succeeded,
        "generationTime": generation_time,
        "id": numeric_id(job),
        "output": output,
        "proxy_links": urls,
        "meta": meta(job),
        "nsfw_content_detected": false,
        "webhook_status": job.webhook_status,
        "tip": "",
    })
}

fn processing(shared: &Shared, job: &Job) -> Value {
    let base = &job.request.base_url;
    json!({
        "status": status(shared, job),
        "tip": "Your image is processing in background, you can get this image using the fetch API",
        "eta": job.eta(Instant::now()),
        "message": "Try to fetch request after given estimated time",
        "fetch_result": result_url(shared, job),
        "id": numeric_id(job),
        "output": [],
        "meta": meta(job),
        "future_links": job.output_names().map(|name| image_url(base, &name)).collect::<Vec<_>>(),
    })
}

/// The webhook payload of a finished job (success or failure, with `track_id`).
pub(crate) async fn webhook_payload(shared: &Shared, job: &Job) -> Value {
    let track_id = job
        .request
        .echo
        .get("track_id")
        .cloned()
        .unwrap_or(Value::Null);
    match &job.phase {
        Phase::Failed(reason) => json!({
            "status": status(shared, job),
            "id": numeric_id(job),
            "message": reason,
            "track_id": track_id,
        }),
        _ => {
            let success = success(shared, job, inline_images(shared, job).await);
            json!({
                "status": success["status"],
                "id": numeric_id(job),
                "output": success["output"],
                "generationTime": success["generationTime"],
                "track_id": track_id,
                "meta": success["meta"],
            })
        }
    }
}
