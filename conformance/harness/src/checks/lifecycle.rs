//! `job_lifecycle` and `seed_determinism`: whole jobs, driven only by the spec's `x-job`, `x-feature`
//! and `x-output` extensions: create, poll until terminal, fetch and decode the images.

// A `Failure` carries the minimal request and response by value: it is built once per failing case.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::Duration;

use base64::Engine as _;
use proptest::strategy::Strategy;
use serde_json::{Value, json};

use super::property::{self, CaseResult};
use super::{CheckId, Context, Verdict, failure, job_id, job_status};
use crate::http::{Exchange, KeyMode};
use img2img_report::results::Failure;

/// A whole job's outcome.
#[derive(Debug, Clone)]
pub struct JobRun {
    /// The terminal status.
    pub status: String,
    /// The last response body.
    pub result: Value,
    /// The output images' bytes, in order.
    pub images: Vec<Vec<u8>>,
}

/// The inputs of the result operation for job `id`: its one path/query parameter, or a body whose
/// one required non-key field is the id.
pub(crate) fn result_inputs(
    context: &Context,
    id: &str,
) -> (Option<Value>, BTreeMap<String, String>) {
    let spec = context.caller.spec();
    let ext = spec.extensions();
    let op = spec
        .operation(&ext.job.result)
        .expect("x-job.result exists (the lint checks it)");
    let mut params = BTreeMap::new();
    if let Some(parameter) = op
        .parameters
        .iter()
        .find(|p| p.location == "path" || p.location == "query")
    {
        params.insert(parameter.name.clone(), id.to_owned());
        return (None, params);
    }
    let body = spec
        .request_schema(&op.id)
        .and_then(Result::ok)
        .map(|schema| {
            let field = schema
                .schema()
                .get("required")
                .and_then(Value::as_array)
                .and_then(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .find(|f| *f != ext.auth.name)
                })
                .unwrap_or("id")
                .to_owned();
            json!({ field: id })
        });
    (body, params)
}

/// Creates a job from `body` and waits for a terminal status; fetches the images on success.
pub async fn run_job(context: &Context, body: &Value) -> Result<JobRun, Failure> {
    let ext = context.caller.spec().extensions();
    let job = &ext.job;
    let created = context
        .caller
        .call(&job.create, Some(body), &BTreeMap::new(), KeyMode::Valid)
        .await
        .map_err(|e| failure(e.to_string(), None))?;
    let created_body = expect_json(&created)?;
    judge_answer(context, &created, &created_body, None)?;
    let id = job_id(context, &created_body).ok_or_else(|| {
        failure(
            format!("the create response has no job id at {}", job.id_pointer),
            Some(&created),
        )
    })?;
    let mut last = created.clone();
    let mut current = created_body;
    let started = tokio::time::Instant::now();
    let mut wait = context.polling.initial;
    loop {
        if let Some(status) = job_status(context, &current)
            && job.is_terminal(&status)
        {
            let images = if job.succeeded.contains(&status) {
                collect_images(context, &current)
                    .await
                    .map_err(|m| failure(m, Some(&last)))?
            } else {
                Vec::new()
            };
            return Ok(JobRun {
                status,
                result: current,
                images,
            });
        }
        if started.elapsed() > context.polling.deadline {
            return Err(failure(
                format!(
                    "job {id} did not reach a terminal status within {:?}",
                    context.polling.deadline
                ),
                Some(&last),
            ));
        }
        let hinted = eta(context, &current).map_or(wait, |eta| {
            eta.clamp(context.polling.initial, context.polling.max)
        });
        tokio::time::sleep(hinted.min(wait.max(context.polling.initial))).await;
        wait = (wait * 2).min(context.polling.max);
        let fetch_url = current
            .get("fetch_result")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (poll_body, params) = result_inputs(context, &id);
        let exchange = match fetch_url {
            Some(url) => {
                context
                    .caller
                    .call_at(&job.result, &url, poll_body.as_ref(), KeyMode::Valid)
                    .await
            }
            None => {
                context
                    .caller
                    .call(&job.result, poll_body.as_ref(), &params, KeyMode::Valid)
                    .await
            }
        }
        .map_err(|e| failure(e.to_string(), None))?;
        current = expect_json(&exchange)?;
        judge_answer(context, &exchange, &current, Some(&id))?;
        last = exchange;
    }
}

