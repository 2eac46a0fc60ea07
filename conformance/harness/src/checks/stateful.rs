//! The stateful checks, driven by the spec's OpenAPI `links` (create → poll/fetch) and its
//! `x-not-found`: `created_job_retrievable` (schemathesis' `ensure_resource_availability`),
//! `unknown_id_not_found`, and `expired_id_not_found` (the `use_after_free` of an API whose jobs
//! expire instead of being deleted).

use std::collections::BTreeMap;
use std::time::Duration;

use img2img_specs::{Link, NotFound};
use serde_json::{Value, json};

use super::{Context, Verdict, failure, job_id, job_status};
use crate::http::{Exchange, KeyMode};

/// The link from the create operation's 2xx answer to the result operation.
fn result_link(context: &Context) -> Option<Link> {
    let job = &context.caller.spec().extensions().job;
    context
        .caller
        .spec()
        .links(&job.create)
        .into_iter()
        .find(|l| l.operation == job.result && l.status.starts_with('2'))
}

/// Calls the result operation as the link says, filling its expressions from `created`.
async fn follow(
    context: &Context,
    link: &Link,
    created: &Value,
) -> Result<Option<Exchange>, String> {
    let mut params = BTreeMap::new();
    for (name, expression) in &link.parameters {
        let Some(value) = Link::resolve(expression, created) else {
            return Ok(None);
        };
        params.insert(name.clone(), text(&value));
    }
    let body = if link.body_fields.is_empty() {
        None
    } else {
        let mut body = serde_json::Map::new();
        for (field, expression) in &link.body_fields {
            let Some(value) = Link::resolve(expression, created) else {
                return Ok(None);
            };
            body.insert(field.clone(), value);
        }
        Some(Value::Object(body))
    };
    context
        .caller
        .call(&link.operation, body.as_ref(), &params, KeyMode::Valid)
        .await
        .map(Some)
        .map_err(|e| e.to_string())
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether `exchange` is the spec's not-found answer to a poll of job `asked`: its status, and
/// its status word with no job id but the one asked (an answer may echo it or name none:
/// `x-not-found`).
fn is_not_found(
    context: &Context,
    not_found: &NotFound,
    exchange: &Exchange,
    asked: Option<&Value>,
) -> bool {
    exchange.status == Some(not_found.status)
        && match &not_found.job_status {
            Some(word) => exchange.json.as_ref().is_some_and(|b| {
                job_status(context, b).as_deref() == Some(word.as_str())
                    && job_id(context, b).is_none_or(|id| asked.is_some_and(|a| text(a) == id))
            }),
            None => true,
        }
}

fn describe(not_found: &NotFound) -> String {
    match &not_found.job_status {
        Some(word) => format!(
            "HTTP {} with status {word:?} and no job id but the one asked",
            not_found.status
        ),
        None => format!("HTTP {}", not_found.status),
    }
}

/// The job id a create answer names (what a poll following its link asks for).
fn asked_id<'a>(context: &Context, created: &'a Value) -> Option<&'a Value> {
    created.pointer(&context.caller.spec().extensions().job.id_pointer)
}

/// Creates one valid job; returns its create answer.
async fn create(context: &Context) -> Result<Exchange, Verdict> {
    let job = &context.caller.spec().extensions().job;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let body = proptest::strategy::Strategy::new_tree(
        &super::acceptance::valid_requests(context),
        &mut runner,
    )
    .map(|tree| proptest::strategy::ValueTree::current(&tree))
    .map_err(|e| Verdict::Skipped(format!("no valid request could be generated: {e}")))?;
    let created = context
        .caller
        .call(&job.create, Some(&body), &BTreeMap::new(), KeyMode::Valid)
        .await
        .map_err(|e| Verdict::Skipped(e.to_string()))?;
    if !created.is_success()
        || created
            .json
            .as_ref()
            .and_then(|b| job_id(context, b))
            .is_none()
    {
        return Err(Verdict::Failed {
            cases: 1,
            failure: failure(
                format!(
                    "a valid create was not accepted (HTTP {:?})",
                    created.status
                ),
                Some(&created),
            ),
        });
    }
    Ok(created)
}

/// `created_job_retrievable`: the job a create accepted is found by following the spec's link.
pub(crate) async fn retrievable(context: &Context) -> Verdict {
    let (Some(link), Some(not_found)) = (result_link(context), not_found(context)) else {
        return Verdict::Skipped("the spec has no create→result link or no x-not-found".into());
    };
    let created = match create(context).await {
        Ok(created) => created,
        Err(verdict) => return verdict,
    };
    let body = created.json.clone().unwrap_or(Value::Null);
    let answer = match follow(context, &link, &body).await {
        Ok(Some(answer)) => answer,
        Ok(None) => {
            return Verdict::Failed {
                cases: 1,
                failure: failure(
                    format!("the create answer lacks what link {} reads", link.name),
                    Some(&created),
                ),
            };
        }
        Err(e) => return Verdict::Skipped(e),
    };
    if is_not_found(context, &not_found, &answer, asked_id(context, &body)) || !answer.is_success()
    {
        return Verdict::Failed {
            cases: 1,
            failure: failure(
                format!(
                    "the job just created is not retrievable through link {}: {} answered HTTP {:?}",
                    link.name, link.operation, answer.status
                ),
                Some(&answer),
            ),
        };
    }
    Verdict::Passed { cases: 1 }
}

