//! Novita AI: the create call answers `{"task_id"}`; `GET /v3/async/task-result?task_id=` moves
//! through `TASK_STATUS_QUEUED` and `TASK_STATUS_PROCESSING` (with `eta` falling and
//! `progress_percent` rising) to `TASK_STATUS_SUCCEED` or `TASK_STATUS_FAILED` (with `reason`).
//! Errors are `{code, reason, message, metadata}`. The webhook is `{"event_type":
//! "ASYNC_TASK_RESULT", "payload": <task result>}`; `test_mode` sends the mock event at once.

use std::sync::Arc;

use img2img_specs::extensions::Stages;
use img2img_specs::{Provider, Spec};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Ctx, Reply, image_url, prepare, snapshot, start};
use crate::error::{ApiError, put};
use crate::jobs::{Job, Phase, unix_ms};
use crate::state::Shared;

/// `{code, reason, message, metadata}`, the reason from the spec's `x-errors`.
pub(crate) fn error_body(error: &ApiError) -> Value {
    let errors = &Spec::embedded(Provider::named("novita"))
        .extensions()
        .errors;
    let mut body = json!({"code": error.status.as_u16(), "metadata": {}});
    put(
        &mut body,
        &errors.reason_pointers,
        json!(error.reason(errors)),
    );
    put(&mut body, &errors.message_pointers, json!(error.message));
    body
}

pub(crate) async fn create(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    body: Value,
    key: u64,
) -> Result<Reply, ApiError> {
    let (request, input) =
        prepare(shared, Provider::named("novita"), ctx, &body, Value::Null).await?;
    let job = start(shared, Provider::named("novita"), key, request, input)?;
    let body = if shared.config.defects.break_response_schema {
        json!({"task_id": 12345})
    } else {
        json!({"task_id": &*job.id})
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
    let stages = shared.info(Provider::named("novita")).stages;
    if shared.config.defects.break_response_schema {
        let mut body = task_result_value(stages, &job);
        body["task"]["status"] = json!(3);
        return Ok(Reply::ok(body));
    }
    if shared.config.defects.unlisted_status && job.phase == Phase::Succeeded {
        let mut body = task_result_value(stages, &job);
        body["task"]["status"] = json!("TASK_STATUS_DONE");
        return Ok(Reply::ok(body));
    }
    Ok(Reply::ok_json(&task_result(stages, &job)))
}

/// The task-result body of a job, field by field (in the order `serde_json` sorts a map's keys, so
/// the bytes are those of the same body built as a JSON value).
#[derive(Debug, Serialize)]
pub(crate) struct TaskResult<'a> {
    audios: [(); 0],
    extra: Extra,
    images: Vec<TaskImage>,
    task: Task<'a>,
    videos: [(); 0],
}

#[derive(Debug, Serialize)]
struct Extra {
    debug_info: DebugInfo,
    enable_nsfw_detection: bool,
    seed: Value,
}

#[derive(Debug, Serialize)]
struct DebugInfo {
    complete_time_ms: i64,
    execute_time_ms: i64,
    request_info: &'static str,
    submit_time_ms: i64,
}

#[derive(Debug, Serialize)]
struct TaskImage {
    image_type: &'static str,
    image_url: String,
    image_url_ttl: u64,
    nsfw_detection_result: Option<NsfwResult>,
}

#[derive(Debug, Serialize)]
struct NsfwResult {
    confidence: u32,
    valid: bool,
}

#[derive(Debug, Serialize)]
struct Task<'a> {
    eta: i64,
    progress_percent: u32,
    reason: &'a str,
    status: &'static str,
    task_id: &'a str,
    task_type: &'static str,
}