/// Ends a job at the first answer the spec does not allow, so nothing waits on it: a body that
/// breaks the operation's response schema (a status or `eta` of the wrong kind, say), or a status
/// that is none of `x-job`'s pending, succeeded and failed words. `id` is `None` for the create
/// answer (which need not carry a status: a poll-style create answers only the id).
fn judge_answer(
    context: &Context,
    exchange: &Exchange,
    body: &Value,
    id: Option<&str>,
) -> Result<(), Failure> {
    let spec = context.caller.spec();
    let job = &spec.extensions().job;
    let which = id.map_or_else(|| "the create answer".to_owned(), |id| format!("job {id}"));
    let status_code = exchange.status.unwrap_or(0);
    match job_status(context, body) {
        Some(status) if !job.pending.contains(&status) && !job.is_terminal(&status) => {
            return Err(failure(
                format!(
                    "{which}: status {status:?} at {} is not one the spec allows (pending: {}; succeeded: {}; failed: {})",
                    job.status_pointer,
                    job.pending.join(", "),
                    job.succeeded.join(", "),
                    job.failed.join(", ")
                ),
                Some(exchange),
            ));
        }
        None if id.is_some() => {
            return Err(failure(
                format!(
                    "{which}: the result has no status at {} (the spec's x-job.status-pointer)",
                    job.status_pointer
                ),
                Some(exchange),
            ));
        }
        _ => {}
    }
    if let Some(Ok(schema)) = spec.response_schema(&exchange.operation, status_code)
        && let Err(violations) = schema.validate(body)
    {
        return Err(failure(
            format!(
                "{which}: {} HTTP {status_code} breaks the spec, so the job cannot be followed: {violations}",
                exchange.operation
            ),
            Some(exchange),
        ));
    }
    Ok(())
}

fn eta(context: &Context, body: &Value) -> Option<Duration> {
    let job = &context.caller.spec().extensions().job;
    let seconds = body.pointer(job.eta_pointer.as_deref()?)?.as_f64()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(600.0)))
}

fn expect_json(exchange: &Exchange) -> Result<Value, Failure> {
    if !exchange.is_success() {
        let said = exchange
            .error
            .clone()
            .unwrap_or_else(|| exchange.text.chars().take(300).collect());
        return Err(failure(
            format!("HTTP {:?} during the job: {said}", exchange.status),
            Some(exchange),
        ));
    }
    exchange
        .json
        .clone()
        .ok_or_else(|| failure("the response body is not JSON", Some(exchange)))
}

/// Every string the `x-job.outputs` pointer reaches (`*` stands for every array item).
fn outputs(pattern: &str, body: &Value) -> Vec<String> {
    let mut current = vec![body];
    for segment in pattern.split('/').skip(1) {
        current = current
            .into_iter()
            .flat_map(|value| -> Vec<&Value> {
                if segment == "*" {
                    value
                        .as_array()
                        .map(|a| a.iter().collect())
                        .unwrap_or_default()
                } else {
                    value.get(segment).into_iter().collect()
                }
            })
            .collect();
    }
    current
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .collect()
}

async fn collect_images(context: &Context, body: &Value) -> Result<Vec<Vec<u8>>, String> {
    let ext = context.caller.spec().extensions();
    let pattern = ext
        .job
        .outputs
        .as_deref()
        .ok_or("the spec's x-job has no outputs pointer")?;
    let mut images = Vec::new();
    for output in outputs(pattern, body) {
        if output.starts_with("http://") || output.starts_with("https://") {
            let (_, bytes) = context.caller.download(&output).await?;
            images.push(bytes);
        } else {
            let data = output
                .split_once("base64,")
                .map_or(output.as_str(), |(_, d)| d);
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| format!("an inline image is neither a URL nor base64: {e}"))?;
            images.push(bytes);
        }
    }
    Ok(images)
}

/// What a request asks for, read through `x-feature` (and the schema's defaults).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expected {
    pub width: Option<u64>,
    pub height: Option<u64>,
    pub count: u64,
    pub format: String,
}