fn not_found(context: &Context) -> Option<NotFound> {
    let job = &context.caller.spec().extensions().job;
    context.caller.spec().not_found(&job.result)
}

/// Polls job `id` (as the link fills it from `{id pointer: id}`) and checks the not-found answer.
async fn poll_unknown(
    context: &Context,
    link: &Link,
    not_found: &NotFound,
    created: &Value,
    what: &str,
) -> Result<(), Verdict> {
    let answer = match follow(context, link, created).await {
        Ok(Some(answer)) => answer,
        Ok(None) => {
            return Err(Verdict::Skipped(
                "the link reads nothing from the answer".into(),
            ));
        }
        Err(e) => return Err(Verdict::Skipped(e)),
    };
    if is_not_found(context, not_found, &answer, asked_id(context, created)) {
        return Ok(());
    }
    Err(Verdict::Failed {
        cases: 1,
        failure: failure(
            format!(
                "{what} got HTTP {:?}, not the spec's not-found answer ({})",
                answer.status,
                describe(not_found)
            ),
            Some(&answer),
        ),
    })
}

/// A create answer naming a job no one created (same shape as a real one, so the link reads it).
fn unknown_answer(context: &Context, created: &Value) -> Value {
    let job = &context.caller.spec().extensions().job;
    let mut forged = created.clone();
    let unknown = match created.pointer(&job.id_pointer) {
        Some(Value::Number(_)) => json!(9_007_199_254_740_991_u64),
        _ => json!("00000000-conformance-unknown-job"),
    };
    if let Some(slot) = forged.pointer_mut(&job.id_pointer) {
        *slot = unknown;
    }
    forged
}

/// `unknown_id_not_found`: a job id nobody created gets the spec's `x-not-found` answer.
pub(crate) async fn unknown(context: &Context) -> Verdict {
    let (Some(link), Some(not_found)) = (result_link(context), not_found(context)) else {
        return Verdict::Skipped("the spec has no create→result link or no x-not-found".into());
    };
    let created = match create(context).await {
        Ok(created) => created,
        Err(verdict) => return verdict,
    };
    let forged = unknown_answer(context, created.json.as_ref().unwrap_or(&Value::Null));
    match poll_unknown(
        context,
        &link,
        &not_found,
        &forged,
        "a poll of an unknown job id",
    )
    .await
    {
        Ok(()) => Verdict::Passed { cases: 1 },
        Err(verdict) => verdict,
    }
}

/// `expired_id_not_found`: once a finished job's TTL has passed, its id gets the not-found answer.
pub(crate) async fn expired(context: &Context) -> Verdict {
    let (Some(link), Some(not_found)) = (result_link(context), not_found(context)) else {
        return Verdict::Skipped("the spec has no create→result link or no x-not-found".into());
    };
    let Some(ttl) = context.job_ttl else {
        return Verdict::Skipped(
            "the target's job TTL is not known (--job-ttl): expiry cannot be checked".into(),
        );
    };
    if context.time_left().is_some_and(|left| left < ttl * 2) {
        return Verdict::Skipped(format!(
            "the job TTL of {} s does not fit the check's time bound",
            ttl.as_secs()
        ));
    }
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let Ok(tree) = proptest::strategy::Strategy::new_tree(
        &super::acceptance::valid_requests(context),
        &mut runner,
    ) else {
        return Verdict::Skipped("no valid request could be generated".into());
    };
    let body = proptest::strategy::ValueTree::current(&tree);
    let run = match super::run_job(context, &body).await {
        Ok(run) => run,
        Err(failure) => return Verdict::Failed { cases: 1, failure },
    };
    let journal = context.caller.journal();
    let Some(created) = journal
        .iter()
        .rev()
        .find(|e| e.operation == context.caller.spec().extensions().job.create)
        .and_then(|e| e.json.clone())
    else {
        return Verdict::Skipped("the create answer was not kept".into());
    };
    let _ = run;
    // Past the TTL (and the sweeper's second), the id must be gone.
    tokio::time::sleep(ttl + Duration::from_millis(1500)).await;
    let mut last = None;
    for _ in 0..5 {
        match poll_unknown(
            context,
            &link,
            &not_found,
            &created,
            "a poll of an expired job",
        )
        .await
        {
            Ok(()) => return Verdict::Passed { cases: 1 },
            Err(verdict) => last = Some(verdict),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    last.unwrap_or(Verdict::Passed { cases: 1 })
}
