//! Novita AI: the create call answers `{"task_id"}`; `GET /v3/async/task-result?task_id=` moves
//! through `TASK_STATUS_QUEUED` and `TASK_STATUS_PROCESSING` (with `eta` falling and
//! `progress_percent` rising) to `TASK_STATUS_SUCCEED` or `TASK_STATUS_FAILED` (with `reason`).
//! Errors are `{code, reason, message, metadata}`. The webhook is `{"event_type":
//! "ASYNC_TASK_RESULT", "payload": <task result>}`; `test_mode` sends the mock event at once.

use std::sync::Arc;

use img2img_specs::Provider;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Ctx, Reply, image_url, prepare, snapshot, start};
use crate::error::{ApiError, ErrorKind};
use crate::jobs::{Job, Phase, unix_ms};
use crate::state::Shared;

pub(crate) fn error_body(error: &ApiError) -> Value {
    let reason = match error.kind {
        ErrorKind::InvalidRequest => "INVALID_REQUEST_BODY",
        ErrorKind::MissingKey => "FAILED_TO_AUTH",
        ErrorKind::WrongKey => "INVALID_API_KEY",
        ErrorKind::NotFound => "TASK_NOT_FOUND",
        ErrorKind::TooLarge => "REQUEST_ENTITY_TOO_LARGE",
        ErrorKind::RateLimited { .. } => "RATE_LIMIT_EXCEEDED",
        ErrorKind::Unavailable => "SERVICE_NOT_AVAILABLE",
        ErrorKind::Fault => match error.status.as_u16() {
            400 => "INVALID_REQUEST_BODY",
            401 => "FAILED_TO_AUTH",
            403 => "NOT_ENOUGH_BALANCE",
            404 => "MODEL_NOT_FOUND",
            429 => "RATE_LIMIT_EXCEEDED",
            503 => "SERVICE_NOT_AVAILABLE",
            _ => "",
        },
    };
    json!({
        "code": error.status.as_u16(),
        "reason": reason,
        "message": error.message,
        "metadata": {},
    })
}

pub(crate) async fn create(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    body: Value,
    key: u64,
) -> Result<Reply, ApiError> {
    let (request, base) = prepare(shared, Provider::Novita, ctx, &body, Value::Null).await?;
    let job = start(shared, Provider::Novita, key, request, base)?;
    let body = if shared.config.defects.break_response_schema {
        json!({"task_id": 12345})
    } else {
        json!({"task_id": job.id})
    };
    Ok(Reply::created(body))
}

pub(crate) fn result(
    shared: &Arc<Shared>,
    _ctx: &Ctx,
    id: Option<String>,
) -> Result<Reply, ApiError> {
    let Some(id) = id.filter(|id| !id.is_empty()) else {
        return Err(ApiError::invalid("task_id is required (query parameter)"));
    };
    let job = snapshot(shared, &id).ok_or_else(|| {
        super::unknown_job(
            shared,
            format!("task not found: {id} (unknown, or evicted after the job TTL)"),
        )
    })?;
    let mut body = task_result(&job);
    if shared.config.defects.break_response_schema {
        body["task"]["status"] = json!(3);
    }
    if shared.config.defects.unlisted_status && job.phase == Phase::Succeeded {
        body["task"]["status"] = json!("TASK_STATUS_DONE");
    }
    Ok(Reply::ok(body))
}

/// The task-result body of a job.
pub(crate) fn task_result(job: &Job) -> Value {
    let now = Instant::now();
    let status = match &job.phase {
        Phase::Queued => "TASK_STATUS_QUEUED",
        Phase::Processing => "TASK_STATUS_PROCESSING",
        Phase::Succeeded => "TASK_STATUS_SUCCEED",
        Phase::Failed(_) => "TASK_STATUS_FAILED",
    };
    let reason = match &job.phase {
        Phase::Failed(reason) => reason.as_str(),
        _ => "",
    };
    let base = &job.request.base_url;
    let images: Vec<Value> = job
        .outputs
        .iter()
        .map(|name| {
            json!({
                "image_url": image_url(base, name),
                "image_url_ttl": job.url_ttl.as_secs(),
                "image_type": job.request.format.ext(),
                "nsfw_detection_result": if job.request.nsfw_detection {
                    json!({"valid": true, "confidence": 0})
                } else {
                    Value::Null
                },
            })
        })
        .collect();
    json!({
        "extra": {
            "seed": super::seed_json(job.request.render.seed),
            "enable_nsfw_detection": job.request.nsfw_detection,
            "debug_info": {
                "request_info": "",
                "submit_time_ms": unix_ms(job.created_wall),
                "execute_time_ms": job.processing_started.map_or(0, |(_, at)| unix_ms(at)),
                "complete_time_ms": job.finished.map_or(0, |(_, at)| unix_ms(at)),
            },
        },
        "task": {
            "task_id": job.id,
            "task_type": "IMG_TO_IMG",
            "status": status,
            "reason": reason,
            "eta": job.eta(now).ceil() as i64,
            "progress_percent": job.progress(now),
        },
        "images": images,
        "videos": [],
        "audios": [],
    })
}

/// The webhook event of a finished job.
pub(crate) fn webhook_event(_shared: &Shared, job: &Job) -> Value {
    json!({"event_type": "ASYNC_TASK_RESULT", "payload": task_result(job)})
}
