//! The two operations of every `x-job` family, answered as the spec's templates say: create (read
//! the request, start the job, answer at once or, for a `sync-or-queued` provider answering
//! synchronously, once the job is done) and result (the job's state, or the spec's not-found
//! answer).

use std::sync::Arc;

use axum::http::StatusCode;
use img2img_specs::extensions::IdPlace;
use serde_json::Value;

use super::answers;
use super::catalog::ProviderInfo;
use super::config::{AnswerStyle, Defects};
use super::error::ApiError;
use super::jobs::Job;
use super::lifecycle::Runner;
use super::request::{self, Ctx, Rules};

/// An answer, before faults and the status defects change it.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    /// The JSON body.
    pub body: Vec<u8>,
    /// A success of a create call (the `undocumented_status` defect changes its status).
    pub created: bool,
}

/// Runs create operation `operation`; its answer has the success status the operation documents.
pub(crate) async fn create(
    runner: &Runner,
    info: &ProviderInfo,
    rules: Rules,
    ctx: &Ctx<'_>,
    (operation, body): (&str, &Value),
    key: u64,
) -> Result<Reply, ApiError> {
    let (request, input) = request::read(&runner.images, info, rules, ctx, body).await?;
    let mut job = runner.start(info, key, request, input)?;
    if info.settings.answer_style == AnswerStyle::Sync {
        let mut done = job.done.subscribe();
        let wait = job.queued + job.processing + info.settings.sync_grace;
        // A timeout leaves the job running: it is answered as it stands.
        let _ = tokio::time::timeout(wait, done.wait_for(|done| *done)).await;
        if let Some(now) = runner.jobs.snapshot(&job.id) {
            job = now;
        }
    }
    let template = info.answers.created_for(&job.request.family);
    let body = runner.answer(info, template, &job).await;
    let status = info
        .spec
        .operation(operation)
        .map_or(200, |op| op.success_status());
    Ok(Reply {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        body: with_defects(body, &job, info, rules.defects),
        created: true,
    })
}

/// Runs the result operation for job `id` (from the path or query as the spec's links say, else
/// from the body's field).
pub(crate) async fn result(
    runner: &Runner,
    info: &ProviderInfo,
    defects: Defects,
    operation: &str,
    id: Option<String>,
    body: Option<&Value>,
) -> Result<Reply, ApiError> {
    let id = match (id, info.id_place(operation)) {
        (Some(id), _) => id.trim().to_owned(),
        (None, Some(IdPlace::Body(field))) => match body.and_then(|b| b.get(field)) {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.trim().to_owned(),
            _ => return Err(ApiError::invalid(format!("{field} is required"))),
        },
        (None, _) => String::new(),
    };
    let Some(mut job) = runner.jobs.snapshot(&id) else {
        return Err(not_found(info, defects, operation, &id));
    };
    // A task is read through the API family of the result operation polled (one family's result
    // may read a task another family created): the answer takes that family's templates and
    // words, so it fits the operation's response schema.
    let polled = info.family_name(operation);
    if polled != job.request.family {
        let request = Arc::make_mut(&mut job.request);
        request.family = polled;
        operation.clone_into(&mut request.result_operation);
    }
    let body = runner
        .answer(info, info.answers.result_for(&job.request.family), &job)
        .await;
    Ok(Reply {
        status: StatusCode::OK,
        body: with_defects(body, &job, info, defects),
        created: false,
    })
}

/// The `break_response_schema` and `unlisted_status` defects, on a job answer.
fn with_defects(body: Vec<u8>, job: &Job, info: &ProviderInfo, defects: Defects) -> Vec<u8> {
    let job_info = &info.family_job(&job.request.family).job;
    answers::with_defects(body, job, job_info, info.answers.unlisted_status(), defects)
}

/// The answer to an id the emulator does not hold: the family's `x-not-found` (status, status
/// word, message), or a 400 under the `not_found_as_bad_request` defect.
fn not_found(info: &ProviderInfo, defects: Defects, operation: &str, id: &str) -> ApiError {
    let spec = info.spec;
    let not_found = spec
        .not_found(operation)
        .or_else(|| spec.not_found(&info.job.result));
    let message = not_found
        .as_ref()
        .and_then(|n| n.message.clone())
        .unwrap_or_else(|| format!("job {id} not found (unknown, or evicted after the job TTL)"));
    if defects.not_found_as_bad_request {
        return ApiError::invalid(message);
    }
    let status = not_found
        .as_ref()
        .and_then(|n| StatusCode::from_u16(n.status).ok())
        .unwrap_or(StatusCode::NOT_FOUND);
    ApiError::not_found(id, status, not_found.and_then(|n| n.job_status), message)
}