pub(crate) fn expected(context: &Context, body: &Value) -> Expected {
    let schema = super::acceptance::create_schema(context);
    let mut found: BTreeMap<String, Value> = BTreeMap::new();
    features(schema.schema(), Some(body), &mut found);
    let number = |v: &Value| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let (mut width, mut height) = (
        found.get("width").and_then(number),
        found.get("height").and_then(number),
    );
    if let Some((w, h)) = found
        .get("size")
        .and_then(Value::as_str)
        .and_then(|s| s.split_once('x'))
    {
        width = w.parse().ok();
        height = h.parse().ok();
    }
    let ext = context.caller.spec().extensions();
    Expected {
        width,
        height,
        count: found.get("images_per_call").and_then(number).unwrap_or(1),
        format: found
            .get("output_format")
            .and_then(Value::as_str)
            .unwrap_or(&ext.output.default_format)
            .to_owned(),
    }
}

/// The value (or the schema's default) of every `x-feature` property, by feature id.
fn features(schema: &Value, value: Option<&Value>, out: &mut BTreeMap<String, Value>) {
    if let Some(feature) = schema.get("x-feature").and_then(Value::as_str)
        && let Some(v) = value
            .filter(|v| !v.is_null())
            .or_else(|| schema.get("default"))
    {
        out.entry(feature.to_owned()).or_insert_with(|| v.clone());
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, property) in properties {
            let child = value.and_then(|v| v.get(name));
            if child.is_some()
                || property.get("properties").is_some()
                || property.get("default").is_some()
            {
                features(property, child, out);
            }
        }
    }
}

fn verify_images(expected: &Expected, images: &[Vec<u8>]) -> Result<(), String> {
    if images.len() as u64 != expected.count {
        return Err(format!(
            "{} images came back, {} were asked for",
            images.len(),
            expected.count
        ));
    }
    for (i, bytes) in images.iter().enumerate() {
        let format =
            image::guess_format(bytes).map_err(|e| format!("image {i} is not an image: {e}"))?;
        let name = match format {
            image::ImageFormat::Png => "png",
            image::ImageFormat::Jpeg => "jpeg",
            image::ImageFormat::WebP => "webp",
            _ => "another format",
        };
        if name != expected.format {
            return Err(format!(
                "image {i} is {name}, {} was asked for",
                expected.format
            ));
        }
        let decoded = image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())?
            .decode()
            .map_err(|e| format!("image {i} does not decode: {e}"))?;
        if let (Some(w), Some(h)) = (expected.width, expected.height)
            && (u64::from(decoded.width()), u64::from(decoded.height())) != (w, h)
        {
            return Err(format!(
                "image {i} is {}x{}, {w}x{h} was asked for",
                decoded.width(),
                decoded.height()
            ));
        }
    }
    Ok(())
}

/// `job_lifecycle`.
pub(crate) async fn check(context: &Context) -> Verdict {
    let strategy = super::acceptance::valid_requests(context);
    let ctx = context.clone();
    let cases = CheckId::JobLifecycle.cases(context.cases);
    property::run(context, "lifecycle", cases, strategy, move |body| {
        let ctx = ctx.clone();
        async move {
            if ctx.caller.budget().spent() >= ctx.caller.budget().limit() {
                return CaseResult::Stop(format!(
                    "the request budget of {} requests is spent",
                    ctx.caller.budget().limit()
                ));
            }
            let run = match run_job(&ctx, &body).await {
                Ok(run) => run,
                Err(mut failure) => {
                    failure.request.get_or_insert(body);
                    return CaseResult::Broke(failure);
                }
            };
            let job = &ctx.caller.spec().extensions().job;
            if !job.succeeded.contains(&run.status) {
                return CaseResult::Broke(failure(
                    format!("a valid job ended {} ({})", run.status, reason(&run.result)),
                    None,
                ));
            }
            match verify_images(&expected(&ctx, &body), &run.images) {
                Ok(()) => CaseResult::Held,
                Err(message) => {
                    let mut f = failure(message, None);
                    f.request = Some(body);
                    CaseResult::Broke(f)
                }
            }
        }
    })
    .await
}