/// The task-result body of a job, its status word from `stages` (`x-job.stages`).
pub(crate) fn task_result<'a>(stages: &'static Stages, job: &'a Job) -> TaskResult<'a> {
    let now = Instant::now();
    let status = super::stage_word(stages, &job.phase);
    let reason = match &job.phase {
        Phase::Failed(reason) => reason.as_str(),
        _ => "",
    };
    let base = &job.request.base_url;
    let images = job
        .outputs()
        .map(|name| TaskImage {
            image_type: job.request.format.ext(),
            image_url: image_url(base, &name),
            image_url_ttl: job.url_ttl.as_secs(),
            nsfw_detection_result: job.request.nsfw_detection.then_some(NsfwResult {
                confidence: 0,
                valid: true,
            }),
        })
        .collect();
    TaskResult {
        audios: [],
        extra: Extra {
            debug_info: DebugInfo {
                complete_time_ms: job.finished.map_or(0, |(_, at)| unix_ms(at)),
                execute_time_ms: job.processing_started.map_or(0, |(_, at)| unix_ms(at)),
                request_info: "",
                submit_time_ms: unix_ms(job.created_wall),
            },
            enable_nsfw_detection: job.request.nsfw_detection,
            seed: super::seed_json(job.request.render.seed),
        },
        images,
        task: Task {
            eta: job.eta(now).ceil() as i64,
            progress_percent: job.progress(now),
            reason,
            status,
            task_id: &job.id,
            task_type: "IMG_TO_IMG",
        },
        videos: [],
    }
}

/// The task-result body of a job as a JSON value.
fn task_result_value(stages: &'static Stages, job: &Job) -> Value {
    serde_json::to_value(task_result(stages, job)).unwrap_or(Value::Null)
}

/// The webhook event of a finished job.
pub(crate) fn webhook_event(shared: &Shared, job: &Job) -> Value {
    let stages = shared.info(Provider::named("novita")).stages;
    json!({"event_type": "ASYNC_TASK_RESULT", "payload": task_result_value(stages, job)})
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use tokio::sync::watch;

    use super::*;
    use crate::images::{Format, RenderParams};
    use crate::jobs::JobRequest;

    fn job(phase: Phase, nsfw_detection: bool, seed: u64) -> Job {
        let now = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_320_626_942);
        Job {
            id: "1725ab44-3c7c-4735-9671-071dd0a7c9fc".into(),
            provider: Provider::named("novita"),
            key_hash: 1,
            request: Arc::new(JobRequest {
                render: RenderParams {
                    width: 512,
                    height: 384,
                    seed,
                    prompt: "a fox".into(),
                    negative_prompt: String::new(),
                    strength: 0.5,
                    noise: 0.0,
                    steps: 20,
                    guidance: 7.5,
                },
                count: 2,
                format: Format::Webp,
                salt: 0,
                inline_base64: false,
                nsfw_detection,
                webhook: None,
                test_mode: None,
                fail: None,
                base_url: "http://localhost:8080".into(),
                result_operation: "get_task_result".into(),
                echo: Value::Null,
                fields: Value::Null,
                input_url: None,
            }),
            phase,
            created: now,
            created_wall: wall,
            processing_started: Some((now, wall + Duration::from_millis(312))),
            finished: None,
            url_ttl: Duration::from_secs(3600),
            webhook_status: String::new(),
            processing: Duration::from_secs(2),
            queued: Duration::ZERO,
            done: Arc::new(watch::channel(false).0),
        }
    }

    /// The body as it was first built: a JSON value.
    fn reference(job: &Job) -> Value {
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
            .outputs()
            .map(|name| {
                json!({
                    "image_url": image_url(base, &name),
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
                "seed": crate::providers::seed_json(job.request.render.seed),
                "enable_nsfw_detection": job.request.nsfw_detection,
                "debug_info": {
                    "request_info": "",
                    "submit_time_ms": unix_ms(job.created_wall),
                    "execute_time_ms": job.processing_started.map_or(0, |(_, at)| unix_ms(at)),
                    "complete_time_ms": job.finished.map_or(0, |(_, at)| unix_ms(at)),
                },
            },
            "task": {
                "task_id": &*job.id,
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

    #[tokio::test(start_paused = true)]
    async fn the_typed_task_result_has_the_bytes_of_the_json_value() {
        for job in [
            job(Phase::Processing, false, 42),
            job(Phase::Succeeded, true, 7),
            job(Phase::Succeeded, false, u64::MAX),
            job(Phase::Failed("no luck".into()), false, 0),
        ] {
            let stages = Spec::embedded(Provider::named("novita"))
                .extensions()
                .job
                .stages
                .as_ref()
                .unwrap();
            let typed = serde_json::to_vec(&task_result(stages, &job)).unwrap();
            let value = serde_json::to_vec(&reference(&job)).unwrap();
            assert_eq!(
                String::from_utf8(typed).unwrap(),
                String::from_utf8(value).unwrap()
            );
        }
    }
}
