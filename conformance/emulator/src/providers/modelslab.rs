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

use img2img_specs::Provider;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Ctx, Reply, image_url, prepare, snapshot, start};
use crate::config::ModelslabMode;
use crate::error::{ApiError, ErrorKind};
use crate::images::BASE64;
use crate::jobs::{Job, Phase};
use crate::state::{Shared, lock};
use base64::Engine as _;

/// How much longer than its latency a synchronous create waits before answering `processing`.
const SYNC_GRACE: Duration = Duration::from_secs(5);

pub(crate) fn error_body(error: &ApiError) -> Value {
    let status = if error.status.is_server_error() && error.kind == ErrorKind::Fault {
        "failed"
    } else {
        "error"
    };
    let mut body = json!({"status": status, "message": error.message});
    if let ErrorKind::RateLimited { retry_after } = error.kind {
        body["retry_after"] = json!(retry_after);
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
    let (request, base) = prepare(shared, Provider::Modelslab, ctx, &body, echo).await?;
    let job = start(shared, Provider::Modelslab, key, request, base)?;
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
    Ok(Reply::created(answer(shared, &job)))
}

pub(crate) fn result(
    shared: &Arc<Shared>,
    _ctx: &Ctx,
    body: Option<Value>,
) -> Result<Reply, ApiError> {
    let id = match body.as_ref().and_then(|b| b.get("request_id")) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_owned(),
        _ => return Err(ApiError::invalid("request_id is required")),
    };
    match snapshot(shared, &id) {
        Some(job) => Ok(Reply::ok(answer(shared, &job))),
        None if shared.config.defects.not_found_as_bad_request => {
            Err(ApiError::invalid("Request not found"))
        }
        None => Ok(Reply::ok(
            json!({"status": "error", "message": "Request not found"}),
        )),
    }
}

/// The body of a create or fetch answer for a job.
fn answer(shared: &Shared, job: &Job) -> Value {
    let mut body = match &job.phase {
        Phase::Succeeded => success(shared, job),
        Phase::Failed(reason) => {
            json!({"status": "failed", "id": numeric_id(job), "message": reason})
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

fn numeric_id(job: &Job) -> Value {
    job.id
        .parse::<u64>()
        .map_or_else(|_| json!(job.id), |n| json!(n))
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
        "file_prefix": job.id,
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

fn success(shared: &Shared, job: &Job) -> Value {
    let base = &job.request.base_url;
    let urls: Vec<String> = job
        .outputs
        .iter()
        .map(|name| image_url(base, name))
        .collect();
    let output: Vec<String> = if job.request.inline_base64 {
        let store = lock(&shared.images);
        job.outputs
            .iter()
            .filter_map(|name| store.get(name, Instant::now()))
            .map(|image| BASE64.encode(&image.bytes))
            .collect()
    } else {
        urls.clone()
    };
    let generation_time = match (job.processing_started, job.finished) {
        (Some((start, _)), Some((end, _))) => end.duration_since(start).as_secs_f64(),
        _ => 0.0,
    };
    json!({
        "status": "success",
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
    let info = shared.info(Provider::Modelslab);
    let fetch_path = info
        .spec
        .operation(&info.result)
        .map_or_else(String::new, |op| op.path.clone());
    let base = &job.request.base_url;
    json!({
        "status": "processing",
        "tip": "Your image is processing in background, you can get this image using the fetch API",
        "eta": job.eta(Instant::now()),
        "message": "Try to fetch request after given estimated time",
        "fetch_result": format!("{base}{fetch_path}"),
        "id": numeric_id(job),
        "output": [],
        "meta": meta(job),
        "future_links": job.output_names().iter().map(|name| image_url(base, name)).collect::<Vec<_>>(),
    })
}

/// The webhook payload of a finished job (success or failure, with `track_id`).
pub(crate) fn webhook_payload(shared: &Shared, job: &Job) -> Value {
    let track_id = job
        .request
        .echo
        .get("track_id")
        .cloned()
        .unwrap_or(Value::Null);
    match &job.phase {
        Phase::Failed(reason) => json!({
            "status": "failed",
            "id": numeric_id(job),
            "message": reason,
            "track_id": track_id,
        }),
        _ => {
            let success = success(shared, job);
            json!({
                "status": "success",
                "id": numeric_id(job),
                "output": success["output"],
                "generationTime": success["generationTime"],
                "track_id": track_id,
                "meta": success["meta"],
            })
        }
    }
}