fn reason(result: &Value) -> String {
    ["/task/reason", "/data/error", "/message", "/messege"]
        .iter()
        .filter_map(|p| result.pointer(p))
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .map_or_else(|| "no reason given".into(), ToString::to_string)
}

/// Sets every `x-feature: <feature>` property present (or addable at the top level) to `value`.
fn set_feature(schema: &Value, body: &mut Value, feature: &str, value: &Value) -> bool {
    let mut done = false;
    if let (Some(Value::Object(properties)), Value::Object(map)) =
        (schema.get("properties"), &mut *body)
    {
        for (name, property) in properties {
            if property.get("x-feature").and_then(Value::as_str) == Some(feature) {
                map.insert(name.clone(), value.clone());
                done = true;
            } else if let Some(child) = map.get_mut(name) {
                done |= set_feature(property, child, feature, value);
            }
        }
    }
    done
}

/// A seed inside the spec's range for the `seed` feature.
fn seed_value(schema: &Value, wanted: i64) -> Option<Value> {
    let mut found = None;
    find_feature(schema, "seed", &mut found);
    let seed_schema = found?;
    let numeric = seed_schema
        .get("oneOf")
        .and_then(Value::as_array)
        .and_then(|b| {
            b.iter()
                .find(|b| b.get("type").and_then(Value::as_str) == Some("integer"))
        })
        .unwrap_or(seed_schema);
    let min = numeric
        .get("minimum")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .max(0);
    let max = numeric
        .get("maximum")
        .and_then(Value::as_i64)
        .unwrap_or(i64::from(u32::MAX));
    Some(json!(wanted.clamp(min, max)))
}

fn find_feature<'a>(schema: &'a Value, feature: &str, found: &mut Option<&'a Value>) {
    if schema.get("x-feature").and_then(Value::as_str) == Some(feature) {
        *found = Some(schema);
        return;
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for property in properties.values() {
            find_feature(property, feature, found);
        }
    }
}

/// `seed_determinism`: one request, seed fixed: twice the same bytes; seed + 1, other bytes.
pub(crate) async fn seeds(context: &Context) -> Verdict {
    let schema = super::acceptance::create_schema(context);
    let (Some(seed_a), Some(seed_b)) = (
        seed_value(schema.schema(), 1_234_567),
        seed_value(schema.schema(), 1_234_568),
    ) else {
        return Verdict::Skipped("the spec has no seed parameter (x-feature: seed)".into());
    };
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let Ok(tree) = super::acceptance::valid_requests(context).new_tree(&mut runner) else {
        return Verdict::Skipped("no valid request could be generated".into());
    };
    let mut body = proptest::strategy::ValueTree::current(&tree);
    set_feature(schema.schema(), &mut body, "images_per_call", &json!(1));
    let with_seed = |seed: &Value| {
        let mut b = body.clone();
        set_feature(schema.schema(), &mut b, "seed", seed);
        b
    };
    let (first, second, other) = (with_seed(&seed_a), with_seed(&seed_a), with_seed(&seed_b));
    let mut runs = Vec::new();
    for request in [&first, &second, &other] {
        match run_job(context, request).await {
            Ok(run) if !run.images.is_empty() => runs.push(run.images),
            Ok(run) => {
                return Verdict::Failed {
                    cases: 1,
                    failure: Failure {
                        message: format!("the job ended {} with no image", run.status),
                        operation: None,
                        request: Some(request.clone()),
                        response: None,
                    },
                };
            }
            Err(failure) => return Verdict::Failed { cases: 1, failure },
        }
    }
    let fail = |message: String| Verdict::Failed {
        cases: 1,
        failure: Failure {
            message,
            operation: None,
            request: Some(first.clone()),
            response: None,
        },
    };
    if runs[0] != runs[1] {
        return fail(format!(
            "the same request with seed {seed_a} gave different image bytes twice"
        ));
    }
    if runs[0] == runs[2] {
        return fail(format!(
            "seeds {seed_a} and {seed_b} gave identical image bytes"
        ));
    }
    Verdict::Passed { cases: 1 }
}
