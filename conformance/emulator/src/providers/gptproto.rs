//! GPTProto (NovelAI `nai-diffusion-4-5-curated`): the create call answers the prediction envelope
//! (`pending`), and `GET /api/v3/predictions/{id}/result` moves through `processing` to
//! `completed` (or `failed`, with `error.message`). Errors are `{"error": {"message", "type"}}`
//! (429: `{"code", "message", "type": "error"}`). An unknown or evicted prediction is answered
//! with the spec's `x-not-found` answer, 404 `not_found_error` (inferred: the docs give none).

use std::sync::Arc;

use img2img_specs::Provider;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Ctx, Reply, image_url, prepare, snapshot, start};
use crate::error::{ApiError, ErrorKind};
use crate::jobs::{Job, Phase};
use crate::state::Shared;

pub(crate) fn error_body(error: &ApiError) -> Value {
    if error.status.as_u16() == 429 {
        return json!({"code": 429, "message": error.message, "type": "error"});
    }
    let kind = match error.kind {
        ErrorKind::InvalidRequest | ErrorKind::MissingKey | ErrorKind::WrongKey => {
            "invalid_request_error"
        }
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::TooLarge => "request_too_large",
        ErrorKind::RateLimited { .. } => "rate_limit_exceeded",
        ErrorKind::Unavailable => "service_unavailable",
        ErrorKind::Fault => "server_error",
    };
    json!({"error": {"message": error.message, "type": kind}})
}

pub(crate) async fn create(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    body: Value,
    key: u64,
) -> Result<Reply, ApiError> {
    let (request, input) =
        prepare(shared, Provider::named("gptproto"), ctx, &body, Value::Null).await?;
    let job = start(shared, Provider::named("gptproto"), key, request, input)?;
    Ok(Reply::created(envelope(
        shared,
        &job,
        shared.config.defects.break_response_schema,
    )))
}

pub(crate) fn result(
    shared: &Arc<Shared>,
    _ctx: &Ctx,
    id: Option<String>,
) -> Result<Reply, ApiError> {
    let id = id.unwrap_or_default();
    let job = snapshot(shared, &id).ok_or_else(|| {
        super::unknown_job(
            shared,
            format!("prediction {id:?} not found (unknown, or evicted after the job TTL)"),
        )
    })?;
    Ok(Reply::ok(envelope(
        shared,
        &job,
        shared.config.defects.break_response_schema,
    )))
}

/// The prediction envelope of a job.
pub(crate) fn envelope(shared: &Shared, job: &Job, broken: bool) -> Value {
    let info = shared.info(Provider::named("gptproto"));
    let result = super::result_url(shared, job);
    let base = &job.request.base_url;
    let status = match &job.phase {
        Phase::Succeeded if shared.config.defects.unlisted_status => "done",
        phase => super::stage_word(info.stages, phase),
    };
    let error = match &job.phase {
        Phase::Failed(reason) => json!({"message": reason}),
        _ => Value::Null,
    };
    let now = Instant::now();
    let execution_ms = match (job.processing_started, job.finished) {
        (Some((start, _)), Some((end, _))) => end.duration_since(start).as_millis() as u64,
        (Some((start, _)), None) => now.duration_since(start).as_millis() as u64,
        _ => 0,
    };
    let created_at = chrono::DateTime::<chrono::Utc>::from(job.created_wall)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let model = info
        .spec
        .extensions()
        .provider
        .model
        .split_whitespace()
        .next()
        .unwrap_or_default();
    json!({
        "data": {
            "id": &*job.id,
            "model": model,
            "outputs": job.outputs().map(|name| image_url(base, &name)).collect::<Vec<_>>(),
            "urls": {"get": result},
            "status": if broken { json!(500) } else { json!(status) },
            "error": error,
            "executionTime": execution_ms,
            "timings": {"inference": execution_ms},
            "has_nsfw_contents": [],
            "created_at": created_at,
        },
        "message": "success",
        "code": 200,
    })
}
